"""Inverse (coin-margined) contracts: BitMEX XBTUSD, Bybit BTCUSD, Binance COIN-M (SPEC §1).

A contract is worth a fixed amount ``V`` of the quote currency (1 USD on BitMEX and Bybit,
100 USD for Binance's BTCUSD); ``N`` contracts are worth ``N·V/P`` coins at price ``P``.
Margin, P&L and the maintenance margin are in the coin::

    PnL(P) = s · N · V · (1/P0 − 1/P)
    E(P)   = WB + PnL(P)
    MM(P)  = N · V / P · (mmr + fee) − cum
    M      = N · V / (P_basis · L)

Everything is linear in ``1/P``, so each trigger price is one linear solve in ``1/P``.
A long loses coins as the price falls *and* its coins lose value, so a long always has a
liquidation price; a short backed by its full coin value (1x) never does.

Every function broadcasts like the rest of the core (scalars → float, arrays → ndarray,
Series → Series).
"""

from __future__ import annotations

import numpy as np

from ._inputs import Inputs, positive_or_nan
from .core import round_to_tick
from .tiers import (
    check_rates,
    checked_rate_and_amount,
    cross_balance,
    entry_price_for_basis,
    is_entry_basis,
    maintenance_on,
    rate_fraction,
    tiered_liquidation,
)

__all__ = [
    "unrealized_pnl",
    "required_margin",
    "equity",
    "maintenance_margin",
    "liquidation_price",
    "bankruptcy_price",
    "trigger_price",
]


def _position(a, side, entry_price, contracts, contract_value):
    s = a.side("side", side)
    p0 = a.number("entry_price", entry_price)
    n = a.number("contracts", contracts)
    v = a.number("contract_value", contract_value)
    return s, p0, n * v


def _wallet_and_position(a, wallet_balance, side, entry_price, contracts, contract_value):
    """The checked wallet balance (in coin, any sign), then :func:`_position`."""
    wb = a.number("wallet_balance", wallet_balance, rule="any")
    return (wb, *_position(a, side, entry_price, contracts, contract_value))


def _price_and_value(a, price, contracts, contract_value):
    """The checked price and the position's value in the quote currency (contracts x value)."""
    p = a.number("price", price)
    return p, a.number("contracts", contracts) * a.number("contract_value", contract_value)


def unrealized_pnl(side, entry_price, price, contracts, contract_value):
    """Unrealized P&L of an inverse position, in coin.

    Parameters
    ----------
    side : {+1, -1, "long", "short", ...} or array_like
    entry_price : float or array_like
        Entry price (USD per coin), > 0.
    price : float or array_like
        Mark or scenario price, > 0.
    contracts : float or array_like
        Number of contracts, > 0.
    contract_value : float or array_like
        Quote-currency value of one contract (1 for BitMEX XBTUSD, 100 for Binance
        BTCUSD), > 0.

    Returns
    -------
    float, ndarray or Series
        P&L in coin; negative is a loss.

    Notes
    -----
    .. math:: PnL = s N V \\left(\\frac{1}{P_0} - \\frac{1}{P}\\right)

    Examples
    --------
    A trader buys 10,000 one-dollar contracts at 8,000 and sells at 10,000: the gain is
    1.25 − 1.0 = 0.25 BTC. The short loses the same:

    >>> from xlcalc import inverse
    >>> inverse.unrealized_pnl(["long", "short"], 8_000, 10_000, 10_000, 1)
    array([ 0.25, -0.25])
    """
    a = Inputs()
    s, p0, nv = _position(a, side, entry_price, contracts, contract_value)
    p = a.number("price", price)
    return a.out(s * nv * (1 / p0 - 1 / p))


def required_margin(price, contracts, contract_value, leverage):
    """Required (initial) margin of an inverse position, in coin.

    Parameters
    ----------
    price : float or array_like
        The price the margin is computed on: the entry price (entry basis) or the mark
        price (mark basis), > 0.
    contracts, contract_value : float or array_like
        As in :func:`unrealized_pnl`.
    leverage : float or array_like
        Leverage, > 0.

    Returns
    -------
    float, ndarray or Series
        In coin: the contracts' value in the quote currency over the price, over the leverage.

    Notes
    -----
    .. math:: M = \\frac{N V}{P_{basis} L}

    Examples
    --------
    Bybit's isolated example: 60,000 USD of BTCUSD at 50,000 is 1.2 BTC; at 10x the initial
    margin is 0.12 BTC:

    >>> from xlcalc import inverse
    >>> round(inverse.required_margin(50_000, 60_000, 1, 10), 10)
    0.12
    """
    a = Inputs()
    p, nv = _price_and_value(a, price, contracts, contract_value)
    lev = a.number("leverage", leverage)
    return a.out(nv / (p * lev))


def equity(wallet_balance, side, entry_price, price, contracts, contract_value):
    """Equity (margin balance) of an inverse position in coin: ``WB + PnL(P)``.

    Examples
    --------
    0.5 BTC behind the 10,000-contract long from 8,000; at 10,000 it holds 0.75 BTC:

    >>> from xlcalc import inverse
    >>> inverse.equity(0.5, "long", 8_000, 10_000, 10_000, 1)
    0.75
    """
    a = Inputs()
    wb, s, p0, nv = _wallet_and_position(a, wallet_balance, side, entry_price, contracts, contract_value)
    p = a.number("price", price)
    return a.out(wb + s * nv * (1 / p0 - 1 / p))


def maintenance_margin(
    price,
    contracts,
    contract_value,
    mmr=None,
    maintenance_amount=0.0,
    tiers=None,
    taker_fee=0.0,
    mm_basis="mark",
    entry_price=None,
):
    """Maintenance margin of an inverse position at ``price``, in coin.

    Parameters
    ----------
    price : float or array_like
        Mark price, > 0.
    contracts, contract_value : float or array_like
        As in :func:`unrealized_pnl`.
    mmr, maintenance_amount : float or array_like, optional
        Rate and amount (in coin), used when ``tiers`` is not given.
    tiers : table, optional
        A tier table with floors and caps in coin (Binance COIN-M style), any form
        :func:`xlcalc.perpetual.tier_table` accepts.
    taker_fee : float or array_like, optional
        Fee rate to close, included in the threshold.
    mm_basis : {"mark", "entry"}, optional
        ``"entry"`` values the rate part at ``entry_price`` (coin value ``N·V/P0``) and the fee
        at ``price`` (pass the bankruptcy price for Bybit's figure).
    entry_price : float or array_like, optional
        Needed with ``mm_basis="entry"``.

    Notes
    -----
    .. math:: MM = \\frac{N V}{P} (mmr + fee) - cum \\text{ (mark)}, \\quad
              MM = \\frac{N V}{P_0} mmr - cum + \\frac{N V}{P} fee \\text{ (entry)}

    Examples
    --------
    Binance's COIN-M FAQ: 100 BTCUSD contracts of 100 USD at a mark price of 25,000 are
    0.4 BTC, first tier, 0.4 %:

    >>> from xlcalc import inverse
    >>> round(inverse.maintenance_margin(25_000, 100, 100, 0.004), 10)
    0.0016
    """
    a = Inputs()
    p, nv = _price_and_value(a, price, contracts, contract_value)
    p0 = entry_price_for_basis(a, mm_basis, entry_price)
    entry_value = None if p0 is None else nv / p0
    return a.out(maintenance_on(a, nv / p, mmr, maintenance_amount, taker_fee, tiers, entry_value))


# 1/P is a difference of terms of the size of 1/P0, so below 1e-12/P0 it is rounding noise:
# a short backed by exactly its own value in coin never goes bankrupt, yet 1/P came out 2e-18.
# A price beyond 1e12 times the entry is therefore "never reached".
NEVER_BEYOND_ENTRY = 1e12


def _reachable(price, p0):
    with np.errstate(invalid="ignore"):
        return np.where(np.asarray(price) > NEVER_BEYOND_ENTRY * p0, np.nan, price)


def _price_from_inverse(x):
    with np.errstate(divide="ignore", invalid="ignore"):
        return positive_or_nan(1.0 / np.where(x > 0, x, np.nan))


def liquidation_price(
    wallet_balance,
    side,
    entry_price,
    contracts,
    contract_value,
    mmr,
    maintenance_amount=0.0,
    other_maintenance=0.0,
    other_pnl=0.0,
    tiers=None,
    taker_fee=0.0,
    mm_basis="mark",
    tick_size=None,
):
    """Liquidation price of an inverse (coin-margined) position.

    Parameters
    ----------
    wallet_balance : float or array_like
        Coin backing the position (isolated: the position margin).
    side, entry_price, contracts, contract_value
        As in :func:`unrealized_pnl`.
    mmr, maintenance_amount : float or array_like
        Maintenance margin rate and amount (coin); ignored (may be None) with ``tiers``.
    other_maintenance, other_pnl : float or array_like, optional
        Cross margin: the other positions' maintenance margin and P&L in the same coin.
    tiers : table, optional
        Tier table in coin; the tier holding ``N·V/LP`` applies (as in
        :func:`xlcalc.liquidation_price`).
    taker_fee : float or array_like, optional
        Fee rate to close, added to the maintenance rate (mark basis) or paid at the
        fee-inclusive bankruptcy price (entry basis).
    mm_basis : {"mark", "entry"}, optional
        ``"entry"`` (Bybit's classic inverse pages): the maintenance margin is the fixed
        ``N·V·mmr/P0 − cum`` coin, tier of the entry value.
    tick_size : float or array_like, optional
        Round the price to the venue's tick, up for a long and down for a short.

    Returns
    -------
    float, ndarray or Series
        NaN where the position can never be liquidated.

    Notes
    -----
    With :math:`WB' = WB - TMM_{other} + UPNL_{other}`, :math:`m = mmr + fee`, solving
    :math:`WB' + s N V (1/P_0 - 1/P) = N V m / P - cum` in :math:`1/P`:

    .. math:: LP = \\frac{N V (s + m)}{WB' + cum + s N V / P_0}

    For a long this is Bybit's isolated inverse formula
    ``Size × (1 + MMR) / (Size/Entry + Initial margin + MM deduction)``.

    On entry basis, with :math:`MM_e = N V\\,mmr / P_0 - cum` and the fee to close at the
    fee-inclusive bankruptcy price, :math:`fee\\,N V / BP = fee (WB' + s N V / P_0) / (s + fee)`:

    .. math:: \\frac{1}{LP} = \\frac{WB' + s N V / P_0 - MM_e - fee\\,N V / BP}{s N V}

    Examples
    --------
    The inputs of Bybit's isolated example: 60,000 USD of BTCUSD from 50,000 at 10x
    (0.12 BTC margin), 0.5 % maintenance rate. A long is liquidated at
    60,000 × 1.005 / (1.2 + 0.12) ≈ 45,681.82, a short at 60,000 × 0.995 / (1.2 − 0.12):

    >>> from xlcalc import inverse
    >>> inverse.liquidation_price(0.12, ["long", "short"], 50_000, 60_000, 1, 0.005).round(2)
    array([45681.82, 55277.78])

    A short holding its full value in coin (1x, 1.2 BTC) cannot be liquidated:

    >>> inverse.liquidation_price(1.2, "short", 50_000, 60_000, 1, 0.005)
    nan

    Bybit's cross example (help article 360039261334): 0.5 BTC, long 10,000 contracts of
    1 USD at 8,000, 0.5 % on the entry value, 0.075 % taker fee. Bybit shows 5,739.50, the
    exact price rounded up to its 0.5 tick:

    >>> lp = inverse.liquidation_price(0.5, "long", 8_000, 10_000, 1, 0.005, taker_fee=0.00075,
    ...                                mm_basis="entry")
    >>> round(lp, 2)
    5739.08
    >>> inverse.liquidation_price(0.5, "long", 8_000, 10_000, 1, 0.005, taker_fee=0.00075,
    ...                           mm_basis="entry", tick_size=0.5)
    5739.5
    """
    a = Inputs()
    wb, s, p0, nv = _wallet_and_position(a, wallet_balance, side, entry_price, contracts, contract_value)
    balance = cross_balance(a, wb, other_maintenance, other_pnl)
    fee = a.number("taker_fee", taker_fee, rule="nonnegative")
    if is_entry_basis(mm_basis):
        rate, cum = checked_rate_and_amount(a, nv / p0, mmr, maintenance_amount, tiers, fee)
        with np.errstate(divide="ignore", invalid="ignore"):
            coin_left = balance + s * nv / p0
            close_fee = fee * coin_left / (s + fee)  # fee·N·V/BP
            lp = _price_from_inverse((coin_left - (nv * rate / p0 - cum) - close_fee) / (s * nv))
    elif tiers is not None:
        # in x = 1/P the position is a linear one of notional N·V·x and side −s
        lp = _price_from_inverse(tiered_liquidation(-s, nv, 1 / p0, balance, fee, tiers))
    else:
        rate = rate_fraction(a, "mmr", mmr) + fee
        cum = a.number("maintenance_amount", maintenance_amount, rule="nonnegative")
        with np.errstate(divide="ignore", invalid="ignore"):
            lp = positive_or_nan(nv * (s + rate) / (balance + cum + s * nv / p0))
    return a.out(round_to_tick(_reachable(lp, p0), s, tick_size))


def bankruptcy_price(
    wallet_balance, side, entry_price, contracts, contract_value, other_pnl=0.0, taker_fee=0.0, tick_size=None
):
    """Bankruptcy (zero-equity) price of an inverse position, after the fee to close there.

    Parameters
    ----------
    wallet_balance, side, entry_price, contracts, contract_value, other_pnl
        As in :func:`liquidation_price`.
    taker_fee : float or array_like, optional
        Fee rate to close: the price is where the coin left after paying it is zero.
    tick_size : float or array_like, optional
        Round to the venue's tick, up for a long and down for a short.

    Notes
    -----
    Solving :math:`WB' + s N V (1/P_0 - 1/P) = fee\\,N V / P` with :math:`WB' = WB + UPNL_{other}`:

    .. math:: P_b = \\frac{N V (s + fee)}{WB' + s N V / P_0}

    (for a long Bybit's ``1.00075 × Qty / (Qty/Entry + balance)``); without a fee
    :math:`P_b = N V P_0 / (N V + s\\,WB' P_0)`.

    Examples
    --------
    Bybit's isolated example at 10x: 0.12 BTC behind 60,000 USD from 50,000. The long is
    wiped out at 1/(1/50,000 + 0.1/50,000) ≈ 45,454.55, the short near 55,555.56:

    >>> from xlcalc import inverse
    >>> inverse.bankruptcy_price(0.12, ["long", "short"], 50_000, 60_000, 1).round(2)
    array([45454.55, 55555.56])

    Bybit's cross example (help article 360039261334): 0.5 BTC behind 10,000 contracts long
    from 8,000 with a 0.075 % fee to close, 1.00075 × 10,000 / (10,000/8,000 + 0.5):

    >>> round(inverse.bankruptcy_price(0.5, "long", 8_000, 10_000, 1, taker_fee=0.00075), 2)
    5718.57
    """
    a = Inputs()
    wb, s, p0, nv = _wallet_and_position(a, wallet_balance, side, entry_price, contracts, contract_value)
    upnl = a.number("other_pnl", other_pnl, rule="any")
    fee = a.number("taker_fee", taker_fee, rule="nonnegative")
    with np.errstate(divide="ignore", invalid="ignore"):
        if np.ndim(fee) == 0 and fee == 0:
            pb = nv * p0 / (nv + s * (wb + upnl) * p0)
        else:
            check_rates(np.zeros(1), float(np.max(fee)), name="taker_fee")
            pb = nv * (s + fee) / (wb + upnl + s * nv / p0)
    return a.out(round_to_tick(_reachable(positive_or_nan(pb), p0), s, tick_size))


def trigger_price(
    wallet_balance,
    side,
    entry_price,
    contracts,
    contract_value,
    leverage,
    level,
    basis="entry",
    tick_size=None,
):
    """Price where the maintenance ratio ``E / M`` of an inverse position reaches ``level``.

    Parameters
    ----------
    wallet_balance, side, entry_price, contracts, contract_value
        As in :func:`liquidation_price`.
    leverage : float or array_like
        Leverage of the required margin, > 0.
    level : float or array_like
        Ratio level as a fraction (1.0 = 100 %), > 0.
    basis : {"entry", "mark"}, optional
        Required margin on the entry price (constant in coin) or on the mark price.
    tick_size : float or array_like, optional
        Round to the venue's tick, up for a long and down for a short.

    Returns
    -------
    float, ndarray or Series
        NaN where the level is never reached.

    Notes
    -----
    The threshold ``r·M`` is ``r N V / (P_0 L)`` (entry basis) or ``r N V / (P L)`` (mark
    basis), so this is :func:`liquidation_price` with ``mmr = r / L`` on mark basis and,
    on entry basis, a constant threshold:

    .. math:: \\frac{1}{P} = \\frac{1}{P_0} + s \\, \\frac{WB - r N V / (P_0 L)}{N V}

    Examples
    --------
    1 BTC behind 10,000 one-dollar contracts long from 10,000 (1 BTC notional, 1x): the
    ratio falls to 50 % of the entry margin where equity is 0.5 BTC, at 6,666.67:

    >>> from xlcalc import inverse
    >>> round(inverse.trigger_price(1, "long", 10_000, 10_000, 1, 1, 0.5), 2)
    6666.67
    """
    a = Inputs()
    wb, s, p0, nv = _wallet_and_position(a, wallet_balance, side, entry_price, contracts, contract_value)
    lev = a.number("leverage", leverage)
    r = a.number("level", level)
    mark = a.basis("basis", basis)
    with np.errstate(divide="ignore", invalid="ignore"):
        mark_lp = nv * (s + r / lev) / (wb + s * nv / p0)
        entry_x = 1 / p0 + s * (wb - r * nv / (p0 * lev)) / nv
        entry_lp = 1 / np.where(entry_x > 0, entry_x, np.nan)
    price = positive_or_nan(np.where(mark, mark_lp, entry_lp))
    return a.out(round_to_tick(_reachable(price, p0), s, tick_size))
