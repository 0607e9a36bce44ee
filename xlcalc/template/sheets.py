"""One builder per sheet. Each walks its table in :mod:`xlcalc.template.layout`, writes the
cells, and registers the workbook-level defined names the formulas use."""
from __future__ import annotations

import math

from openpyxl.chart import LineChart, Reference
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import absolute_coordinate, get_column_letter, quote_sheetname
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.table import Table, TableStyleInfo

from ..labels import label
from ..presets import COLUMNS as PRESET_COLUMNS
from . import layout as L

INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
HEAD_FILL = PatternFill("solid", fgColor="1F4E78")
SECTION_FILL = PatternFill("solid", fgColor="DDEBF7")
AMBER_FILL = PatternFill("solid", fgColor="FFD966")
RED_FILL = PatternFill("solid", fgColor="FF7C80")
FONT = "Calibri"  # named everywhere: a nameless font falls back to a serif in LibreOffice
HEAD_FONT = Font(name=FONT, bold=True, color="FFFFFF")
BOLD = Font(name=FONT, bold=True)
TITLE_FONT = Font(name=FONT, bold=True, size=14)
NOTE_FONT = Font(name=FONT, italic=True, color="595959")
UNLOCKED = Protection(locked=False)


class Ctx:
    """What every builder needs: the workbook, the language, the formula words, the mode."""

    def __init__(self, wb, lang, udf):
        self.wb, self.lang, self.udf = wb, lang, udf
        self.words = L.words(lang)
        self.words["r"] = "{r}"  # keep row placeholders for the second pass
        self.names = {}  # defined name -> (sheet title, cell coordinate)

    def fill(self, template, **extra):
        return template.format(**{**self.words, **extra})

    def fmt(self, kind):
        return L.FORMATS[kind][self.lang]

    def name(self, ws, name, coord):
        col, row = coord.rstrip("0123456789"), coord[len(coord.rstrip("0123456789")):]
        self._define(name, f"{quote_sheetname(ws.title)}!${col}${row}")
        self.names[name] = (ws.title, coord)

    def name_range(self, ws, name, col, first, last):
        self._define(name, f"{quote_sheetname(ws.title)}!${col}${first}:${col}${last}")

    def _define(self, name, ref):
        self.wb.defined_names.add(DefinedName(name, attr_text=ref))


def _sheet(ctx, key):
    ws = ctx.wb.create_sheet(label(key, ctx.lang))
    ws.protection.sheet = True  # no password: Review > Unprotect Sheet
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 1
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    return ws


def _title(ws, ctx, key, note_key="disclaimer"):
    ws["A1"] = label(key, ctx.lang)
    ws["A1"].font = TITLE_FONT
    if note_key:
        ws["A2"] = label(note_key, ctx.lang)
        ws["A2"].font = NOTE_FONT


def _input(cell, kind, ctx, value=None):
    cell.value = value
    cell.fill = INPUT_FILL
    cell.protection = UNLOCKED
    cell.number_format = ctx.fmt(kind)


def _header(ws, row, texts, first_col=1):
    for i, text in enumerate(texts):
        c = ws.cell(row=row, column=first_col + i, value=text)
        c.font, c.fill = HEAD_FONT, HEAD_FILL


def _validation(ws, ctx, check, coord, key):
    w = {"side": ("long", "short"), "basis": ("entry", "mark")}
    if check in w:
        words = ",".join(label(k, ctx.lang) for k in w[check])
        dv = DataValidation(type="list", formula1=f'"{words}"', allow_blank=True)
    elif check == "exchange":
        dv = DataValidation(type="list", formula1="preset_ids", allow_blank=True)
    elif check == "positive":
        dv = DataValidation(type="decimal", operator="greaterThan", formula1="0")
    elif check == "nonnegative":
        dv = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0", allow_blank=True)
    elif check == "risk":
        dv = DataValidation(type="decimal", operator="between", formula1="0", formula2="1", allow_blank=True)
    else:
        return
    dv.showErrorMessage = True
    dv.errorTitle = "xlcalc"
    dv.error = ctx.words[f"c_{key}"][1:-1].replace('""', '"')
    ws.add_data_validation(dv)
    dv.add(coord)


def _level_rules(ws, cell_range, ratio_ref, mc, lc):
    """Red below the loss-cut level, amber below the margin-call level (SPEC §5)."""
    ws.conditional_formatting.add(cell_range, FormulaRule(
        formula=[f"AND(ISNUMBER({ratio_ref}),ISNUMBER({lc}),{ratio_ref}<{lc})"], fill=RED_FILL,
        stopIfTrue=True))
    ws.conditional_formatting.add(cell_range, FormulaRule(
        formula=[f"AND(ISNUMBER({ratio_ref}),ISNUMBER({mc}),{ratio_ref}<{mc})"], fill=AMBER_FILL,
        stopIfTrue=True))


def build_calculator(ctx, sample, exchange=None):
    ws = _sheet(ctx, "sheet_calculator")
    _title(ws, ctx, "title_calculator")
    heads = {
        "section_inputs": ["col_value", None, None, "col_note"],
        "section_levels": ["col_override", "col_preset", "col_used", "col_note"],
        "section_what_if": ["col_value", None, None, "col_note"],
        "section_outputs": ["col_value", "distance", "distance_pct", None],
        "section_working": ["col_value", None, None, None],
    }
    values = dict(sample, exchange=exchange)
    values["side"] = label(sample["side"], ctx.lang)
    row = 4
    for section, fields in L.CALCULATOR:
        _header(ws, row, [label(section, ctx.lang)] + [label(k, ctx.lang) if k else None for k in heads[section]])
        row += 1
        for f in fields:
            ws.cell(row=row, column=1, value=label(f.key, ctx.lang))
            if f.note:
                note = ws.cell(row=row, column=5, value=label(f.note, ctx.lang))
                note.font, note.alignment = NOTE_FONT, Alignment(indent=1)
            b = ws.cell(row=row, column=2)
            if section == "section_levels":
                _input(b, f.kind, ctx)
                ctx.name(ws, f"{f.key}_override", b.coordinate)
                _validation(ws, ctx, f.check, b.coordinate, f.key)
                c = ws.cell(row=row, column=3, value=ctx.fill(L.PRESET_FORMULAS[f.key]))
                c.number_format = ctx.fmt(f.kind)
                ctx.name(ws, f"{f.key}_preset", c.coordinate)
                d = ws.cell(row=row, column=4, value=ctx.fill(
                    f.formula, k=f.key, none_words_k=L.none_words(f"{f.key}_override")))
                d.number_format, d.font = ctx.fmt(f.kind), BOLD
                ctx.name(ws, f.key, d.coordinate)
            elif f.formula is None:
                _input(b, f.kind, ctx, values.get(f.key))
                ctx.name(ws, f.key, b.coordinate)
                _validation(ws, ctx, f.check, b.coordinate, f.key)
            else:
                b.value = ctx.fill(f.udf if ctx.udf and f.udf else f.formula)
                b.number_format = ctx.fmt(f.kind)
                ctx.name(ws, f.key, b.coordinate)
                if f.distance:
                    pre = L.DISTANCE_PREFIX[f.key]
                    ref = b.coordinate
                    c = ws.cell(row=row, column=3, value=f'=IF(ISNUMBER({ref}),{ref}-price,"")')
                    d = ws.cell(row=row, column=4, value=f'=IF(ISNUMBER({ref}),{ref}/price-1,"")')
                    c.number_format, d.number_format = ctx.fmt("price"), ctx.fmt("pct")
                    ctx.name(ws, f"{pre}_distance", c.coordinate)
                    ctx.name(ws, f"{pre}_distance_pct", d.coordinate)
            row += 1
        row += 1
    ratio = absolute_coordinate(ctx.names["ratio"][1])
    status = ctx.names["status"][1]
    _level_rules(ws, f"{ctx.names['ratio'][1]}:{status}", ratio, "margin_call_level", "loss_cut_level")
    check = ctx.names["input_check"][1]
    ws.conditional_formatting.add(check, FormulaRule(formula=[f"LEN({check})>0"], fill=RED_FILL))
    for col, width in zip("ABCDE", (34, 20, 18, 16, 58)):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = "B4"
    ws.print_area = f"A1:E{row}"
    ws.page_setup.orientation = "portrait"
    return ws


def build_scenarios(ctx):
    ws = _sheet(ctx, "sheet_scenarios")
    _title(ws, ctx, "title_scenarios", "note_moves")
    head, first = 4, 5
    cols = L.SCENARIO_COLUMNS
    _header(ws, head, [label(k, ctx.lang) for k, *_ in cols])
    last = first + len(L.SCENARIO_MOVES) - 1
    for i, move in enumerate(L.SCENARIO_MOVES):
        r = first + i
        for j, (key, kind, formula, udf) in enumerate(cols, start=1):
            cell = ws.cell(row=r, column=j)
            if formula is None:
                _input(cell, kind, ctx, move)
            else:
                cell.value = ctx.fill(udf if ctx.udf and udf else formula).format(r=r)
                cell.number_format = ctx.fmt(kind)
    _level_rules(ws, f"E{first}:F{last}", f"$E{first}", "margin_call_level", "loss_cut_level")
    ws.conditional_formatting.add(f"G{first}:H{last}", FormulaRule(
        formula=[f"ISNA(G{first})"], font=Font(color="FFFFFF")))
    ctx.name_range(ws, "scenario_prices", "B", first, last)
    ctx.name_range(ws, "scenario_ratios", "E", first, last)

    chart = LineChart()
    chart.title = label("chart_title", ctx.lang)
    chart.y_axis.title = label("ratio", ctx.lang)
    chart.x_axis.title = label("price", ctx.lang)
    chart.y_axis.number_format = "0%"
    chart.x_axis.number_format = "#,##0"
    chart.x_axis.delete = False  # openpyxl >= 3.1 hides axes unless told
    chart.y_axis.delete = False
    chart.add_data(Reference(ws, min_col=5, max_col=5, min_row=head, max_row=last), titles_from_data=True)
    chart.add_data(Reference(ws, min_col=7, max_col=8, min_row=head, max_row=last), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=2, min_row=first, max_row=last))
    colors = ("1F4E78", "FFC000", "C00000")
    for series, color in zip(chart.series, colors):
        series.graphicalProperties.line.solidFill = color
        series.smooth = False
    chart.series[1].graphicalProperties.line.dashStyle = "dash"
    chart.series[2].graphicalProperties.line.dashStyle = "dash"
    chart.height, chart.width = 9, 16
    ws.add_chart(chart, "J4")

    for col, width in zip("ABCDEFGH", (12, 16, 16, 16, 12, 18, 16, 16)):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = ws.cell(row=first, column=2).coordinate
    ws.print_area = f"A1:S{last}"
    ws.page_setup.orientation = "landscape"
    return ws


def build_positions(ctx):
    ws = _sheet(ctx, "sheet_positions")
    _title(ws, ctx, "title_positions", "note_positions")
    row = 4
    _header(ws, row, [label("section_account", ctx.lang), label("col_value", ctx.lang)])
    acc = L.SAMPLE_ACCOUNT[ctx.lang]
    defaults = dict(acc, basis=label("entry", ctx.lang), margin_call_level=L.DEFAULT_MARGIN_CALL,
                    loss_cut_level=L.DEFAULT_LOSS_CUT)
    for f in L.ACCOUNT_INPUTS:
        row += 1
        ws.cell(row=row, column=1, value=label(f.key, ctx.lang))
        b = ws.cell(row=row, column=2)
        _input(b, f.kind, ctx, defaults[f.key])
        ctx.name(ws, f"account_{f.key}", b.coordinate)
        _validation(ws, ctx, f.check, b.coordinate, f.key)
    out_first = row + 1
    row += len(L.ACCOUNT_OUTPUTS) + 3
    head = row + 1
    first, last = head + 1, head + L.POSITION_ROWS
    cols = L.POSITION_COLUMNS
    letter = {k: get_column_letter(j) for j, (k, *_) in enumerate(cols, start=1)}
    ranges = {f"{k}_range": f"{letter[c]}{first}:{letter[c]}{last}"
              for k, c in (("pnl", "pnl"), ("margin", "required_margin"), ("check", "col_check"))}
    row = out_first
    for f in L.ACCOUNT_OUTPUTS:
        ws.cell(row=row, column=1, value=label(f.key, ctx.lang))
        formula = f.formula or "=" + L._first(L.ACCOUNT_CHECKS)
        b = ws.cell(row=row, column=2, value=ctx.fill(formula, **ranges))
        b.number_format = ctx.fmt(f.kind)
        ctx.name(ws, f"account_{f.key}", b.coordinate)
        row += 1
    ws.cell(row=row, column=1, value=label("mark_basis", ctx.lang))
    ws.cell(row=row, column=2, value=ctx.fill(L.ACCOUNT_MARK))
    ctx.name(ws, "account_mark", f"B{row}")
    ratio = ctx.names["account_ratio"][1]
    _level_rules(ws, f"{ratio}:{ctx.names['account_status'][1]}", absolute_coordinate(ratio),
                 "account_margin_call_level", "account_loss_cut_level")
    chk = ctx.names["account_input_check"][1]
    ws.conditional_formatting.add(chk, FormulaRule(formula=[f"LEN({chk})>0"], fill=RED_FILL))

    headers = [label(k, ctx.lang) for k, *_ in cols]
    _header(ws, head, headers)
    samples = L.SAMPLE_POSITIONS[ctx.lang]
    for i in range(L.POSITION_ROWS):
        r = first + i
        values = samples[i] if i < len(samples) else (None,) * 6
        for j, (key, kind, formula, udf) in enumerate(cols, start=1):
            cell = ws.cell(row=r, column=j)
            if formula is None:
                v = values[j - 1]
                _input(cell, kind, ctx, label(v, ctx.lang) if key == "side" and v else v)
            else:
                cell.value = ctx.fill(udf if ctx.udf and udf else formula).format(r=r)
                cell.number_format = ctx.fmt(kind)
    side_dv = DataValidation(type="list", formula1='"{}"'.format(
        ",".join(label(k, ctx.lang) for k in ("long", "short"))), allow_blank=True)
    ws.add_data_validation(side_dv)
    side_dv.add(f"{letter['side']}{first}:{letter['side']}{last}")
    table = Table(displayName="Positions", ref=f"A{head}:{get_column_letter(len(cols))}{last}")
    table.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
    ws.add_table(table)
    for col, width in zip("ABCDEFGHI", (30, 16, 16, 14, 11, 16, 16, 16, 40)):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = "A3"
    ws.print_area = f"A1:I{last}"
    ws.page_setup.orientation = "landscape"
    ctx.positions = dict(first=first, last=last, letters=letter)
    return ws


def build_exchanges(ctx, presets):
    ws = _sheet(ctx, "sheet_exchanges")
    _title(ws, ctx, "title_exchanges")
    head, first = 4, 5
    _header(ws, head, [label("preset_id" if c == "id" else c, ctx.lang) for c in PRESET_COLUMNS])
    pct_cols = {"margin_call_level", "loss_cut_level", "mmr", "daily_fee_rate", "collateral_haircut"}
    rows = presets.to_dict("records")
    last = first + len(rows) + L.PRESET_SPARE_ROWS - 1
    for i in range(len(rows) + L.PRESET_SPARE_ROWS):
        rec = rows[i] if i < len(rows) else {}
        for j, col in enumerate(PRESET_COLUMNS, start=1):
            v = rec.get(col)
            if isinstance(v, float) and math.isnan(v):
                v = None
            cell = ws.cell(row=first + i, column=j, value=v)
            cell.protection = UNLOCKED  # users add and edit their own presets
            if col in pct_cols:
                cell.number_format = "0.0##%"
            elif col == "source_url" and v:
                cell.hyperlink = v
                cell.font = Font(name=FONT, color="0563C1", underline="single")
    for col, name in L.PRESET_NAMES.items():
        ctx.name_range(ws, name, get_column_letter(PRESET_COLUMNS.index(col) + 1), first, last)
    widths = {"id": 28, "name": 30, "product": 20, "source_url": 46, "notes": 80}
    for j, col in enumerate(PRESET_COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(j)].width = widths.get(col, 14)
    ws.freeze_panes = "B5"
    ws.print_area = f"A1:{get_column_letter(len(PRESET_COLUMNS))}{first + len(rows) - 1}"
    ws.page_setup.orientation = "landscape"
    return ws


def build_guide(ctx):
    ws = _sheet(ctx, "sheet_guide")
    for i, key in enumerate(L.GUIDE, start=1):
        if not key:
            continue
        c = ws.cell(row=i, column=1, value=label(key, ctx.lang))
        c.alignment = Alignment(wrap_text=True, vertical="top")
        if key in ("title_guide",):
            c.font = TITLE_FONT
        elif key == "guide_formulas":
            c.font = BOLD
    ws.column_dimensions["A"].width = 120
    ws.print_area = f"A1:A{len(L.GUIDE)}"
    return ws


def build_udf_conf(ctx):
    """The sheet xlwings reads its settings from; the user only clicks Import Functions."""
    ws = ctx.wb.create_sheet("xlwings.conf")
    ws["A1"], ws["B1"] = "UDF Modules", "xlcalc.udfs"
    ws.column_dimensions["A"].width = 16
    ws.column_dimensions["B"].width = 16
    return ws
