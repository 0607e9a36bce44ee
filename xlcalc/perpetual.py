"""Maintenance-margin-rate model of international perpetuals (SPEC §1).

Binance, Bybit, OKX and Gate hold a maintenance margin ``MM(P) = P·Q·mmr − cum`` and
liquidate when ``E(P) <= MM(P)`` on the mark price: the mark-basis trigger solver with
``k = mmr`` and ``c = −cum``.
"""
from __future__ import annotations

import numpy as np

from ._inputs import Inputs, positive_or_nan

__all__ = ["liquidation_price"]


def liquidation_price(wallet_balance, side, entry_price, quantity, mmr, maintenance_amount=0.0,
                      other_maintenance=0.0, other_pnl=0.0, tiers=None):
    """Liquidation price of a linear (USDⓈ-margined) perpetual position.

    Parameters
    ----------
    wallet_balance : float or array_like
        Wallet balance backing the position (isolated: the position margin), >= 0.
    side : {+1, -1, "long", "short", ...} or array_like
    entry_price : float or array_like
        Entry price, > 0.
    quantity : float or array_like
        Position size in base units, > 0.
    mmr : float or array_like
        Maintenance margin rate as a fraction (0.004 = 0.4 %), >= 0.
    maintenance_amount : float or array_like, optional
        The tier's maintenance amount ("cum"), >= 0.
    other_maintenance, other_pnl : float or array_like, optional
        Cross margin: the other positions' maintenance margin and unrealized P&L, held at
        their mark prices.
    tiers : optional
        Not supported in this function yet; pass the tier's ``mmr`` and
        ``maintenance_amount`` directly.

    Returns
    -------
    float, ndarray or Series
        NaN where the position can never be liquidated.

    Notes
    -----
    With :math:`WB' = WB - TMM_{other} + UPNL_{other}`:

    .. math:: LP = \\frac{s P_0 Q - WB' - cum}{Q (s - mmr)}

    Examples
    --------
    Binance's FAQ pattern: 1,000 USDT isolated behind a long of 1 BTC at 10,000 with a
    0.4 % maintenance rate is liquidated near 9,036:

    >>> import xlcalc as xc
    >>> round(xc.liquidation_price(1_000, "long", 10_000, 1, 0.004), 2)
    9036.14
    """
    a = Inputs()
    wb = a.number("wallet_balance", wallet_balance, rule="any")
    s = a.side("side", side)
    p0 = a.number("entry_price", entry_price)
    q = a.number("quantity", quantity)
    rate = a.number("mmr", mmr, rule="nonnegative")
    cum = a.number("maintenance_amount", maintenance_amount, rule="nonnegative")
    tmm = a.number("other_maintenance", other_maintenance, rule="nonnegative")
    upnl = a.number("other_pnl", other_pnl, rule="any")
    balance = wb - tmm + upnl
    with np.errstate(divide="ignore", invalid="ignore"):
        lp = (s * p0 * q - balance - cum) / (q * (s - rate))
    return a.out(positive_or_nan(lp))
