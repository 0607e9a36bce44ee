"""Excel functions (SPEC §4): the Python API as xlwings UDFs named ``XLC_*``.

A thin client of the core: this module converts Excel ranges to arrays, calls the core
once for the whole range and maps errors to cell text. It holds no margin math.

* Every argument takes a single cell or a range; arguments broadcast against each other
  (a column of prices with one deposit cell), and the result spills: one formula for a
  whole column.
* A bad cell makes that cell of the result a text starting with ``#VALUE!`` that names
  the argument and the value; the other rows still compute. An empty cell in an optional
  argument means its default; in a required one it is reported as empty.
* A level that can never be reached gives an empty cell: NaN, which classic xlwings writes
  as an empty cell, or None under xlwings Lite (which would write NaN as #NUM!).

Classic xlwings (Windows) registers the functions with "Import Functions" (``UDF Modules``
= ``xlcalc.udfs``); xlwings Lite registers them after ``from xlcalc.udfs import *`` in
``main.py``. Elsewhere the decorators do nothing and the functions are plain Python.

Examples
--------
Excel hands over 2-D arrays; a column of prices with single cells for the rest:

>>> import numpy as np
>>> from xlcalc.udfs import XLC_RATIO, XLC_LOSSCUT_PRICE, XLC_STATUS
>>> XLC_RATIO(5_000, "long", 50_000, np.array([[50_000.0], [25_000.0]]), 0.2, 2)
array([[1.],
       [0.]])

A bad row gets a readable text, the others still compute; an unreachable level is empty:

>>> XLC_LOSSCUT_PRICE(np.array([[5_000.0], [-1.0], [20_000.0]]), "long", 50_000, 0.2, 2, 0.5)
array([[37500.0],
       ['#VALUE! deposit must be a number >= 0, got -1.0'],
       [nan]], dtype=object)
>>> XLC_STATUS(np.array([[2.27, 0.8, 0.4]]), lang="ja")
array([['正常', '追証', 'ロスカット']], dtype=object)
"""
from __future__ import annotations

import math
import sys

import numpy as np
import pandas as pd
from xlwings import arg, func, ret

from . import core, perpetual, presets
from ._inputs import InputError, Inputs
from .labels import LANGUAGES, TABLES, label

__all__ = [
    "XLC_RATIO", "XLC_LOSSCUT_PRICE", "XLC_MARGINCALL_PRICE", "XLC_REQUIRED_MARGIN", "XLC_PNL",
    "XLC_EQUITY", "XLC_ADD_DEPOSIT", "XLC_CLOSE_QTY", "XLC_BANKRUPTCY_PRICE", "XLC_SHORTFALL",
    "XLC_POSITION_SIZE", "XLC_LIQ_PRICE", "XLC_STATUS", "XLC_PRESET",
]

CATEGORY = "xlcalc"
ERROR_PREFIX = "#VALUE! "
_NAN_AS_NONE = sys.platform == "emscripten"  # xlwings Lite runs in Pyodide

# -- registration ------------------------------------------------------------------------
# Help text for the function wizard, one per argument name; a function may override one.
_HELP = {
    "deposit": "Deposit / collateral (預託証拠金), >= 0. A cell or a range.",
    "side": "Side (売買): long/short, buy/sell, 買い/売り or +1/-1.",
    "entry_price": "Entry price (建値), > 0.",
    "price": "Current, mark or scenario price (現在値), > 0.",
    "quantity": "Position size in base units (数量), > 0.",
    "leverage": "Leverage (レバレッジ), > 0: required margin = notional / leverage.",
    "basis": "Optional. Margin basis: entry (default, 建値) or mark (時価).",
    "fees": "Optional. Accrued unpaid costs (fees, leverage fee, funding), >= 0; default 0.",
    "level": "Level as a fraction of required margin (0.5 = 50 %).",
    "target": "Optional. Ratio to restore, as a fraction; default 1 (100 %).",
    "fill_price": "Price the position was closed at on a gap, > 0.",
    "capital": "Trading capital, > 0.",
    "risk": "Fraction of capital to risk, 0 < risk <= 1 (0.02 = 2 %).",
    "stop_price": "Stop-loss price (逆指値), > 0, not equal to entry_price.",
    "wallet_balance": "Wallet balance backing the position (isolated: position margin).",
    "mmr": "Maintenance margin rate as a fraction (0.004 = 0.4 %); may be empty with tiers.",
    "maintenance_amount": "Optional. The tier's maintenance amount (cum), >= 0; default 0.",
    "other_maintenance": "Optional. Cross margin: other positions' maintenance margin; default 0.",
    "other_pnl": "Optional. Cross margin: other positions' unrealized P&L; default 0.",
    "tiers": "Optional. Tier table: rows of floor, cap, mmr[, maintenance amount]; header row allowed.",
    "taker_fee": "Optional. Taker fee rate to close, added to the maintenance rate (0.0005 = 0.05 %); default 0.",
    "ratio": "Maintenance ratio as a fraction (2.27 = 227 %).",
    "margin_call_level": "Optional. Margin-call level as a fraction; default 1. Text none/なし: no margin call.",
    "loss_cut_level": "Optional. Loss-cut level as a fraction; default 0.5. Text none/なし: no loss-cut.",
    "lang": "Optional. Language of the word: en (default) or ja.",
    "exchange_id": "Preset id, e.g. bitflyer_cfd, gmo_coin_fx (see xlcalc exchanges).",
    "field": "Preset column, e.g. loss_cut_level, margin_call_level, basis, max_leverage, source_url.",
}
_TEXT_ARGS = {"side", "basis", "lang", "exchange_id", "field", "margin_call_level", "loss_cut_level"}
_TABLE_ARGS = {"tiers"}


def _options(name):
    """Converter options: every range as a 2-D array; Excel errors as their text (#N/A)."""
    if name in _TABLE_ARGS:
        return {"ndim": 2, "err_to_str": True}
    options = {"convert": np.array, "ndim": 2, "err_to_str": True}
    if name in _TEXT_ARGS:
        options["empty"] = None  # keep text columns text: numpy would turn NaN into 'nan'
    return options


def _excel_function(**help_overrides):
    """Register ``f`` with xlwings: category, converter options and help for every argument."""

    def register(f):
        names = f.__code__.co_varnames[: f.__code__.co_argcount]
        for name in reversed(names):
            f = arg(name, doc=help_overrides.get(name, _HELP[name]), **_options(name))(f)
        f = ret(np.array)(f)
        return func(category=CATEGORY)(f)

    return register


# -- conversion --------------------------------------------------------------------------
_REQUIRED = object()  # marks a required argument in _evaluate
_TABLE = object()  # marks an argument passed through whole (not broadcast)


def _cells(value):
    """Any argument as a 2-D array, the way Excel delivers a range."""
    if isinstance(value, np.ndarray):
        return value if value.ndim == 2 else np.atleast_2d(value)
    return np.array(value, ndmin=2)  # as xlwings' np.array converter does


def _empty_mask(arr):
    """True where a cell is empty (None, NaN or '')."""
    kind = arr.dtype.kind
    if kind == "f":
        return np.isnan(arr)
    if kind in "US":
        return (arr == "") | (arr == "nan")  # numpy spells an empty cell 'nan' in text ranges
    if kind == "O":
        return pd.isna(arr) | (arr == "")
    return np.zeros(arr.shape, dtype=bool)


def _or_default(value, default):
    """An optional argument with its empty cells replaced by ``default``."""
    if value is None:
        return default
    arr = _cells(value)
    empty = _empty_mask(arr)
    if not empty.any():
        return arr
    if empty.all() and (arr.size == 1 or default is None):
        return default
    if default is None:
        return arr  # the function decides what an empty cell means
    if arr.dtype.kind == "f" and isinstance(default, float):
        return np.where(empty, default, arr)
    filled = arr.astype(object)
    filled[empty] = default
    return filled


def _table(value):
    """A table argument (tier rows) as a list of lists without empty rows, or None."""
    if value is None:
        return None
    rows = value.tolist() if isinstance(value, np.ndarray) else value
    if not isinstance(rows, (list, tuple)):
        rows = [[rows]]
    rows = [list(r) if isinstance(r, (list, tuple)) else [r] for r in rows]
    rows = [r for r in rows if not all(c is None or c == "" or c != c for c in r)]
    return rows or None


def _to_cells(result, shape):
    """The core's result as a 2-D array for Excel: NaN (never reached) becomes an empty cell.

    Classic xlwings writes NaN as an empty cell itself, so the float array goes out as it
    is; xlwings Lite would write #NUM!, so there NaN becomes None.
    """
    result = np.asarray(result)
    if result.shape != shape:
        result = result.reshape(shape) if result.size == math.prod(shape) else np.broadcast_to(result, shape)
    if result.dtype.kind != "f":
        return result.astype(object) if result.dtype.kind in "US" else result
    if not _NAN_AS_NONE:
        return result
    blank = np.isnan(result)
    if not blank.any():
        return result
    cells = result.astype(object)
    cells[blank] = None
    return cells


def _evaluate(compute, args):
    """Call ``compute`` once on whole ranges; on bad input, find the bad cells.

    ``args`` lists ``(name, value, default)`` in API order; ``default`` is ``_REQUIRED``,
    ``_TABLE`` or the value an empty cell stands for.
    """
    values, spread, required = {}, [], []
    for name, value, default in args:
        if default is _TABLE:
            values[name] = _table(value)
            continue
        if default is _REQUIRED:
            values[name] = _cells(value)
            required.append(name)
        else:
            values[name] = _or_default(value, default)
        if isinstance(values[name], np.ndarray):
            spread.append(name)
    try:
        shape = np.broadcast_shapes((1, 1), *(values[n].shape for n in spread))
    except ValueError:
        sizes = ", ".join(f"{n} {values[n].shape[0]}x{values[n].shape[1]}" for n in spread
                          if values[n].size > 1)
        return np.array([[f"{ERROR_PREFIX}ranges must be the same size or single cells: {sizes}"]],
                        dtype=object)
    try:
        return _to_cells(compute(**values), shape)
    except Exception:  # noqa: BLE001 - any failure is reported per cell below
        return _cell_by_cell(compute, values, spread, required, shape)


def _typed(arr):
    """Undo numpy's text conversion of a mixed number/text range (1.5 -> '1.5').

    Only on the slow path, so that an error shows the cell's number, not its text form.
    """
    if arr.dtype.kind not in "US":
        return arr
    numbers = pd.to_numeric(pd.Series(arr), errors="coerce").to_numpy(dtype=float)
    cells = arr.astype(object)
    parsed = ~np.isnan(numbers)
    cells[parsed] = numbers[parsed]
    cells[arr == "nan"] = None
    return cells


def _cell_by_cell(compute, values, spread, required, shape):
    """Slow path: empty required cells first, then bisect until each bad cell is isolated."""
    flat = {n: np.broadcast_to(values[n], shape).ravel() for n in spread}
    flat.update({n: _typed(flat[n]) for n in spread if n not in _TEXT_ARGS})
    out = np.empty(math.prod(shape), dtype=object)
    bad = np.zeros(out.size, dtype=bool)
    for name in required:
        empty = _empty_mask(flat[name]) & ~bad
        out[empty] = f"{ERROR_PREFIX}{name} is empty"
        bad |= empty

    def solve(rows):
        kwargs = dict(values, **{n: flat[n][rows] for n in spread})
        try:
            result = np.asarray(compute(**kwargs))
        except Exception as err:  # noqa: BLE001
            if len(rows) > 1:
                half = len(rows) // 2
                solve(rows[:half])
                solve(rows[half:])
            else:
                # a one-row call: the core's message names the argument and value
                out[rows[0]] = ERROR_PREFIX + str(err).removesuffix(" at row 0")
            return
        out[rows] = _to_cells(result, rows.shape)

    rows = np.flatnonzero(~bad)
    if rows.size:
        solve(rows)
    return out.reshape(shape)


# -- adaptors where the Excel form differs from the core call ---------------------------
def _position_size(capital, risk, entry_price, stop_price, leverage=None):
    """position_size with a leverage column whose empty cells mean "no cap"."""
    if leverage is None:
        return core.position_size(capital, risk, entry_price, stop_price)
    no_cap = _empty_mask(np.asarray(leverage))
    if not no_cap.any():
        return core.position_size(capital, risk, entry_price, stop_price, leverage=leverage)
    capped = core.position_size(capital, risk, entry_price, stop_price,
                                leverage=np.where(no_cap, 1.0, leverage))
    return np.where(no_cap, core.position_size(capital, risk, entry_price, stop_price), capped)


_NONE_WORDS = {TABLES[lang]["none"].lower() for lang in LANGUAGES}


def _level(check, name, value):
    """A level as a float array; the word none/なし means the exchange has no such level."""
    arr = np.asarray(value)
    none = np.zeros(arr.shape, dtype=bool)
    if arr.dtype.kind in "USO":
        words = pd.Series(arr.ravel(), dtype=object).astype(str).str.strip().str.lower()
        none = words.isin(_NONE_WORDS).to_numpy().reshape(arr.shape)
    if none.any():
        arr = arr.astype(object)
        arr[none] = 1.0  # any valid level; replaced by NaN below
    levels = check.number(name, arr)
    return np.where(none, math.nan, levels)


def _status_words(ratio, margin_call_level, loss_cut_level, lang):
    """core.status as the label word in ``lang``."""
    check = Inputs()
    keys = core.status(check.number("ratio", ratio, rule="any"),
                       _level(check, "margin_call_level", margin_call_level),
                       _level(check, "loss_cut_level", loss_cut_level))
    keys, langs = np.broadcast_arrays(np.asarray(keys), np.asarray(lang, dtype=object))
    words = np.empty(keys.shape, dtype=object)
    for code in pd.unique(langs.ravel()):
        lg = str(code).strip().lower()
        if lg not in LANGUAGES:
            raise InputError(f"lang must be one of {', '.join(LANGUAGES)}, got {code!r}")
        chosen = langs == code
        for key in (core.STATUS_OK, core.STATUS_MARGIN_CALL, core.STATUS_LOSS_CUT):
            words[chosen & (keys == key)] = label(key, lg)
    return words


def _preset_values(exchange_id, field):
    """One field of each preset; a blank field is an empty cell."""
    ids, fields = np.broadcast_arrays(np.asarray(exchange_id, dtype=object),
                                      np.asarray(field, dtype=object))
    out = np.empty(ids.shape, dtype=object)
    rows = {}
    for pos in np.ndindex(ids.shape):
        exchange, column = ids[pos], str(fields[pos]).strip()
        if exchange not in rows:
            rows[exchange] = presets.get_preset(str(exchange).strip())
        if column not in rows[exchange]:
            raise InputError(f"field must be one of {', '.join(presets.COLUMNS)}, got {fields[pos]!r}")
        value = rows[exchange][column]
        out[pos] = None if value is None or value == "" or value != value else value
    return out


# -- the functions -----------------------------------------------------------------------
@_excel_function()
def XLC_RATIO(deposit, side, entry_price, price, quantity, leverage, basis=None, fees=None):
    """Maintenance ratio (証拠金維持率): equity / required margin, as a fraction (2.27 = 227 %). Ranges spill."""
    return _evaluate(core.maintenance_ratio, [
        ("deposit", deposit, _REQUIRED), ("side", side, _REQUIRED),
        ("entry_price", entry_price, _REQUIRED), ("price", price, _REQUIRED),
        ("quantity", quantity, _REQUIRED), ("leverage", leverage, _REQUIRED),
        ("basis", basis, "entry"), ("fees", fees, 0.0)])


@_excel_function(level="Loss-cut level as a fraction of required margin (0.5 = 50 %, GMO Coin 0.75).")
def XLC_LOSSCUT_PRICE(deposit, side, entry_price, quantity, leverage, level, basis=None, fees=None):
    """Loss-cut price (ロスカット価格): where the ratio falls to the loss-cut level. Empty if never reached."""
    return _evaluate(core.loss_cut_price, [
        ("deposit", deposit, _REQUIRED), ("side", side, _REQUIRED),
        ("entry_price", entry_price, _REQUIRED), ("quantity", quantity, _REQUIRED),
        ("leverage", leverage, _REQUIRED), ("level", level, _REQUIRED),
        ("basis", basis, "entry"), ("fees", fees, 0.0)])


@_excel_function(level="Optional. Margin-call level as a fraction; default 1 (100 %).")
def XLC_MARGINCALL_PRICE(deposit, side, entry_price, quantity, leverage, level=None, basis=None, fees=None):
    """Margin-call price (追証価格): where the ratio falls to the margin-call level. Empty if never reached."""
    return _evaluate(core.margin_call_price, [
        ("deposit", deposit, _REQUIRED), ("side", side, _REQUIRED),
        ("entry_price", entry_price, _REQUIRED), ("quantity", quantity, _REQUIRED),
        ("leverage", leverage, _REQUIRED), ("level", level, 1.0),
        ("basis", basis, "entry"), ("fees", fees, 0.0)])


@_excel_function(price="Price the margin is computed on: entry price (entry basis) or current price (mark basis), > 0.")
def XLC_REQUIRED_MARGIN(price, quantity, leverage):
    """Required margin (必要証拠金) = price x quantity / leverage."""
    return _evaluate(core.required_margin, [
        ("price", price, _REQUIRED), ("quantity", quantity, _REQUIRED),
        ("leverage", leverage, _REQUIRED)])


@_excel_function()
def XLC_PNL(side, entry_price, price, quantity):
    """Unrealized P&L (評価損益) at price; negative is a loss."""
    return _evaluate(core.unrealized_pnl, [
        ("side", side, _REQUIRED), ("entry_price", entry_price, _REQUIRED),
        ("price", price, _REQUIRED), ("quantity", quantity, _REQUIRED)])


@_excel_function()
def XLC_EQUITY(deposit, side, entry_price, price, quantity, fees=None):
    """Equity (有効証拠金): deposit + unrealized P&L - unpaid fees."""
    return _evaluate(core.equity, [
        ("deposit", deposit, _REQUIRED), ("side", side, _REQUIRED),
        ("entry_price", entry_price, _REQUIRED), ("price", price, _REQUIRED),
        ("quantity", quantity, _REQUIRED), ("fees", fees, 0.0)])


@_excel_function()
def XLC_ADD_DEPOSIT(deposit, side, entry_price, price, quantity, leverage, target=None, basis=None, fees=None):
    """Additional deposit (追加入金額) that brings the ratio at price back to target; 0 if already there."""
    return _evaluate(core.additional_deposit, [
        ("deposit", deposit, _REQUIRED), ("side", side, _REQUIRED),
        ("entry_price", entry_price, _REQUIRED), ("price", price, _REQUIRED),
        ("quantity", quantity, _REQUIRED), ("leverage", leverage, _REQUIRED),
        ("target", target, 1.0), ("basis", basis, "entry"), ("fees", fees, 0.0)])


@_excel_function()
def XLC_CLOSE_QTY(deposit, side, entry_price, price, quantity, leverage, target=None, basis=None, fees=None):
    """Quantity to close (一部決済数量) at price so the rest is back at target; 0 to quantity."""
    return _evaluate(core.close_quantity, [
        ("deposit", deposit, _REQUIRED), ("side", side, _REQUIRED),
        ("entry_price", entry_price, _REQUIRED), ("price", price, _REQUIRED),
        ("quantity", quantity, _REQUIRED), ("leverage", leverage, _REQUIRED),
        ("target", target, 1.0), ("basis", basis, "entry"), ("fees", fees, 0.0)])


@_excel_function()
def XLC_BANKRUPTCY_PRICE(deposit, side, entry_price, quantity, fees=None):
    """Bankruptcy price (破産価格): where equity reaches zero. Empty if never reached."""
    return _evaluate(core.bankruptcy_price, [
        ("deposit", deposit, _REQUIRED), ("side", side, _REQUIRED),
        ("entry_price", entry_price, _REQUIRED), ("quantity", quantity, _REQUIRED),
        ("fees", fees, 0.0)])


@_excel_function()
def XLC_SHORTFALL(deposit, side, entry_price, fill_price, quantity, fees=None):
    """Shortfall (不足金): negative balance owed when closed on a gap at fill_price; 0 if none."""
    return _evaluate(core.shortfall, [
        ("deposit", deposit, _REQUIRED), ("side", side, _REQUIRED),
        ("entry_price", entry_price, _REQUIRED), ("fill_price", fill_price, _REQUIRED),
        ("quantity", quantity, _REQUIRED), ("fees", fees, 0.0)])


@_excel_function(
    entry_price="Planned entry price, > 0.",
    leverage="Optional. If given, caps the size at capital x leverage / entry_price; empty: no cap.")
def XLC_POSITION_SIZE(capital, risk, entry_price, stop_price, leverage=None):
    """Position size (許容損失からの数量) that loses only risk x capital if stopped at stop_price."""
    return _evaluate(_position_size, [
        ("capital", capital, _REQUIRED), ("risk", risk, _REQUIRED),
        ("entry_price", entry_price, _REQUIRED), ("stop_price", stop_price, _REQUIRED),
        ("leverage", leverage, None)])


@_excel_function()
def XLC_LIQ_PRICE(wallet_balance, side, entry_price, quantity, mmr, maintenance_amount=None,
                  other_maintenance=None, other_pnl=None, tiers=None, taker_fee=None):
    """Liquidation price (清算価格) of a USDⓈ-M perpetual (maintenance-margin-rate model). Empty if never reached."""
    tiers = _table(tiers)
    return _evaluate(perpetual.liquidation_price, [
        ("wallet_balance", wallet_balance, _REQUIRED), ("side", side, _REQUIRED),
        ("entry_price", entry_price, _REQUIRED), ("quantity", quantity, _REQUIRED),
        ("mmr", mmr, _REQUIRED if tiers is None else None),
        ("maintenance_amount", maintenance_amount, 0.0),
        ("other_maintenance", other_maintenance, 0.0), ("other_pnl", other_pnl, 0.0),
        ("tiers", tiers, _TABLE), ("taker_fee", taker_fee, 0.0)])


@_excel_function()
def XLC_STATUS(ratio, margin_call_level=None, loss_cut_level=None, lang=None):
    """Status word for a maintenance ratio: OK / Margin call / Loss-cut (正常 / 追証 / ロスカット)."""
    return _evaluate(_status_words, [
        ("ratio", ratio, _REQUIRED), ("margin_call_level", margin_call_level, 1.0),
        ("loss_cut_level", loss_cut_level, 0.5), ("lang", lang, "en")])


@_excel_function()
def XLC_PRESET(exchange_id, field):
    """A value from the exchange presets (levels as fractions); empty where the source gives none."""
    return _evaluate(_preset_values, [
        ("exchange_id", exchange_id, _REQUIRED), ("field", field, _REQUIRED)])
