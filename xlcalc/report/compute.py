"""Compute stage of the report: every computed column from the xlcalc core, over chunks of
rows, and the account figures from per-account sums (:func:`row_terms`, :class:`AccountSums`).

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
from ..perpetual import liquidation_price

__all__ = ["Levels", "Positions", "position_columns", "row_terms", "AccountSums", "Scan", "Figures",
           "account_figures", "STRESS_MOVES"]

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


def row_terms(pos: Positions, levels: Levels, deposit=None, moves=STRESS_MOVES) -> dict:
    """Each row's addends (name -> array) of every per-account sum: those the cross-margin
    columns fold into the deposit, those of :func:`xlcalc.account_state` and
    :func:`xlcalc.market_move_to_level`, and the Stress sheet's (``pnl{i}``, ``margin{i}``)."""
    s, p0, p, q, lev = pos.side, pos.entry_price, pos.price, pos.quantity, pos.leverage
    mark = levels.mark
    margin = core.required_margin(p if mark else p0, q, lev)
    moving = p * q / lev if mark else np.zeros(len(pos))    # the part of the margin that moves
    lc = _level_array(levels.loss_cut, len(pos))
    terms = {"fees": pos.fees, "pnl": core.unrealized_pnl(s, p0, p, q), "margin": margin,
             "rm_mc": float(levels.margin_call) * margin, "rm_lc": lc * margin,
             "slope": s * p * q, "moving": moving, "moving_lc": lc * moving}
    if deposit is not None:
        terms["deposit"] = deposit
    if levels.mmr is not None:
        terms["mm"] = p * q * levels.mmr
    for i, x in enumerate(moves):
        px = p * (1.0 + x)
        terms[f"pnl{i}"] = s * (px - p0) * q
        terms[f"margin{i}"] = (px if mark else p0) * q / lev
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
            totals = AccountSums(row_terms(pos, levels), g, k).totals
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


class AccountSums:
    """Per-account totals of :func:`row_terms`, chunk after chunk: one vectorised group-by
    (``np.bincount``) whose sums every sheet reads, so an account shows one ratio.

    >>> sums = AccountSums({"margin": np.array([1.0, 2.0, 4.0])}, np.array([0, 1, 0]), 2)
    >>> sums.add({"margin": np.array([8.0])}, np.array([2]), 3)
    >>> sums.totals["margin"].tolist()
    [5.0, 2.0, 8.0]
    """

    def __init__(self, terms=None, group=None, n_groups=1):
        self.totals = {}
        if terms is not None:
            self.add(terms, group, n_groups)

    def add(self, terms: dict, group, n_groups: int):
        for name, values in terms.items():
            total = np.bincount(group, weights=np.broadcast_to(values, group.shape), minlength=n_groups)
            old = self.totals.get(name)
            if old is not None:
                total[:len(old)] += old
            self.totals[name] = total


@dataclass
class Figures:
    """What the Summary and Stress sheets show: one dict per account, the Stress table
    (moves × accounts) and the positions closest to loss-cut."""

    accounts: list
    stress: np.ndarray
    closest: list
    moves: np.ndarray = field(default_factory=lambda: STRESS_MOVES)
    computed_keys: frozenset = frozenset({"status"})   # the Positions columns computed


class Scan:
    """What needs every row's columns: status counts, each account's nearest trigger
    (isolated), the rows closest to loss-cut. Fed chunk by chunk in row order."""

    def __init__(self, n_groups: int, n_closest: int = 5):
        self.n_groups, self.n_closest = n_groups, n_closest
        self.status_counts = {st: np.zeros(n_groups, dtype=np.int64)
                              for st in (core.STATUS_MARGIN_CALL, core.STATUS_LOSS_CUT)}
        self.nearest = {key: np.full(n_groups, np.nan) for key in ("margin_call", "loss_cut")}
        self.closest = {"liquidation_price": [], "loss_cut_price": []}  # (room, row, info)
        self.any_liquidation = False
        self.offset = 0

    def add(self, pos: Positions, cols: dict, info):
        """``info(rows)``: Summary details of these rows of the chunk."""
        g = pos.group
        for st, acc in self.status_counts.items():
            acc += np.bincount(g[cols["status"] == st], minlength=self.n_groups)
        for key, best in self.nearest.items():
            moves = cols[f"{key}_distance_pct"]
            ok = np.flatnonzero(~np.isnan(moves))
            order = ok[np.lexsort((ok, np.abs(moves[ok]), g[ok]))]
            first = order[np.r_[True, g[order][1:] != g[order][:-1]]] if len(order) else order
            for gi, v in zip(g[first].tolist(), moves[first].tolist()):
                if math.isnan(best[gi]) or abs(v) < abs(best[gi]):
                    best[gi] = v
        for key in self.closest:
            if key in cols:
                self.any_liquidation |= key == "liquidation_price" and bool((~np.isnan(cols[key])).any())
                self._closest(key, pos, cols[key], info)
        self.offset += len(pos)

    def _closest(self, key, pos, trig, info):
        room = pos.side * (pos.price - trig) / pos.price
        room = np.where(np.isnan(room), np.inf, room)
        part = np.lexsort((np.arange(len(room)), room))[:self.n_closest]
        cands = self.closest[key] + [(float(room[r]), self.offset + int(r), None, int(r)) for r in part]
        kept = sorted(cands, key=lambda c: (c[0], c[1]))[:self.n_closest]
        fresh = [c[3] for c in kept if c[2] is None]
        details = iter(info(np.array(fresh, dtype=np.int64)) if fresh else [])
        self.closest[key] = [c if c[2] is not None else (c[0], c[1], next(details), c[3]) for c in kept]

    def closest_rows(self) -> list:
        """Summary details of the positions closest to loss-cut (breached first)."""
        key = "liquidation_price" if self.any_liquidation else "loss_cut_price"
        return [c[2] for c in self.closest[key] if math.isfinite(c[0])]


def _move(equity, rm, slope, r_moving):
    """market_move_to_level from its sums: E0 + x·A = Σr·M + x·Σr·B."""
    den = slope - r_moving
    if den == 0 or math.isnan(den):
        return math.nan
    x = (rm - equity) / den
    return x if math.isfinite(x) and x > -1 else math.nan


def account_figures(totals: dict, counts, levels: Levels, account_deposit, scan: Scan, *,
                    cross: bool, names=None) -> Figures:
    """The Summary's accounts and the Stress table from the per-account ``totals``.

    Equity is ``D - F + PnL`` of the account (cross: its deposit; isolated: the sum of its
    rows' deposits) and the ratio ``equity / margin``: the Positions sheet's own figures.
    """
    mc = float(levels.margin_call)
    per_row = np.ndim(levels.loss_cut) != 0 or levels.loss_cut_mmr is not None
    t = {k: v.tolist() for k, v in totals.items()}
    accounts = []
    stress = np.full((len(STRESS_MOVES), len(counts)), np.nan)
    for g in np.flatnonzero(counts).tolist():
        d = float(account_deposit[g])
        equity = d - t["fees"][g] + t["pnl"][g]
        margin = t["margin"][g]
        ratio = equity / margin if margin > 0 else math.nan
        lc = t["rm_lc"][g] / margin if per_row else float(levels.loss_cut)
        n_mc, n_lc = (int(scan.status_counts[st][g]) for st in scan.status_counts)
        if cross:
            status = str(core.status(ratio, mc, lc))
            move_mc = _move(equity, t["rm_mc"][g], t["slope"][g], mc * t["moving"][g])
            move_lc = _move(equity, t["rm_lc"][g], t["slope"][g], t["moving_lc"][g])
        else:  # isolated rows: the worst row's status, the nearest row's move
            status = core.STATUS_LOSS_CUT if n_lc else core.STATUS_MARGIN_CALL if n_mc else core.STATUS_OK
            move_mc, move_lc = float(scan.nearest["margin_call"][g]), float(scan.nearest["loss_cut"][g])
        accounts.append(dict(group=g, name=names[g] if names else None, positions=int(counts[g]), deposit=d,
                             equity=equity, required_margin=margin, ratio=ratio, status=status,
                             move_to_margin_call=move_mc, move_to_loss_cut=move_lc, margin_call_level=mc,
                             loss_cut_level=lc, n_margin_call=n_mc, n_loss_cut=n_lc))
        for i in range(len(STRESS_MOVES)):
            m = t[f"margin{i}"][g]
            stress[i, g] = (d - t["fees"][g] + t[f"pnl{i}"][g]) / m if m > 0 else math.nan
    return Figures(accounts=accounts, stress=stress[:, np.asarray(counts) > 0], closest=scan.closest_rows())
