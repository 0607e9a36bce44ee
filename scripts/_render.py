"""Shared by the render scripts: crop one printed PDF page to its content and save it as PNG."""

from __future__ import annotations

import argparse
import subprocess
from pathlib import Path

from xlcalc.labels import LANGUAGES

ROOT = Path(__file__).resolve().parents[1]


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


def page_to_png(pdf: Path, page: int, stem: Path, dpi: int) -> Path:
    """Write page ``page`` of ``pdf`` to ``stem``.png at ``dpi``, cropped to its content."""
    opts = ["-r", str(dpi), "-f", str(page), "-l", str(page), "-singlefile", str(pdf)]
    raw = subprocess.run(["pdftoppm", *opts], check=True, capture_output=True).stdout
    x, y, w, h = _content_box(raw, pad=dpi // 8)
    crop = ["-x", str(x), "-y", str(y), "-W", str(w), "-H", str(h)]
    subprocess.run(["pdftoppm", "-png", *crop, *opts, str(stem)], check=True)
    return stem.with_suffix(".png")


def main(render, doc: str, argv=None, *, many_languages: bool = False):
    """A render script's command line: ``[OUTDIR] [--lang ...] [--dpi N]``; prints each picture."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("outdir", nargs="?", default=str(ROOT / "docs" / "img"))
    if many_languages:
        ap.add_argument("--lang", nargs="+", default=list(LANGUAGES), choices=LANGUAGES)
    else:
        ap.add_argument("--lang", default=LANGUAGES[0], choices=LANGUAGES)
    ap.add_argument("--dpi", type=int, default=110)
    args = ap.parse_args(argv)
    for path in render(Path(args.outdir), args.lang, args.dpi):
        print(path)
