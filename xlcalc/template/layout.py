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

from dataclasses import dataclass

from ..labels import LANGUAGES, label

# Levels used when no exchange preset is chosen (the CLI's defaults too).
DEFAULT_MARGIN_CALL = 1.0
DEFAULT_LOSS_CUT = 0.5

# Number formats per kind and language. Money in yen has no decimals.
FORMATS = {
    "money": {"ja": '"¥"#,##0', "en": "#,##0.00"},
    "price": {"ja": "#,##0.00", "en": "#,##0.00"},
    "qty": {"ja": "#,##0.0000####", "en": "#,##0.0000####"},
    "pct": {"ja": "0.0%", "en": "0.0%"},
    "lev": {"ja": "General", "en": "General"},
    "text": {"ja": "@", "en": "@"},
    "general": {"ja": "General", "en": "General"},
}


@dataclass(frozen=True)
class Field:
    """One row of the Calculator: its defined name (also its label key) and how to fill it.

    ``formula is None`` makes an input cell (unlocked, highlighted). ``check`` names the
    validation an input gets ("positive", "nonnegative", "risk", "side", "basis",
    "exchange"). ``distance`` adds the distance to ``price`` in price and % beside it.
    """

    key: str
    kind: str
    formula: str | None = None
    udf: str | None = None
    note: str | None = None
    check: str | None = None
    distance: bool = False


def _pos(name):
    return f"AND(ISNUMBER({name}),{name}>0)"


def _level_ok(name):
    return f"OR({name}=\"\",{_pos(name)})"


def _trigger(level):
    # core._trigger with a scalar basis: mark -> k = r/L, c = 0; entry -> k = 0, c = P0*Q*r/L,
    # written in the core's order of operations so both round alike.
    x = (f"IF(mark_basis=1,(side_sign*entry_price*quantity-(deposit-fees))"
         f"/(quantity*(side_sign-{level}/leverage)),"
         f"(side_sign*entry_price*quantity-(deposit-fees)+entry_price*quantity*{level}/leverage)"
         f"/(side_sign*quantity))")
    return f'=IF(AND(inputs_ok,ISNUMBER({level})),IF(IFERROR({x},-1)>0,{x},""),"")'


def _status(ratio, mc="margin_call_level", lc="loss_cut_level"):
    # core.status: strictly below a level; a blank level is ignored.
    return (f"IF(AND(ISNUMBER({lc}),{ratio}<{lc}),{{w_loss_cut}},"
            f"IF(AND(ISNUMBER({mc}),{ratio}<{mc}),{{w_margin_call}},{{w_ok}}))")


def _first(checks, otherwise='""'):
    """Nested IF returning the message of the first failing check."""
    out = otherwise
    for cond, msg in reversed(checks):
        out = f"IF({cond},{msg},{out})"
    return out


# Main inputs: any problem here blanks every result and shows the message.
MAIN_CHECKS = [
    ("side_sign=0", "{c_side}"),
    ("mark_basis=-1", "{c_basis}"),
    (f"NOT({_pos('entry_price')})", "{c_entry_price}"),
    (f"NOT({_pos('quantity')})", "{c_quantity}"),
    (f"NOT({_pos('leverage')})", "{c_leverage}"),
    ("NOT(AND(ISNUMBER(deposit),deposit>=0))", "{c_deposit}"),
    ("NOT(OR(ISBLANK(fees),AND(ISNUMBER(fees),fees>=0)))", "{c_fees}"),
    (f"NOT({_pos('price')})", "{c_price}"),
    ("preset_row=-1", "{c_exchange}"),
    (f"NOT({_level_ok('margin_call_level')})", "{c_margin_call_level}"),
    (f"NOT({_level_ok('loss_cut_level')})", "{c_loss_cut_level}"),
]
# What-if inputs: a problem blanks only the result that uses the input.
EXTRA_CHECKS = [
    (f"NOT(OR(ISBLANK(gap_price),{_pos('gap_price')}))", "{c_gap_price}"),
    (f"NOT(OR(ISBLANK(stop_price),{_pos('stop_price')}))", "{c_stop_price}"),
    ("NOT(OR(ISBLANK(risk),AND(ISNUMBER(risk),risk>0,risk<=1)))", "{c_risk}"),
    ("AND(ISNUMBER(stop_price),ISNUMBER(entry_price),stop_price=entry_price)", "{c_stop_entry}"),
]

_SIDE = '=IF(OR({long_words}),1,IF(OR({short_words}),-1,0))'
_MARK = '=IF(OR({mark_words}),1,IF(OR({entry_words}),0,-1))'

INPUTS = [
    Field("side", "text", note="note_side", check="side"),
    Field("entry_price", "price", check="positive"),
    Field("quantity", "qty", check="positive"),
    Field("leverage", "lev", check="positive"),
    Field("deposit", "money", check="nonnegative"),
    Field("fees", "money", note="note_fees", check="nonnegative"),
    Field("price", "price", check="positive"),
    Field("exchange", "text", note="note_exchange", check="exchange"),
]

# Levels: "Your value" (input) | "Preset" (from the Exchanges sheet) | "Used" (the name).
_PRESET = {
    "basis": ('=IF(preset_row<=0,{w_entry},IF(OR(INDEX(preset_model,preset_row)="mmr",'
              'INDEX(preset_basis,preset_row)="mark"),{w_mark},{w_entry}))'),
    "margin_call_level": ('=IF(preset_row<=0,IF(preset_row=0,' + repr(DEFAULT_MARGIN_CALL) + ',""),'
                          'IF(INDEX(preset_model,preset_row)="mmr","",'
                          'IF(ISNUMBER(INDEX(preset_mc,preset_row)),INDEX(preset_mc,preset_row),"")))'),
    # mmr presets: liquidation at P*Q*mmr on mark basis is a ratio of mmr x leverage.
    "loss_cut_level": ('=IF(preset_row<=0,IF(preset_row=0,' + repr(DEFAULT_LOSS_CUT) + ',""),'
                       'IF(INDEX(preset_model,preset_row)="mmr",IFERROR(INDEX(preset_mmr,preset_row)*leverage,""),'
                       'IF(ISNUMBER(INDEX(preset_lc,preset_row)),INDEX(preset_lc,preset_row),"")))'),
}
_USED_LEVEL = ('=IF({k}_override="",{k}_preset,IF(OR({none_words_k}),"",{k}_override))')
LEVELS = [
    Field("basis", "text", formula="=IF({k}_override<>\"\",{k}_override,{k}_preset)", check="basis"),
    Field("margin_call_level", "pct", formula=_USED_LEVEL, note="note_levels"),
    Field("loss_cut_level", "pct", formula=_USED_LEVEL, note="note_levels"),
]
PRESET_FORMULAS = _PRESET

WHAT_IF = [
    Field("gap_price", "price", check="positive"),
    Field("stop_price", "price", check="positive"),
    Field("risk", "pct", note="note_risk", check="risk"),
]

_OK = "IF(inputs_ok,{},\"\")"
_MARGIN = "IF(mark_basis=1,price,entry_price)"
_RESTORE = "AND(inputs_ok,ISNUMBER(target_level))"
_SIZE_OK = ("AND(inputs_ok,ISNUMBER(stop_price),stop_price>0,ISNUMBER(risk),risk>0,risk<=1,"
            "deposit>0,stop_price<>entry_price)")
_ARGS = "deposit,side,entry_price,{p},quantity,leverage"  # XLC_RATIO etc.
# XLC_STATUS reads an empty level as its default; the word none means "no such level".
_UDF_LEVELS = ("IF(ISNUMBER(margin_call_level),margin_call_level,{w_none}),"
               "IF(ISNUMBER(loss_cut_level),loss_cut_level,{w_none})")

OUTPUTS = [
    Field("input_check", "text",
          formula="=IF(inputs_ok," + _first(EXTRA_CHECKS) + "," + _first(MAIN_CHECKS) + ")"),
    Field("notional", "money", formula="=" + _OK.format("price*quantity")),
    Field("required_margin", "money",  # core.required_margin on the basis price
          formula="=" + _OK.format(f"{_MARGIN}*quantity/leverage"),
          udf="=" + _OK.format(f"XLC_REQUIRED_MARGIN({_MARGIN},quantity,leverage)")),
    Field("pnl", "money",  # core.unrealized_pnl
          formula="=" + _OK.format("side_sign*(price-entry_price)*quantity"),
          udf="=" + _OK.format("XLC_PNL(side,entry_price,price,quantity)")),
    Field("equity", "money",  # core.equity
          formula="=" + _OK.format("deposit+side_sign*(price-entry_price)*quantity-fees"),
          udf="=" + _OK.format("XLC_EQUITY(deposit,side,entry_price,price,quantity,fees)")),
    Field("ratio", "pct",  # core.maintenance_ratio
          formula="=" + _OK.format("equity/required_margin"),
          udf="=" + _OK.format("XLC_RATIO(deposit,side,entry_price,price,quantity,leverage,basis,fees)")),
    Field("status", "text",  # core.status, in the sheet's language
          formula="=IF(inputs_ok," + _status("ratio") + ",input_check)",
          udf="=IF(inputs_ok,XLC_STATUS(ratio," + _UDF_LEVELS + ",{lang}),input_check)"),
    Field("margin_call_price", "price", formula=_trigger("margin_call_level"), distance=True,
          udf=('=IF(AND(inputs_ok,ISNUMBER(margin_call_level)),XLC_MARGINCALL_PRICE(deposit,side,'
               'entry_price,quantity,leverage,margin_call_level,basis,fees),"")')),
    Field("loss_cut_price", "price", formula=_trigger("loss_cut_level"), distance=True,
          udf=('=IF(AND(inputs_ok,ISNUMBER(loss_cut_level)),XLC_LOSSCUT_PRICE(deposit,side,'
               'entry_price,quantity,leverage,loss_cut_level,basis,fees),"")')),
    Field("bankruptcy_price", "price", distance=True,  # core.bankruptcy_price
          formula=('=IF(inputs_ok,IF(entry_price-side_sign*(deposit-fees)/quantity>0,'
                   'entry_price-side_sign*(deposit-fees)/quantity,""),"")'),
          udf="=" + _OK.format("XLC_BANKRUPTCY_PRICE(deposit,side,entry_price,quantity,fees)")),
    # No margin call (GMO Coin): restore the loss-cut level instead, as the CLI does.
    Field("target_level", "pct",
          formula='=IF(ISNUMBER(margin_call_level),margin_call_level,IF(ISNUMBER(loss_cut_level),loss_cut_level,""))'),
    Field("additional_deposit", "money",  # core.additional_deposit
          formula=f'=IF({_RESTORE},MAX(0,target_level*required_margin-equity),"")',
          udf=(f'=IF({_RESTORE},XLC_ADD_DEPOSIT({_ARGS.format(p="price")},target_level,basis,fees),"")')),
    Field("close_quantity", "qty",  # core.close_quantity
          formula=f'=IF({_RESTORE},quantity*MIN(1,MAX(0,1-equity/(target_level*required_margin))),"")',
          udf=(f'=IF({_RESTORE},XLC_CLOSE_QTY({_ARGS.format(p="price")},target_level,basis,fees),"")')),
    Field("shortfall", "money",  # core.shortfall at the gap fill price
          formula=('=IF(AND(inputs_ok,ISNUMBER(gap_price),gap_price>0),'
                   'MAX(0,-(deposit+side_sign*(gap_price-entry_price)*quantity-fees)),"")'),
          udf=('=IF(AND(inputs_ok,ISNUMBER(gap_price),gap_price>0),'
               'XLC_SHORTFALL(deposit,side,entry_price,gap_price,quantity,fees),"")')),
    Field("stop_loss_amount", "money",  # core.stop_loss_amount (no XLC_ function: native in both)
          formula=('=IF(AND(inputs_ok,ISNUMBER(stop_price),stop_price>0),'
                   '(entry_price-stop_price)*side_sign*quantity,"")')),
    Field("position_size", "qty",  # core.position_size(deposit, risk, entry, stop), uncapped
          formula=f'=IF({_SIZE_OK},deposit*risk/ABS(entry_price-stop_price),"")',
          udf=f'=IF({_SIZE_OK},XLC_POSITION_SIZE(deposit,risk,entry_price,stop_price),"")'),
    Field("position_size_capped", "qty",  # core.position_size(..., leverage)
          formula=f'=IF({_SIZE_OK},MIN(deposit*risk/ABS(entry_price-stop_price),deposit*leverage/entry_price),"")',
          udf=f'=IF({_SIZE_OK},XLC_POSITION_SIZE(deposit,risk,entry_price,stop_price,leverage),"")'),
]

WORKING = [
    Field("side_sign", "general", formula=_SIDE),
    Field("mark_basis", "general", formula=_MARK),
    Field("preset_row", "general", formula='=IF(exchange="",0,IFERROR(MATCH(exchange,preset_ids,0),-1))'),
    Field("inputs_ok", "general", formula="=" + _first(MAIN_CHECKS) + '=""'),
]

# Names of the distance cells beside a trigger price: price difference and relative move.
DISTANCE_PREFIX = {"margin_call_price": "margin_call", "loss_cut_price": "loss_cut",
                   "bankruptcy_price": "bankruptcy"}

CALCULATOR = [("section_inputs", INPUTS), ("section_levels", LEVELS), ("section_what_if", WHAT_IF),
              ("section_outputs", OUTPUTS), ("section_working", WORKING)]

# Sample position per language (the yen one is the SPEC's derived BTC example).
SAMPLE = {
    "ja": dict(side="long", entry_price=10_000_000, quantity=0.1, leverage=2, deposit=800_000, fees=0,
               price=9_000_000, gap_price=1_500_000, stop_price=9_500_000, risk=0.02),
    "en": dict(side="long", entry_price=50_000, quantity=0.2, leverage=2, deposit=5_000, fees=0,
               price=45_000, gap_price=20_000, stop_price=47_500, risk=0.02),
}

# Scenarios: one row per price move; columns as (label key, kind, native, udf). {r} = row.
SCENARIO_MOVES = [round(-0.5 + 0.05 * i, 2) for i in range(21)]
SCENARIO_COLUMNS = [
    ("move", "pct", None, None),
    ("price", "price", '=IF(AND(inputs_ok,ISNUMBER(A{r})),IF(price*(1+A{r})>0,price*(1+A{r}),""),"")', None),
    ("pnl", "money", '=IF(ISNUMBER(B{r}),side_sign*(B{r}-entry_price)*quantity,"")',
     '=IF(ISNUMBER(B{r}),XLC_PNL(side,entry_price,B{r},quantity),"")'),
    ("equity", "money", '=IF(ISNUMBER(B{r}),deposit+side_sign*(B{r}-entry_price)*quantity-fees,"")',
     '=IF(ISNUMBER(B{r}),XLC_EQUITY(deposit,side,entry_price,B{r},quantity,fees),"")'),
    ("ratio", "pct", '=IF(ISNUMBER(B{r}),D{r}/(IF(mark_basis=1,B{r},entry_price)*quantity/leverage),"")',
     '=IF(ISNUMBER(B{r}),XLC_RATIO(deposit,side,entry_price,B{r},quantity,leverage,basis,fees),"")'),
    ("status", "text", '=IF(ISNUMBER(E{r}),' + _status("E{r}") + ',"")',
     '=IF(ISNUMBER(E{r}),XLC_STATUS(E{r},' + _UDF_LEVELS + ',{lang}),"")'),
    # #N/A (not "") so that the chart leaves a gap for a level the exchange does not have.
    ("margin_call_level", "pct", "=IF(ISNUMBER(margin_call_level),margin_call_level,NA())", None),
    ("loss_cut_level", "pct", "=IF(ISNUMBER(loss_cut_level),loss_cut_level,NA())", None),
]

# Positions: an Excel Table; input columns first, then formulas. {r} = row.
_ROW_SIDE = "IF(OR({long_words_r}),1,IF(OR({short_words_r}),-1,0))"
_ROW_USED = "AND(COUNTA(B{r}:F{r})>0,I{r}=\"\")"
POSITION_COLUMNS = [
    ("symbol", "text", None, None),
    ("side", "text", None, None),
    ("entry_price", "price", None, None),
    ("quantity", "qty", None, None),
    ("leverage", "lev", None, None),
    ("price", "price", None, None),
    ("pnl", "money", f"=IF({_ROW_USED},{_ROW_SIDE}*(F{{r}}-C{{r}})*D{{r}},\"\")",
     f"=IF({_ROW_USED},XLC_PNL(B{{r}},C{{r}},F{{r}},D{{r}}),\"\")"),
    ("required_margin", "money", f"=IF({_ROW_USED},IF(account_mark=1,F{{r}},C{{r}})*D{{r}}/E{{r}},\"\")",
     f"=IF({_ROW_USED},XLC_REQUIRED_MARGIN(IF(account_mark=1,F{{r}},C{{r}}),D{{r}},E{{r}}),\"\")"),
    ("col_check", "text", "=IF(COUNTA(A{r}:F{r})=0,\"\"," + _first([
        (f"{_ROW_SIDE}=0", "{c_side}"),
        (f"NOT({_pos('C{r}')})", "{c_entry_price}"),
        (f"NOT({_pos('D{r}')})", "{c_quantity}"),
        (f"NOT({_pos('E{r}')})", "{c_leverage}"),
        (f"NOT({_pos('F{r}')})", "{c_price}"),
    ]) + ")", None),
]
POSITION_ROWS = 20
SAMPLE_POSITIONS = {
    "ja": [("BTC/JPY", "long", 10_000_000, 0.1, 2, 9_000_000),
           ("ETH/JPY", "long", 400_000, 2, 2, 380_000),
           ("BTC/JPY", "short", 9_500_000, 0.05, 2, 9_000_000),
           ("XRP/JPY", "long", 90, 5_000, 2, 80)],
    "en": [("BTC/USD", "long", 50_000, 0.2, 2, 45_000),
           ("ETH/USD", "long", 3_000, 2, 2, 2_800),
           ("BTC/USD", "short", 48_000, 0.05, 2, 45_000),
           ("XRP/USD", "long", 0.6, 5_000, 2, 0.55)],
}
SAMPLE_ACCOUNT = {"ja": dict(deposit=1_500_000, fees=0), "en": dict(deposit=12_000, fees=0)}

# Account block above the Table: inputs, then results. Names get an "account_" prefix.
ACCOUNT_INPUTS = [
    Field("deposit", "money", check="nonnegative"),
    Field("fees", "money", check="nonnegative"),
    Field("basis", "text", check="basis"),
    Field("margin_call_level", "pct"),
    Field("loss_cut_level", "pct"),
]
_ACC_OK = "account_input_check=\"\""
ACCOUNT_OUTPUTS = [
    Field("input_check", "text", formula=None),  # filled by the builder (needs the Table range)
    Field("pnl", "money", formula="=SUM({pnl_range})"),
    Field("equity", "money", formula=f'=IF({_ACC_OK},account_deposit-account_fees+account_pnl,"")'),
    Field("required_margin", "money", formula="=SUM({margin_range})"),
    Field("ratio", "pct",
          formula=f'=IF(AND({_ACC_OK},account_required_margin>0),account_equity/account_required_margin,"")'),
    Field("status", "text",
          formula='=IF(ISNUMBER(account_ratio),' + _status(
              "account_ratio", "account_margin_call_level", "account_loss_cut_level") + ',account_input_check)'),
]
ACCOUNT_CHECKS = [
    ("NOT(AND(ISNUMBER(account_deposit),account_deposit>=0))", "{c_deposit}"),
    ("NOT(OR(ISBLANK(account_fees),AND(ISNUMBER(account_fees),account_fees>=0)))", "{c_fees}"),
    ("account_mark=-1", "{c_basis}"),
    (f"NOT(OR(ISBLANK(account_margin_call_level),{_pos('account_margin_call_level')}))", "{c_margin_call_level}"),
    (f"NOT(OR(ISBLANK(account_loss_cut_level),{_pos('account_loss_cut_level')}))", "{c_loss_cut_level}"),
    ("SUMPRODUCT(--(LEN({check_range})>0))>0", "{c_rows}"),
]
ACCOUNT_MARK = '=IF(OR({mark_words_a}),1,IF(OR({entry_words_a}),0,-1))'

# Exchanges: presets.COLUMNS; these get names for the Calculator's INDEX/MATCH.
PRESET_NAMES = {"id": "preset_ids", "margin_model": "preset_model", "margin_call_level": "preset_mc",
                "loss_cut_level": "preset_lc", "basis": "preset_basis", "mmr": "preset_mmr"}
PRESET_SPARE_ROWS = 20  # blank rows inside the named ranges for the user's own presets

GUIDE = ["title_guide", "", "guide_1", "guide_2", "guide_3", "guide_4", "", "guide_formulas",
         "guide_f1", "guide_f2", "guide_f3", "guide_f4", "guide_f5", "guide_f6", "guide_f7",
         "guide_f8", "", "guide_protect", "disclaimer"]


def quote(text: str) -> str:
    """A spreadsheet string literal."""
    return '"' + text.replace('"', '""') + '"'


def _any_of(ref, key):
    return ",".join(f"{ref}={quote(label(key, lang))}" for lang in LANGUAGES)


def words(lang: str) -> dict:
    """Values for the ``{...}`` placeholders of every formula template, in ``lang``."""
    w = {f"w_{k}": quote(label(k, lang)) for k in ("ok", "margin_call", "loss_cut", "entry", "mark", "none")}
    w["lang"] = quote(lang)
    w["long_words"], w["short_words"] = _any_of("side", "long"), _any_of("side", "short")
    w["mark_words"], w["entry_words"] = _any_of("basis", "mark"), _any_of("basis", "entry")
    w["long_words_r"], w["short_words_r"] = _any_of("B{r}", "long"), _any_of("B{r}", "short")
    w["mark_words_a"] = _any_of("account_basis", "mark")
    w["entry_words_a"] = _any_of("account_basis", "entry")
    for key in ("side", "basis", "entry_price", "quantity", "leverage", "deposit", "fees", "price",
                "exchange", "margin_call_level", "loss_cut_level", "gap_price", "stop_price", "risk"):
        rule = {"side": "check_choice", "basis": "check_choice", "exchange": "check_preset",
                "deposit": "check_nonnegative", "fees": "check_nonnegative",
                "margin_call_level": "check_level", "loss_cut_level": "check_level",
                "risk": "check_risk"}.get(key, "check_positive")
        w[f"c_{key}"] = quote(label(rule, lang).format(name=label(key, lang)))
    w["c_stop_entry"] = quote(label("check_stop_entry", lang).format(name=label("stop_price", lang)))
    w["c_rows"] = quote(label("check_rows", lang))
    return w


def none_words(ref: str) -> str:
    """``ref`` equals the "none" word of any language."""
    return _any_of(ref, "none")
