"""One builder per sheet. Each walks its table in :mod:`xlcalc.template.layout`, writes the
cells, and registers the workbook-level defined names the formulas use.

Row-wise sheets (Scenarios, Positions) place their columns from the column lists of the
layout and hand every formula the letters of that placement (``{c[key]}`` this row's cell,
``{rng[key]}`` the column's range, ``{top[key]}`` its first cell), so reordering a column
list changes no result (issue #9)."""

from __future__ import annotations

import math
import unicodedata
from copy import copy

from openpyxl.chart import Reference, ScatterChart, Series
from openpyxl.formatting.rule import FormulaRule, Rule
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.styles.differential import DifferentialStyle
from openpyxl.styles.numbers import NumberFormat
from openpyxl.utils import absolute_coordinate, get_column_letter, quote_sheetname
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.table import Table, TableStyleInfo

from ..arguments import help_text
from ..display import CURRENCIES, excel_number_format
from ..labels import label
from ..presets import COLUMNS as PRESET_COLUMNS
from . import layout as L

INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
HEAD_FILL = PatternFill("solid", fgColor="1F4E78")
SECTION_FILL = PatternFill("solid", fgColor="DDEBF7")
CAUTION_FILL = PatternFill("solid", fgColor="FFEB9C")
AMBER_FILL = PatternFill("solid", fgColor="FFD966")
RED_FILL = PatternFill("solid", fgColor="FF7C80")
FONT = "Calibri"  # named everywhere: a nameless font falls back to a serif in LibreOffice
HEAD_FONT = Font(name=FONT, bold=True, color="FFFFFF")
BOLD = Font(name=FONT, bold=True)
TITLE_FONT = Font(name=FONT, bold=True, size=14)
NOTE_FONT = Font(name=FONT, italic=True, color="595959")
HELPER_FONT = Font(name=FONT, color="A6A6A6", size=8)
LINK_FONT = Font(name=FONT, color="0563C1", underline="single")
UNLOCKED = Protection(locked=False)
HEAD_ALIGN = Alignment(wrap_text=True, vertical="center")
NOTE_ALIGN = Alignment(indent=1)
TOP_ALIGN, WRAP_TOP_ALIGN = Alignment(vertical="top"), Alignment(wrap_text=True, vertical="top")


def _wear(cell, **look):
    """Give ``cell`` a look: font, fill, alignment, protection and number_format, as keywords.

    openpyxl hashes every style object on every assignment (a third of the build time); a
    look is made once per workbook and then copied, as openpyxl copies a cell's style itself.
    Values (style objects, number formats) are told apart by identity, so pass module constants
    or table entries, not new objects (a new one only makes another look, the slow way)."""
    if cell.has_style:  # a look is a whole style: add to an existing one the slow way
        for key, value in look.items():
            setattr(cell, key, value)
        return
    looks = cell.parent.parent.__dict__.setdefault("_xlcalc_looks", {})
    # keywords and values by identity, in the caller's order (another order is only another look)
    key = (*look, *map(id, look.values()))
    made = looks.get(key)
    if made is None:
        for k, value in look.items():
            setattr(cell, k, value)
        looks[key] = (copy(cell._style), tuple(look.values()))  # the objects kept: ids stay unique
    else:
        cell._style = copy(made[0])


# A note "arg:NAME" (or "arg:FUNCTION.NAME") is the core argument's help from xlcalc.arguments,
# the table the Excel function wizard and the command line's --help read too.
ARGUMENT_NOTE = "arg:"


def note_text(note, lang):
    """An input's note in ``lang``: a core argument's help, or a label of the template's own."""
    if not note.startswith(ARGUMENT_NOTE):
        return label(note, lang)
    function, _, name = note[len(ARGUMENT_NOTE) :].rpartition(".")
    return help_text(name, lang, function=function or None)


class Ctx:
    """What every builder needs: the workbook, the language, the formula words, the mode."""

    def __init__(self, wb, lang, udf):
        self.wb, self.lang, self.udf = wb, lang, udf
        self.words = L.words(lang)
        self.words["r"] = "{r}"  # row-numbered templates (other sheets) keep {r} for a second pass
        self.names = {}  # defined name -> (sheet title, cell coordinate)
        self.columns = {}  # sheet key -> {column key: letter}

    def fill(self, template, **extra):
        return template.format(**{**self.words, **extra})

    def fmt(self, kind):
        return L.FORMATS[kind][self.lang]

    def name(self, ws, name, coord):
        col, row = coord.rstrip("0123456789"), coord[len(coord.rstrip("0123456789")) :]
        self._define(name, f"{quote_sheetname(ws.title)}!${col}${row}")
        self.names[name] = (ws.title, coord)

    def name_range(self, ws, name, col, first, last):
        self._define(name, f"{quote_sheetname(ws.title)}!${col}${first}:${col}${last}")

    def _define(self, name, ref):
        self.wb.defined_names.add(DefinedName(name, attr_text=ref))


def _cells(letters, r, first, last):
    """The ``c``, ``rng`` and ``top`` placeholders of row ``r`` for a column map."""
    return dict(
        c={k: f"{x}{r}" for k, x in letters.items()},
        rng={k: f"${x}${first}:${x}${last}" for k, x in letters.items()},
        top={k: f"${x}${first}" for k, x in letters.items()},
    )


def code_name(key):
    """An ASCII VBA code name for a sheet (the English title without spaces)."""
    return "".join(ch for ch in label(key, "en").title() if ch.isalnum())


def _sheet(ctx, key, protect=True, landscape=False, grows=False):
    """A new sheet with print setup: one page wide; one page tall too unless its rows ``grows``
    (a list the user extends prints on as many pages as it needs, its header row repeated)."""
    ws = ctx.wb.create_sheet(label(key, ctx.lang))
    ws.sheet_properties.codeName = code_name(key)
    ws.protection.sheet = protect  # no password: Review > Unprotect Sheet
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0 if grows else 1
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_margins.left = ws.page_margins.right = 0.4
    return ws


def _title(ws, ctx, key, note_key="disclaimer"):
    ws["A1"] = label(key, ctx.lang)
    ws["A1"].font = TITLE_FONT
    if note_key:
        ws["A2"] = label(note_key, ctx.lang)
        ws["A2"].font = NOTE_FONT


def _input(cell, kind, ctx, value=None):
    cell.value = value
    _wear(cell, fill=INPUT_FILL, protection=UNLOCKED, number_format=ctx.fmt(kind))


def _header(ws, row, texts, first_col=1):
    for i, text in enumerate(texts):
        _wear(
            ws.cell(row=row, column=first_col + i, value=text),
            font=HEAD_FONT,
            fill=HEAD_FILL,
            alignment=HEAD_ALIGN,
        )


# The heads of a section's columns, after the section's own name (Calculator, Loan, Planner)
SECTION_HEADS = {
    "section_inputs": ["col_value", None, None, "col_note"],
    "section_levels": ["col_override", "col_preset", "col_used", "col_note"],
    "section_what_if": ["col_value", None, None, "col_note"],
    "section_outputs": ["col_value", "distance", "distance_pct", None],
    "section_working": ["col_value", None, None, None],
}


def _section_header(ws, row, lang, section):
    """A section's heading row: its name, then the heads of its columns."""
    _header(ws, row, [label(section, lang)] + [label(k, lang) if k else None for k in SECTION_HEADS[section]])


def _validation(ws, ctx, check, ref, key):
    """Data validation for an input cell or range: lists, or a decimal that refuses text."""
    lists = {"side": ("long", "short"), "basis": ("entry", "mark")}
    if check in lists:
        words = ",".join(label(k, ctx.lang) for k in lists[check])
        dv = DataValidation(type="list", formula1=f'"{words}"', allow_blank=True)
    elif check == "hedge":
        dv = DataValidation(type="list", formula1='"{}"'.format(",".join(L.HEDGE_RULES)), allow_blank=True)
    elif check == "exchange":
        dv = DataValidation(type="list", formula1="preset_ids", allow_blank=True)
    elif check == "positive":
        dv = DataValidation(type="decimal", operator="greaterThan", formula1="0", allow_blank=True)
    elif check == "nonnegative":
        dv = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0", allow_blank=True)
    elif check == "decimals":
        dv = DataValidation(
            type="whole", operator="between", formula1="0", formula2=str(L.MAX_DECIMALS), allow_blank=True
        )
    elif check == "risk":
        dv = DataValidation(type="decimal", operator="between", formula1="0", formula2="1", allow_blank=True)
    else:
        return
    dv.showErrorMessage = True
    dv.errorTitle = "xlcalc"
    dv.error = ctx.words[f"c_{key}"][1:-1].replace('""', '"')
    if check == "side":  # the list offers two words; the other words xlcalc reads may be typed
        dv.errorStyle, dv.error = "information", label("check_side_words", ctx.lang)
    ws.add_data_validation(dv)
    dv.add(ref)


def _level_rules(ws, cell_range, ratio_ref, mc, lc, safe=None):
    """Red below the loss-cut level, amber below the margin-call level, pale below the safe level."""
    rules = [(lc, RED_FILL), (mc, AMBER_FILL)] + ([(safe, CAUTION_FILL)] if safe else [])
    for level, fill in rules:
        ws.conditional_formatting.add(
            cell_range,
            FormulaRule(
                formula=[f"AND(ISNUMBER({ratio_ref}),ISNUMBER({level}),{ratio_ref}<{level})"],
                fill=fill,
                stopIfTrue=True,
            ),
        )


def _price_decimals(ws, ranges):
    """Show ``ranges`` with ``price_decimals_used`` decimals (the base format keeps up to 8)."""
    for d in range(L.MAX_DECIMALS + 1):
        dxf = DifferentialStyle(numFmt=NumberFormat(numFmtId=300 + d, formatCode=L.price_format(d)))
        ws.conditional_formatting.add(
            " ".join(ranges), Rule(type="expression", formula=[f"price_decimals_used={d}"], dxf=dxf)
        )


def _money_formats(ws, ranges, currency="currency_used"):
    """Show the money cells ``ranges`` in the preset's currency (the cell named ``currency``), as
    xlcalc calc and the report do (xlcalc.display): ¥ without decimals for JPY, 2 decimals and
    the code for USDT...; the base format (2 decimals, no code) when unknown or without one."""
    for i, (code, (_, _, decimals)) in enumerate(CURRENCIES.items()):
        fmt = NumberFormat(numFmtId=330 + i, formatCode=excel_number_format(decimals, code))
        ws.conditional_formatting.add(
            " ".join(ranges),
            Rule(type="expression", formula=[f'{currency}="{code}"'], dxf=DifferentialStyle(numFmt=fmt)),
        )


# A fraction shown as a percentage: 2 decimals, more below 1 % so that two significant digits
# show (xlcalc.display.pct_decimals, as xlcalc calc and the report); noise below 1e-8 shows
# 0.00% without a minus sign, never "-0.00%".
PCT_SMALL = [(10.0**-d, d) for d in range(3, 7)]  # (|x| below this, decimals): 0.042 % has 3
PCT_NOISE = 1e-8


def _pct_formats(ws, cell_range):
    """Conditional formats for the percentages in ``cell_range`` (relative to its first cell).
    Added before a sheet's fill rules: those stop at the first true rule."""
    first = cell_range.split(":")[0].split(" ")[0].replace("$", "")
    x = f"ABS({first})"
    rules = [(f"AND(ISNUMBER({first}),{x}<{PCT_NOISE!r})", "0.00%;0.00%", 350)]
    rules += [
        (f"AND(ISNUMBER({first}),{x}<{below!r})", "0." + "0" * d + "%", 350 + d)
        for below, d in PCT_SMALL[::-1]
    ]
    for formula, code, num_id in rules:
        fmt = DifferentialStyle(numFmt=NumberFormat(numFmtId=num_id, formatCode=code))
        ws.conditional_formatting.add(cell_range, Rule(type="expression", formula=[formula], dxf=fmt))


def _column_runs(ws, number_format):
    """The cells of ``ws`` with ``number_format``, as ranges of consecutive rows per column."""
    runs = []
    for col in ws.iter_cols():
        for cell in col:
            if cell.has_style and cell.number_format == number_format:
                if runs and runs[-1][0] == cell.column_letter and runs[-1][2] == cell.row - 1:
                    runs[-1][2] = cell.row
                else:
                    runs.append([cell.column_letter, cell.row, cell.row])
    return [f"{c}{a}:{c}{b}" if a != b else f"{c}{a}" for c, a, b in runs]


def money_and_pct_formats(ws, ctx, currency):
    """The currency (:func:`_money_formats`) and small-percentage (:func:`_pct_formats`) formats
    for every money and percentage cell of a sheet, found by their base formats."""
    _money_formats(ws, _column_runs(ws, ctx.fmt("money")), currency)
    for cell_range in _column_runs(ws, ctx.fmt("pct")):
        _pct_formats(ws, cell_range)


def _widths(ws, letters_widths):
    for col, width in letters_widths:
        ws.column_dimensions[col].width = width


def build_calculator(ctx, sample, exchange=None):
    ws = _sheet(ctx, "sheet_calculator")
    _title(ws, ctx, "title_calculator")
    values = dict(sample, exchange=exchange)
    values["side"] = label(sample["side"], ctx.lang)
    row = 4
    for section, fields in L.CALCULATOR:
        _section_header(ws, row, ctx.lang, section)
        row += 1
        for f in fields:
            ws.cell(row=row, column=1, value=label(f.key, ctx.lang))
            if f.note:
                note = ws.cell(row=row, column=5, value=note_text(f.note, ctx.lang))
                _wear(note, font=NOTE_FONT, alignment=NOTE_ALIGN)
            b = ws.cell(row=row, column=2)
            if section == "section_levels":
                _input(b, f.kind, ctx)
                ctx.name(ws, f"{f.key}_override", b.coordinate)
                _validation(ws, ctx, f.check, b.coordinate, f.key)
                c = ws.cell(row=row, column=3, value=ctx.fill(L.PRESET_FORMULAS[f.key]))
                c.number_format = ctx.fmt(f.kind)
                ctx.name(ws, f"{f.key}_preset", c.coordinate)
                d = ws.cell(
                    row=row,
                    column=4,
                    value=ctx.fill(f.formula, k=f.key, none_words_k=L.none_words(f"{f.key}_override")),
                )
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
    # beside the loss-cut price: an mmr preset's flat rate, where the exchange's tier is higher
    lc_row = int(ctx.names["loss_cut_price"][1].lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    note = ws.cell(row=lc_row, column=5, value=ctx.fill(L.TIER_NOTE))
    _wear(note, font=NOTE_FONT, alignment=NOTE_ALIGN)
    ctx.name(ws, "tier_note", note.coordinate)
    kinds = {f.key: f.kind for _, fields in L.CALCULATOR for f in fields}
    _money_formats(ws, [c for n, (_, c) in ctx.names.items() if kinds.get(n) == "money"])
    for n, (_, c) in ctx.names.items():
        if kinds.get(n) == "pct" or n.endswith("_distance_pct"):
            _pct_formats(ws, c)
    ratio = absolute_coordinate(ctx.names["ratio"][1])
    status = ctx.names["status"][1]
    _level_rules(
        ws, f"{ctx.names['ratio'][1]}:{status}", ratio, "margin_call_level", "loss_cut_level", "safe_level"
    )
    check = ctx.names["input_check"][1]
    ws.conditional_formatting.add(check, FormulaRule(formula=[f"LEN({check})>0"], fill=RED_FILL))
    prices = [
        c for n, (_, c) in ctx.names.items() if n == "price" or "_price" in n or n.endswith("_distance")
    ]
    _price_decimals(ws, prices)
    _widths(ws, zip("ABCDE", (36, 20, 18, 16, 60)))
    ws.freeze_panes = "B4"
    ws.print_area = f"A1:E{row}"
    return ws


def build_scenarios(ctx):
    ws = _sheet(ctx, "sheet_scenarios", landscape=True)
    _title(ws, ctx, "title_scenarios", "note_moves")
    head, first = 4, 5
    last = first + L.LADDER_ROWS - 1
    cols = L.SCENARIO_COLUMNS
    letters = L.column_letters(cols)
    chart_at = len(cols) + 2  # the chart sits right of the ladder ...
    helper_at = chart_at + 12  # ... and its data further right, unprinted
    chart_letters = L.column_letters(L.CHART_COLUMNS, helper_at)
    cand_col = get_column_letter(helper_at + len(L.CHART_COLUMNS) + 1)
    work_col = get_column_letter(helper_at + len(L.CHART_COLUMNS) + 3)
    every = {**letters, **chart_letters}
    ctx.columns["scenarios"] = every

    _header(ws, head, [label(c.key, ctx.lang) for c in cols])
    ws.row_dimensions[head].height = 30  # two lines for the wrapped headers
    _header(ws, head, [label(c.key, ctx.lang) for c in L.CHART_COLUMNS], helper_at)
    _header(ws, head, [label("ladder_candidates", ctx.lang)], helper_at + len(L.CHART_COLUMNS) + 1)
    for i in range(L.LADDER_ROWS):
        cell = ws[f"{cand_col}{first + i}"]
        cell.value, cell.font, cell.number_format = L.ladder_candidate(i), HELPER_FONT, "General"
    ctx.name_range(ws, "ladder_candidates", cand_col, first, last)
    for i, (name, formula) in enumerate(L.LADDER_WORKING):
        ws[f"{work_col}{first + i}"] = label(name, ctx.lang)
        cell = ws.cell(row=first + i, column=helper_at + len(L.CHART_COLUMNS) + 4, value=formula)
        cell.font = HELPER_FONT
        ctx.name(ws, name, cell.coordinate)

    for i in range(L.LADDER_ROWS):
        r = first + i
        parts = _cells(every, r, first, last)
        for col in cols + L.CHART_COLUMNS:
            cell = ws[f"{every[col.key]}{r}"]
            if col.key == "price":
                prev = f"{letters['price']}{r - 1}"
                cell.value = L._LADDER_PRICE_FIRST if i == 0 else L._LADDER_PRICE_NEXT.format(prev=prev)
            else:
                cell.value = ctx.fill(col.udf if ctx.udf and col.udf else col.formula, **parts)
            if col in L.CHART_COLUMNS:
                _wear(cell, number_format=ctx.fmt(col.kind), font=HELPER_FONT)
            else:
                _wear(cell, number_format=ctx.fmt(col.kind))
    for col in cols:
        x = f"{letters[col.key]}{first}:{letters[col.key]}{last}"
        if col.kind == "money":
            _money_formats(ws, [x])
        elif col.kind == "pct":
            _pct_formats(ws, x)
    ratio_col = letters["ratio"]
    for key in ("ratio", "status"):
        x = letters[key]
        _level_rules(
            ws,
            f"{x}{first}:{x}{last}",
            f"${ratio_col}{first}",
            "margin_call_level",
            "loss_cut_level",
            "safe_level",
        )
    mark = letters["level_mark"]
    ws.conditional_formatting.add(
        f"{mark}{first}:{mark}{last}",
        FormulaRule(formula=[f"LEN({mark}{first})>0"], font=Font(name=FONT, bold=True)),
    )
    _price_decimals(ws, [f"{letters['price']}{first}:{letters['price']}{last}"])
    ctx.name_range(ws, "scenario_prices", letters["price"], first, last)
    ctx.name_range(ws, "scenario_ratios", ratio_col, first, last)

    chart = ScatterChart()
    chart.title = label("chart_title", ctx.lang)
    chart.style = 13
    chart.y_axis.title = label("ratio", ctx.lang)
    chart.x_axis.title = label("price", ctx.lang)
    chart.y_axis.number_format = "0%"
    chart.x_axis.number_format = "General"  # "#,##0.####" shows 9,000,000. with a point
    chart.x_axis.delete = False  # openpyxl >= 3.1 hides axes unless told
    chart.y_axis.delete = False
    xcol = helper_at + [c.key for c in L.CHART_COLUMNS].index("chart_price")
    xs = Reference(ws, min_col=xcol, min_row=first, max_row=last)
    styles = {
        "chart_ratio": ("1F4E78", None, False),
        "chart_level_mark": (None, None, True),
        "safe_level": ("70AD47", "dash", False),
        "margin_call_level": ("FFC000", "dash", False),
        "loss_cut_level": ("C00000", "dash", False),
    }
    for j, col in enumerate(L.CHART_COLUMNS):
        if col.key not in styles:
            continue
        color, dash, marks_only = styles[col.key]
        ys = Reference(ws, min_col=helper_at + j, min_row=head, max_row=last)
        s = Series(ys, xs, title_from_data=True)
        s.smooth = False
        if marks_only:  # the level prices, as dots on the ratio line
            s.marker.symbol, s.marker.size = "circle", 7
            s.marker.graphicalProperties.solidFill = "C00000"
            s.graphicalProperties.line.noFill = True
        else:
            s.marker.symbol = "none"
            s.graphicalProperties.line.solidFill = color
            s.graphicalProperties.line.width = 22000
            if dash:
                s.graphicalProperties.line.dashStyle = dash
        chart.series.append(s)
    chart.height, chart.width = 11, 17
    ws.add_chart(chart, f"{get_column_letter(chart_at)}{head}")

    _widths(
        ws,
        (
            (letters[c.key], {"level_mark": 20, "move": 10, "ratio": 14, "status": 16}.get(c.key, 17))
            for c in cols
        ),
    )
    ws.freeze_panes = ws.cell(row=first, column=1).coordinate
    ws.print_area = f"A1:{get_column_letter(helper_at - 2)}{last}"
    ws.print_title_rows = f"{head}:{head}"
    return ws


def build_positions(ctx, presets_columns=PRESET_COLUMNS):
    # Not protected: Excel grows a table (and users paste formulas down) only on an unprotected sheet.
    ws = _sheet(ctx, "sheet_positions", protect=False, landscape=True, grows=True)
    _title(ws, ctx, "title_positions", "note_positions")
    row = 4
    _header(
        ws,
        row,
        [label(k, ctx.lang) if k else None for k in ("section_account", "col_value", None, None, "col_note")],
    )
    for f in L.ACCOUNT_INPUTS:
        row += 1
        ws.cell(row=row, column=1, value=label(f.key, ctx.lang))
        b = ws.cell(row=row, column=2)
        _input(b, f.kind, ctx, L.SAMPLE_ACCOUNT[ctx.lang].get(f.key))
        ctx.name(ws, f"account_{f.key}", b.coordinate)
        _validation(ws, ctx, f.check, b.coordinate, f.key)
        if f.note:
            ws.cell(row=row, column=5, value=note_text(f.note, ctx.lang)).font = NOTE_FONT
    # the levels: your value | the account preset's (else the defaults) | used, as the Calculator's
    row += 1
    _section_header(ws, row, ctx.lang, "section_levels")
    for f in L.ACCOUNT_LEVELS:
        row += 1
        key = f"account_{f.key}"
        ws.cell(row=row, column=1, value=label(f.key, ctx.lang))
        b = ws.cell(row=row, column=2)
        _input(b, f.kind, ctx)
        ctx.name(ws, f"{key}_override", b.coordinate)
        _validation(ws, ctx, f.check, b.coordinate, f.key)
        c = ws.cell(row=row, column=3, value=ctx.fill(L.ACCOUNT_PRESET_FORMULAS[f.key]))
        ctx.name(ws, f"{key}_preset", c.coordinate)
        d = ws.cell(
            row=row, column=4, value=ctx.fill(f.formula, k=key, none_words_k=L.none_words(f"{key}_override"))
        )
        d.font = BOLD
        ctx.name(ws, key, d.coordinate)
        for cell in (c, d):
            cell.number_format = ctx.fmt(f.kind)
        if f.note:
            ws.cell(row=row, column=5, value=note_text(f.note, ctx.lang)).font = NOTE_FONT
    out_first = row + 1
    row += len(L.ACCOUNT_OUTPUTS) + len(L.ACCOUNT_WORKING) + 2
    head = row + 1
    first, last = head + 1, head + L.POSITION_ROWS
    cap = head + L.POSITION_CAPACITY
    cols = L.POSITION_COLUMNS
    letters = L.column_letters(cols)
    ctx.columns["positions"] = letters
    ranges = _cells(letters, first, first, cap)
    row = out_first
    for f in L.ACCOUNT_OUTPUTS:
        ws.cell(row=row, column=1, value=label(f.key, ctx.lang))
        formula = f.formula or "=" + L._first(L.ACCOUNT_CHECKS)
        b = ws.cell(row=row, column=2, value=ctx.fill(formula, **ranges))
        b.number_format = ctx.fmt(f.kind)
        ctx.name(ws, f"account_{f.key}", b.coordinate)
        row += 1
    for key, formula in L.ACCOUNT_WORKING:
        if formula is None:
            formula = L.hedge_formula("hedge" in presets_columns)
        ws.cell(row=row, column=1, value=label(f"account_{key}", ctx.lang)).font = NOTE_FONT
        ws.cell(row=row, column=2, value=ctx.fill(formula, **ranges)).font = NOTE_FONT
        ctx.name(ws, f"account_{key}", f"B{row}")
        row += 1
    money = [
        ctx.names[f"account_{f.key}"][1] for f in L.ACCOUNT_INPUTS + L.ACCOUNT_OUTPUTS if f.kind == "money"
    ]
    money += [f"{letters[c.key]}{first}:{letters[c.key]}{cap}" for c in cols if c.kind == "money"]
    _money_formats(ws, money, "account_currency_used")
    ratio = ctx.names["account_ratio"][1]
    _pct_formats(ws, ratio)
    _level_rules(
        ws,
        f"{ratio}:{ctx.names['account_status'][1]}",
        absolute_coordinate(ratio),
        "account_margin_call_level",
        "account_loss_cut_level",
        "account_safe_level",
    )
    chk = ctx.names["account_input_check"][1]
    ws.conditional_formatting.add(chk, FormulaRule(formula=[f"LEN({chk})>0"], fill=RED_FILL))

    _header(ws, head, [label(c.key, ctx.lang) for c in cols])
    ws.row_dimensions[head].height = 30
    samples = dict(zip(L._IN, zip(*L.SAMPLE_POSITIONS[ctx.lang])))
    for i in range(L.POSITION_ROWS):
        r = first + i
        parts = _cells(letters, r, first, cap)
        words = L.side_words(parts["c"]["side"])
        for col in cols:
            cell = ws[f"{letters[col.key]}{r}"]
            if col.formula is None:
                v = samples[col.key][i] if i < len(samples[col.key]) else None
                _input(cell, col.kind, ctx, label(v, ctx.lang) if col.key == "side" and v else v)
            else:
                cell.value = ctx.fill(col.udf if ctx.udf and col.udf else col.formula, **parts, **words)
                if col.key in L.POSITION_HELPERS:
                    _wear(cell, number_format=ctx.fmt(col.kind), font=HELPER_FONT)
                else:
                    _wear(cell, number_format=ctx.fmt(col.kind))
    for col in cols:  # rows added below the table are checked as the table's rows are
        check = {
            "side": "side",
            "entry_price": "positive",
            "quantity": "positive",
            "leverage": "positive",
            "price": "positive",
        }.get(col.key)
        if check:
            _validation(ws, ctx, check, f"{letters[col.key]}{first}:{letters[col.key]}{cap}", col.key)
    end = get_column_letter(len(cols))
    table = Table(displayName="Positions", ref=f"A{head}:{end}{last}")
    table.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
    ws.add_table(table)
    widths = {
        "symbol": 14,
        "side": 9,
        "entry_price": 16,
        "quantity": 14,
        "leverage": 10,
        "price": 16,
        "pnl": 16,
        "required_margin": 16,
        "margin_counted": 16,
        "col_check": 44,
    }
    _widths(ws, ((letters[c.key], widths.get(c.key, 6)) for c in cols))
    ws.column_dimensions["A"].width = max(ws.column_dimensions["A"].width, 30)
    # the account's values: "1,500,000.00 USDT", not "###"
    ws.column_dimensions["B"].width = max(ws.column_dimensions["B"].width, 20)
    ws.freeze_panes = f"A{first}"
    printed = max(j for j, c in enumerate(cols, start=1) if c.key not in L.POSITION_HELPERS)
    ws.print_area = f"A1:{get_column_letter(max(printed, 4))}{last}"
    ws.print_title_rows = f"{head}:{head}"
    ctx.positions = dict(head=head, first=first, last=last, capacity=cap, letters=letters)
    return ws


def build_exchanges(ctx, rows):
    """The Exchanges sheet: one row per preset (a list of dicts), then spare rows for the user's."""
    ws = _sheet(ctx, "sheet_exchanges", landscape=True, grows=True)
    _title(ws, ctx, "title_exchanges")
    head, first = 4, 5
    _header(ws, head, [label("preset_id" if c == "id" else c, ctx.lang) for c in PRESET_COLUMNS])
    pct_cols = {"margin_call_level", "loss_cut_level", "mmr", "daily_fee_rate", "collateral_haircut"}
    wrapped = {"notes", "name", "source_url"}
    last = first + len(rows) + L.PRESET_SPARE_ROWS - 1
    for i in range(len(rows) + L.PRESET_SPARE_ROWS):
        rec = rows[i] if i < len(rows) else {}
        for j, col in enumerate(PRESET_COLUMNS, start=1):
            v = rec.get(col)
            if isinstance(v, float) and math.isnan(v):
                v = None
            cell = ws.cell(row=first + i, column=j, value=v)
            # unlocked: users add and edit their own presets
            look = {"protection": UNLOCKED, "alignment": WRAP_TOP_ALIGN if col in wrapped else TOP_ALIGN}
            if col in pct_cols:
                look["number_format"] = L.FORMATS["rate"][ctx.lang]
            elif col == "source_url" and v:
                cell.hyperlink = v
                look["font"] = LINK_FONT
            _wear(cell, **look)
    for col, name in L.PRESET_NAMES.items():
        if col in PRESET_COLUMNS:
            ctx.name_range(ws, name, get_column_letter(PRESET_COLUMNS.index(col) + 1), first, last)
    widths = {"id": 26, "name": 24, "product": 16, "source_url": 40, "notes": 60}
    for j, col in enumerate(PRESET_COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(j)].width = widths.get(col, 11)
    ws.freeze_panes = "B5"
    ws.print_area = f"A1:{get_column_letter(len(PRESET_COLUMNS))}{first + len(rows) - 1}"
    ws.print_title_rows = f"{head}:{head}"
    return ws


def build_tiers(ctx):
    """The Tiers sheet: every shipped tier table, one row per tier, its columns named (the
    Calculator picks its preset's first table from them)."""
    ws = _sheet(ctx, "sheet_tiers")
    _title(ws, ctx, "title_tiers")
    head, first = 4, 5
    keys = list(L.TIER_NAMES)
    _header(ws, head, [label(k, ctx.lang) for k in keys])
    rows = L.tier_rows()
    formats = {"mmr": L.FORMATS["rate"][ctx.lang], "tier_floor": "#,##0", "tier_cap": "#,##0"}
    for i, values in enumerate(rows):
        for j, (key, value) in enumerate(zip(keys, values), start=1):
            cell = ws.cell(row=first + i, column=j, value=value)
            cell.number_format = formats.get(key, "#,##0.##")
    last = first + len(rows) - 1
    for j, key in enumerate(keys, start=1):
        ctx.name_range(ws, L.TIER_NAMES[key], get_column_letter(j), first, last)
        ws.column_dimensions[get_column_letter(j)].width = 18
    ws.freeze_panes = f"A{first}"
    ws.print_area = f"A1:{get_column_letter(len(keys))}{last}"
    ws.print_title_rows = f"{head}:{head}"
    return ws


def _display_width(text):
    """Characters as a fixed-width font shows them: CJK characters count twice."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


GUIDE_WIDTH = 96  # display columns of a Guide line (a CJK character counts two)


def guide_lines(text, width=GUIDE_WIDTH):
    """``text`` cut into lines of at most ``width`` display columns, keeping every character.

    Each line is a row of its own: spreadsheets do not agree on the height of a wrapped row
    (LibreOffice kept openpyxl's default, so wrapped lines overlapped or ran off the page).
    Lines break after a space or Japanese punctuation when one is near.

    >>> guide_lines("aaa bbb ccc", 8)
    ['aaa bbb ', 'ccc']
    >>> "".join(guide_lines("あ" * 10, 8)) == "あ" * 10
    True
    """
    lines, line, used = [], "", 0
    for ch in text:
        w = _display_width(ch)
        if used + w > width and line:
            cut = max(line.rfind(" "), line.rfind("、"), line.rfind("。"), line.rfind(")"))
            if cut < len(line) // 2:
                cut = len(line) - 1
            lines.append(line[: cut + 1])
            line = line[cut + 1 :]
            used = _display_width(line)
        line += ch
        used += w
    return lines + [line] if line else lines


def build_guide(ctx):
    ws = _sheet(ctx, "sheet_guide")
    row = 0
    for key in L.GUIDE:
        row += 1
        if not key:
            continue
        font = {"title_guide": TITLE_FONT, "guide_formulas": BOLD}.get(key, Font(name=FONT))
        for i, line in enumerate(guide_lines(label(key, ctx.lang))):
            row += i > 0
            ws.cell(row=row, column=1, value=line).font = font
    ws.column_dimensions["A"].width = GUIDE_WIDTH * 1.05
    ws.print_area = f"A1:A{row}"
    return ws


def build_udf_conf(ctx):
    """The sheet xlwings reads its settings from; the user only clicks Import Functions."""
    ws = ctx.wb.create_sheet("xlwings.conf")
    ws.sheet_properties.codeName = "XlwingsConf"
    ws["A1"], ws["B1"] = "UDF Modules", "xlcalc.udfs"
    ws.column_dimensions["A"].width = 16
    ws.column_dimensions["B"].width = 16
    return ws
