"""Headless risk report (SPEC §6): a positions file in, a formatted xlsx report out.

:func:`build_report` reads positions (CSV in UTF-8, UTF-8 with BOM or Shift_JIS/cp932, an
xlsx sheet, or a DataFrame), computes every figure with the xlcalc core and writes the sheets
Summary, Positions, Stress and Errors; a loans file gets a Loans sheet (:mod:`.loans`). Every
non-blank input row is on Positions or on Errors (with its line, raw values and reason); rows
stream through in chunks, so memory does not grow with the row count; the output is written
to a temporary file and renamed into place. The stages, one module each: reader (read,
validate) → store → compute → writer, run by :mod:`.pipeline`.

>>> import pandas as pd, tempfile, os
>>> df = pd.DataFrame({"symbol": ["BTC/JPY"], "side": ["long"], "entry_price": [10_000_000],
...                    "quantity": [0.1], "leverage": [2], "deposit": [1_000_000]})
>>> with tempfile.TemporaryDirectory() as d:
...     result = build_report(df, os.path.join(d, "r.xlsx"), lang="en")
>>> result.rows_in, result.positions, result.errors
(1, 1, 0)
"""

from .pipeline import ReportResult, build_report

__all__ = ["build_report", "ReportResult"]
