"""Rebuild the ready-made workbooks in ``templates/``: ``python -m xlcalc.template.regenerate [DIR]``.

Writes xlcalc-ja.xlsx, xlcalc-en.xlsx, xlcalc-ja.xlsm and xlcalc-en.xlsm (the last two call
the XLC_* functions through xlwings), overwriting what is there. tests/test_template.py fails
when these files drift from the generator.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..labels import LANGUAGES
from . import build_template

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "templates"


def ready_made() -> list[tuple[str, str, bool]]:
    """(file name, lang, udf) of every ready-made workbook."""
    return [
        (f"xlcalc-{lang}{'.xlsm' if udf else '.xlsx'}", lang, udf)
        for udf in (False, True)
        for lang in LANGUAGES
    ]


def regenerate(directory=DEFAULT_DIR) -> list[Path]:
    directory = Path(directory)
    return [
        build_template(directory / name, lang=lang, udf=udf, force=True) for name, lang, udf in ready_made()
    ]


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    for path in regenerate(argv[0] if argv else DEFAULT_DIR):
        print(path)


if __name__ == "__main__":
    main()
