"""Start-up (#13): what ``import xlcalc`` and the light commands load, and the lazy public names.

The times themselves are measured by benchmarks/bench_cli.py and bench_template.py (no timing
asserts here); these tests pin down the imports the times depend on.
"""

import importlib
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import xlcalc as xc
from xlcalc import account, core, loans, planning
from xlcalc.template import build_template

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("numpy", "pandas", "openpyxl", "xlwings")
# the core's building blocks, reachable as e.g. xlcalc.core.parse_side but not exported by xlcalc
BUILDING_BLOCKS = {"parse_side", "parse_basis", "MARGIN_ROUNDINGS", "LOAN_PRESET_COLUMNS", "PLAN_COLUMNS"}


def _loaded_after(code):
    """The heavy libraries loaded in a fresh interpreter after ``code`` (asserting it ran)."""
    check = f"import sys\n{code}\nprint([m for m in {HEAVY!r} if m in sys.modules])"
    proc = subprocess.run(
        [sys.executable, "-c", check], check=False, capture_output=True, text=True, cwd=ROOT
    )
    assert proc.returncode == 0, proc.stderr
    return eval(proc.stdout.strip().splitlines()[-1])


def _run_cli(argv):
    return (
        "from xlcalc.cli import main\n"
        f"try:\n    main({argv!r}, standalone_mode=False)\nexcept SystemExit:\n    pass\n"
    )


@pytest.mark.parametrize(
    "code",
    [
        "import xlcalc",
        "import xlcalc.cli",
        "import xlcalc as xc; xc.InputError, xc.DEFAULT_SAFE_LEVEL, xc.get_preset('bitflyer_cfd')",
        "import xlcalc as xc; assert xc.get_loan_preset('nexo_credit_line')['id'] == 'nexo_credit_line'",
        "from xlcalc.presets import resolve_levels; assert resolve_levels(None)['loss_cut_level'] == 0.5",
        _run_cli(["--help"]),
        _run_cli(["exchanges"]),
    ],
)
def test_light_paths_import_no_numpy(code):
    assert _loaded_after(code) == []


@pytest.mark.parametrize("name,extra", [("out.xlsx", []), ("out.xlsm", ["--udf"])])
def test_template_command_imports_openpyxl_only(tmp_path, name, extra):
    # `xlcalc template` needs openpyxl and nothing heavier, not even the numpy openpyxl would load
    path = tmp_path / name
    code = (
        _run_cli(["template", str(path), *extra])
        + f"assert __import__('pathlib').Path({str(path)!r}).is_file()"
    )
    assert _loaded_after(code) == ["openpyxl"]


def _parts(path):
    """Every part of a workbook's zip, the document's creation and modification times left out."""
    with zipfile.ZipFile(path) as z:
        parts = {info.filename: z.read(info) for info in z.infolist()}
    times = rb"<dcterms:(created|modified)[^>]*>[^<]*</dcterms:\1>"
    parts["docProps/core.xml"] = re.sub(times, b"", parts["docProps/core.xml"])
    return parts


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_template_command_writes_the_same_workbook_as_build_template(tmp_path, lang):
    # the command loads openpyxl without numpy; the workbook must not notice
    command = tmp_path / "command.xlsx"
    argv = [sys.executable, "-m", "xlcalc", "template", str(command), "--lang", lang]
    subprocess.run(argv, check=True, capture_output=True, cwd=ROOT)
    in_process = build_template(tmp_path / "in_process.xlsx", lang=lang)
    assert _parts(command) == _parts(in_process)


def test_openpyxl_keeps_numpy_when_the_template_is_built_from_python():
    # only the command hides numpy from openpyxl; a Python caller's openpyxl takes numpy scalars
    code = (
        "import numpy as np\n"
        "from xlcalc.template import build_workbook\n"
        "wb = build_workbook('en')\n"
        "wb.active['A1'] = np.int64(3)\n"
        "assert wb.active['A1'].data_type == 'n'"
    )
    assert _loaded_after(code) == ["numpy", "openpyxl"]


def test_lazy_public_names_are_the_modules_exports():
    # xlcalc lists its names without importing the modules; this keeps the lists from drifting
    exported = {name for module in (core, account, planning, loans) for name in module.__all__}
    lazy_only = set(xc.__all__) - exported
    assert exported - BUILDING_BLOCKS <= set(xc.__all__)
    assert not BUILDING_BLOCKS & set(xc.__all__)
    assert len(xc.__all__) == len(set(xc.__all__))
    for name in exported - BUILDING_BLOCKS:
        home = next(m for m in (core, account, planning, loans) if name in m.__all__)
        assert getattr(xc, name) is getattr(home, name), name
    # the rest: the presets, perpetual, inverse and tier modules' own names, or those modules
    for name in lazy_only:
        module_name, attribute = xc._LAZY[name]
        assert module_name in {"presets", "perpetual", "inverse", "tiers"}, name
        module = importlib.import_module(f"xlcalc.{module_name}")
        if attribute is None:
            assert getattr(xc, name) is module
        else:
            assert attribute in module.__all__, name
            assert getattr(xc, name) is getattr(module, attribute), name


def test_one_input_error_and_one_set_of_levels():
    from xlcalc import _inputs, constants, errors, presets

    assert xc.InputError is core.InputError is _inputs.InputError is errors.InputError
    assert xc.DEFAULT_SAFE_LEVEL is core.DEFAULT_SAFE_LEVEL is constants.DEFAULT_SAFE_LEVEL
    assert loans.loan_presets is presets.loan_presets and loans.get_loan_preset is presets.get_loan_preset
    assert set(constants.POSITION_FIGURES) <= set(core.__all__)
