"""Headless risk report (SPEC §6): a positions file in, a formatted xlsx report out.

``build_report(source, output, ...)`` reads positions (CSV in UTF-8, UTF-8 with BOM or
Shift_JIS/cp932, an xlsx sheet, or a DataFrame), computes every figure with the xlcalc
core and writes a workbook with four sheets: Summary, Positions, Stress and Errors.
The stages, one module each: reader (read, validate) → store → compute → writer; the
pipeline module runs them.

* A ``deposit`` (証拠金) column makes every row an isolated position. Without one, the
  ``deposit`` argument funds one cross-margin account, or one per ``account`` (口座) value,
  each with that deposit.
* Nothing is lost: every non-blank input row is either on Positions or on Errors (with its
  line number, raw values and the core's error message).
* The output is written to a temporary file next to it and renamed into place; an existing
  file is kept unless ``force``.
* Rows stream through in chunks (a temporary file holds the validated rows between passes):
  memory does not grow with the row count.
* Venue conventions and the safe zone: ``tick_size`` / ``quote_rate`` columns or keywords,
  ``hedge=`` (default the preset's rule), ``safe_level=`` (default 300 %: a safe price column
  and the "caution" status); the Stress sheet follows the adaptive ladder
  (:func:`xlcalc.ladder.scenario_ladder`).
* A loans file (loan and collateral_quantity columns, or ``kind="loans"``) gets a Loans sheet
  from :mod:`xlcalc.loans` instead (:mod:`.loans`).

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
