"""Every computed column of the report, from the xlcalc core, over whole columns (or chunks
of rows, with the account sums of all rows: :func:`row_terms`, :class:`AccountAggregates`).

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
from dataclasses import dataclass, field, replace

import numpy as np

from .. import core
from ..account import account_state, market_move_to_level
from ..perpetual import liquidation_price
from .sums import PairwiseSums

__all__ = ["Levels", "Positions", "position_columns", "row_terms", "account_rows", "stress_table",
           "closest_to_loss_cut", "account_terms", "AccountAggregates", "STRESS_MOVES"]

STRESS_MOVES = np.round(np.arange(-0.5, 0.5001, 0.05), 10)
SLICE_ROWS = 16_384   # rows whose ~50 account sums are taken at once


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
    loss_cut_mmr: float | None = None  # loss-cut = this × leverage, row by row (``for_rows``)

    def for_rows(self, leverage) -> "Levels":
        """The levels of rows with these leverages (a per-row loss-cut made concrete)."""
        if self.loss_cut_mmr is None:
            return self
        return replace(self, loss_cut=self.loss_cut_mmr * leverage, loss_cut_mmr=None)

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


def row_terms(pos: Positions, levels: Levels, cols: dict) -> dict:
    """Each row's addends of the account sums the cross-margin columns need (name -> array);
    their per-account totals (``np.bincount`` order: row after row) are ``totals``."""
    m = cols["required_margin"]
    terms = {"fees": pos.fees, "pnl": cols["pnl"], "margin": m,
             "rm_mc": float(levels.margin_call) * m, "rm_lc": _level_array(levels.loss_cut, len(pos)) * m}
    if levels.mmr is not None:
        terms["mm"] = pos.price * pos.quantity * levels.mmr
    return terms


def position_columns(pos: Positions, levels: Levels, *, deposit=None, account_deposit=None,
                     totals=None) -> dict:
    """Computed columns (name -> array) for every valid row.

    Give ``deposit`` (one per row: isolated) or ``account_deposit`` (one per account: cross).
    ``totals`` (cross only): the per-account sums of :func:`row_terms` over *all* rows, when
    ``pos`` is one chunk of them; by default the sums over ``pos``.
    """
    n = len(pos)
    s, p0, q, lev, p, fees = pos.side, pos.entry_price, pos.quantity, pos.leverage, pos.price, pos.fees
    basis = levels.basis
    mc = float(levels.margin_call)
    lc_rows = _level_array(levels.loss_cut, n)
    has_mc, has_lc = not math.isnan(mc), not np.isnan(lc_rows).all()
    target = mc if has_mc else lc_rows
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
        if totals is None:
            totals = {key: _group_sum(v, g, k) for key, v in row_terms(pos, levels, cols).items()}
        acct_fees = totals["fees"]
        acct_pnl = totals["pnl"]
        base = (account_deposit - acct_fees)[g] + acct_pnl[g] - cols["pnl"]
        acct_eq = account_deposit - acct_fees + acct_pnl
        acct_m = totals["margin"]
        cols["equity"] = acct_eq[g]
        cols["ratio"] = (acct_eq / acct_m)[g]

        def eff(level):
            rm = level * m
            return _split(base - (totals["rm_lc" if np.ndim(level) else "rm_mc"][g] - rm))
        bank_d, bank_f = _split(base)

    # Status against the account's (or row's) level; per-row levels weigh by margin.
    if deposit is None and np.ndim(levels.loss_cut) != 0:
        g = pos.group
        lc_status = (totals["rm_lc"] / totals["margin"])[g]
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
        target = np.broadcast_to(target, (n,))
        cols["additional_deposit"] = core.additional_deposit(d, s, p0, p, q, lev, target=target,
                                                             basis=basis, fees=f)
        cols["close_quantity"] = core.close_quantity(d, s, p0, p, q, lev, target=target,
                                                     basis=basis, fees=f)
    else:
        cols["additional_deposit"] = cols["close_quantity"] = nan
    if levels.mmr is not None and n:
        cols["liquidation_price"] = _liquidation(pos, levels, cols, deposit, account_deposit, totals)
    return cols


def _liquidation(pos, levels, cols, deposit, account_deposit, totals):
    """Liquidation price of the mmr model; with the exchange's tier table of the row's
    symbol when ``levels.tiers`` (symbol -> table or None) knows it."""
    s, p0, q, p = pos.side, pos.entry_price, pos.quantity, pos.price
    if deposit is not None:
        args = dict(wallet_balance=deposit - pos.fees)
    else:
        g = pos.group
        mm = p * q * levels.mmr
        args = dict(wallet_balance=(account_deposit - totals["fees"])[g],
                    other_maintenance=totals["mm"][g] - mm,
                    other_pnl=totals["pnl"][g] - cols["pnl"])
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


# -- streaming: account figures from chunks of rows ------------------------------------------
# The same figures as account_rows / stress_table / closest_to_loss_cut, from one pass over
# the rows in chunks: every sum is fed to PairwiseSums, which reproduces np.sum bit for bit.

def _margin_terms(pos, mark, leverage):
    """A row's required margin and its part that moves with the price, as account.py sums them."""
    mp = pos.price if mark else pos.entry_price
    return mp * pos.quantity / leverage, np.where(mark, pos.price, 0.0) * pos.quantity / leverage


def account_terms(pos: Positions, levels: Levels, cols: dict, *, cross: bool, deposit=None,
                  moves=STRESS_MOVES) -> dict:
    """Each row's addends (name -> array) of every per-account sum the Summary and the
    Stress sheet need; the names and their order do not depend on the rows."""
    s, p0, p, q, lev = pos.side, pos.entry_price, pos.price, pos.quantity, pos.leverage
    mark = levels.mark
    margin, moving = _margin_terms(pos, mark, lev)
    if cross:  # the sums of account_state / market_move_to_level
        terms = {"fees": pos.fees, "pnl": s * (p - p0) * q, "margin": margin, "slope": s * p * q,
                 "moving": moving}
    else:
        terms = {"equity": cols["equity"], "required_margin": cols["required_margin"], "deposit": deposit}
    if np.ndim(levels.loss_cut) != 0:  # per-row levels: margin-weighted, and lev / r_i at level 1
        lc = np.asarray(levels.loss_cut)
        terms["lc_margin"] = lc * margin
        terms["margin"] = margin
        if cross:
            terms["margin_lc"], terms["moving_lc"] = _margin_terms(pos, mark, lev / lc)
    for i, x in enumerate(moves):
        px = p * (1.0 + x)
        if cross:
            terms[f"pnl{i}"] = s * (px - p0) * q
            terms[f"margin{i}"] = (px if mark else p0) * q / lev
        else:
            terms[f"equity{i}"] = core.equity(deposit, s, p0, px, q, fees=pos.fees)
            terms[f"margin{i}"] = core.required_margin(px if mark else p0, q, lev)
    return terms


def _move_from_sums(d, f, r, pnl, m0, slope, moving):
    """market_move_to_level from its sums (xlcalc/account.py, same operations)."""
    if math.isnan(r):
        return math.nan
    e0 = d - f + pnl
    den = slope - r * moving
    if den == 0:
        return math.nan
    x = (r * m0 - e0) / den
    return x if math.isfinite(x) and x > -1 else math.nan


class AccountAggregates:
    """Per-account figures, the Stress table and the positions closest to loss-cut, fed
    chunk by chunk (``add``) in row order; ``counts``: rows of each account."""

    def __init__(self, counts, levels: Levels, *, cross: bool, account_deposit=None, n_closest=5,
                 moves=STRESS_MOVES):
        self.counts = np.asarray(counts, dtype=np.int64)
        self.levels, self.cross, self.account_deposit = levels, cross, account_deposit
        self.moves = moves
        k = len(self.counts)
        self.sums = None
        self.names = None
        self.status_counts = {st: np.zeros(k, dtype=np.int64)
                              for st in (core.STATUS_MARGIN_CALL, core.STATUS_LOSS_CUT)}
        self.nearest = {key: np.full(k, np.nan) for key in ("margin_call", "loss_cut")}
        self.n_closest = n_closest
        self.closest = {"liquidation_price": [], "loss_cut_price": []}  # (room, row, info)
        self.any_liquidation = False
        self.offset = 0

    def add(self, pos: Positions, levels: Levels, cols: dict, deposit=None, info=None):
        """``levels``: of these rows; ``info(rows)``: Summary details of rows of the chunk."""
        g = pos.group
        for a in range(0, len(pos), SLICE_ROWS):  # ~50 sums per row: a slice at a time
            part = slice(a, a + SLICE_ROWS)
            sub = Positions(**{f: getattr(pos, f)[part] for f in
                               ("side", "entry_price", "quantity", "leverage", "price", "fees", "group")},
                            n_groups=pos.n_groups)
            sub_levels = replace(levels, loss_cut=levels.loss_cut[part]) if np.ndim(levels.loss_cut) else levels
            terms = account_terms(sub, sub_levels, {k: v[part] for k, v in cols.items()}, cross=self.cross,
                                  deposit=None if deposit is None else deposit[part], moves=self.moves)
            if self.sums is None:
                self.names = list(terms)
                self.sums = PairwiseSums(self.counts, len(self.names))
            self.sums.add(sub.group, np.stack([np.broadcast_to(terms[nm], sub.group.shape) for nm in self.names]))
            del terms
        k = len(self.counts)
        for st, acc in self.status_counts.items():
            acc += np.bincount(g[cols["status"] == st], minlength=k)
        if not self.cross:
            for key in self.nearest:
                self._nearest(key, g, cols[f"{key}_distance_pct"])
        for key in self.closest:
            if key in cols:
                trig = cols[key]
                if key == "liquidation_price":
                    self.any_liquidation |= bool((~np.isnan(trig)).any())
                self._closest(key, pos, trig, info)
        self.offset += len(pos)

    def _nearest(self, key, g, moves):
        ok = np.flatnonzero(~np.isnan(moves))
        if not len(ok):
            return
        order = ok[np.lexsort((ok, np.abs(moves[ok]), g[ok]))]
        first = order[np.r_[True, g[order][1:] != g[order][:-1]]]   # each account's nearest
        best = self.nearest[key]
        for gi, v in zip(g[first].tolist(), moves[first].tolist()):
            if math.isnan(best[gi]) or abs(v) < abs(best[gi]):
                best[gi] = v

    def _closest(self, key, pos, trig, info):
        room = pos.side * (pos.price - trig) / pos.price
        room = np.where(np.isnan(room), np.inf, room)
        k = min(self.n_closest, len(room))
        if k == 0:
            return
        idx = np.arange(len(room))
        part = np.lexsort((idx, room))[:k]
        cands = self.closest[key] + [(float(room[r]), self.offset + int(r), None, int(r)) for r in part]
        cands.sort(key=lambda c: (c[0], c[1]))
        kept = cands[:self.n_closest]
        fresh = [c for c in kept if c[2] is None]
        details = info(np.array([c[3] for c in fresh], dtype=np.int64)) if fresh and info else []
        it = iter(details)
        self.closest[key] = [c if c[2] is not None else (c[0], c[1], next(it) if info else {}, c[3])
                             for c in kept]

    def closest_rows(self) -> list:
        """Summary details of the positions closest to loss-cut (breached first)."""
        key = "liquidation_price" if self.any_liquidation else "loss_cut_price"
        return [c[2] for c in self.closest[key] if math.isfinite(c[0])]

    def accounts(self) -> list:
        """One dict per account, as :func:`account_rows`."""
        if self.sums is None:
            return []
        t = self.sums.totals()
        col = {nm: t[:, j] for j, nm in enumerate(self.names)}
        per_row = np.ndim(self.levels.loss_cut) != 0 or self.levels.loss_cut_mmr is not None
        out = []
        for gi in range(len(self.counts)):
            if self.counts[gi] == 0:
                continue
            mc = float(self.levels.margin_call)
            if not per_row:
                lc = float(self.levels.loss_cut)
            else:
                lc = float(col["lc_margin"][gi] / col["margin"][gi])
            counts = {st: int(v[gi]) for st, v in self.status_counts.items()}
            if self.cross:
                fees = float(col["fees"][gi])
                d = float(self.account_deposit[gi])
                pnl, margin = float(col["pnl"][gi]), float(col["margin"][gi])
                equity = d - fees + pnl
                ratio = equity / margin if margin > 0 else math.nan
                slope = float(col["slope"][gi])
                move_mc = _move_from_sums(d, fees, mc, pnl, margin, slope, float(col["moving"][gi]))
                if not per_row:
                    move_lc = _move_from_sums(d, fees, lc, pnl, margin, slope, float(col["moving"][gi]))
                else:
                    move_lc = math.nan if math.isnan(lc) else _move_from_sums(
                        d, fees, 1.0, pnl, float(col["margin_lc"][gi]), slope, float(col["moving_lc"][gi]))
                status = str(core.status(ratio, mc, lc))
            else:
                equity = float(col["equity"][gi])
                margin = float(col["required_margin"][gi])
                ratio = equity / margin
                status = (core.STATUS_LOSS_CUT if counts[core.STATUS_LOSS_CUT] else
                          core.STATUS_MARGIN_CALL if counts[core.STATUS_MARGIN_CALL] else core.STATUS_OK)
                move_mc, move_lc = float(self.nearest["margin_call"][gi]), float(self.nearest["loss_cut"][gi])
            out.append(dict(group=gi, positions=int(self.counts[gi]), equity=equity, required_margin=margin,
                            ratio=ratio, status=status, move_to_margin_call=move_mc,
                            move_to_loss_cut=move_lc, margin_call_level=mc, loss_cut_level=lc,
                            n_margin_call=counts[core.STATUS_MARGIN_CALL],
                            n_loss_cut=counts[core.STATUS_LOSS_CUT]))
            if not self.cross:
                out[-1]["deposit"] = float(col["deposit"][gi])
        return out

    def stress(self) -> np.ndarray:
        """As :func:`stress_table`: moves (rows) × accounts (columns)."""
        out = np.full((len(self.moves), len(self.counts)), np.nan)
        if self.sums is None:
            return out
        t = self.sums.totals()
        col = {nm: t[:, j] for j, nm in enumerate(self.names)}
        for j in range(len(self.counts)):
            if self.counts[j] == 0:
                continue
            for i in range(len(self.moves)):
                if self.cross:
                    eq = float(self.account_deposit[j]) - float(col["fees"][j]) + float(col[f"pnl{i}"][j])
                    margin = float(col[f"margin{i}"][j])
                    out[i, j] = eq / margin if margin > 0 else math.nan
                else:
                    out[i, j] = float(col[f"equity{i}"][j] / col[f"margin{i}"][j])
        return out
