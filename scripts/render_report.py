"""Render a small sample risk report to PNG: build_report -> LibreOffice PDF -> pdftoppm.

    python scripts/render_report.py [OUTDIR] [--lang ja] [--dpi 110]

Builds the report of four BTC/ETH/XRP-JPY positions in one cross-margin account (the real
``xlcalc.report.build_report``, with a tick size column and the default 300 % safe level),
prints it with LibreOffice and writes OUTDIR/report-summary-<lang>.png (its first page) and
OUTDIR/report-stress-<lang>.png (the Stress page: the adaptive ladder and its chart). Default
OUTDIR: docs/img. Needs soffice and pdftoppm; Japanese needs a CJK font (fonts-noto-cjk).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "scripts"), str(ROOT / "tests")]  # this checkout

import _render  # noqa: E402
import pandas as pd  # noqa: E402
from libreoffice import convert  # noqa: E402

from xlcalc.labels import label  # noqa: E402
from xlcalc.report import build_report  # noqa: E402

SAMPLE = pd.DataFrame(
    {
        "銘柄": ["BTC/JPY", "ETH/JPY", "BTC/JPY", "XRP/JPY"],
        "売買": ["買", "買", "売", "買"],
        "建値": [10_000_000, 520_000, 10_400_000, 92.5],
        "数量": [0.5, 4, 0.2, 20_000],
        "レバレッジ": [2, 2, 2, 2],
        "現在値": [9_200_000, 480_000, 9_200_000, 88.1],
        "呼値": [1, 1, 1, 0.001],
    }
)
DEPOSIT = 9_000_000


def _page_of(pdf: Path, text: str, pages: int) -> int:
    """The first printed page whose text holds ``text`` (pdftotext), else 1."""
    for page in range(1, pages + 1):
        out = subprocess.run(
            ["pdftotext", "-f", str(page), "-l", str(page), str(pdf), "-"], capture_output=True, text=True
        ).stdout
        if text in out.replace(" ", ""):
            return page
    return 1


def render(outdir: Path, lang: str, dpi: int) -> list[Path]:
    for tool in ("pdftoppm", "pdftotext", "pdfinfo"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} not found: apt-get install poppler-utils")
    outdir.mkdir(parents=True, exist_ok=True)
    done = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        book = tmp / f"report-{lang}.xlsx"
        build_report(SAMPLE, book, deposit=DEPOSIT, lang=lang, exchange="bitflyer_cfd", currency="JPY")
        pdf = convert([book], tmp / "pdf", "pdf")[0]
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
        pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
        stress = _page_of(pdf, label("report_level_reached", lang).replace(" ", ""), pages)
        for page, name in ((1, "report-summary"), (stress, "report-stress")):
            done.append(_render.page_to_png(pdf, page, outdir / f"{name}-{lang}", dpi))
        print(f"{pdf.name}: {pages} printed pages; Stress on page {stress}", file=sys.stderr)
    return done


def main(argv=None):
    _render.main(render, __doc__, argv)


if __name__ == "__main__":
    main()
