"""The template workbook as data: which rows each sheet has, their names, formats and formulas.

Formulas refer to inputs and to each other through workbook-level defined names (SPEC §5),
so they do not depend on where a row lands; the builders in :mod:`xlcalc.template.sheets`
only walk these tables and place rows one under another. Formula templates are
``str.format`` strings: ``{long}`` etc. are quoted spreadsheet string literals (dropdown
words of both languages, status words, check messages), filled in by :func:`words`.

Each formula mirrors the core function named beside it, operation for operation, so that
a spreadsheet engine and numpy agree to the last bits; ``udf`` is the same cell written as
a call of the ``XLC_*`` Excel functions (xlcalc.udfs) for the ``--udf`` workbook.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..constants import DEFAULT_LOSS_CUT_LEVEL as DEFAULT_LOSS_CUT
from ..constants import DEFAULT_MARGIN_CALL_LEVEL as DEFAULT_MARGIN_CALL
from ..constants import DEFAULT_SAFE_LEVEL as DEFAULT_SAFE
from ..display import MAX_DECIMALS as MAX_PRICE_DECIMALS
from ..labels import LANGUAGES, label

# DEFAULT_*: the levels used when no exchange preset is chosen (the core's and the CLI's defaults)

# Number formats per kind and language. Money: plain 2 decimals, as xlcalc calc without a
# currency; a preset's currency (¥ without decimals, USDT...) is a conditional format on top
# (sheets._money_formats), never the language. Prices show at least 2 and up to 12 decimals
# (xlcalc.display.MAX_DECIMALS), so that a typed 1.08523, USD/JPY's third decimal and a cheap
# coin's 0.00001237 are never rounded away; percentages 2 decimals, more for a small one
# (sheets._pct_formats); rates show up to 0.001 %.
FORMATS = {
    "money": {"ja": "#,##0.00", "en": "#,##0.00"},
    "price": {"ja": "#,##0.00##########", "en": "#,##0.00##########"},
    "qty": {"ja": "#,##0.0000####", "en": "#,##0.0000####"},
    "pct": {"ja": "0.00%", "en": "0.00%"},
    "rate": {"ja": "0.0##%", "en": "0.0##%"},
    "lev": {"ja": "General", "en": "General"},
    "text": {"ja": "@", "en": "@"},
    "general": {"ja": "General", "en": "General"},
}
PRINTED_KINDS = ("money", "price", "qty", "pct", "rate")


@dataclass(frozen=True)
class Field:
    """One row of the Calculator: its defined name (also its label key) and how to fill it.

    ``formula is None`` makes an input cell (unlocked, highlighted). ``check`` names the
    validation an input gets ("positive", "nonnegative", "risk", "side", "basis",
    "exchange", "level"). ``distance`` adds the distance to ``price`` in price and % beside it.
    """

    key: str
    kind: str
    formula: str | None = None
    udf: str | None = None
    note: str | None = None
    check: str | None = None
    distance: bool = False


@dataclass(frozen=True)
class Column:
    """One column of a row-wise sheet (Scenarios, Positions).

    ``formula``/``udf`` are templates in which ``{c[key]}`` is this row's cell of column
    ``key`` and ``{rng[key]}`` that column's whole absolute range, so that no formula
    knows a column letter: the builder computes them from the column order (issue #9).
    ``formula is None`` makes an input column.
    """

    key: str
    kind: str
    formula: str | None = None
    udf: str | None = None


def column_letters(columns, first=1) -> dict:
    """{key: column letter} for ``columns`` placed left to right from column ``first``."""
    from openpyxl.utils import get_column_letter

    return {col.key: get_column_letter(first + j) for j, col in enumerate(columns)}


def positive(name):
    """Excel: ``name`` holds a number > 0."""
    return f"AND(ISNUMBER({name}),{name}>0)"


def _level_ok(name):
    return f'OR({name}="",{positive(name)})'


def _not_date(name):
    # A date typed into a number cell is a number to the formulas; its cell format says
    # "D1".."D9" in Excel's CELL("format").
    return f'LEFT(CELL("format",{name}),1)="D"'


def _tick(x):
    # core.round_to_tick: a long's price up, a short's down, to a multiple of the tick.
    return f"IF(ISNUMBER(tick_size),IF(side_sign=1,CEILING({x},tick_size),FLOOR({x},tick_size)),{x})"


# core._ON_GRID: float noise must not cost a whole money unit (59,636.9999999999 is 59,637)
ON_GRID = 1e-9


def shown_margin(margin, rounding="margin_rounding", unit="money_unit"):
    """core.round_money: ``margin`` as the venue shows it, floored to a multiple of ``unit``
    when ``rounding`` is "floor" (INT is floor, as numpy's, for a negative amount too)."""
    units = f"({margin})/{unit}"
    return f'IF({rounding}="floor",INT({units}+{ON_GRID:.0E}*MAX(1,ABS({units})))*{unit},{margin})'


def rounding_formula(row):
    """The preset's margin_rounding in use (SPEC §8): "none" without a preset or when blank,
    "floor" or "none" as written (in any case), "" for anything else (an input problem)."""
    word = f'LOWER(INDEX(preset_rounding,{row})&"")'
    return f'=IF({row}<=0,"none",IF({word}="","none",IF(OR({word}="none",{word}="floor"),{word},"")))'


def money_unit_formula(row):
    """The preset's money_unit in use: 1 without a preset or when blank, else the number if > 0,
    else "" (an input problem when the margin is floored)."""
    unit = f"INDEX(preset_money_unit,{row})"
    return f'=IF({row}<=0,1,IF(ISBLANK({unit}),1,IF(AND(ISNUMBER({unit}),N({unit})>0),{unit},"")))'


def currency_formula(row):
    """The preset's account currency (presets.account_currency: trimmed, upper case), "" without
    a preset or one: the code the money cells' conditional formats look for."""
    return f'=IF({row}<=0,"",UPPER(TRIM(INDEX(preset_currency,{row})&"")))'


def rounding_problem(rounding, unit):
    """True when the preset's rounding cannot be used (core.round_money would refuse it)."""
    return f'OR({rounding}="",AND({rounding}="floor",NOT(ISNUMBER({unit}))))'


def _solve(level, fees="fees"):
    # core._trigger with a scalar basis: mark -> k = r/L, c = 0; entry -> k = 0, c = P0*Q*r/L;
    # money is price x quantity x quote_rate_used; written in the core's order of operations.
    return (
        f"IF(mark_basis=1,(side_sign*entry_price*quantity*quote_rate_used-(deposit-{fees}))"
        f"/(quantity*quote_rate_used*(side_sign-{level}/leverage)),"
        f"(side_sign*entry_price*quantity*quote_rate_used-(deposit-{fees})"
        f"+entry_price*quantity*quote_rate_used*{level}/leverage)/(side_sign*quantity*quote_rate_used))"
    )


def _trigger(level, fees="fees"):
    x = _solve(level, fees)
    return f'=IF(AND(inputs_ok,ISNUMBER({level})),IF(IFERROR({x},-1)>0,{_tick(x)},""),"")'


def _status(ratio, mc="margin_call_level", lc="loss_cut_level", safe=None):
    # core.status: strictly below a level; a blank level is ignored; caution below the safe level.
    ok = "{w_ok}" if safe is None else f"IF(AND(ISNUMBER({safe}),{ratio}<{safe}),{{w_caution}},{{w_ok}})"
    return (
        f"IF(AND(ISNUMBER({lc}),{ratio}<{lc}),{{w_loss_cut}},"
        f"IF(AND(ISNUMBER({mc}),{ratio}<{mc}),{{w_margin_call}},{ok}))"
    )


def _first(checks, otherwise='""'):
    """Nested IF returning the message of the first failing check."""
    out = otherwise
    for cond, msg in reversed(checks):
        out = f"IF({cond},{msg},{out})"
    return out


def _number_checks(key, rule, ref=None):
    """A date check on ``ref`` (default: the name ``key``), then ``rule`` (true when wrong)."""
    return [(_not_date(ref or key), f"{{d_{key}}}"), (rule, f"{{c_{key}}}")]


# Main inputs: any problem here blanks every result and shows the message.
MAIN_CHECKS = [
    ("side_sign=0", "{c_side}"),
    ("mark_basis=-1", "{c_basis}"),
    *_number_checks("entry_price", f"NOT({positive('entry_price')})"),
    *_number_checks("quantity", f"NOT({positive('quantity')})"),
    *_number_checks("leverage", f"NOT({positive('leverage')})"),
    *_number_checks("deposit", "NOT(AND(ISNUMBER(deposit),deposit>=0))"),
    *_number_checks("fees", "NOT(OR(ISBLANK(fees),AND(ISNUMBER(fees),fees>=0)))"),
    *_number_checks("price", f"NOT({positive('price')})"),
    ("NOT(OR(ISBLANK(tick_size),AND(ISNUMBER(tick_size),tick_size>0)))", "{c_tick_size}"),
    ("NOT(OR(ISBLANK(quote_rate),AND(ISNUMBER(quote_rate),quote_rate>0)))", "{c_quote_rate}"),
    ("preset_row=-1", "{c_exchange}"),
    (rounding_problem("margin_rounding", "money_unit"), "{c_margin_rounding}"),
    (f"NOT({_level_ok('margin_call_level')})", "{c_margin_call_level}"),
    (f"NOT({_level_ok('loss_cut_level')})", "{c_loss_cut_level}"),
    (f"NOT({_level_ok('safe_level')})", "{c_safe_level}"),
    ('NOT(OR(daily_fee_rate="",AND(ISNUMBER(daily_fee_rate),daily_fee_rate>=0)))', "{c_daily_fee_rate}"),
]
# What-if inputs: a problem blanks only the result that uses the input.
EXTRA_CHECKS = [
    *_number_checks("gap_price", f"NOT(OR(ISBLANK(gap_price),{positive('gap_price')}))"),
    *_number_checks("stop_price", f"NOT(OR(ISBLANK(stop_price),{positive('stop_price')}))"),
    ("NOT(OR(ISBLANK(risk),AND(ISNUMBER(risk),risk>0,risk<=1)))", "{c_risk}"),
    ("AND(ISNUMBER(stop_price),ISNUMBER(entry_price),stop_price=entry_price)", "{c_stop_entry}"),
    ("NOT(OR(ISBLANK(holding_days),AND(ISNUMBER(holding_days),holding_days>=0)))", "{c_holding_days}"),
]

_SIDE = "=IF(OR({long_words}),1,IF(OR({short_words}),-1,0))"
_MARK = "=IF(OR({mark_words}),1,IF(OR({entry_words}),0,-1))"

INPUTS = [
    Field("side", "text", note="note_side", check="side"),
    Field("entry_price", "price", check="positive"),
    Field("quantity", "qty", check="positive"),
    Field("leverage", "lev", check="positive"),
    Field("deposit", "money", check="nonnegative"),
    Field("fees", "money", note="arg:fees", check="nonnegative"),
    Field("price", "price", check="positive"),
    Field("tick_size", "price", note="arg:tick_size", check="positive"),
    Field("price_decimals", "general", note="note_price_decimals_shown", check="decimals"),
    Field("quote_rate", "price", note="note_quote_rate", check="positive"),
    Field("exchange", "text", note="note_exchange", check="exchange"),
]

# Levels: "Your value" (input) | "Preset" (from the Exchanges sheet) | "Used" (the name).
_NO_PRESET = 'IF(preset_row<=0,IF(preset_row=0,{default},""),'
PRESET_FORMULAS = {
    "basis": (
        '=IF(preset_row<=0,{w_entry},IF(OR(INDEX(preset_model,preset_row)="mmr",'
        'INDEX(preset_basis,preset_row)="mark"),{w_mark},{w_entry}))'
    ),
    "margin_call_level": (
        _NO_PRESET.format(default=repr(DEFAULT_MARGIN_CALL)) + 'IF(INDEX(preset_model,preset_row)="mmr","",'
        'IF(ISNUMBER(INDEX(preset_mc,preset_row)),INDEX(preset_mc,preset_row),"")))'
    ),
    # mmr presets: liquidation at P*Q*mmr on mark basis is a ratio of mmr x leverage.
    "loss_cut_level": (
        _NO_PRESET.format(default=repr(DEFAULT_LOSS_CUT))
        + 'IF(INDEX(preset_model,preset_row)="mmr",IFERROR(INDEX(preset_mmr,preset_row)*leverage,""),'
        'IF(ISNUMBER(INDEX(preset_lc,preset_row)),INDEX(preset_lc,preset_row),"")))'
    ),
    "safe_level": "=" + repr(DEFAULT_SAFE),
    "daily_fee_rate": (
        '=IF(preset_row<=0,"",IF(ISNUMBER(INDEX(preset_fee,preset_row)),INDEX(preset_fee,preset_row),""))'
    ),
}
PRESET_FORMULAS = {k: (v if v.startswith("=") else "=" + v) for k, v in PRESET_FORMULAS.items()}
_USED_LEVEL = '=IF({k}_override="",{k}_preset,IF(OR({none_words_k}),"",{k}_override))'
LEVELS = [
    Field("basis", "text", formula='=IF({k}_override<>"",{k}_override,{k}_preset)', check="basis"),
    Field("margin_call_level", "rate", formula=_USED_LEVEL, note="note_levels", check="level"),
    Field("loss_cut_level", "rate", formula=_USED_LEVEL, note="note_levels", check="level"),
    Field("safe_level", "rate", formula=_USED_LEVEL, note="note_safe_level", check="level"),
    Field("daily_fee_rate", "rate", formula=_USED_LEVEL, note="arg:daily_rate", check="level"),
]

# Optional what-if inputs ship empty: their results stay empty until the user asks.
WHAT_IF = [
    Field("gap_price", "price", check="positive"),
    Field("stop_price", "price", check="positive"),
    Field("risk", "rate", note="arg:risk", check="risk"),
    Field("holding_days", "general", note="note_holding_days", check="nonnegative"),
]

_OK = 'IF(inputs_ok,{},"")'
_MARGIN = "IF(mark_basis=1,price,entry_price)"
_RESTORE = "AND(inputs_ok,ISNUMBER(target_level))"
_SIZE_OK = (
    "AND(inputs_ok,ISNUMBER(stop_price),stop_price>0,ISNUMBER(risk),risk>0,risk<=1,"
    "deposit>0,stop_price<>entry_price)"
)
# The XLC_* functions take money in the quote currency: deposit and fees divided by the quote
# rate give the same ratio and prices (SPEC §8), money results are multiplied back.
_D, _F = "deposit/quote_rate_used", "fees/quote_rate_used"
_ARGS = f"{_D},side,entry_price,{{p}},quantity,leverage"
# XLC_STATUS reads an empty level as its default; the word none means "no such level".
_UDF_LEVELS = (
    "IF(ISNUMBER(margin_call_level),margin_call_level,{w_none}),"
    "IF(ISNUMBER(loss_cut_level),loss_cut_level,{w_none})"
)
# XLC_STATUS(ratio, margin_call_level, loss_cut_level, safe_level, lang): "caution" comes from the core
_UDF_STATUS = "XLC_STATUS(ratio," + _UDF_LEVELS + ',IF(ISNUMBER(safe_level),safe_level,""),{lang})'


def _udf_trigger(fn, level, fees=_F):
    call = f"{fn}({_D},side,entry_price,quantity,leverage,{level},basis,{fees})"
    return f'=IF(AND(inputs_ok,ISNUMBER({level})),IF(ISNUMBER({call}),{_tick(call)},""),"")'


def _trigger_field(key, level, udf_function):
    """The price where the ratio reaches ``level`` (core.trigger_price), with its distance."""
    return Field(key, "price", formula=_trigger(level), distance=True, udf=_udf_trigger(udf_function, level))


_FEES_LATER = "fees_after_days"
OUTPUTS = [
    Field(
        "input_check",
        "text",
        formula="=IF(inputs_ok," + _first(EXTRA_CHECKS) + "," + _first(MAIN_CHECKS) + ")",
    ),
    Field("notional", "money", formula="=" + _OK.format("price*quantity*quote_rate_used")),
    # core.required_margin on the basis price, as the preset rounds it (SPEC §8, xlcalc calc's
    # figure); the ratio and every figure below use required_margin_exact, as the core does.
    Field(
        "required_margin",
        "money",
        formula="=" + _OK.format(shown_margin("required_margin_exact")),
        udf="="
        + _OK.format(
            f"XLC_REQUIRED_MARGIN({_MARGIN},quantity,leverage,quote_rate_used,margin_rounding,money_unit)"
        ),
    ),
    Field(
        "pnl",
        "money",  # core.unrealized_pnl
        formula="=" + _OK.format("side_sign*(price-entry_price)*quantity*quote_rate_used"),
        udf="=" + _OK.format("XLC_PNL(side,entry_price,price,quantity)*quote_rate_used"),
    ),
    Field(
        "equity",
        "money",  # core.equity
        formula="=" + _OK.format("deposit+side_sign*(price-entry_price)*quantity*quote_rate_used-fees"),
        udf="=" + _OK.format(f"XLC_EQUITY({_D},side,entry_price,price,quantity,{_F})*quote_rate_used"),
    ),
    Field(
        "ratio",
        "pct",  # core.maintenance_ratio
        formula="=" + _OK.format("equity/required_margin_exact"),
        udf="=" + _OK.format(f"XLC_RATIO({_D},side,entry_price,price,quantity,leverage,basis,{_F})"),
    ),
    Field(
        "status",
        "text",  # core.status(..., safe_level), in the sheet's language
        formula="=IF(inputs_ok," + _status("ratio", safe="safe_level") + ",input_check)",
        udf="=IF(inputs_ok," + _UDF_STATUS + ",input_check)",
    ),
    _trigger_field("safe_price", "safe_level", "XLC_MARGINCALL_PRICE"),
    _trigger_field("margin_call_price", "margin_call_level", "XLC_MARGINCALL_PRICE"),
    _trigger_field("loss_cut_price", "loss_cut_level", "XLC_LOSSCUT_PRICE"),
    Field(
        "bankruptcy_price",
        "price",
        distance=True,  # core.bankruptcy_price
        formula=(
            "=IF(inputs_ok,IF(entry_price-side_sign*(deposit-fees)/(quantity*quote_rate_used)>0,"
            + _tick("entry_price-side_sign*(deposit-fees)/(quantity*quote_rate_used)")
            + ',""),"")'
        ),
        udf=(
            "=IF(inputs_ok,IF(ISNUMBER(XLC_BANKRUPTCY_PRICE("
            + _D
            + ",side,entry_price,quantity,"
            + _F
            + ")),"
            + _tick("XLC_BANKRUPTCY_PRICE(" + _D + ",side,entry_price,quantity," + _F + ")")
            + ',""),"")'
        ),
    ),
    # Fee drift (SPEC §10): the loss-cut price once holding_days of the daily fee have accrued.
    Field(
        "loss_cut_price_after_days",
        "price",
        distance=True,
        formula=("=IF(ISNUMBER(holding_days)," + _trigger("loss_cut_level", _FEES_LATER)[1:] + ',"")'),
        udf=(
            "=IF(ISNUMBER(holding_days),"
            + _udf_trigger("XLC_LOSSCUT_PRICE", "loss_cut_level", _FEES_LATER + "/quote_rate_used")[1:]
            + ',"")'
        ),
    ),
    # No margin call (GMO Coin): restore the loss-cut level instead, as the CLI does.
    Field(
        "target_level",
        "rate",
        formula='=IF(ISNUMBER(margin_call_level),margin_call_level,IF(ISNUMBER(loss_cut_level),loss_cut_level,""))',
    ),
    Field(
        "additional_deposit",
        "money",  # core.additional_deposit
        formula=f'=IF({_RESTORE},MAX(0,target_level*required_margin_exact-equity),"")',
        udf=(
            f"=IF({_RESTORE},XLC_ADD_DEPOSIT({_ARGS.format(p='price')},target_level,basis,{_F})"
            '*quote_rate_used,"")'
        ),
    ),
    Field(
        "close_quantity",
        "qty",  # core.close_quantity
        formula=f'=IF({_RESTORE},quantity*MIN(1,MAX(0,1-equity/(target_level*required_margin_exact))),"")',
        udf=(f'=IF({_RESTORE},XLC_CLOSE_QTY({_ARGS.format(p="price")},target_level,basis,{_F}),"")'),
    ),
    Field(
        "shortfall",
        "money",  # core.shortfall at the gap fill price
        formula=(
            "=IF(AND(inputs_ok,ISNUMBER(gap_price),gap_price>0),"
            'MAX(0,-(deposit+side_sign*(gap_price-entry_price)*quantity*quote_rate_used-fees)),"")'
        ),
        udf=(
            "=IF(AND(inputs_ok,ISNUMBER(gap_price),gap_price>0),"
            f'XLC_SHORTFALL({_D},side,entry_price,gap_price,quantity,{_F})*quote_rate_used,"")'
        ),
    ),
    Field(
        "stop_loss_amount",
        "money",  # core.stop_loss_amount (no XLC_ function: native in both)
        formula=(
            "=IF(AND(inputs_ok,ISNUMBER(stop_price),stop_price>0),"
            '(entry_price-stop_price)*side_sign*quantity*quote_rate_used,"")'
        ),
    ),
    Field(
        "position_size",
        "qty",  # core.position_size(deposit, risk, entry, stop), uncapped
        formula=f'=IF({_SIZE_OK},deposit*risk/ABS(entry_price-stop_price),"")',
        udf=f'=IF({_SIZE_OK},XLC_POSITION_SIZE(deposit,risk,entry_price,stop_price),"")',
    ),
    Field(
        "position_size_capped",
        "qty",  # core.position_size(..., leverage)
        formula=f'=IF({_SIZE_OK},MIN(deposit*risk/ABS(entry_price-stop_price),deposit*leverage/entry_price),"")',
        udf=f'=IF({_SIZE_OK},XLC_POSITION_SIZE(deposit,risk,entry_price,stop_price,leverage),"")',
    ),
]

WORKING = [
    Field("side_sign", "general", formula=_SIDE),
    Field("mark_basis", "general", formula=_MARK),
    Field("preset_row", "general", formula='=IF(exchange="",0,IFERROR(MATCH(exchange,preset_ids,0),-1))'),
    Field("quote_rate_used", "general", formula="=IF(ISNUMBER(quote_rate),quote_rate,1)"),
    Field("margin_rounding", "text", formula=rounding_formula("preset_row")),
    Field("money_unit", "general", formula=money_unit_formula("preset_row")),
    Field("currency_used", "text", formula=currency_formula("preset_row")),
    Field(
        "required_margin_exact",
        "money",  # core.required_margin, unrounded: what the ratio divides by
        formula="=" + _OK.format(f"{_MARGIN}*quantity*quote_rate_used/leverage"),
        udf="=" + _OK.format(f"XLC_REQUIRED_MARGIN({_MARGIN},quantity,leverage)*quote_rate_used"),
    ),
    Field("price_decimals_used", "general", formula=None),  # filled below: needs _decimals
    Field(
        "fees_after_days",
        "money",  # fees + P0*Q*rate*f*days (SPEC §1 holding cost)
        formula=(
            "=IF(AND(ISNUMBER(holding_days),ISNUMBER(entry_price),ISNUMBER(quantity)),"
            'N(fees)+entry_price*quantity*quote_rate_used*N(daily_fee_rate)*holding_days,"")'
        ),
    ),
    # SPEC §1 tiers: the preset's shipped tier table (Tiers sheet), as xlcalc calc takes it
    Field("tier_first", "general", formula=None),  # filled below: from the tier tables
    Field("tier_count", "general", formula=None),
    Field("tiers_used", "general", formula=None),
    Field("mm_entry", "general", formula=None),
    Field("tier_maintenance", "money", formula=None),
    Field("tier_liquidation", "general", formula=None),
    Field("inputs_ok", "general", formula="=" + _first(MAIN_CHECKS) + '=""'),
]

MAX_DECIMALS = MAX_PRICE_DECIMALS  # as the CLI and the report: 0.00001237 shows 10 decimals


def _decimals(name):
    """Decimals of the number in ``name`` (0 when blank), up to MAX_DECIMALS: how many
    roundings change it. A typed 1.08523 is the double nearest 1.08523, as ROUND(x, 5) is."""
    terms = "+".join(f"(ROUND({name},{d})<>{name})" for d in range(MAX_DECIMALS + 1))
    return f"IF(ISNUMBER({name}),{terms},0)"


# Price cells show the decimals of the prices the user typed, never fewer, and as
# xlcalc.display.price_decimals (the CLI, the report) the tick's, else 6 significant digits of
# the entry (USD/JPY typed as 110: 106.200): a conditional format per decimal count on top of
# the wide base format.
_SIGNIFICANT = (
    "IF(AND(ISNUMBER(tick_size),tick_size>0),0,"
    "IF(AND(ISNUMBER(entry_price),entry_price>0),5-INT(LOG10(entry_price)),0))"
)
PRICE_DECIMALS_FORMULA = (
    "=IF(AND(ISNUMBER(price_decimals),price_decimals>=0),MIN("
    + str(MAX_DECIMALS)
    + ",INT(price_decimals)),MIN("
    + str(MAX_DECIMALS)
    + ",MAX("
    + ",".join([*(_decimals(n) for n in ("entry_price", "price", "tick_size")), _SIGNIFICANT])
    + ")))"
)


def tier_rows() -> list[tuple[str, str, float, float, float, float]]:
    """Every shipped tier table (xlcalc/data/tiers_<id>.csv, read without pandas) as rows
    (preset id, symbol, floor, cap, mmr, maintenance amount): one block per table, its symbols
    in file order, so a preset's first block is the table ``tiers.for_preset(id, None)`` takes.
    Amounts left blank are derived as tiers.tier_table does (the margin continuous at each floor)."""
    import csv
    from importlib import resources

    rows = []
    for path in sorted(resources.files("xlcalc").joinpath("data").iterdir(), key=lambda p: p.name):
        if not (path.name.startswith("tiers_") and path.name.endswith(".csv")):
            continue
        exchange = path.name[len("tiers_") : -len(".csv")]
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
        records = list(csv.DictReader(lines))
        for symbol in dict.fromkeys(r["symbol"] for r in records):
            rate, amount = 0.0, 0.0
            for r in (r for r in records if r["symbol"] == symbol):
                floor, mmr = float(r["floor"] or 0), float(r["mmr"])
                given = (r.get("maintenance_amount") or "").strip()
                amount = float(given) if given else floor * (mmr - rate) + amount
                rate = mmr
                cap = float(r["cap"]) if (r["cap"] or "").strip() else TIER_TOP  # blank: unlimited
                rows.append((exchange, symbol, floor, min(cap, TIER_TOP), mmr, amount))
    return rows


# Tier columns of the Tiers sheet and their defined names (whole columns of the table).
TIER_NAMES = {
    "preset_id": "tier_exchange",
    "symbol": "tier_symbol",
    "tier_floor": "tier_floor",
    "tier_cap": "tier_cap",
    "mmr": "tier_mmr",
    "maintenance_amount": "tier_amount",
}
TIER_TOP = 1e300  # "no end": above any notional, and 0 x it is still 0


def _chosen(column):
    # The rows of the Calculator's table in a tier column: tier_first .. tier_first+tier_count-1.
    return f"INDEX({column},tier_first):INDEX({column},tier_first+tier_count-1)"


_FLOORS, _CAPS, _RATES, _AMOUNTS = (_chosen(n) for n in ("tier_floor", "tier_cap", "tier_mmr", "tier_amount"))


def _tier_of(notional):
    """Row (in the tier columns) of the tier holding ``notional``: floor < N <= cap, the first
    tier below it and the last above it (tiers.tier_index)."""
    return f"(tier_first+MIN(SUMPRODUCT(--({_CAPS}<{notional})),tier_count-1))"


def _maintenance_at(notional):
    """tiers.maintenance_on without a fee: the notional x its tier's rate - its amount, from the
    shipped table, or the preset's flat mmr where it has none (tiers.for_preset: one tier)."""
    row = _tier_of(notional)
    return (
        f"IF(tier_count>0,{notional}*INDEX(tier_mmr,{row})-INDEX(tier_amount,{row}),"
        f"{notional}*INDEX(preset_mmr,preset_row))"
    )


_WALLET = "(deposit-fees)/quote_rate_used"  # the CLI's wallet balance, in the quote currency
_BIG = f"{TIER_TOP:.0E}"
# tiers.solve_liquidation, tier by tier over the chosen rows: each tier's root, its range in
# price (the first tier from 0, the last without end), kept when it lies in the range
# (clipped to it); a long takes the highest, a short the lowest. Products of a 0/1 test
# and a number add exactly, so the kept root is the root.
_ROOT = f"((side_sign*entry_price*quantity-{_WALLET}-{_AMOUNTS})/(quantity*(side_sign-{_RATES})))"
_LOW = f"({_FLOORS}*({_FLOORS}>MIN({_FLOORS}))/quantity)"
_HIGH = f"(({_CAPS}*({_CAPS}<MAX({_CAPS}))+{_BIG}*({_CAPS}>=MAX({_CAPS})))/quantity)"
_FALLING = (
    f"SUMPRODUCT(MAX(({_ROOT}>{_LOW})*(({_ROOT}>{_HIGH})*{_HIGH}+({_ROOT}<={_HIGH})*{_ROOT})"
    f"-({_ROOT}<={_LOW})*{_BIG}))"
)
_RISING = (
    f"SUMPRODUCT(MIN(({_ROOT}<={_HIGH})*(({_ROOT}<{_LOW})*{_LOW}+({_ROOT}>={_LOW})*{_ROOT})"
    f"+({_ROOT}>{_HIGH})*{_BIG}))"
)
# One tier at the preset's mmr (no shipped table): perpetual.liquidation_price's line.
_FLAT_ROOT = (
    "(side_sign*entry_price*quantity-" + _WALLET + ")/(quantity*(side_sign-INDEX(preset_mmr,preset_row)))"
)
# mm_basis entry: the maintenance margin fixed at the entry notional's tier, LP = P0 + s(MM - WB)/Q.
_ENTRY_ROOT = (
    "entry_price+side_sign*(" + _maintenance_at("entry_price*quantity") + "-" + _WALLET + ")/quantity"
)
TIER_LIQUIDATION = (
    "=IF(AND(inputs_ok,tiers_used),IFERROR(IF(mm_entry,"
    + _ENTRY_ROOT
    + ",IF(tier_count>0,IF(side_sign=1,"
    + _FALLING
    + ","
    + _RISING
    + "),"
    + _FLAT_ROOT
    + ')),""),"")'
)


TIER_FIRST = "=IF(preset_row>0,IFERROR(MATCH(exchange,tier_exchange,0),0),0)"
# the preset's first table: the rows of its first symbol (tiers.for_preset(id, None))
TIER_COUNT = (
    "=IF(tier_first>0,SUMPRODUCT((tier_exchange=exchange)*(tier_symbol=INDEX(tier_symbol,tier_first))),0)"
)
# an mmr preset with a shipped table, or with a flat mmr (one tier, as tiers.for_preset)
TIERS_USED = (
    '=IF(preset_row>0,IF(INDEX(preset_model,preset_row)="mmr",'
    "OR(tier_count>0,ISNUMBER(INDEX(preset_mmr,preset_row))),FALSE),FALSE)"
)
MM_ENTRY = '=IF(preset_row>0,LOWER(TRIM(INDEX(preset_mm_basis,preset_row)&""))="entry",FALSE)'
# Not behind inputs_ok: the loss-cut level (checked by inputs_ok) is made from it.
TIER_MAINTENANCE = (
    "=IF(tiers_used,IFERROR(" + _maintenance_at("IF(mm_entry,entry_price,price)*quantity") + ',""),"")'
)
# The loss-cut price of an mmr preset when no loss-cut level is typed: the tiered liquidation
# price (perpetual.liquidation_price with the preset's tiers and mm_basis), ticked.
TIERED_LOSS_CUT = (
    'AND(tiers_used,loss_cut_level_override="")',
    f"IF(AND(ISNUMBER(tier_liquidation),tier_liquidation>0,tier_liquidation<{TIER_TOP / 10:.0E}),"
    + _tick("tier_liquidation")
    + ',"")',
)
# Beside the loss-cut price: the notional, now or at that price, above the shipped table's last
# tier (tiers.beyond_table; xlcalc calc, liq and the report say so too).
TIER_NOTE = (
    '=IF(AND(inputs_ok,tier_count>0,loss_cut_level_override=""),'
    "IF(MAX(price,N(loss_cut_price))*quantity>INDEX(tier_cap,tier_first+tier_count-1),"
    '{c_beyond_tiers},""),"")'
)
_FILLED_BELOW = {
    "price_decimals_used": PRICE_DECIMALS_FORMULA,
    "tier_first": TIER_FIRST,
    "tier_count": TIER_COUNT,
    "tiers_used": TIERS_USED,
    "mm_entry": MM_ENTRY,
    "tier_maintenance": TIER_MAINTENANCE,
    "tier_liquidation": TIER_LIQUIDATION,
}
WORKING = [
    Field(f.key, f.kind, formula=_FILLED_BELOW[f.key]) if f.key in _FILLED_BELOW else f for f in WORKING
]

# An mmr preset's loss-cut level on the Calculator, when none is typed: its maintenance margin
# at the price (the tier of the notional) over the required margin, as xlcalc calc and the
# report take it. The Positions sheet keeps the flat rate (FLAT_LOSS_CUT_LEVEL).
FLAT_LOSS_CUT_LEVEL = PRESET_FORMULAS["loss_cut_level"]
PRESET_FORMULAS["loss_cut_level"] = (
    f'=IF(tiers_used,IFERROR(tier_maintenance/({_MARGIN}*quantity/leverage),""),'
    + PRESET_FORMULAS["loss_cut_level"][1:]
    + ")"
)


def _tiered(formula):
    """``formula`` (a loss-cut price), or the tiered liquidation price where an mmr preset sets it."""
    when, price = TIERED_LOSS_CUT
    return f"=IF({when},{price},{formula[1:]})"


OUTPUTS = [
    replace(f, formula=_tiered(f.formula), udf=_tiered(f.udf)) if f.key == "loss_cut_price" else f
    for f in OUTPUTS
]


def price_format(decimals: int) -> str:
    return "#,##0" + ("." + "0" * decimals if decimals else "")


# Names of the distance cells beside a trigger price: price difference and relative move.
DISTANCE_PREFIX = {
    "safe_price": "safe",
    "margin_call_price": "margin_call",
    "loss_cut_price": "loss_cut",
    "bankruptcy_price": "bankruptcy",
    "loss_cut_price_after_days": "loss_cut_after_days",
}

CALCULATOR = [
    ("section_inputs", INPUTS),
    ("section_levels", LEVELS),
    ("section_what_if", WHAT_IF),
    ("section_outputs", OUTPUTS),
    ("section_working", WORKING),
]

# Sample position per language (the yen one is the SPEC's derived BTC example), both a 2x long
# without fees, in the quote currency, risking 2 %. The optional what-if prices are left empty
# (issue #12): no figure the user did not ask for.
_SAMPLE_TERMS = dict(side="long", leverage=2, fees=0, quote_rate=1, risk=0.02)
SAMPLE = {
    "ja": dict(_SAMPLE_TERMS, entry_price=10_000_000, quantity=0.1, deposit=800_000, price=9_000_000),
    "en": dict(_SAMPLE_TERMS, entry_price=50_000, quantity=0.2, deposit=5_000, price=45_000),
}

# Scenarios: an adaptive price ladder (issue #12). Candidate prices are round steps around the
# price (the step a 1-2-5 round number near a tenth of the span to the farthest level) plus
# the price itself and every level price; the ladder lists them in increasing order, each
# once (SMALL over the candidates: no dynamic arrays). Missing candidates hold NO_PRICE so
# that every candidate cell is a number.
LADDER_STEPS = 10  # round steps on each side of the price
NO_PRICE = "1E+300"
LADDER_LEVELS = [
    ("price", "price"),
    ("safe_price", "safe_level"),
    ("margin_call_price", "margin_call_level"),
    ("loss_cut_price", "loss_cut_level"),
    ("bankruptcy_price", "bankruptcy"),
]
LADDER_ROWS = 2 * LADDER_STEPS + 1 + len(LADDER_LEVELS)
_LEVEL_NAMES = {
    "safe_price": "safe_level",
    "margin_call_price": "margin_call_level",
    "loss_cut_price": "loss_cut_level",
    "bankruptcy_price": "bankruptcy_price",
    "price": "price",
}
LADDER_WORKING = [
    (
        "ladder_span",
        "=IF(inputs_ok,MIN(price,MAX(price*0.05,1.25*MAX("
        + ",".join(f"IF(ISNUMBER({p}),ABS({p}-price),0)" for p, _ in LADDER_LEVELS[1:])
        + '))),"")',
    ),
    (
        "ladder_magnitude",
        "=IF(ISNUMBER(ladder_span),10^INT(LOG10(ladder_span/" + str(LADDER_STEPS) + ')),"")',
    ),
    (
        "ladder_step",
        "=IF(ISNUMBER(ladder_span),ladder_magnitude*IF(ladder_span/"
        + str(LADDER_STEPS)
        + "/ladder_magnitude<=1,1,IF(ladder_span/"
        + str(LADDER_STEPS)
        + "/ladder_magnitude<=2,2,"
        "IF(ladder_span/" + str(LADDER_STEPS) + '/ladder_magnitude<=5,5,10))),"")',
    ),
    ("ladder_count", "=SUMPRODUCT(--(ladder_candidates<" + NO_PRICE + "))"),
]


def ladder_candidate(i):
    """Formula of candidate ``i`` (0-based): round steps first, then the level prices."""
    n = 2 * LADDER_STEPS + 1
    if i < n:
        k = i - LADDER_STEPS
        x = f"ROUND(price/ladder_step,0)*ladder_step{k:+d}*ladder_step"
        return f"=IF(ISNUMBER(ladder_step),IF({x}>0,{x},{NO_PRICE}),{NO_PRICE})"
    name = LADDER_LEVELS[i - n][0]
    return f"=IF(AND(inputs_ok,ISNUMBER({name})),{name},{NO_PRICE})"


_LADDER_PRICE_FIRST = '=IF(ladder_count>0,SMALL(ladder_candidates,1),"")'
_LADDER_PRICE_NEXT = (
    "=IF(ISNUMBER({prev}),IF(SUMPRODUCT(--(ladder_candidates<={prev}))<ladder_count,"
    'SMALL(ladder_candidates,SUMPRODUCT(--(ladder_candidates<={prev}))+1),""),"")'
)
_P = "{c[price]}"
SCENARIO_COLUMNS = [
    Column(
        "level_mark",
        "text",
        "=IF(ISNUMBER("
        + _P
        + "),"
        + "".join(f"IF({_P}={n},{{m_{n}}}," for n, _ in LADDER_LEVELS[::-1])
        + '""'
        + ")" * len(LADDER_LEVELS)
        + ',"")',
    ),
    Column("move", "pct", "=IF(ISNUMBER(" + _P + ")," + _P + '/price-1,"")'),
    Column("price", "price", None),  # filled by the builder: first row / next distinct candidate
    Column(
        "pnl",
        "money",
        '=IF(ISNUMBER({c[price]}),side_sign*({c[price]}-entry_price)*quantity*quote_rate_used,"")',
        '=IF(ISNUMBER({c[price]}),XLC_PNL(side,entry_price,{c[price]},quantity)*quote_rate_used,"")',
    ),
    Column(
        "equity",
        "money",
        '=IF(ISNUMBER({c[price]}),deposit+side_sign*({c[price]}-entry_price)*quantity*quote_rate_used-fees,"")',
        f"=IF(ISNUMBER({{c[price]}}),XLC_EQUITY({_D},side,entry_price,{{c[price]}},quantity,{_F})"
        '*quote_rate_used,"")',
    ),
    Column(
        "ratio",
        "pct",
        "=IF(ISNUMBER({c[price]}),{c[equity]}/(IF(mark_basis=1,{c[price]},entry_price)*quantity"
        '*quote_rate_used/leverage),"")',
        f'=IF(ISNUMBER({{c[price]}}),XLC_RATIO({_D},side,entry_price,{{c[price]}},quantity,leverage,basis,{_F}),"")',
    ),
    Column("status", "text", "=IF(ISNUMBER({c[ratio]})," + _status("{c[ratio]}", safe="safe_level") + ',"")'),
]


def _chart_level(level):
    """The chart's flat line at the level named ``level`` (its defined name and column key)."""
    return Column(level, "rate", f"=IF(AND(ISNUMBER({{c[price]}}),ISNUMBER({level})),{level},NA())")


# Chart data (next to the ladder, grey): #N/A instead of "" so that a chart draws no point.
CHART_COLUMNS = [
    Column("chart_price", "price", "=IF(ISNUMBER({c[price]}),{c[price]},NA())"),
    Column("chart_ratio", "pct", "=IF(ISNUMBER({c[ratio]}),{c[ratio]},NA())"),
    Column("chart_level_mark", "pct", '=IF(AND(ISNUMBER({c[ratio]}),{c[level_mark]}<>""),{c[ratio]},NA())'),
    *(_chart_level(level) for level in ("safe_level", "margin_call_level", "loss_cut_level")),
]

# Positions: an Excel Table for the rows the workbook ships with formulas, and formulas that
# read POSITION_CAPACITY rows so that rows the user adds below (copying the last row down, or
# Excel growing the table) are counted. A row typed below without formulas is flagged.
_IN = ("symbol", "side", "entry_price", "quantity", "leverage", "price")
_ROW_SIDE = "IF(OR({long_words_r}),1,IF(OR({short_words_r}),-1,0))"


def _cell(key):
    """The placeholder of this row's cell in column ``key``."""
    return f"{{c[{key}]}}"


_FILLED = "COUNTA(" + ",".join(_cell(k) for k in _IN[1:]) + ")>0"
_ROW_USED = "AND(" + _FILLED + ',{c[col_check]}="")'


def _symbol_side_margin(sign, margins="required_margin_exact"):
    """Margin of this row's symbol on one side (hedge "max"): the column ``margins`` summed."""
    return (
        f"SUMPRODUCT(({{rng[symbol_key]}}={{c[symbol_key]}})*({{rng[side_sign]}}={sign})*{{rng[{margins}]}})"
    )


# SPEC §8 hedge "max": a symbol's margin is its larger side's, counted on its first row.
_FIRST_OF_SYMBOL = "SUMPRODUCT(--({top[symbol_key]}:{c[symbol_key]}={c[symbol_key]}))=1"
# The larger side by the exact margin; on a tie the side of the symbol's first row (this row),
# as the report picks it. Shown: that side's margins as the venue rounds each one.
_THIS, _OTHER = "{c[side_sign]}", "-{c[side_sign]}"
_LARGER_SIDE_SHOWN = (
    f"IF({_symbol_side_margin(_THIS)}>={_symbol_side_margin(_OTHER)},"
    f"{_symbol_side_margin(_THIS, 'required_margin_n')},{_symbol_side_margin(_OTHER, 'required_margin_n')})"
)
_LARGER_SIDE_EXACT = f"MAX({_symbol_side_margin(1)},{_symbol_side_margin(-1)})"
# that side's notional (P·Q at the price), for an mmr preset's maintenance margin
_LARGER_SIDE_NOTIONAL = (
    f"IF({_symbol_side_margin(_THIS)}>={_symbol_side_margin(_OTHER)},"
    f"{_symbol_side_margin(_THIS, 'notional_n')},{_symbol_side_margin(_OTHER, 'notional_n')})"
)


def _counted(larger_side, own):
    """The margin this row adds to the account: ``own`` (hedge "sum"), or on the symbol's
    first row ``larger_side`` and 0 on its other rows (hedge "max")."""
    return f'=IF({_ROW_USED},IF(account_hedge_used="max",IF({_FIRST_OF_SYMBOL},{larger_side},0),{own}),"")'


_ROW_MARGIN = "IF(account_mark=1,{c[price]},{c[entry_price]})"
_ROW_MARGIN_SHOWN = shown_margin(
    "{c[required_margin_exact]}", "account_margin_rounding", "account_money_unit"
)
POSITION_COLUMNS = [
    Column("symbol", "text"),
    Column("side", "text"),
    Column("entry_price", "price"),
    Column("quantity", "qty"),
    Column("leverage", "lev"),
    Column("price", "price"),
    Column(
        "pnl",
        "money",
        f'=IF({_ROW_USED},{{c[side_sign]}}*({{c[price]}}-{{c[entry_price]}})*{{c[quantity]}},"")',
        f'=IF({_ROW_USED},XLC_PNL({{c[side]}},{{c[entry_price]}},{{c[price]}},{{c[quantity]}}),"")',
    ),
    # As the account's preset rounds it (SPEC §8), as the report shows it; the ratio uses the exact.
    Column(
        "required_margin",
        "money",
        f'=IF({_ROW_USED},{_ROW_MARGIN_SHOWN},"")',
        f"=IF({_ROW_USED},XLC_REQUIRED_MARGIN({_ROW_MARGIN},{{c[quantity]}},{{c[leverage]}},1,"
        'account_margin_rounding,account_money_unit),"")',
    ),
    Column("margin_counted", "money", _counted(_LARGER_SIDE_SHOWN, "{c[required_margin]}")),
    Column(
        "col_check",
        "text",
        "=IF(COUNTA("
        + ",".join(_cell(k) for k in _IN)
        + ')=0,"",'
        + _first(
            [(_ROW_SIDE + "=0", "{c_side}")]
            + [check for k in _IN[2:] for check in _number_checks(k, f"NOT({positive(_cell(k))})", _cell(k))]
        )
        + ")",
    ),
    Column("side_sign", "general", f'=IF({_ROW_USED},{_ROW_SIDE},"")'),
    Column("symbol_key", "text", f'=IF({_ROW_USED},"#"&{{c[symbol]}},"")'),
    Column("required_margin_n", "general", "=IF(ISNUMBER({c[required_margin]}),{c[required_margin]},0)"),
    # core.required_margin unrounded (0 on an unused row): the account's ratio divides by these
    Column(
        "required_margin_exact",
        "general",
        f"=IF({_ROW_USED},{_ROW_MARGIN}*{{c[quantity]}}/{{c[leverage]}},0)",
        f"=IF({_ROW_USED},XLC_REQUIRED_MARGIN({_ROW_MARGIN},{{c[quantity]}},{{c[leverage]}}),0)",
    ),
    Column("margin_counted_exact", "general", _counted(_LARGER_SIDE_EXACT, "{c[required_margin_exact]}")),
    # P·Q at the price (0 on an unused row): an mmr preset's maintenance margin is mmr × this
    Column("notional_n", "general", f"=IF({_ROW_USED},{{c[price]}}*{{c[quantity]}},0)"),
    Column("notional_counted", "general", _counted(_LARGER_SIDE_NOTIONAL, "{c[notional_n]}")),
]
POSITION_HELPERS = (
    "side_sign",
    "symbol_key",
    "required_margin_n",
    "required_margin_exact",
    "margin_counted_exact",
    "notional_n",
    "notional_counted",
)  # printed narrow and grey
POSITION_ROWS = 20  # rows of the table, with formulas
POSITION_CAPACITY = 1000  # rows every account formula reads (table + rows added below)
SAMPLE_POSITIONS = {
    "ja": [
        ("BTC/JPY", "long", 10_000_000, 0.1, 2, 9_000_000),
        ("ETH/JPY", "long", 400_000, 2, 2, 380_000),
        ("BTC/JPY", "short", 9_500_000, 0.05, 2, 9_000_000),
        ("XRP/JPY", "long", 90, 5_000, 2, 80),
    ],
    "en": [
        ("BTC/USD", "long", 50_000, 0.2, 2, 45_000),
        ("ETH/USD", "long", 3_000, 2, 2, 2_800),
        ("BTC/USD", "short", 48_000, 0.05, 2, 45_000),
        ("XRP/USD", "long", 0.6, 5_000, 2, 0.55),
    ],
}
SAMPLE_ACCOUNT = {"ja": dict(deposit=1_500_000, fees=0), "en": dict(deposit=12_000, fees=0)}

# Account block above the Table: inputs, then the levels (your value | preset | used, as the
# Calculator's), then results. Names get an "account_" prefix.
ACCOUNT_INPUTS = [
    Field("deposit", "money", check="nonnegative"),
    Field("fees", "money", check="nonnegative"),
    Field("exchange", "text", note="note_account_preset", check="exchange"),
    Field("hedge", "text", note="note_hedge", check="hedge"),
]
# The account's preset row in the Calculator's preset formulas, for the account's levels (SPEC
# §8, as xlcalc report --exchange): mmr presets liquidate at each counted row's P·Q·mmr, an
# account loss-cut level of mmr × the counted notional / the exact margin.
ACCOUNT_PRESET_FORMULAS = {
    "basis": PRESET_FORMULAS["basis"].replace("preset_row", "account_preset_row"),
    "margin_call_level": PRESET_FORMULAS["margin_call_level"].replace("preset_row", "account_preset_row"),
    "loss_cut_level": FLAT_LOSS_CUT_LEVEL.replace("preset_row", "account_preset_row").replace(
        "INDEX(preset_mmr,account_preset_row)*leverage",
        "INDEX(preset_mmr,account_preset_row)*account_notional_counted/account_required_margin_exact",
    ),
    "safe_level": PRESET_FORMULAS["safe_level"],
}
ACCOUNT_LEVELS = [f for f in LEVELS if f.key in ACCOUNT_PRESET_FORMULAS]
HEDGE_RULES = ("sum", "max")
_ACC_OK = 'account_input_check=""'
ACCOUNT_OUTPUTS = [
    Field("input_check", "text", formula=None),  # filled by the builder (needs the ranges)
    Field("pnl", "money", formula="=SUM({rng[pnl]})"),
    Field("equity", "money", formula=f'=IF({_ACC_OK},account_deposit-account_fees+account_pnl,"")'),
    Field("required_margin", "money", formula="=SUM({rng[margin_counted]})"),  # as shown per row
    Field(
        "ratio",
        "pct",  # on the exact margin, as core.account_state
        formula=(
            f"=IF(AND({_ACC_OK},account_required_margin_exact>0),"
            'account_equity/account_required_margin_exact,"")'
        ),
    ),
    Field(
        "status",
        "text",  # core.status with the safe level: "caution" as the report's account
        formula="=IF(ISNUMBER(account_ratio),"
        + _status(
            "account_ratio", "account_margin_call_level", "account_loss_cut_level", safe="account_safe_level"
        )
        + ",account_input_check)",
    ),
]
_ROW_TEXT = "&".join(f"{{rng[{k}]}}" for k in _IN)
ACCOUNT_CHECKS = [
    ("NOT(AND(ISNUMBER(account_deposit),account_deposit>=0))", "{c_deposit}"),
    ("NOT(OR(ISBLANK(account_fees),AND(ISNUMBER(account_fees),account_fees>=0)))", "{c_fees}"),
    ("account_mark=-1", "{c_basis}"),
    ("account_preset_row=-1", "{c_exchange}"),
    (f"NOT({_level_ok('account_margin_call_level')})", "{c_margin_call_level}"),
    (f"NOT({_level_ok('account_loss_cut_level')})", "{c_loss_cut_level}"),
    (f"NOT({_level_ok('account_safe_level')})", "{c_safe_level}"),
    (rounding_problem("account_margin_rounding", "account_money_unit"), "{c_margin_rounding}"),
    ('account_hedge_used=""', "{c_hedge}"),
    ("SUMPRODUCT(--(LEN({rng[col_check]})>0))>0", "{c_rows}"),
    # A row with inputs but no formulas (typed below the table): not counted, so say so.
    (
        f"SUMPRODUCT((LEN({_ROW_TEXT})>0)*(LEN({{rng[col_check]}})=0)*NOT(ISNUMBER({{rng[pnl]}})))>0",
        "{c_rows_below}",
    ),
]
ACCOUNT_WORKING = [
    ("mark", "=IF(OR({mark_words_a}),1,IF(OR({entry_words_a}),0,-1))"),
    ("preset_row", '=IF(account_exchange="",0,IFERROR(MATCH(account_exchange,preset_ids,0),-1))'),
    ("hedge_used", None),  # filled by the builder: depends on the preset columns present
    ("margin_rounding", rounding_formula("account_preset_row")),
    ("money_unit", money_unit_formula("account_preset_row")),
    ("currency_used", currency_formula("account_preset_row")),
    ("required_margin_exact", "=SUM({rng[margin_counted_exact]})"),
    ("notional_counted", "=SUM({rng[notional_counted]})"),
]


def hedge_formula(has_preset_hedge: bool) -> str:
    """The hedge rule in use: the user's, else the preset's (SPEC §8), else "sum"."""
    preset = (
        'IF(account_preset_row>0,IF(INDEX(preset_hedge,account_preset_row)="max","max","sum"),"sum")'
        if has_preset_hedge
        else '"sum"'
    )
    return (
        f'=IF(account_hedge="",{preset},IF(OR(account_hedge="sum",account_hedge="max"),'
        'LOWER(account_hedge),""))'
    )


# Exchanges: presets.COLUMNS; these get names for the Calculator's INDEX/MATCH.
PRESET_NAMES = {
    "id": "preset_ids",
    "margin_model": "preset_model",
    "margin_call_level": "preset_mc",
    "loss_cut_level": "preset_lc",
    "basis": "preset_basis",
    "mmr": "preset_mmr",
    "daily_fee_rate": "preset_fee",
    "hedge": "preset_hedge",
    "margin_rounding": "preset_rounding",
    "money_unit": "preset_money_unit",
    "currency": "preset_currency",
    "mm_basis": "preset_mm_basis",
}
PRESET_SPARE_ROWS = 20  # blank rows inside the named ranges for the user's own presets

GUIDE = [
    "title_guide",
    "",
    "guide_1",
    "guide_2",
    "guide_3",
    "guide_4",
    "guide_5",
    "",
    "guide_formulas",
    "guide_f1",
    "guide_f2",
    "guide_f3",
    "guide_f4",
    "guide_f5",
    "guide_f6",
    "guide_f7",
    "guide_f8_tiers",
    "guide_f9",
    "",
    "guide_protect",
    "disclaimer",
]


def quote(text: str) -> str:
    """A spreadsheet string literal."""
    return '"' + text.replace('"', '""') + '"'


def _any_of(ref, key):
    return ",".join(f"{ref}={quote(label(key, lang))}" for lang in LANGUAGES)


# The words the core reads as a side after NFKC and lower() (xlcalc._inputs._LONG_WORDS /
# _SHORT_WORDS, which import numpy: `xlcalc template` imports openpyxl only). A test checks
# that they are the core's.
CORE_SIDE_WORDS = {
    "long": {"1", "+1", "1.0", "+1.0", "long", "buy", "b", "l", "買い", "買", "ロング"}
    | {"買建", "買建て", "買い建", "買い建て", "新規買", "新規買い"},
    "short": {"-1", "-1.0", "short", "sell", "s", "売り", "売", "ショート"}
    | {"売建", "売建て", "売り建", "売り建て", "新規売", "新規売り"},
}


def _side_words(side):
    """The words the core reads as ``side`` (xlcalc._inputs: 買建, 新規売, buy, 1...), the
    template's dropdown words first, each with its math-minus spelling (−1)."""
    words = [label(side, lang) for lang in LANGUAGES] + sorted(CORE_SIDE_WORDS[side])
    words += [w.replace("-", "\u2212") for w in words if "-" in w]
    return list({w.lower(): w for w in reversed(words)}.values())[::-1]  # "=" ignores case


def _any_side(ref, side):
    """``ref`` is a ``side`` word of the core's. Excel has no NFKC: ASC (full-width letters and
    katakana to half-width, ｼｮｰﾄ and ショート alike) on both sides of each comparison does its
    work for these words; "=" ignores case as the core's lower() does."""
    text = f"ASC(TRIM({ref}))"
    return ",".join(f"{text}={quote(w) if w.isascii() else f'ASC({quote(w)})'}" for w in _side_words(side))


def words(lang: str) -> dict:
    """Values for the ``{...}`` placeholders of every formula template, in ``lang``."""
    w = {
        f"w_{k}": quote(label(k, lang))
        for k in ("ok", "caution", "margin_call", "loss_cut", "entry", "mark", "none")
    }
    w["lang"] = quote(lang)
    w["long_words"], w["short_words"] = _any_side("side", "long"), _any_side("side", "short")
    w["mark_words"], w["entry_words"] = _any_of("basis", "mark"), _any_of("basis", "entry")
    w["mark_words_a"] = _any_of("account_basis", "mark")
    w["entry_words_a"] = _any_of("account_basis", "entry")
    rules = {
        "side": "check_choice",
        "basis": "check_choice",
        "hedge": "check_choice",
        "exchange": "check_preset",
        "deposit": "check_nonnegative",
        "fees": "check_nonnegative",
        "holding_days": "check_nonnegative",
        "daily_fee_rate": "check_nonnegative",
        "margin_call_level": "check_level",
        "loss_cut_level": "check_level",
        "safe_level": "check_level",
        "risk": "check_risk",
        "price_decimals": "check_decimals",
    }
    # every Calculator input, and the hedge rule of the Account sheet
    for key in (*(f.key for f in INPUTS + LEVELS + WHAT_IF), "hedge"):
        w[f"c_{key}"] = quote(label(rules.get(key, "check_positive"), lang).format(name=label(key, lang)))
        w[f"d_{key}"] = quote(label("check_date", lang).format(name=label(key, lang)))
    w["c_stop_entry"] = quote(label("check_stop_entry", lang).format(name=label("stop_price", lang)))
    w["c_margin_rounding"] = quote(
        label("check_margin_rounding", lang).format(name=label("margin_rounding", lang))
    )
    w["c_rows"] = quote(label("check_rows", lang))
    w["c_beyond_tiers"] = quote(label("check_beyond_tiers", lang).format(name=label("loss_cut_price", lang)))
    w["c_rows_below"] = quote(label("check_rows_below", lang))
    for name, _ in LADDER_LEVELS:
        w[f"m_{name}"] = quote(label(name, lang))
    return w


def side_words(ref: str) -> dict:
    """``long_words_r``/``short_words_r``: ``ref`` equals a long/short word of any language."""
    return {"long_words_r": _any_side(ref, "long"), "short_words_r": _any_side(ref, "short")}


def none_words(ref: str) -> str:
    """``ref`` equals the "none" word of any language."""
    return _any_of(ref, "none")
