"""Argument checking and ufunc-like broadcasting shared by every core function.

Each public function builds an :class:`Inputs`, asks it for its arguments as float
arrays (validated, with the argument name and the first bad row in the error), does its
arithmetic on plain numpy arrays, and hands the result back through :meth:`Inputs.out`,
which returns a float for scalar input, an ndarray for arrays and a Series (with the
caller's index) when any argument was a Series.
"""

from __future__ import annotations

import contextvars
import math
import numbers
import sys
import unicodedata

import numpy as np

from .errors import InputError  # its home has no numpy; still importable from here
from .labels import EN as _WORDS

# Long arrays are computed in blocks of this many rows (see core._in_blocks); while a block
# runs, this holds its first row so that errors still name the row of the whole array.
BLOCK_ROWS = 1 << 16
ROW_OFFSET = contextvars.ContextVar("xlcalc_row_offset", default=0)


# What an argument must be, as the English error message says it: the expect_* words of
# xlcalc.labels (their one home, next to the Japanese ones), keyed without the prefix.
EXPECTED = {key[len("expect_") :]: text for key, text in _WORDS.items() if key.startswith("expect_")}


# rule name -> (test of the minimum, test of the maximum, key of EXPECTED). Each test is
# False for NaN, so a NaN anywhere fails. "below_one" is for rates that must stay under
# 100 %, such as a maintenance-margin rate (mmr=1.5 would mean 150 % of the notional).
RULES = {
    "positive": (lambda lo: lo > 0, lambda hi: hi < math.inf, "positive"),
    "nonnegative": (lambda lo: lo >= 0, lambda hi: hi < math.inf, "nonnegative"),
    "any": (lambda lo: lo > -math.inf, lambda hi: hi < math.inf, "finite"),
    "below_one": (lambda lo: lo >= 0, lambda hi: hi < 1, "below_one"),
}


def input_error(name, expected, value, row=None, where=""):
    """The InputError for ``name`` not being ``EXPECTED[expected]``."""
    words = {"argument": name, "expected": EXPECTED[expected], "value": value, "where": where}
    message = _WORDS["error_must_be"].format(**words)
    return InputError(message, argument=name, expected=expected, value=value, row=row)


# Compared after NFKC (ＢＵＹ is buy, ｼｮｰﾄ is ショート) and lower case; 建 words are how Japanese
# brokers write an opening trade (買建 / 新規買: a long position).
_LONG_WORDS = {"1", "+1", "1.0", "+1.0", "long", "buy", "b", "l", "買い", "買", "ロング"}
_LONG_WORDS |= {"買建", "買建て", "買い建", "買い建て", "新規買", "新規買い"}
_SHORT_WORDS = {"-1", "-1.0", "short", "sell", "s", "売り", "売", "ショート"}
_SHORT_WORDS |= {"売建", "売建て", "売り建", "売り建て", "新規売", "新規売り"}
_MINUS_SIGNS = str.maketrans({"\u2212": "-"})  # − (the math minus, which NFKC keeps) in −1
_ENTRY_WORDS = {"entry", "建値", "建玉", "entry price"}
_MARK_WORDS = {"mark", "時価", "current", "mark price"}


def parse_side_word(value) -> float:
    """+1.0 for a long word or number, -1.0 for a short one, NaN when not a side."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value) if value in (1, -1) else math.nan
    word = unicodedata.normalize("NFKC", str(value)).strip().lower().translate(_MINUS_SIGNS)
    if word in _LONG_WORDS:
        return 1.0
    if word in _SHORT_WORDS:
        return -1.0
    return math.nan


def parse_basis_word(value) -> float:
    """1.0 for mark basis, 0.0 for entry basis, NaN when not a basis."""
    word = str(value).strip().lower()
    if word in _ENTRY_WORDS:
        return 0.0
    if word in _MARK_WORDS:
        return 1.0
    return math.nan


def _pandas():
    """The pandas module if the caller has imported it, else None.

    xlcalc never imports pandas to check an argument: a caller who has not imported it
    cannot have passed a Series (this keeps ``import xlcalc`` and the CLI fast, #13).
    """
    return sys.modules.get("pandas")


def _rows(shape):
    return shape[0] if len(shape) == 1 else "x".join(map(str, shape))


class Inputs:
    """Collects the arguments of one call; see the module docstring.

    Series arguments must share one index: combining them by position would pair the
    wrong rows, and aligning by label would invent NaN rows, so different indexes raise an
    :class:`InputError` naming both arguments (align them first: ``a, b = a.align(b)``).
    Arrays must have one length (or be a single number); otherwise the error names both
    arguments and their lengths.
    """

    __slots__ = ("index", "index_name", "scalar", "shape", "shape_name")

    def __init__(self):
        self.index = None
        self.index_name = None
        self.scalar = True
        self.shape = None
        self.shape_name = None

    # -- helpers -----------------------------------------------------------------
    def _raw(self, value, name=None):
        pd = _pandas()
        if pd is not None and isinstance(value, pd.Series):
            if self.index is None:
                self.index, self.index_name = value.index, name
            elif value.index is not self.index and not value.index.equals(self.index):
                raise InputError(
                    f"{name} and {self.index_name} are Series with different indexes; align them "
                    f"first (e.g. {name}, {self.index_name} = {name}.align({self.index_name}))",
                    argument=name,
                    expected="same_index",
                    value=None,
                )
            self.scalar = False
            arr = value.to_numpy()
            self._check_shape(name, arr.shape)
            return arr
        if isinstance(value, (np.ndarray, list, tuple)) or (pd is not None and isinstance(value, pd.Index)):
            self.scalar = False
            arr = np.asarray(value)
            self._check_shape(name, arr.shape)
            return arr
        return value

    def _check_shape(self, name, shape):
        if self.shape is None:
            self.shape, self.shape_name = shape, name
            return
        if shape == self.shape:
            return
        try:
            self.shape = np.broadcast_shapes(self.shape, shape)
        except ValueError:
            raise InputError(
                f"{name} has {_rows(shape)} rows but {self.shape_name} has {_rows(self.shape)}: "
                "arrays must have the same length (or be a single number)",
                argument=name,
                expected="same_length",
                value=_rows(shape),
            ) from None

    def _row(self, flat_pos: int, shape):
        """The row (index label, position, or position tuple) of a flat position; None for a scalar."""
        if shape == ():
            return None
        if self.index is not None and len(shape) == 1 and len(self.index) == shape[0]:
            return self.index[flat_pos]
        pos = np.unravel_index(flat_pos, shape)
        if len(shape) == 1:
            return int(pos[0]) + ROW_OFFSET.get()
        return tuple(int(p) for p in pos)

    def _fail(self, name, arr, bad_mask, expected, original=None):
        flat = np.flatnonzero(np.asarray(bad_mask).ravel())[0]
        shown = (
            (original if original is not None else arr).ravel()[flat]
            if np.ndim(arr)
            else (original if original is not None else arr)
        )
        shown = shown.item() if isinstance(shown, (np.generic, np.ndarray)) else shown
        row = self._row(flat, np.shape(arr))
        where = "" if row is None else f" at position {row}" if isinstance(row, tuple) else f" at row {row!r}"
        raise input_error(name, expected, shown, row, where)

    def _to_float(self, name, raw):
        if isinstance(raw, (np.ndarray, np.generic)) and raw.dtype.kind in "mM":
            # numpy would turn a date into days since 1970: a price of 18,262 is worse than an error
            shown = raw.astype(object)
            self._fail(name, raw, np.ones(np.shape(raw), dtype=bool), "number", shown)
        try:
            return np.asarray(raw, dtype=float)
        except (TypeError, ValueError):
            arr = np.asarray(raw, dtype=object)
            ok = np.empty(arr.shape, dtype=bool)
            for i, v in enumerate(arr.ravel()):
                try:
                    float(v)
                    ok.flat[i] = (not isinstance(v, str) or _is_number_text(v)) and not isinstance(
                        v, (np.datetime64, np.timedelta64)
                    )
                except (TypeError, ValueError):
                    ok.flat[i] = False
            if ok.all():  # a date among numbers: float() took it, refuse it here
                return np.asarray(arr, dtype=float)
            self._fail(name, arr, ~ok, "number")

    # -- public ------------------------------------------------------------------
    def number(self, name, value, *, rule="positive"):
        """A finite float (array) obeying ``rule``, a key of :data:`RULES`.

        Scalars come back as ``np.float64`` so that a division by zero gives inf/NaN (then
        "never reached") like the array form, not a Python ZeroDivisionError."""
        if type(value) is float or type(value) is int:  # fast path: a plain number, no function calls
            x = np.float64(value)
            if (x > 0 if rule == "positive" else x >= 0 if rule != "any" else x > -math.inf) and x < (
                1.0 if rule == "below_one" else math.inf
            ):
                return x
        lower, upper, _ = RULES[rule]
        raw = self._raw(value, name)
        if isinstance(raw, str) or raw is None or isinstance(raw, bool):
            if isinstance(raw, str) and _is_number_text(raw):
                raw = float(raw)
            else:
                raise input_error(name, "number", raw)
        arr = self._to_float(name, raw)
        if arr.size == 0:
            return arr
        lo, hi = _min_max(arr)  # NaN propagates into both, so one test each
        if lower(lo) and upper(hi):
            return arr if arr.ndim else arr[()]
        with np.errstate(invalid="ignore"):
            bad = ~(lower(arr) & upper(arr))
        self._fail(name, arr, bad, RULES[rule][2], raw)
        raise AssertionError("unreachable")

    def ratio(self, name, value):
        """A float (array) where NaN and None are allowed (a figure not known); for levels and ratios."""
        raw = self._raw(value, name)
        if raw is None:
            return np.float64(math.nan)
        if isinstance(raw, str) or isinstance(raw, bool):
            if isinstance(raw, str) and _is_number_text(raw):
                return np.float64(raw)
            raise input_error(name, "number", raw)
        if isinstance(raw, np.ndarray) and raw.dtype == object:
            raw = np.where(np.equal(raw, None), math.nan, raw)
        arr = self._to_float(name, raw)
        return arr if arr.ndim else arr[()]

    def side(self, name, value):
        """+1.0 / -1.0 (array) from numbers or words (long/short, buy/sell, 買い/売り...)."""
        raw = self._raw(value, name)
        if np.ndim(raw) == 0:
            s = parse_side_word(raw.item() if isinstance(raw, np.generic) else raw)
            if math.isnan(s):
                raise input_error(name, "side", raw)
            return s
        arr = np.asarray(raw)
        if arr.dtype.kind in "iuf":  # fast path: no per-element Python
            s = arr.astype(float, copy=False)
            if s.size and not _all_plus_minus_one(s):
                self._fail(name, s, ~((s == 1.0) | (s == -1.0)), "side", raw)
            return s
        s = _map_words(arr, parse_side_word)
        if np.isnan(s).any():
            self._fail(name, s, np.isnan(s), "side", arr)
        return s

    def basis(self, name, value):
        """True (array) for mark basis, False for entry basis."""
        raw = self._raw(value, name)
        if np.ndim(raw) == 0:
            b = parse_basis_word(raw)
            if math.isnan(b):
                raise input_error(name, "basis", raw)
            return bool(b)
        arr = np.asarray(raw)
        b = _map_words(arr, parse_basis_word)
        if np.isnan(b).any():
            self._fail(name, b, np.isnan(b), "basis", arr)
        return b.astype(bool)

    def move(self, side, entry_price, price, quantity, price_name="price"):
        """The checked side (+1/-1), entry price, price and quantity (each > 0) of a position
        valued at ``price``, in this order; ``price_name`` names the price in messages."""
        return (
            self.side("side", side),
            self.number("entry_price", entry_price),
            self.number(price_name, price),
            self.number("quantity", quantity),
        )

    def held(self, deposit, side, entry_price, quantity):
        """The checked deposit (>= 0), side (+1/-1), entry price and quantity (> 0) of a
        position, in this order."""
        d = self.number("deposit", deposit, rule="nonnegative")
        return (
            d,
            self.side("side", side),
            self.number("entry_price", entry_price),
            self.number("quantity", quantity),
        )

    def position(self, deposit, side, entry_price, price, quantity, leverage):
        """The checked figures of one position, in this order: deposit (>= 0), then
        :meth:`move`, then leverage (> 0)."""
        d = self.number("deposit", deposit, rule="nonnegative")
        return (d, *self.move(side, entry_price, price, quantity), self.number("leverage", leverage))

    def out(self, result):
        """Shape the result like the input: float, ndarray or Series."""
        if self.scalar:
            return float(result)
        if self.index is not None:
            result = np.asarray(result, dtype=float)
            if result.ndim == 0:
                result = np.full(len(self.index), float(result))
            return _pandas().Series(result, index=self.index)
        return np.asarray(result, dtype=float) * 1.0 if np.ndim(result) == 0 else result

    def out_words(self, words):
        """Words (an ndarray of str) as an ndarray, or a Series with the caller's index."""
        if self.index is not None:
            if words.ndim == 0:
                words = np.full(len(self.index), words.item())
            return _pandas().Series(words, index=self.index)
        return words


def _map_words(arr, parse):
    """``parse`` applied to each element, calling it once per distinct value (no pandas, no sort).

    A column of side or basis words has a handful of distinct values: one mask per value is
    faster than a Python call per element (and than ``pandas.factorize`` on 65,536-row blocks).
    """
    values = arr.ravel().tolist()
    try:
        distinct = set(values)
    except TypeError:  # a list or dict in a cell: parse each (it is refused with its row)
        distinct = None
    # True == 1 share one hash: a bool must not borrow the meaning of 1 (or the reverse)
    if distinct is None or (1 in distinct and any(type(v) is bool for v in values)):
        return np.fromiter(map(parse, values), float, len(values)).reshape(arr.shape)
    if len(distinct) <= 16:
        out = np.full(arr.shape, math.nan)  # NaN-like values equal no key: they stay NaN (refused)
        try:
            for key in distinct:
                out[arr == key] = parse(key)
            return out
        except (TypeError, ValueError):  # elements numpy cannot compare one by one
            pass
    mapping = {v: parse(v) for v in distinct}
    return np.fromiter(map(mapping.__getitem__, values), float, len(values)).reshape(arr.shape)


def _all_plus_minus_one(s):
    """True when every element is exactly +1 or -1 (no NaN), reading memory once per block.

    |s| == 1 everywhere <=> min |s| == 1 and max |s| == 1. Elementwise, not a dot product: a
    BLAS call here woke numpy's thread pool, whose idle threads then spun (#13).
    """
    flat = s.ravel()
    buf = np.empty(min(flat.size, _BLOCK))
    for start in range(0, flat.size, _BLOCK):
        block = flat[start : start + _BLOCK]
        mag = np.abs(block, out=buf[: block.size])
        lo, hi = mag.min(), mag.max()
        if not (lo == 1.0 and hi == 1.0):
            return False
    return True


_BLOCK = BLOCK_ROWS  # a block's second reduction is read from cache, not memory


def _min_max(arr):
    """(min, max) of ``arr`` reading each block of memory once; NaN if any element is NaN."""
    flat = arr.ravel()
    if flat.size <= _BLOCK:
        return flat.min(), flat.max()
    lo, hi = math.inf, -math.inf
    for start in range(0, flat.size, _BLOCK):
        block = flat[start : start + _BLOCK]
        b_lo, b_hi = block.min(), block.max()
        if b_lo != b_lo:  # NaN: the caller reports it, no need to read further
            return b_lo, b_lo
        lo, hi = min(lo, b_lo), max(hi, b_hi)
    return lo, hi


def _is_number_text(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def positive_or_nan(x):
    """Keep positive finite values; anything else (a level never reached) becomes NaN.

    Works in place on an array the caller owns (a fresh result), to spare a copy.
    """
    if np.ndim(x) == 0:
        return x if 0 < x < math.inf else np.float64(math.nan)
    with np.errstate(invalid="ignore"):
        x[~(x > 0)] = math.nan
        if x.size and np.fmax.reduce(x, axis=None) == math.inf:  # fmax skips NaN; inf: a 0 divisor
            x[x == math.inf] = math.nan
    return x
