"""Tier tables of maintenance margin, shared by linear and inverse contracts (SPEC §1).

A tier table has one row per tier: ``floor``, ``cap`` (notional: quote currency for linear
contracts, coin for inverse ones), ``mmr`` and ``maintenance_amount`` ("cum"). A tier covers
notionals ``floor < N <= cap`` (Binance writes "50,000 < Position ≤ 250,000"); the first tier
also covers everything below its floor and the last everything above its cap (an exchange
would not let such a position open, so the last tier is the best estimate).

:func:`for_preset` is the one place that turns an exchange preset into the table every
command uses, so ``calc --exchange`` and ``liq`` agree.
"""

from __future__ import annotations

import math
import re
from importlib import resources

import numpy as np
import pandas as pd

from ._inputs import InputError, Inputs

__all__ = [
    "TIER_COLUMNS",
    "tier_table",
    "tier_for",
    "exchange_tiers",
    "for_preset",
    "beyond_table",
    "position_beyond_table",
]

TIER_COLUMNS = ["floor", "cap", "mmr", "maintenance_amount"]

# Header words accepted for each tier column (English, exchange wording, Japanese).
_TIER_ALIASES = {
    "floor": {"floor", "min", "notional_floor", "from", "lower", "下限"},
    "cap": {"cap", "max", "notional_cap", "to", "upper", "risk_limit", "上限", "リスク限度"},
    "mmr": {"mmr", "maintenance_margin_rate", "rate", "維持証拠金率"},
    "maintenance_amount": {
        "maintenance_amount",
        "cum",
        "deduction",
        "maintenance_margin_deduction",
        "mm_deduction",
        "維持証拠金控除額",
        "控除額",
    },
    "max_leverage": {"max_leverage", "leverage", "最大レバレッジ"},
}


# -- tier tables ------------------------------------------------------------------------
def is_blank(v) -> bool:
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
    rows = [r for r in rows if not all(is_blank(c) for c in r)]  # blank rows of a range
    if not rows:
        raise InputError("tiers must have at least one row, got an empty table")
    first = [c for c in rows[0] if not is_blank(c)]
    is_header = bool(first) and isinstance(first[0], str) and _header_key(first[0]) is not None
    if is_header:
        keys = [_header_key(c) if not is_blank(c) else None for c in rows[0]]
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
        first row is 0 and a blank cap in the last row is unlimited. An optional
        ``max_leverage`` column (the tier's leverage limit) is kept.

    Returns
    -------
    DataFrame
        Columns ``floor, cap, mmr, maintenance_amount`` (floats), one row per tier, then
        ``max_leverage`` when given.

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
    records, keys = _records(tiers)
    if keys is not None and not {"floor", "cap", "mmr"} <= set(k for k in keys if k):
        raise InputError(f"tiers header must name floor, cap and mmr, got {keys!r}")
    columns = _numbers(records)
    floor, cap, mmr = _open_ends(columns["floor"], columns["cap"]), columns["cap"], columns["mmr"]
    _check_tiers(floor, cap, mmr)
    amounts = _maintenance_amounts(floor, mmr, columns["maintenance_amount"])
    table = pd.DataFrame({"floor": floor, "cap": cap, "mmr": mmr, "maintenance_amount": amounts})
    leverage = columns["max_leverage"]
    if not np.isnan(leverage).all():
        if np.isnan(leverage).any() or not (leverage > 0).all():
            row = int(np.flatnonzero(~(leverage > 0))[0]) + 1
            raise InputError(
                f"tiers row {row}: max_leverage must be a positive number for every tier or for "
                f"none, got {leverage[row - 1]!r}"
            )
        table["max_leverage"] = leverage
    return table


def _records(tiers):
    """The rows of any accepted table form as dicts keyed by column name (and the header keys
    of an Excel range, None for the other forms)."""
    if isinstance(tiers, pd.DataFrame):
        renamed = tiers.rename(columns={c: _header_key(c) or c for c in tiers.columns})
        records, keys = renamed.to_dict("records"), None
    elif (
        isinstance(tiers, (list, tuple, np.ndarray))
        and len(tiers)
        and all(isinstance(r, dict) for r in tiers)
    ):
        records, keys = [{(_header_key(k) or k): v for k, v in r.items()} for r in tiers], None
    elif isinstance(tiers, (list, tuple, np.ndarray)):
        rows, keys = _rows_from_range(tiers)
        records = [
            {k: (r[i] if i < len(r) else None) for i, k in enumerate(keys) if k is not None} for r in rows
        ]
    else:
        raise InputError(
            f"tiers must be a table (DataFrame, list of rows or an Excel range), got {type(tiers).__name__}"
        )
    if not records:
        raise InputError("tiers must have at least one row, got an empty table")
    return records, keys


_OPTIONAL = ("maintenance_amount", "max_leverage")


def _numbers(records):
    """One float array per column (NaN where blank); InputError naming the row of a non-number."""
    columns = {c: np.full(len(records), math.nan) for c in (*TIER_COLUMNS, "max_leverage")}
    for i, record in enumerate(records):
        for column, values in columns.items():
            if column not in record and column not in _OPTIONAL:
                raise InputError(f"tiers must have a {column} column, got columns {sorted(map(str, record))}")
            cell = record.get(column)
            if is_blank(cell):
                continue
            try:
                values[i] = _cell_number(cell)
            except (TypeError, ValueError):
                raise InputError(f"tiers row {i + 1}: {column} must be a number, got {cell!r}") from None
    return columns


def _open_ends(floor, cap):
    """A blank first floor is 0 and a blank last cap unlimited (the table's open ends)."""
    if math.isnan(floor[0]):
        floor[0] = 0.0
    if math.isnan(cap[-1]):
        cap[-1] = math.inf
    return floor


def _check_tiers(floor, cap, mmr):
    """Every tier complete, its cap above its floor and equal to the next floor, 0 <= mmr < 1."""
    for i in range(len(floor)):
        row = f"tiers row {i + 1}"
        for column, values in (("floor", floor), ("cap", cap), ("mmr", mmr)):
            if math.isnan(values[i]):
                raise InputError(f"{row}: {column} is missing")
        if not (0 <= floor[i] < math.inf):
            raise InputError(f"{row}: floor must be a number >= 0, got {floor[i]!r}")
        if not cap[i] > floor[i]:
            raise InputError(f"{row}: cap must be greater than floor, got floor={floor[i]:g}, cap={cap[i]:g}")
        if not 0 <= mmr[i] < 1:
            raise InputError(
                f"{row}: mmr must be a fraction >= 0 and < 1 (0.4 % = 0.004), got {mmr[i]!r}",
                argument="mmr",
                expected="below_one",
                value=float(mmr[i]),
                row=i + 1,
            )
        if i and not floor[i] > floor[i - 1]:
            raise InputError(f"{row}: floors must increase, got {floor[i]:g} after {floor[i - 1]:g}")
        if i and cap[i - 1] != floor[i]:
            raise InputError(
                f"{row}: floor must equal the previous tier's cap {cap[i - 1]:g}, got {floor[i]:g}"
            )


def _maintenance_amounts(floor, mmr, given):
    """The amounts as given for every tier, or derived for all; InputError if only some are given.

    Derived so that the maintenance margin is continuous at each boundary, as Binance and
    Bybit publish them: ``cum_n = floor_n (mmr_n - mmr_{n-1}) + cum_{n-1}``, ``cum_0 = 0``.
    """
    present = ~np.isnan(given)
    if present.all():
        if not np.isfinite(given).all():
            raise InputError(
                f"tiers row {int(np.flatnonzero(~np.isfinite(given))[0]) + 1}: "
                f"maintenance_amount must be a finite number"
            )
        return given
    if present.any():
        raise InputError(
            f"tiers row {int(np.flatnonzero(~present)[0]) + 1}: maintenance_amount is "
            f"missing; give it for every tier or for none (then it is derived)"
        )
    step_up = floor[1:] * np.diff(mmr)
    return np.concatenate(([0.0], np.cumsum(step_up)))


def tier_arrays(tiers):
    """(floors, caps, rates, amounts) as float arrays, from any table form."""
    table = tiers if _is_normalised(tiers) else tier_table(tiers)
    values = table.to_numpy(dtype=float)  # one conversion: column access copies .attrs each time
    return values[:, 0].copy(), values[:, 1].copy(), values[:, 2].copy(), values[:, 3].copy()


def _is_normalised(tiers) -> bool:
    """True for a table :func:`tier_table` made (checked already)."""
    return (
        isinstance(tiers, pd.DataFrame)
        and list(tiers.columns[:4]) == TIER_COLUMNS
        and len(tiers.columns) <= 5
        and all(kind == np.dtype(float) for kind in tiers.dtypes)
    )


def tier_index(notional, caps):
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
    return t.iloc[int(tier_index(n, t["cap"].to_numpy(float)))]


def beyond_table(notional, tiers) -> np.ndarray:
    """True where a notional is above the table's last cap. A table whose last cap is finite
    stops there (the shipped ones hold an exchange's first tiers): the exchange's higher tiers,
    with higher rates, are not in it, so a figure from its last tier may flatter the position.

    >>> import xlcalc as xc
    >>> xc.tiers.beyond_table([1e6, 3e7], xc.exchange_tiers("binance_usdm")).tolist()
    [False, True]
    """
    _, caps, _, _ = tier_arrays(tiers)
    with np.errstate(invalid="ignore"):
        return np.asarray(notional, dtype=float) > caps[-1]


def position_beyond_table(quantity, price, liquidation_price, tiers) -> np.ndarray:
    """:func:`beyond_table` of a position's notional now or at its liquidation price (NaN or
    infinite: never reached), whichever is larger: the notional a tier is chosen by.

    >>> import xlcalc as xc
    >>> t = xc.exchange_tiers("binance_usdm")
    >>> xc.tiers.position_beyond_table(400, 48_000, [51_000, float("nan")], t).tolist()
    [True, False]
    """
    lp = np.asarray(liquidation_price, dtype=float)
    top = np.fmax(np.asarray(price, dtype=float), np.where(np.isfinite(lp), lp, np.nan))
    return beyond_table(top * np.asarray(quantity, dtype=float), tiers)


def _exchange_tier_files():
    folder = resources.files("xlcalc").joinpath("data")
    return {
        p.name[len("tiers_") : -len(".csv")]: p
        for p in folder.iterdir()
        if p.name.startswith("tiers_") and p.name.endswith(".csv")
    }


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
        raise InputError(
            f"exchange must be one with a tier table ({', '.join(sorted(files))}); got {exchange_id!r}"
        )
    with files[exchange_id].open("rb") as fh:
        raw = pd.read_csv(fh, dtype=str, keep_default_na=False, encoding="utf-8-sig", comment="#")
    symbols = list(dict.fromkeys(raw["symbol"]))
    symbol = symbol or symbols[0]
    if symbol not in symbols:
        raise InputError(f"symbol must be one of {', '.join(symbols)} for {exchange_id}; got {symbol!r}")
    rows = raw[raw["symbol"] == symbol]
    columns = TIER_COLUMNS + [c for c in ("max_leverage",) if c in rows.columns and (rows[c] != "").any()]
    table = tier_table(rows[columns])
    table.attrs.update(
        exchange=exchange_id,
        symbol=symbol,
        source_url=rows["source_url"].iloc[0],
        as_of=rows["as_of"].iloc[0],
    )
    return table


def solve_liquidation(side, size, entry, balance, rates, cums, floors, caps):
    """Where equity meets maintenance margin, in a price variable x with notional ``size·x``.

    Linear contracts call it with the price (``size`` = quantity); inverse ones with
    ``x = 1/P``, ``size = N·V`` and the side reversed. Equity is
    ``balance + side·size·(x − entry)``; the threshold ``size·x·rate_j − cum_j`` in tier j.
    Each tier's line gives a root; the answer is the first x reached moving the adverse way
    (x falls when side = +1, rises when side = −1) where equity <= threshold, clipped to the
    tier's range: the root of the consistent tier, or a tier boundary where a table with
    jumps makes the threshold leap above equity.
    """
    s, q, x0, b = (np.asarray(v, dtype=float)[..., None] for v in (side, size, entry, balance))
    with np.errstate(divide="ignore", invalid="ignore"):
        root = (s * x0 * q - b - cums) / (q * (s - rates))
        tier_low = np.concatenate(([0.0], floors[1:])) / q
        tier_high = np.concatenate((caps[:-1], [math.inf])) / q
        falling = np.where(root > tier_low, np.minimum(root, tier_high), -math.inf).max(axis=-1)
        rising = np.where(root <= tier_high, np.maximum(root, tier_low), math.inf).min(axis=-1)
    return np.where(np.asarray(side) > 0, falling, rising)


def check_rates(rates, fee, name="mmr"):
    """InputError when a rate plus the fee to close reaches 100 % (no liquidation price exists)."""
    if np.any(rates + fee >= 1):
        raise InputError(f"{name} + taker_fee must be below 1, got a rate of {float(np.max(rates + fee))!r}")


def tiered_liquidation(side, size, entry, balance, fee, tiers):
    """:func:`solve_liquidation` over every tier of ``tiers``, the fee to close added to each
    tier's rate (which must stay below 100 %)."""
    floors, caps, rates, cums = tier_arrays(tiers)
    check_rates(rates, float(np.max(fee)))
    side, size, entry, balance, fee = np.broadcast_arrays(side, size, entry, balance, fee)
    return solve_liquidation(side, size, entry, balance, rates + fee[..., None], cums, floors, caps)


def cross_balance(a, wallet_balance, other_maintenance, other_pnl):
    """What backs one position of a cross account, ``WB − TMM + UPNL``: the wallet balance less
    the other positions' maintenance margin, plus their unrealized P&L (at their marks)."""
    held_back = a.number("other_maintenance", other_maintenance, rule="nonnegative")
    return wallet_balance - held_back + a.number("other_pnl", other_pnl, rule="any")


def rate_and_amount(a, notional, mmr, maintenance_amount, tiers):
    """The maintenance rate and amount for ``notional``: from the tier holding it, or as given."""
    if tiers is not None:
        _, caps, rates, cums = tier_arrays(tiers)
        j = tier_index(notional, caps)
        return rates[j], cums[j]
    if mmr is None:
        raise InputError("mmr must be a number when no tiers are given, got None")
    amount = a.number("maintenance_amount", maintenance_amount, rule="nonnegative")
    return rate_fraction(a, "mmr", mmr), amount


def checked_rate_and_amount(a, notional, mmr, maintenance_amount, tiers, fee):
    """:func:`rate_and_amount`, the rate plus the fee to close checked to be below 100 %."""
    rate, cum = rate_and_amount(a, notional, mmr, maintenance_amount, tiers)
    check_rates(np.asarray(rate), float(np.max(fee)))
    return rate, cum


def rate_fraction(a, name, value):
    """A rate checked to be a fraction: 0 <= x < 1 (0.4 % is 0.004, not 0.4 or 4)."""
    x = a.number(name, value, rule="nonnegative")
    if (x >= 1) if np.ndim(x) == 0 else np.any(x >= 1):
        a._fail(name, np.asarray(x), np.asarray(x) >= 1, "below_one")
    return x


def maintenance_on(a, notional, mmr, maintenance_amount, taker_fee, tiers, entry_notional=None):
    """The maintenance margin for a position of ``notional``, in the notional's currency.

    On mark basis (``entry_notional`` None) ``notional·(mmr + fee) − cum``; on entry basis
    ``entry_notional·mmr − cum + fee·notional``, rate and amount from the entry notional's tier.
    Shared by linear (notional in quote) and inverse (in coin) contracts.
    """
    fee = a.number("taker_fee", taker_fee, rule="nonnegative")
    if entry_notional is None:
        rate, cum = rate_and_amount(a, notional, mmr, maintenance_amount, tiers)
        return notional * (rate + fee) - cum
    rate, cum = rate_and_amount(a, entry_notional, mmr, maintenance_amount, tiers)
    return entry_notional * rate - cum + fee * notional


MM_BASES = ("mark", "entry")


def is_entry_basis(mm_basis) -> bool:
    """True for ``mm_basis="entry"``, False for ``"mark"``; InputError naming the value otherwise."""
    if mm_basis == "mark":  # the default, on every call
        return False
    word = str(mm_basis).strip().lower()
    if word not in MM_BASES:
        raise InputError(
            f"mm_basis must be 'mark' or 'entry', got {mm_basis!r}", argument="mm_basis", value=mm_basis
        )
    return word == "entry"


def entry_price_for_basis(a, mm_basis, entry_price):
    """The checked entry price when ``mm_basis="entry"`` values the rate part at it, else None."""
    if not is_entry_basis(mm_basis):
        return None
    return a.number("entry_price", given_with("entry_price", entry_price, "mm_basis='entry'"))


def given_with(name, value, needed_by):
    """``value``; InputError when it is None although ``needed_by`` (another argument) needs it."""
    if value is None:
        raise InputError(
            f"{name} must be a positive number with {needed_by}, got None",
            argument=name,
            expected="positive",
            value=None,
        )
    return value


def for_preset(exchange_id: str, symbol: str | None = None, path=None) -> pd.DataFrame:
    """The tier table every command uses for an exchange preset.

    The shipped tier file of the preset if there is one (``xlcalc/data/tiers_<id>.csv``),
    otherwise one tier at the preset's ``mmr``; ``calc --exchange`` and ``liq`` both call this
    so they always agree.

    Parameters
    ----------
    exchange_id : str
        A preset id of the maintenance-margin-rate model (``binance_usdm``, ``bybit_usdt``).
    symbol : str, optional
        The contract in the tier file; default its first.
    path : str or Path, optional
        A user presets file, as in :func:`xlcalc.exchange_presets`.

    Returns
    -------
    DataFrame
        As :func:`tier_table`; ``.attrs`` names ``exchange``, ``symbol``, ``source_url``, ``as_of``.

    Examples
    --------
    >>> from xlcalc import tiers
    >>> t = tiers.for_preset("binance_usdm")
    >>> t.attrs["symbol"], len(t), float(t["maintenance_amount"].iloc[2])
    ('BTCUSDT', 5, 1300.0)
    """
    from .presets import get_preset  # presets reads the data folder too; no import at load time

    preset = get_preset(exchange_id, path)
    if exchange_id in _exchange_tier_files():
        return exchange_tiers(exchange_id, symbol)
    rate = preset.get("mmr", math.nan)
    if preset.get("margin_model") != "mmr" or not rate == rate:
        raise InputError(
            f"exchange must be a preset with a maintenance margin rate (mmr), got {exchange_id!r}",
            argument="exchange",
            value=exchange_id,
        )
    table = tier_table([[0.0, math.inf, rate, 0.0]])
    table.attrs.update(
        exchange=exchange_id,
        symbol=symbol or "",
        source_url=preset.get("source_url", ""),
        as_of=preset.get("as_of", ""),
    )
    return table
