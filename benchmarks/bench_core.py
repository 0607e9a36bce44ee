"""Maintenance ratio + loss-cut price for N positions: xlcalc core vs a bare numpy expression.

The bare expression is the same arithmetic with no validation, no side words, no basis
choice and no NaN for unreachable levels beyond one mask: the floor any wrapper pays.
Run: python benchmarks/bench_core.py [N]
"""
import sys
import time

import numpy as np

import xlcalc as xc


def bare(d, s, p0, p, q, lev, level):
    ratio = (d + s * (p - p0) * q) / (p0 * q / lev)
    lc = (s * p0 * q - d + level * p0 * q / lev) / (s * q)
    lc[~(lc > 0)] = np.nan
    return ratio, lc


def core(d, s, p0, p, q, lev, level):
    ratio = xc.maintenance_ratio(d, s, p0, p, q, lev)
    lc = xc.loss_cut_price(d, s, p0, q, lev, level)
    return ratio, lc


def timed(fn, args):
    t0 = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - t0, out


def alternate(fns, args, repeat=15):
    """Median time of each function, run in turns so that load on the machine hits all alike."""
    times = {fn: [] for fn in fns}
    outs = {}
    for _ in range(repeat):
        for fn in fns:
            t, outs[fn] = timed(fn, args)
            times[fn].append(t)
    return {fn: float(np.median(t)) for fn, t in times.items()}, outs


def main(n=2_000_000):
    rng = np.random.default_rng(0)
    p0 = rng.uniform(1e3, 1e7, n)
    args = (rng.uniform(1e3, 1e6, n), rng.choice([-1.0, 1.0], n), p0, p0 * rng.uniform(0.5, 1.5, n),
            rng.uniform(0.01, 10, n), rng.choice([2.0, 25.0, 100.0], n), 0.5)
    med, outs = alternate([bare, core], args)
    (r1, l1), (r2, l2) = outs[bare], outs[core]
    np.testing.assert_allclose(r1, r2, rtol=1e-12)
    np.testing.assert_allclose(l1, l2, rtol=1e-12)
    words = np.where(args[1] > 0, "long", "short").astype(object)
    t_words = float(np.median([timed(core, (args[0], words) + args[2:])[0] for _ in range(3)]))
    t_bare, t_core = med[bare], med[core]
    print(f"positions: {n:,} (median of 15 alternating runs)")
    print(f"bare numpy expression     {t_bare * 1e3:8.1f} ms")
    print(f"xlcalc core (side +1/-1)  {t_core * 1e3:8.1f} ms   {t_core / t_bare:.2f}x")
    print(f"xlcalc core (side words)  {t_words * 1e3:8.1f} ms   {t_words / t_bare:.2f}x")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2_000_000)
