"""Every computed column of the report, from the xlcalc core, over whole columns at once.

Two ways to fund positions (SPEC §1):

* **isolated**: the input has a deposit column; each row is its own position with its own
  deposit, and every figure is the core function of that row.
* **cross**: one deposit funds each account (all rows, or one account per ``account``
  value). The account's equity, ratio and market moves come from
  :func:`xlcalc.account_state` and :func:`xlcalc.market_move_to_level`. A row's trigger
  prices are the prices of *that* position at which the account reaches the level while
  the other positions stay at their prices: the core solver with the rest of the account
  folded into the deposit, ``D' = D - F + PnL_other - Σ_other r·M``.

>>> import numpy as np
>>> lv = Levels(margin_call=1.0, loss_cut=0.5, basis="entry")
>>> pos = Positions(side=np.array([1.0]), entry_price=np.array([10_000_000.0]),
...                 quantity=np.array([0.1]), leverage=np.array([2.0]),
...                 price=np.array([10_000_000.0]), fees=np.array([0.0]))
>>> cols = position_columns(pos, lv, deposit=np.array([1_000_000.0]))
>>> float(cols["loss_cut_price"][0]), float(cols["margin_call_price"][0])
(2500000.0, 5000000.0)
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .. import core
from ..account import account_state, market_move_to_level
from ..perpetual import liquidation_price

__all__ = ["Levels", "Positions", "position_columns", "account_rows", "stress_table",
           "closest_to_loss_cut", "STRESS_MOVES"]

STRESS_MOVES = np.round(np.arange(-0.5, 0.5001, 0.05), 10)


@dataclass
class Levels:
    """Margin-call and loss-cut levels (fractions; NaN: no such level) and the margin basis.

    ``loss_cut`` may be an array (one level per row): mmr presets give ``mmr × leverage``.
    """

    margin_call: float = 1.0
    loss_cut: object = 0.5
    basis: str = "entry"
    mmr: float | None = None           # set for margin_model == "mmr" presets
    tiers: object = None               # symbol -> the exchange's tier table, or None

    @property
    def mark(self) -> bool:
        return core.parse_basis(self.basis)


@dataclass
class Positions:
    """Valid rows as float arrays (side +1/-1)."""

    side: np.ndarray
    entry_price: np.ndarray
    quantity: np.ndarray
    leverage: np.ndarray
    price: np.ndarray
    fees: np.ndarray
    group: np.ndarray = None           # account number of each row (0..n_groups-1)
    n_groups: int = 1
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.group is None:
            self.group = np.zeros(len(self.side), dtype=np.int64)

    def __len__(self):
        return len(self.side)


def _level_array(level, n):
    return np.broadcast_to(np.asarray(level, dtype=float), (n,))


def _split(x):
    """A signed amount as (deposit >= 0, fees >= 0) with deposit - fees == x."""
    return np.maximum(x, 0.0), np.maximum(-x, 0.0)


def _group_sum(values, group, n_groups):
    return np.bincount(group, weights=values, minlength=n_groups)


def position_columns(pos: Positions, levels: Levels, *, deposit=None, account_deposit=None) -> dict:
    """Computed columns (name -> array) for every valid row.

    Give ``deposit`` (one per row: isolated) or ``account_deposit`` (one per account: cross).
    """
    n = len(pos)
    s, p0, q, lev, p, fees = pos.side, pos.entry_price, pos.quantity, pos.leverage, pos.price, pos.fees
    basis = levels.basis
    mc = float(levels.margin_call)
    lc_rows = _level_array(levels.loss_cut, n)
    has_mc, has_lc = not math.isnan(mc), not np.isnan(lc_rows).all()
    target = np.full(n, mc) if has_mc else lc_rows
    margin_price = p if levels.mark else p0
    cols = {}
    cols["notional"] = p * q
    cols["required_margin"] = core.required_margin(margin_price, q, lev)
    cols["pnl"] = core.unrealized_pnl(s, p0, p, q)
    m = cols["required_margin"]

    if deposit is not None:  # isolated: the core, row by row in one call
        d = deposit
        cols["equity"] = core.equity(d, s, p0, p, q, fees=fees)
        cols["ratio"] = core.maintenance_ratio(d, s, p0, p, q, lev, basis=basis, fees=fees)

        def eff(level):
            return d, fees
        bank_d, bank_f = d, fees
    else:  # cross: fold the rest of each account into the deposit
        g, k = pos.group, pos.n_groups
        acct_fees = _group_sum(fees, g, k)
        acct_pnl = _group_sum(cols["pnl"], g, k)
        base = (account_deposit - acct_fees)[g] + acct_pnl[g] - cols["pnl"]
        acct_eq = account_deposit - acct_fees + acct_pnl
        acct_m = _group_sum(m, g, k)
        cols["equity"] = acct_eq[g]
        cols["ratio"] = (acct_eq / acct_m)[g]

        def eff(level):
            rm = level * m
            return _split(base - (_group_sum(rm, g, k)[g] - rm))
        bank_d, bank_f = _split(base)

    # Status against the account's (or row's) level; per-row levels weigh by margin.
    if deposit is None and np.ndim(levels.loss_cut) != 0:
        g, k = pos.group, pos.n_groups
        lc_status = (_group_sum(lc_rows * m, g, k) / _group_sum(m, g, k))[g]
    else:
        lc_status = lc_rows
    cols["status"] = core.status(cols["ratio"], mc, lc_status)

    nan = np.full(n, np.nan)
    if has_mc and n:
        d, f = eff(mc)
        cols["margin_call_price"] = core.margin_call_price(d, s, p0, q, lev, level=mc, basis=basis, fees=f)
    else:
        cols["margin_call_price"] = nan
    if has_lc and n:
        d, f = eff(lc_rows)
        cols["loss_cut_price"] = core.loss_cut_price(d, s, p0, q, lev, level=lc_rows, basis=basis, fees=f)
    else:
        cols["loss_cut_price"] = nan
    cols["bankruptcy_price"] = core.bankruptcy_price(bank_d, s, p0, q, fees=bank_f) if n else nan
    for key in ("margin_call", "loss_cut"):
        trig = cols[f"{key}_price"]
        cols[f"{key}_distance"] = trig - p
        cols[f"{key}_distance_pct"] = trig / p - 1.0
    if n and not np.isnan(target).all():
        d, f = eff(target)
        cols["additional_deposit"] = core.additional_deposit(d, s, p0, p, q, lev, target=target,
                                                             basis=basis, fees=f)
        cols["close_quantity"] = core.close_quantity(d, s, p0, p, q, lev, target=target,
                                                     basis=basis, fees=f)
    else:
        cols["additional_deposit"] = cols["close_quantity"] = nan
    if levels.mmr is not None and n:
        cols["liquidation_price"] = _liquidation(pos, levels, cols, deposit, account_deposit)
    return cols


def _liquidation(pos, levels, cols, deposit, account_deposit):
    """Liquidation price of the mmr model; with the exchange's tier table of the row's
    symbol when ``levels.tiers`` (symbol -> table or None) knows it."""
    s, p0, q, p = pos.side, pos.entry_price, pos.quantity, pos.price
    if deposit is not None:
        args = dict(wallet_balance=deposit - pos.fees)
    else:
        g, k = pos.group, pos.n_groups
        mm = p * q * levels.mmr
        args = dict(wallet_balance=(account_deposit - _group_sum(pos.fees, g, k))[g],
                    other_maintenance=_group_sum(mm, g, k)[g] - mm,
                    other_pnl=_group_sum(cols["pnl"], g, k)[g] - cols["pnl"])
    out = liquidation_price(side=s, entry_price=p0, quantity=q, mmr=levels.mmr, **args)
    if levels.tiers is None:
        return out
    codes = pos.extra.get("symbol_codes")
    symbols = pos.extra.get("symbols")
    subsets = [(None, np.arange(len(pos)))] if codes is None else \
        [(sym, np.flatnonzero(codes == c)) for c, sym in enumerate(symbols)]
    for sym, rows in subsets:
        tiers = levels.tiers(sym)
        if tiers is None or len(rows) == 0:
            continue
        sub = {key: (v[rows] if np.ndim(v) else v) for key, v in args.items()}
        out[rows] = liquidation_price(side=s[rows], entry_price=p0[rows], quantity=q[rows],
                                      mmr=levels.mmr, tiers=tiers, **sub)
    return out


def _account_levels(pos, levels, rows):
    """Scalar levels of one account; per-row levels become margin-weighted (same maintenance)."""
    if np.ndim(levels.loss_cut) == 0:
        return float(levels.margin_call), float(levels.loss_cut)
    lc = np.asarray(levels.loss_cut)[rows]
    margin_price = pos.price[rows] if levels.mark else pos.entry_price[rows]
    m = margin_price * pos.quantity[rows] / pos.leverage[rows]
    return float(levels.margin_call), float(np.sum(lc * m) / np.sum(m))


def _move(deposit, pos, rows, levels, level, fees, per_row=None):
    """Uniform market move to ``level``; ``per_row`` levels r_i use leverage L_i / r_i at
    level 1, which puts the same Σ r_i M_i on the scale."""
    if math.isnan(level):
        return math.nan
    args = (deposit, pos.side[rows], pos.entry_price[rows], pos.price[rows], pos.quantity[rows])
    if per_row is None:
        return market_move_to_level(*args, pos.leverage[rows], level, basis=levels.basis, fees=fees)
    return market_move_to_level(*args, pos.leverage[rows] / per_row[rows], 1.0,
                                basis=levels.basis, fees=fees)


def _group_rows(pos):
    order = np.argsort(pos.group, kind="stable")
    bounds = np.searchsorted(pos.group[order], np.arange(pos.n_groups + 1))
    return [order[bounds[i]:bounds[i + 1]] for i in range(pos.n_groups)]


def account_rows(pos: Positions, levels: Levels, cols: dict, *, account_deposit=None) -> list:
    """One dict per account: equity, required margin, ratio, status, moves, counts."""
    out = []
    for gi, rows in enumerate(_group_rows(pos)):
        mc, lc = _account_levels(pos, levels, rows)
        counts = {st: int(np.sum(cols["status"][rows] == st))
                  for st in (core.STATUS_MARGIN_CALL, core.STATUS_LOSS_CUT)}
        if len(rows) == 0:
            continue
        if account_deposit is not None:
            fees = float(np.sum(pos.fees[rows]))
            d = float(account_deposit[gi])
            st = account_state(d, pos.side[rows], pos.entry_price[rows], pos.price[rows],
                               pos.quantity[rows], pos.leverage[rows], basis=levels.basis, fees=fees)
            equity, margin, ratio = st.equity, st.required_margin, st.ratio
            move_mc = _move(d, pos, rows, levels, mc, fees)
            per_row = None if np.ndim(levels.loss_cut) == 0 else np.asarray(levels.loss_cut)
            move_lc = _move(d, pos, rows, levels, lc, fees, per_row)
            status = str(core.status(ratio, mc, lc))
        else:  # isolated rows: totals, the worst row's status, the nearest row's move
            equity = float(np.sum(cols["equity"][rows]))
            margin = float(np.sum(cols["required_margin"][rows]))
            ratio = equity / margin
            status = (core.STATUS_LOSS_CUT if counts[core.STATUS_LOSS_CUT] else
                      core.STATUS_MARGIN_CALL if counts[core.STATUS_MARGIN_CALL] else core.STATUS_OK)
            move_mc = _nearest(cols["margin_call_distance_pct"][rows])
            move_lc = _nearest(cols["loss_cut_distance_pct"][rows])
        out.append(dict(group=gi, positions=len(rows), equity=equity, required_margin=margin,
                        ratio=ratio, status=status, move_to_margin_call=move_mc,
                        move_to_loss_cut=move_lc, margin_call_level=mc, loss_cut_level=lc,
                        n_margin_call=counts[core.STATUS_MARGIN_CALL],
                        n_loss_cut=counts[core.STATUS_LOSS_CUT]))
    return out


def _nearest(moves):
    moves = moves[~np.isnan(moves)]
    return float(moves[np.argmin(np.abs(moves))]) if len(moves) else math.nan


def stress_table(pos: Positions, levels: Levels, *, deposit=None, account_deposit=None,
                 moves=STRESS_MOVES) -> np.ndarray:
    """Ratio of each account (columns) with every price times ``1 + move`` (rows)."""
    groups = _group_rows(pos)
    out = np.full((len(moves), len(groups)), np.nan)
    for j, rows in enumerate(groups):
        if len(rows) == 0:
            continue
        s, p0, q, lev = pos.side[rows], pos.entry_price[rows], pos.quantity[rows], pos.leverage[rows]
        for i, x in enumerate(moves):
            p = pos.price[rows] * (1.0 + x)
            if account_deposit is not None:
                out[i, j] = account_state(float(account_deposit[j]), s, p0, p, q, lev,
                                          basis=levels.basis, fees=float(np.sum(pos.fees[rows]))).ratio
            else:
                eq = core.equity(deposit[rows], s, p0, p, q, fees=pos.fees[rows])
                m = core.required_margin(p if levels.mark else p0, q, lev)
                out[i, j] = float(np.sum(eq) / np.sum(m))
    return out


def closest_to_loss_cut(pos: Positions, cols: dict, n: int = 5) -> np.ndarray:
    """Row positions of the ``n`` positions with the least room before loss-cut.

    Room is the fall (long) or rise (short) left before the loss-cut price, as a fraction
    of the price; already breached rows come first. Rows that can never be cut come last.
    """
    trig = cols.get("liquidation_price", cols["loss_cut_price"])
    if np.isnan(trig).all():
        trig = cols["loss_cut_price"]
    room = pos.side * (pos.price - trig) / pos.price
    room = np.where(np.isnan(room), np.inf, room)
    k = min(n, len(room))
    if k == 0:
        return np.zeros(0, dtype=np.int64)
    part = np.argpartition(room, k - 1)[:k]
    part = part[np.lexsort((part, room[part]))]
    return part[np.isfinite(room[part])]
