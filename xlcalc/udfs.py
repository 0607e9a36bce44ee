"""Excel functions (SPEC §4): the Python API as xlwings UDFs named ``XLC_*``.

A thin client of the core: this module converts Excel ranges to arrays, calls the core
once for the whole range and maps errors to cell text. It holds no margin math, and no
argument list of its own: each function's arguments are the core function's
(``inspect.signature``: order, required or optional), and their help comes from
:mod:`xlcalc.arguments`. An argument added to the core reaches Excel by itself.

* Every argument takes a single cell or a range; arguments broadcast against each other
  (a column of prices with one deposit cell), and the result spills: one formula for a
  whole column. One cell with single-cell arguments takes a scalar fast path.
* A bad cell makes that cell of the result a text starting with ``#VALUE!`` that names
  the argument and the value; the other rows still compute. An empty cell in an optional
  argument means the core's default; in a required one it is reported as empty.
* A level that can never be reached gives an empty cell: None in an object array, which
  classic xlwings, xlwings Lite and xlwings Server all write as an empty cell (Lite and
  Server would write NaN as #NUM!).

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
       [None]], dtype=object)
>>> XLC_STATUS(np.array([[2.27, 0.8, 0.4]]), lang="ja")
array([['正常', '追証', 'ロスカット']], dtype=object)
"""

from __future__ import annotations

import inspect
import math

import numpy as np
import pandas as pd
from xlwings import arg, func, ret

from . import arguments, core, loans, perpetual, planning, presets
from ._inputs import EXPECTED, InputError, Inputs, input_error
from .labels import LANGUAGES, TABLES, label

__all__ = [
    "XLC_RATIO",
    "XLC_LOSSCUT_PRICE",
    "XLC_MARGINCALL_PRICE",
    "XLC_REQUIRED_MARGIN",
    "XLC_PNL",
    "XLC_EQUITY",
    "XLC_ADD_DEPOSIT",
    "XLC_CLOSE_QTY",
    "XLC_BANKRUPTCY_PRICE",
    "XLC_SHORTFALL",
    "XLC_POSITION_SIZE",
    "XLC_LIQ_PRICE",
    "XLC_STATUS",
    "XLC_PRESET",
    # crypto-backed loans and the leverage planner (SPEC §10)
    "XLC_LTV",
    "XLC_LTV_PRICE",
    "XLC_COLLATERAL_TO_ADD",
    "XLC_REPAY_TO_TARGET",
    "XLC_LOAN_SHORTFALL",
    "XLC_PLAN",
]

CATEGORY = "xlcalc"
ERROR_PREFIX = "#VALUE! "
_EMPTY = inspect.Parameter.empty
_POSITIONAL = inspect.Parameter.POSITIONAL_OR_KEYWORD


# -- one Excel function: the core function it calls and how its arguments behave ---------
class _Function:
    """What ``_evaluate`` needs to know about one Excel function, derived from a signature."""

    __slots__ = (
        "compute",
        "names",
        "required",
        "defaults",
        "tables",
        "numbers",
        "empty_with",
        "signature",
        "rows",
    )

    def __init__(self, compute, parameters, empty_with, rows=None):
        self.compute = compute
        self.names = tuple(p.name for p in parameters)
        self.required = frozenset(p.name for p in parameters if p.default is _EMPTY)
        self.defaults = {p.name: p.default for p in parameters if p.default is not _EMPTY}
        self.tables = frozenset(n for n in self.names if arguments.kind(n) == "table")
        self.numbers = frozenset(n for n in self.names if arguments.kind(n) == "number")
        self.empty_with = empty_with  # {required argument: the argument that lets it be empty}
        self.rows = rows  # for a function whose result is a table: the argument giving its rows
        self.signature = inspect.Signature(
            [
                inspect.Parameter(p.name, _POSITIONAL, default=_EMPTY if p.default is _EMPTY else None)
                for p in parameters
            ]
        )

    def arguments(self, args, kwargs):
        """Positional and keyword arguments as one tuple in signature order."""
        if not kwargs:
            return args
        bound = self.signature.bind(*args, **kwargs)
        return tuple(bound.arguments.get(n) for n in self.names)


def _options(name):
    """Converter options: every range as a 2-D array; Excel errors as their text (#N/A)."""
    kind = arguments.kind(name)
    if kind == "table":
        return {"ndim": 2, "err_to_str": True}
    options = {"convert": np.array, "ndim": 2, "err_to_str": True}
    if kind != "number":
        options["empty"] = None  # keep text columns text: numpy would turn NaN into 'nan'
    return options


def _excel_function(name, api, doc, *, compute=None, extra=(), empty_with=None, rows=None):
    """The Excel function ``name``: ``api``'s arguments (plus ``extra``), registered with xlwings.

    ``compute`` (default ``api``) is called with the cells as keyword arguments; an empty
    optional cell is left out, so the core's own default applies. With ``rows`` (an
    argument name) the result is one table whose rows that argument's range gives.
    """
    parameters = [*inspect.signature(api).parameters.values(), *extra]
    spec = _Function(compute or api, parameters, empty_with or {}, rows)
    evaluate = _evaluate if rows is None else _evaluate_table

    def udf(*args, **kwargs):
        return evaluate(spec, spec.arguments(args, kwargs))

    udf.__name__ = udf.__qualname__ = name
    udf.__doc__ = doc
    udf.__module__ = __name__
    udf.__signature__ = spec.signature
    f = udf
    for p in reversed(parameters):
        text = arguments.help_text(p.name, "en", function=api.__name__, default=p.default)
        f = arg(p.name, doc=text, **_options(p.name))(f)
    f = ret(np.array)(f)
    return func(category=CATEGORY)(f)


# -- conversion --------------------------------------------------------------------------
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


def _filled(arr, empty, default):
    """``arr`` with its empty cells replaced by ``default``."""
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
    """The core's result as a 2-D array for Excel; NaN (never reached) becomes None.

    None is an empty cell in classic xlwings, Lite and Server alike (NaN is empty only in
    classic; Lite and Server write it as #NUM!).
    """
    result = np.asarray(result)
    if result.shape != shape:
        result = result.reshape(shape) if result.size == math.prod(shape) else np.broadcast_to(result, shape)
    if result.dtype.kind != "f":
        return result.astype(object) if result.dtype.kind in "US" else result
    blank = np.isnan(result)
    if not blank.any():
        return result
    cells = result.astype(object)
    cells[blank] = None
    return cells


def _one_cell(result):
    """A scalar result as a 1x1 array for Excel (None for NaN)."""
    if isinstance(result, np.ndarray):
        result = result.item() if result.size == 1 else result
    if isinstance(result, float):
        if result != result:
            return np.array([[None]], dtype=object)
        return np.array([[result]], dtype=float)
    return np.array([[result]], dtype=object)


def _error_text(err):
    """The cell text for an error of a one-row call, said from the InputError's parts."""
    if isinstance(err, InputError) and err.argument is not None and err.expected in EXPECTED:
        return ERROR_PREFIX + str(input_error(err.argument, err.expected, err.value))
    return ERROR_PREFIX + str(err)


# -- evaluation ----------------------------------------------------------------------------
def _evaluate(spec, args):
    """One cell: the scalar fast path; otherwise the whole ranges in one core call."""
    kwargs, missing = {}, None
    for name, value in zip(spec.names, args):
        if type(value) is np.ndarray:
            if value.size != 1:
                return _evaluate_ranges(spec, args)
            value = value.item()
        elif not (value is None or isinstance(value, (str, float, int, np.generic))):
            return _evaluate_ranges(spec, args)  # a list, a Series ...
        if value is None or value != value or value == "":
            if name in spec.required:
                if name in spec.empty_with:  # only with its partner argument (mmr with tiers)
                    return _evaluate_ranges(spec, args)
                missing = missing or name  # reported unless a later argument is a range
            continue  # the core's default
        kwargs[name] = value
    if missing:
        return np.array([[f"{ERROR_PREFIX}{missing} is empty"]], dtype=object)
    try:
        return _one_cell(spec.compute(**kwargs))
    except Exception as err:  # noqa: BLE001 - every failure becomes the cell's text
        return np.array([[_error_text(err)]], dtype=object)


def _evaluate_ranges(spec, args):
    """Call the core once on whole ranges; on bad input, find the bad cells.

    An optional argument whose core default is None (no cap, no rounding ...) cannot be
    filled in: rows with it empty and rows with it given are computed as separate groups.
    """
    args = tuple(args) + (None,) * (len(spec.names) - len(args))
    given = dict(zip(spec.names, args))
    values, spread, required, grouped = {}, [], [], []
    for name in spec.tables:
        table = _table(given[name])
        if table is not None:
            values[name] = table
    for name in spec.names:
        value = given[name]
        if name in spec.tables or (value is None and name not in spec.required):
            continue
        arr = _cells(value)
        if arr.size == 1:
            cell = arr.item()
            if not (cell is None or cell != cell or cell == ""):
                values[name] = cell  # a single cell as a scalar: some settings (mm_basis) must be one
                continue
            if name not in spec.required:
                continue  # the core's default
        if name in spec.required:
            partner = spec.empty_with.get(name)
            if partner is None or partner not in values:
                required.append(name)  # empty cells are found only if the core refuses the input
            elif _empty_mask(arr).all():
                values[name] = None  # the partner makes it unused (mmr with tiers)
                continue
        else:
            empty = _empty_mask(arr)
            if empty.any():
                default = spec.defaults[name]
                if default is None:
                    grouped.append(name)
                else:
                    arr = _filled(arr, empty, default)
        values[name] = arr
        spread.append(name)
    try:
        shape = np.broadcast_shapes((1, 1), *(values[n].shape for n in spread))
    except ValueError:
        sizes = ", ".join(
            f"{n} {values[n].shape[0]}x{values[n].shape[1]}" for n in spread if values[n].size > 1
        )
        return np.array(
            [[f"{ERROR_PREFIX}ranges must be the same size or single cells: {sizes}"]], dtype=object
        )
    if not grouped:
        return _run(spec, values, spread, required, shape)
    return _run_groups(spec, values, spread, required, grouped, shape)


def _run(spec, values, spread, required, shape):
    try:
        return _to_cells(spec.compute(**values), shape)
    except Exception:  # noqa: BLE001 - any failure is reported per cell below
        return _cell_by_cell(spec, values, spread, required, shape)


def _run_groups(spec, values, spread, required, grouped, shape):
    """Rows grouped by which of ``grouped`` are empty; each group without its empty ones."""
    flat = {n: np.broadcast_to(values[n], shape).ravel() for n in spread}
    empty = np.stack([_empty_mask(flat[n]) for n in grouped])
    patterns, which = np.unique(empty, axis=1, return_inverse=True)
    out = np.empty(math.prod(shape), dtype=object)
    for k, pattern in enumerate(patterns.T):
        rows = np.flatnonzero(which.ravel() == k)
        left_out = {n for n, blank in zip(grouped, pattern) if blank}
        part = {n: v for n, v in values.items() if n not in left_out}
        part.update({n: flat[n][rows].reshape(-1, 1) for n in spread if n not in left_out})
        out[rows] = _run(
            spec, part, [n for n in spread if n not in left_out], required, (rows.size, 1)
        ).ravel()
    return out.reshape(shape)


def _evaluate_table(spec, args):
    """A function whose result is one table (XLC_PLAN): single cells in, one core call.

    Only ``spec.rows`` may be a range (the table's rows). If the core refuses a row, the
    other rows are still computed, each alone, and the bad row reads its error.
    """
    args = tuple(args) + (None,) * (len(spec.names) - len(args))
    kwargs = {}
    for name, value in zip(spec.names, args):
        cells = None if value is None else _cells(value)
        if name == spec.rows and cells is not None and cells.size > 1:
            kwargs[name] = _typed(cells.ravel()).tolist()
            continue
        if cells is not None and cells.size > 1:
            return np.array(
                [
                    [
                        f"{ERROR_PREFIX}{name} must be a single cell, got a "
                        f"{cells.shape[0]}x{cells.shape[1]} range"
                    ]
                ],
                dtype=object,
            )
        value = None if cells is None else cells.item()
        if value is None or value != value or value == "":
            if name in spec.required:
                return np.array([[f"{ERROR_PREFIX}{name} is empty"]], dtype=object)
            continue  # the core's default
        if arguments.kind(name) == "level" and str(value).strip().lower() in _NONE_WORDS:
            value = math.nan  # the venue has no such level
        kwargs[name] = value
    try:
        return spec.compute(**kwargs)
    except Exception as err:  # noqa: BLE001 - said in the cells below
        rows = kwargs.get(spec.rows)
        if not isinstance(rows, list):
            return np.array([[_error_text(err)]], dtype=object)
    lines = []
    for row in rows:
        if row is None or row != row or row == "":  # an empty cell of the rows' range
            lines.append(np.array([[f"{ERROR_PREFIX}{spec.rows} is empty"]], dtype=object))
            continue
        try:
            lines.append(spec.compute(**dict(kwargs, **{spec.rows: [row]})))
        except Exception as err:  # noqa: BLE001
            lines.append(np.array([[_error_text(err)]], dtype=object))
    good = [t for t in lines if t.shape[0] > 1]
    if not good:
        return lines[0]
    out = np.full((len(lines) + 1, good[0].shape[1]), None, dtype=object)
    out[0] = good[0][0]
    for i, t in enumerate(lines, start=1):
        out[i, : t.shape[1]] = t[-1]
    return out


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


def _cell_by_cell(spec, values, spread, required, shape):
    """Slow path: empty required cells first, then bisect until each bad cell is isolated."""
    flat = {n: np.broadcast_to(values[n], shape).ravel() for n in spread}
    flat.update({n: _typed(flat[n]) for n in spread if n in spec.numbers})
    out = np.empty(math.prod(shape), dtype=object)
    bad = np.zeros(out.size, dtype=bool)
    for name in (n for n in required if n in flat):  # (a single filled cell went in as a scalar)
        empty = _empty_mask(flat[name]) & ~bad
        out[empty] = f"{ERROR_PREFIX}{name} is empty"
        bad |= empty

    def solve(rows):
        if len(rows) == 1:  # one row: scalars, which every argument of the core accepts
            kwargs = dict(values, **{n: flat[n][rows[0]] for n in spread})
        else:
            kwargs = dict(values, **{n: flat[n][rows] for n in spread})
        try:
            result = np.asarray(spec.compute(**kwargs))
        except Exception as err:  # noqa: BLE001
            if len(rows) > 1:
                half = len(rows) // 2
                solve(rows[:half])
                solve(rows[half:])
            else:
                out[rows[0]] = _error_text(err)
            return
        out[rows] = _to_cells(result, rows.shape)

    rows = np.flatnonzero(~bad)
    if rows.size:
        solve(rows)
    return out.reshape(shape)


# -- adaptors where the Excel form differs from the core call ---------------------------
_NONE_WORDS = {TABLES[lang]["none"].lower() for lang in LANGUAGES}


def _without_none(value):
    """(``value`` with the word none/なし as 1.0, any valid level; where it said none)."""
    arr = np.asarray(value)
    none = np.zeros(arr.shape, dtype=bool)
    if arr.dtype.kind in "USO":
        words = pd.Series(arr.ravel(), dtype=object).astype(str).str.strip().str.lower()
        none = words.isin(_NONE_WORDS).to_numpy().reshape(arr.shape)
    if none.any():
        arr = arr.astype(object)
        arr[none] = 1.0
    return arr, none


def _level(check, name, value):
    """A level as a float array; the word none/なし means the exchange has no such level."""
    arr, none = _without_none(value)
    return np.where(none, math.nan, check.number(name, arr))


def _status_words(ratio, lang="en", **levels):
    """core.status as the label word in ``lang``; levels may be the word none/なし."""
    check = Inputs()
    keys = core.status(
        check.number("ratio", ratio, rule="any"), **{n: _level(check, n, v) for n, v in levels.items()}
    )
    keys, langs = np.broadcast_arrays(np.asarray(keys), np.asarray(lang, dtype=object))
    words = np.empty(keys.shape, dtype=object)
    for code in pd.unique(langs.ravel()):
        lg = str(code).strip().lower()
        if lg not in LANGUAGES:
            raise InputError(f"lang must be one of {', '.join(LANGUAGES)}, got {code!r}")
        chosen = langs == code
        for key in pd.unique(keys[chosen].ravel()):
            words[chosen & (keys == key)] = label(key, lg)
    return words


_LEVEL_FIELDS = {"margin_call_level", "loss_cut_level"}


def _none_level(api):
    """``api`` whose ``level`` cell may say none/なし (the exchange has no such level): an empty
    result for it, as ``xlcalc calc`` shows "none" (an empty cell stays the default level)."""

    def compute(**kwargs):
        if "level" not in kwargs:
            return api(**kwargs)
        level, none = _without_none(kwargs["level"])
        if not none.any():
            return api(**kwargs)
        return np.where(none, np.nan, api(**{**kwargs, "level": level}))  # the core checks the rest

    return compute


def _preset_values(exchange_id, field):
    """One field of each preset; a blank field is an empty cell, a blank level the word none
    (the venue has no such level: XLC_STATUS and the trigger prices read it so, where an empty
    level cell would be their default)."""
    ids, fields = np.broadcast_arrays(np.asarray(exchange_id, dtype=object), np.asarray(field, dtype=object))
    out = np.empty(ids.shape, dtype=object)
    rows = {}
    for pos in np.ndindex(ids.shape):
        exchange, column = ids[pos], str(fields[pos]).strip()
        if exchange not in rows:
            rows[exchange] = presets.get_preset(str(exchange).strip())
        if column not in rows[exchange]:
            raise InputError(f"field must be one of {', '.join(presets.COLUMNS)}, got {fields[pos]!r}")
        value = rows[exchange][column]
        blank = value is None or value == "" or value != value
        out[pos] = ("none" if column in _LEVEL_FIELDS else None) if blank else value
    return out


def _plan_table(lang=None, **kwargs):
    """leverage_plan as one table: a header row, then effective leverage and the plan's columns.

    The header is the API's column names, or labels in ``lang``.
    """
    plan = planning.leverage_plan(**kwargs)
    keys = [plan.index.name, *plan.columns]
    if lang is not None:
        lg = str(lang).strip().lower()
        if lg not in LANGUAGES:
            raise InputError(f"lang must be one of {', '.join(LANGUAGES)}, got {lang!r}")
        words = TABLES[lg]

        def word(key):  # a move has no label of its own: the price's, with "distance %"
            if key in words:
                return words[key]
            return f"{words[key.removesuffix('_move') + '_price']} ({words['distance_pct']})"

        keys = [word(k) for k in keys]
    body = np.column_stack([plan.index.to_numpy(dtype=float), plan.to_numpy(dtype=float)])
    return np.vstack([np.array([keys], dtype=object), _to_cells(body, body.shape).astype(object)])


_LANG = inspect.Parameter("lang", _POSITIONAL, default="en")
_HEADER_LANG = inspect.Parameter("lang", _POSITIONAL, default=None)

# -- the functions -----------------------------------------------------------------------
XLC_RATIO = _excel_function(
    "XLC_RATIO",
    core.maintenance_ratio,
    "Maintenance ratio (証拠金維持率): equity / required margin, as a fraction (2.27 = 227 %). Ranges spill.",
)
XLC_LOSSCUT_PRICE = _excel_function(
    "XLC_LOSSCUT_PRICE",
    core.loss_cut_price,
    "Loss-cut price (ロスカット価格): where the ratio falls to the loss-cut level. Empty if never reached "
    "or the level is none.",
    compute=_none_level(core.loss_cut_price),
)
XLC_MARGINCALL_PRICE = _excel_function(
    "XLC_MARGINCALL_PRICE",
    core.margin_call_price,
    "Margin-call price (追証価格): where the ratio falls to the margin-call level. Empty if never "
    "reached or the level is none.",
    compute=_none_level(core.margin_call_price),
)
XLC_REQUIRED_MARGIN = _excel_function(
    "XLC_REQUIRED_MARGIN", core.required_margin, "Required margin (必要証拠金) = price x quantity / leverage."
)
XLC_PNL = _excel_function(
    "XLC_PNL", core.unrealized_pnl, "Unrealized P&L (評価損益) at price; negative is a loss."
)
XLC_EQUITY = _excel_function(
    "XLC_EQUITY", core.equity, "Equity (有効証拠金): deposit + unrealized P&L - unpaid fees."
)
XLC_ADD_DEPOSIT = _excel_function(
    "XLC_ADD_DEPOSIT",
    core.additional_deposit,
    "Additional deposit (追加入金額) that brings the ratio at price back to target; 0 if already there.",
)
XLC_CLOSE_QTY = _excel_function(
    "XLC_CLOSE_QTY",
    core.close_quantity,
    "Quantity to close (一部決済数量) at price so the rest is back at target; 0 to quantity.",
)
XLC_BANKRUPTCY_PRICE = _excel_function(
    "XLC_BANKRUPTCY_PRICE",
    core.bankruptcy_price,
    "Bankruptcy price (破産価格): where equity reaches zero. Empty if never reached.",
)
XLC_SHORTFALL = _excel_function(
    "XLC_SHORTFALL",
    core.shortfall,
    "Shortfall (不足金): negative balance owed when closed on a gap at fill_price; 0 if none.",
)
XLC_POSITION_SIZE = _excel_function(
    "XLC_POSITION_SIZE",
    core.position_size,
    "Position size (許容損失からの数量) that loses only risk x capital if stopped at stop_price.",
)
XLC_LIQ_PRICE = _excel_function(
    "XLC_LIQ_PRICE",
    perpetual.liquidation_price,
    "Liquidation price (清算価格) of a USDⓈ-M perpetual (maintenance-margin-rate model). "
    "Empty if never reached.",
    empty_with={"mmr": "tiers"},
)
XLC_STATUS = _excel_function(
    "XLC_STATUS",
    core.status,
    "Status word for a maintenance ratio: OK / Margin call / Loss-cut (正常 / 追証 / ロスカット).",
    compute=_status_words,
    extra=[_LANG],
)
XLC_PRESET = _excel_function(
    "XLC_PRESET",
    _preset_values,
    "A value from the exchange presets (levels as fractions); empty where the source gives none.",
)

# crypto-backed loans and the leverage planner (SPEC §10)
XLC_LTV = _excel_function(
    "XLC_LTV",
    loans.loan_ltv,
    "Loan-to-value (LTV) of a crypto-backed loan: (loan + interest) / (collateral x price), a fraction.",
)
XLC_LTV_PRICE = _excel_function(
    "XLC_LTV_PRICE",
    loans.ltv_price,
    "Collateral price at which the LTV reaches level (margin call, liquidation). Empty if never reached.",
)
XLC_COLLATERAL_TO_ADD = _excel_function(
    "XLC_COLLATERAL_TO_ADD",
    loans.collateral_to_add,
    "Collateral (coins) to add so the LTV at price is back at target; 0 if already below.",
)
XLC_REPAY_TO_TARGET = _excel_function(
    "XLC_REPAY_TO_TARGET",
    loans.repay_to_target,
    "Repayment that brings the LTV at price back to target; 0 if already below.",
)
XLC_LOAN_SHORTFALL = _excel_function(
    "XLC_LOAN_SHORTFALL",
    loans.loan_shortfall,
    "Debt left after the collateral is liquidated at fill_price (with the liquidation fee); 0 if none.",
)
XLC_PLAN = _excel_function(
    "XLC_PLAN",
    planning.leverage_plan,
    "Leverage plan: for each effective leverage (a range: the rows) the quantity, ratio, trigger prices "
    "and moves from entry. Spills a table with a header row.",
    compute=_plan_table,
    extra=[_HEADER_LANG],
    rows="effective_leverage",
)
