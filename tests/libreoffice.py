"""Recalculate workbooks in headless LibreOffice (a real spreadsheet engine).

``recalculate(paths, outdir)`` converts every file in ONE ``soffice --convert-to xlsx`` call,
with a fresh user profile whose OOXML/ODF recalc mode is 0 ("always recalculate on load"),
so the cached values in the output are LibreOffice's, not openpyxl's (openpyxl writes none).
Tests call it through :func:`require_soffice`, which skips with a reason when LibreOffice is
absent. ``convert(paths, outdir, fmt)`` is the same call for other formats (PDF for pictures).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

_RECALC_ALWAYS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
 <prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
 <prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""

SKIP_REASON = "LibreOffice (soffice) is not installed: apt-get install libreoffice-calc-nogui"


def soffice_path() -> str | None:
    """The soffice executable, or None."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def require_soffice() -> str:
    """The soffice executable; skips the calling test with a clear reason when absent."""
    import pytest

    exe = soffice_path()
    if exe is None:
        if os.environ.get("CI"):  # .ci/run installs LibreOffice: its absence there is a failure
            pytest.fail("LibreOffice (soffice) is missing in CI; .ci/run should have installed it")
        pytest.skip(SKIP_REASON)
    return exe


def convert(paths, outdir, fmt="xlsx", timeout=600, exe=None) -> list[Path]:
    """Open every file in one headless LibreOffice run, recalculate it, save it as ``fmt``.

    Returns the output paths in the order of ``paths`` (same stem, ``fmt`` suffix, in
    ``outdir``, which must differ from the inputs' folder when ``fmt`` is xlsx).
    """
    exe = exe or soffice_path()
    if exe is None:
        raise FileNotFoundError(SKIP_REASON)
    paths = [Path(p).resolve() for p in paths]
    outdir = Path(outdir).resolve()
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="xlcalc-lo-") as profile:
        user = Path(profile) / "user"
        user.mkdir()
        (user / "registrymodifications.xcu").write_text(_RECALC_ALWAYS, encoding="utf-8")
        env = dict(os.environ, LC_ALL="C.UTF-8", HOME=profile)
        cmd = [
            exe,
            f"-env:UserInstallation={Path(profile).as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            fmt,
            "--outdir",
            str(outdir),
            *map(str, paths),
        ]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    suffix = "." + fmt.split(":")[0]
    out = [outdir / (p.stem + suffix) for p in paths]
    missing = [str(p) for p in out if not p.exists()]
    if missing:
        raise RuntimeError(
            f"soffice did not write {missing[:3]} (exit {proc.returncode}): {proc.stderr.strip()[-500:]}"
        )
    return out


def recalculate(paths, outdir, timeout=600) -> list[Path]:
    """Recalculated copies (xlsx) of ``paths`` in ``outdir``, all in one soffice call."""
    return convert(paths, outdir, "xlsx", timeout=timeout)
