"""Start-up time of the command line against the floor ``python -c "import numpy, click"``.

Each round runs every command once and the floor once, alternately, so that a busy machine
slows both alike; the table gives medians and the ratio to the floor.

    python benchmarks/bench_cli.py [ROUNDS]
"""

from __future__ import annotations

import math
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CALC = [
    "calc",
    "--side",
    "long",
    "--entry",
    "10000000",
    "--qty",
    "0.1",
    "--leverage",
    "2",
    "--deposit",
    "1000000",
    "--price",
    "9000000",
    "--lang",
    "en",
]


def _seconds(argv) -> float:
    """Wall time of one run; NaN when the command fails (the table says so)."""
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start if done.returncode == 0 else math.nan


def main(rounds: int = 15) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        book = str(Path(tmp) / "calc.xlsx")
        commands = {
            'python -c "import numpy, click"': [sys.executable, "-c", "import numpy, click"],
            "xlcalc --help": [sys.executable, "-m", "xlcalc", "--help"],
            "xlcalc calc ...": [sys.executable, "-m", "xlcalc", *CALC],
            "xlcalc template out.xlsx": [sys.executable, "-m", "xlcalc", "template", book, "--force"],
        }
        times = {name: [] for name in commands}
        for argv in commands.values():  # warm the file cache
            _seconds(argv)
        for _ in range(rounds):
            for name, argv in commands.items():
                times[name].append(_seconds(argv))
    floor = statistics.median(next(iter(times.values())))
    print(f"{'command':<34}{'median ms':>10}{'x floor':>9}")
    for name, values in times.items():
        if any(math.isnan(v) for v in values):
            print(f"{name:<34}{'failed':>10}")
            continue
        median = statistics.median(values)
        print(f"{name:<34}{median * 1000:>10.0f}{median / floor:>9.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 15)
