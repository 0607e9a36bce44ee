"""Render the template's Calculator and Scenarios sheets to PNG: generate -> LibreOffice PDF -> pdftoppm.

    python scripts/render_template.py [OUTDIR] [--lang ja en] [--dpi 110]

Writes OUTDIR/calculator-<lang>.png and OUTDIR/calculator-scenarios-<lang>.png (default OUTDIR:
docs/img) from the printed pages of the shipped workbook (every sheet prints on one page, so
page 1 is the Calculator and page 2 the Scenarios ladder). Needs soffice and pdftoppm;
Japanese needs a CJK font (fonts-noto-cjk).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]  # this checkout, not an installed xlcalc

from libreoffice import convert  # noqa: E402

from xlcalc.template import build_workbook, write_template  # noqa: E402


def _content_box(ppm: bytes, pad: int):
    """Bounding box (x, y, w, h) of the non-white pixels of a binary PPM, plus ``pad``."""
    parts = ppm.split(maxsplit=4)  # P6, width, height, maxval, pixels
    width, height, pixels = int(parts[1]), int(parts[2]), parts[4]
    stride = width * 3
    top = bottom = None
    left, right = stride, 0
    for row in range(height):
        line = pixels[row * stride : (row + 1) * stride]
        lead = len(line) - len(line.lstrip(b"\xff"))
        if lead == stride:
            continue
        trail = len(line) - len(line.rstrip(b"\xff"))
        top = row if top is None else top
        bottom = row
        left, right = min(left, lead), max(right, stride - trail)
    if top is None:
        return 0, 0, width, height
    x0, x1 = max(0, left // 3 - pad), min(width, right // 3 + pad)
    y0, y1 = max(0, top - pad), min(height, bottom + 1 + pad)
    return x0, y0, x1 - x0, y1 - y0


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
                stem = outdir / f"{name}-{lang}"
                opts = ["-r", str(dpi), "-f", str(page), "-l", str(page), "-singlefile", str(pdf)]
                raw = subprocess.run(["pdftoppm", *opts], check=True, capture_output=True).stdout
                x, y, w, h = _content_box(raw, pad=dpi // 8)
                subprocess.run(
                    [
                        "pdftoppm",
                        "-png",
                        "-x",
                        str(x),
                        "-y",
                        str(y),
                        "-W",
                        str(w),
                        "-H",
                        str(h),
                        *opts,
                        str(stem),
                    ],
                    check=True,
                )
                done.append(stem.with_suffix(".png"))
    return done


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir", nargs="?", default=str(ROOT / "docs" / "img"))
    ap.add_argument("--lang", nargs="+", default=["ja", "en"], choices=["ja", "en"])
    ap.add_argument("--dpi", type=int, default=110)
    args = ap.parse_args(argv)
    for path in render(Path(args.outdir), args.lang, args.dpi):
        print(path)


if __name__ == "__main__":
    main()
