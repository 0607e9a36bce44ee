"""The report as a pipeline: read → validate (reader) → keep (store) → compute → write.

:func:`build_report` resolves the options into :class:`~.compute.Levels`, has the reader's
validated chunks kept as :class:`~.store.Rows` (pass 1: the per-account sums), computes the
:class:`~.compute.Figures` (pass 2: statuses and closest rows need every row's columns) and
hands a :class:`Report` to the writer, which computes each chunk's columns once more while it
streams them (pass 3). Memory holds a chunk, not the input.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .. import _files, core
from .. import presets as _presets
from .._files import atomic_output
from .._inputs import InputError, Inputs
from ..presets import get_preset
from .compute import Figures, Levels, Scan, account_figures, position_columns
from .display import Measure
from .reader import read_prices
from .store import Rows, read_rows
from .writer import write_report

__all__ = ["build_report", "ReportResult", "Report"]


@dataclass
class ReportResult:
    """What was written: counts satisfy ``rows_in == positions + errors``."""

    output: Path
    rows_in: int
    positions: int
    errors: int
    accounts: list


@dataclass
class Report:
    """What the writer reads: settings, the kept rows and the computed figures."""

    source_name: str
    preset: dict | None
    levels: Levels
    rows: Rows
    currency: str | None = None
    figures: Figures = None
    display: Measure = None
    _cached: tuple = (None, None)

    def columns(self, i):
        """Rows, Positions and computed columns of stored chunk ``i`` (the last one cached)."""
        if self._cached[0] != i:
            rows, pos, lv = self.rows.chunk(i, self.levels)
            if self.rows.cross:
                cols = position_columns(
                    pos, lv, account_deposit=self.rows.account_deposit, totals=self.rows.totals
                )
            else:
                cols = position_columns(pos, lv, deposit=rows["numbers"]["deposit"])
            self._cached = (i, (rows, pos, cols))
        return self._cached[1]


def compute(report: Report) -> tuple[Figures, Measure]:
    """Pass 2: every chunk's columns, for the statuses, the rows closest to loss-cut and
    what the display measures (widths, decimals, currencies)."""
    rows = report.rows
    scan, display, keys = Scan(len(rows.counts)), Measure(), frozenset({"status"})
    for i, n in enumerate(rows.positions.lengths):
        if n:
            kept, pos, cols = report.columns(i)
            keys = frozenset(cols)
            scan.add(pos, cols, rows.line_numbers(kept["record"], kept["line"]), kept["texts"])
            display.add(kept, cols)
    figures = account_figures(
        rows.totals,
        rows.counts,
        report.levels,
        rows.account_deposit,
        scan,
        cross=rows.cross,
        names=rows.account_names,
    )
    figures.computed_keys = keys
    return figures, display


def _level(name, value):
    """A level the user gave: a fraction > 0, or NaN for "none" (no such level)."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return math.nan
    if isinstance(value, str) and value.strip().lower() in ("none", "なし"):
        return math.nan
    return float(Inputs().number(name, value))


def resolve_levels(
    preset, margin_call=None, loss_cut=None, basis=None, safe_level=None, hedge=None
) -> Levels:
    """The levels, basis, safe level and hedge rule of the report.

    The levels come from :func:`xlcalc.presets.resolve_levels` (the one home of preset →
    levels): the user's, else the preset's (an mmr preset: loss-cut = mmr × leverage, row by
    row), else 1.0 and 0.5; NaN is "none" (a preset with no published level). The safe level
    defaults to :data:`xlcalc.core.DEFAULT_SAFE_LEVEL`; the hedge rule to the preset's, else
    ``"sum"``.
    """
    mmr_model = bool(preset) and preset.get("margin_model") == "mmr"
    margin_call, loss_cut = _level("margin_call", margin_call), _level("loss_cut", loss_cut)
    found = _presets.resolve_levels(
        preset, margin_call=margin_call, loss_cut=loss_cut, leverage=1.0 if mmr_model else None, basis=basis
    )
    mc, lc, lc_mmr = found["margin_call_level"], found["loss_cut_level"], None
    if mmr_model and loss_cut is None:  # mmr × the row's leverage, row by row
        lc, lc_mmr = math.nan, float(preset["mmr"])
    basis = found["basis"]
    core.parse_basis(basis)  # InputError for an unknown basis
    safe = _level("safe_level", core.DEFAULT_SAFE_LEVEL if safe_level is None else safe_level)
    hedge = hedge or (preset or {}).get("hedge") or "sum"
    if hedge not in ("sum", "max"):
        raise InputError(f"hedge must be 'sum' or 'max', got {hedge!r}", argument="hedge", value=hedge)
    levels = Levels(
        margin_call=float(mc), loss_cut=float(lc), basis=basis, loss_cut_mmr=lc_mmr, safe=safe, hedge=hedge
    )
    if mmr_model:
        levels.mmr, levels.tiers = float(preset["mmr"]), _tiers_lookup(preset["id"])
    return levels


def _tiers_lookup(exchange_id):
    """symbol -> the shipped tier table of that contract (None: not shipped, flat mmr)."""
    from ..perpetual import exchange_tiers

    cache = {}

    def lookup(symbol):
        key = None if symbol is None else "".join(ch for ch in str(symbol).upper() if ch.isalnum())
        if key not in cache:
            try:
                cache[key] = exchange_tiers(exchange_id, *([] if key is None else [key]))
            except InputError:
                cache[key] = None
        return cache[key]

    return lookup


def build_report(
    source,
    output,
    *,
    deposit=None,
    prices=None,
    exchange=None,
    basis=None,
    lang="ja",
    force=False,
    progress=False,
    margin_call=None,
    loss_cut=None,
    presets=None,
    decimal=None,
    sheet=None,
    currency=None,
    tick_size=None,
    quote_rate=None,
    hedge=None,
    safe_level=None,
    kind=None,
    loan_preset=None,
    loan_presets=None,
    margin_call_ltv=None,
    liquidation_ltv=None,
    target_ltv=None,
) -> ReportResult:
    """Write the risk report of ``source`` to ``output`` (xlsx).

    Parameters
    ----------
    source : str, Path or DataFrame
        Positions: CSV (UTF-8, UTF-8-BOM, Shift_JIS/cp932) or xlsx, or a DataFrame. Columns
        (EN or JA headers): symbol 銘柄, side 売買, entry_price 建値, quantity 数量, leverage
        レバレッジ, price 現在値, deposit 証拠金, fees 手数料, account 口座. A DataFrame's
        row i is reported as line i + 2, the line it would have in a CSV.
    output : str or Path
        The .xlsx to write; kept if it exists, unless ``force``.
    deposit : float, optional
        Deposit of each cross-margin account, when the input has no deposit column.
    prices : str, Path or dict, optional
        Mark prices by symbol (a CSV with symbol and price columns, or a dict).
    exchange : str, optional
        Preset id for the levels and basis (see ``xlcalc exchanges``).
    basis : {"entry", "mark"}, optional
        Required margin on the entry or the current price; default: the preset's, else entry.
    lang : {"ja", "en"}
    force : bool
        Overwrite an existing output.
    progress : bool
        Show a progress bar on stderr when it is a terminal.
    margin_call, loss_cut : float, optional
        Levels as fractions; override the preset (defaults 1.0 and 0.5 without one).
    presets : str or Path, optional
        The user's own presets CSV.
    decimal : str, optional
        The input's decimal mark (``","``), passed to the reader.
    sheet : str, optional
        The sheet of an xlsx input, passed to the reader.
    currency : str, optional
        The account currency of the money columns (``"JPY"``: ¥ and no decimals; ``"USD"``,
        ``"USDT"``…: 2 decimals); by default the quote currency all symbols share
        (``BTC/JPY`` → JPY), else plain numbers with 2 decimals.
    tick_size : float, optional
        The price step of rows without a ``tick_size`` (呼値) column: every computed price
        rounded conservatively (:func:`xlcalc.round_to_tick`: a long's up, a short's down).
        Default: no rounding.
    quote_rate : float, optional
        Account currency per quote unit for rows without a ``quote_rate`` (換算レート) column
        (EUR/USD in a yen account: USD/JPY); money is in the account currency. Default 1.
    hedge : {"sum", "max"}, optional
        How a cross account counts the margin of hedged legs (両建て): default the preset's
        rule, else ``"sum"``; ``"max"``: each symbol on its larger side, as
        :func:`xlcalc.account_state` (``hedge=``, ``symbol=``).
    safe_level : float, optional
        The safe level (default :data:`xlcalc.core.DEFAULT_SAFE_LEVEL`, 300 %; NaN or
        ``"none"``: none): a "safe price" column and the status "caution" below it.
    kind : {"positions", "loans"}, optional
        What ``source`` holds; by default a loans file is told by its columns (loan,
        collateral_quantity / 借入額, 担保数量). A loans file gives a Loans sheet
        (see :mod:`xlcalc.report.loans`).
    loan_preset : str, optional
        A loan-venue preset (:func:`xlcalc.loans.get_loan_preset`) for the LTV levels of rows
        without their own; ``loan_presets`` a user's loan presets CSV.
    margin_call_ltv, liquidation_ltv, target_ltv : float, optional
        LTV levels (fractions) of rows without their own, over the loan preset's.

    Returns
    -------
    ReportResult
    """
    if lang not in ("ja", "en"):
        raise InputError(f"lang must be 'ja' or 'en', got {lang!r}")
    output = Path(output)
    check_output = getattr(_files, "check_output", None)  # refuses -o equal to the input, or not .xlsx
    if check_output is not None:
        check_output(source, output)
    atomic_output(output, force).check()
    if kind not in (None, "positions", "loans"):
        raise InputError(f"kind must be 'positions' or 'loans', got {kind!r}", argument="kind", value=kind)
    from .loans import build_loans_report, is_loans_file

    def loans_report():
        return build_loans_report(
            source,
            output,
            lang=lang,
            force=force,
            decimal=decimal,
            sheet=sheet,
            currency=currency,
            loan_preset=loan_preset,
            loan_presets=loan_presets,
            margin_call_ltv=margin_call_ltv,
            liquidation_ltv=liquidation_ltv,
            target_ltv=target_ltv,
            tick_size=tick_size,
        )

    if kind == "loans":
        return loans_report()
    preset = get_preset(exchange, presets) if exchange else None
    if isinstance(prices, (str, Path)):
        prices = read_prices(prices)
    options = {k: v for k, v in dict(decimal=decimal, sheet=sheet).items() if v is not None}
    if preset and not math.isnan(preset["max_leverage"]):
        options["default_leverage"] = preset["max_leverage"]
    levels = resolve_levels(preset, margin_call, loss_cut, basis, safe_level, hedge)
    inputs = Inputs()
    tick = None if tick_size is None else float(inputs.number("tick_size", tick_size))
    rate = 1.0 if quote_rate is None else float(inputs.number("quote_rate", quote_rate))
    try:
        rows = read_rows(
            source, levels, deposit, lang=lang, prices=prices, tick_size=tick, quote_rate=rate, **options
        )
    except InputError:
        # not a positions file: a loans file is told by its columns (checked only now: no cost)
        if kind is None and is_loans_file(source, decimal=decimal, sheet=sheet):
            return loans_report()
        raise
    try:
        source_name = "DataFrame" if isinstance(source, pd.DataFrame) else Path(source).name
        if currency is None:  # the preset's account currency (¥ for Japanese venues)
            currency = _presets.account_currency(preset)
        report = Report(
            source_name=source_name,
            preset=preset,
            levels=levels,
            rows=rows,
            currency=None if currency is None else str(currency).strip().upper(),
        )
        report.figures, report.display = compute(report)
        bar = None
        if progress and sys.stderr.isatty() and rows.n_positions + rows.n_errors:
            import click

            bar = click.progressbar(
                length=rows.n_positions + rows.n_errors, file=sys.stderr, label=output.name
            )
        with atomic_output(output, force) as tmp:
            if bar is None:
                write_report(report, tmp, lang)
            else:
                with bar:
                    write_report(report, tmp, lang, progress=bar)
    finally:
        rows.close()
    accounts = [{k: v for k, v in a.items() if k != "group"} for a in report.figures.accounts]
    return ReportResult(
        output=output,
        rows_in=rows.rows_in,
        positions=rows.n_positions,
        errors=rows.n_errors,
        accounts=accounts,
    )
