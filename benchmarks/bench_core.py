"""Maintenance ratio + loss-cut price for N positions: xlcalc core vs a bare numpy expression.

The bare expression is the same arithmetic with no validation, no side words, no basis
choice and no NaN for unreachable levels beyond one mask: the floor any wrapper pays.
Besides wall time it prints CPU time (process_time, all threads of this process): on a shared
machine wall time swings with other people's load, CPU time much less, and CPU time also shows
threads that spin (numpy's BLAS pool woken by a dot product did, #13). It ends with the time of
``import xlcalc`` in a fresh interpreter, against ``import numpy`` alone.
Run: python benchmarks/bench_core.py [N]
"""

import subprocess
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
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn(*args)
    return (time.perf_counter() - t0, time.process_time() - c0), out


def alternate(fns, args, repeat=15):
    """Median (wall, CPU) time of each function, run in turns so that load hits all alike."""
    times = {fn: [] for fn in fns}
    outs = {}
    for _ in range(repeat):
        for fn in fns:
            t, outs[fn] = timed(fn, args)
            times[fn].append(t)
    return {fn: tuple(np.median(np.array(t), axis=0)) for fn, t in times.items()}, outs


def import_time(module, repeat=7):
    """Median wall time of a fresh interpreter importing ``module``."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", f"import {module}"], check=True)
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def main(n=2_000_000):
    rng = np.random.default_rng(0)
    p0 = rng.uniform(1e3, 1e7, n)
    args = (
        rng.uniform(1e3, 1e6, n),
        rng.choice([-1.0, 1.0], n),
        p0,
        p0 * rng.uniform(0.5, 1.5, n),
        rng.uniform(0.01, 10, n),
        rng.choice([2.0, 25.0, 100.0], n),
        0.5,
    )
    med, outs = alternate([bare, core], args)
    (r1, l1), (r2, l2) = outs[bare], outs[core]
    np.testing.assert_allclose(r1, r2, rtol=1e-12)
    np.testing.assert_allclose(l1, l2, rtol=1e-12)
    words = np.where(args[1] > 0, "long", "short").astype(object)
    t_words = np.median(np.array([timed(core, (args[0], words) + args[2:])[0] for _ in range(3)]), axis=0)
    (w_bare, c_bare), (w_core, c_core) = med[bare], med[core]
    print(f"positions: {n:,} (median of 15 alternating runs)      wall            CPU")
    print(f"bare numpy expression     {w_bare * 1e3:8.1f} ms          {c_bare * 1e3:8.1f} ms")
    print(
        f"xlcalc core (side +1/-1)  {w_core * 1e3:8.1f} ms {w_core / w_bare:5.2f}x  "
        f"{c_core * 1e3:8.1f} ms {c_core / c_bare:5.2f}x"
    )
    print(
        f"xlcalc core (side words)  {t_words[0] * 1e3:8.1f} ms {t_words[0] / w_bare:5.2f}x  "
        f"{t_words[1] * 1e3:8.1f} ms {t_words[1] / c_bare:5.2f}x"
    )
    t_numpy, t_xlcalc = import_time("numpy"), import_time("xlcalc")
    print(
        f"fresh interpreter: import numpy {t_numpy * 1e3:.0f} ms, import xlcalc {t_xlcalc * 1e3:.0f} ms "
        f"(+{(t_xlcalc - t_numpy) * 1e3:.0f} ms)"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2_000_000)
