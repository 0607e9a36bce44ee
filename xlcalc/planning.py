"""Planning before the trade (SPEC §10): how large may I go, and how long can I hold?

The seeds' rules of thumb: a ratio of 300 % is often called safe (veterans keep 700 %),
start at 2-3x, and remember that a daily leverage fee or funding drags the ratio down the
longer a position is held. Same symbols as :mod:`xlcalc.core`; ``e`` is the *effective*
leverage, notional / deposit, which is what the seeds call "leverage" (a 2x venue lets you
choose any ``e`` up to 2).
"""

from __future__ import annotations

import math

import numpy as np

from ._inputs import Inputs
from .core import (
    DEFAULT_LOSS_CUT_LEVEL,
    DEFAULT_MARGIN_CALL_LEVEL,
    DEFAULT_SAFE_LEVEL,
    bankruptcy_price,
    maintenance_ratio,
    trigger_price,
)

__all__ = ["leverage_plan", "max_quantity", "days_to_level", "PLAN_COLUMNS"]

PLAN_COLUMNS = [
    "quantity",
    "ratio",
    "margin_call_price",
    "loss_cut_price",
    "bankruptcy_price",
    "safe_price",
    "margin_call_move",
    "loss_cut_move",
    "bankruptcy_move",
    "safe_move",
]


def _no_level(level):
    """True for a level the venue does not have (None or NaN), e.g. GMO Coin's margin call."""
    return level is None or (
        np.ndim(level) == 0 and isinstance(level, (int, float, np.number)) and math.isnan(level)
    )


def _planned(a, deposit, entry_price, leverage, fees):
    """The checked deposit, entry price, venue leverage and fees of a position being planned."""
    return (
        a.number("deposit", deposit, rule="nonnegative"),
        a.number("entry_price", entry_price),
        a.number("leverage", leverage),
        a.number("fees", fees, rule="nonnegative"),
    )


def leverage_plan(
    deposit,
    side,
    entry_price,
    leverage,
    effective_leverage,
    margin_call_level=DEFAULT_MARGIN_CALL_LEVEL,
    loss_cut_level=DEFAULT_LOSS_CUT_LEVEL,
    safe_level=DEFAULT_SAFE_LEVEL,
    basis="entry",
    fees=0.0,
):
    """The size, ratio and trigger prices for each effective leverage you might choose.

    Parameters
    ----------
    deposit : float
        Deposit (預託証拠金), >= 0.
    side : str or float
        long/short, buy/sell, 買い/売り or +1/-1.
    entry_price : float
        The price you would enter at, > 0.
    leverage : float
        The venue's leverage (required margin = notional / leverage), > 0.
    effective_leverage : float or array_like
        Notional / deposit, > 0: the rows of the plan (e.g. ``[0.5, 1, 1.5, 2]``).
    margin_call_level, loss_cut_level, safe_level : float, optional
        Levels as fractions; None or NaN for a level the venue does not have (its columns
        are then NaN).
    basis : {"entry", "mark"}, optional
    fees : float, optional
        Costs already owed, >= 0.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``effective_leverage``, with the columns of :data:`PLAN_COLUMNS`: the
        ``quantity``, the ``ratio`` at entry, the price of each level and of zero equity,
        and each price's move from entry as a fraction (``-0.5`` = the price halves). NaN
        where a level can never be reached.

    Notes
    -----
    .. math:: Q = D e / P_0, \\qquad R(P_0) = \\frac{(D - F) L}{D e} \\ \\text{(entry basis)}

    and each price is :func:`xlcalc.trigger_price` (or :func:`xlcalc.bankruptcy_price`) at
    that ``Q``; ``move = P^* / P_0 - 1``.

    Examples
    --------
    With 1,000,000 JPY on a 2x venue, a long at 10,000,000 of the whole deposit (e = 1) is
    0.1 BTC at a ratio of 200 %: the margin call comes 50 % lower and the loss-cut 75 %
    lower (SPEC §10). At e = 2 the position opens right at the margin call:

    >>> import xlcalc as xc
    >>> plan = xc.leverage_plan(1_000_000, "long", 10_000_000, 2, [0.5, 1, 1.5, 2])
    >>> columns = ["quantity", "ratio", "margin_call_move", "loss_cut_move", "safe_move"]
    >>> print(plan[columns].round(4).to_string(index_names=False))
         quantity   ratio  margin_call_move  loss_cut_move  safe_move
    0.5      0.05  4.0000               NaN            NaN    -0.5000
    1.0      0.10  2.0000           -0.5000        -0.7500     0.5000
    1.5      0.15  1.3333           -0.1667        -0.4167     0.8333
    2.0      0.20  1.0000            0.0000        -0.2500     1.0000

    At e = 0.5 the ratio is 400 %: no fall reaches the margin call, and the price may halve
    before the ratio drops under 300 %. From e = 1 on the plan starts below 300 % (a positive
    ``safe_move``: the price would have to rise that much to reach it).

    >>> xc.max_quantity(1_000_000, 10_000_000, 2, level=4.0)  # the largest size at 400 %
    0.05
    """
    import pandas as pd  # only the planner needs pandas; ``import xlcalc`` stays light

    a = Inputs()
    d, p0, lev, f = _planned(a, deposit, entry_price, leverage, fees)
    e = a.number("effective_leverage", effective_leverage)
    a.side("side", side)
    a.basis("basis", basis)
    e_rows = np.atleast_1d(np.asarray(e, dtype=float))
    q = np.broadcast_to(d * e_rows / p0, e_rows.shape).copy()
    if not (q > 0).all():
        a._fail("deposit", np.broadcast_to(d, q.shape), ~(q > 0), "positive")

    def price_at(level):
        if _no_level(level):
            return np.full(q.shape, math.nan)
        return np.broadcast_to(trigger_price(d, side, p0, q, lev, level, basis=basis, fees=f), q.shape)

    table = {
        "quantity": q,
        "ratio": maintenance_ratio(d, side, p0, p0, q, lev, basis=basis, fees=f),
        "margin_call_price": price_at(margin_call_level),
        "loss_cut_price": price_at(loss_cut_level),
        "bankruptcy_price": bankruptcy_price(d, side, p0, q, fees=f),
        "safe_price": price_at(safe_level),
    }
    for name in ("margin_call", "loss_cut", "bankruptcy", "safe"):
        table[f"{name}_move"] = table[f"{name}_price"] / p0 - 1.0
    index = pd.Index(e_rows, name="effective_leverage")
    return pd.DataFrame({k: np.broadcast_to(v, q.shape) for k, v in table.items()}, index=index)[PLAN_COLUMNS]


def max_quantity(deposit, entry_price, leverage, level=DEFAULT_SAFE_LEVEL, fees=0.0):
    """The largest quantity whose ratio at entry is at least ``level`` (entry basis).

    Parameters
    ----------
    deposit, entry_price, leverage, fees
        As in :func:`xlcalc.maintenance_ratio`.
    level : float or array_like, optional
        The ratio to keep at entry, as a fraction (3.0 = 300 %, the seeds' "safe"), > 0.

    Returns
    -------
    float, ndarray or Series
        The quantity; 0 when fees already eat the deposit.

    Notes
    -----
    At entry the P&L is zero, so :math:`R = (D - F) / (P_0 Q / L)`; :math:`R \\ge r` gives

    .. math:: Q_{max} = \\frac{(D - F) L}{r P_0}

    Examples
    --------
    With 1,000,000 JPY on a 2x venue and BTC at 10,000,000, staying at or above 300 % allows
    0.0667 BTC; a veteran's 700 % allows 0.0286 (SPEC §10):

    >>> import xlcalc as xc
    >>> round(xc.max_quantity(1_000_000, 10_000_000, 2, level=3.0), 4)
    0.0667
    >>> round(xc.max_quantity(1_000_000, 10_000_000, 2, level=7.0), 4)
    0.0286
    """
    a = Inputs()
    d, p0, lev, f = _planned(a, deposit, entry_price, leverage, fees)
    r = a.number("level", level)
    return a.out(np.maximum(d - f, 0.0) * lev / (r * p0))


def days_to_level(
    deposit, side, entry_price, price, quantity, leverage, level, daily_rate, basis="entry", fees=0.0
):
    """Days until a daily fee on the notional brings the ratio at ``price`` down to ``level``.

    Parameters
    ----------
    deposit, side, entry_price, price, quantity, leverage, basis, fees
        As in :func:`xlcalc.maintenance_ratio`; ``price`` is held where it is.
    level : float or array_like
        The ratio to reach, as a fraction (0.5 = a 50 % loss-cut), > 0.
    daily_rate : float or array_like
        Leverage fee or funding per day as a fraction of the entry notional
        (0.0004 = 0.04 %/day), >= 0.

    Returns
    -------
    float, ndarray or Series
        Days (fractional); 0 where the ratio is already at or below ``level``; else NaN
        where ``daily_rate`` is 0 (no fee ever brings it there).

    Notes
    -----
    Each day adds :math:`P_0 Q f` to the fees (as in :func:`xlcalc.holding_cost`).
    Solving :math:`E(P) - n P_0 Q f = r M(P)` for the number of days :math:`n`:

    .. math:: n = \\max\\left(0,\\ \\frac{E(P) - r M(P)}{P_0 Q f}\\right)

    Examples
    --------
    1,000,000 JPY backs a 2x long of 0.1 BTC at 10,000,000; at 0.04 %/day (400 JPY) and an
    unchanged price, the fee alone takes the ratio from 200 % to the 50 % loss-cut in
    1,875 days (SPEC §10). At 7,500,000 the margin call (100 %) is 625 days away; at
    4,000,000 the position is already in it:

    >>> import xlcalc as xc
    >>> xc.days_to_level(1_000_000, "long", 10_000_000, 10_000_000, 0.1, 2, 0.5, 0.0004)
    1875.0
    >>> xc.days_to_level(1_000_000, "long", 10_000_000, [7_500_000, 4_000_000], 0.1, 2, 1.0, 0.0004)
    array([625.,   0.])
    """
    a = Inputs()
    d, s, p0, p, q, lev = a.position(deposit, side, entry_price, price, quantity, leverage)
    r = a.number("level", level)
    rate = a.number("daily_rate", daily_rate, rule="nonnegative")
    mark = a.basis("basis", basis)
    f = a.number("fees", fees, rule="nonnegative")
    equity = d + s * (p - p0) * q - f
    margin = np.where(mark, p, p0) * q / lev
    daily_fee = p0 * q * rate
    room = equity - r * margin
    with np.errstate(divide="ignore", invalid="ignore"):
        days = np.where(room <= 0, 0.0, np.where(daily_fee > 0, room / daily_fee, math.nan))
    return a.out(days)
