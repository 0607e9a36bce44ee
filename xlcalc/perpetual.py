"""Maintenance-margin-rate model of international perpetuals (SPEC §1).

Binance, Bybit, OKX and Gate hold a maintenance margin ``MM(P) = P·Q·mmr − cum`` and
liquidate when ``E(P) <= MM(P)`` on the mark price: the mark-basis trigger solver with
``k = mmr`` and ``c = −cum``. With a tier table the rate and the maintenance amount
(``cum``) are those of the tier containing the notional ``P·Q``. An optional taker fee to
close the position adds to the rate (``mmr + taker_fee`` on the notional at ``P``), as OKX
and Gate define the threshold.

Tier tables (:func:`xlcalc.tiers.tier_table`) have one row per tier: ``floor``, ``cap`` (notional in the
quote currency), ``mmr`` and ``maintenance_amount``. A tier covers notionals
``floor < N <= cap`` (Binance writes "50,000 < Position ≤ 250,000"); the first tier also
covers everything below its floor and the last everything above its cap (an exchange would
not let such a position open, so the last tier is the best estimate).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._inputs import InputError, Inputs, positive_or_nan
from .core import round_to_tick
from .tiers import (
    TIER_COLUMNS,
    check_rates,
    checked_rate_and_amount,
    cross_balance,
    entry_price_for_basis,
    exchange_tiers,
    given_with,
    is_blank,
    is_entry_basis,
    maintenance_on,
    rate_fraction,
    tier_arrays,
    tier_for,
    tier_index,
    tier_table,
    tiered_liquidation,
)

__all__ = [
    "TIER_COLUMNS",
    "tier_table",
    "tier_for",
    "exchange_tiers",
    "liquidation_price",
    "maintenance_margin",
    "bankruptcy_price",
    "cross_account",
    "CrossAccount",
    "initial_margin",
    "pnl",
    "roe",
    "target_price",
    "max_open_quantity",
    "margin_ratio",
    "HEDGE_RULES",
]

HEDGE_RULES = ("sum", "max")


# -- one position -------------------------------------------------------------------------
def _wallet_and_position(a, wallet_balance, side, entry_price, quantity):
    """The checked wallet balance (any sign: cross margin may be in debt), side, entry, size."""
    wb = a.number("wallet_balance", wallet_balance, rule="any")
    return wb, a.side("side", side), a.number("entry_price", entry_price), a.number("quantity", quantity)


def liquidation_price(
    wallet_balance,
    side,
    entry_price,
    quantity,
    mmr,
    maintenance_amount=0.0,
    other_maintenance=0.0,
    other_pnl=0.0,
    tiers=None,
    taker_fee=0.0,
    mm_basis="mark",
    tick_size=None,
):
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
        Maintenance margin rate as a fraction (0.004 = 0.4 %), >= 0. Ignored (may be None
        or NaN) when ``tiers`` is given.
    maintenance_amount : float or array_like, optional
        The tier's maintenance amount ("cum"), >= 0. Ignored when ``tiers`` is given.
    other_maintenance, other_pnl : float or array_like, optional
        Cross margin: the other positions' maintenance margin and unrealized P&L, held at
        their mark prices.
    tiers : table, optional
        A tier table in any form :func:`tier_table` accepts (DataFrame, list, Excel range);
        one table for every row. The rate and amount are then the tier's that holds the
        notional at the liquidation price.
    taker_fee : float or array_like, optional
        Taker fee rate to close, added to the maintenance rate (0.0005 = 0.05 %), >= 0.

    mm_basis : {"mark", "entry"}, optional
        ``"mark"`` (default; Binance, Bybit UTA): the maintenance margin is valued at the
        liquidation price. ``"entry"`` (Bybit classic pages, jesse, freqtrade's Bybit code):
        it is the fixed ``P0·Q·mmr − cum`` (tier of the entry notional), and the taker fee is
        the fee to close at the fee-inclusive bankruptcy price.
    tick_size : float or array_like, optional
        Round the price to the venue's tick, up for a long and down for a short.

    Returns
    -------
    float, ndarray or Series
        NaN where the position can never be liquidated (Binance's UI shows "--").

    Notes
    -----
    With :math:`WB' = WB - TMM_{other} + UPNL_{other}` and :math:`m = mmr + fee`,
    liquidation is where :math:`WB' + s (P - P_0) Q = P Q m - cum`:

    .. math:: LP = \\frac{s P_0 Q - WB' - cum}{Q (s - m)}

    On entry basis the threshold is fixed, :math:`MM_e = P_0 Q\\,mmr - cum` plus the fee to
    close at the bankruptcy price :math:`BP = (s P_0 Q - WB') / (Q (s - fee))`:

    .. math:: LP = P_0 + s \\frac{MM_e + fee\\,BP\\,Q - WB'}{Q}

    With tiers, every tier's line is solved at once and the tier whose range holds
    :math:`LP \\cdot Q` is kept (the exchanges' "re-pick and re-solve until consistent").
    A notional exactly on a boundary belongs to the lower tier; with maintenance amounts
    derived as in :func:`tier_table` both sides give the same price. For a table whose
    amounts make the maintenance margin jump at a boundary, where no tier may be
    consistent, the answer is the first price, moving against the position, at which
    equity is at or below the maintenance margin: that boundary price.

    Examples
    --------
    1,000 USDT isolated behind a long of 1 BTC at 10,000 with a 0.4 % maintenance rate is
    liquidated near 9,036:

    >>> import xlcalc as xc
    >>> round(xc.liquidation_price(1_000, "long", 10_000, 1, 0.004), 2)
    9036.14

    A long of 10 BTC at 60,000 (600,000 USDT notional) with 30,000 USDT: at the
    liquidation price the notional is about 574,000, so Binance's third BTCUSDT tier (1 %,
    1,300 USDT) applies:

    >>> tiers = xc.exchange_tiers("binance_usdm")
    >>> round(xc.liquidation_price(30_000, "long", 60_000, 10, None, tiers=tiers), 2)
    57444.44

    Closing costs a 0.05 % taker fee, which brings liquidation a little closer:

    >>> round(xc.liquidation_price(30_000, "long", 60_000, 10, None, tiers=tiers,
    ...                            taker_fee=0.0005), 2)
    57473.47

    jesse's isolated test (TestLiquidationInIsolatedModeForLongTrade) and freqtrade's Bybit
    formula value the maintenance margin at entry: 10,000 USDT at 2x, long 250 at 80, 0.4 %:

    >>> round(xc.liquidation_price(10_000, "long", 80, 250, 0.004, mm_basis="entry"), 2)
    40.32
    """
    a = Inputs()
    wb, s, p0, q = _wallet_and_position(a, wallet_balance, side, entry_price, quantity)
    balance = cross_balance(a, wb, other_maintenance, other_pnl)
    fee = a.number("taker_fee", taker_fee, rule="nonnegative")
    if is_entry_basis(mm_basis):
        rate, cum = checked_rate_and_amount(a, p0 * q, mmr, maintenance_amount, tiers, fee)
        with np.errstate(divide="ignore", invalid="ignore"):
            close_fee = fee * (s * p0 * q - balance) / (s - fee)  # fee·BP·Q
            lp = p0 + s * (p0 * q * rate - cum + close_fee - balance) / q
    elif tiers is not None:
        lp = tiered_liquidation(s, q, p0, balance, fee, tiers)
    else:
        rate = rate_fraction(a, "mmr", mmr) + fee
        cum = a.number("maintenance_amount", maintenance_amount, rule="nonnegative")
        with np.errstate(divide="ignore", invalid="ignore"):
            lp = (s * p0 * q - balance - cum) / (q * (s - rate))
    return a.out(round_to_tick(positive_or_nan(lp), s, tick_size))


def maintenance_margin(
    price,
    quantity,
    mmr=None,
    maintenance_amount=0.0,
    tiers=None,
    taker_fee=0.0,
    mm_basis="mark",
    entry_price=None,
):
    """Maintenance margin of a linear position at ``price`` (the mark price).

    Parameters
    ----------
    price : float or array_like
        Mark price, > 0.
    quantity : float or array_like
        Position size, > 0.
    mmr, maintenance_amount : float or array_like, optional
        Rate and amount, used when ``tiers`` is not given.
    tiers : table, optional
        As in :func:`liquidation_price`: the tier holding ``price · quantity`` applies.
    taker_fee : float or array_like, optional
        Fee rate to close, included in the threshold.
    mm_basis : {"mark", "entry"}, optional
        ``"entry"`` values the rate part at ``entry_price`` (tier of the entry notional) and
        the fee at ``price``: pass the bankruptcy price as ``price`` for Bybit's figure.
    entry_price : float or array_like, optional
        Needed with ``mm_basis="entry"``.

    Returns
    -------
    float, ndarray or Series

    Notes
    -----
    .. math:: MM = P Q (mmr + fee) - cum \\text{ (mark)}, \\quad
              MM = P_0 Q\\,mmr - cum + P Q\\,fee \\text{ (entry)}

    Examples
    --------
    Binance's FAQ: a BTCUSDT position of 500,000 USDT is in the tier with a 1 % rate and a
    maintenance amount of 1,300 USDT:

    >>> import xlcalc as xc
    >>> xc.maintenance_margin(50_000, 10, tiers=xc.exchange_tiers("binance_usdm"))
    3700.0
    """
    a = Inputs()
    p = a.number("price", price)
    q = a.number("quantity", quantity)
    p0 = entry_price_for_basis(a, mm_basis, entry_price)
    entry_notional = None if p0 is None else p0 * q
    return a.out(maintenance_on(a, p * q, mmr, maintenance_amount, taker_fee, tiers, entry_notional))


def bankruptcy_price(
    wallet_balance, side, entry_price, quantity, other_pnl=0.0, taker_fee=0.0, tick_size=None
):
    """Bankruptcy (zero-equity) price of a linear perpetual position, after the fee to close there.

    Parameters
    ----------
    wallet_balance, side, entry_price, quantity, other_pnl
        As in :func:`liquidation_price`.
    taker_fee : float or array_like, optional
        Fee rate to close; the price is where equity after paying it is zero (Phemex, Bybit).
    tick_size : float or array_like, optional
        Round to the venue's tick, up for a long and down for a short.

    Returns
    -------
    float, ndarray or Series
        NaN where equity cannot reach zero.

    Notes
    -----
    With :math:`WB' = WB + UPNL_{other}`, solving :math:`WB' + s (P - P_0) Q = fee\\,P Q`:

    .. math:: P_b = \\frac{s P_0 Q - WB'}{Q (s - fee)}

    which is :func:`liquidation_price` with ``mmr=0``.

    Examples
    --------
    Bybit's isolated rule: a long at 10x goes bankrupt 10 % below entry, a short 10 % above:

    >>> from xlcalc import perpetual
    >>> perpetual.bankruptcy_price(2_000, ["long", "short"], 20_000, 1)
    array([18000., 22000.])

    jesse's isolated short (TestLiquidationInIsolatedModeForShortTrade): 10,000 USDT at 2x,
    short 2,000 at 10, goes bankrupt at 15:

    >>> perpetual.bankruptcy_price(10_000, "short", 10, 2_000)
    15.0
    """
    a = Inputs()
    wb, s, p0, q = _wallet_and_position(a, wallet_balance, side, entry_price, quantity)
    upnl = a.number("other_pnl", other_pnl, rule="any")
    fee = a.number("taker_fee", taker_fee, rule="nonnegative")
    if np.ndim(fee) == 0 and fee == 0:
        bp = p0 - s * (wb + upnl) / q
    else:
        check_rates(np.zeros(1), float(np.max(fee)), name="taker_fee")
        bp = (s * p0 * q - wb - upnl) / (q * (s - fee))
    return a.out(round_to_tick(positive_or_nan(bp), s, tick_size))


# -- cross margin -------------------------------------------------------------------------
@dataclass(frozen=True)
class CrossAccount:
    """Figures of one cross-margin account at the mark prices (see :func:`cross_account`)."""

    wallet_balance: float
    unrealized_pnl: float
    margin_balance: float
    maintenance_margin: float
    margin_ratio: float
    move_to_liquidation: float
    positions: pd.DataFrame


@dataclass
class _Leg:
    """One position of a cross account with its tier table (one tier for a plain rate)."""

    symbol: str
    side: float
    entry: float
    mark: float
    qty: float
    floors: np.ndarray
    caps: np.ndarray
    rates: np.ndarray
    cums: np.ndarray
    at_entry: bool  # maintenance margin valued at entry (mm_basis="entry")

    def table(self) -> pd.DataFrame:
        return pd.DataFrame(
            {"floor": self.floors, "cap": self.caps, "mmr": self.rates, "maintenance_amount": self.cums}
        )

    def maintenance_line(self, k, y, fee):
        """(a, b) with the leg's maintenance margin ``a + b·y`` near ``y`` (notional ``k·y``)."""
        if self.at_entry:
            j = tier_index(self.entry * self.qty, self.caps)
            return self.entry * self.qty * self.rates[j] - self.cums[j], k * fee
        j = tier_index(k * y, self.caps)
        return -self.cums[j], k * (self.rates[j] + fee)

    def maintenance_at(self, notional, fee):
        """The leg's maintenance margin when its notional is ``notional``."""
        fixed, per_unit = self.maintenance_line(notional, 1.0, fee)
        return fixed + per_unit


class _Book:
    """The legs of one walk as arrays, so that every leg's maintenance line comes at once.

    Leg l's notional is ``coef[l]·y``. With ``hedge="max"`` legs are grouped by symbol and
    side, and each symbol counts its larger side.
    """

    def __init__(self, legs, coef, fee, hedge):
        self.coef = np.asarray(coef, dtype=float)
        self.fee, self.hedge, self.at_entry = fee, hedge, legs[0].at_entry
        side = np.array([leg.side for leg in legs])
        self.pnl_fixed = -float(np.sum(side * np.array([leg.entry * leg.qty for leg in legs])))
        self.pnl_slope = float(np.sum(side * self.coef))
        # a slope below this is rounding noise of offsetting legs (0.1 long, 0.1 short): flat
        self.noise = 1e-12 * float(np.sum(np.abs(self.coef)))
        width = max(len(leg.caps) for leg in legs)
        self.caps = np.full((len(legs), width), math.inf)
        self.rates, self.cums = np.zeros_like(self.caps), np.zeros_like(self.caps)
        for i, leg in enumerate(legs):
            n = len(leg.caps)
            self.caps[i, :n] = leg.caps
            self.rates[i, :n], self.rates[i, n:] = leg.rates, leg.rates[-1]
            self.cums[i, :n], self.cums[i, n:] = leg.cums, leg.cums[-1]
        self.last = np.array([len(leg.caps) - 1 for leg in legs])
        self.rows = np.arange(len(legs))
        self.entry_margin = np.array([leg.maintenance_at(leg.entry * leg.qty, 0.0) for leg in legs])
        if hedge == "max":
            keys = [(leg.symbol, leg.side > 0) for leg in legs]
            groups = list(dict.fromkeys(keys))
            self.group = np.array([groups.index(k) for k in keys])
            symbols = list(dict.fromkeys(symbol for symbol, _ in groups))
            missing = len(groups)  # an empty side: a line at -inf, never the larger
            self.long_group = np.array(
                [groups.index((x, True)) if (x, True) in groups else missing for x in symbols]
            )
            self.short_group = np.array(
                [groups.index((x, False)) if (x, False) in groups else missing for x in symbols]
            )

    def margin_lines(self, y):
        """(a, b) per leg: its maintenance margin is ``a + b·y`` near ``y``."""
        if self.at_entry:
            return self.entry_margin, self.coef * self.fee
        tier = np.minimum((self.caps < (self.coef * y)[:, None]).sum(axis=1), self.last)
        return -self.cums[self.rows, tier], self.coef * (self.rates[self.rows, tier] + self.fee)

    def side_lines(self, y):
        """(a, b) of each symbol's long and short side, an empty side at -inf."""
        a, b = self.margin_lines(y)
        count = int(self.group.max()) + 1
        side_a = np.append(np.bincount(self.group, a, count), -math.inf)
        side_b = np.append(np.bincount(self.group, b, count), 0.0)
        return (
            side_a[self.long_group],
            side_b[self.long_group],
            side_a[self.short_group],
            side_b[self.short_group],
        )

    def account_line(self, y, balance):
        """(A, B): equity minus maintenance margin is ``A + B·y`` near ``y``."""
        if self.hedge == "sum":
            a, b = self.margin_lines(y)
            return balance + self.pnl_fixed - float(a.sum()), self.pnl_slope - float(b.sum())
        long_a, long_b, short_a, short_b = self.side_lines(y)
        take_long = long_a + long_b * y >= short_a + short_b * y
        a, b = np.where(take_long, long_a, short_a), np.where(take_long, long_b, short_b)
        return balance + self.pnl_fixed - float(a.sum()), self.pnl_slope - float(b.sum())

    def edges(self):
        """Values of y where the line may change: tier boundaries, and with ``hedge="max"`` the
        points where a symbol's long and short margins cross."""
        bounds = [] if self.at_entry else (self.caps[:, :-1] / self.coef[:, None]).ravel()
        edges = [0.0] + sorted({float(x) for x in bounds if math.isfinite(x)}) + [math.inf]
        if self.hedge != "max":
            return edges
        crossings = set()
        for low, high in zip(edges[:-1], edges[1:]):
            inside = (low + high) / 2 if math.isfinite(high) else 2 * low + 1.0
            long_a, long_b, short_a, short_b = self.side_lines(inside)
            with np.errstate(divide="ignore", invalid="ignore"):
                meet = (short_a - long_a) / (long_b - short_b)
            crossings.update(float(y) for y in meet[(meet > low) & (meet < high)])
        return sorted(set(edges) | crossings)


def _walk_to_threshold(legs, coef, y0, balance, fee, hedge="sum"):
    """First y, moving from y0, where equity crosses the maintenance margin.

    Leg l's notional is ``coef[l]·y``; its P&L ``s·(coef[l]·y − entry·qty)``. Equity minus
    maintenance margin is piecewise linear in y with kinks (or jumps) at tier boundaries (and,
    for ``hedge="max"``, where a symbol's larger side changes), so walk segment by segment:
    away from y0 in the direction that lowers it when the account is safe at y0, and the
    direction that raises it when it is already breached (then the answer is where it was
    crossed, as the one-position formula reports).
    """
    book = _Book(legs, coef, fee, hedge)
    edges = book.edges()

    def line(i):  # f(y) = A + B·y on segment i = (edges[i], edges[i+1]]
        # a point well inside the segment: its upper edge may round into the next tier
        inside = (edges[i] + edges[i + 1]) / 2 if math.isfinite(edges[i + 1]) else 2 * edges[i] + 1.0
        return book.account_line(inside, balance)

    def flat(B):
        return abs(B) <= book.noise

    i = int(np.searchsorted(edges[1:-1], y0, side="left"))
    A, B = line(i)
    breached = A + B * y0 <= 0
    if flat(B):
        return math.nan
    direction = (1 if B > 0 else -1) * (1 if breached else -1)

    def hit(v):
        return v > 0 if breached else v <= 0

    y = y0
    while 0 <= i < len(edges) - 1:
        A, B = line(i)
        if y != y0 and hit(A + B * y):
            return y  # a jump at the boundary
        if not flat(B):
            root = -A / B
            lo, hi = (edges[i], y) if direction < 0 else (y, edges[i + 1])
            if lo <= root <= hi and (B * direction < 0) != breached:
                return root
        y = edges[i] if direction < 0 else edges[i + 1]
        i += direction
    return math.nan


def _column(df, name, row_rule, a, default=None):
    if name not in df.columns:
        if default is not None:
            return np.full(len(df), default, dtype=float)
        raise InputError(f"positions must have a {name} column, got {list(df.columns)}")
    if name == "side":
        return np.atleast_1d(a.side(name, df[name]))
    return np.atleast_1d(a.number(name, df[name], rule=row_rule))


def hedge_rule(hedge) -> str:
    """``"sum"`` or ``"max"`` from any case; InputError naming the value otherwise."""
    word = str(hedge).strip().lower()
    if word not in HEDGE_RULES:
        raise InputError(f"hedge must be 'sum' or 'max', got {hedge!r}", argument="hedge", value=hedge)
    return word


def _leg_tiers(df, i, symbol, tiers, converted):
    """Tier arrays of row i: its symbol's table, or one tier from its mmr/maintenance_amount."""
    table = tiers.get(symbol) if isinstance(tiers, dict) else tiers
    if table is not None:
        if id(table) not in converted:
            converted[id(table)] = tier_arrays(table)
        return converted[id(table)]
    if "mmr" not in df.columns or is_blank(df["mmr"].iloc[i]):
        raise InputError(f"positions row {i}: mmr is missing and no tier table is given for {symbol!r}")
    rate = float(rate_fraction(Inputs(), "mmr", df["mmr"].iloc[i]))
    amount = df["maintenance_amount"].iloc[i] if "maintenance_amount" in df.columns else 0.0
    if is_blank(amount):
        amount = 0.0
    amount = float(Inputs().number("maintenance_amount", amount, rule="nonnegative"))
    return np.array([0.0]), np.array([math.inf]), np.array([rate]), np.array([amount])


def _symbol_margin(values, symbols, sides, hedge):
    """Total of per-leg amounts: summed, or per symbol the larger side's (``hedge="max"``)."""
    if hedge == "sum":
        return float(np.sum(values))
    total = 0.0
    for symbol in dict.fromkeys(symbols):
        rows = np.array([x == symbol for x in symbols])
        total += max(float(values[rows & (sides > 0)].sum()), float(values[rows & (sides < 0)].sum()))
    return total


def cross_account(
    positions, wallet_balance, tiers=None, taker_fee=0.0, mm_basis="mark", hedge="sum", symbol=None
) -> CrossAccount:
    """A cross-margin account of linear perpetuals: equity, margin ratio, liquidation prices.

    Parameters
    ----------
    positions : DataFrame
        One row per position: ``side``, ``entry_price``, ``mark_price``, ``quantity``,
        optionally ``symbol`` (rows without one are separate contracts) and ``mmr``,
        ``maintenance_amount`` (used for a symbol without a tier table). Hedge mode: a long
        and a short row of one symbol.
    wallet_balance : float
        The account's cross wallet balance, >= 0.
    tiers : table or dict, optional
        One tier table for every symbol, or ``{symbol: table}`` (any form
        :func:`tier_table` accepts).
    taker_fee : float, optional
        Fee rate to close, included in every maintenance margin.
    mm_basis : {"mark", "entry"}, optional
        ``"entry"``: each position's maintenance margin is the fixed ``P0·Q·mmr − cum`` (tier
        of the entry notional) plus the fee to close at the price; see :func:`liquidation_price`.
    hedge : {"sum", "max"}, optional
        ``"sum"`` adds every leg's maintenance margin; ``"max"`` margins each symbol on its
        larger side, ``max(Σ MM_long, Σ MM_short)`` (Kraken multi-collateral netting).
    symbol : str or array_like, optional
        Symbols of the rows, in place of a ``symbol`` column.

    Returns
    -------
    CrossAccount
        ``margin_balance`` (equity: wallet balance + unrealized P&L), ``maintenance_margin``
        (at the mark prices, per ``hedge``), ``margin_ratio`` = maintenance margin / margin
        balance as Binance and Bybit display it (liquidation at 100 %; ``inf`` once the margin
        balance is 0 or less), ``move_to_liquidation`` (the uniform move ``x``: every mark
        price times ``1 + x`` brings the margin balance down to the maintenance margin; NaN if
        none), and ``positions``: the input with ``notional``, ``pnl``, ``mmr_used``,
        ``maintenance_margin`` and ``liquidation_price`` columns.

    Notes
    -----
    Each symbol's liquidation price holds the other symbols at their mark prices, as
    Binance's cross formula does with :math:`WB - TMM_1 + UPNL_1`. A symbol with one row
    uses :func:`liquidation_price` with those ``other_maintenance``/``other_pnl``. Hedge
    legs of one symbol move together and share one price, where

    .. math:: WB' + \\sum_l s_l (P - P_{0,l}) Q_l = \\sum_l (P Q_l m_l - cum_l)

    found moving from the mark price in the direction that lowers the margin balance
    faster than the maintenance margin. The uniform move solves the same equation for the
    whole account in the scale factor ``1 + x``.

    Examples
    --------
    10,000 USDT backs a BTC long and an ETH short (0.4 % and 0.5 % rates). BTC falls to
    58,000, so the account has lost 2,000. BTC is liquidated near 50,351 if ETH stays put,
    ETH near 3,758 if BTC does; the account is net long, so a uniform fall of 27.6 % of
    every price takes it down:

    >>> import pandas as pd, xlcalc as xc
    >>> pos = pd.DataFrame({"symbol": ["BTCUSDT", "ETHUSDT"], "side": ["long", "short"],
    ...                     "entry_price": [60_000, 3_000], "mark_price": [58_000, 3_000],
    ...                     "quantity": [1, 10], "mmr": [0.004, 0.005]})
    >>> acct = xc.cross_account(pos, 10_000)
    >>> acct.margin_balance, acct.maintenance_margin, round(acct.margin_ratio, 4)
    (8000.0, 382.0, 0.0478)
    >>> acct.positions["liquidation_price"].round(2).tolist()
    [50351.41, 3758.01]
    >>> round(acct.move_to_liquidation, 4)
    -0.2758

    A hedge of 1 BTC long and 0.5 BTC short margined on the larger side only:

    >>> hedged = pd.DataFrame({"symbol": "BTCUSDT", "side": ["long", "short"], "entry_price": 60_000,
    ...                        "mark_price": 60_000, "quantity": [1, 0.5], "mmr": 0.004})
    >>> xc.cross_account(hedged, 1_000).maintenance_margin
    360.0
    >>> xc.cross_account(hedged, 1_000, hedge="max").maintenance_margin
    240.0
    """
    if not isinstance(positions, pd.DataFrame):
        raise InputError(f"positions must be a DataFrame, got {type(positions).__name__}")
    if positions.empty:
        raise InputError("positions must have at least one row")
    a = Inputs()
    wb = float(a.number("wallet_balance", wallet_balance, rule="nonnegative"))
    fee = float(a.number("taker_fee", taker_fee, rule="nonnegative"))
    at_entry = is_entry_basis(mm_basis)
    hedge = hedge_rule(hedge)
    df = positions.reset_index(drop=True)
    s = _column(df, "side", None, a)
    p0 = _column(df, "entry_price", "positive", a)
    pm = _column(df, "mark_price", "positive", a)
    q = _column(df, "quantity", "positive", a)
    if symbol is not None:
        symbols = [str(x) for x in np.broadcast_to(np.asarray(symbol, dtype=object), (len(df),))]
    elif "symbol" in df.columns:
        symbols = df["symbol"].astype(str).tolist()
    else:
        symbols = [f"#{i}" for i in range(len(df))]
    legs, tables = [], {}  # a table shared by many symbols is converted once
    for i, name in enumerate(symbols):
        floors, caps, rates, cums = _leg_tiers(df, i, name, tiers, tables)
        check_rates(rates, fee)
        legs.append(_Leg(name, s[i], p0[i], pm[i], q[i], floors, caps, rates, cums, at_entry))
    notional = pm * q
    pnl = s * (pm - p0) * q
    idx = [tier_index(p0[i] * q[i] if at_entry else notional[i], leg.caps) for i, leg in enumerate(legs)]
    rate_used = np.array([leg.rates[j] for leg, j in zip(legs, idx)])
    mm = np.array([leg.maintenance_at(notional[i], fee) for i, leg in enumerate(legs)])
    total_mm, total_pnl = _symbol_margin(mm, symbols, s, hedge), float(pnl.sum())
    lp = np.full(len(df), math.nan)
    for name in dict.fromkeys(symbols):
        rows = [i for i, x in enumerate(symbols) if x == name]
        others = [i for i in range(len(df)) if symbols[i] != name]
        tmm = _symbol_margin(mm[others], [symbols[i] for i in others], s[others], hedge)
        upnl = float(pnl[others].sum())
        if len(rows) == 1:
            leg = legs[rows[0]]
            lp[rows[0]] = liquidation_price(
                wb,
                leg.side,
                leg.entry,
                leg.qty,
                None,
                None,
                tmm,
                upnl,
                tiers=leg.table(),
                taker_fee=fee,
                mm_basis=mm_basis,
            )
        else:
            mark = float(pm[rows[0]])
            if not np.allclose(pm[rows], mark):
                raise InputError(
                    f"positions of symbol {name!r} must share one mark_price, got {pm[rows].tolist()}"
                )
            price = _walk_to_threshold(
                [legs[i] for i in rows], [legs[i].qty for i in rows], mark, wb - tmm + upnl, fee, hedge
            )
            lp[rows] = price if price > 0 else math.nan
    move = _walk_to_threshold(legs, list(notional), 1.0, wb, fee, hedge) - 1.0
    balance = wb + total_pnl
    ratio = total_mm / balance if balance > 0 else math.inf
    out = positions.copy()
    for column, values in (
        ("notional", notional),
        ("pnl", pnl),
        ("mmr_used", rate_used),
        ("maintenance_margin", mm),
        ("liquidation_price", lp),
    ):
        out[column] = values
    return CrossAccount(
        wallet_balance=wb,
        unrealized_pnl=total_pnl,
        margin_balance=balance,
        maintenance_margin=total_mm,
        margin_ratio=ratio,
        move_to_liquidation=float(move) if move > -1 else math.nan,
        positions=out,
    )


# -- the futures calculator's other figures (Binance "Futures Calculator") ---------------------
def initial_margin(price, quantity, leverage):
    """Initial margin of a position: its notional over the leverage.

    Parameters
    ----------
    price : float or array_like
        Entry price (or the order price), > 0.
    quantity : float or array_like
        Position size, > 0.
    leverage : float or array_like
        Leverage, > 0.

    Returns
    -------
    float, ndarray or Series
        In the quote currency (USDT for a USDT-margined contract).

    Notes
    -----
    .. math:: IM = P Q / L

    Examples
    --------
    10 BTC at 60,000 on 20x ties up 30,000 USDT:

    >>> from xlcalc import perpetual
    >>> perpetual.initial_margin(60_000, 10, 20)
    30000.0
    """
    a = Inputs()
    return a.out(a.number("price", price) * a.number("quantity", quantity) / a.number("leverage", leverage))


def pnl(side, entry_price, price, quantity):
    """P&L of a linear position closed at ``price``, in the quote currency (USDT).

    Notes
    -----
    .. math:: PnL = s (P - P_0) Q

    Examples
    --------
    >>> from xlcalc import perpetual
    >>> perpetual.pnl(["long", "short"], 60_000, 63_000, 10)
    array([ 30000., -30000.])
    """
    a = Inputs()
    s, p0, p, q = a.move(side, entry_price, price, quantity)
    return a.out(s * (p - p0) * q)


def roe(side, entry_price, price, leverage):
    """Return on equity at ``price``: P&L over the initial margin, as a fraction.

    Notes
    -----
    .. math:: ROE = \\frac{s (P - P_0) Q}{P_0 Q / L} = s L \\left(\\frac{P}{P_0} - 1\\right)

    Examples
    --------
    A 20x long from 60,000 closed at 63,000 (+5 %) returns 100 % of its margin:

    >>> from xlcalc import perpetual
    >>> perpetual.roe("long", 60_000, 63_000, 20)
    1.0
    """
    a = Inputs()
    s = a.side("side", side)
    p0 = a.number("entry_price", entry_price)
    return a.out(s * a.number("leverage", leverage) * (a.number("price", price) / p0 - 1.0))


def target_price(side, entry_price, leverage=None, roe=None, pnl=None, quantity=None, tick_size=None):
    """Price at which a position reaches a wanted ROE (with ``leverage``) or P&L (with ``quantity``).

    Parameters
    ----------
    side, entry_price
        As in :func:`liquidation_price`.
    leverage, roe : float or array_like, optional
        The leverage and the wanted return on the initial margin as a fraction (0.5 = 50 %).
    pnl, quantity : float or array_like, optional
        The wanted P&L in the quote currency and the position size; used when ``roe`` is None.
    tick_size : float or array_like, optional
        Round to the venue's tick, up for a long and down for a short.

    Returns
    -------
    float, ndarray or Series
        NaN where the price would not be positive (a short cannot gain more than its notional).

    Notes
    -----
    .. math:: P = P_0 \\left(1 + s \\frac{ROE}{L}\\right), \\qquad P = P_0 + s \\frac{PnL}{Q}

    Examples
    --------
    A 20x long from 60,000 doubles its margin at 63,000; 10 BTC make 5,000 USDT at 60,500:

    >>> from xlcalc import perpetual
    >>> perpetual.target_price("long", 60_000, leverage=20, roe=1.0)
    63000.0
    >>> perpetual.target_price("long", 60_000, pnl=5_000, quantity=10)
    60500.0
    """
    a = Inputs()
    s = a.side("side", side)
    p0 = a.number("entry_price", entry_price)
    if roe is not None:
        leverage = given_with("leverage", leverage, "roe")
        price = p0 * (1.0 + s * a.number("roe", roe, rule="any") / a.number("leverage", leverage))
    elif pnl is not None:
        quantity = given_with("quantity", quantity, "pnl")
        price = p0 + s * a.number("pnl", pnl, rule="any") / a.number("quantity", quantity)
    else:
        raise InputError(
            "roe or pnl must be given, got neither", argument="roe", expected="number", value=None
        )
    return a.out(round_to_tick(positive_or_nan(price), s, tick_size))


def max_open_quantity(balance, price, leverage, taker_fee=0.0, tiers=None):
    """Largest position a balance can open at a leverage, paying the fee to open.

    Parameters
    ----------
    balance : float or array_like
        Available balance, >= 0.
    price : float or array_like
        Entry price, > 0.
    leverage : float or array_like
        Leverage, > 0.
    taker_fee : float or array_like, optional
        Fee rate to open, paid from the balance.
    tiers : table, optional
        A tier table with a ``max_leverage`` column (Binance's "leverage and margin tiers"):
        the notional is capped at the largest cap of the tiers that allow ``leverage``.

    Returns
    -------
    float, ndarray or Series

    Notes
    -----
    .. math:: Q = \\min\\left(\\frac{B}{P (1/L + fee)},\\ \\frac{N_{max}(L)}{P}\\right)

    Examples
    --------
    1,000 USDT at 20x buys 0.333 BTC at 60,000; at 125x Binance's BTCUSDT table caps the
    notional at 50,000 (0.833 BTC) although the balance would carry 125,000:

    >>> import xlcalc as xc
    >>> from xlcalc import perpetual
    >>> round(perpetual.max_open_quantity(1_000, 60_000, 20), 6)
    0.333333
    >>> round(perpetual.max_open_quantity(1_000, 60_000, 125, tiers=xc.exchange_tiers("binance_usdm")), 6)
    0.833333
    """
    a = Inputs()
    b = a.number("balance", balance, rule="nonnegative")
    p = a.number("price", price)
    lev = a.number("leverage", leverage)
    fee = a.number("taker_fee", taker_fee, rule="nonnegative")
    notional = b / (1.0 / lev + fee)
    if tiers is not None:
        notional = np.minimum(notional, max_notional_at(tiers, lev))
    return a.out(notional / p)


def max_notional_at(tiers, leverage):
    """The largest notional a tier table allows at ``leverage`` (inf without a max_leverage column)."""
    table = tier_table(tiers)
    if "max_leverage" not in table.columns:
        return np.full(np.shape(leverage), math.inf) if np.ndim(leverage) else math.inf
    lev = np.asarray(leverage, dtype=float)
    allowed = table["max_leverage"].to_numpy(float)[None, :] >= lev.reshape(-1, 1)
    caps = np.where(allowed, table["cap"].to_numpy(float)[None, :], -math.inf).max(axis=1)
    if np.any(caps == -math.inf):
        top = float(table["max_leverage"].max())
        raise InputError(
            f"leverage must be at most {top:g} for this tier table, got {float(lev.max()):g}",
            argument="leverage",
            value=float(lev.max()),
        )
    return caps.reshape(lev.shape) if lev.ndim else float(caps[0])


def margin_ratio(
    wallet_balance,
    side,
    entry_price,
    price,
    quantity,
    mmr=None,
    maintenance_amount=0.0,
    tiers=None,
    taker_fee=0.0,
    mm_basis="mark",
):
    """Binance's and Bybit's "margin ratio": maintenance margin over margin balance.

    It runs the opposite way to the maintenance ratio (証拠金維持率) of
    :func:`xlcalc.maintenance_ratio`: it rises as the position loses, and the position is
    liquidated when it reaches 100 % (1.0). Binance: "Margin Ratio = Maintenance Margin /
    Margin Balance"; liquidation "when the margin ratio reaches 100 %".

    Parameters
    ----------
    wallet_balance, side, entry_price, quantity
        As in :func:`liquidation_price`.
    price : float or array_like
        Mark price, > 0.
    mmr, maintenance_amount, tiers, taker_fee, mm_basis
        As in :func:`maintenance_margin`.

    Returns
    -------
    float, ndarray or Series
        ``inf`` where the margin balance is 0 or less.

    Notes
    -----
    .. math:: MR = \\frac{MM(P)}{WB + s (P - P_0) Q}

    Examples
    --------
    1,000 USDT isolated behind a long of 1 BTC at 10,000 (0.4 %): 4 % at entry, 100 % at the
    liquidation price:

    >>> import xlcalc as xc
    >>> from xlcalc import perpetual
    >>> perpetual.margin_ratio(1_000, "long", 10_000, 10_000, 1, 0.004)
    0.04
    >>> lp = xc.liquidation_price(1_000, "long", 10_000, 1, 0.004)
    >>> round(perpetual.margin_ratio(1_000, "long", 10_000, lp, 1, 0.004), 12)
    1.0
    """
    a = Inputs()
    wb = a.number("wallet_balance", wallet_balance, rule="any")
    s, p0, p, q = a.move(side, entry_price, price, quantity)
    entry_notional = p0 * q if is_entry_basis(mm_basis) else None
    mm = maintenance_on(a, p * q, mmr, maintenance_amount, taker_fee, tiers, entry_notional)
    balance = wb + s * (p - p0) * q
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(balance > 0, mm / np.where(balance > 0, balance, 1.0), math.inf)
    return a.out(ratio)
