"""Time and peak memory of `xlcalc report` against what a user would do instead.

    python benchmarks/bench_report.py                 # 100,000 positions, with the baseline
    python benchmarks/bench_report.py --rows 1048576 --no-baseline

The baseline is ``pandas.read_csv(path).to_excel(out, engine="openpyxl")`` of the same
input: an unstyled copy with no computed columns. Each run is a fresh Python process; its
peak RSS is its VmHWM (on Linux: ru_maxrss of a child counts the RSS of the parent, which
made the input, at fork time); the time includes the imports.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

CHILD = """
import json, resource, sys, time
t = time.perf_counter()
kind, src, out = sys.argv[1:4]
if kind == "report":
    from xlcalc.report import build_report
    r = build_report(src, out, deposit=None, lang="ja", force=True)
    rows = r.positions + r.errors
else:
    import pandas as pd
    df = pd.read_csv(src)
    df.to_excel(out, engine="openpyxl")
    rows = len(df)
try:  # VmHWM: this process's own peak (ru_maxrss would include the parent's RSS at fork)
    peak = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
except OSError:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": time.perf_counter() - t, "rows": rows, "peak_mb": peak / 1024}))
"""


def make_positions(n: int, path: Path, seed: int = 0) -> None:
    """A realistic export: Japanese headers, two accounts, a deposit per position."""
    rng = np.random.default_rng(seed)
    entry = rng.uniform(100, 10_000_000, n).round(2)
    pd.DataFrame({
        "口座": rng.choice(["main", "sub"], n),
        "銘柄": rng.choice(["BTC/JPY", "ETH/JPY", "XRP/JPY", "USD/JPY"], n),
        "売買": rng.choice(["買い", "売り"], n),
        "建値": entry,
        "数量": rng.uniform(0.001, 10, n).round(4),
        "レバレッジ": rng.choice([2, 5, 10, 25], n),
        "現在値": (entry * rng.uniform(0.8, 1.2, n)).round(2),
        "証拠金": (entry * rng.uniform(0.1, 1, n)).round(0),
        "手数料": rng.uniform(0, 500, n).round(2),
    }).to_csv(path, index=False)


def run(kind: str, src: Path, out: Path) -> dict:
    proc = subprocess.run([sys.executable, "-c", CHILD, kind, str(src), str(out)],
                          capture_output=True, text=True, check=True)
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["mb_out"] = out.stat().st_size / 1e6
    return result


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--no-baseline", action="store_true")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        src = tmp / "positions.csv"
        t = time.perf_counter()
        make_positions(args.rows, src)
        print(f"input: {args.rows:,} positions, {src.stat().st_size / 1e6:.1f} MB CSV "
              f"(made in {time.perf_counter() - t:.1f} s)")
        rows = [("xlcalc report (4 sheets, 25 columns, styled)", run("report", src, tmp / "report.xlsx"))]
        if not args.no_baseline:
            rows.append(("pandas read_csv + to_excel (openpyxl)", run("baseline", src, tmp / "plain.xlsx")))
    print(f"{'what':<46} {'rows':>10} {'seconds':>8} {'peak MB':>8} {'xlsx MB':>8}")
    for name, r in rows:
        print(f"{name:<46} {r['rows']:>10,} {r['seconds']:>8.1f} {r['peak_mb']:>8.0f} {r['mb_out']:>8.1f}")
    if len(rows) == 2:
        print(f"report / baseline time: {rows[0][1]['seconds'] / rows[1][1]['seconds']:.2f}")


if __name__ == "__main__":
    main()
