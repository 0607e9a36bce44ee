"""Cross margin: several positions funded by one deposit (SPEC §1, "Cross margin").

``E = D - F + Σ PnL_i``, ``M = Σ M_i``, ``R = E / M``. The account's distance to a level
is reported as the uniform market move ``x`` (every price times ``1 + x``) at which the
account ratio reaches it; for positions in one asset ``price · (1 + x)`` is the account's
trigger price, with hedged long and short legs partly cancelling.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._inputs import InputError, Inputs
from .core import _margin_price

__all__ = ["AccountState", "account_state", "market_move_to_level"]


@dataclass(frozen=True)
class AccountState:
    """Figures of one cross-margin account at the given prices."""

    equity: float
    required_margin: float
    ratio: float
    pnl: float


def _legs(side, entry_price, price, quantity, leverage, basis):
    a = Inputs()
    s = np.atleast_1d(a.side("side", side))
    p0 = np.atleast_1d(a.number("entry_price", entry_price))
    p = np.atleast_1d(a.number("price", price))
    q = np.atleast_1d(a.number("quantity", quantity))
    lev = np.atleast_1d(a.number("leverage", leverage))
    mark = a.basis("basis", basis)
    s, p0, p, q, lev = np.broadcast_arrays(s, p0, p, q, lev)
    if not isinstance(mark, bool):
        mark = np.broadcast_to(np.atleast_1d(mark), s.shape)
    return s, p0, p, q, lev, mark


def _one(a, name, value, rule="nonnegative") -> float:
    """One number for the whole account (the deposit, its fees, a level)."""
    x = a.number(name, value, rule=rule)
    if np.ndim(x) != 0:
        raise InputError(f"{name} must be one number for the account, got {np.size(x)} values")
    return float(x)


def _hedged_margin(margin, side, symbol, hedge):
    """Σ M over the legs (``"sum"``), or per symbol ``max(Σ M_long, Σ M_short)`` (``"max"``)."""
    word = str(hedge).strip().lower()
    if word not in ("sum", "max"):
        raise InputError(f"hedge must be 'sum' or 'max', got {hedge!r}", argument="hedge", value=hedge)
    if word == "sum":
        return float(np.sum(margin))
    names = np.atleast_1d(np.asarray("" if symbol is None else symbol, dtype=object))
    if names.shape not in ((1,), margin.shape):
        raise InputError(
            f"symbol must be one name or one per position, got {names.size} names for "
            f"{margin.size} positions",
            argument="symbol",
            value=names.size,
        )
    names = np.broadcast_to(names, margin.shape)
    total = 0.0
    for name in dict.fromkeys(names.tolist()):
        rows = names == name
        total += max(float(margin[rows & (side > 0)].sum()), float(margin[rows & (side < 0)].sum()))
    return total


def account_state(
    deposit,
    side,
    entry_price,
    price,
    quantity,
    leverage,
    basis="entry",
    fees=0.0,
    quote_rate=1.0,
    symbol=None,
    hedge="sum",
):
    """Equity, required margin and ratio of one account holding several positions.

    Parameters
    ----------
    deposit : float
        The account's deposit (one number for all positions), >= 0.
    side, entry_price, price, quantity, leverage : array_like
        One element per position, as in :func:`xlcalc.maintenance_ratio`.
    basis : {"entry", "mark"} or array_like, optional
    fees : float, optional
        The account's unpaid costs, >= 0.
    quote_rate : float or array_like, optional
        Account currency per unit of each position's quote currency, > 0 (USD/JPY for a
        EUR/USD position in a yen account); 1 by default.
    symbol : array_like, optional
        Each position's symbol, for ``hedge="max"``; None: every position is one symbol.
    hedge : {"sum", "max"}, optional
        ``"sum"`` (default) adds every leg's required margin; ``"max"`` margins each symbol
        on its larger side, ``max(Σ M_long, Σ M_short)`` (両建て at several Japanese FX
        brokers; Kraken multi-collateral).

    Returns
    -------
    AccountState

    Notes
    -----
    .. math:: R = \\frac{D - F + \\sum_i s_i (P_i - P_{0,i}) Q_i r_i}{\\sum_i M_i r_i}

    with the sum in the denominator taken per symbol on the larger side for ``hedge="max"``.

    Examples
    --------
    A hedged account: long 0.3 BTC and short 0.1 BTC, both from 10,000,000 at 2x, on
    1,000,000 JPY. At 9,000,000 the legs lose 300,000 and gain 100,000:

    >>> import xlcalc as xc
    >>> st = xc.account_state(1_000_000, ["long", "short"], 10_000_000, 9_000_000, [0.3, 0.1], 2)
    >>> st.equity, st.required_margin, st.ratio
    (800000.0, 2000000.0, 0.4)

    Margined on the larger side (両建て), only the long's 1,500,000 counts:

    >>> xc.account_state(1_000_000, ["long", "short"], 10_000_000, 9_000_000, [0.3, 0.1], 2,
    ...                  hedge="max").required_margin
    1500000.0
    """
    a = Inputs()
    d = _one(a, "deposit", deposit)
    f = _one(a, "fees", fees)
    s, p0, p, q, lev, mark = _legs(side, entry_price, price, quantity, leverage, basis)
    r = np.atleast_1d(a.number("quote_rate", quote_rate))
    if r.shape not in ((1,), s.shape):
        raise InputError(
            f"quote_rate must be one number or one per position, got {r.size} values for {s.size} positions",
            argument="quote_rate",
            value=r.size,
        )
    pnl = float(np.sum(s * (p - p0) * q * r))
    margin = _hedged_margin(_margin_price(mark, p0, p) * q / lev * r, s, symbol, hedge)
    eq = d - f + pnl
    ratio = eq / margin if margin > 0 else math.nan
    return AccountState(equity=eq, required_margin=margin, ratio=ratio, pnl=pnl)


def market_move_to_level(
    deposit, side, entry_price, price, quantity, leverage, level, basis="entry", fees=0.0
):
    """Uniform market move at which the account ratio reaches ``level``.

    Parameters
    ----------
    deposit, side, entry_price, price, quantity, leverage, basis, fees
        As in :func:`account_state`.
    level : float
        The ratio to reach, as a fraction, > 0.

    Returns
    -------
    float
        ``x`` such that moving every price to ``price · (1 + x)`` puts the ratio at
        ``level`` (-0.2 = the market falls 20 %); NaN when no move can (for example a
        perfectly hedged account).

    Notes
    -----
    With :math:`E_0` the equity now, :math:`A = \\sum s_i P_i Q_i`, :math:`M_0` the
    required margin now and :math:`B = \\sum_{mark} P_i Q_i / L_i` (the part that moves
    with the price):

    .. math:: E_0 + x A = r (M_0 + x B) \\;\\Rightarrow\\; x = \\frac{r M_0 - E_0}{A - r B}

    valid when :math:`1 + x > 0`.

    Examples
    --------
    1,000,000 JPY behind a 2x long of 0.1 BTC at 10,000,000: the market may fall 50 %
    before a 100 % margin call and 75 % before a 50 % loss-cut:

    >>> import xlcalc as xc
    >>> xc.market_move_to_level(1_000_000, "long", 10_000_000, 10_000_000, 0.1, 2, 1.0)
    -0.5
    >>> xc.market_move_to_level(1_000_000, "long", 10_000_000, 10_000_000, 0.1, 2, 0.5)
    -0.75
    """
    a = Inputs()
    d = _one(a, "deposit", deposit)
    f = _one(a, "fees", fees)
    r = _one(a, "level", level, rule="positive")
    s, p0, p, q, lev, mark = _legs(side, entry_price, price, quantity, leverage, basis)
    e0 = d - f + float(np.sum(s * (p - p0) * q))
    m0 = float(np.sum(_margin_price(mark, p0, p) * q / lev))
    slope = float(np.sum(s * p * q))
    moving = float(np.sum(np.where(mark, p, 0.0) * q / lev))
    den = slope - r * moving
    if den == 0:
        return math.nan
    x = (r * m0 - e0) / den
    return x if math.isfinite(x) and x > -1 else math.nan
