"""Structure of the template workbook, the CLI command, the ready-made files in templates/."""

from __future__ import annotations

import inspect
import math
import re
import zipfile
from pathlib import Path

import libreoffice
import openpyxl
import pytest
from click.testing import CliRunner

from xlcalc.cli import main
from xlcalc.display import CURRENCIES, excel_number_format
from xlcalc.display import MAX_DECIMALS as MAX_PRICE_DECIMALS
from xlcalc.labels import LANGUAGES, label
from xlcalc.template import INPUT_NAMES, OUTPUT_NAMES, build_template, build_workbook, layout
from xlcalc.template.regenerate import DEFAULT_DIR, ready_made

# Functions every Excel since 2010 and LibreOffice 7.4 compute (SPEC §5).
ALLOWED = {
    "ASC",  # full-width to half-width (the side words), Excel 2007+ and LibreOffice
    "TRIM",
    "UPPER",
    "FIND",
    "IF",
    "AND",
    "OR",
    "NOT",
    "MAX",
    "MIN",
    "INDEX",
    "MATCH",
    "ISNUMBER",
    "ISBLANK",
    "ISNA",
    "IFERROR",
    "SUM",
    "SUMPRODUCT",
    "ABS",
    "NA",
    "COUNTA",
    "LEN",
    "LEFT",
    "CELL",
    "CEILING",
    "FLOOR",
    "SMALL",
    "ROUND",
    "INT",
    "LOG10",
    "LOWER",
    "N",
}
CALL = re.compile(r"([A-Z][A-Z0-9._]*)\(")


def _formulas(wb):
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, str) and c.value.startswith("="):
                    yield ws.title, c.coordinate, c.value


def _calls(formula, prefix):
    """(function name, [top-level argument texts]) of every call whose name starts with prefix."""
    out = []
    for m in re.finditer(prefix + r"[A-Z_]*\(", formula):
        depth, args, start = 1, [], m.end()
        i = start
        while depth:
            ch = formula[i]
            if ch == '"':
                i = formula.index('"', i + 1)
            elif ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
            elif ch == "," and depth == 1:
                args.append(formula[start:i])
                start = i + 1
            i += 1
        args.append(formula[start : i - 1])
        out.append((m.group(0)[:-1], args))
    return out


def _strip_strings(formula):
    return re.sub(r'"(?:[^"]|"")*"', '""', formula)


@pytest.fixture(scope="module", params=LANGUAGES)
def book(request, tmp_path_factory):
    path = build_template(tmp_path_factory.mktemp("t") / f"x-{request.param}.xlsx", lang=request.param)
    return request.param, openpyxl.load_workbook(path)


def test_sheets_and_contract_names(book):
    lang, wb = book
    assert wb.sheetnames[:5] == [
        label(k, lang)
        for k in ("sheet_calculator", "sheet_scenarios", "sheet_positions", "sheet_exchanges", "sheet_guide")
    ]  # other areas' sheets follow
    calc = wb.sheetnames[0]
    for name in INPUT_NAMES + OUTPUT_NAMES:
        dn = wb.defined_names[name]  # workbook-level
        ((sheet, ref),) = dn.destinations
        assert sheet == calc and re.fullmatch(r"\$[A-Z]+\$\d+", ref), (name, dn.attr_text)
    cells = {n: wb[calc][next(wb.defined_names[n].destinations)[1].replace("$", "")] for n in OUTPUT_NAMES}
    assert all(str(c.value).startswith("=") for c in cells.values())


def test_only_portable_functions(book):
    lang, wb = book
    used = set()
    for _, _, f in _formulas(wb):
        used |= set(CALL.findall(_strip_strings(f)))
        assert "_xlfn" not in f and "[" not in _strip_strings(f)
    assert used <= ALLOWED, used - ALLOWED
    assert {"INDEX", "MATCH", "IFERROR"} <= used


def test_every_name_in_a_formula_is_defined(book):
    lang, wb = book
    defined = set(wb.defined_names)
    for title, coord, f in _formulas(wb):
        words = set(re.findall(r"\b([a-z_][a-z0-9_]*)\b(?!\()", _strip_strings(f)))
        assert words <= defined, (title, coord, words - defined)


def test_inputs_unlocked_formulas_locked_sheets_protected(book):
    lang, wb = book
    positions = label("sheet_positions", lang)
    for ws in wb.worksheets:
        # Positions stays unprotected: Excel grows a table only on an unprotected sheet.
        assert ws.protection.sheet is (ws.title != positions) and not ws.protection.password
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        grows = ws.title in (positions, label("sheet_exchanges", lang))  # lists print on as many pages
        assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == (0 if grows else 1)
    calc = wb.worksheets[0]
    for name in INPUT_NAMES:
        sheet, ref = next(wb.defined_names[name].destinations)
        cell = calc[ref.replace("$", "")]
        if name in ("basis", "margin_call_level", "loss_cut_level", "safe_level", "daily_fee_rate"):
            cell = calc[next(wb.defined_names[name + "_override"].destinations)[1].replace("$", "")]
        assert cell.protection.locked is False, name
    for ws in wb.worksheets[:2]:
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, str) and c.value.startswith("="):
                    assert c.protection.locked, (ws.title, c.coordinate)
    assert calc.freeze_panes and wb.worksheets[1].freeze_panes


def test_dropdowns_and_formats(book):
    lang, wb = book
    calc = wb.worksheets[0]
    lists = {dv.formula1 for dv in calc.data_validations.dataValidation if dv.type == "list"}
    side = ",".join(label(k, lang) for k in ("long", "short"))
    basis = ",".join(label(k, lang) for k in ("entry", "mark"))
    assert {f'"{side}"', f'"{basis}"', "preset_ids"} <= lists
    assert side in ({"ja": "買い,売り", "en": "Long,Short"}[lang],)
    assert basis in ({"ja": "建値,時価", "en": "Entry,Mark"}[lang],)

    def cell(n):
        return calc[next(wb.defined_names[n].destinations)[1].replace("$", "")]

    assert cell("ratio").number_format == "0.00%"  # 147.73 %, as xlcalc calc (never 147.7 %)
    # money: 2 decimals whatever the language; the preset's currency decides (below)
    assert cell("equity").number_format == "#,##0.00"
    # Prices keep every decimal a trader types (issue #12): 1.08523, USD/JPY 110.123, and as
    # many as xlcalc calc shows (xlcalc.display.MAX_DECIMALS): 0.00001237 has 10.
    for name in ("entry_price", "price", "loss_cut_price", "margin_call_distance"):
        fmt = cell(name).number_format
        assert fmt == "#,##0.00##########", (name, fmt)
        assert len(fmt.split(".")[1]) == layout.MAX_DECIMALS == MAX_PRICE_DECIMALS
    assert cell("margin_call_level").number_format == "0.0##%"  # 0.075 % stays 0.075 %
    rules = [r for cf in calc.conditional_formatting for r in cf.rules]
    fills = {r.dxf.fill.fgColor.rgb[-6:] for r in rules if r.dxf and r.dxf.fill}
    assert {"FFD966", "FF7C80"} <= fills  # amber, red
    assert any("loss_cut_level" in r.formula[0] for r in rules)


def test_scenarios_chart_and_positions_table(book):
    lang, wb = book
    scen, pos = wb.worksheets[1], wb.worksheets[2]
    assert len(scen._charts) == 1 and len(scen._charts[0].series) == 5
    ladder = [
        row[0].value
        for row in scen[wb.defined_names["ladder_candidates"].attr_text.split("!")[1].replace("$", "")]
    ]
    assert len(ladder) == layout.LADDER_ROWS and all(str(f).startswith("=IF(") for f in ladder)
    table = pos.tables["Positions"]
    head, first = int(table.ref.split(":")[0][1:]), layout.POSITION_ROWS
    inputs = ("symbol", "side", "entry_price", "quantity", "leverage", "price")
    assert [c.value for c in pos[head]][:6] == [label(k, lang) for k in inputs]
    assert int(table.ref.split(":")[1].lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")) == head + first
    # Account sums (P&L, margin shown, exact margin, notional counted) read far below the
    # table, so rows added below are counted.
    sums = [c.value for row in pos.iter_rows(max_col=2) for c in row if str(c.value).startswith("=SUM(")]
    assert len(sums) == 4 and all(f"${head + layout.POSITION_CAPACITY})" in f for f in sums), sums


def test_no_hard_coded_column_letters():
    """Row formulas in the layout name columns by key (issue #9), never by letter."""
    cell_ref = re.compile(r"(?<![A-Za-z_$])\$?[A-Z]{1,2}\$?\d+\b")
    for col in layout.SCENARIO_COLUMNS + layout.CHART_COLUMNS + layout.POSITION_COLUMNS:
        for f in (col.formula, col.udf):
            if f:
                assert not cell_ref.findall(_strip_strings(f)), (col.key, f)


def test_print_setup_and_properties(book):
    lang, wb = book
    for ws in wb.worksheets:
        assert ws.print_area, ws.title
        assert ws.sheet_properties.codeName and ws.sheet_properties.codeName.isascii()
    wide = [ws for ws in wb.worksheets[:5] if ws.page_setup.orientation == "landscape"]
    assert {ws.title for ws in wide} == {
        label(k, lang) for k in ("sheet_scenarios", "sheet_positions", "sheet_exchanges")
    }
    for ws in wide:
        assert ws.print_title_rows, ws.title
    assert wb.properties.creator == wb.properties.lastModifiedBy == "xlcalc"
    assert wb.properties.title == label("doc_title", lang)


def test_what_if_inputs_ship_empty(book):
    lang, wb = book
    calc = wb.worksheets[0]
    for name in ("gap_price", "stop_price", "tick_size", "holding_days"):
        sheet, ref = next(wb.defined_names[name].destinations)
        assert calc[ref.replace("$", "")].value is None, name


def test_exchanges_sheet_has_sources_and_dates(book):
    import xlcalc as xc

    lang, wb = book
    ws = wb.worksheets[3]
    presets = xc.exchange_presets()
    ids = [ws.cell(row=5 + i, column=1).value for i in range(len(presets))]
    assert ids == list(presets.index)
    header = [c.value for c in ws[4]]
    src, asof = header.index(label("source_url", lang)) + 1, header.index(label("as_of", lang)) + 1
    for i in range(len(presets)):
        assert ws.cell(row=5 + i, column=src).value.startswith("https://")
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", ws.cell(row=5 + i, column=asof).value)


def test_guide_in_words(book):
    lang, wb = book
    text = "".join(str(c.value) for c in wb.worksheets[4]["A"] if c.value)
    assert label("disclaimer", lang) in text and label("guide_f5", lang) in text


def test_exchange_preselected_and_udf_workbook(tmp_path):
    wb = build_workbook("en", exchange="gmo_coin_fx")
    assert wb.worksheets[0][wb._xlcalc_names["exchange"][1]].value == "gmo_coin_fx"
    path = build_template(tmp_path / "u.xlsm", lang="ja", udf=True)
    with zipfile.ZipFile(path) as z:
        assert "xl/vbaProject.bin" in z.namelist()
        assert "macroEnabled" in z.read("[Content_Types].xml").decode()
    wb = openpyxl.load_workbook(path, keep_vba=True)
    conf = wb["xlwings.conf"]
    assert (conf["A1"].value, conf["B1"].value) == ("UDF Modules", "xlcalc.udfs")
    calls = {}
    for _, _, f in _formulas(wb):
        for name, args in _calls(f, "XLC_"):
            calls.setdefault(name, set()).add(tuple(args))
    assert set(calls) >= {
        "XLC_RATIO",
        "XLC_LOSSCUT_PRICE",
        "XLC_MARGINCALL_PRICE",
        "XLC_REQUIRED_MARGIN",
        "XLC_PNL",
        "XLC_EQUITY",
        "XLC_ADD_DEPOSIT",
        "XLC_CLOSE_QTY",
        "XLC_BANKRUPTCY_PRICE",
        "XLC_SHORTFALL",
        "XLC_POSITION_SIZE",
        "XLC_STATUS",
    }
    assert (
        "deposit/quote_rate_used",
        "side",
        "entry_price",
        "price",
        "quantity",
        "leverage",
        "basis",
        "fees/quote_rate_used",
    ) in calls["XLC_RATIO"]
    props = openpyxl.load_workbook(path, keep_vba=True).properties
    assert (props.creator, props.lastModifiedBy) == ("xlcalc", "xlcalc")
    assert wb.code_name == "ThisWorkbook"
    udfs = pytest.importorskip("xlcalc.udfs")
    for name, arglists in calls.items():
        params = list(inspect.signature(getattr(udfs, name)).parameters)
        for parts in arglists:
            assert len(parts) <= len(params), (name, args)
            for pos, part in enumerate(parts):
                part = part.split("/")[0]  # money arguments are divided by the quote rate
                if part in params:  # a bare name sits at the parameter of that name
                    assert params[pos] == part, (name, args, params)


def test_cli_template(tmp_path):
    runner = CliRunner()
    out = tmp_path / "c.xlsx"
    res = runner.invoke(main, ["template", str(out), "--lang", "en", "--exchange", "jp_fx_25x"])
    assert res.exit_code == 0, res.output
    assert out.exists()
    res = runner.invoke(main, ["template", str(out)])
    assert res.exit_code == 2 and "--force" in res.output and "Traceback" not in res.output
    assert runner.invoke(main, ["template", str(out), "--force"]).exit_code == 0
    res = runner.invoke(main, ["template", str(tmp_path / "d.xlsx"), "--exchange", "nope"])
    assert res.exit_code == 2 and "bitflyer_cfd" in res.output
    res = runner.invoke(main, ["template", str(tmp_path / "d.xlsx"), "--udf"])
    assert res.exit_code == 2 and ".xlsm" in res.output
    assert not (tmp_path / "d.xlsx").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp left


def _contents(path):
    wb = openpyxl.load_workbook(path, keep_vba=path.suffix == ".xlsm")
    cells = {
        (ws.title, c.coordinate): (c.value, c.number_format, c.protection.locked)
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for c in row
        if c.value is not None
    }
    names = {n: d.attr_text for n, d in wb.defined_names.items()}
    dvs = {
        (ws.title, str(dv.sqref), dv.formula1)
        for ws in wb.worksheets
        for dv in ws.data_validations.dataValidation
    }
    return wb.sheetnames, cells, names, dvs


@pytest.mark.parametrize("name,lang,udf", ready_made())
def test_templates_dir_matches_generator(tmp_path, name, lang, udf):
    shipped = DEFAULT_DIR / name
    assert shipped.exists(), f"{shipped} missing: run python -m xlcalc.template.regenerate"
    fresh = build_template(tmp_path / name, lang=lang, udf=udf)
    old, new = _contents(shipped), _contents(fresh)
    diff = [k for k in sorted(set(old[1]) | set(new[1])) if old[1].get(k) != new[1].get(k)][:5]
    assert old == new, (
        f"{shipped} drifted from the generator (first cells: {diff}): "
        "run python -m xlcalc.template.regenerate"
    )


def test_libreoffice_tests_skip_with_a_reason_without_soffice(monkeypatch):
    monkeypatch.setattr(libreoffice.shutil, "which", lambda name: None)
    monkeypatch.delenv("CI", raising=False)
    assert libreoffice.soffice_path() is None
    with pytest.raises(pytest.skip.Exception, match="LibreOffice"):
        libreoffice.require_soffice()
    monkeypatch.setenv("CI", "true")  # in CI a missing LibreOffice fails instead of skipping
    with pytest.raises(pytest.fail.Exception, match="LibreOffice"):
        libreoffice.require_soffice()
    with pytest.raises(FileNotFoundError, match="soffice"):
        libreoffice.recalculate([Path("x.xlsx")], Path("out"))


def test_dates_and_text_in_number_cells_are_refused(book):
    """Decimal validation refuses text; the input check names a date typed as a price (issue #11)."""
    lang, wb = book
    calc = wb.worksheets[0]

    def cell(n):
        return calc[next(wb.defined_names[n].destinations)[1].replace("$", "")]

    decimal = {str(dv.sqref): dv for dv in calc.data_validations.dataValidation if dv.type == "decimal"}
    for name in ("entry_price", "quantity", "leverage", "deposit", "price", "gap_price", "stop_price"):
        ref = cell(name).coordinate
        assert ref in decimal and decimal[ref].showErrorMessage, name
    check = cell("input_check").value
    for name in (
        "entry_price",
        "quantity",
        "leverage",
        "deposit",
        "fees",
        "price",
        "gap_price",
        "stop_price",
    ):
        assert f'LEFT(CELL("format",{name}),1)="D"' in check, name
        assert label("check_date", lang).format(name=label(name, lang)) in check, name
    # The date test comes before the number test, so a date never passes as a price.
    conds = [cond for cond, _ in layout.MAIN_CHECKS]
    assert conds.index('LEFT(CELL("format",entry_price),1)="D"') + 1 == conds.index(
        "NOT(AND(ISNUMBER(entry_price),entry_price>0))"
    )
    pos = wb.worksheets[2]
    letters = layout.column_letters(layout.POSITION_COLUMNS)
    first = int(pos.tables["Positions"].ref.split(":")[0][1:]) + 1
    row_check = pos[f"{letters['col_check']}{first}"].value
    assert f'CELL("format",{letters["price"]}{first})' in row_check


@pytest.mark.parametrize("lang", LANGUAGES)
def test_input_notes_about_a_core_argument_come_from_the_one_table(lang):
    # issue 9: the Calculator, Planner and Loan notes of a core argument are its help in
    # xlcalc.arguments, the same words as the Excel function wizard and `xlcalc calc --help`
    from xlcalc import arguments
    from xlcalc.template import loan, planner

    wb = build_workbook(lang=lang)
    notes = {str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value}
    keys = [f.note for _, fields in layout.CALCULATOR for f in fields if f.note]
    keys += [spec[3] for spec in planner.INPUTS + loan.INPUTS + loan.WHAT_IF if spec[3]]
    argument_notes = [k for k in keys if k.startswith("arg:")]
    assert len(argument_notes) >= 8
    for key in argument_notes:
        function, _, name = key[4:].rpartition(".")
        assert arguments.help_text(name, lang, function=function or None) in notes, key


def test_template_command_does_not_import_pandas(tmp_path):
    # issue 13: `xlcalc template` reads the presets without pandas (presets.preset_rows)
    import subprocess
    import sys

    book = tmp_path / "out.xlsx"
    script = (
        "import sys; from xlcalc.cli import main\n"
        f"main(['template', {str(book)!r}, '--lang', 'en'], standalone_mode=False)\n"
        "print(sorted(m for m in ('pandas', 'xlwings') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout + done.stderr
    assert openpyxl.load_workbook(book).sheetnames[0] == label("sheet_calculator", "en")


def test_udf_workbook_rounds_the_shown_margin_through_the_core():
    """The .xlsm's shown margins call XLC_REQUIRED_MARGIN with the preset's rounding (SPEC §8),
    so that the core rounds them; the exact margin, the ratio and the rest take none."""
    import math

    import xlcalc as xc
    from xlcalc.core import _ON_GRID

    assert layout.ON_GRID == _ON_GRID  # the native formulas' tolerance is the core's
    wb = build_workbook("en", exchange="dmm_fx", udf=True)
    names = wb._xlcalc_names

    def margin_args(sheet, cell):
        calls = [
            args for name, args in _calls(wb[sheet][cell].value, "XLC_") if name == "XLC_REQUIRED_MARGIN"
        ]
        assert len(calls) == 1, wb[sheet][cell].value
        return calls[0]

    assert margin_args(*names["required_margin"])[3:] == ["quote_rate_used", "margin_rounding", "money_unit"]
    assert len(margin_args(*names["required_margin_exact"])) == 3
    letters, sheet = wb._xlcalc_columns["positions"], names["account_deposit"][0]
    row = next(c.row for c in wb[sheet][letters["symbol"]] if c.value == label("symbol", "en")) + 1
    shown = margin_args(sheet, f"{letters['required_margin']}{row}")
    assert shown[3:] == ["1", "account_margin_rounding", "account_money_unit"]
    assert len(margin_args(sheet, f"{letters['required_margin_exact']}{row}")) == 3
    for _, _, f in _formulas(wb):
        for name, args in _calls(f, "XLC_"):
            assert name == "XLC_REQUIRED_MARGIN" or not any("rounding" in a for a in args), f
    # those arguments as the cells hold them: the core's figures, DMM's 77,914 (not 77,915)
    udfs = pytest.importorskip("xlcalc.udfs")
    floored = udfs.XLC_REQUIRED_MARGIN(194.787, 10_000, 25, 1.0, "floor", 1.0)
    assert float(floored[0][0]) == xc.required_margin(194.787, 10_000, 25, margin_rounding="floor") == 77_914
    exact = udfs.XLC_REQUIRED_MARGIN(194.787, 10_000, 25, 1.0, "none", 1.0)
    assert math.isclose(float(exact[0][0]), 77_914.8)


def _conditional_formats(ws):
    """{formula: number format} of the sheet's conditional formats that set one."""
    return {
        r.formula[0]: r.dxf.numFmt.formatCode
        for cf in ws.conditional_formatting
        for r in cf.rules
        if r.dxf and r.dxf.numFmt
    }


def _ranges_of(ws, formula):
    return " ".join(
        str(cf.sqref) for cf in ws.conditional_formatting for r in cf.rules if r.formula[0] == formula
    )


@pytest.mark.parametrize("lang", LANGUAGES)
def test_money_shows_in_the_presets_currency_not_the_language(lang):
    """Audit: the ja template showed ¥600 for 600.00 USDT, the en one 440,000.00 for yen. Now
    each money cell has a conditional format per currency of xlcalc.display (the CLI's and the
    report's), keyed by the preset's currency column; the language decides nothing."""
    wb = build_workbook(lang)
    names = wb._xlcalc_names
    sheets = {
        "sheet_calculator": ("currency_used", ["deposit", "equity", "required_margin", "additional_deposit"]),
        "sheet_positions": ("account_currency_used", ["account_deposit", "account_equity"]),
        "sheet_planner": ("currency_used", ["plan_deposit", "plan_max_notional"]),
        "sheet_loan": ("loan_currency_used", ["loan_debt", "loan_amount"]),
    }
    for sheet, (currency, cells) in sheets.items():
        ws = wb[label(sheet, lang)]
        formats = _conditional_formats(ws)
        for code, (_, _, decimals) in CURRENCIES.items():
            formula = f'{currency}="{code}"'
            assert formats.get(formula) == excel_number_format(decimals, code), (sheet, code)
            covered = _ranges_of(ws, formula).split()
            for name in cells:
                cell = names[name][1]
                assert ws[cell].number_format == "#,##0.00", (sheet, name)
                assert any(_in_range(cell, r) for r in covered), (sheet, name, covered)
    pos = wb[label("sheet_positions", lang)]
    letters = wb._xlcalc_columns["positions"]
    covered = _ranges_of(pos, 'account_currency_used="USDT"')
    for key in ("pnl", "required_margin", "margin_counted"):
        assert f"{letters[key]}" in covered, key
    assert excel_number_format(0, "JPY") == '"¥"#,##0' and excel_number_format(2, "USDT") == '#,##0.00" USDT"'


def _in_range(cell, cell_range):
    from openpyxl.utils.cell import range_boundaries

    c1, r1, c2, r2 = range_boundaries(cell_range)
    c, r, _, _ = range_boundaries(cell)
    return c1 <= c <= c2 and r1 <= r <= r2


@pytest.mark.parametrize("lang", LANGUAGES)
def test_percentages_show_two_decimals_more_when_small(lang):
    """Ratio, distance % and move: 2 decimals (147.73 %, not 147.7 %), more below 1 % so that two
    significant digits show, as xlcalc.display.pct_decimals; rounding noise 0.00% without a minus.
    The rules are "|x| below a bound" in priority order: the first that holds decides."""
    from xlcalc.display import pct_decimals

    wb = build_workbook(lang)
    calc, scen = wb.worksheets[0], wb.worksheets[1]
    names = wb._xlcalc_names
    bound = re.compile(r"^AND\(ISNUMBER\((\w+)\),ABS\(\1\)<([0-9.e-]+)\)$")
    for ws, cell in (
        (calc, names["loss_cut_distance_pct"][1]),
        (calc, names["ratio"][1]),
        (scen, wb._xlcalc_columns["scenarios"]["move"] + "5"),
        (wb[label("sheet_positions", lang)], names["account_ratio"][1]),
    ):
        assert ws[cell].number_format == "0.00%"
        rules = sorted(
            (r.priority, float(bound.match(r.formula[0])[2]), r.dxf.numFmt.formatCode)
            for cf in ws.conditional_formatting
            for r in cf.rules
            if str(cf.sqref).split(":")[0] == cell and r.dxf and r.dxf.numFmt
        )
        stops = [
            r.priority
            for cf in ws.conditional_formatting
            for r in cf.rules
            if str(cf.sqref).startswith(cell) and r.stopIfTrue
        ]
        assert rules and all(
            p < min(stops, default=math.inf) for p, _, _ in rules
        )  # before a fill that stops

        def shown(x, rules=rules):
            return next((code for _, below, code in rules if abs(x) < below), "0.00%")

        for x in (1.4773, 0.5, -0.0042, 0.00042, -0.000042, 4.2e-6, 4.2e-7, -0.0099):
            assert shown(x) == "0." + "0" * pct_decimals(x) + "%", (cell, x, shown(x))
        assert shown(-1e-17) == "0.00%;0.00%"  # never "-0.00%"


def test_chart_axes_show_no_trailing_point():
    """Excel shows a whole number in "0.##" as "2." and in "#,##0.####" as "9,000,000."."""
    wb = build_workbook("en")
    formats = [
        (ax, chart_axis.numFmt.formatCode)
        for ws in wb.worksheets
        for chart in ws._charts
        for ax, chart_axis in (("x", chart.x_axis), ("y", chart.y_axis))
    ]
    assert formats and all(not fmt.rstrip('"x').endswith(("#", ".")) for _, fmt in formats), formats
    assert ("x", 'General"x"') in formats and ("x", "General") in formats


def test_side_words_are_the_cores():
    """Every word the core reads as a side (買建, 新規売, buy...) is in the template's side
    formulas, compared after ASC (full-width to half-width, the template's NFKC)."""
    from xlcalc._inputs import _LONG_WORDS, _SHORT_WORDS

    assert layout.CORE_SIDE_WORDS == {"long": _LONG_WORDS, "short": _SHORT_WORDS}
    formula = layout.words("ja")["long_words"] + layout.words("en")["short_words"]
    for word in _LONG_WORDS | _SHORT_WORDS:
        want = f'"{word}"' if word.isascii() else f'ASC("{word}")'
        assert want.lower() in formula.lower(), word  # "=" ignores case, as the core lower()s
    assert 'ASC(TRIM(side))=ASC("買建")' in layout.words("en")["long_words"]
    assert 'ASC(TRIM(side))=ASC("新規売")' in layout.words("en")["short_words"]
