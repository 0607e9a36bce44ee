"""Compute stage of the report: every computed column from the xlcalc core, chunk by chunk,
and the account figures from per-account sums of :func:`row_terms` (:class:`AccountSums`).

* **isolated** (a deposit column): each row is its own position, every figure the core
  function of that row.
* **cross** (one deposit per account): the account's equity, ratio and market moves are
  those of :func:`xlcalc.account_state` and :func:`xlcalc.market_move_to_level`; a row's
  trigger prices are that position's prices at which the account reaches the level while the
  others stay put: the core solver with the rest of the account folded into the deposit,
  ``D' = D - F + PnL_other - Σ_other r·M``.

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
import pandas as pd

from .. import core
from ..ladder import scenario_ladder
from ..perpetual import liquidation_price, maintenance_margin
from ..tiers import position_beyond_table

__all__ = [
    "Levels",
    "Positions",
    "position_columns",
    "row_terms",
    "AccountSums",
    "Scan",
    "account_figures",
    "worst_row_ratios",
]

STRESS_MOVES = np.round(np.arange(-0.5, 0.5001, 0.05), 10)  # the ladder when no trigger is finite
PRICE_COLUMNS = ("margin_call_price", "loss_cut_price", "bankruptcy_price", "liquidation_price", "safe_price")


@dataclass
class Levels:
    """Margin-call and loss-cut levels (fractions; NaN: no such level) and the margin basis.

    ``loss_cut`` may be an array (one level per row): an mmr preset's loss-cut is each row's
    maintenance margin over its required margin (``mmr × leverage`` at a flat rate; the tier of
    its notional in the exchange's table of its symbol), and its loss-cut price the
    liquidation price, as ``xlcalc calc`` and ``xlcalc liq`` give them.
    """

    margin_call: float = 1.0
    loss_cut: object = 0.5
    basis: str = "entry"
    mmr: float | None = None  # set for margin_model == "mmr" presets
    tiers: object = None  # symbol -> the exchange's tier table, or None
    loss_cut_mmr: float | None = None  # the loss-cut is the maintenance margin, row by row (``for_rows``)
    mm_basis: str = "mark"  # the preset's: the price the maintenance margin is valued at
    maintenance: np.ndarray = None  # the rows' maintenance margins (``for_rows`` of an mmr preset)
    safe: float = math.nan  # the safe level (SPEC §10): "caution" below it; NaN: none
    hedge: str = "sum"  # "max": each symbol margined on its larger side (cross)
    # the venue's rounding of the required margin shown (SPEC §8; the ratio, as the CLI's, is not)
    margin_rounding: str = "none"
    money_unit: float = 1.0

    @property
    def safe_level(self):
        """The ``safe_level`` argument of :func:`xlcalc.status` (None: no caution state)."""
        return None if math.isnan(self.safe) else self.safe

    def for_rows(self, pos: Positions) -> Levels:
        """The levels of rows ``pos`` (an mmr preset's per-row loss-cut made concrete)."""
        if self.loss_cut_mmr is None:
            return self
        mm = _by_tier_table(pos, self, _maintenance_of(pos, self))
        margin = (pos.price if self.mark else pos.entry_price) * pos.quantity / pos.leverage
        return replace(self, loss_cut=mm / margin, loss_cut_mmr=None, maintenance=mm)

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
    group: np.ndarray = None  # account number of each row (0..n_groups-1)
    n_groups: int = 1
    tick_size: np.ndarray = None  # per row; 0: no rounding; None: no tick at all
    quote_rate: object = 1.0  # account currency per quote unit, per row or one number
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.group is None:
            self.group = np.zeros(len(self.side), dtype=np.int64)

    def __len__(self):
        return len(self.side)


def _maintenance_of(pos: Positions, levels: Levels):
    """``figure(rows, tiers)`` giving the maintenance margin of ``rows`` (quote currency), as
    :func:`xlcalc.perpetual.maintenance_margin` values it for the preset's ``mm_basis``."""

    def figure(rows, tiers):
        mmr = None if tiers is not None else levels.mmr
        return np.asarray(
            maintenance_margin(
                pos.price[rows], pos.quantity[rows], mmr, tiers=tiers, mm_basis=levels.mm_basis,
                entry_price=pos.entry_price[rows],
            ),
            dtype=float,
        )  # fmt: skip

    return figure


def _by_tier_table(pos: Positions, levels: Levels, figure):
    """``figure(rows, tiers)`` of every row: with the exchange's tier table of the row's symbol
    where ``levels.tiers`` knows one, else with the flat ``levels.mmr`` (``tiers`` None); each
    row computed once."""
    if levels.tiers is None:
        return figure(np.arange(len(pos)), None)
    codes = pos.extra.get("symbol_codes")  # rows by symbol, each with its own tier table
    subsets = [(sym, np.flatnonzero(codes == c)) for c, sym in enumerate(pos.extra.get("symbols", []))]
    out, flat = np.full(len(pos), np.nan), np.ones(len(pos), dtype=bool)
    for sym, rows in [(None, np.arange(len(pos)))] if codes is None else subsets:
        tiers = levels.tiers(sym)
        if tiers is not None and len(rows):
            out[rows], flat[rows] = figure(rows, tiers), False
    if flat.any():  # no symbol, or none shipped: the flat rate
        rows = np.flatnonzero(flat)
        out[rows] = figure(rows, None)
    return out


def _level_array(level, n):
    return np.broadcast_to(np.asarray(level, dtype=float), (n,))


def _split(x):
    """A signed amount as (deposit >= 0, fees >= 0) with deposit - fees == x."""
    return np.maximum(x, 0.0), np.maximum(-x, 0.0)


def row_terms(pos: Positions, levels: Levels, deposit=None) -> dict:
    """Each row's addends (name -> array) of every per-account sum: those the cross-margin
    columns fold into the deposit, those of :func:`xlcalc.account_state` and
    :func:`xlcalc.market_move_to_level`; the same sums give the Stress sheet's ratios."""
    s, p0, p, q, lev, r = pos.side, pos.entry_price, pos.price, pos.quantity, pos.leverage, pos.quote_rate
    mark = levels.mark
    margin = core.required_margin(p if mark else p0, q, lev, quote_rate=r)
    moving = margin if mark else np.zeros(len(pos))  # the part of the margin that moves
    lc = _level_array(levels.loss_cut, len(pos))
    # A uniform move x gives PnL + x·slope and margin + x·moving: the Stress sheet's sums.
    terms = {
        "fees": pos.fees,
        "pnl": core.unrealized_pnl(s, p0, p, q, quote_rate=r),
        "margin": margin,
        "rm_mc": float(levels.margin_call) * margin,
        "rm_lc": lc * margin,
        "slope": s * p * q * r,
        "moving": moving,
        "moving_lc": lc * moving,
    }
    if deposit is not None:
        terms["deposit"] = deposit
    if levels.mmr is not None:  # each row's maintenance margin, for the others' liquidation prices
        mm = levels.maintenance if levels.maintenance is not None else p * q * levels.mmr
        terms["mm"] = mm * r  # in the account currency, as every sum
    if levels.margin_rounding != "none":  # the account's margin shown: the sum of the rows' shown
        terms["margin_shown"] = core.round_money(margin, levels.margin_rounding, levels.money_unit)
    return terms


def position_columns(
    pos: Positions, levels: Levels, *, deposit=None, account_deposit=None, totals=None
) -> dict:
    """Computed columns (name -> array) for every valid row.

    Give ``deposit`` (one per row: isolated) or ``account_deposit`` (one per account: cross).
    ``totals`` (cross only): the per-account sums of :func:`row_terms` over *all* rows, when
    ``pos`` is one chunk of them; by default the sums over ``pos``.
    """
    n, s, p0, q, p, lev = len(pos), pos.side, pos.entry_price, pos.quantity, pos.price, pos.leverage
    fees, r, basis, mc = pos.fees, pos.quote_rate, levels.basis, float(levels.margin_call)
    lc_rows = _level_array(levels.loss_cut, n)
    cols = {
        "notional": p * q * r,
        "required_margin": core.required_margin(p if levels.mark else p0, q, lev, quote_rate=r),
        "pnl": core.unrealized_pnl(s, p0, p, q, quote_rate=r),
    }
    if deposit is not None:  # isolated: the core, row by row in one call
        cols["equity"] = core.equity(deposit, s, p0, p, q, fees=fees, quote_rate=r)
        cols["ratio"] = core.maintenance_ratio(
            deposit, s, p0, p, q, lev, basis=basis, fees=fees, quote_rate=r
        )

        def funds(level):
            return deposit, fees

        bankruptcy = (deposit, fees)
    else:  # cross: fold the rest of each account into the deposit
        g = pos.group
        if totals is None:
            totals = AccountSums(row_terms(pos, levels), g, pos.n_groups).totals
        base = (account_deposit - totals["fees"])[g] + totals["pnl"][g] - cols["pnl"]
        equity = account_deposit - totals["fees"] + totals["pnl"]
        cols["equity"], cols["ratio"] = equity[g], (equity / totals["margin"])[g]

        def funds(level):
            # the account's margin at the level, less this row's: held by the rest of the account
            margin = totals["rm_lc"][g] if np.ndim(level) else level * totals["margin"][g]
            return _split(base - (margin - level * cols["required_margin"]))

        bankruptcy = _split(base)
    # the status against the account's (or row's) level; per-row levels weigh by margin
    per_row = deposit is None and np.ndim(levels.loss_cut) != 0
    lc_status = (totals["rm_lc"] / totals["margin"])[pos.group] if per_row else lc_rows
    cols["status"] = core.status(cols["ratio"], mc, lc_status, safe_level=levels.safe_level)

    def price_at(level):
        d, f = funds(level)
        return core.trigger_price(d, s, p0, q, lev, level=level, basis=basis, fees=f, quote_rate=r)

    nan = np.full(n, np.nan)
    cols["margin_call_price"] = price_at(mc) if not math.isnan(mc) and n else nan
    cols["loss_cut_price"] = price_at(lc_rows) if not np.isnan(lc_rows).all() and n else nan
    d, f = bankruptcy
    cols["bankruptcy_price"] = core.bankruptcy_price(d, s, p0, q, fees=f, quote_rate=r) if n else nan
    if not math.isnan(levels.safe) and n:
        cols["safe_price"] = price_at(levels.safe)
    target = lc_rows if math.isnan(mc) else mc  # what the deposit to add and the quantity to close restore
    cols["additional_deposit"] = cols["close_quantity"] = nan
    if n and not np.isnan(target).all():
        d, f = funds(target)
        args = (d, s, p0, p, q, lev)
        kw = dict(target=np.broadcast_to(target, (n,)), basis=basis, fees=f, quote_rate=r)
        cols["additional_deposit"] = core.additional_deposit(*args, **kw)
        cols["close_quantity"] = core.close_quantity(*args, **kw)
    if levels.mmr is not None and n:
        cols["liquidation_price"] = _liquidation(pos, levels, cols, deposit, account_deposit, totals)
        if levels.maintenance is not None:  # the preset's loss-cut is the liquidation, as xlcalc calc's
            cols["loss_cut_price"] = cols["liquidation_price"].copy()
        if levels.tiers is not None:  # a notional above the shipped table: its higher tiers are missing
            cols["beyond_tiers"] = _beyond_tiers(pos, levels, cols["liquidation_price"])
            # a symbol without a shipped table: the preset's flat first-tier rate
            cols["flat_rate"] = _by_tier_table(
                pos, levels, lambda rows, t: np.full(len(rows), float(t is None))
            )
    _on_ticks(cols, pos)
    # shown as the venue rounds it (xlcalc calc's figure); every figure above used the exact margin
    cols["required_margin"] = core.round_money(
        cols["required_margin"], levels.margin_rounding, levels.money_unit
    )
    for key in ("margin_call", "loss_cut", "safe"):
        if f"{key}_price" in cols:
            if key != "safe":
                cols[f"{key}_distance"] = cols[f"{key}_price"] - p
            cols[f"{key}_distance_pct"] = cols[f"{key}_price"] / p - 1.0
    return cols


def _on_ticks(cols, pos):
    """Every price column on the row's tick, the conservative way (:func:`xlcalc.round_to_tick`)."""
    if pos.tick_size is None:
        return
    tick = np.broadcast_to(pos.tick_size, (len(pos),))
    has = tick > 0
    if not has.any():
        return
    for key in PRICE_COLUMNS:
        if key in cols:
            out = np.array(cols[key], dtype=float)
            out[has] = core.round_to_tick(out[has], pos.side[has], tick[has])
            cols[key] = out


def _beyond_tiers(pos, levels, liquidation) -> np.ndarray:
    """1.0 for the rows above their symbol's tier table
    (:func:`xlcalc.tiers.position_beyond_table`), else 0.0."""

    def figure(rows, tiers):
        if tiers is None:
            return np.zeros(len(rows))
        beyond = position_beyond_table(pos.quantity[rows], pos.price[rows], liquidation[rows], tiers)
        return beyond.astype(float)

    return _by_tier_table(pos, levels, figure)


def _liquidation(pos, levels, cols, deposit, account_deposit, totals):
    """Liquidation price of the mmr model; with the exchange's tier table of the row's
    symbol when ``levels.tiers`` (symbol -> table or None) knows it."""
    s, p0, q, p, r = pos.side, pos.entry_price, pos.quantity, pos.price, pos.quote_rate
    # the solver works in the quote currency: money in the account currency is divided by the rate
    if deposit is not None:
        args = dict(wallet_balance=(deposit - pos.fees) / r)
    else:
        g = pos.group
        mm = levels.maintenance if levels.maintenance is not None else p * q * levels.mmr
        args = dict(
            wallet_balance=(account_deposit - totals["fees"])[g] / r,
            other_maintenance=totals["mm"][g] / r - mm,
            other_pnl=(totals["pnl"][g] - cols["pnl"]) / r,
        )

    def figure(rows, tiers):
        sub = {key: (v[rows] if np.ndim(v) else v) for key, v in args.items()}
        mmr = None if tiers is not None else levels.mmr
        return np.asarray(
            liquidation_price(
                side=s[rows], entry_price=p0[rows], quantity=q[rows], mmr=mmr, tiers=tiers,
                mm_basis=levels.mm_basis, **sub,
            ),
            dtype=float,
        )  # fmt: skip

    return _by_tier_table(pos, levels, figure)


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
                total[: len(old)] += old
            self.totals[name] = total


@dataclass
class Figures:
    """What the Summary and Stress sheets show: one dict per account, the Stress table
    (moves × accounts) and the positions closest to loss-cut."""

    accounts: list
    stress: np.ndarray
    closest: list
    moves: np.ndarray
    marks: list  # per move: [(account index, trigger key)]
    computed_keys: frozenset = frozenset({"status"})  # the Positions columns computed
    beyond_tiers: int = 0  # positions above their tier table's last tier (higher tiers not shipped)
    flat_rate: int = 0  # positions of a symbol without a shipped tier table (the preset's flat rate)


class Scan:
    """What needs every row's columns, fed chunk by chunk in row order: status counts, each
    account's nearest trigger (isolated), the rows closest to loss-cut."""

    def __init__(self, n_groups: int, n_closest: int = 5, safe: float = math.nan):
        self.n_groups, self.n_closest, self.offset, self.any_liquidation = n_groups, n_closest, 0, False
        self.safe, self.lowest_ratio = safe, np.full(n_groups, np.inf)  # each account's worst row
        # rows below the safe level: how many, and those a rise / a fall brings back (the farthest)
        self.below = {k: np.zeros(n_groups) for k in ("n", "n_up", "n_down")}
        self.below_move = {"up": np.full(n_groups, -np.inf), "down": np.full(n_groups, np.inf)}
        statuses = (core.STATUS_CAUTION, core.STATUS_MARGIN_CALL, core.STATUS_LOSS_CUT)
        self.status_counts = {st: np.zeros(n_groups, dtype=np.int64) for st in statuses}
        keys = ("margin_call", "loss_cut", "safe", "bankruptcy")
        self.nearest = {key: np.full(n_groups, np.nan) for key in keys}
        self.closest = {"liquidation_price": [], "loss_cut_price": []}  # (room, row, details)
        self.beyond_tiers = 0  # positions above their tier table's last tier
        self.flat_rate = 0  # positions of a symbol without a shipped tier table (the flat rate)

    def add(self, pos: Positions, cols: dict, lines, texts: dict):
        """One chunk: its positions, computed columns, line numbers and text columns."""
        g = pos.group
        self.beyond_tiers += int(np.count_nonzero(cols.get("beyond_tiers", ())))
        self.flat_rate += int(np.count_nonzero(cols.get("flat_rate", ())))
        ratio = np.where(np.isnan(cols["ratio"]), np.inf, cols["ratio"])
        np.minimum.at(self.lowest_ratio, g, ratio)
        if "safe_price" in cols:
            move, below = cols["safe_price"] / pos.price - 1.0, cols["ratio"] < self.safe
            up, down = below & (move > 0), below & (move < 0)
            for key, mask in (("n", below), ("n_up", up), ("n_down", down)):
                self.below[key] += np.bincount(g[mask], minlength=self.n_groups)
            np.maximum.at(self.below_move["up"], g[up], move[up])
            np.minimum.at(self.below_move["down"], g[down], move[down])
        for st, acc in self.status_counts.items():
            acc += np.bincount(g[cols["status"] == st], minlength=self.n_groups)
        for key, best in self.nearest.items():
            price = cols.get(f"{key}_price")
            if price is None:
                continue
            moves = price / pos.price - 1.0  # the move of the row's price that brings it to the level
            ok = np.flatnonzero(~np.isnan(moves))
            order = ok[np.lexsort((ok, np.abs(moves[ok]), g[ok]))]  # each account's nearest first
            first = order[np.r_[True, g[order][1:] != g[order][:-1]]] if len(order) else order
            for gi, v in zip(g[first].tolist(), moves[first].tolist()):
                if math.isnan(best[gi]) or abs(v) < abs(best[gi]):
                    best[gi] = v
        for key in self.closest:
            if key not in cols:
                continue
            self.any_liquidation |= key == "liquidation_price" and bool((~np.isnan(cols[key])).any())
            room = pos.side * (pos.price - cols[key]) / pos.price
            room = np.where(np.isnan(room), np.inf, room)
            rows = np.argsort(room, kind="stable")[: self.n_closest].tolist()
            found = [(float(room[x]), self.offset + x, _details(x, pos, cols, lines, texts)) for x in rows]
            self.closest[key] = sorted(self.closest[key] + found, key=lambda c: c[:2])[: self.n_closest]
        self.offset += len(pos)

    def safe_move(self, g) -> float:
        """Isolated rows: the move that brings account ``g`` to the safe level. With every row
        above it, the nearest row's (the first to leave it); else the move that brings back the
        farthest row below it, when all of them come back the same way; else NaN (no one move)."""
        n, n_up, n_down = (float(self.below[k][g]) for k in ("n", "n_up", "n_down"))
        if n == 0:
            return float(self.nearest["safe"][g])
        if n_up == n:
            return float(self.below_move["up"][g])
        if n_down == n:
            return float(self.below_move["down"][g])
        return math.nan

    def closest_rows(self) -> list:
        """Summary details of the positions closest to loss-cut (breached first)."""
        key = "liquidation_price" if self.any_liquidation else "loss_cut_price"
        return [c[2] for c in self.closest[key] if math.isfinite(c[0])]


def _details(x, pos, cols, lines, texts) -> dict:
    """Row ``x`` of a chunk as the Summary's closest positions show it."""
    figures = {k: float(cols[k][x]) for k in ("loss_cut_price", "loss_cut_distance_pct", "ratio")}
    words = {k: str(cat[x]) for k, cat in texts.items()}  # account, symbol
    words["status"] = str(cols["status"][x])
    return dict(line=int(lines[x]), side=float(pos.side[x]), price=float(pos.price[x]), **figures, **words)


def _move(equity, rm, slope, r_moving):
    """market_move_to_level from its sums: E0 + x·A = Σr·M + x·Σr·B."""
    den = slope - r_moving
    if den == 0 or math.isnan(den):
        return math.nan
    x = (rm - equity) / den
    return x if math.isfinite(x) and x > -1 else math.nan


def account_figures(
    totals: dict, counts, levels: Levels, account_deposit, scan: Scan, *, cross: bool, names=None
) -> Figures:
    """The Summary's accounts and the Stress table from the per-account ``totals``.

    Equity is ``D - F + PnL`` of the account (cross: its deposit; isolated: the sum of its
    rows' deposits) and the ratio ``equity / margin``: the Positions sheet's own figures.
    The Stress ratios are the account's at each move ``x`` of every price at once,
    ``(E + x·Σ s·P·Q·r) / (M + x·M_moving)``, over :func:`stress_moves`.
    """
    mc, safe = float(levels.margin_call), levels.safe
    per_row = np.ndim(levels.loss_cut) != 0 or levels.loss_cut_mmr is not None
    t = {k: v.tolist() for k, v in totals.items()}
    accounts, sums = [], []
    for g in np.flatnonzero(counts).tolist():
        d = float(account_deposit[g])
        equity = d - t["fees"][g] + t["pnl"][g]
        margin, slope, moving = t["margin"][g], t["slope"][g], t["moving"][g]
        ratio = equity / margin if margin > 0 else math.nan
        lc = t["rm_lc"][g] / margin if per_row else float(levels.loss_cut)
        n = {f"n_{st}": int(c[g]) for st, c in scan.status_counts.items()}
        # the moves of every price at once that bring the account to each level
        triggers = {
            "margin_call": _move(equity, t["rm_mc"][g], slope, mc * moving),
            "loss_cut": _move(equity, t["rm_lc"][g], slope, t["moving_lc"][g]),
            "bankruptcy": _move(equity, 0.0, slope, 0.0),
        }
        triggers["safe"] = _move(equity, safe * margin, slope, safe * moving)
        if cross:
            status = str(core.status(ratio, mc, lc, safe_level=levels.safe_level))
        else:  # isolated rows stand alone: the worst row's ratio and status, its nearest row's moves
            worst = (core.STATUS_LOSS_CUT, core.STATUS_MARGIN_CALL, core.STATUS_CAUTION)
            status = next((st for st in worst if n[f"n_{st}"]), core.STATUS_OK)
            triggers = {k: float(v[g]) for k, v in scan.nearest.items()}
            triggers["safe"] = scan.safe_move(g)
            lowest = float(scan.lowest_ratio[g])
            ratio = lowest if math.isfinite(lowest) else math.nan
        account = dict(group=g, name=names[g] if names else None, positions=int(counts[g]), deposit=d)
        shown_margin = t["margin_shown"][g] if "margin_shown" in t else margin
        account.update(equity=equity, required_margin=shown_margin, ratio=ratio, status=status)
        account.update(
            {f"move_to_{k}": triggers[k] for k in ("margin_call", "loss_cut", "safe", "bankruptcy")}
        )
        account.update(margin_call_level=mc, loss_cut_level=lc)
        triggers = {k: triggers[k] for k in ("margin_call", "loss_cut", "bankruptcy")}  # the Stress marks
        accounts.append({**account, "safe_level": safe, **n, "triggers": triggers})
        sums.append((equity, slope, margin, moving))
    moves, marks = stress_moves(accounts)
    stress = np.full((len(moves), len(accounts)), np.nan)
    for j, (equity, slope, margin, moving) in enumerate(sums):
        stress[:, j] = _ratio_at(moves[:, None], equity, slope, margin, moving)[:, 0]
    return Figures(
        accounts=accounts,
        stress=stress,
        closest=scan.closest_rows(),
        moves=moves,
        marks=marks,
        beyond_tiers=scan.beyond_tiers,
        flat_rate=scan.flat_rate,
    )


def _ratio_at(moves, equity, slope, margin, moving):
    """The ratio after a move of every price by ``moves`` (broadcast): NaN where no margin."""
    with np.errstate(divide="ignore", invalid="ignore"):
        den = margin + moves * moving
        return np.where(den > 0, (equity + moves * slope) / den, np.nan)


def worst_row_ratios(pos: Positions, levels: Levels, deposit, moves, groups) -> np.ndarray:
    """Isolated rows (``deposit`` each): each account's lowest row ratio at each move (moves ×
    ``groups``, NaN where none): a position stands alone, so the account's risk at a move is
    its worst position's, never the pooled deposits'."""
    terms = row_terms(pos, levels, deposit)
    equity = deposit - terms["fees"] + terms["pnl"]
    ratios = _ratio_at(moves[None, :], equity[:, None], terms["slope"][:, None], terms["margin"][:, None],
                       terms["moving"][:, None])  # fmt: skip
    out = np.full((len(moves), len(groups)), np.nan)
    column = {g: j for j, g in enumerate(groups)}
    frame = pd.DataFrame(ratios).groupby(pos.group).min()  # NaN (no margin) is skipped
    for g, row in zip(frame.index.tolist(), frame.to_numpy()):
        if g in column:
            out[:, column[g]] = row
    return out


def stress_moves(accounts, shown=10):
    """The Stress sheet's moves: :func:`xlcalc.ladder.scenario_ladder` around the current
    prices (move 0), with the margin-call, loss-cut and bankruptcy moves of the first
    ``shown`` accounts as rows of their own, plus round steps; the fixed ±50 % grid when no
    trigger is reached. Returns the moves and, per move, the (account, trigger) it marks.

    >>> moves, marks = stress_moves([{"triggers": {"margin_call": -0.25, "loss_cut": -0.375,
    ...                                            "bankruptcy": -0.5}}])
    >>> [float(m) for m in moves[:4]], marks[0]
    ([-0.5, -0.4, -0.375, -0.3], [(0, 'bankruptcy')])
    >>> marks[list(moves).index(-0.375)], float(moves[1] - moves[0])   # round steps of 10 %
    ([(0, 'loss_cut')], 0.1)
    """
    found = [
        (j, key, x)
        for j, a in enumerate(accounts[:shown])
        for key, x in a["triggers"].items()
        if math.isfinite(x) and x > -1
    ]
    if not found:
        return STRESS_MOVES, [[] for _ in STRESS_MOVES]
    ladder = scenario_ladder(1.0, [1.0 + x for _, _, x in found], rows=20)
    moves = np.round(ladder - 1.0, 12)
    marks = [[] for _ in moves]
    for j, key, x in found:
        marks[int(np.argmin(np.abs(moves - x)))].append((j, key))
    return moves, marks


def hedged_totals(totals: dict, legs: dict, levels: Levels) -> dict:
    """``totals`` with each account's margin counted by ``hedge="max"`` (SPEC §8): per
    symbol, the larger of the long legs' and the short legs' margins, as
    :func:`xlcalc.account_state` counts it. ``legs``: (account, symbol, side) -> [margin,
    loss-cut level × margin, margin as shown].

    >>> t = {k: np.zeros(1) for k in ("margin", "rm_mc", "rm_lc", "moving", "moving_lc")}
    >>> legs = {(0, "EUR/USD", 1.0): [300.0, 150.0, 300.0], (0, "EUR/USD", -1.0): [200.0, 100.0, 200.0]}
    >>> float(hedged_totals(t, legs, Levels())["margin"][0])
    300.0
    """
    out, larger = dict(totals), {}
    margin, rm_lc, shown = (np.zeros(len(totals["margin"])) for _ in range(3))
    for (g, symbol, _side), leg in legs.items():
        if (g, symbol) not in larger or leg[0] > larger[(g, symbol)][0]:
            larger[(g, symbol)] = leg
    for (g, _), (m, rl, ms) in larger.items():
        margin[g] += m
        rm_lc[g] += rl
        shown[g] += ms
    out["margin"], out["rm_lc"] = margin, rm_lc
    if "margin_shown" in totals:
        out["margin_shown"] = shown
    out["rm_mc"] = float(levels.margin_call) * margin
    if levels.mark:  # on mark basis the whole margin moves with the price
        out["moving"], out["moving_lc"] = margin.copy(), rm_lc.copy()
    return out
