"""Template time: ``xlcalc template out.xlsx`` end to end, and build/save per workbook in process.

End to end, each round runs the command and the floor ``python -c "import openpyxl, click"``
(the libraries the command cannot do without; openpyxl loaded, as the command loads it, without
the numpy it would import when installed) alternately, so that a busy machine slows both
alike; the table gives medians of wall and CPU time and the ratio to the floor. ``--against DIR``
adds the same command run from another checkout (e.g. ``git archive main | tar -x -C /tmp/main``)
to the same rounds. Children may write bytecode, as an installed package has it (this sandbox
sets PYTHONDONTWRITEBYTECODE, which would compile every module on every run).

    python benchmarks/bench_template.py [ROUNDS] [--against DIR]
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench_cli import _seconds, print_table  # same folder: run as python benchmarks/bench_template.py

ROOT = Path(__file__).resolve().parent.parent
FLOOR = 'python -c "import openpyxl, click" (no numpy)'
# as the command loads openpyxl: numpy hidden (see xlcalc.cli._load_openpyxl_without_numpy)
FLOOR_CODE = "import sys; sys.modules['numpy'] = None; import openpyxl, click"


def end_to_end(rounds: int, against: str | None) -> None:
    # children may write bytecode, as an installed package has it
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    with tempfile.TemporaryDirectory() as tmp:
        book = str(Path(tmp) / "out.xlsx")
        template = [sys.executable, "-m", "xlcalc", "template", book, "--force"]
        commands = {
            FLOOR: ([sys.executable, "-c", FLOOR_CODE], ROOT),
            "xlcalc template out.xlsx": (template, ROOT),
        }
        if against:
            commands[f"  ... from {against}"] = (template, against)
        times = {name: [] for name in commands}
        for argv, cwd in commands.values():  # warm the file cache and the bytecode
            _seconds(argv, cwd, env)
        for _ in range(rounds):
            for name, (argv, cwd) in commands.items():
                times[name].append(_seconds(argv, cwd, env))
    print_table(times, f"end to end ({rounds} rounds)", 44)


def in_process(repeat: int) -> None:
    from xlcalc.template import build_workbook, write_template

    print(f"\n{'in process (median of ' + str(repeat) + ')':<44}{'build ms':>9}{'save ms':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        build_workbook("en")  # first-call work (lazy imports, preset file)
        for lang in ("ja", "en"):
            for udf in (False, True):
                name = f"xlcalc-{lang}.{'xlsm' if udf else 'xlsx'}"
                build, save = [], []
                for i in range(repeat):
                    t = time.perf_counter()
                    wb = build_workbook(lang, udf=udf)
                    t1 = time.perf_counter()
                    write_template(wb, Path(tmp) / f"{i}-{name}")
                    build.append(t1 - t)
                    save.append(time.perf_counter() - t1)
                print(
                    f"{name:<44}{statistics.median(build) * 1000:>9.0f}{statistics.median(save) * 1000:>9.0f}"
                )


def main(argv) -> None:
    against = None
    if "--against" in argv:
        i = argv.index("--against")
        against, argv = argv[i + 1], argv[:i] + argv[i + 2 :]
    rounds = int(argv[0]) if argv else 11
    end_to_end(rounds, against)
    in_process(rounds)


if __name__ == "__main__":
    main(sys.argv[1:])
