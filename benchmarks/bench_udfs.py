"""Cost of the Excel-function layer (xlcalc.udfs) over the core: one cell, and one call on 100,000 rows.

    python benchmarks/bench_udfs.py [--rows N] [--repeat R] [--cells-only]

One cell (``=XLC_RATIO(...)`` with single-cell arguments): the XLC_* function and the bare
core call on the same Python numbers, in alternating batches, medians per call; printed as
µs, the overhead in µs and the ratio. The XLC_* function is timed on 1x1 arrays (what
xlwings' ``np.array, ndim=2`` converter hands over for a single cell) and on plain numbers.

For each function: the core called directly on the same inputs, the XLC_* function on
2-D numpy arrays (what xlwings' ``np.array, ndim=2`` converter hands over), on lists of
lists (the raw shape of an Excel range), with one bad row among them (the slow path that
finds it), and end to end through xlwings' own conversion (``conversion.read`` with the
registered options, then ``conversion.write``, on a stand-in Excel engine from
tests/xlwings_stubs.py). Overhead = XLC time / core time - 1 on the same input.
"""

from __future__ import annotations

import argparse
import pathlib
import statistics
import sys
import timeit
from functools import partial

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]  # this checkout's xlcalc, not an installed one

import xlcalc as xc  # noqa: E402
from xlcalc import udfs  # noqa: E402


def inputs(n, seed=0):
    rng = np.random.default_rng(seed)
    col = lambda a: a.reshape(-1, 1)  # noqa: E731
    return {
        "deposit": col(rng.uniform(1e5, 1e6, n)),
        "side": col(rng.choice(np.array(["long", "short"]), n)),
        "entry_price": col(rng.uniform(9e6, 11e6, n)),
        "price": col(rng.uniform(5e6, 15e6, n)),
        "quantity": col(rng.uniform(0.01, 0.2, n)),
        "leverage": np.array([[2.0]]),
        "level": np.array([[0.5]]),
    }


CASES = [  # (name, core, XLC, argument names)
    ("XLC_PNL", xc.unrealized_pnl, udfs.XLC_PNL, ["side", "entry_price", "price", "quantity"]),
    (
        "XLC_RATIO",
        xc.maintenance_ratio,
        udfs.XLC_RATIO,
        ["deposit", "side", "entry_price", "price", "quantity", "leverage"],
    ),
    (
        "XLC_LOSSCUT_PRICE",
        xc.loss_cut_price,
        udfs.XLC_LOSSCUT_PRICE,
        ["deposit", "side", "entry_price", "quantity", "leverage", "level"],
    ),
    (
        "XLC_ADD_DEPOSIT",
        xc.additional_deposit,
        udfs.XLC_ADD_DEPOSIT,
        ["deposit", "side", "entry_price", "price", "quantity", "leverage"],
    ),
]


CELLS = [  # (name, core, XLC, one cell's arguments)
    ("XLC_RATIO", xc.maintenance_ratio, udfs.XLC_RATIO, (1e6, "long", 1e7, 9e6, 0.1, 2.0)),
    ("XLC_LOSSCUT_PRICE", xc.loss_cut_price, udfs.XLC_LOSSCUT_PRICE, (1e6, "long", 1e7, 0.1, 2.0, 0.5)),
    ("XLC_PNL", xc.unrealized_pnl, udfs.XLC_PNL, ("long", 1e7, 9e6, 0.1)),
]


def per_call(core_fn, xlc_fn, rounds=41, number=2_000):
    """Median µs per call of each, batches alternating so that load on the machine hits both."""
    t_core, t_xlc = [], []
    for _ in range(rounds):
        t_core.append(timeit.timeit(core_fn, number=number) / number)
        t_xlc.append(timeit.timeit(xlc_fn, number=number) / number)
    return statistics.median(t_core) * 1e6, statistics.median(t_xlc) * 1e6


def one_cell(rounds):
    print(f"one cell, median of {rounds} alternating batches; times in µs")
    print(f"{'function':<19}{'XLC input':<16}{'core':>8}{'XLC':>8}{'overhead':>10}{'ratio':>8}")
    for name, core, xlc, cell in CELLS:
        for label, args in (("1x1 arrays", [np.array([[v]]) for v in cell]), ("plain values", list(cell))):
            assert xlc(*args).tolist() == [[core(*cell)]], name  # same answer before timing
            t_core, t_xlc = per_call(partial(core, *cell), partial(xlc, *args), rounds)
            print(
                f"{name:<19}{label:<16}{t_core:>8.1f}{t_xlc:>8.1f}{t_xlc - t_core:>+10.1f}"
                f"{t_xlc / t_core:>7.2f}x",
                flush=True,
            )


def paired(core_fn, xlc_fn, repeat, number=3):
    """Best time of each, measured in alternation so that load on the machine hits both."""
    t_core, t_xlc = [], []
    for _ in range(repeat):
        t_core.append(timeit.timeit(core_fn, number=number) / number)
        t_xlc.append(timeit.timeit(xlc_fn, number=number) / number)
    return min(t_core) * 1e3, min(t_xlc) * 1e3


def end_to_end(classic_module, name, values):
    """xlwings' read conversion of every argument, the UDF, and the write conversion."""
    from xlwings import conversion

    f = getattr(classic_module, name)
    info = f.__xlfunc__
    args = [conversion.read(None, v, a["options"]) for v, a in zip(values, info["args"])]
    return conversion.write(f(*args), None, info["ret"]["options"])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--cells-only", action="store_true", help="only the one-cell timings")
    opts = parser.parse_args(argv)
    one_cell(41)
    if opts.cells_only:
        return
    print()
    n, data = opts.rows, inputs(opts.rows)
    print(f"{n:,} rows, best of {opts.repeat}; times in ms")
    print(f"{'function':<19}{'side':<7}{'input':<23}{'core':>9}{'XLC':>9}{'overhead':>10}")
    from xlwings_stubs import classic_udfs

    with classic_udfs() as (_, classic):
        for name, core, xlc, names in CASES:
            for side in ("words", "+1/-1"):
                numeric = dict(data, side=np.where(data["side"] == "long", 1.0, -1.0))
                src = numeric if side == "+1/-1" else data
                arrays = [src[k] for k in names]
                lists = [v.tolist() for v in arrays]
                bad = [a.copy() for a in arrays]
                bad[names.index("quantity")][n // 3, 0] = -1.0  # one bad row
                # the UDF must agree with the core before it is timed
                got = np.asarray(xlc(*arrays), dtype=float)  # None (never reached) -> NaN
                assert np.array_equal(got, core(*arrays), equal_nan=True), name
                rows = [
                    ("2-D arrays", *paired(partial(core, *arrays), partial(xlc, *arrays), opts.repeat)),
                    ("lists of lists", *paired(partial(core, *lists), partial(xlc, *lists), opts.repeat)),
                    (
                        "1 bad row (slow path)",
                        *paired(partial(core, *arrays), partial(xlc, *bad), max(3, opts.repeat // 3)),
                    ),
                ]
                if side == "words":
                    com = [tuple(map(tuple, v)) for v in lists]  # tuples of tuples, as COM delivers
                    rows.append(
                        (
                            "+ xlwings conversion",
                            *paired(
                                partial(core, *arrays), partial(end_to_end, classic, name, com), 3, number=1
                            ),
                        )
                    )
                for label, t_core, t_xlc in rows:
                    print(
                        f"{name:<19}{side:<7}{label:<23}{t_core:>9.2f}{t_xlc:>9.2f}"
                        f"{t_xlc / t_core - 1:>+10.0%}",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
