"""Template generation time per workbook (goal: < 0.5 s). Plain python; prints a table.

    python benchmarks/bench_template.py [REPEAT]
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from xlcalc.template import build_template


def main(repeat: int = 20) -> None:
    print(f"{'workbook':<24}{'median s':>10}{'max s':>10}")
    with tempfile.TemporaryDirectory() as tmp:
        build_template(Path(tmp) / "warm.xlsx", lang="en")  # imports, preset file
        for lang in ("ja", "en"):
            for udf in (False, True):
                name = f"xlcalc-{lang}.{'xlsm' if udf else 'xlsx'}"
                times = []
                for i in range(repeat):
                    t = time.perf_counter()
                    build_template(Path(tmp) / f"{i}-{name}", lang=lang, udf=udf)
                    times.append(time.perf_counter() - t)
                print(f"{name:<24}{statistics.median(times):>10.3f}{max(times):>10.3f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
