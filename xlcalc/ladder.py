"""The adaptive scenario ladder: prices chosen from the position, not a fixed ±50 % grid.

A fixed grid in 5 % steps hides a 20x liquidation at −4.6 % between two rows. Here the range
covers every trigger price, the steps are round numbers (1, 2 or 5 × 10^k) around the current
price, and the current price and each trigger price are rows of their own. Pure numpy, so
the CLI, the template and the report can share it.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["nice_step", "scenario_ladder"]


def nice_step(span, rows=20):
    """The round step (1, 2 or 5 × 10^k) that cuts ``span`` into at most about ``rows`` parts.

    >>> nice_step(1_000_000, 20), nice_step(0.0093, 20), nice_step(37, 10)
    (50000.0, 0.0005, 5.0)
    """
    span = float(span)
    if not (math.isfinite(span) and span > 0):
        raise ValueError(f"span must be a positive finite number, got {span!r}")
    raw = span / max(int(rows), 1)
    power = 10.0 ** math.floor(math.log10(raw))
    for mult in (1.0, 2.0, 5.0, 10.0):
        if mult * power >= raw * (1 - 1e-12):
            return float(np.round(mult * power, 15 - math.floor(math.log10(power))))
    return 10.0 * power  # pragma: no cover - the loop always returns


def scenario_ladder(price, triggers=(), rows=20, margin=0.1):
    """Scenario prices for one position, ascending.

    Parameters
    ----------
    price : float
        The current price, > 0; always a row.
    triggers : array_like of float
        Trigger prices (margin call, loss-cut, bankruptcy, safe level, liquidation...).
        Each finite positive one becomes a row; NaN (never reached) is skipped.
    rows : int, optional
        About how many round steps the ladder has (a few more rows for the triggers).
    margin : float, optional
        How far beyond the farthest trigger the range reaches, as a fraction of its
        distance from the price.

    Returns
    -------
    ndarray
        Sorted, unique, positive prices.

    Notes
    -----
    With ``d`` the largest distance from ``price`` to a trigger (10 % of the price when
    none is finite), the range is ``price ± d·(1 + margin)`` cut at zero, and the round
    rows are the multiples of ``nice_step(2·d·(1 + margin), rows)`` inside it.

    Examples
    --------
    A 20x long, 1 BTC at 60,000 with 3,000 USDT, liquidated at 57,240 (−4.6 %); its
    bankruptcy price 57,000 and no margin call. The ladder steps by 500, and the liquidation
    is a row of its own instead of falling between −5 % and 0 %:

    >>> ladder = scenario_ladder(60_000, [57_240.0, 57_000.0, float("nan")], rows=20)
    >>> [float(p) for p in ladder[:4]]
    [57000.0, 57240.0, 57500.0, 58000.0]
    >>> bool(60_000 in ladder), bool(np.all(np.diff(ladder) > 0))
    (True, True)
    """
    price = float(price)
    if not (math.isfinite(price) and price > 0):
        raise ValueError(f"price must be a positive finite number, got {price!r}")
    marks = np.asarray(triggers, dtype=float).ravel()
    marks = marks[np.isfinite(marks) & (marks > 0)]
    far = float(np.max(np.abs(marks - price))) if marks.size else 0.0
    if not far > price * 1e-9:
        far = 0.1 * price
    half = far * (1 + margin)
    step = nice_step(2 * half, rows)
    decimals = max(0, 1 - math.floor(math.log10(step)))
    first = math.ceil((price - half) / step)
    last = math.floor((price + half) / step)
    grid = np.round(np.arange(first, last + 1, dtype=float) * step, decimals)
    grid = grid[grid > 0]
    special = np.concatenate(([price], marks))
    # a round row a hair away from a trigger would print as the same price twice
    near = np.abs(grid[:, None] - special[None, :]).min(axis=1) < step * 1e-6
    return np.unique(np.concatenate((grid[~near], special)))
