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

import numpy as np
import pandas as pd

from .. import _files, core
from .._files import atomic_output
from .._inputs import InputError, Inputs
from ..presets import get_preset, preset_levels
from .compute import Figures, Levels, Scan, account_figures, position_columns
from .reader import TEXT_FIELDS, read_prices
from .store import Rows, read_rows
from .display import Measure
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
                cols = position_columns(pos, lv, account_deposit=self.rows.account_deposit,
                                        totals=self.rows.totals)
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
        if not n:
            continue
        kept, pos, cols = report.columns(i)
        keys = frozenset(cols)

        def info(r, kept=kept, pos=pos, cols=cols):
            line = rows.line_numbers(kept["record"][r], kept["line"][r])
            texts = {k: np.asarray(kept["texts"][k])[r] if k in kept["texts"] else None for k in TEXT_FIELDS}
            return [dict(line=int(line[j]), side=float(pos.side[x]), price=float(pos.price[x]),
                         **{k: float(cols[k][x]) for k in ("loss_cut_price", "loss_cut_distance_pct",
                                                           "ratio")},
                         status=str(cols["status"][x]), **{k: None if t is None else str(t[j])
                                                           for k, t in texts.items()})
                    for j, x in enumerate(r.tolist())]
        scan.add(pos, cols, info)
        display.add(kept, cols)
    figures = account_figures(rows.totals, rows.counts, report.levels, rows.account_deposit, scan,
                              cross=rows.cross, names=rows.account_names)
    figures.computed_keys = keys
    return figures, display


def resolve_levels(preset, margin_call=None, loss_cut=None, basis=None) -> Levels:
    """The levels and basis: the preset's (an mmr preset: loss-cut = mmr × leverage, row by
    row), else 1.0 and 0.5 on the entry price; ``margin_call``/``loss_cut`` override."""
    mc, lc, lc_mmr, preset_basis = 1.0, 0.5, None, "entry"
    mmr_model = bool(preset) and preset.get("margin_model") == "mmr"
    if preset:
        base = preset_levels(preset, 1.0) if mmr_model else preset_levels(preset)
        mc, preset_basis = base["margin_call_level"], base["basis"]
        lc, lc_mmr = (math.nan, preset["mmr"]) if mmr_model else (base["loss_cut_level"], None)
    if margin_call is not None:
        mc = Inputs().number("margin_call", margin_call)
    if loss_cut is not None:
        lc, lc_mmr = Inputs().number("loss_cut", loss_cut), None
    basis = basis or preset_basis
    core.parse_basis(basis)  # InputError for an unknown basis
    levels = Levels(margin_call=float(mc), loss_cut=float(lc), basis=basis, loss_cut_mmr=lc_mmr)
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


def build_report(source, output, *, deposit=None, prices=None, exchange=None, basis=None,
                 lang="ja", force=False, progress=False, margin_call=None, loss_cut=None,
                 presets=None, decimal=None, sheet=None, currency=None) -> ReportResult:
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

    Returns
    -------
    ReportResult
    """
    if lang not in ("ja", "en"):
        raise InputError(f"lang must be 'ja' or 'en', got {lang!r}")
    output = Path(output)
    check_output = getattr(_files, "check_output", None)   # refuses -o equal to the input, or not .xlsx
    if check_output is not None:
        check_output(source, output)
    atomic_output(output, force).check()
    preset = get_preset(exchange, presets) if exchange else None
    if isinstance(prices, (str, Path)):
        prices = read_prices(prices)
    options = {k: v for k, v in dict(decimal=decimal, sheet=sheet).items() if v is not None}
    if preset and not math.isnan(preset["max_leverage"]):
        options["default_leverage"] = preset["max_leverage"]
    levels = resolve_levels(preset, margin_call, loss_cut, basis)
    rows = read_rows(source, levels, deposit, lang=lang, prices=prices, **options)
    try:
        source_name = "DataFrame" if isinstance(source, pd.DataFrame) else Path(source).name
        report = Report(source_name=source_name, preset=preset, levels=levels, rows=rows,
                        currency=None if currency is None else str(currency).strip().upper())
        report.figures, report.display = compute(report)
        bar = None
        if progress and sys.stderr.isatty() and rows.n_positions + rows.n_errors:
            import click

            bar = click.progressbar(length=rows.n_positions + rows.n_errors, file=sys.stderr,
                                    label=output.name)
        with atomic_output(output, force) as tmp:
            if bar is None:
                write_report(report, tmp, lang)
            else:
                with bar:
                    write_report(report, tmp, lang, progress=bar)
    finally:
        rows.close()
    accounts = [{k: v for k, v in a.items() if k != "group"} for a in report.figures.accounts]
    return ReportResult(output=output, rows_in=rows.rows_in, positions=rows.n_positions,
                        errors=rows.n_errors, accounts=accounts)
