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

import numpy as np
import pandas as pd


# Long arrays are computed in blocks of this many rows (see core._in_blocks); while a block
# runs, this holds its first row so that errors still name the row of the whole array.
BLOCK_ROWS = 1 << 16
ROW_OFFSET = contextvars.ContextVar("xlcalc_row_offset", default=0)


class InputError(ValueError):
    """Invalid input: the message names the argument, the value and, for arrays, the row.

    Errors raised by the argument checks also carry their parts, so that a client can say
    the same in another language (``xlcalc.labels.error_text``): ``argument`` (its name),
    ``expected`` (a key of :data:`EXPECTED`), ``value`` and ``row`` (None for a scalar).
    """

    def __init__(self, message, *, argument=None, expected=None, value=None, row=None):
        super().__init__(message)
        self.argument, self.expected, self.value, self.row = argument, expected, value, row


# What an argument must be, as the English error message says it.
EXPECTED = {
    "number": "a number",
    "positive": "a positive number",
    "nonnegative": "a number >= 0",
    "finite": "a finite number",
    "side": "long/short, buy/sell, 買い/売り or +1/-1",
    "basis": "'entry' or 'mark'",
    "risk": "a fraction of capital <= 1 (0.02 = 2 %)",
    "not_entry": "different from entry_price",
    "below_one": "a fraction >= 0 and < 1 (0.005 = 0.5 %)",
}


def input_error(name, expected, value, row=None, where=""):
    """The InputError for ``name`` not being ``EXPECTED[expected]``."""
    return InputError(f"{name} must be {EXPECTED[expected]}, got {value!r}{where}",
                      argument=name, expected=expected, value=value, row=row)


_LONG_WORDS = {"1", "+1", "1.0", "+1.0", "long", "buy", "b", "l", "買い", "買", "ロング"}
_SHORT_WORDS = {"-1", "-1.0", "short", "sell", "s", "売り", "売", "ショート"}
_ENTRY_WORDS = {"entry", "建値", "建玉", "entry price"}
_MARK_WORDS = {"mark", "時価", "current", "mark price"}


def parse_side_word(value) -> float:
    """+1.0 for a long word or number, -1.0 for a short one, NaN when not a side."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value) if value in (1, -1) else math.nan
    word = str(value).strip().lower()
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


class Inputs:
    """Collects the arguments of one call; see the module docstring."""

    __slots__ = ("index", "scalar")

    def __init__(self):
        self.index = None
        self.scalar = True

    # -- helpers -----------------------------------------------------------------
    def _raw(self, value):
        if isinstance(value, pd.Series):
            if self.index is None:
                self.index = value.index
            self.scalar = False
            return value.to_numpy()
        if isinstance(value, (np.ndarray, list, tuple, pd.Index)):
            self.scalar = False
            return np.asarray(value)
        if isinstance(value, np.generic):
            return value
        return value

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
        shown = (original if original is not None else arr).ravel()[flat] if np.ndim(arr) else (
            original if original is not None else arr)
        shown = shown.item() if isinstance(shown, (np.generic, np.ndarray)) else shown
        row = self._row(flat, np.shape(arr))
        where = "" if row is None else f" at position {row}" if isinstance(row, tuple) else f" at row {row!r}"
        raise input_error(name, expected, shown, row, where)

    def _to_float(self, name, raw):
        try:
            return np.asarray(raw, dtype=float)
        except (TypeError, ValueError):
            arr = np.asarray(raw, dtype=object)
            ok = np.empty(arr.shape, dtype=bool)
            for i, v in enumerate(arr.ravel()):
                try:
                    float(v)
                    ok.flat[i] = not isinstance(v, str) or _is_number_text(v)
                except (TypeError, ValueError):
                    ok.flat[i] = False
            self._fail(name, arr, ~ok, "number")

    # -- public ------------------------------------------------------------------
    def number(self, name, value, *, rule="positive"):
        """A finite float (array) obeying ``rule``: "positive", "nonnegative" or "any".

        Scalars come back as ``np.float64`` so that a division by zero gives inf/NaN (then
        "never reached") like the array form, not a Python ZeroDivisionError."""
        if type(value) is float or type(value) is int:  # fast path: a plain number
            x = np.float64(value)
            if (x > 0 if rule == "positive" else x >= 0 if rule == "nonnegative" else True) and x == x \
                    and abs(x) < math.inf:
                return x
        raw = self._raw(value)
        if isinstance(raw, str) or raw is None or isinstance(raw, bool):
            if isinstance(raw, str) and _is_number_text(raw):
                raw = float(raw)
            else:
                raise input_error(name, "number", raw)
        arr = self._to_float(name, raw)
        if arr.size == 0:
            return arr
        lo, hi = _min_max(arr)  # NaN propagates into both, so one test each
        if rule == "positive":
            if lo > 0 and hi < math.inf:
                return arr if arr.ndim else arr[()]
            self._fail(name, arr, ~(np.isfinite(arr) & (arr > 0)), "positive", raw)
        elif rule == "nonnegative":
            if lo >= 0 and hi < math.inf:
                return arr if arr.ndim else arr[()]
            self._fail(name, arr, ~(np.isfinite(arr) & (arr >= 0)), "nonnegative", raw)
        else:
            if lo > -math.inf and hi < math.inf:
                return arr if arr.ndim else arr[()]
            self._fail(name, arr, ~np.isfinite(arr), "finite", raw)
        raise AssertionError("unreachable")

    def side(self, name, value):
        """+1.0 / -1.0 (array) from numbers or words (long/short, buy/sell, 買い/売り...)."""
        raw = self._raw(value)
        if np.ndim(raw) == 0:
            s = parse_side_word(raw.item() if isinstance(raw, np.generic) else raw)
            if math.isnan(s):
                raise input_error(name, "side", raw)
            return s
        arr = np.asarray(raw)
        if arr.dtype.kind in "iuf":  # fast path: no per-element Python
            s = arr.astype(float, copy=False)
            # |s| <= 1 everywhere and s·s == n  <=>  every s is exactly +1 or -1 (and no NaN)
            lo, hi = _min_max(s) if s.size else (1.0, 1.0)
            if not (lo >= -1.0 and hi <= 1.0 and np.dot(s.ravel(), s.ravel()) == s.size):
                self._fail(name, s, ~((s == 1.0) | (s == -1.0)), "side", raw)
            return s
        codes, uniques = pd.factorize(arr.ravel(), use_na_sentinel=False)
        mapped = np.array([parse_side_word(u) for u in uniques], dtype=float)
        s = mapped[codes].reshape(arr.shape)
        if np.isnan(s).any():
            self._fail(name, s, np.isnan(s), "side", arr)
        return s

    def basis(self, name, value):
        """True (array) for mark basis, False for entry basis."""
        raw = self._raw(value)
        if np.ndim(raw) == 0:
            b = parse_basis_word(raw)
            if math.isnan(b):
                raise input_error(name, "basis", raw)
            return bool(b)
        arr = np.asarray(raw)
        codes, uniques = pd.factorize(arr.ravel(), use_na_sentinel=False)
        mapped = np.array([parse_basis_word(u) for u in uniques], dtype=float)
        b = mapped[codes].reshape(arr.shape)
        if np.isnan(b).any():
            self._fail(name, b, np.isnan(b), "basis", arr)
        return b.astype(bool)

    def out(self, result):
        """Shape the result like the input: float, ndarray or Series."""
        if self.scalar:
            return float(result)
        if self.index is not None:
            result = np.asarray(result, dtype=float)
            if result.ndim == 0:
                result = np.full(len(self.index), float(result))
            return pd.Series(result, index=self.index)
        return np.asarray(result, dtype=float) * 1.0 if np.ndim(result) == 0 else result


_BLOCK = BLOCK_ROWS  # a block's second reduction is read from cache, not memory


def _min_max(arr):
    """(min, max) of ``arr`` reading each block of memory once; NaN if any element is NaN."""
    flat = arr.ravel()
    if flat.size <= _BLOCK:
        return flat.min(), flat.max()
    lo, hi = math.inf, -math.inf
    for start in range(0, flat.size, _BLOCK):
        block = flat[start:start + _BLOCK]
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
