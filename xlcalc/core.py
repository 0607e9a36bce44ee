"""Margin math for one leveraged position (SPEC §1).

Every function broadcasts like a numpy ufunc: scalars in, a float out; arrays in, an
ndarray out; a pandas Series in, a Series out with its index. Ratios, levels and rates are
fractions (2.27 is 227 %). Nothing here knows about Excel.

Symbols: side ``s`` (+1 long, -1 short), entry price ``P0``, quantity ``Q``, leverage
``L``, deposit ``D``, unpaid fees ``F`` and a price ``P``::

    PnL(P) = s (P - P0) Q
    E(P)   = D + PnL(P) - F
    M      = P0 Q / L  (entry basis)   or   P Q / L  (mark basis)
    R(P)   = E(P) / M
"""

from __future__ import annotations

import functools
import inspect
import math

import numpy as np

from ._inputs import BLOCK_ROWS, ROW_OFFSET, Inputs, positive_or_nan
from .constants import DEFAULT_LOSS_CUT_LEVEL, DEFAULT_MARGIN_CALL_LEVEL, DEFAULT_SAFE_LEVEL, POSITION_FIGURES
from .errors import InputError

__all__ = [
    "InputError",
    "parse_side",
    "parse_basis",
    "unrealized_pnl",
    "required_margin",
    "equity",
    "maintenance_ratio",
    "trigger_price",
    *POSITION_FIGURES,
    "holding_cost",
    "round_to_tick",
    "round_money",
    "MARGIN_ROUNDINGS",
    "status",
    "STATUS_OK",
    "STATUS_MARGIN_CALL",
    "STATUS_LOSS_CUT",
    "STATUS_CAUTION",
    "STATUS_UNKNOWN",
    "DEFAULT_MARGIN_CALL_LEVEL",
    "DEFAULT_LOSS_CUT_LEVEL",
    "DEFAULT_SAFE_LEVEL",
]

STATUS_OK = "ok"
STATUS_CAUTION = "caution"
STATUS_MARGIN_CALL = "margin_call"
STATUS_LOSS_CUT = "loss_cut"
STATUS_UNKNOWN = "unknown"
_STATUS_WORDS = np.array([STATUS_OK, STATUS_CAUTION, STATUS_MARGIN_CALL, STATUS_LOSS_CUT, STATUS_UNKNOWN])


def _in_blocks(func):
    """Run ``func`` block by block over long 1-D arrays, writing into one result.

    Every element is computed exactly as in one call, but each block's temporaries stay in
    the CPU cache instead of making a round trip to memory: on millions of rows this is
    what keeps the checked core close to a bare numpy expression. Anything else (scalars,
    short or 2-D arrays, Series, lists) goes straight to ``func``.
    """
    signature = inspect.signature(func)

    @functools.wraps(func)
    def run(*args, **kwargs):
        values = (*args, *kwargs.values())
        n = max((v.shape[0] for v in values if type(v) is np.ndarray and v.ndim == 1), default=0)
        if n <= 2 * BLOCK_ROWS:
            return func(*args, **kwargs)
        arguments = signature.bind(*args, **kwargs).arguments
        if any(
            not (type(v) is np.ndarray or np.ndim(v) == 0) or np.shape(v) not in ((), (n,))
            for v in arguments.values()
        ):
            return func(*args, **kwargs)
        out = None
        for start in range(0, n, BLOCK_ROWS):
            block = {k: v[start : start + BLOCK_ROWS] if np.ndim(v) else v for k, v in arguments.items()}
            token = ROW_OFFSET.set(start)
            try:
                part = func(**block)
            finally:
                ROW_OFFSET.reset(token)
            if out is None:
                out = np.empty(n, dtype=np.asarray(part).dtype)
            out[start : start + BLOCK_ROWS] = part
        return out

    return run


def parse_side(side):
    """+1.0 for long, -1.0 for short, from any accepted spelling (array in, array out).

    >>> parse_side("売り"), parse_side("BUY")
    (-1.0, 1.0)
    """
    a = Inputs()
    return a.out(a.side("side", side))


def parse_basis(basis):
    """True for mark basis, False for entry basis ("entry"/"mark", "建値"/"時価", any case).

    >>> parse_basis("Mark"), parse_basis("建値")
    (True, False)
    """
    a = Inputs()
    mark = a.basis("basis", basis)
    return mark if isinstance(mark, bool) else a.out(mark).astype(bool)


MARGIN_ROUNDINGS = ("none", "floor")

# Relative float noise below which a price (or an amount) counts as already on the tick (unit):
# 37,500 / 0.1 is 374,999.99999999994, which must not round up to 375,001 ticks.
_ON_GRID = 1e-9


def _tick_decimals(tick):
    """Per tick, the fewest decimals that write it exactly (0.5 -> 1, 100.25 -> 2, 1000 -> 0)."""
    tick = np.asarray(tick, dtype=float)
    decimals = np.full(tick.shape, 15)
    for d in range(14, -1, -1):  # each row keeps the smallest d that still writes its tick
        exact = np.abs(np.round(tick, d) - tick) <= 1e-9 * tick
        decimals = np.where(exact, d, decimals)
    return decimals


def _to_tick(price, s, tick):
    """``price`` on a multiple of ``tick``: up for a long (s = +1), down for a short; NaN stays."""
    with np.errstate(invalid="ignore"):
        steps = price / tick
        nearest = np.round(steps)
        on_tick = np.abs(steps - nearest) <= _ON_GRID * np.maximum(1.0, np.abs(steps))
        moved = np.where(s > 0, np.ceil(steps), np.floor(steps))
        # a whole number of ticks, cleared of float noise (3 x 0.1 is 0.30000000000000004)
        scale = 10.0 ** _tick_decimals(tick)
        return np.round(np.where(on_tick, nearest, moved) * tick * scale) / scale


def _ticked(a, price, s, tick_size):
    """The price rounded conservatively to ``tick_size`` (None: unchanged)."""
    if tick_size is None:
        return price
    return _to_tick(price, s, a.number("tick_size", tick_size))


def round_to_tick(price, side, tick_size=None):
    """A price on the venue's tick, rounded in the conservative direction.

    Parameters
    ----------
    price : float or array_like
        Prices; NaN ("never reached") stays NaN.
    side : {+1, -1, "long", "short", ...} or array_like
        A long's price is rounded up (its warning comes earlier), a short's down.
    tick_size : float or array_like, optional
        The price step, > 0; None returns ``price`` as given.

    Returns
    -------
    float, ndarray or Series

    Notes
    -----
    .. math:: P_{tick} = t \\lceil P / t \\rceil \\text{ (long)}, \\quad
              t \\lfloor P / t \\rfloor \\text{ (short)}

    A price within float noise of a multiple of the tick is already on it.

    Examples
    --------
    Bybit rounds a long's liquidation price up to the 0.5 tick and a short's down
    (help article 360039261334: 5,739.08 is shown as 5,739.50):

    >>> from xlcalc.core import round_to_tick
    >>> round_to_tick(5_739.08, ["long", "short"], 0.5)
    array([5739.5, 5739. ])

    A loss-cut at 37,500 with a 1,000 tick is shown at 38,000 for a long:

    >>> round_to_tick(37_500, "long", 1_000)
    38000.0
    """
    if tick_size is None:  # the default of every price function: nothing to do, nothing to copy
        return price
    a = Inputs()
    p = a._to_float("price", a._raw(price))
    return a.out(_to_tick(p, a.side("side", side), a.number("tick_size", tick_size)))


def _money_rule(margin_rounding) -> str:
    word = "none" if margin_rounding is None else str(margin_rounding).strip().lower() or "none"
    if word not in MARGIN_ROUNDINGS:
        raise InputError(
            f"margin_rounding must be 'none' or 'floor', got {margin_rounding!r}",
            argument="margin_rounding",
            value=margin_rounding,
        )
    return word


def _rounded_money(a, amount, margin_rounding, money_unit):
    if margin_rounding == "none" or _money_rule(margin_rounding) == "none":
        return amount
    unit = a.number("money_unit", money_unit)
    units = amount / unit
    # float noise must not cost a whole unit: 59,637.0000000001 and 59,636.9999999999 are 59,637
    return np.floor(units + _ON_GRID * np.maximum(1.0, np.abs(units))) * unit


def round_money(amount, margin_rounding="none", money_unit=1.0):
    """An amount of money rounded as the venue documents it (e.g. margin truncated to the yen).

    Parameters
    ----------
    amount : float or array_like
        Money in the account currency.
    margin_rounding : {"none", "floor"}, optional
        ``"floor"`` truncates to a multiple of ``money_unit``; a preset's ``margin_rounding``.
    money_unit : float or array_like, optional
        The unit, > 0 (1 for the yen); a preset's ``money_unit``.

    Returns
    -------
    float, ndarray or Series

    Notes
    -----
    .. math:: \\lfloor A / u \\rfloor u \\text{ (floor)}, \\quad A \\text{ (none)}

    Examples
    --------
    DMM FX (FAQ 00115: current rate × quantity ÷ 25) at USD/JPY 149.094 for 10,000 units:
    59,637.6 yen, which its margin simulator shows as 59,637 (mag2 article, 2024-10-16):

    >>> from xlcalc.core import round_money
    >>> round_money(149.094 * 10_000 / 25, "floor", 1)
    59637.0
    """
    a = Inputs()
    x = a.number("amount", amount, rule="any")
    return a.out(_rounded_money(a, x, margin_rounding, money_unit))


def _quote_rate(a, quote_rate):
    """None for the default 1.0 (nothing to convert), else the checked rate."""
    if (type(quote_rate) is float or type(quote_rate) is int) and quote_rate == 1:
        return None
    return a.number("quote_rate", quote_rate)


def _margin_price(mark, entry_price, price):
    """The price the required margin is computed on: entry or mark (current)."""
    if isinstance(mark, bool):
        return price if mark else entry_price
    return np.where(mark, price, entry_price)


@_in_blocks
def unrealized_pnl(side, entry_price, price, quantity, quote_rate=1.0):
    """Unrealized profit or loss of a position at ``price``.

    Parameters
    ----------
    side : {+1, -1, "long", "short", "buy", "sell", "買い", "売り"} or array_like
        Long (+1) or short (-1).
    entry_price : float or array_like
        Entry price (建値), > 0.
    price : float or array_like
        Current, mark or scenario price, > 0.
    quantity : float or array_like
        Position size in base units, > 0.
    quote_rate : float or array_like, optional
        Account currency per unit of the quote currency (USD/JPY for EUR/USD in a yen
        account), > 0; 1 when the account is in the quote currency.

    Returns
    -------
    float, ndarray or Series
        P&L in the account currency; negative is a loss.

    Notes
    -----
    .. math:: PnL = s (P - P_0) Q

    Examples
    --------
    A trader is long 0.2 BTC from 50,000 and the price falls to 25,000:

    >>> import xlcalc as xc
    >>> xc.unrealized_pnl("long", 50_000, 25_000, 0.2)
    -5000.0

    The same move is a gain for a short, and arrays broadcast:

    >>> xc.unrealized_pnl(["long", "short"], 50_000, 25_000, 0.2)
    array([-5000.,  5000.])
    """
    a = Inputs()
    s, p0, p, q = a.move(side, entry_price, price, quantity)
    r = _quote_rate(a, quote_rate)
    pnl = s * (p - p0) * q
    return a.out(pnl if r is None else pnl * r)


@_in_blocks
def required_margin(price, quantity, leverage, quote_rate=1.0, margin_rounding="none", money_unit=1.0):
    """Required margin (必要証拠金) of a position.

    Parameters
    ----------
    price : float or array_like
        The price the margin is computed on: the entry price on entry basis, the
        current price on mark basis.
    quantity : float or array_like
        Position size, > 0.
    leverage : float or array_like
        Leverage, > 0; the required-margin rate is ``1 / leverage``.
    quote_rate : float or array_like, optional
        Account currency per unit of the quote currency, > 0 (see :func:`unrealized_pnl`).
    margin_rounding, money_unit : optional
        The venue's rounding of the amount (see :func:`round_money`); none by default.

    Returns
    -------
    float, ndarray or Series
        In the account currency.

    Notes
    -----
    .. math:: M = P Q r / L

    Examples
    --------
    GMO Coin's example: 1 BTC bought at 1,000,000 JPY with 2x leverage needs

    >>> import xlcalc as xc
    >>> xc.required_margin(1_000_000, 1, 2)
    500000.0

    and 100,000 USD/JPY at 110 with 25x needs

    >>> xc.required_margin(110, 100_000, 25)
    440000.0

    EUR/USD short 15,000 at 1.2 in a yen account, USD/JPY at 80, 20x:

    >>> xc.required_margin(1.2, 15_000, 20, quote_rate=80)
    72000.0

    DMM FX truncates to the yen (FAQ 00115; its simulator shows 77,914 for GBP/JPY 194.787):

    >>> xc.required_margin(194.787, 10_000, 25, margin_rounding="floor")
    77914.0
    """
    a = Inputs()
    p = a.number("price", price)
    q = a.number("quantity", quantity)
    lev = a.number("leverage", leverage)
    r = _quote_rate(a, quote_rate)
    margin = p * q / lev if r is None else p * q / lev * r
    return a.out(_rounded_money(a, margin, margin_rounding, money_unit))


@_in_blocks
def equity(deposit, side, entry_price, price, quantity, fees=0.0, quote_rate=1.0):
    """Equity (有効証拠金 / 時価評価総額): deposit plus unrealized P&L minus unpaid costs.

    Parameters
    ----------
    deposit : float or array_like
        Deposit / collateral (預託証拠金), >= 0.
    side, entry_price, price, quantity
        As in :func:`unrealized_pnl`.
    fees : float or array_like, optional
        Accrued costs not yet paid (fees, leverage fee, funding), >= 0.
    quote_rate : float or array_like, optional
        Account currency per unit of the quote currency, > 0. Deposit and fees are in the
        account currency, prices in the quote currency.

    Returns
    -------
    float, ndarray or Series

    Notes
    -----
    .. math:: E(P) = D + s (P - P_0) Q r - F

    Examples
    --------
    A deposit of 5,000 backs a long of 0.2 BTC at 50,000. At 25,000 nothing is left:

    >>> import xlcalc as xc
    >>> xc.equity(5_000, "long", 50_000, 25_000, 0.2)
    0.0
    """
    a = Inputs()
    d = a.number("deposit", deposit, rule="nonnegative")
    s, p0, p, q = a.move(side, entry_price, price, quantity)
    f = a.number("fees", fees, rule="nonnegative")
    r = _quote_rate(a, quote_rate)
    pnl = s * (p - p0) * q
    return a.out(d + (pnl if r is None else pnl * r) - f)


@_in_blocks
def maintenance_ratio(
    deposit, side, entry_price, price, quantity, leverage, basis="entry", fees=0.0, quote_rate=1.0
):
    """Maintenance ratio (証拠金維持率): equity over required margin, as a fraction.

    Parameters
    ----------
    deposit, side, entry_price, price, quantity, fees, quote_rate
        As in :func:`equity`.
    leverage : float or array_like
        Leverage, > 0.
    basis : {"entry", "mark"} or array_like, optional
        Required margin on the entry price (default; GMO Coin documents this) or on
        ``price`` (many exchanges recompute it at the current price).

    Returns
    -------
    float, ndarray or Series
        2.27 means 227 %.

    Notes
    -----
    .. math:: R(P) = \\frac{D + s (P - P_0) Q - F}{M},\\quad
              M = P_0 Q / L \\text{ (entry) or } P Q / L \\text{ (mark)}

    Examples
    --------
    An FX trader holds 100,000 USD/JPY bought at 110 with 25x leverage and 1,000,000 JPY
    of equity; the ratio is 227 %:

    >>> import xlcalc as xc
    >>> round(xc.maintenance_ratio(1_000_000, "buy", 110, 110, 100_000, 25), 4)
    2.2727

    A crypto trader with 5,000 behind a 2x long of 0.2 BTC at 50,000 is wiped out at
    25,000:

    >>> xc.maintenance_ratio(5_000, "long", 50_000, 25_000, 0.2, 2)
    0.0
    """
    a = Inputs()
    d, s, p0, p, q, lev = a.position(deposit, side, entry_price, price, quantity, leverage)
    mark = a.basis("basis", basis)
    f = a.number("fees", fees, rule="nonnegative")
    r = _quote_rate(a, quote_rate)
    if r is not None:  # the ratio is the same in the quote currency
        d, f = d / r, f / r
    eq = d + s * (p - p0) * q
    if not (np.ndim(f) == 0 and f == 0.0):
        eq = eq - f
    margin = _margin_price(mark, p0, p) * q / lev
    return a.out(_divide_into(eq, margin))


def _divide_into(num, den):
    """num / den, reusing ``num``'s memory when it is a fresh array of the result's shape.

    On millions of rows a fresh 16 MB result costs as much as the division itself.
    """
    if isinstance(num, np.ndarray) and num.shape == np.broadcast_shapes(num.shape, np.shape(den)):
        return np.divide(num, den, out=num)
    return num / den


def _trigger(d, s, p0, q, lev, level, mark, f):
    # Solve E(P) = k P Q + c for P (SPEC §1); see trigger_price.
    if not (np.ndim(f) == 0 and f == 0.0):
        d = d - f
    # One expression per branch, so numpy reuses its temporaries (no fresh 16 MB arrays).
    if isinstance(mark, bool):
        if mark:
            num = s * p0 * q - d
            den = q * (s - level / lev)
        else:
            num = s * p0 * q - d + p0 * q * level / lev
            den = s * q
        with np.errstate(divide="ignore", invalid="ignore"):
            return positive_or_nan(_divide_into(num, den))
    else:
        # same operations, in the same order, as the scalar-basis branches above
        num = s * p0 * q - d + np.where(mark, 0.0, p0 * q * level / lev)
        den = np.where(mark, q * (s - level / lev), s * q)
    with np.errstate(divide="ignore", invalid="ignore"):
        return positive_or_nan(num / den)


@_in_blocks
def trigger_price(
    deposit,
    side,
    entry_price,
    quantity,
    leverage,
    level,
    basis="entry",
    fees=0.0,
    quote_rate=1.0,
    tick_size=None,
):
    """Price at which the maintenance ratio equals ``level``.

    Parameters
    ----------
    deposit, side, entry_price, quantity, leverage, basis, fees, quote_rate
        As in :func:`maintenance_ratio`.
    level : float or array_like
        The ratio to reach, as a fraction (1.0 = 100 %, 0.5 = 50 %), > 0.
    tick_size : float or array_like, optional
        The venue's price step: the price is rounded to it, up for a long and down for a
        short (see :func:`round_to_tick`); None (default) leaves it unrounded.

    Returns
    -------
    float, ndarray or Series
        The price, or NaN where the position can never reach ``level`` (for example a
        fully collateralized 1x long). A price on the far side of the current price means
        the level is already breached.

    Notes
    -----
    Write the threshold as :math:`T(P) = k P Q + c`, with :math:`k = 0,\\ c = r P_0 Q / L`
    on entry basis and :math:`k = r / L,\\ c = 0` on mark basis. Solving
    :math:`E(P) = T(P)`:

    .. math:: P^* = \\frac{s P_0 Q - (D - F) + c}{Q (s - k)}

    Examples
    --------
    1,000,000 JPY backs a 2x long of 0.2 BTC at 10,000,000; the exchange cuts at 75 %:

    >>> import xlcalc as xc
    >>> xc.trigger_price(1_000_000, "long", 10_000_000, 0.2, 2, 0.75)
    8750000.0
    >>> xc.trigger_price(1_000_000, "long", 10_000_000, 0.2, 2, 0.75, basis="mark")
    8000000.0

    A 1x long paid in full can never fall to 50 %:

    >>> xc.trigger_price(10_000, "long", 100, 100, 1, 0.5, basis="mark")
    nan

    EUR/USD short 15,000 at 1.2 with 100,000 JPY in a yen account (USD/JPY 80), 20x: the
    100 % line is 0.023333 above entry:

    >>> round(xc.trigger_price(100_000, "short", 1.2, 15_000, 20, 1.0, quote_rate=80), 6)
    1.223333
    """
    a = Inputs()
    d, s, p0, q = a.held(deposit, side, entry_price, quantity)
    lev = a.number("leverage", leverage)
    r = a.number("level", level)
    mark = a.basis("basis", basis)
    f = a.number("fees", fees, rule="nonnegative")
    rate = _quote_rate(a, quote_rate)
    if rate is not None:  # solve in the quote currency
        d, f = d / rate, f / rate
    return a.out(_ticked(a, _trigger(d, s, p0, q, lev, r, mark, f), s, tick_size))


# The loss-cut and margin-call prices are trigger_price at one level each: one solver and one
# argument list, trigger_price's, under each level's own name, docstring and default level.
_AT_LEVEL_DOC = """$title price: :func:`trigger_price` at the $level level.

    Parameters
    ----------
    deposit, side, entry_price, quantity, leverage, basis, fees, quote_rate, tick_size
        As in :func:`trigger_price`.
    level : float or array_like$optional
        $level_help

    Returns
    -------
    float, ndarray or Series
        NaN where the level can never be reached.

    Notes
    -----
    .. math:: P_{$symbol} = \\frac{s P_0 Q - (D - F) + c}{Q (s - k)}

    with :math:`k, c` as in :func:`trigger_price` for :math:`r` = the $level level.

    Examples
    --------
    $examples"""


def _trigger_at_level(name, *, default=inspect.Parameter.empty, **doc):
    """:func:`trigger_price` as the public function ``name``: the same code, so the same
    arguments (``level`` defaulting to ``default``), checks and speed, with the docstring
    :data:`_AT_LEVEL_DOC` filled with ``doc``. The Excel functions and the command line read
    its signature like any other's.
    """
    import string  # only here: two docstrings, filled at import
    import types

    solver = trigger_price.__wrapped__  # the function itself, without its _in_blocks runner
    defaults = solver.__defaults__
    if default is not inspect.Parameter.empty:
        defaults = (default, *defaults)  # level comes just before the optional arguments
    price = types.FunctionType(solver.__code__, solver.__globals__, name, defaults)
    price.__qualname__ = name
    optional = "" if default is inspect.Parameter.empty else ", optional"
    price.__doc__ = string.Template(_AT_LEVEL_DOC).substitute(doc, optional=optional)
    return _in_blocks(price)


loss_cut_price = _trigger_at_level(
    "loss_cut_price",
    title="Loss-cut (forced liquidation, ロスカット)",
    level="loss-cut",
    symbol="lc",
    level_help="The exchange's loss-cut level as a fraction (bitFlyer 0.5, GMO Coin 0.75).",
    examples="""5,000 of deposit behind a 2x long of 0.2 BTC at 50,000, loss-cut at 50 %:

    >>> import xlcalc as xc
    >>> xc.loss_cut_price(5_000, "long", 50_000, 0.2, 2, level=0.5)
    37500.0

    Unpaid fees of 500 bring the loss-cut 2,500 closer:

    >>> xc.loss_cut_price(5_000, "long", 50_000, 0.2, 2, level=0.5, fees=500)
    40000.0

    On a 1,000 tick the long's loss-cut shows 500 earlier:

    >>> xc.loss_cut_price(5_000, "long", 50_000, 0.2, 2, level=0.5, tick_size=1_000)
    38000.0
    """,
)

margin_call_price = _trigger_at_level(
    "margin_call_price",
    default=DEFAULT_MARGIN_CALL_LEVEL,
    title="Margin-call (追証)",
    level="margin-call",
    symbol="mc",
    level_help="The margin-call level as a fraction; 1.0 (100 %) by default.",
    examples="""1,000,000 JPY behind a 2x long of 0.1 BTC at 10,000,000 gets a margin call at
    5,000,000; a short of the same size would get one at 15,000,000:

    >>> import xlcalc as xc
    >>> xc.margin_call_price(1_000_000, "long", 10_000_000, 0.1, 2)
    5000000.0
    >>> xc.margin_call_price(1_000_000, "short", 10_000_000, 0.1, 2)
    15000000.0
    """,
)


@_in_blocks
def bankruptcy_price(deposit, side, entry_price, quantity, fees=0.0, quote_rate=1.0, tick_size=None):
    """Bankruptcy (zero-equity) price: where the deposit is entirely lost.

    Parameters
    ----------
    deposit, side, entry_price, quantity, fees
        As in :func:`equity`.
    quote_rate, tick_size : optional
        As in :func:`trigger_price`.

    Returns
    -------
    float, ndarray or Series
        NaN where equity can never reach zero (a long backed by its full notional).

    Notes
    -----
    .. math:: P_b = P_0 - s (D - F) / (Q r)

    Examples
    --------
    5,000 behind a long of 0.2 BTC at 50,000 is gone at 25,000; a short would be at 75,000:

    >>> import xlcalc as xc
    >>> xc.bankruptcy_price(5_000, ["long", "short"], 50_000, 0.2)
    array([25000., 75000.])
    """
    a = Inputs()
    d, s, p0, q = a.held(deposit, side, entry_price, quantity)
    f = a.number("fees", fees, rule="nonnegative")
    r = _quote_rate(a, quote_rate)
    cushion = (d - f) / q if r is None else (d - f) / (q * r)
    return a.out(_ticked(a, positive_or_nan(p0 - s * cushion), s, tick_size))


def _equity_and_margin(a, deposit, side, entry_price, price, quantity, leverage, basis, fees, quote_rate):
    """Equity and required margin in the account currency, and the quantity."""
    d, s, p0, p, q, lev = a.position(deposit, side, entry_price, price, quantity, leverage)
    mark = a.basis("basis", basis)
    f = a.number("fees", fees, rule="nonnegative")
    r = _quote_rate(a, quote_rate)
    if r is None:
        return d + s * (p - p0) * q - f, _margin_price(mark, p0, p) * q / lev, q
    return d + s * (p - p0) * q * r - f, _margin_price(mark, p0, p) * q / lev * r, q


@_in_blocks
def additional_deposit(
    deposit, side, entry_price, price, quantity, leverage, target=1.0, basis="entry", fees=0.0, quote_rate=1.0
):
    """Cash to deposit (追加入金 / 追証額) to bring the ratio at ``price`` back to ``target``.

    Parameters
    ----------
    deposit, side, entry_price, price, quantity, leverage, basis, fees, quote_rate
        As in :func:`maintenance_ratio`.
    target : float or array_like, optional
        The ratio to restore, as a fraction; 1.0 (100 %) by default.

    Returns
    -------
    float, ndarray or Series
        In the account currency; 0 when the ratio is already at or above ``target``.

    Notes
    -----
    .. math:: \\max(0,\\ r_t M - E(P))

    Examples
    --------
    1,000,000 JPY behind a 2x long of 0.1 BTC at 10,000,000. At 4,000,000 equity is
    400,000 against 500,000 of required margin, so 100,000 restores 100 %:

    >>> import xlcalc as xc
    >>> xc.additional_deposit(1_000_000, "long", 10_000_000, 4_000_000, 0.1, 2)
    100000.0
    """
    a = Inputs()
    eq, margin, _ = _equity_and_margin(
        a, deposit, side, entry_price, price, quantity, leverage, basis, fees, quote_rate
    )
    r = a.number("target", target)
    return a.out(np.maximum(0.0, r * margin - eq))


@_in_blocks
def close_quantity(
    deposit, side, entry_price, price, quantity, leverage, target=1.0, basis="entry", fees=0.0, quote_rate=1.0
):
    """Quantity to close (一部決済) at ``price`` so that the rest is back at ``target``.

    Closing realizes the P&L into the deposit, so equity is unchanged while the required
    margin shrinks in proportion to the quantity kept.

    Parameters
    ----------
    deposit, side, entry_price, price, quantity, leverage, target, basis, fees, quote_rate
        As in :func:`additional_deposit`.

    Returns
    -------
    float, ndarray or Series
        Between 0 (nothing to do) and ``quantity`` (close everything: equity is gone).

    Notes
    -----
    .. math:: Q \\cdot \\min\\left(1,\\ \\max\\left(0,\\ 1 - \\frac{E(P)}{r_t M}\\right)\\right)

    Examples
    --------
    At 4,000,000 the 0.1 BTC long above has 400,000 of equity; keeping 0.08 BTC needs
    exactly 400,000 of margin, so 0.02 BTC must go:

    >>> import xlcalc as xc
    >>> round(xc.close_quantity(1_000_000, "long", 10_000_000, 4_000_000, 0.1, 2), 10)
    0.02
    """
    a = Inputs()
    eq, margin, q = _equity_and_margin(
        a, deposit, side, entry_price, price, quantity, leverage, basis, fees, quote_rate
    )
    r = a.number("target", target)
    return a.out(q * np.clip(1.0 - eq / (r * margin), 0.0, 1.0))


@_in_blocks
def shortfall(deposit, side, entry_price, fill_price, quantity, fees=0.0, quote_rate=1.0):
    """Negative balance (不足金) owed when the position is closed on a gap at ``fill_price``.

    With negative-balance protection the customer owes 0 and the exchange absorbs this
    amount; without it, it is billed to the customer.

    Parameters
    ----------
    deposit, side, entry_price, quantity, fees, quote_rate
        As in :func:`equity`.
    fill_price : float or array_like
        The price the position was actually closed at, > 0.

    Returns
    -------
    float, ndarray or Series

    Notes
    -----
    .. math:: \\max(0,\\ -E(P_f))

    Examples
    --------
    500,000 JPY behind a 2x long of 0.1 BTC at 10,000,000; the market gaps and the
    loss-cut fills at 4,000,000. Equity is -100,000, so 100,000 is owed:

    >>> import xlcalc as xc
    >>> xc.shortfall(500_000, "long", 10_000_000, 4_000_000, 0.1)
    100000.0
    """
    a = Inputs()
    d = a.number("deposit", deposit, rule="nonnegative")
    s, p0, pf, q = a.move(side, entry_price, fill_price, quantity, price_name="fill_price")
    f = a.number("fees", fees, rule="nonnegative")
    r = _quote_rate(a, quote_rate)
    pnl = s * (pf - p0) * q
    return a.out(np.maximum(0.0, -(d + (pnl if r is None else pnl * r) - f)))


@_in_blocks
def stop_loss_amount(side, entry_price, stop_price, quantity, quote_rate=1.0):
    """Loss taken if the position is stopped out at ``stop_price`` (negative: a gain).

    Parameters
    ----------
    side, entry_price, quantity
        As in :func:`unrealized_pnl`.
    stop_price : float or array_like
        The stop-loss price, > 0.
    quote_rate : float or array_like, optional
        Account currency per unit of the quote currency, > 0.

    Returns
    -------
    float, ndarray or Series

    Notes
    -----
    .. math:: (P_0 - P_{stop})\\, s\\, Q

    Examples
    --------
    A long of 0.1 BTC at 10,000,000 with a stop at 9,500,000 risks 50,000:

    >>> import xlcalc as xc
    >>> xc.stop_loss_amount("long", 10_000_000, 9_500_000, 0.1)
    50000.0
    """
    a = Inputs()
    s, p0, ps, q = a.move(side, entry_price, stop_price, quantity, price_name="stop_price")
    r = _quote_rate(a, quote_rate)
    loss = (p0 - ps) * s * q
    return a.out(loss if r is None else loss * r)


@_in_blocks
def position_size(capital, risk, entry_price, stop_price, leverage=None):
    """Largest position that loses only ``risk`` of ``capital`` if stopped at ``stop_price``.

    Parameters
    ----------
    capital : float or array_like
        Trading capital, > 0.
    risk : float or array_like
        Fraction of capital to risk, 0 < risk <= 1 (0.01 = 1 %).
    entry_price : float or array_like
        Planned entry price, > 0.
    stop_price : float or array_like
        Stop-loss price, > 0 and not equal to ``entry_price``.
    leverage : float or array_like, optional
        If given, the size is also capped at what the capital can margin:
        ``capital * leverage / entry_price``.

    Returns
    -------
    float, ndarray or Series
        Quantity in base units.

    Notes
    -----
    .. math:: Q = \\frac{C\\, r}{|P_0 - P_{stop}|}, \\quad
              Q \\le \\frac{C L}{P_0} \\text{ when a leverage is given}

    Examples
    --------
    With 1,000,000 JPY, risking 2 % on a BTC long at 10,000,000 with a stop at 9,500,000:

    >>> import xlcalc as xc
    >>> round(xc.position_size(1_000_000, 0.02, 10_000_000, 9_500_000), 10)
    0.04

    A stop only 0.5 % away would allow 0.4 BTC, more than 2x leverage can carry:

    >>> round(xc.position_size(1_000_000, 0.02, 10_000_000, 9_950_000, leverage=2), 10)
    0.2
    """
    a = Inputs()
    c = a.number("capital", capital)
    r = a.number("risk", risk)
    if np.any(np.asarray(r) > 1):
        a._fail("risk", np.asarray(r), np.asarray(r) > 1, "risk")
    p0 = a.number("entry_price", entry_price)
    ps = a.number("stop_price", stop_price)
    gap = np.abs(p0 - ps)
    if np.any(gap == 0):
        bad = np.broadcast_to(np.asarray(gap == 0), np.shape(gap))
        a._fail("stop_price", np.broadcast_to(ps, np.shape(gap)), bad, "not_entry")
    size = c * r / gap
    if leverage is not None:
        lev = a.number("leverage", leverage)
        size = np.minimum(size, c * lev / p0)
    return a.out(size)


@_in_blocks
def holding_cost(entry_price, quantity, daily_rate, days):
    """Leverage fee (レバレッジ手数料) accrued on the notional over ``days``.

    Add the result to ``fees``: the loss-cut price then drifts toward the market.

    Parameters
    ----------
    entry_price, quantity
        As in :func:`unrealized_pnl`.
    daily_rate : float or array_like
        Fee per day as a fraction of the notional (0.0004 = 0.04 %/day), >= 0.
    days : float or array_like
        Days held, >= 0.

    Returns
    -------
    float, ndarray or Series

    Notes
    -----
    .. math:: F_{hold} = P_0 Q f \\cdot days

    Examples
    --------
    0.1 BTC held at 10,000,000 for 30 days at 0.04 %/day costs 12,000 JPY, which moves
    the 50 % loss-cut of a 1,000,000 JPY deposit from 2,500,000 up to 2,620,000:

    >>> import xlcalc as xc
    >>> cost = xc.holding_cost(10_000_000, 0.1, 0.0004, 30)
    >>> round(cost, 6)
    12000.0
    >>> round(xc.loss_cut_price(1_000_000, "long", 10_000_000, 0.1, 2, 0.5, fees=cost), 6)
    2620000.0
    """
    a = Inputs()
    p0 = a.number("entry_price", entry_price)
    q = a.number("quantity", quantity)
    f = a.number("daily_rate", daily_rate, rule="nonnegative")
    n = a.number("days", days, rule="nonnegative")
    return a.out(p0 * q * f * n)


def status(
    ratio, margin_call_level=DEFAULT_MARGIN_CALL_LEVEL, loss_cut_level=DEFAULT_LOSS_CUT_LEVEL, safe_level=None
):
    """Status of a position from its ratio: ok, caution, margin call, loss-cut or unknown.

    A level is breached when the ratio is strictly below it (exchanges act "below 100 %",
    so a position opened with exactly the required margin is not yet in a margin call).
    A NaN level means the exchange has no such level (GMO Coin has no margin call).

    Parameters
    ----------
    ratio : float or array_like
        Maintenance ratio as a fraction. NaN or None (a ratio that could not be computed)
        gives ``"unknown"``, never ``"ok"``: a missing figure must not read as safe.
    margin_call_level, loss_cut_level : float or array_like, optional
        Levels as fractions; NaN for "none".
    safe_level : float or array_like, optional
        The ratio a careful trader keeps (300 % is the seeds' rule of thumb,
        :data:`DEFAULT_SAFE_LEVEL`); below it, and not yet in a margin call, the status is
        ``"caution"``. None or NaN: no caution state.

    Returns
    -------
    str or ndarray of str or Series of str
        :data:`STATUS_OK` (``"ok"``), :data:`STATUS_CAUTION` (``"caution"``),
        :data:`STATUS_MARGIN_CALL` (``"margin_call"``), :data:`STATUS_LOSS_CUT`
        (``"loss_cut"``) or :data:`STATUS_UNKNOWN` (``"unknown"``).

    Examples
    --------
    >>> import xlcalc as xc
    >>> xc.status(0.8, 1.0, 0.5)
    'margin_call'
    >>> xc.status([2.27, 0.8, 0.4], 1.0, 0.5)
    array(['ok', 'margin_call', 'loss_cut'], dtype='<U11')

    The same 227 % is only "caution" for a trader who wants 300 %, and a ratio that could
    not be computed is "unknown":

    >>> xc.status([2.27, 3.5, float("nan"), None], safe_level=3.0).tolist()
    ['caution', 'ok', 'unknown', 'unknown']
    """
    a = Inputs()
    r = a.ratio("ratio", ratio)
    mc = a.ratio("margin_call_level", margin_call_level)
    lc = a.ratio("loss_cut_level", loss_cut_level)
    safe = math.nan if safe_level is None else a.ratio("safe_level", safe_level)
    with np.errstate(invalid="ignore"):
        codes = np.where(r < lc, 3, np.where(r < mc, 2, np.where(r < safe, 1, 0)))
        codes = np.where(r == r, codes, 4)  # NaN: unknown, whatever the levels
    words = _STATUS_WORDS[codes]
    if a.scalar:
        return str(words)
    return a.out_words(words)
