"""The report as a pipeline: read → validate (reader) → keep (store) → compute → write.

:func:`build_report` resolves the options into :class:`~.compute.Levels`; the store keeps the
reader's validated chunks as :class:`~.store.Rows` with each account's sums (pass 1); every
chunk's columns give the statuses, the closest rows and the display's measures (pass 2); the
writer computes each chunk's columns once more while it streams them (pass 3). Memory holds a
chunk, not the input.
"""

from __future__ import annotations

import contextlib
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .. import core
from .. import presets as _presets
from .._files import atomic_output, check_output
from .._inputs import InputError, Inputs
from ..labels import label
from .compute import Figures, Levels, Scan, account_figures, position_columns, worst_row_ratios
from .display import Measure
from .reader import header_notes, read_prices, symbol_key, symbol_prices
from .store import Rows, read_rows
from .writer import write_report

__all__ = ["build_report", "ReportResult", "Report"]


@dataclass
class ReportResult:
    """What was written: counts satisfy ``rows_in == positions + errors`` (``positions``
    counts the loans of a loans report, ``kind="loans"``)."""

    output: Path
    rows_in: int
    positions: int
    errors: int
    accounts: list
    kind: str = "positions"
    at_entry: int = 0  # positions valued at their entry price (no price column, cell or file price)
    not_in_prices: int | None = None  # positions without a price in the prices (None: none given)
    deposit_ignored: str | None = None  # the deposit column that made ``deposit`` unused
    notes: list = field(
        default_factory=list
    )  # what the Summary notes of the input (rows skipped above the header...)


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
            rows, pos, levels = self.rows.chunk(i, self.levels)
            if self.rows.cross:
                funds = dict(account_deposit=self.rows.account_deposit, totals=self.rows.totals)
            else:
                funds = dict(deposit=rows["numbers"]["deposit"])
            self._cached = (i, (rows, pos, position_columns(pos, levels, **funds)))
        return self._cached[1]

    def compute(self):
        """Pass 2: the figures (statuses, the rows closest to loss-cut, the accounts) and what
        the display measures (widths, decimals, currencies)."""
        rows = self.rows
        scan, self.display, keys = (
            Scan(len(rows.counts), safe=self.levels.safe),
            Measure(),
            frozenset({"status"}),
        )
        for i, n in enumerate(rows.positions.lengths):
            if n:
                kept, pos, cols = self.columns(i)
                keys = frozenset(cols)
                scan.add(pos, cols, kept["line"], kept["texts"])
                self.display.add(kept, cols, pos.tick_size, pos.quote_rate)
        funds = rows.totals, rows.counts, self.levels, rows.account_deposit
        self.figures = account_figures(*funds, scan, cross=rows.cross, names=rows.account_names)
        self.figures.computed_keys = keys
        if not rows.cross:  # the Stress ladder of positions that stand alone: the worst one's ratio
            self.figures.stress = self._worst_ratios()

    def notes(self, lang) -> list:
        """What the Summary and the command line say besides the rows: the input's notes
        (:func:`~.reader.header_notes`) and the positions beyond their tier table."""
        notes = header_notes(self.rows.header, lang)
        fig, preset = self.figures, self.preset or {}
        if fig is not None and fig.beyond_tiers:
            words = dict(n=fig.beyond_tiers, exchange=preset.get("id", ""))
            notes.append(label("report_note_beyond_tiers", lang).format(**words))
        if fig is not None and fig.flat_rate:
            words = dict(n=fig.flat_rate, exchange=preset.get("id", ""), mmr=f"{self.levels.mmr * 100:g} %")
            notes.append(label("report_note_flat_rate", lang).format(**words))
        return notes

    def _worst_ratios(self):
        """Pass 2b (isolated): each account's lowest position ratio at each Stress move."""
        fig, groups = self.figures, [a["group"] for a in self.figures.accounts]
        stress = np.full((len(fig.moves), len(groups)), np.nan)
        for i, n in enumerate(self.rows.positions.lengths):
            if n:
                kept, pos, levels = self.rows.chunk(i, self.levels)
                worst = worst_row_ratios(pos, levels, kept["numbers"]["deposit"], fig.moves, groups)
                stress = np.fmin(stress, worst)
        return stress


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
    """The report's levels: the user's, else the preset's (:func:`xlcalc.presets.resolve_levels`;
    an mmr preset: loss-cut = each row's maintenance margin, :meth:`~.compute.Levels.for_rows`),
    else 1.0 and 0.5; NaN: "none". The
    safe level defaults to :data:`xlcalc.core.DEFAULT_SAFE_LEVEL`, the hedge rule to the
    preset's, else ``"sum"``."""
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
    rounding = _presets.money_rounding(preset)
    levels = Levels(float(mc), float(lc), basis, loss_cut_mmr=lc_mmr, safe=safe, hedge=hedge, **rounding)
    if mmr_model:
        levels.mmr, levels.tiers = float(preset["mmr"]), _tiers_lookup(preset["id"])
        levels.mm_basis = preset.get("mm_basis") or "mark"
    return levels


def _tiers_lookup(exchange_id):
    """symbol -> the shipped tier table of that contract (None: not shipped, flat mmr)."""
    from ..perpetual import exchange_tiers

    cache = {}

    def lookup(symbol):
        key = None if symbol is None else symbol_key(symbol)  # the prices' rule: BTC/USDT is BTCUSDT
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
        Positions: CSV (UTF-8, UTF-8-BOM, Shift_JIS/cp932) or xlsx, or a DataFrame (row i is
        reported as line i + 2, its line in a CSV). Columns (EN or JA headers): symbol 銘柄,
        side 売買, entry_price 建値, quantity 数量, leverage レバレッジ, price 現在値, deposit
        証拠金, fees 手数料, account 口座.
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
    decimal, sheet : str, optional
        The input's decimal mark (``","``) and the sheet of an xlsx input, for the reader.
    currency : str, optional
        The account currency of the money columns (``"JPY"``: ¥, no decimals; ``"USDT"``: 2);
        default the quote currency every symbol shares (``BTC/JPY`` → JPY), else none.
    tick_size : float, optional
        The price step of rows without a ``tick_size`` (呼値) column: computed prices rounded
        conservatively (:func:`xlcalc.round_to_tick`). Default: no rounding.
    quote_rate : float, optional
        Account currency per quote unit for rows without a ``quote_rate`` (換算レート) column
        (EUR/USD in a yen account: USD/JPY). Default 1.
    hedge : {"sum", "max"}, optional
        How a cross account counts hedged legs (両建て): default the preset's rule, else
        ``"sum"``; ``"max"``: each symbol on its larger side, as :func:`xlcalc.account_state`.
    safe_level : float, optional
        Default :data:`xlcalc.core.DEFAULT_SAFE_LEVEL` (300 %; NaN or ``"none"``: none): a
        safe price column and the status "caution" below it.
    kind : {"positions", "loans"}, optional
        What ``source`` holds; default told by its columns (loan and collateral_quantity /
        借入額, 担保数量 make a loans file: a Loans sheet, :mod:`xlcalc.report.loans`).
    loan_preset, loan_presets : str, optional
        A loan-venue preset (:func:`xlcalc.loans.get_loan_preset`) for the LTV levels of rows
        without their own, and a user's loan presets CSV.
    margin_call_ltv, liquidation_ltv, target_ltv : float, optional
        LTV levels (fractions) of rows without their own, over the loan preset's.

    Returns
    -------
    ReportResult
    """
    if lang not in ("ja", "en"):
        raise InputError(f"lang must be 'ja' or 'en', got {lang!r}")
    output = Path(output)
    check_output(source, output)  # refuses an output equal to the input, or not .xlsx
    atomic_output(output, force).check()
    if kind not in (None, "positions", "loans"):
        raise InputError(f"kind must be 'positions' or 'loans', got {kind!r}", argument="kind", value=kind)
    from .loans import build_loans_report, is_loans_file

    loan_options = dict(
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
        return build_loans_report(source, output, **loan_options)
    preset = _presets.get_preset(exchange, presets) if exchange else None
    if isinstance(prices, (str, Path)):
        prices = read_prices(prices, decimal=decimal, lang=lang)
    elif prices:
        symbol_prices(prices, lang)  # two spellings of one symbol with two prices: refused now
    options = {k: v for k, v in dict(decimal=decimal, sheet=sheet).items() if v is not None}
    if preset and not math.isnan(preset["max_leverage"]):
        options["default_leverage"] = preset["max_leverage"]
    levels = resolve_levels(preset, margin_call, loss_cut, basis, safe_level, hedge)
    tick = None if tick_size is None else float(Inputs().number("tick_size", tick_size))
    rate = 1.0 if quote_rate is None else float(Inputs().number("quote_rate", quote_rate))
    try:
        rows = read_rows(
            source, levels, deposit, lang=lang, prices=prices, tick_size=tick, quote_rate=rate, **options
        )
    except InputError:
        # not a positions file: a loans file is told by its columns (checked only now: no cost)
        if kind is None and is_loans_file(source, sheet=sheet):
            return build_loans_report(source, output, **loan_options)
        raise
    try:
        if currency is None:  # the preset's account currency (¥ for Japanese venues)
            currency = _presets.account_currency(preset)
        report = Report(
            source_name="DataFrame" if isinstance(source, pd.DataFrame) else Path(source).name,
            preset=preset,
            levels=levels,
            rows=rows,
            currency=None if currency is None else str(currency).strip().upper(),
        )
        report.compute()
        n, bar = rows.n_positions + rows.n_errors, None
        if progress and sys.stderr.isatty() and n:
            import click

            bar = click.progressbar(length=n, file=sys.stderr, label=output.name)
        with atomic_output(output, force) as tmp, bar if bar is not None else contextlib.nullcontext():
            write_report(report, tmp, lang, progress=bar)
    finally:
        rows.close()
    accounts = [{k: v for k, v in a.items() if k != "group"} for a in report.figures.accounts]
    return ReportResult(
        output,
        rows.rows_in,
        rows.n_positions,
        rows.n_errors,
        accounts,
        at_entry=rows.n_at_entry,
        not_in_prices=rows.n_not_in_prices,
        deposit_ignored=None if rows.cross or deposit is None else rows.header.fields["deposit"],
        notes=report.notes(lang),
    )
