"""Start-up time of the command line against the floor ``python -c "import numpy, click"``.

Each round runs every command once and the floor once, alternately, so that a busy machine
slows both alike; the table gives medians of wall and CPU time and their ratio to the floor.
``--against DIR`` adds the same commands run from another checkout (e.g. ``git archive main |
tar -x -C /tmp/main``) to the same rounds. Children may write bytecode, as an installed package
has it (this sandbox sets PYTHONDONTWRITEBYTECODE, which would compile every module on every run).

    python benchmarks/bench_cli.py [ROUNDS] [--against DIR]
"""

from __future__ import annotations

import math
import os
import resource
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


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _seconds(argv, cwd=ROOT, env=None) -> tuple[float, float]:
    """Wall and CPU time of one run (CPU time is steadier on a busy machine); NaN when the
    command fails (the table says so)."""
    start, cpu = time.perf_counter(), _cpu()
    done = subprocess.run(
        argv, cwd=cwd, env=env, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    if done.returncode != 0:
        return math.nan, math.nan
    return time.perf_counter() - start, _cpu() - cpu


def main(rounds: int = 15, against: str | None = None) -> None:
    # children may write bytecode, as an installed package has it
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    with tempfile.TemporaryDirectory() as tmp:
        book = str(Path(tmp) / "calc.xlsx")
        xlcalc = [sys.executable, "-m", "xlcalc"]
        commands = {
            "xlcalc --help": [*xlcalc, "--help"],
            "xlcalc calc ...": [*xlcalc, *CALC],
            "xlcalc exchanges": [*xlcalc, "exchanges"],
            "xlcalc template out.xlsx": [*xlcalc, "template", book, "--force"],
        }
        runs = {'python -c "import numpy, click"': ([sys.executable, "-c", "import numpy, click"], ROOT)}
        for name, argv in commands.items():
            runs[name] = (argv, ROOT)
            if against:
                runs[f"{name} (--against)"] = (argv, against)
        times = {name: [] for name in runs}
        for argv, cwd in runs.values():  # warm the file cache and the bytecode
            _seconds(argv, cwd, env)
        for _ in range(rounds):
            for name, (argv, cwd) in runs.items():
                times[name].append(_seconds(argv, cwd, env))
    print_table(times, f"command ({rounds} rounds)", 40)


def print_table(times, title, width) -> None:
    """Medians of wall and CPU time per command and their ratio to the first command's."""
    first = next(iter(times.values()))
    floor = [statistics.median(t[i] for t in first) for i in (0, 1)]
    print(f"{title:<{width}}{'wall ms':>9}{'x floor':>9}{'CPU ms':>9}{'x floor':>9}")
    for name, values in times.items():
        if any(math.isnan(w) for w, _ in values):
            print(f"{name:<{width}}{'failed':>9}")
            continue
        wall, cpu = (statistics.median(t[i] for t in values) for i in (0, 1))
        ratios = f"{wall * 1000:>9.0f}{wall / floor[0]:>9.2f}{cpu * 1000:>9.0f}{cpu / floor[1]:>9.2f}"
        print(f"{name:<{width}}{ratios}")


if __name__ == "__main__":
    args = sys.argv[1:]
    against = None
    if "--against" in args:
        i = args.index("--against")
        against, args = args[i + 1], args[:i] + args[i + 2 :]
    main(int(args[0]) if args else 15, against)
