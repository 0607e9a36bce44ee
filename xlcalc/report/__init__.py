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
* Rows stream through in chunks (a temporary file holds the validated rows between passes):
  memory does not grow with the row count.

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
import os
import pickle
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .. import core
from .._inputs import InputError
from ..labels import label
from ..presets import get_preset, preset_levels
from .compute import STRESS_MOVES, AccountAggregates, Levels, Positions, position_columns, row_terms
from .reader import TEXT_FIELDS, ExactLines, RowTooLong, iter_chunks, read_prices
from .sums import RowOrderSums
from .._files import atomic_output
from .writer import Column, build_workbook, splice_workbook

__all__ = ["build_report", "ReportResult"]


@dataclass
class ReportResult:
    """What was written: counts satisfy ``rows_in == positions + errors``."""

    output: Path
    rows_in: int
    positions: int
    errors: int
    accounts: list


class _Store:
    """Pickled chunks in an anonymous temporary file: what the later passes re-read."""

    def __init__(self):
        self.file = tempfile.TemporaryFile(prefix="xlcalc-report-")
        self.offsets, self.lengths = [], []

    def append(self, obj, n_rows):
        self.file.seek(0, os.SEEK_END)
        self.offsets.append(self.file.tell())
        self.lengths.append(n_rows)
        pickle.dump(obj, self.file, protocol=pickle.HIGHEST_PROTOCOL)

    def __len__(self):
        return len(self.offsets)

    def load(self, i):
        self.file.seek(self.offsets[i])
        return pickle.load(self.file)

    def close(self):
        self.file.close()


class _Report:
    """The report, streamed: the input is read once, chunk by chunk, into a temporary file
    of validated rows; then two passes over that file: one for the account figures (they
    need every row: a cross-margin row's trigger prices depend on its whole account), one
    that computes each chunk's columns again while it is written. Memory holds a chunk,
    not the input."""

    def __init__(self, source, levels: Levels, deposit, prices, default_leverage, source_name, preset,
                 lang="en"):
        self.lang = lang  # of the rejected rows' reasons
        self.levels = levels
        self.preset = preset
        self.source_name = source_name
        self.deposit = deposit
        self.positions_store = self.errors_store = self.lines_store = None
        try:
            try:
                self._read(source, prices, default_leverage, tolerant=False)
            except RowTooLong:  # rare: the slower reader keeps such rows, to report them
                self._close()
                self._read(source, prices, default_leverage, tolerant=True)
            self._aggregate()
        except BaseException:
            self._close()
            raise
        self.stress_moves = STRESS_MOVES
        self._cached = (None, None)

    # -- pass 1: read, validate, keep the rows; row-order sums of each account -------------
    def _read(self, source, prices, default_leverage, tolerant):
        self.positions_store, self.errors_store = _Store(), _Store()
        self.lines_store = None
        self.header = None
        self.rows_in = self.n_positions = self.n_errors = self.error_width = 0
        accounts = {}
        counts = np.zeros(0, dtype=np.int64)
        row_sums = RowOrderSums(["fees", "pnl", "margin", "rm_mc", "rm_lc", "mm"])
        exact = None
        for chunk in iter_chunks(source, prices=prices, default_leverage=default_leverage, tolerant=tolerant,
                                 lang=self.lang):
            if isinstance(chunk, ExactLines):
                exact = chunk
                continue
            if self.header is None:
                self._start(chunk.header)
                self.extra_headers = list(chunk.extra)
            self.rows_in += chunk.n_rows
            if chunk.reasons:
                order = sorted(chunk.reasons)
                raw = [chunk.raw_bad[i] for i in order]
                self.errors_store.append(dict(record=chunk.record[order], line=chunk.line[order],
                                              reasons=[chunk.reasons[i] for i in order], raw=raw), len(order))
                self.n_errors += len(order)
                self.error_width = max([self.error_width] + [len(r) for r in raw])
            v = ~chunk.bad
            num = {k: a[v] for k, a in chunk.numbers.items()}
            n = len(num["entry_price"])
            if "account" in chunk.texts:  # account numbers in order of first appearance
                uniques, codes = _factorize(chunk.texts["account"][v])
                ids = np.array([accounts.setdefault(u, len(accounts)) for u in uniques], dtype=np.int64)
                group = ids[codes] if n else np.zeros(0, dtype=np.int64)
            else:
                group = np.zeros(n, dtype=np.int64)
            n_groups = max(len(accounts), 1)
            counts = np.concatenate([counts, np.zeros(n_groups - len(counts), dtype=np.int64)])
            counts += np.bincount(group, minlength=n_groups)
            rows = dict(numbers=num, side=chunk.side[v], group=group, record=chunk.record[v],
                        line=chunk.line[v], texts={k: c[v] for k, c in chunk.texts.items()},
                        extra={k: c[v] for k, c in chunk.extra.items()})
            if self.cross and n:
                pos, lv = self._positions(rows, n_groups)
                margin_price = pos.price if lv.mark else pos.entry_price
                cols = {"required_margin": core.required_margin(margin_price, pos.quantity, pos.leverage),
                        "pnl": core.unrealized_pnl(pos.side, pos.entry_price, pos.price, pos.quantity)}
                row_sums.add(group, row_terms(pos, lv, cols), n_groups)
            self.positions_store.append(rows, n)
            self.n_positions += n
            del chunk, rows
            _release_memory()
        if self.header is None:
            raise InputError("input has no header row")
        self.account_names_raw = list(accounts) or None
        self.n_groups = max(len(accounts), 1)
        self.counts = np.concatenate([counts, np.zeros(self.n_groups - len(counts), dtype=np.int64)])
        self.totals = row_sums.totals(self.n_groups) if self.cross else None
        if self.cross:
            self.account_deposit = np.full(self.n_groups, self._deposit)
        if exact is not None:  # line numbers of a CSV with quoted line breaks, one int per record
            self.lines_store = tempfile.TemporaryFile(prefix="xlcalc-lines-")
            for part in exact.chunks():
                self.lines_store.write(part.astype(np.int64).tobytes())

    def _start(self, header):
        self.header = header
        self.raw_columns = header.raw_columns
        self.text_fields = [k for k in TEXT_FIELDS if k in header.fields]
        self.cross = "deposit" not in header.fields
        self.account_deposit = None
        if self.cross:
            if self.deposit is None:
                raise InputError("a deposit is needed: add a deposit (証拠金) column to the input "
                                 "(isolated positions) or give --deposit (one cross-margin account"
                                 " per account value)")
            self._deposit = _nonnegative("deposit", self.deposit)

    def _lines(self, record, line):
        """Line numbers of these records (ascending): exact when the CSV has quoted line breaks."""
        if self.lines_store is None or not len(record):
            return line
        lo, hi = int(record.min()), int(record.max()) + 1
        self.lines_store.seek(lo * 8)
        return np.frombuffer(self.lines_store.read((hi - lo) * 8), dtype=np.int64)[record - lo]

    def _positions(self, rows, n_groups=None):
        num = rows["numbers"]
        pos = Positions(side=rows["side"], entry_price=num["entry_price"], quantity=num["quantity"],
                        leverage=num["leverage"], price=num["price"], fees=num["fees"], group=rows["group"],
                        n_groups=n_groups or self.n_groups)
        if "symbol" in rows["texts"]:
            sym = rows["texts"]["symbol"]
            pos.extra = {"symbol_codes": np.asarray(sym.codes), "symbols": list(sym.categories)}
        return pos, self.levels.for_rows(pos.leverage)

    def _columns(self, i):
        """Rows, Positions, levels and computed columns of stored chunk ``i`` (last one cached)."""
        if self._cached[0] == i:
            return self._cached[1]
        rows = self.positions_store.load(i)
        pos, lv = self._positions(rows)
        if self.cross:
            cols = position_columns(pos, lv, account_deposit=self.account_deposit, totals=self.totals)
        else:
            cols = position_columns(pos, lv, deposit=rows["numbers"]["deposit"])
        self._cached = (i, (rows, pos, lv, cols))
        return self._cached[1]

    # -- pass 2: account figures, Stress, closest to loss-cut ------------------------------
    def _aggregate(self):
        self._cached = (None, None)
        agg = AccountAggregates(self.counts, self.levels, cross=self.cross,
                                account_deposit=self.account_deposit)
        self.computed_keys = {"status"}
        for i in range(len(self.positions_store)):
            if not self.positions_store.lengths[i]:
                continue
            rows, pos, lv, cols = self._columns(i)
            self.computed_keys = set(cols)

            def info(r, rows=rows, pos=pos, cols=cols):
                line = self._lines(rows["record"][r], rows["line"][r])
                texts = {k: np.asarray(rows["texts"][k])[r] if k in rows["texts"] else None for k in TEXT_FIELDS}
                return [dict(line=int(line[j]), side=float(pos.side[x]), price=float(pos.price[x]),
                             loss_cut_price=float(cols["loss_cut_price"][x]),
                             loss_cut_distance_pct=float(cols["loss_cut_distance_pct"][x]),
                             ratio=float(cols["ratio"][x]), status=str(cols["status"][x]),
                             **{k: (None if t is None else str(t[j])) for k, t in texts.items()})
                        for j, x in enumerate(r.tolist())]
            agg.add(pos, lv, cols, deposit=None if self.cross else rows["numbers"]["deposit"], info=info)
            _release_memory()
        self.accounts = agg.accounts()
        self.stress = agg.stress() if self.accounts else np.zeros((len(STRESS_MOVES), 0))
        self.closest = agg.closest_rows()
        names = self.account_names_raw
        for acct in self.accounts:
            gi = acct["group"]
            deposit = acct.pop("deposit", None)
            acct["name"] = names[gi] if names else None
            acct["deposit"] = float(self.account_deposit[gi]) if self.cross else deposit
        if self.n_positions == 0:
            self.accounts, self.stress, self.closest = [], np.zeros((len(STRESS_MOVES), 0)), []

    # -- pass 3: the long sheets' rows, chunk by chunk -------------------------------------
    def position_chunks(self, keys, lang, start, stop):
        """Columns (``keys`` of writer.positions_layout) of the positions ``start:stop``."""
        side_words = [label("long", lang), label("short", lang)]
        a = 0
        for i, n in enumerate(self.positions_store.lengths):
            lo, hi = max(start - a, 0), min(stop - a, n)
            a += n
            if lo >= hi:
                continue
            rows, pos, lv, cols = self._columns(i)
            status_codes, status_keys = pd.factorize(np.asarray(cols["status"])[lo:hi])
            out = []
            for key in keys:
                if key == "line":
                    col = Column(values=self._lines(rows["record"], rows["line"])[lo:hi])
                elif key == "side":
                    col = Column(codes=(pos.side[lo:hi] < 0).astype(np.int64), words=side_words)
                elif key in ("account", "symbol") or isinstance(key, tuple):
                    cat = rows["texts"][key] if isinstance(key, str) else rows["extra"][key[1]]
                    col = Column(codes=np.asarray(cat.codes)[lo:hi], words=list(cat.categories))
                elif key == "status":
                    col = Column(codes=status_codes, words=[label(str(k), lang) for k in status_keys])
                elif key in cols:
                    col = Column(values=np.asarray(cols[key], dtype=float)[lo:hi])
                else:
                    col = Column(values=rows["numbers"][key][lo:hi])
                out.append(col)
            yield out
            _release_memory()

    def error_chunks(self, width):
        for i in range(len(self.errors_store)):
            e = self.errors_store.load(i)
            cols = [Column(values=self._lines(e["record"], e["line"])), Column(values=e["reasons"])]
            cols += [Column(values=[str(r[j]) if j < len(r) else "" for r in e["raw"]]) for j in range(width)]
            yield cols

    def _close(self):
        for store in (self.positions_store, self.errors_store):
            if store is not None:
                store.close()
        if self.lines_store is not None:
            self.lines_store.close()

    @property
    def account_names(self):
        return [a["name"] if a["name"] is not None else "" for a in self.accounts]

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
        if self.levels.loss_cut_mmr is not None:
            return f"mmr {self.levels.mmr * 100:g} % × {label('leverage', lang)}"
        return self._level_text(float(self.levels.loss_cut), lang)


def _release_memory():
    """Give freed heap pages back to the system (glibc keeps them by default: the chunks'
    arrays, freed one by one, would otherwise pile up as resident memory)."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _load_libc():
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim  # glibc only
        return libc
    except (OSError, AttributeError):
        return None


_LIBC = _load_libc() if sys.platform.startswith("linux") else None


def _factorize(cat):
    """(distinct texts in order of first appearance, code of each row)."""
    codes, uniques = pd.factorize(np.asarray(cat, dtype=object))
    return [str(u) for u in uniques], codes


def _nonnegative(name, value):
    from .._inputs import Inputs

    return Inputs().number(name, value, rule="nonnegative")


def _levels(preset, margin_call, loss_cut, basis):
    lc_mmr = None
    if preset:
        if preset.get("margin_model") == "mmr":
            base = preset_levels(preset, 1.0)
            lc, lc_mmr = math.nan, preset["mmr"]  # loss-cut = mmr × leverage, row by row
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
        lc, lc_mmr = _positive("loss_cut", loss_cut), None
    basis = basis or preset_basis
    from ..core import parse_basis

    parse_basis(basis)  # InputError for an unknown basis
    levels = Levels(margin_call=float(mc), loss_cut=float(lc), basis=basis, loss_cut_mmr=lc_mmr)
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
    levels = _levels(preset, margin_call, loss_cut, basis)
    source_name = "DataFrame" if isinstance(source, pd.DataFrame) else Path(source).name
    report = _Report(source, levels, deposit, prices, default_leverage, source_name, preset, lang)
    try:
        return _write(report, output, lang, force, progress)
    finally:
        report._close()


def _write(report, output, lang, force, progress) -> ReportResult:
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
    return ReportResult(output=output, rows_in=report.rows_in, positions=report.n_positions,
                        errors=report.n_errors, accounts=accounts)
