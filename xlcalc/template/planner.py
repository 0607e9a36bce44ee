"""The leverage-planner sheet (SPEC §10): how large a position may be, and how far the price may move.

Layout as data first, then :func:`build_planner`. The sheet mirrors
:func:`xlcalc.planning.leverage_plan` (one table row per effective leverage
``e = notional / deposit``, the seed's sense of "leverage") and
:func:`xlcalc.planning.max_quantity` (the largest position whose ratio at entry is the safe
level). Every name it defines starts with ``plan_`` so it never clashes with the Calculator's.
Levels left blank come from the Calculator sheet (its preset or your values there).

Examples
--------
With ¥1,000,000 on a 2x venue, long at ¥10,000,000, the safe level 300 % allows 0.0667 BTC:

>>> from xlcalc.template.planner import SAMPLE
>>> s = SAMPLE["ja"]
>>> round((s["deposit"] - s["fees"]) * s["leverage"] / (s["safe_level"] * s["entry_price"]), 4)
0.0667
"""

from __future__ import annotations

from openpyxl.chart import Reference, ScatterChart, Series
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter as col_letter

from ..constants import DEFAULT_SAFE_LEVEL  # "300 % is often called safe" (a seed of issue 14)
from ..labels import label
from . import layout as L
from . import sheets as S

PREFIX = "plan_"

# Effective leverages of the table (user-editable). Fine steps below 2x for the Japanese 2x cap.
EFFECTIVE_LEVERAGES = [0.25, 0.5, 0.75, 1, 1.25, 1.5, 2, 3, 4, 5, 10, 15, 20, 25, 50, 100]

SAMPLE = {
    "ja": dict(
        deposit=1_000_000,
        side="long",
        entry_price=10_000_000,
        leverage=2,
        fees=0,
        safe_level=DEFAULT_SAFE_LEVEL,
    ),
    "en": dict(
        deposit=10_000, side="long", entry_price=50_000, leverage=10, fees=0, safe_level=DEFAULT_SAFE_LEVEL
    ),
}

GREEN_FILL = PatternFill("solid", fgColor="C6EFCE")


def trigger(level, quantity):
    """core._trigger for the planner's inputs: the price where the ratio is ``level``; "" if none.

    Written in the core's order of operations (mark: k = r/L, c = 0; entry: k = 0,
    c = P0·Q·r/L) so that the spreadsheet and numpy round alike.
    """
    x = (
        f"IF(plan_mark_basis=1,(plan_side_sign*plan_entry_price*{quantity}-(plan_deposit-plan_fees))"
        f"/({quantity}*(plan_side_sign-{level}/plan_leverage)),"
        f"(plan_side_sign*plan_entry_price*{quantity}-(plan_deposit-plan_fees)"
        f"+plan_entry_price*{quantity}*{level}/plan_leverage)/(plan_side_sign*{quantity}))"
    )
    return f'IF(AND(ISNUMBER({quantity}),{quantity}>0,ISNUMBER({level})),IF(IFERROR({x},-1)>0,{x},""),"")'


def bankruptcy(quantity):
    """core.bankruptcy_price: P0 − s·(D − F)/Q; "" when not positive."""
    x = f"plan_entry_price-plan_side_sign*(plan_deposit-plan_fees)/{quantity}"
    return f'IF(AND(ISNUMBER({quantity}),{quantity}>0),IF({x}>0,{x},""),"")'


def move(price_ref):
    """A price's move from entry as a fraction (−0.5 = the price halves)."""
    return f'=IF(ISNUMBER({price_ref}),{price_ref}/plan_entry_price-1,"")'


# Inputs: (key, kind, check, note). The defined name is PREFIX + key.
INPUTS = [
    ("deposit", "money", "positive", "plan_note_deposit"),
    ("side", "text", "side", "note_side"),
    ("entry_price", "price", "positive", None),
    ("leverage", "lev", "positive", "arg:leverage"),
    ("fees", "money", "nonnegative", "arg:fees"),
    ("safe_level", "pct", "positive", "plan_note_safe_level"),
]
# Levels: "Your value" (input, blank) | "Calculator" (that sheet's used value) | "Used".
LEVELS = [
    ("basis", "text", "=basis"),
    ("margin_call_level", "pct", '=IF(ISNUMBER(margin_call_level),margin_call_level,"")'),
    ("loss_cut_level", "pct", '=IF(ISNUMBER(loss_cut_level),loss_cut_level,"")'),
]
_USED_BASIS = '=IF(plan_basis_override<>"",plan_basis_override,plan_basis_calculator)'
_USED_LEVEL = '=IF(plan_{k}_override="",plan_{k}_calculator,IF(OR({none_words}),"",plan_{k}_override))'

CHECKS = [
    ("plan_side_sign=0", "side", "check_choice"),
    ("plan_mark_basis=-1", "basis", "check_choice"),
    (f"NOT({L.positive('plan_deposit')})", "deposit", "check_positive"),
    (f"NOT({L.positive('plan_entry_price')})", "entry_price", "check_positive"),
    (f"NOT({L.positive('plan_leverage')})", "plan_leverage", "check_positive"),
    ("NOT(OR(ISBLANK(plan_fees),AND(ISNUMBER(plan_fees),plan_fees>=0)))", "fees", "check_nonnegative"),
    (
        f"NOT(OR(ISBLANK(plan_safe_level),{L.positive('plan_safe_level')}))",
        "plan_safe_level",
        "check_positive",
    ),
    (
        f'NOT(OR(plan_margin_call_level="",{L.positive("plan_margin_call_level")}))',
        "margin_call_level",
        "check_level",
    ),
    (f'NOT(OR(plan_loss_cut_level="",{L.positive("plan_loss_cut_level")}))', "loss_cut_level", "check_level"),
]

_MAX_OK = "AND(plan_inputs_ok,ISNUMBER(plan_safe_level))"
# The answer at a glance: the largest position at the safe level and how far the price may move.
# (key, kind, formula, has a move column). core.max_quantity: max(D − F, 0)·L / (level·P0), 0 when
# the fees eat the deposit (then the prices are empty).
ANSWER = [
    (
        "max_quantity",
        "qty",
        f'=IF({_MAX_OK},MAX(plan_deposit-plan_fees,0)*plan_leverage/(plan_safe_level*plan_entry_price),"")',
        False,
    ),
    (
        "max_notional",
        "money",
        '=IF(ISNUMBER(plan_max_quantity),plan_max_quantity*plan_entry_price,"")',
        False,
    ),
    (
        "max_effective_leverage",
        "lev2",
        '=IF(ISNUMBER(plan_max_quantity),plan_max_quantity*plan_entry_price/plan_deposit,"")',
        False,
    ),
    ("max_margin_call_price", "price", "=" + trigger("plan_margin_call_level", "plan_max_quantity"), True),
    ("max_loss_cut_price", "price", "=" + trigger("plan_loss_cut_level", "plan_max_quantity"), True),
    ("max_bankruptcy_price", "price", "=" + bankruptcy("plan_max_quantity"), True),
]

# Beside an empty price of the answer: "never reached" when the level exists (the level's name).
NEVER_REACHED_LEVEL = {
    "max_margin_call_price": "plan_margin_call_level",
    "max_loss_cut_price": "plan_loss_cut_level",
    "max_bankruptcy_price": None,
}

# The table: one row per effective leverage; (key, kind, formula). {r} = row; B is the quantity.
# Rows above the venue's leverage are left empty: the venue would not open them.
_ROW_OK = "AND(plan_inputs_ok,ISNUMBER(A{r}),A{r}>0,A{r}<=plan_leverage)"
TABLE = [
    ("effective_leverage", "lev", None),
    ("quantity", "qty", f'=IF({_ROW_OK},plan_deposit*A{{r}}/plan_entry_price,"")'),  # D·e/P0
    (
        "ratio",
        "pct",  # core.maintenance_ratio at the entry price
        '=IF(ISNUMBER(B{r}),(plan_deposit-plan_fees)/(plan_entry_price*B{r}/plan_leverage),"")',
    ),
    ("margin_call_price", "price", "=" + trigger("plan_margin_call_level", "B{r}")),
    ("margin_call_move", "pct", move("D{r}")),
    ("loss_cut_price", "price", "=" + trigger("plan_loss_cut_level", "B{r}")),
    ("loss_cut_move", "pct", move("F{r}")),
    ("bankruptcy_price", "price", "=" + bankruptcy("B{r}")),
    ("bankruptcy_move", "pct", move("H{r}")),
    ("safe_price", "price", "=" + trigger("plan_safe_level", "B{r}")),
    ("safe_move", "pct", move("J{r}")),
    (
        "row_note",
        "text",
        "=IF(AND(ISNUMBER(A{r}),ISNUMBER(plan_leverage)),IF(A{r}>plan_leverage,{over_max},"
        'IF(AND(ISNUMBER(C{r}),ISNUMBER(plan_safe_level)),IF(C{r}>=plan_safe_level,{safe},""),"")),"")',
    ),
]
# Chart data beside the table: the rows in use (x) and their moves, #N/A where a cell is empty. A
# scatter chart skips #N/A points in LibreOffice too (a line chart there draws them at 0).
CHART_SERIES = [
    ("margin_call_move", "E"),
    ("loss_cut_move", "G"),
    ("bankruptcy_move", "I"),
    ("safe_move", "K"),
]
CHART_COLORS = ("FFC000", "C00000", "000000", "70AD47")


def _words(ctx):
    w = dict(ctx.words)
    w["long_words"], w["short_words"] = L._any_side("plan_side", "long"), L._any_side("plan_side", "short")
    w["mark_words"], w["entry_words"] = L._any_of("plan_basis", "mark"), L._any_of("plan_basis", "entry")
    w["over_max"] = L.quote(label("plan_over_max", ctx.lang))
    w["safe"] = L.quote(label("plan_in_safe_zone", ctx.lang))
    for key, _, check, _ in INPUTS + [("basis", None, "basis", None)]:
        rule = {"side": "check_choice", "basis": "check_choice", "nonnegative": "check_nonnegative"}.get(
            check, "check_positive"
        )
        w[f"c_plan_{key}"] = L.quote(label(rule, ctx.lang).format(name=label(_label_key(key), ctx.lang)))
    return w


def _label_key(key):
    """Inputs the Calculator also has keep its words; the planner's own get plan_ words."""
    return f"plan_{key}" if key in ("leverage", "safe_level") else key


def _check_formula(ctx):
    out = '""'
    for cond, key, rule in reversed(CHECKS):
        msg = L.quote(label(rule, ctx.lang).format(name=label(key, ctx.lang)))
        out = f"IF({cond},{msg},{out})"
    return out


CHART_DATA_FONT = Font(name=S.FONT, color="808080")  # the chart's own columns, in grey


def build_planner(ctx):
    """The Planner sheet: inputs, the answer at the safe level, the table by leverage, a chart."""
    lang = ctx.lang
    ws = S._sheet(ctx, "sheet_planner")
    S._title(ws, ctx, "title_planner", "plan_note")
    w = _words(ctx)
    ctx.words.update({k: v for k, v in w.items() if k.startswith("c_plan_")})  # for S._validation
    sample = SAMPLE[lang]
    row = 4
    S._section_header(ws, row, lang, "section_inputs")
    for key, kind, check, note in INPUTS:
        row += 1
        ws.cell(row=row, column=1, value=label(_label_key(key), lang))
        b = ws.cell(row=row, column=2)
        value = label(sample[key], lang) if key == "side" else sample[key]
        S._input(b, kind, ctx, value)
        ctx.name(ws, PREFIX + key, b.coordinate)
        S._validation(ws, ctx, check, b.coordinate, PREFIX + key)
        if note:
            _note(ws, row, S.note_text(note, lang))
    row += 2
    S._header(
        ws,
        row,
        [
            label("section_levels", lang),
            label("col_override", lang),
            label("plan_col_calculator", lang),
            label("col_used", lang),
            label("col_note", lang),
        ],
    )
    for key, kind, calc in LEVELS:
        row += 1
        ws.cell(row=row, column=1, value=label(key, lang))
        b = ws.cell(row=row, column=2)
        S._input(b, kind, ctx)
        ctx.name(ws, f"{PREFIX}{key}_override", b.coordinate)
        if key == "basis":
            S._validation(ws, ctx, "basis", b.coordinate, "plan_basis")
        c = ws.cell(row=row, column=3, value=calc)
        ctx.name(ws, f"{PREFIX}{key}_calculator", c.coordinate)
        used = (
            _USED_BASIS
            if key == "basis"
            else _USED_LEVEL.format(k=key, none_words=L.none_words(f"plan_{key}_override"))
        )
        d = ws.cell(row=row, column=4, value=used)
        d.font = S.BOLD
        ctx.name(ws, PREFIX + key, d.coordinate)
        for cell in (b, c, d):
            cell.number_format = ctx.fmt(kind)
        _note(ws, row, label("plan_note_levels", lang))
    row += 2
    S._header(
        ws,
        row,
        [label("plan_section_answer", lang), label("col_value", lang), label("plan_move", lang), None, None],
    )
    for key, kind, formula, has_move in ANSWER:
        row += 1
        ws.cell(row=row, column=1, value=label(f"plan_{key}", lang))
        b = ws.cell(row=row, column=2, value=formula)
        b.number_format = "0.00" if kind == "lev2" else ctx.fmt(kind)
        ctx.name(ws, PREFIX + key, b.coordinate)
        if has_move:
            c = ws.cell(row=row, column=3, value=move(b.coordinate))
            c.number_format = ctx.fmt("pct")
            ctx.name(ws, PREFIX + key.replace("_price", "_move"), c.coordinate)
            level = NEVER_REACHED_LEVEL[key]
            has_level = f"ISNUMBER({level})," if level else ""
            d = ws.cell(
                row=row,
                column=4,
                value=(
                    f"=IF(AND(plan_inputs_ok,ISNUMBER(plan_max_quantity),{has_level}"
                    f'NOT(ISNUMBER({b.coordinate}))),{L.quote(label("not_reachable", lang))},"")'
                ),
            )
            d.font = S.NOTE_FONT
        else:
            b.font = S.BOLD
    row += 1
    ws.cell(row=row, column=1, value=label("input_check", lang))
    chk = ws.cell(row=row, column=2, value="=" + _check_formula(ctx))
    ctx.name(ws, PREFIX + "input_check", chk.coordinate)
    ws.conditional_formatting.add(
        chk.coordinate, FormulaRule(formula=[f"LEN({chk.coordinate})>0"], fill=S.RED_FILL)
    )
    for key, formula in (
        ("side_sign", L._SIDE.format(**w)),
        ("mark_basis", L._MARK.format(**w)),
        ("inputs_ok", "=" + _check_formula(ctx) + '=""'),
    ):
        row += 1
        ws.cell(row=row, column=1, value=label(key, lang)).font = S.NOTE_FONT
        c = ws.cell(row=row, column=2, value=formula)
        c.font = S.NOTE_FONT
        ctx.name(ws, PREFIX + key, c.coordinate)

    row += 2
    head = row
    first, last = head + 1, head + len(EFFECTIVE_LEVERAGES)
    ws.cell(row=head - 1, column=1, value=label("plan_table_note", lang)).font = S.NOTE_FONT
    S._header(ws, head, [label(f"plan_{k}", lang) for k, _, _ in TABLE])
    for c in ws[head]:
        c.alignment = S.HEAD_ALIGN
    ws.row_dimensions[head].height = 30
    x_col = len(TABLE) + 2  # one empty column between the table and the chart data
    chart_col = x_col + 1
    chart_keys = ["effective_leverage"] + [k for k, _ in CHART_SERIES]
    S._header(ws, head, [label(f"plan_{k}", lang) for k in chart_keys], first_col=x_col)
    for i, e in enumerate(EFFECTIVE_LEVERAGES):
        r = first + i
        for j, (_key, kind, formula) in enumerate(TABLE, start=1):
            cell = ws.cell(row=r, column=j)
            if formula is None:
                S._input(cell, kind, ctx, e)
            else:
                cell.value = formula.format(r=r, over_max=w["over_max"], safe=w["safe"])
                S._wear(cell, number_format=ctx.fmt(kind))
        for j, col in enumerate(["A"] + [c for _, c in CHART_SERIES]):
            source = f"{col}{r}" if j else f"B{r}"  # x: the effective leverage of a row in use
            cell = ws.cell(row=r, column=x_col + j, value=f"=IF(ISNUMBER({source}),{col}{r},NA())")
            S._wear(cell, number_format=ctx.fmt("pct") if j else "General", font=CHART_DATA_FONT)
    for j, (key, _kind, _) in enumerate(TABLE, start=1):
        ctx.name_range(ws, PREFIX + key, col_letter(j), first, last)
    ctx.words["c_plan_effective_leverage"] = L.quote(
        label("check_positive", lang).format(name=label("plan_effective_leverage", lang))
    )
    S._validation(ws, ctx, "positive", f"A{first}:A{last}", "plan_effective_leverage")
    c0, c1 = col_letter(x_col), col_letter(chart_col + len(CHART_SERIES) - 1)
    ws.conditional_formatting.add(
        f"{c0}{first}:{c1}{last}", FormulaRule(formula=[f"ISNA({c0}{first})"], font=Font(color="FFFFFF"))
    )
    # Ratio at entry: red below loss-cut, amber below margin call, green at or above safe.
    S._level_rules(ws, f"C{first}:C{last}", f"$C{first}", "plan_margin_call_level", "plan_loss_cut_level")
    ws.conditional_formatting.add(
        f"A{first}:C{last}",
        FormulaRule(
            formula=[f"AND(ISNUMBER($C{first}),ISNUMBER(plan_safe_level),$C{first}>=plan_safe_level)"],
            fill=GREEN_FILL,
        ),
    )
    ws.conditional_formatting.add(
        f"B{first}:L{last}",
        FormulaRule(
            formula=[f"AND(ISNUMBER($A{first}),ISNUMBER(plan_leverage),$A{first}>plan_leverage)"],
            font=Font(color="808080", italic=True),
        ),
    )

    chart = ScatterChart(scatterStyle="lineMarker")
    chart.title = label("plan_chart_title", lang)
    chart.y_axis.title = label("plan_move", lang)
    chart.x_axis.title = label("plan_effective_leverage", lang)
    chart.y_axis.number_format = "0%"
    chart.x_axis.number_format = 'General"x"'  # "0.##" shows 2. with a point
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.x_axis.tickLblPos = "low"  # leverage labels under the plot, not on the 0 % line
    xs = Reference(ws, min_col=x_col, min_row=first, max_row=last)
    for j, ((_key, _), color) in enumerate(zip(CHART_SERIES, CHART_COLORS)):
        ys = Reference(ws, min_col=chart_col + j, min_row=head, max_row=last)
        series = Series(ys, xs, title_from_data=True)
        series.graphicalProperties.line.solidFill = color
        series.graphicalProperties.line.width = 28575  # 2.25 pt
        series.marker.symbol = "circle"
        series.marker.size = 5
        series.marker.graphicalProperties = None
        series.smooth = False
        chart.series.append(series)
    chart.series[-1].graphicalProperties.line.dashStyle = "dash"
    chart.height, chart.width = 10, 30
    chart_row = last + 2
    ws.add_chart(chart, f"A{chart_row}")

    for col, width in zip("ABCDEFGHIJKL", (40, 17, 16, 16, 13, 16, 13, 16, 13, 16, 13, 22)):
        ws.column_dimensions[col].width = width
    for j in range(len(CHART_SERIES) + 1):
        ws.column_dimensions[col_letter(x_col + j)].width = 12
    ws.freeze_panes = "B4"
    ws.print_area = f"A1:L{chart_row + 20}"  # the chart's data columns stay off the page
    ws.page_setup.orientation = "landscape"
    S.money_and_pct_formats(ws, ctx, "currency_used")  # the Calculator's preset
    return ws


def _note(ws, row, text):
    c = ws.cell(row=row, column=5, value=text)
    S._wear(c, font=S.NOTE_FONT, alignment=S.NOTE_ALIGN)
