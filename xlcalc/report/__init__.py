"""Headless risk report (SPEC §6): a positions file in, a formatted xlsx report out.

``build_report(source, output, ...)`` reads positions (CSV in UTF-8, UTF-8 with BOM or
Shift_JIS/cp932, an xlsx sheet, or a DataFrame), computes every figure with the xlcalc
core and writes a workbook with four sheets: Summary, Positions, Stress and Errors.

* A ``deposit`` (証拠金) column makes every row an isolated position. Without one, the
  ``deposit`` argument funds one cross-margin account, or one per ``account`` (口座) value,
  each with that deposit.
* Nothing is lost: every non-blank input row is either on Positions or on Errors (with its
  line number, raw values and the core's error message).
* The output is written to a temporary file next to it and renamed into place; an existing
  file is kept unless ``force``.

>>> import pandas as pd, tempfile, os
>>> df = pd.DataFrame({"symbol": ["BTC/JPY"], "side": ["long"], "entry_price": [10_000_000],
...                    "quantity": [0.1], "leverage": [2], "deposit": [1_000_000]})
>>> with tempfile.TemporaryDirectory() as d:
...     result = build_report(df, os.path.join(d, "r.xlsx"), lang="en")
>>> result.rows_in, result.positions, result.errors
(1, 1, 0)
"""
from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .._inputs import InputError
from ..labels import label
from ..presets import get_preset, preset_levels
from .compute import (STRESS_MOVES, Levels, Positions, account_rows, closest_to_loss_cut,
                      position_columns, stress_table)
from .reader import Table, read_prices, read_table
from .writer import atomic_output, build_workbook, splice_workbook

__all__ = ["build_report", "ReportResult"]


@dataclass
class ReportResult:
    """What was written: counts satisfy ``rows_in == positions + errors``."""

    output: Path
    rows_in: int
    positions: int
    errors: int
    accounts: list


class _Report:
    """Everything the writer needs, computed once."""

    def __init__(self, table: Table, levels: Levels, deposit, source_name, preset):
        self.table = table
        self.levels = levels
        self.preset = preset
        self.source_name = source_name
        self.valid = ~table.bad
        self.valid_index = np.flatnonzero(self.valid)
        v = self.valid
        num = table.numbers
        if "account" in table.texts:
            codes, uniques = pd.factorize(np.asarray(table.texts["account"])[v])
            names = [str(u) for u in uniques]
        else:
            codes, names = np.zeros(int(v.sum()), dtype=np.int64), None
        self.pos = Positions(side=table.side[v], entry_price=num["entry_price"][v],
                             quantity=num["quantity"][v], leverage=num["leverage"][v],
                             price=num["price"][v], fees=num["fees"][v],
                             group=np.asarray(codes, dtype=np.int64),
                             n_groups=max(len(names) if names else 1, 1))
        if "symbol" in table.texts:
            sym = table.texts["symbol"][v]
            self.pos.extra = {"symbol_codes": np.asarray(sym.codes), "symbols": list(sym.categories)}
        if isinstance(levels.loss_cut, np.ndarray):  # mmr presets: one level per row
            levels.loss_cut = levels.loss_cut[v]
        self.account_names_raw = names
        if "deposit" in table.fields:
            self.deposit_rows = num["deposit"][v]
            self.account_deposit = None
        else:
            if deposit is None:
                raise InputError("a deposit is needed: add a deposit (証拠金) column to the input "
                                 "(isolated positions) or give --deposit (one cross-margin account"
                                 " per account value)")
            deposit = _nonnegative("deposit", deposit)
            self.deposit_rows = None
            self.account_deposit = np.full(self.pos.n_groups, deposit)
        n = len(self.pos)
        kw = dict(deposit=self.deposit_rows) if self.deposit_rows is not None else \
            dict(account_deposit=self.account_deposit)
        if n:
            self.cols = position_columns(self.pos, levels, **kw)
            self.accounts = account_rows(self.pos, levels, self.cols, account_deposit=self.account_deposit)
            self.stress = stress_table(self.pos, levels, **kw)
            self.closest = closest_to_loss_cut(self.pos, self.cols)
        else:
            self.cols = {"status": np.zeros(0, dtype=str)}
            self.accounts, self.stress, self.closest = [], np.zeros((len(STRESS_MOVES), 0)), []
        self.stress_moves = STRESS_MOVES
        for acct in self.accounts:
            gi = acct["group"]
            acct["name"] = names[gi] if names else None
            if self.account_deposit is not None:
                acct["deposit"] = float(self.account_deposit[gi])
            else:
                acct["deposit"] = float(np.sum(self.deposit_rows[self.pos.group == gi]))
        self.status_codes, keys = pd.factorize(np.asarray(self.cols["status"]))
        self.status_keys = [str(k) for k in keys]

    @property
    def account_names(self):
        return [a["name"] if a["name"] is not None else "" for a in self.accounts]

    def text_value(self, key, r):
        if key not in self.table.texts:
            return None
        return str(np.asarray(self.table.texts[key])[self.valid_index[r]])

    @property
    def exchange_text(self):
        p = self.preset
        if not p:
            return "-"
        return f"{p['name']} {p['product']} ({p['id']}; {p['source_url']}, {p['as_of']})"

    def _level_text(self, value, lang):
        if value is None:
            return label("none", lang)
        if isinstance(value, str):
            return value
        return label("none", lang) if math.isnan(value) else f"{value * 100:g} %"

    def margin_call_text(self, lang):
        return self._level_text(float(self.levels.margin_call), lang)

    def loss_cut_text(self, lang):
        lc = self.levels.loss_cut
        if np.ndim(lc) and self.levels.mmr is not None:
            return f"mmr {self.levels.mmr * 100:g} % × {label('leverage', lang)}"
        return self._level_text(float(lc) if np.ndim(lc) == 0 else float("nan"), lang)


def _nonnegative(name, value):
    from .._inputs import Inputs

    return Inputs().number(name, value, rule="nonnegative")


def _levels(preset, margin_call, loss_cut, basis, leverage_rows):
    if preset:
        if preset.get("margin_model") == "mmr":
            base = preset_levels(preset, 1.0)
            lc = preset["mmr"] * leverage_rows  # loss-cut = mmr × leverage, row by row
            mc = base["margin_call_level"]
        else:
            base = preset_levels(preset)
            mc, lc = base["margin_call_level"], base["loss_cut_level"]
        preset_basis = base["basis"]
    else:
        mc, lc, preset_basis = 1.0, 0.5, "entry"
    if margin_call is not None:
        mc = _positive("margin_call", margin_call)
    if loss_cut is not None:
        lc = _positive("loss_cut", loss_cut)
    basis = basis or preset_basis
    from ..core import parse_basis

    parse_basis(basis)  # InputError for an unknown basis
    levels = Levels(margin_call=float(mc), loss_cut=lc if isinstance(lc, np.ndarray) else float(lc),
                    basis=basis)
    if preset and preset.get("margin_model") == "mmr":
        levels.mmr = float(preset["mmr"])
        levels.tiers = _tiers_lookup(preset["id"])
    return levels


def _tiers_lookup(exchange_id):
    """symbol -> the shipped tier table of that contract (None: not shipped, flat mmr)."""
    try:
        from ..perpetual import exchange_tiers
    except ImportError:  # older core: no tier tables
        return None
    cache = {}

    def lookup(symbol):
        key = None if symbol is None else "".join(ch for ch in str(symbol).upper() if ch.isalnum())
        if key not in cache:
            try:
                cache[key] = exchange_tiers(exchange_id, key) if key is not None else exchange_tiers(exchange_id)
            except InputError:
                cache[key] = None
        return cache[key]
    return lookup


def _positive(name, value):
    from .._inputs import Inputs

    return Inputs().number(name, value)


def build_report(source, output, *, deposit=None, prices=None, exchange=None, basis=None,
                 lang="ja", force=False, progress=False, margin_call=None, loss_cut=None,
                 presets=None) -> ReportResult:
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

    Returns
    -------
    ReportResult
    """
    if lang not in ("ja", "en"):
        raise InputError(f"lang must be 'ja' or 'en', got {lang!r}")
    output = Path(output)
    guard = atomic_output(output, force)
    guard.check()
    preset = get_preset(exchange, presets) if exchange else None
    if isinstance(prices, (str, Path)):
        prices = read_prices(prices)
    default_leverage = None
    if preset and not math.isnan(preset["max_leverage"]):
        default_leverage = preset["max_leverage"]
    table = read_table(source, prices=prices, default_leverage=default_leverage)
    levels = _levels(preset, margin_call, loss_cut, basis, table.numbers["leverage"])
    source_name = "DataFrame" if isinstance(source, pd.DataFrame) else Path(source).name
    report = _Report(table, levels, deposit, source_name, preset)
    package, sheets = build_workbook(report, lang)
    total = sum(s.stop - s.start for s in sheets)
    bar = None
    if progress and sys.stderr.isatty() and total > 0:
        import click

        bar = click.progressbar(length=total, file=sys.stderr, label=output.name)
    with atomic_output(output, force) as tmp:
        if bar is not None:
            with bar:
                splice_workbook(package, tmp, sheets, progress=bar)
        else:
            splice_workbook(package, tmp, sheets)
    accounts = [{k: v for k, v in a.items() if k != "group"} for a in report.accounts]
    return ReportResult(output=output, rows_in=table.n_rows, positions=int(report.valid.sum()),
                        errors=len(table.reasons), accounts=accounts)
