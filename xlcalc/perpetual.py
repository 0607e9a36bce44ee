"""Maintenance-margin-rate model of international perpetuals (SPEC §1).

Binance, Bybit, OKX and Gate hold a maintenance margin ``MM(P) = P·Q·mmr − cum`` and
liquidate when ``E(P) <= MM(P)`` on the mark price: the mark-basis trigger solver with
``k = mmr`` and ``c = −cum``. With a tier table the rate and the maintenance amount
(``cum``) are those of the tier containing the notional ``P·Q``. An optional taker fee to
close the position adds to the rate (``mmr + taker_fee`` on the notional at ``P``), as OKX
and Gate define the threshold.

Tier tables (:func:`tier_table`) have one row per tier: ``floor``, ``cap`` (notional in the
quote currency), ``mmr`` and ``maintenance_amount``. A tier covers notionals
``floor < N <= cap`` (Binance writes "50,000 < Position ≤ 250,000"); the first tier also
covers everything below its floor and the last everything above its cap (an exchange would
not let such a position open, so the last tier is the best estimate).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from importlib import resources

import numpy as np
import pandas as pd

from ._inputs import InputError, Inputs, positive_or_nan

__all__ = [
    "TIER_COLUMNS", "tier_table", "tier_for", "exchange_tiers", "liquidation_price", "maintenance_margin",
    "bankruptcy_price", "cross_account", "CrossAccount",
]

TIER_COLUMNS = ["floor", "cap", "mmr", "maintenance_amount"]

# Header words accepted for each tier column (English, exchange wording, Japanese).
_TIER_ALIASES = {
    "floor": {"floor", "min", "notional_floor", "from", "lower", "下限"},
    "cap": {"cap", "max", "notional_cap", "to", "upper", "risk_limit", "上限", "リスク限度"},
    "mmr": {"mmr", "maintenance_margin_rate", "rate", "維持証拠金率"},
    "maintenance_amount": {"maintenance_amount", "cum", "deduction", "maintenance_margin_deduction",
                           "mm_deduction", "維持証拠金控除額", "控除額"},
}


# -- tier tables ------------------------------------------------------------------------
def _is_blank(v) -> bool:
    if v is None:
        return True
    if isinstance(v, str):
        return v.strip() == ""
    try:
        return bool(np.isnan(v))
    except TypeError:
        return False


def _cell_number(v):
    """A float from a cell: numbers, numeric text with thousands separators or a % sign."""
    if isinstance(v, bool):
        raise ValueError(v)
    if isinstance(v, str):
        text = v.strip().replace(",", "").replace("\u00a0", "")
        if text.endswith("%"):
            return float(text[:-1]) / 100.0
        return float(text)
    return float(v)


def _header_key(v):
    word = re.sub(r"[\s\-]+", "_", str(v).strip().lower())
    for key, names in _TIER_ALIASES.items():
        if word in names:
            return key
    return None


def _rows_from_range(tiers):
    """Rows (lists) and column keys from a list of lists / 2-D range, header optional."""
    rows = [list(r) if isinstance(r, (list, tuple, np.ndarray)) else [r] for r in tiers]
    if rows and not any(isinstance(r, (list, tuple, np.ndarray)) for r in tiers):
        rows = [list(tiers)]  # a single tier given as one flat row
    rows = [r for r in rows if not all(_is_blank(c) for c in r)]  # blank rows of a range
    if not rows:
        raise InputError("tiers must have at least one row, got an empty table")
    first = [c for c in rows[0] if not _is_blank(c)]
    is_header = bool(first) and isinstance(first[0], str) and _header_key(first[0]) is not None
    if is_header:
        keys = [_header_key(c) if not _is_blank(c) else None for c in rows[0]]
        return rows[1:], keys
    return rows, TIER_COLUMNS


def tier_table(tiers) -> pd.DataFrame:
    """A tier table, validated and with maintenance amounts filled in.

    Parameters
    ----------
    tiers : DataFrame, list of dicts, list of rows or a 2-D Excel range value
        Columns ``floor``, ``cap``, ``mmr`` and optionally ``maintenance_amount`` (also
        accepted: ``cum``, ``deduction``, ``risk_limit`` for cap, Japanese 下限/上限/
        維持証拠金率/控除額). Rows may be lists ``[floor, cap, mmr(, maintenance_amount)]``
        with an optional text header row; blank rows and trailing blank cells of an Excel
        range are ignored. Numbers may be text ("50,000", "0.4%"). A blank floor in the
        first row is 0 and a blank cap in the last row is unlimited.

    Returns
    -------
    DataFrame
        Columns ``floor, cap, mmr, maintenance_amount`` (floats), one row per tier.

    Raises
    ------
    InputError
        Naming the tier (1 = first data row) and the value: floors must increase, each cap
        must exceed its floor and equal the next floor, ``0 <= mmr < 1``, maintenance
        amounts given for every tier or for none.

    Notes
    -----
    Missing maintenance amounts are derived so that the maintenance margin is continuous
    at each tier boundary, as Binance and Bybit publish them:

    .. math:: cum_n = floor_n (mmr_n - mmr_{n-1}) + cum_{n-1}, \\quad cum_0 = 0

    Examples
    --------
    The first three BTCUSDT tiers of Binance's 2021-03-18 table, typed as an Excel range
    without maintenance amounts; the third tier's 1,300 is the amount Binance's FAQ quotes:

    >>> import xlcalc as xc
    >>> t = xc.tier_table([["floor", "cap", "mmr"], [0, 50_000, 0.004],
    ...                    [50_000, 250_000, 0.005], [250_000, 1_000_000, 0.01]])
    >>> t["maintenance_amount"].tolist()
    [0.0, 50.0, 1300.0]
    """
    if isinstance(tiers, pd.DataFrame):
        df = tiers.rename(columns={c: _header_key(c) or c for c in tiers.columns})
        records = df.to_dict("records")
        keys = None
    elif isinstance(tiers, (list, tuple, np.ndarray)) and len(tiers) and all(
            isinstance(r, dict) for r in tiers):
        records = [{(_header_key(k) or k): v for k, v in r.items()} for r in tiers]
        keys = None
    elif isinstance(tiers, (list, tuple, np.ndarray)):
        rows, keys = _rows_from_range(tiers)
        records = [{k: (r[i] if i < len(r) else None) for i, k in enumerate(keys) if k is not None}
                   for r in rows]
    else:
        raise InputError(f"tiers must be a table (DataFrame, list of rows or an Excel range), "
                         f"got {type(tiers).__name__}")
    if not records:
        raise InputError("tiers must have at least one row, got an empty table")
    if keys is not None and not {"floor", "cap", "mmr"} <= set(k for k in keys if k):
        raise InputError(f"tiers header must name floor, cap and mmr, got {keys!r}")
    n = len(records)
    out = {c: np.full(n, math.nan) for c in TIER_COLUMNS}
    for i, rec in enumerate(records):
        for col in TIER_COLUMNS:
            if col not in rec and col != "maintenance_amount":
                raise InputError(f"tiers must have a {col} column, got columns {sorted(map(str, rec))}")
            v = rec.get(col)
            if _is_blank(v):
                continue
            try:
                out[col][i] = _cell_number(v)
            except (TypeError, ValueError):
                raise InputError(f"tiers row {i + 1}: {col} must be a number, got {v!r}") from None
    floor, cap, mmr, cum = (out[c] for c in TIER_COLUMNS)
    if math.isnan(floor[0]):
        floor[0] = 0.0
    if math.isnan(cap[-1]):
        cap[-1] = math.inf
    for i in range(n):
        row = f"tiers row {i + 1}"
        for col, arr in (("floor", floor), ("cap", cap), ("mmr", mmr)):
            if math.isnan(arr[i]):
                raise InputError(f"{row}: {col} is missing")
        if not (0 <= floor[i] < math.inf):
            raise InputError(f"{row}: floor must be a number >= 0, got {floor[i]!r}")
        if not cap[i] > floor[i]:
            raise InputError(f"{row}: cap must be greater than floor, got floor={floor[i]:g}, cap={cap[i]:g}")
        if not 0 <= mmr[i] < 1:
            raise InputError(f"{row}: mmr must be a fraction >= 0 and < 1 (0.4 % = 0.004), got {mmr[i]!r}")
        if i and not floor[i] > floor[i - 1]:
            raise InputError(f"{row}: floors must increase, got {floor[i]:g} after {floor[i - 1]:g}")
        if i and cap[i - 1] != floor[i]:
            raise InputError(f"{row}: floor must equal the previous tier's cap "
                             f"{cap[i - 1]:g}, got {floor[i]:g}")
    given = ~np.isnan(cum)
    if given.all():
        if not np.isfinite(cum).all():
            raise InputError(f"tiers row {int(np.flatnonzero(~np.isfinite(cum))[0]) + 1}: "
                             f"maintenance_amount must be a finite number")
    elif given.any():
        raise InputError(f"tiers row {int(np.flatnonzero(~given)[0]) + 1}: maintenance_amount is "
                         f"missing; give it for every tier or for none (then it is derived)")
    else:
        cum[0] = 0.0
        for i in range(1, n):
            cum[i] = floor[i] * (mmr[i] - mmr[i - 1]) + cum[i - 1]
    return pd.DataFrame({"floor": floor, "cap": cap, "mmr": mmr, "maintenance_amount": cum})


def _tier_arrays(tiers):
    t = tiers if _is_normalised(tiers) else tier_table(tiers)
    return (t["floor"].to_numpy(float), t["cap"].to_numpy(float), t["mmr"].to_numpy(float),
            t["maintenance_amount"].to_numpy(float))


def _is_normalised(tiers) -> bool:
    return isinstance(tiers, pd.DataFrame) and list(tiers.columns) == TIER_COLUMNS \
        and all(tiers[c].dtype == float for c in TIER_COLUMNS)


def _tier_index(notional, caps):
    """Index of the tier holding each notional: floor < N <= cap, clipped to the table."""
    return np.minimum(np.searchsorted(caps, notional, side="left"), len(caps) - 1)


def tier_for(notional, tiers) -> pd.Series:
    """The tier row (floor, cap, mmr, maintenance_amount) holding a notional.

    >>> import xlcalc as xc
    >>> float(xc.perpetual.tier_for(264_000, xc.exchange_tiers("binance_usdm"))["mmr"])
    0.01
    """
    t = tiers if _is_normalised(tiers) else tier_table(tiers)
    n = float(Inputs().number("notional", notional, rule="nonnegative"))
    return t.iloc[int(_tier_index(n, t["cap"].to_numpy(float)))]


def _exchange_tier_files():
    folder = resources.files("xlcalc").joinpath("data")
    return {p.name[len("tiers_"):-len(".csv")]: p for p in folder.iterdir()
            if p.name.startswith("tiers_") and p.name.endswith(".csv")}


def exchange_tiers(exchange_id: str, symbol: str | None = None) -> pd.DataFrame:
    """The shipped tier table of an exchange preset.

    Parameters
    ----------
    exchange_id : str
        A preset id with a tier file ``xlcalc/data/tiers_<id>.csv``: ``binance_usdm``,
        ``bybit_usdt``.
    symbol : str, optional
        The contract; default the file's first (BTCUSDT).

    Returns
    -------
    DataFrame
        As :func:`tier_table`; ``.attrs`` holds ``exchange``, ``symbol``, ``source_url``
        and ``as_of``. The files hold only the first few tiers of one dated table: check the
        exchange's current table before relying on it.

    Examples
    --------
    >>> import xlcalc as xc
    >>> t = xc.exchange_tiers("binance_usdm")
    >>> t.attrs["symbol"], float(t["mmr"].iloc[0]), float(t["maintenance_amount"].iloc[2])
    ('BTCUSDT', 0.004, 1300.0)
    """
    files = _exchange_tier_files()
    if exchange_id not in files:
        raise InputError(f"exchange must be one with a tier table ({', '.join(sorted(files))}); "
                         f"got {exchange_id!r}")
    with files[exchange_id].open("rb") as fh:
        raw = pd.read_csv(fh, dtype=str, keep_default_na=False, encoding="utf-8-sig", comment="#")
    symbols = list(dict.fromkeys(raw["symbol"]))
    symbol = symbol or symbols[0]
    if symbol not in symbols:
        raise InputError(f"symbol must be one of {', '.join(symbols)} for {exchange_id}; got {symbol!r}")
    rows = raw[raw["symbol"] == symbol]
    table = tier_table(rows[TIER_COLUMNS])
    table.attrs.update(exchange=exchange_id, symbol=symbol, source_url=rows["source_url"].iloc[0],
                       as_of=rows["as_of"].iloc[0])
    return table


# -- one position -------------------------------------------------------------------------
def _solve_tiers(sigma, a, x0, balance, rates, cums, floors, caps):
    """Where equity meets maintenance margin, in a variable x with notional ``a·x``.

    Equity is ``B + sigma·a·(x − x0)``; the threshold ``a·x·rate_j − cum_j`` in tier j.
    Each tier's line gives a root; the answer is the first x reached moving the adverse
    way (x falls when sigma = +1, rises when sigma = −1) where equity <= threshold,
    clipped to the tier's range: the root of the consistent tier, or a tier boundary where
    a table with jumps makes the threshold leap above equity.
    """
    sg, aa, xx, bb = (np.asarray(v, dtype=float)[..., None] for v in (sigma, a, x0, balance))
    with np.errstate(divide="ignore", invalid="ignore"):
        root = (sg * xx * aa - bb - cums) / (aa * (sg - rates))
        lo = np.concatenate(([0.0], floors[1:])) / aa
        hi = np.concatenate((caps[:-1], [math.inf])) / aa
        down = np.where(root > lo, np.minimum(root, hi), -math.inf).max(axis=-1)
        up = np.where(root <= hi, np.maximum(root, lo), math.inf).min(axis=-1)
    return np.where(np.asarray(sigma) > 0, down, up)


def _check_rates(rates, fee, name="mmr"):
    if np.any(rates + fee >= 1):
        raise InputError(f"{name} + taker_fee must be below 1, got a rate of {float(np.max(rates + fee))!r}")


def liquidation_price(wallet_balance, side, entry_price, quantity, mmr, maintenance_amount=0.0,
                      other_maintenance=0.0, other_pnl=0.0, tiers=None, taker_fee=0.0):
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

    Returns
    -------
    float, ndarray or Series
        NaN where the position can never be liquidated (Binance's UI shows "--").

    Notes
    -----
    With :math:`WB' = WB - TMM_{other} + UPNL_{other}` and :math:`m = mmr + fee`,
    liquidation is where :math:`WB' + s (P - P_0) Q = P Q m - cum`:

    .. math:: LP = \\frac{s P_0 Q - WB' - cum}{Q (s - m)}

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
    """
    a = Inputs()
    wb = a.number("wallet_balance", wallet_balance, rule="any")
    s = a.side("side", side)
    p0 = a.number("entry_price", entry_price)
    q = a.number("quantity", quantity)
    tmm = a.number("other_maintenance", other_maintenance, rule="nonnegative")
    upnl = a.number("other_pnl", other_pnl, rule="any")
    fee = a.number("taker_fee", taker_fee, rule="nonnegative")
    balance = wb - tmm + upnl
    if tiers is not None:
        floors, caps, rates, cums = _tier_arrays(tiers)
        _check_rates(rates, float(np.max(fee)))
        s, p0, q, balance, fee = np.broadcast_arrays(s, p0, q, balance, fee)
        lp = _solve_tiers(s, q, p0, balance, rates + fee[..., None], cums, floors, caps)
        return a.out(positive_or_nan(lp))
    rate = a.number("mmr", mmr, rule="nonnegative") + fee
    cum = a.number("maintenance_amount", maintenance_amount, rule="nonnegative")
    with np.errstate(divide="ignore", invalid="ignore"):
        lp = (s * p0 * q - balance - cum) / (q * (s - rate))
    return a.out(positive_or_nan(lp))


def maintenance_margin(price, quantity, mmr=None, maintenance_amount=0.0, tiers=None, taker_fee=0.0):
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

    Returns
    -------
    float, ndarray or Series

    Notes
    -----
    .. math:: MM = P Q (mmr + fee) - cum

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
    return a.out(maintenance_on(a, p * q, mmr, maintenance_amount, taker_fee, tiers))


def maintenance_on(a, notional, mmr, maintenance_amount, taker_fee, tiers):
    """``notional·(mmr + fee) − cum``, the rate and amount from the tier holding ``notional``
    or as given; shared by linear (notional in quote) and inverse (in coin) contracts."""
    fee = a.number("taker_fee", taker_fee, rule="nonnegative")
    if tiers is not None:
        _, caps, rates, cums = _tier_arrays(tiers)
        j = _tier_index(notional, caps)
        return notional * (rates[j] + fee) - cums[j]
    if mmr is None:
        raise InputError("mmr must be a number when no tiers are given, got None")
    rate = a.number("mmr", mmr, rule="nonnegative")
    cum = a.number("maintenance_amount", maintenance_amount, rule="nonnegative")
    return notional * (rate + fee) - cum


def bankruptcy_price(wallet_balance, side, entry_price, quantity, other_pnl=0.0):
    """Bankruptcy (zero-equity) price of a linear perpetual position, before fees.

    Parameters
    ----------
    wallet_balance, side, entry_price, quantity, other_pnl
        As in :func:`liquidation_price`.

    Returns
    -------
    float, ndarray or Series
        NaN where equity cannot reach zero.

    Notes
    -----
    .. math:: P_b = P_0 - s (WB + UPNL_{other}) / Q

    Examples
    --------
    Bybit's isolated rule: a long at 10x goes bankrupt 10 % below entry, a short 10 % above:

    >>> from xlcalc import perpetual
    >>> perpetual.bankruptcy_price(2_000, ["long", "short"], 20_000, 1)
    array([18000., 22000.])
    """
    a = Inputs()
    wb = a.number("wallet_balance", wallet_balance, rule="any")
    s = a.side("side", side)
    p0 = a.number("entry_price", entry_price)
    q = a.number("quantity", quantity)
    upnl = a.number("other_pnl", other_pnl, rule="any")
    return a.out(positive_or_nan(p0 - s * (wb + upnl) / q))


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
    side: float
    entry: float
    mark: float
    qty: float
    floors: np.ndarray
    caps: np.ndarray
    rates: np.ndarray
    cums: np.ndarray


def _walk_to_threshold(legs, coef, y0, balance, fee):
    """First y, moving from y0, where equity crosses the maintenance margin.

    Leg l's notional is ``coef[l]·y``; its P&L ``s·(coef[l]·y − entry·qty)``. Equity minus
    maintenance margin is piecewise linear in y with kinks (or jumps) at tier boundaries, so
    walk segment by segment: away from y0 in the direction that lowers it when the account
    is safe at y0, and the direction that raises it when it is already breached (then the
    answer is where it was crossed, as the one-position formula reports).
    """
    bounds = sorted({float(c / k) for leg, k in zip(legs, coef) for c in leg.caps[:-1]})
    edges = [0.0] + bounds + [math.inf]

    def line(i):  # f(y) = A + B·y on segment i = (edges[i], edges[i+1]]
        # a point well inside the segment: its upper edge may round into the next tier
        rep = (edges[i] + edges[i + 1]) / 2 if math.isfinite(edges[i + 1]) else 2 * edges[i] + 1.0
        A, B = balance, 0.0
        for leg, k in zip(legs, coef):
            j = _tier_index(k * rep, leg.caps)
            A += -leg.side * leg.entry * leg.qty + leg.cums[j]
            B += leg.side * k - k * (leg.rates[j] + fee)
        return A, B

    i = int(np.searchsorted(edges[1:-1], y0, side="left"))
    A, B = line(i)
    breached = A + B * y0 <= 0
    if B == 0:
        return math.nan
    d = (1 if B > 0 else -1) * (1 if breached else -1)

    def hit(v):
        return v > 0 if breached else v <= 0

    u = y0
    while 0 <= i < len(edges) - 1:
        A, B = line(i)
        if u != y0 and hit(A + B * u):
            return u  # a jump at the boundary
        if B != 0:
            r = -A / B
            lo, hi = (edges[i], u) if d < 0 else (u, edges[i + 1])
            if lo <= r <= hi and (B * d < 0) != breached:
                return r
        u = edges[i] if d < 0 else edges[i + 1]
        i += d
    return math.nan


def _column(df, name, row_rule, a, default=None):
    if name not in df.columns:
        if default is not None:
            return np.full(len(df), default, dtype=float)
        raise InputError(f"positions must have a {name} column, got {list(df.columns)}")
    if name == "side":
        return np.atleast_1d(a.side(name, df[name]))
    return np.atleast_1d(a.number(name, df[name], rule=row_rule))


def cross_account(positions, wallet_balance, tiers=None, taker_fee=0.0) -> CrossAccount:
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

    Returns
    -------
    CrossAccount
        ``margin_balance`` (equity: wallet balance + unrealized P&L), ``maintenance_margin``
        (sum at the mark prices), ``margin_ratio`` = maintenance margin / margin balance as
        Binance and Bybit display it (liquidation at 100 %; ``inf`` once the margin balance
        is 0 or less), ``move_to_liquidation`` (the uniform move ``x``: every mark price times
        ``1 + x`` brings the margin balance down to the maintenance margin; NaN if none), and
        ``positions``: the input with ``notional``, ``pnl``, ``mmr_used``,
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
    """
    if not isinstance(positions, pd.DataFrame):
        raise InputError(f"positions must be a DataFrame, got {type(positions).__name__}")
    if positions.empty:
        raise InputError("positions must have at least one row")
    a = Inputs()
    wb = float(a.number("wallet_balance", wallet_balance, rule="nonnegative"))
    fee = float(a.number("taker_fee", taker_fee, rule="nonnegative"))
    df = positions.reset_index(drop=True)
    s = _column(df, "side", None, a)
    p0 = _column(df, "entry_price", "positive", a)
    pm = _column(df, "mark_price", "positive", a)
    q = _column(df, "quantity", "positive", a)
    symbols = df["symbol"].astype(str).tolist() if "symbol" in df.columns else [f"#{i}" for i in range(len(df))]
    legs = []
    for i, sym in enumerate(symbols):
        table = tiers.get(sym) if isinstance(tiers, dict) else tiers
        if table is not None:
            f_, c_, r_, m_ = _tier_arrays(table)
        else:
            if "mmr" not in df.columns or _is_blank(df["mmr"].iloc[i]):
                raise InputError(f"positions row {i}: mmr is missing and no tier table is given for {sym!r}")
            rate = float(Inputs().number("mmr", df["mmr"].iloc[i], rule="nonnegative"))
            amount = df["maintenance_amount"].iloc[i] if "maintenance_amount" in df.columns else 0.0
            amount = 0.0 if _is_blank(amount) else float(Inputs().number("maintenance_amount", amount,
                                                                           rule="nonnegative"))
            f_, c_, r_, m_ = (np.array([0.0]), np.array([math.inf]), np.array([rate]), np.array([amount]))
        _check_rates(r_, fee)
        legs.append(_Leg(s[i], p0[i], pm[i], q[i], f_, c_, r_, m_))
    notional = pm * q
    pnl = s * (pm - p0) * q
    idx = [_tier_index(notional[i], leg.caps) for i, leg in enumerate(legs)]
    rate_used = np.array([leg.rates[j] for leg, j in zip(legs, idx)])
    mm = np.array([notional[i] * (leg.rates[j] + fee) - leg.cums[j] for i, (leg, j) in enumerate(zip(legs, idx))])
    total_mm, total_pnl = float(mm.sum()), float(pnl.sum())
    lp = np.full(len(df), math.nan)
    for sym in dict.fromkeys(symbols):
        rows = [i for i, x in enumerate(symbols) if x == sym]
        others = [i for i in range(len(df)) if symbols[i] != sym]
        tmm, upnl = float(mm[others].sum()), float(pnl[others].sum())
        if len(rows) == 1:
            i, leg = rows[0], legs[rows[0]]
            table = pd.DataFrame({"floor": leg.floors, "cap": leg.caps, "mmr": leg.rates,
                                  "maintenance_amount": leg.cums})
            lp[i] = liquidation_price(wb, leg.side, leg.entry, leg.qty, None, None, tmm, upnl,
                                      tiers=table, taker_fee=fee)
        else:
            mark = float(pm[rows[0]])
            if not np.allclose(pm[rows], mark):
                raise InputError(f"positions of symbol {sym!r} must share one mark_price, got {pm[rows].tolist()}")
            price = _walk_to_threshold([legs[i] for i in rows], [legs[i].qty for i in rows], mark,
                                       wb - tmm + upnl, fee)
            lp[rows] = price if price > 0 else math.nan
    move = _walk_to_threshold(legs, list(notional), 1.0, wb, fee) - 1.0
    balance = wb + total_pnl
    ratio = total_mm / balance if balance > 0 else math.inf
    out = positions.copy()
    for name, values in (("notional", notional), ("pnl", pnl), ("mmr_used", rate_used),
                         ("maintenance_margin", mm), ("liquidation_price", lp)):
        out[name] = values
    return CrossAccount(wallet_balance=wb, unrealized_pnl=total_pnl, margin_balance=balance,
                        maintenance_margin=total_mm, margin_ratio=ratio,
                        move_to_liquidation=float(move) if move > -1 else math.nan,
                        positions=out)
