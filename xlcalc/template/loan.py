"""The crypto-loan sheet (SPEC §10): a loan backed by crypto collateral, in LTV terms.

LTV = debt ÷ collateral value, debt = loan + interest. Layout as data first, then
:func:`build_loan`. Each formula mirrors the :mod:`xlcalc.loans` function named beside it.
Every name it defines starts with ``loan_``. A loan-venue preset fills the levels; a level the
venue does not publish stays blank (its prices and amounts are empty cells too).

Examples
--------
SPEC §10: a loan of 10,000 USDT on 1 BTC at 20,000 is an LTV of 50 %; the LTV reaches 80 % at
12,500:

>>> s = SAMPLE["en"]
>>> s["amount"] / (s["collateral_quantity"] * s["collateral_price"])
0.5
>>> s["amount"] / (s["collateral_quantity"] * 0.8)
12500.0
"""

from __future__ import annotations

import math

from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from ..labels import label
from ..presets import LOAN_PRESET_COLUMNS, loan_presets
from . import layout as L
from . import sheets as S

PREFIX = "loan_"
DAYS_PER_YEAR = 365

# Both samples: 30 days, no interest owed yet, no rate of your own (the preset's applies).
_SAMPLE_TERMS = dict(interest=0, interest_rate=None, days=30)
SAMPLE = {
    "ja": dict(
        _SAMPLE_TERMS,
        amount=1_000_000,
        collateral_quantity=0.2,
        collateral_price=10_000_000,
        gap_price=5_000_000,
    ),
    "en": dict(_SAMPLE_TERMS, amount=10_000, collateral_quantity=1, collateral_price=20_000, gap_price=9_000),
}
# Levels with no preset chosen: the SPEC §10 example (target 65 %, margin call 80 %), a
# liquidation at 90 % and a 2 % liquidation fee. An example, not a venue's rule.
DEFAULTS = dict(
    target_ltv=0.65, margin_call_ltv=0.8, liquidation_ltv=0.9, liquidation_fee=0.02, interest_rate=None
)


def _blank_or(name, cond):
    return f"OR(ISBLANK({name}),AND(ISNUMBER({name}),{cond}))"


# Inputs: (key, kind, check, note). The defined name is PREFIX + key.
INPUTS = [
    ("amount", "money", "nonnegative", "arg:loan"),
    ("collateral_quantity", "qty", "positive", None),
    ("collateral_price", "price", "positive", None),
    ("interest", "money", "nonnegative", "arg:interest"),
    ("days", "general", "nonnegative", "loan_note_days"),
    ("preset", "text", "loan_preset", "loan_note_preset"),
]
# Levels: "Your value" | "Preset" (from the preset table below) | "Used". (key, kind, preset column)
LEVELS = [
    ("interest_rate", "pct", "annual_interest_rate"),
    ("target_ltv", "pct", "initial_ltv"),
    ("margin_call_ltv", "pct", "margin_call_ltv"),
    ("liquidation_ltv", "pct", "liquidation_ltv"),
    ("liquidation_fee", "pct", "liquidation_fee"),
]
WHAT_IF = [("gap_price", "price", "positive", "arg:loan_shortfall.fill_price")]

_PRESET = (
    '=IF(loan_preset_row<=0,IF(loan_preset_row=0,{default},""),'
    'IF(ISNUMBER(INDEX({rng},loan_preset_row)),INDEX({rng},loan_preset_row),""))'
)
_USED = '=IF(loan_{k}_override="",loan_{k}_preset,IF(OR({none_words}),"",loan_{k}_override))'

CHECKS = [
    ("NOT(AND(ISNUMBER(loan_amount),loan_amount>=0))", "loan_amount", "check_nonnegative"),
    (f"NOT({L.positive('loan_collateral_quantity')})", "loan_collateral_quantity", "check_positive"),
    (f"NOT({L.positive('loan_collateral_price')})", "loan_collateral_price", "check_positive"),
    (f"NOT({_blank_or('loan_interest', 'loan_interest>=0')})", "loan_interest", "check_nonnegative"),
    (f"NOT({_blank_or('loan_days', 'loan_days>=0')})", "loan_days", "check_nonnegative"),
    ("loan_preset_row=-1", "loan_preset", "loan_check_preset"),
    (
        'NOT(OR(loan_interest_rate="",AND(ISNUMBER(loan_interest_rate),loan_interest_rate>=0)))',
        "loan_interest_rate",
        "check_nonnegative",
    ),
    (f'NOT(OR(loan_target_ltv="",{L.positive("loan_target_ltv")}))', "loan_target_ltv", "check_level"),
    (
        f'NOT(OR(loan_margin_call_ltv="",{L.positive("loan_margin_call_ltv")}))',
        "loan_margin_call_ltv",
        "check_level",
    ),
    (
        f'NOT(OR(loan_liquidation_ltv="",{L.positive("loan_liquidation_ltv")}))',
        "loan_liquidation_ltv",
        "check_level",
    ),
    (
        'NOT(OR(loan_liquidation_fee="",AND(ISNUMBER(loan_liquidation_fee),loan_liquidation_fee>=0,'
        "loan_liquidation_fee<1)))",
        "loan_liquidation_fee",
        "loan_check_fee",
    ),
]

_OK = 'IF(loan_inputs_ok,{},"")'
_DEBT = "(loan_amount+loan_interest_total)"


def ltv_price(level):
    """loans.ltv_price: the collateral price where the LTV is ``level``; "" for a blank level."""
    x = f"{_DEBT}/(loan_collateral_quantity*{level})"
    return f'=IF(AND(loan_inputs_ok,ISNUMBER({level})),IF({x}>0,{x},""),"")'


# Outputs: (key, kind, formula, distance columns beside it).
OUTPUTS = [
    ("input_check", "text", None, False),
    # loans.loan_interest: simple interest on the loan over the days (rate per year)
    (
        "interest_over_days",
        "money",
        "=IF(loan_inputs_ok,IF(AND(ISNUMBER(loan_interest_rate),ISNUMBER(loan_days)),"
        f'loan_amount*loan_interest_rate*loan_days/{DAYS_PER_YEAR},0),"")',
        False,
    ),
    ("interest_total", "money", "=" + _OK.format("loan_interest+loan_interest_over_days"), False),
    ("debt", "money", "=" + _OK.format(_DEBT), False),
    ("collateral_value", "money", "=" + _OK.format("loan_collateral_quantity*loan_collateral_price"), False),
    (
        "ltv_now",
        "pct",
        "=" + _OK.format(f"{_DEBT}/(loan_collateral_quantity*loan_collateral_price)"),
        False,
    ),  # loans.loan_ltv
    (
        "status",
        "text",
        "=IF(loan_inputs_ok,IF(AND(ISNUMBER(loan_liquidation_ltv),loan_ltv_now>=loan_liquidation_ltv),"
        "{w_liquidation},IF(AND(ISNUMBER(loan_margin_call_ltv),loan_ltv_now>=loan_margin_call_ltv),"
        "{w_margin_call},{w_ok})),loan_input_check)",
        False,
    ),
    ("margin_call_price", "price", ltv_price("loan_margin_call_ltv"), True),
    ("liquidation_price", "price", ltv_price("loan_liquidation_ltv"), True),
    ("target_price", "price", ltv_price("loan_target_ltv"), True),
    # loans.collateral_to_add: Q' with debt / (Q'·P) = target, never negative
    (
        "collateral_to_add",
        "qty",
        "=IF(AND(loan_inputs_ok,ISNUMBER(loan_target_ltv)),"
        f'MAX(0,{_DEBT}/(loan_target_ltv*loan_collateral_price)-loan_collateral_quantity),"")',
        False,
    ),
    # loans.repay_to_target: debt − target·Q·P, never negative
    (
        "repay_to_target",
        "money",
        "=IF(AND(loan_inputs_ok,ISNUMBER(loan_target_ltv)),"
        f'MAX(0,{_DEBT}-loan_target_ltv*loan_collateral_quantity*loan_collateral_price),"")',
        False,
    ),
    # loans.loan_shortfall: max(0, loan + interest − Q·Pf·(1 − fee))
    (
        "shortfall",
        "money",
        "=IF(AND(loan_inputs_ok,ISNUMBER(loan_gap_price),loan_gap_price>0),"
        f"MAX(0,{_DEBT}-loan_collateral_quantity*loan_gap_price*(1-IF(ISNUMBER(loan_liquidation_fee),"
        'loan_liquidation_fee,0))),"")',
        False,
    ),
]

# Loan-venue presets: the columns of loans.loan_presets(); the levels' columns get names
# loan_preset_<column> (the ids: loan_preset_ids) for the levels' INDEX/MATCH.
PRESET_PCT = {"initial_ltv", "margin_call_ltv", "liquidation_ltv", "annual_interest_rate", "liquidation_fee"}
PRESET_LABELS = {
    "id": "preset_id",
    "name": "name",
    "product": "product",
    "collateral": "loan_collateral",
    "loan_currency": "loan_currency",
    "initial_ltv": "loan_initial_ltv",
    "margin_call_ltv": "loan_margin_call_ltv",
    "liquidation_ltv": "loan_liquidation_ltv",
    "annual_interest_rate": "loan_interest_rate",
    "liquidation_fee": "loan_liquidation_fee",
    "source_url": "source_url",
    "as_of": "as_of",
    "notes": "notes",
}
PRESET_SPARE_ROWS = 10


# The preset's loan currency, its first word ("USDT (or USDC)" is USDT), as xlcalc loan shows money
_CURRENCY_TEXT = 'TRIM(INDEX(loan_preset_loan_currency,loan_preset_row)&"")'
_CURRENCY = f'=IF(loan_preset_row<=0,"",UPPER(LEFT({_CURRENCY_TEXT},FIND(" ",{_CURRENCY_TEXT}&" ")-1)))'


def _check_formula(lang):
    out = '""'
    for cond, key, rule in reversed(CHECKS):
        msg = L.quote(label(rule, lang).format(name=label(key, lang)))
        out = f"IF({cond},{msg},{out})"
    return out


def _words(ctx):
    w = dict(ctx.words)
    w["w_liquidation"] = L.quote(label("loan_status_liquidation", ctx.lang))
    rules = {
        "positive": "check_positive",
        "nonnegative": "check_nonnegative",
        "loan_preset": "loan_check_preset",
    }
    for key, _, check, _ in INPUTS + WHAT_IF:
        text = label(rules[check], ctx.lang).format(name=label(f"loan_{key}", ctx.lang))
        w[f"c_loan_{key}"] = L.quote(text)
    return w


def _presets():
    """The loan-venue presets, NaN (no published figure) as an empty cell."""
    return [
        {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
        for row in loan_presets()
    ]


def build_loan(ctx, presets=None):
    """The Loan sheet: inputs, levels (preset or your value), LTV, prices, remedies, presets."""
    lang = ctx.lang
    presets = _presets() if presets is None else presets
    ws = S._sheet(ctx, "sheet_loan")
    S._title(ws, ctx, "title_loan", "loan_note")
    w = _words(ctx)
    ctx.words.update({k: v for k, v in w.items() if k.startswith("c_loan_")})
    sample = SAMPLE[lang]
    row = 4
    S._section_header(ws, row, lang, "section_inputs")
    for spec in INPUTS:
        row += 1
        _input_row(ws, ctx, row, spec, sample)
    row = _levels(ws, ctx, row + 2) + 2
    S._section_header(ws, row, lang, "section_what_if")
    for spec in WHAT_IF:
        row += 1
        _input_row(ws, ctx, row, spec, sample)
    row += 2
    S._section_header(ws, row, lang, "section_outputs")
    for key, kind, formula, distance in OUTPUTS:
        row += 1
        ws.cell(row=row, column=1, value=label(f"loan_{key}" if key != "input_check" else key, lang))
        b = ws.cell(
            row=row,
            column=2,
            value=("=" + _check_formula(lang))
            if formula is None
            else formula.format(**w)
            if "{w_" in formula
            else formula,
        )
        b.number_format = ctx.fmt(kind)
        ctx.name(ws, PREFIX + key, b.coordinate)
        if key in ("ltv_now", "status"):
            b.font = S.BOLD
        if distance:
            ref = b.coordinate
            c = ws.cell(row=row, column=3, value=f'=IF(ISNUMBER({ref}),{ref}-loan_collateral_price,"")')
            d = ws.cell(row=row, column=4, value=f'=IF(ISNUMBER({ref}),{ref}/loan_collateral_price-1,"")')
            c.number_format, d.number_format = ctx.fmt("price"), ctx.fmt("pct")
            pre = key.replace("_price", "")
            ctx.name(ws, f"{PREFIX}{pre}_distance", c.coordinate)
            ctx.name(ws, f"{PREFIX}{pre}_distance_pct", d.coordinate)
    chk = ctx.names["loan_input_check"][1]
    ws.conditional_formatting.add(chk, FormulaRule(formula=[f"LEN({chk})>0"], fill=S.RED_FILL))
    ltv, status = ctx.names["loan_ltv_now"][1], ctx.names["loan_status"][1]
    ref = f"${ltv[0]}${ltv[1:]}"
    for level, fill in (("loan_liquidation_ltv", S.RED_FILL), ("loan_margin_call_ltv", S.AMBER_FILL)):
        ws.conditional_formatting.add(
            f"{ltv}:{status}",
            FormulaRule(
                formula=[f"AND(ISNUMBER({ref}),ISNUMBER({level}),{ref}>={level})"], fill=fill, stopIfTrue=True
            ),
        )
    row += 2
    ws.cell(row=row, column=1, value=label("preset_row", lang)).font = S.NOTE_FONT
    c = ws.cell(
        row=row, column=2, value='=IF(loan_preset="",0,IFERROR(MATCH(loan_preset,loan_preset_ids,0),-1))'
    )
    c.font = S.NOTE_FONT
    ctx.name(ws, "loan_preset_row", c.coordinate)
    row += 1
    ws.cell(row=row, column=1, value=label("inputs_ok", lang)).font = S.NOTE_FONT
    c = ws.cell(row=row, column=2, value="=" + _check_formula(lang) + '=""')
    c.font = S.NOTE_FONT
    ctx.name(ws, "loan_inputs_ok", c.coordinate)
    row += 1
    ws.cell(row=row, column=1, value=label("loan_currency_used", lang)).font = S.NOTE_FONT
    c = ws.cell(row=row, column=2, value=_CURRENCY)
    c.font = S.NOTE_FONT
    ctx.name(ws, "loan_currency_used", c.coordinate)
    last_out = row

    row += 2
    ws.cell(row=row, column=1, value=label("loan_presets_title", lang)).font = S.BOLD
    head, first = row + 1, row + 2
    S._header(ws, head, [label(PRESET_LABELS.get(c, c), lang) for c in LOAN_PRESET_COLUMNS])
    last = first + len(presets) + PRESET_SPARE_ROWS - 1
    for i in range(len(presets) + PRESET_SPARE_ROWS):
        rec = presets[i] if i < len(presets) else {}
        for j, col in enumerate(LOAN_PRESET_COLUMNS, start=1):
            cell = ws.cell(row=first + i, column=j, value=rec.get(col))
            cell.protection = S.UNLOCKED  # users add and edit their own rows
            if col in PRESET_PCT:
                cell.number_format = "0.0##%"
            elif col == "source_url" and rec.get(col):
                cell.hyperlink = rec[col]
                cell.font = Font(name=S.FONT, color="0563C1", underline="single")
    for j, col in enumerate(LOAN_PRESET_COLUMNS, start=1):
        if col in ("id", "loan_currency") or col in PRESET_PCT:
            ctx.name_range(
                ws,
                "loan_preset_ids" if col == "id" else f"loan_preset_{col}",
                get_column_letter(j),
                first,
                last,
            )
    for col, width in zip("ABCDEFGHIJKLM", (36, 18, 16, 14, 78, 14, 12, 12, 12, 12, 40, 12, 60)):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = "B4"
    ws.print_area = f"A1:E{last_out}"
    ws.page_setup.orientation = "portrait"
    S.money_and_pct_formats(ws, ctx, "loan_currency_used")
    return ws


def _input_row(ws, ctx, row, spec, sample):
    key, kind, check, note = spec
    lang = ctx.lang
    ws.cell(row=row, column=1, value=label(f"loan_{key}", lang))
    b = ws.cell(row=row, column=2)
    S._input(b, kind, ctx, sample.get(key))
    ctx.name(ws, PREFIX + key, b.coordinate)
    if check == "loan_preset":
        dv = DataValidation(type="list", formula1="loan_preset_ids", allow_blank=True)
        dv.showErrorMessage, dv.errorTitle = True, "xlcalc"
        dv.error = label("loan_check_preset", lang).format(name=label("loan_preset", lang))
        ws.add_data_validation(dv)
        dv.add(b.coordinate)
    else:
        S._validation(ws, ctx, check, b.coordinate, PREFIX + key)
    if note:
        _note(ws, row, S.note_text(note, lang))


def _levels(ws, ctx, row):
    """The levels block: your value | preset | used. Returns the last row written."""
    lang = ctx.lang
    S._header(
        ws,
        row,
        [
            label(k, lang)
            for k in ("loan_section_levels", "col_override", "col_preset", "col_used", "col_note")
        ],
    )
    for key, kind, col in LEVELS:
        row += 1
        ws.cell(row=row, column=1, value=label(f"loan_{key}", lang))
        b = ws.cell(row=row, column=2)
        S._input(b, kind, ctx)
        ctx.name(ws, f"{PREFIX}{key}_override", b.coordinate)
        default = DEFAULTS[key]
        c = ws.cell(
            row=row,
            column=3,
            value=_PRESET.format(
                default='""' if default is None else repr(default), rng=f"loan_preset_{col}"
            ),
        )
        ctx.name(ws, f"{PREFIX}{key}_preset", c.coordinate)
        used = _USED.format(k=key, none_words=L.none_words(f"loan_{key}_override"))
        d = ws.cell(row=row, column=4, value=used)
        d.font = S.BOLD
        ctx.name(ws, PREFIX + key, d.coordinate)
        for cell in (b, c, d):
            cell.number_format = ctx.fmt(kind)
        _note(ws, row, label("loan_note_levels", lang))
    return row


def _note(ws, row, text):
    c = ws.cell(row=row, column=5, value=text)
    S._wear(c, font=S.NOTE_FONT, alignment=S.NOTE_ALIGN)
