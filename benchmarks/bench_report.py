"""Time, peak memory and file size of `xlcalc report` against its alternatives, run in turns.

    python benchmarks/bench_report.py                          # 100,000 positions, 3 turns
    python benchmarks/bench_report.py --rows 1048575 --turns 2
    python benchmarks/bench_report.py --before e8f5f2a        # also the report at that commit
    python benchmarks/bench_report.py --loans                  # a loans file (Loans sheet) instead

Each turn runs every alternative once, in a fresh Python process (time includes imports),
so a busy shared machine slows them alike; the table gives medians and each one's ratio to
`xlcalc report`. The alternatives:

* ``before``: ``xlcalc report`` of an earlier commit (``git archive`` into a temporary folder);
* ``rustpy-xlsxwriter``: pandas reads the CSV, the xlcalc core computes the same 25 columns,
  rustpy-xlsxwriter (a Rust writer; ``pip install xlcalc[bench]``) writes them, unstyled;
* ``pandas``: ``read_csv(...).to_excel(engine="openpyxl")``, an unstyled copy (``--pandas``).

Peak memory is the process's VmHWM (ru_maxrss of a child would count the parent's RSS).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

CHILD = """
import json, sys, time
t, cpu = time.perf_counter(), time.process_time()
kind, src, out = sys.argv[1:4]
if kind in ("report", "before"):
    from xlcalc.report import build_report
    r = build_report(src, out, lang="ja", force=True)
    rows = r.positions + r.errors
elif kind == "rustpy":
    import pandas as pd
    import xlcalc as xc
    from rustpy_xlsxwriter import FastExcel
    df = pd.read_csv(src)
    names = dict(zip(df.columns, ["account", "symbol", "side", "entry_price", "quantity", "leverage",
                                  "price", "deposit", "fees"]))
    d = df.rename(columns=names)
    s = d["side"].map({"買い": 1.0, "売り": -1.0})
    a = dict(deposit=d["deposit"], side=s, entry_price=d["entry_price"], quantity=d["quantity"],
             leverage=d["leverage"], fees=d["fees"])
    p = d["price"]
    df["notional"] = p * d["quantity"]
    df["required_margin"] = xc.required_margin(d["entry_price"], d["quantity"], d["leverage"])
    df["pnl"] = xc.unrealized_pnl(s, d["entry_price"], p, d["quantity"])
    df["equity"] = xc.equity(d["deposit"], s, d["entry_price"], p, d["quantity"], fees=d["fees"])
    df["ratio"] = xc.maintenance_ratio(price=p, **a)
    df["status"] = xc.status(df["ratio"], 1.0, 0.5)
    for key, level in (("margin_call", 1.0), ("loss_cut", 0.5)):
        trig = getattr(xc, key + "_price")(level=level, **a)
        df[key + "_price"], df[key + "_distance"], df[key + "_distance_pct"] = trig, trig - p, trig / p - 1
    df["bankruptcy_price"] = xc.bankruptcy_price(d["deposit"], s, d["entry_price"], d["quantity"],
                                                 fees=d["fees"])
    df["additional_deposit"] = xc.additional_deposit(price=p, target=1.0, **a)
    df["close_quantity"] = xc.close_quantity(price=p, target=1.0, **a)
    FastExcel(out).sheet("Positions", df).save()
    rows = len(df)
else:
    import pandas as pd
    df = pd.read_csv(src)
    df.to_excel(out, engine="openpyxl")
    rows = len(df)
peak = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
print(json.dumps({"seconds": time.perf_counter() - t, "cpu": time.process_time() - cpu, "rows": rows,
                  "peak_mb": peak / 1024}))
"""


def make_positions(n: int, path: Path, seed: int = 0) -> None:
    """A realistic export: Japanese headers, two accounts, a deposit per position."""
    rng = np.random.default_rng(seed)
    entry = rng.uniform(100, 10_000_000, n).round(2)
    pd.DataFrame(
        {
            "口座": rng.choice(["main", "sub"], n),
            "銘柄": rng.choice(["BTC/JPY", "ETH/JPY", "XRP/JPY", "USD/JPY"], n),
            "売買": rng.choice(["買い", "売り"], n),
            "建値": entry,
            "数量": rng.uniform(0.001, 10, n).round(4),
            "レバレッジ": rng.choice([2, 5, 10, 25], n),
            "現在値": (entry * rng.uniform(0.8, 1.2, n)).round(2),
            "証拠金": (entry * rng.uniform(0.1, 1, n)).round(0),
            "手数料": rng.uniform(0, 500, n).round(2),
        }
    ).to_csv(path, index=False)


def make_loans(n: int, path: Path, seed: int = 0) -> None:
    """A loans export: Japanese headers, a loan id per row, BTC and ETH collateral, levels."""
    rng = np.random.default_rng(seed)
    symbol = rng.choice(["BTC", "ETH"], n)
    price = np.where(symbol == "BTC", rng.uniform(8e6, 1.6e7, n), rng.uniform(2e5, 6e5, n)).round(0)
    quantity = rng.uniform(0.01, 5, n).round(4)
    pd.DataFrame(
        {
            "ローン番号": [f"L{i:07d}" for i in range(n)],
            "担保通貨": symbol,
            "借入額": (quantity * price * rng.uniform(0.3, 0.95, n)).round(0),
            "担保数量": quantity,
            "担保価格": price,
            "利息": rng.uniform(0, 5000, n).round(0),
            "追証LTV": 0.8,
            "清算LTV": 0.9,
            "目標LTV": 0.65,
            "清算手数料": 0.02,
            "窓開け価格": (price * 0.7).round(0),
        }
    ).to_csv(path, index=False)


def run(kind: str, src: Path, out: Path, cwd: Path, env=None) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, kind, str(src), str(out)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["mb_out"] = out.stat().st_size / 1e6
    out.unlink()
    return result


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--turns", type=int, default=3)
    ap.add_argument("--before", help="a git commit whose report to run alongside")
    ap.add_argument("--no-rustpy", action="store_true")
    ap.add_argument("--pandas", action="store_true")
    ap.add_argument("--loans", action="store_true", help="a loans file in (Loans sheet), not positions")
    ap.add_argument(
        "--blas-threads",
        help="OPENBLAS_NUM_THREADS of every run (1: as without the BLAS "
        "side check of xlcalc._inputs, whose idle threads spin)",
    )
    args = ap.parse_args(argv)
    env = dict(os.environ, PYTHONPATH="")  # each run imports the xlcalc of its own folder
    if args.blas_threads:
        env["OPENBLAS_NUM_THREADS"] = env["OMP_NUM_THREADS"] = args.blas_threads
    here = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        what = "loans" if args.loans else "positions"
        src = tmp / f"{what}.csv"
        (make_loans if args.loans else make_positions)(args.rows, src)
        print(f"input: {args.rows:,} {what}, {src.stat().st_size / 1e6:.1f} MB CSV")
        now = tmp / "now"  # a copy: editing the tree while the runs go on changes no run
        shutil.copytree(here / "xlcalc", now / "xlcalc", ignore=shutil.ignore_patterns("__pycache__"))
        kinds = {"xlcalc report": ("report", now)}
        if args.before:
            old = tmp / "before"
            old.mkdir()
            archive = subprocess.run(
                ["git", "-C", str(here), "archive", args.before, "xlcalc"], capture_output=True, check=True
            ).stdout
            subprocess.run(["tar", "-x", "-C", str(old)], input=archive, check=True)
            kinds[f"xlcalc report at {args.before}"] = ("before", old)
        if not args.no_rustpy and not args.loans:  # it computes the positions' columns
            kinds["rustpy-xlsxwriter, same 25 columns"] = ("rustpy", here)
        if args.pandas:
            kinds["pandas to_excel (openpyxl), unstyled"] = ("pandas", here)
        results = {name: [] for name in kinds}
        for turn in range(args.turns):
            for name, (kind, cwd) in kinds.items():
                results[name].append(run(kind, src, tmp / f"{kind}.xlsx", cwd, env))
                r = results[name][-1]
                took = f"{r['seconds']:.2f} s (CPU {r['cpu']:.2f} s), {r['peak_mb']:.0f} MB"
                print(f"  turn {turn + 1}: {name}: {took}", flush=True)
    ours = statistics.median(r["seconds"] for r in results["xlcalc report"])
    print(
        f"{'what (medians)':<44} {'rows':>10} {'seconds':>8} {'CPU s':>8} {'peak MB':>8} {'xlsx MB':>8} "
        f"{'time/ours':>9}"
    )
    for name, rs in results.items():
        med = {k: statistics.median(r[k] for r in rs) for k in ("seconds", "cpu", "peak_mb", "mb_out")}
        print(
            f"{name:<44} {rs[0]['rows']:>10,} {med['seconds']:>8.2f} {med['cpu']:>8.2f} "
            f"{med['peak_mb']:>8.0f} {med['mb_out']:>8.1f} {med['seconds'] / ours:>9.2f}"
        )


if __name__ == "__main__":
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    main()
