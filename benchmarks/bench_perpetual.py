"""Timing of the perpetuals solver: tiered liquidation prices for many rows, cross accounts.

Run: python benchmarks/bench_perpetual.py
"""
import time

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


def main():
    rng = np.random.default_rng(0)
    tiers = xc.exchange_tiers("binance_usdm")
    print(f"{'case':<48}{'rows':>10}{'seconds':>10}{'rows/s':>14}")
    for n in (10_000, 1_000_000):
        side = rng.choice([1.0, -1.0], n)
        entry = rng.uniform(20_000, 80_000, n)
        qty = rng.uniform(0.01, 50, n)
        wb = entry * qty / rng.uniform(2, 50, n)
        for name, kw in (("liquidation_price, one rate", dict(mmr=0.004)),
                         ("liquidation_price, 5-tier Binance table", dict(mmr=None, tiers=tiers))):
            t = best(lambda: xc.liquidation_price(wb, side, entry, qty, **kw))
            print(f"{name:<48}{n:>10,}{t:>10.3f}{n / t:>14,.0f}")
    for n in (10, 100):
        sym = np.arange(n) % (n // 2)  # two legs (hedge mode) per symbol
        mark = rng.uniform(100, 1000, n // 2)[sym]
        pos = pd.DataFrame({"symbol": [f"S{i}" for i in sym], "side": np.where(np.arange(n) < n // 2, "long", "short"),
                            "entry_price": mark * rng.uniform(0.9, 1.1, n), "mark_price": mark,
                            "quantity": rng.uniform(1, 100, n)})
        t = best(lambda: xc.cross_account(pos, 1e6, tiers=tiers))
        print(f"{'cross_account, hedged pairs, tiers':<48}{n:>10,}{t:>10.3f}{n / t:>14,.0f}")


if __name__ == "__main__":
    main()
