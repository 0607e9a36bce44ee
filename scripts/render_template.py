"""Render the template's Calculator and Scenarios sheets to PNG: generate -> LibreOffice PDF -> pdftoppm.

    python scripts/render_template.py [OUTDIR] [--lang ja en] [--dpi 110]

Writes OUTDIR/calculator-<lang>.png and OUTDIR/calculator-scenarios-<lang>.png (default OUTDIR:
docs/img) from the printed pages of the shipped workbook (every sheet prints on one page, so
page 1 is the Calculator and page 2 the Scenarios ladder). Needs soffice and pdftoppm;
Japanese needs a CJK font (fonts-noto-cjk).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# this checkout, not an installed xlcalc
sys.path[:0] = [str(ROOT), str(ROOT / "scripts"), str(ROOT / "tests")]

import _render  # noqa: E402
from libreoffice import convert  # noqa: E402

from xlcalc.template import build_workbook, write_template  # noqa: E402

PAGES = {1: "calculator", 2: "calculator-scenarios"}  # printed page -> picture name


def render(outdir: Path, langs, dpi: int) -> list[Path]:
    if shutil.which("pdftoppm") is None:
        raise SystemExit("pdftoppm not found: apt-get install poppler-utils")
    outdir.mkdir(parents=True, exist_ok=True)
    done = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        books = [
            write_template(build_workbook(lang), tmp / f"xlcalc-{lang}.xlsx", force=True) for lang in langs
        ]
        pdfs = convert(books, tmp / "pdf", "pdf")
        for lang, pdf in zip(langs, pdfs):
            for page, name in PAGES.items():
                done.append(_render.page_to_png(pdf, page, outdir / f"{name}-{lang}", dpi))
    return done


def main(argv=None):
    _render.main(render, __doc__, argv, many_languages=True)


if __name__ == "__main__":
    main()
