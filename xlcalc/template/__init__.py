"""The calculator workbook (SPEC §5): native Excel formulas, bilingual, no Python needed.

``build_template(path, lang="ja")`` writes Calculator, Scenarios, Positions, Exchanges and
Guide sheets whose cells hold native formulas (only functions every Excel since 2010 and
LibreOffice 7.4 compute) under the defined names of SPEC §5; ``udf=True`` writes an .xlsm on
xlwings' quickstart workbook whose formulas call the ``XLC_*`` functions instead.

Examples
--------
>>> import tempfile, pathlib, openpyxl
>>> from xlcalc.template import build_template
>>> path = build_template(pathlib.Path(tempfile.mkdtemp()) / "calc.xlsx", lang="en")
>>> wb = openpyxl.load_workbook(path)
>>> wb.sheetnames
['Calculator', 'Scenarios', 'Positions', 'Exchanges', 'Guide', 'Planner', 'Loan']
>>> wb.defined_names["ratio"].attr_text
"'Calculator'!$B$30"
"""
from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook, load_workbook

from .._files import atomic_output
from .._inputs import InputError
from ..labels import LANGUAGES
from ..presets import exchange_presets, get_preset
from . import layout, loan, planner, sheets

__all__ = ["build_template", "build_workbook", "write_template", "quickstart_path", "INPUT_NAMES",
           "OUTPUT_NAMES"]

INPUT_NAMES = ["side", "entry_price", "quantity", "leverage", "deposit", "fees", "price", "basis",
               "margin_call_level", "loss_cut_level", "gap_price", "stop_price", "risk"]
OUTPUT_NAMES = ["required_margin", "pnl", "equity", "ratio", "status", "margin_call_price",
                "loss_cut_price", "bankruptcy_price", "additional_deposit", "close_quantity",
                "shortfall", "stop_loss_amount", "position_size"]


def quickstart_path() -> Path:
    """xlwings' BSD-licensed quickstart workbook (VBA module included) in the installed package."""
    import importlib.util

    spec = importlib.util.find_spec("xlwings")
    if spec is None or not spec.origin:
        raise InputError("--udf needs the xlwings package installed (pip install xlwings)")
    return Path(spec.origin).parent / "quickstart.xlsm"


def build_workbook(lang="ja", exchange=None, udf=False, presets=None):
    """The template as an openpyxl Workbook (not saved).

    Parameters
    ----------
    lang : {"ja", "en"}
    exchange : str, optional
        Preset id selected in the Calculator's exchange cell.
    udf : bool
        Formulas call the ``XLC_*`` functions; the workbook carries xlwings' VBA module.
    presets : DataFrame, optional
        The preset table (default :func:`xlcalc.exchange_presets`).
    """
    if lang not in LANGUAGES:
        raise InputError(f"lang must be one of {', '.join(LANGUAGES)}; got {lang!r}")
    presets = exchange_presets() if presets is None else presets
    if exchange is not None and exchange not in presets.index:
        get_preset(exchange)  # raises, naming the known ids
    if udf:
        wb = load_workbook(quickstart_path(), keep_vba=True)
    else:
        wb = Workbook()
    for ws in list(wb.worksheets):
        wb.remove(ws)
    ctx = sheets.Ctx(wb, lang, udf)
    sheets.build_calculator(ctx, layout.SAMPLE[lang], exchange)
    sheets.build_scenarios(ctx)
    sheets.build_positions(ctx)
    sheets.build_exchanges(ctx, presets)
    sheets.build_guide(ctx)
    planner.build_planner(ctx)  # SPEC §10: after the Guide, so the sheets above keep their places
    loan.build_loan(ctx)
    if udf:
        sheets.build_udf_conf(ctx)
    wb.active = 0
    wb.calculation.fullCalcOnLoad = True  # openpyxl stores no results: compute on open
    wb.properties.creator = "xlcalc"
    wb._xlcalc_names = ctx.names  # name -> (sheet, cell), for tests and callers
    return wb


def write_template(wb, path, force=False) -> Path:
    """Save ``wb`` to ``path`` atomically (temp file + rename); refuse to overwrite unless ``force``."""
    with atomic_output(path, force) as tmp:
        wb.save(tmp)
    return Path(path)


def build_template(path, lang="ja", exchange=None, udf=False, force=False) -> Path:
    """Write the template workbook to ``path`` (.xlsx, or .xlsm with ``udf=True``).

    Raises
    ------
    InputError
        Unknown language or exchange id, or a file suffix that does not fit ``udf``.
    FileExistsError
        ``path`` exists and ``force`` is false.
    """
    path = Path(path)
    want = ".xlsm" if udf else ".xlsx"
    if path.suffix.lower() != want:
        raise InputError(f"PATH must end in {want}{' with --udf' if udf else ''}; got {str(path)!r}")
    atomic_output(path, force).check()  # before the work of building it
    return write_template(build_workbook(lang, exchange, udf), path, force=force)
