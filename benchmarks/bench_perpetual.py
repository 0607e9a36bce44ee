"""Timing of the perpetuals solver: tiered liquidation prices for many rows, cross accounts.

Run: python benchmarks/bench_perpetual.py
"""

import time
from functools import partial

import numpy as np
import pandas as pd

import xlcalc as xc


def best(fn, repeat=3):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def hedged_pairs(rng, n):
    """n positions, two legs (hedge mode) per symbol."""
    sym = np.arange(n) % (n // 2)
    mark = rng.uniform(100, 1000, n // 2)[sym]
    return pd.DataFrame(
        {
            "symbol": [f"S{i}" for i in sym],
            "side": np.where(np.arange(n) < n // 2, "long", "short"),
            "entry_price": mark * rng.uniform(0.9, 1.1, n),
            "mark_price": mark,
            "quantity": rng.uniform(1, 100, n),
        }
    )


def main():
    rng = np.random.default_rng(0)
    tiers = xc.exchange_tiers("binance_usdm")
    print(f"{'case':<48}{'rows':>10}{'seconds':>10}{'rows/s':>14}")
    for n in (10_000, 1_000_000):
        side = rng.choice([1.0, -1.0], n)
        entry = rng.uniform(20_000, 80_000, n)
        qty = rng.uniform(0.01, 50, n)
        wb = entry * qty / rng.uniform(2, 50, n)
        for name, kw in (
            ("liquidation_price, one rate", dict(mmr=0.004)),
            ("liquidation_price, 5-tier Binance table", dict(mmr=None, tiers=tiers)),
            ("liquidation_price, tiers, mm_basis=entry", dict(mmr=None, tiers=tiers, mm_basis="entry")),
            ("liquidation_price, one rate, 0.5 tick", dict(mmr=0.004, tick_size=0.5)),
        ):
            t = best(partial(xc.liquidation_price, wb, side, entry, qty, **kw))
            print(f"{name:<48}{n:>10,}{t:>10.3f}{n / t:>14,.0f}")
    for n in (10, 100):
        pos = hedged_pairs(rng, n)
        for hedge in ("sum", "max"):
            t = best(partial(xc.cross_account, pos, 1e6, tiers=tiers, hedge=hedge))
            name = f"cross_account, hedged pairs, tiers, {hedge}"
            print(f"{name:<48}{n:>10,}{t:>10.3f}{n / t:>14,.0f}")


if __name__ == "__main__":
    main()
