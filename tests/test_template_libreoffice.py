"""The template's native formulas, recalculated by headless LibreOffice, equal the Python core.

Per language: 50 random positions (both sides, both bases, levels that are blank, "none",
unreachable, presets incl. the mmr model, fees, tick sizes, quote rates, safe levels, holding
days), every preset, bad inputs, and a few workbooks whose Scenarios and Positions columns are
placed in the reverse order (issue #9: formulas come from the column map, so the results do
not move). Each input set is typed into the input cells with openpyxl; ALL workbooks are
recalculated in ONE soffice call; then every named output, every ladder row and the Positions
account are compared with xlcalc's functions. A second soffice call prints every sheet of the
shipped workbooks to PDF and counts the pages.
"""

from __future__ import annotations

import contextlib
import math
import random
import re
import shutil
import subprocess

import openpyxl
import pandas as pd
import pytest
from libreoffice import convert, recalculate, require_soffice

import xlcalc as xc
from xlcalc.core import parse_basis, parse_side, round_to_tick
from xlcalc.display import price_decimals
from xlcalc.labels import LANGUAGES, label
from xlcalc.presets import COLUMNS as PRESET_COLUMNS
from xlcalc.presets import money_rounding, preset_levels, resolve_levels
from xlcalc.report import build_report
from xlcalc.template import build_workbook, layout, write_template

RANDOM_CASES = 50
REORDERED_CASES = 6  # per language, built with reversed column lists
REL = 1e-9
PRESET_IDS = list(xc.exchange_presets().index)
ERRORS = {"#VALUE!", "#REF!", "#NAME?", "#DIV/0!", "#NUM!", "#NULL!"}  # "#N/A" marks chart gaps


# -- the core ---------------------------------------------------------------------------------


def _round_to_tick(price, side, tick):
    return float(round_to_tick(price, side, tick_size=tick))


# -- random cases ---------------------------------------------------------------------------

# Side words as traders type them, read by the core (xlcalc._inputs.parse_side_word: NFKC, then
# its word lists) and by the template (ASC, then the same lists).
TYPED_SIDES = {
    "long": ["買建", "買い建て", "新規買", "ＢＵＹ", "ﾛﾝｸﾞ", "ロング", "buy", "L", "1", "新規買い"],
    "short": ["売建", "売り建て", "新規売", "ｓｅｌｌ", "ｼｮｰﾄ", "ショート", "SELL", "s", "-1", "売建て"],
}


def _random_case(rng: random.Random, lang: str, i: int) -> dict:
    entry = 10 ** rng.uniform(-1, 7)
    qty = 10 ** rng.uniform(-3, 4)
    lev = rng.choice([1, 2, 4, 10, 25, 100, rng.uniform(0.5, 50)])
    notional = entry * qty
    deposit = notional / lev * rng.uniform(0.2, 3)
    if i % 10 == 3:
        deposit = notional * rng.uniform(1.0, 2.0)  # fully funded: some levels unreachable
    if i % 17 == 5:
        deposit = 0.0
    side_word = rng.choice(["long", "short"])
    other = "en" if lang == "ja" else "ja"
    rate = rng.choice([None, 1, 1, 80.0, 150.25, 0.0067])
    case = dict(
        side=label(side_word, other if i % 9 == 0 else lang),  # both languages' words work
        entry_price=entry,
        quantity=qty,
        leverage=lev,
        deposit=deposit * (rate or 1),
        fees=0.0 if i % 2 else deposit * rng.uniform(0, 0.2),
        price=entry * rng.uniform(0.3, 1.7),
        tick_size=None if i % 3 else 10 ** round(math.log10(entry) - rng.choice([2, 3, 4])),
        quote_rate=rate,
        exchange=None,
        basis_override=None,
        margin_call_level_override=None,
        loss_cut_level_override=None,
        safe_level_override=None,
        daily_fee_rate_override=None,
        gap_price=entry * rng.uniform(0.05, 2.0) if i % 4 else None,
        stop_price=entry * rng.uniform(0.8, 1.2) if i % 5 else None,
        risk=rng.uniform(0.001, 0.1) if i % 6 else None,
        holding_days=rng.choice([None, 0, 30, 365]),
    )
    if i % 3 == 0:
        case["exchange"] = rng.choice(PRESET_IDS)
    if i % 3 != 1:
        case["basis_override"] = label(rng.choice(["entry", "mark"]), lang)
    for key, lo, hi in (("margin_call_level", 0.5, 2.5), ("loss_cut_level", 0.05, 0.9)):
        pick = rng.random()
        if pick < 0.5:
            case[f"{key}_override"] = rng.uniform(lo, hi)
        elif pick < 0.65:
            case[f"{key}_override"] = label("none", rng.choice(LANGUAGES))
        if i % 11 == 7 and key == "loss_cut_level":
            case[f"{key}_override"] = lev * rng.uniform(1.0, 3.0)  # mark basis: k >= s, unreachable
    case["safe_level_override"] = rng.choice([None, None, 7.0, rng.uniform(1, 5), label("none", lang)])
    case["daily_fee_rate_override"] = rng.choice([None, 0.0004, rng.uniform(0, 0.003)])
    if i % 7 == 2:  # a side word the core reads (full-width, half-width, 建 words), typed
        case["side"] = rng.choice(TYPED_SIDES[side_word])
    case["positions"] = [
        (
            rng.choice(["S1", "S2", None]),
            rng.choice([label(word, lang)] * 3 + TYPED_SIDES[word]),
            10 ** rng.uniform(0, 6),
            10 ** rng.uniform(-2, 2),
            rng.choice([1, 2, 5, 25]),
            None,
        )
        for word in [rng.choice(["long", "short"]) for _ in range(rng.randint(1, 6))]
    ]
    case["positions"] = [row[:5] + (row[2] * rng.uniform(0.5, 1.5),) for row in case["positions"]]
    case["account"] = dict(
        deposit=rng.uniform(0, 1) * sum(r[2] * r[3] for r in case["positions"]),
        fees=rng.choice([0.0, rng.uniform(0, 100)]),
        basis=label(rng.choice(["entry", "mark"]), lang),
        # blank: the account preset's level, else the default (as xlcalc report --exchange)
        margin_call_level=rng.choice([1.0, rng.uniform(0.5, 2), None, label("none", lang)]),
        loss_cut_level=rng.choice([0.5, rng.uniform(0.1, 0.5), None, label("none", lang)]),
        safe_level=rng.choice([None, None, rng.uniform(1, 4), label("none", lang)]),
        hedge=rng.choice([None, "sum", "max", "max"]),
        exchange=rng.choice([None, "gmo_coin_fx", "binance_usdm", "jp_fx_25x"]),
    )
    return case


def _bad_cases(lang):
    base = dict(layout.SAMPLE[lang], side=label("long", lang))
    bad = [
        ("entry_price", "abc"),
        ("leverage", 0),
        ("quantity", -1),
        ("deposit", None),
        ("side", "sideways"),
        ("price", "10,000"),
        ("fees", -5),
        ("exchange", "no_such_id"),
        ("margin_call_level_override", "abc"),
        ("basis_override", "market"),
        ("tick_size", "abc"),
        ("quote_rate", 0),
        ("safe_level_override", -1),
        ("daily_fee_rate_override", "x"),
    ]
    cases = [dict(base, **{k: v}, _bad=k) for k, v in bad]
    # a user's own preset row whose rounding the core would refuse (round_money raises)
    for rounding, unit in (("ceil", 1), ("floor", 0)):
        user = _user_preset(margin_rounding=rounding, money_unit=unit)
        cases.append(dict(base, exchange=user["id"], _user_preset=user, _bad="margin_rounding"))
    return cases


# -- money rounding (SPEC §8): DMM FX floors the required margin to the yen ---------------------

USER_PRESET_ID = "my_venue"
# the account's levels: typed as "Your value" (blank: the account preset's, else the default)
ACCOUNT_LEVEL_KEYS = ("basis", "margin_call_level", "loss_cut_level", "safe_level")


def _user_preset(**conventions):
    """A user's own row on the Exchanges sheet: DMM FX's copied, its conventions edited."""
    return dict(xc.get_preset("dmm_fx"), id=USER_PRESET_ID, name="My venue", **conventions)


def _dmm_positions(lang):
    """(symbol, side, entry, quantity, leverage, price) rows: the report test's DMM account
    (GBP/JPY 194.787 -> 77,914; USD/JPY 149.094 -> 59,637, hedged), priced off their entries."""
    long_, short = label("long", lang), label("short", lang)
    return [
        ("GBP/JPY", long_, 195.2, 10_000, 25, 194.787),
        ("GBP/JPY", long_, 193.9, 10_000, 25, 194.787),
        ("USD/JPY", short, 148.5, 10_000, 25, 149.094),
        ("USD/JPY", long_, 150.3, 10_000, 25, 149.094),
    ]


def _split_hedge_positions(lang):
    """A hedge whose larger side by the exact margin is the smaller one as shown: long 3 x
    100.9 = 302.7 (shown 3 x 100 = 300), short 301.5 (shown 301). The report counts the long
    side, 300; the larger shown side would be 301."""
    long_, short = label("long", lang), label("short", lang)
    return [
        ("X", long_, 100, 1.009, 1, 100),
        ("X", long_, 100, 1.009, 1, 100),
        ("X", long_, 100, 1.009, 1, 100),
        ("X", short, 100, 3.015, 1, 100),
        ("Y", short, 149.015, 10_000, 25, 149.015),
    ]


def _rounding_cases(lang):
    """Calculator and Positions inputs whose required margin a preset rounds (or does not)."""
    base = dict(
        side=label("long", lang),
        quantity=10_000,
        leverage=25,
        deposit=100_000.0,
        fees=0.0,
        tick_size=None,
        quote_rate=None,
        exchange="dmm_fx",
        basis_override=label("mark", lang),  # dmm_fx's basis, for the presets without it too
        margin_call_level_override=None,
        loss_cut_level_override=None,
        safe_level_override=None,
        daily_fee_rate_override=None,
        gap_price=None,
        stop_price=None,
        risk=None,
        holding_days=None,
    )
    account = dict(
        deposit=500_000.0,
        fees=0.0,
        basis=label("mark", lang),
        margin_call_level=1.0,
        loss_cut_level=0.5,
        hedge=None,
        exchange="dmm_fx",
    )
    gbp = dict(entry_price=195.2, price=194.787)
    dmm, split = _dmm_positions(lang), _split_hedge_positions(lang)
    # (name, the Calculator's inputs, the margin shown, positions, account changes)
    table = [
        ("gbp_jpy", gbp, 77_914, dmm, {}),
        ("usd_jpy", dict(entry_price=148.5, price=149.094), 59_637, dmm, dict(hedge="max")),
        # 149.015 x 10,000 / 25 is 59,605.99999999999 in floats: 59,606, never 59,605
        ("float_noise", dict(entry_price=149.015, price=149.015), 59_606, split, dict(hedge="max")),
        ("cross_rate", dict(entry_price=1.09, price=1.08523, quote_rate=149.094), 64_720, split, {}),
        ("no_rounding", dict(gbp, exchange="jp_fx_25x"), 77_914.8, dmm, dict(exchange="jp_fx_25x")),
        ("no_preset", dict(gbp, exchange=None), 77_914.8, dmm, dict(exchange=None, hedge="max")),
        ("user_floor_100", dict(gbp, _user_preset=_user_preset(money_unit=100)), 77_900, dmm, {}),
        (
            "user_blank",
            dict(gbp, _user_preset=_user_preset(margin_rounding="", money_unit=math.nan)),
            77_914.8,
            split,
            {},
        ),
        ("user_blank_unit", dict(gbp, _user_preset=_user_preset(money_unit=math.nan)), 77_914, split, {}),
    ]
    cases = []
    for name, calc, shown, positions, acc in table:
        case = dict(base, **calc, positions=positions, account=dict(account, **acc))
        if "_user_preset" in case:
            case["exchange"] = USER_PRESET_ID
        cases.append(dict(case, _rounding=name, _shown=shown))
    return cases


# The audit's hedged yen account (run5b) and a coin account without shipped tiers (flat mmr).
AUDIT_ROWS = [
    ("USD/JPY", "long", 110.123, 100_000, 25, 111.5),
    ("USD/JPY", "short", 112.5, 60_000, 25, 111.5),
    ("EUR/JPY", "short", 160.2, 30_000, 25, 163.8),
]
COIN_ROWS = [
    ("S1", "long", 60_000, 0.5, 10, 59_000),
    ("S1", "short", 61_000, 0.2, 20, 59_000),
    ("S2", "long", 3_000, 3, 5, 2_500),
]


def _account_cases(lang):
    """Positions accounts whose levels come from the account's preset (or are typed, or
    "none") and whose status may be "caution": (name, rows, account) with the Calculator's
    inputs of the rounding cases."""
    calc = dict(_rounding_cases(lang)[0])
    del calc["_rounding"], calc["_shown"]
    none = label("none", lang)
    table = [
        # audit: ratio 61.59 %, gmo_coin_fx loss-cut 75 %: Loss-cut (the template said Margin call)
        ("gmo_300k", AUDIT_ROWS, dict(deposit=300_000.0, exchange="gmo_coin_fx")),
        # audit: ratio 124.8 % under the 300 % safe level: Caution (the template said OK)
        ("jp_max_700k", AUDIT_ROWS, dict(deposit=700_000.0, exchange="jp_fx_25x", hedge="max")),
        ("jp_sum_300k", AUDIT_ROWS, dict(deposit=300_000.0, exchange="jp_fx_25x", hedge="sum")),
        ("jp_max_300k", AUDIT_ROWS, dict(deposit=300_000.0, exchange="jp_fx_25x", hedge="max")),
        ("gmo_700k", AUDIT_ROWS, dict(deposit=700_000.0, exchange="gmo_coin_fx")),
        ("no_preset", AUDIT_ROWS, dict(deposit=700_000.0, hedge="max")),
        (
            "safe_typed",
            AUDIT_ROWS,
            dict(deposit=700_000.0, exchange="jp_fx_25x", hedge="max", safe_level=1.2),
        ),
        (
            "safe_none",
            AUDIT_ROWS,
            dict(deposit=700_000.0, exchange="jp_fx_25x", hedge="max", safe_level=none),
        ),
        ("lc_typed", AUDIT_ROWS, dict(deposit=300_000.0, exchange="gmo_coin_fx", loss_cut_level=0.6)),
        ("mc_none", AUDIT_ROWS, dict(deposit=300_000.0, exchange="jp_fx_25x", margin_call_level=none)),
        ("binance_max", COIN_ROWS, dict(deposit=1_500.0, exchange="binance_usdm", hedge="max")),
        ("binance_sum", COIN_ROWS, dict(deposit=600.0, exchange="binance_usdm", hedge="sum")),
        (
            "binance_entry",
            COIN_ROWS,
            dict(deposit=900.0, exchange="binance_usdm", basis=label("entry", lang)),
        ),
        ("bybit_low", COIN_ROWS, dict(deposit=250.0, exchange="bybit_usdt")),
    ]
    cases = []
    for name, rows, acc in table:
        positions = [(r[0], label(r[1], lang), *r[2:]) for r in rows]
        account = dict(dict(fees=0.0, hedge=None, exchange=None), **acc)
        cases.append(dict(calc, positions=positions, account=account, _account=name))
    return cases


# Positions on mmr presets, each as xlcalc calc --exchange ID (--symbol BTCUSDT) takes it: the
# audit's 5 BTCUSDT at 20x (Binance's third tier, 1 %: the flat first tier's 0.4 % said
# "Caution" at 57,228.9 where Binance had liquidated), its short, a small position in the first
# tier, one in the fourth, one beyond the shipped table's last tier, Bybit's table and Bybit's
# classic account (no table: one tier at its mmr, valued at entry).
TIER_POSITIONS = {
    "audit": ("binance_usdm", "long", 60_000.0, 5, 20, 15_000.0, 57_280.0),
    "audit_short": ("binance_usdm", "short", 60_000.0, 5, 20, 15_000.0, 62_700.0),
    "first_tier": ("binance_usdm", "long", 60_000.0, 0.5, 20, 1_500.0, 59_000.0),
    "fourth_tier": ("binance_usdm", "long", 60_000.0, 50, 20, 150_000.0, 59_000.0),
    "beyond": ("binance_usdm", "long", 60_000.0, 400, 10, 2_400_000.0, 59_000.0),
    "bybit": ("bybit_usdt", "short", 60_000.0, 40, 20, 120_000.0, 61_000.0),
    "bybit_classic": ("bybit_usdt_classic", "long", 60_000.0, 2, 20, 6_000.0, 58_000.0),
}


def _tier_cases(lang):
    """The positions above on the Calculator, no level typed (the preset's), no fees or tick."""
    base = dict(_account_cases(lang)[0], basis_override=None, fees=0.0, tick_size=None, quote_rate=None)
    base.update(margin_call_level_override=None, loss_cut_level_override=None, _tier=True)
    for key in ("_account", "_user_preset"):
        base.pop(key, None)
    cases = []
    for name, (exchange, side, entry, qty, lev, deposit, price) in TIER_POSITIONS.items():
        position = dict(entry_price=entry, quantity=qty, leverage=lev, deposit=deposit, price=price)
        cases.append(dict(base, exchange=exchange, side=label(side, lang), **position, _tier_name=name))
    return cases


@contextlib.contextmanager
def _reversed_columns():
    """Build with the Scenarios and Positions columns in the reverse order (issue #9)."""
    saved = layout.SCENARIO_COLUMNS, layout.CHART_COLUMNS, layout.POSITION_COLUMNS
    layout.SCENARIO_COLUMNS = saved[0][::-1]
    layout.CHART_COLUMNS = saved[1][::-1]
    layout.POSITION_COLUMNS = saved[2][::-1]
    try:
        yield
    finally:
        layout.SCENARIO_COLUMNS, layout.CHART_COLUMNS, layout.POSITION_COLUMNS = saved


def _write(case, lang, path, reverse=False, below=False):
    with _reversed_columns() if reverse else contextlib.nullcontext():
        wb = build_workbook(lang)
    names, columns = wb._xlcalc_names, wb._xlcalc_columns
    if "_user_preset" in case:  # typed into the first spare row of the Exchanges sheet
        ws = wb[label("sheet_exchanges", lang)]
        heads = [c.value for c in ws[4]]
        row = next(r for r in range(5, ws.max_row + 2) if ws.cell(row=r, column=1).value is None)
        for col, value in case["_user_preset"].items():
            if col in PRESET_COLUMNS and not (isinstance(value, float) and math.isnan(value)):
                head = label("preset_id" if col == "id" else col, lang)
                ws.cell(row=row, column=heads.index(head) + 1, value=value)
    for key, value in case.items():
        if key in names:
            sheet, cell = names[key]
            wb[sheet][cell].value = value
    if "positions" in case:
        ws = wb[names["account_deposit"][0]]
        for key, value in case["account"].items():
            sheet, cell = names[f"account_{key}_override" if key in ACCOUNT_LEVEL_KEYS else f"account_{key}"]
            wb[sheet][cell].value = value
        letters = columns["positions"]
        row0 = int(ws.tables["Positions"].ref.split(":")[0][1:]) + 1
        keys = ("symbol", "side", "entry_price", "quantity", "leverage", "price")
        for i in range(layout.POSITION_ROWS):
            for k in keys:
                ws[f"{letters[k]}{row0 + i}"].value = None
        rows = case["positions"]
        for i, rec in enumerate(rows):
            r = row0 + i if not (below and i == len(rows) - 1) else row0 + layout.POSITION_ROWS + 3
            for k, v in zip(keys, rec):
                ws[f"{letters[k]}{r}"].value = v
    write_template(wb, path, force=True)
    return names, columns


@pytest.fixture(scope="module")
def recalculated(tmp_path_factory):
    require_soffice()
    src = tmp_path_factory.mktemp("generated")
    rng = random.Random(20261101)
    jobs = []
    for lang in LANGUAGES:
        cases = [_random_case(rng, lang, i) for i in range(RANDOM_CASES)]
        for ex in PRESET_IDS:
            c = _random_case(rng, lang, 1)
            c.update(
                exchange=ex,
                basis_override=None,
                margin_call_level_override=None,
                loss_cut_level_override=None,
                daily_fee_rate_override=None,
            )
            cases.append(c)
        for i in range(REORDERED_CASES):
            cases.append(dict(_random_case(rng, lang, i), _reverse=True))
        below = _random_case(rng, lang, 2)
        below["positions"] = below["positions"][:2] * 2
        cases.append(dict(below, _below=True))
        cases += _rounding_cases(lang)
        cases += _account_cases(lang)
        cases += _tier_cases(lang)
        cases += _bad_cases(lang)
        for i, case in enumerate(cases):
            path = src / f"{lang}-{i:03d}.xlsx"
            names, columns = _write(case, lang, path, case.get("_reverse", False), case.get("_below", False))
            jobs.append((lang, case, names, columns, path))
    outs = recalculate([j[-1] for j in jobs], tmp_path_factory.mktemp("recalculated"))
    results = []
    for (lang, case, names, columns, _), out in zip(jobs, outs):
        wb = openpyxl.load_workbook(out, data_only=True)
        results.append((lang, case, dict(names, _columns=columns), wb))
    return results


# -- expected values from the core --------------------------------------------------------


def _preset(case):
    """The Calculator's preset row: a user's own (typed on the Exchanges sheet) or a built-in."""
    if not case["exchange"]:
        return None
    return case["_user_preset"] if "_user_preset" in case else xc.get_preset(case["exchange"])


def _levels(case):
    lev = case["leverage"]
    if case["exchange"]:
        preset = _preset(case)
        pre = preset_levels(preset, lev)
        fee = preset.get("daily_fee_rate", math.nan)
    else:
        pre = dict(
            margin_call_level=layout.DEFAULT_MARGIN_CALL,
            loss_cut_level=layout.DEFAULT_LOSS_CUT,
            basis="entry",
        )
        fee = math.nan
    pre = dict(pre, safe_level=layout.DEFAULT_SAFE, daily_fee_rate=fee)
    out = {}
    for key in ("margin_call_level", "loss_cut_level", "safe_level", "daily_fee_rate"):
        v = case.get(f"{key}_override")
        if v is None:
            out[key] = pre[key] if pre[key] is not None else math.nan
        elif isinstance(v, str):
            out[key] = math.nan  # "none"
        else:
            out[key] = v
    out["basis"] = case["basis_override"] or pre["basis"]
    tiered = _tiered_preset(case, out["basis"])
    if tiered is not None and case.get("loss_cut_level_override") is None:
        out["loss_cut_level"] = tiered["loss_cut_level"]
    return out


def _tiered_preset(case, basis):
    """xlcalc calc's loss-cut for an mmr preset (cli._tiered_loss_cut, through the public API):
    the level is the maintenance margin at the price (tiers.for_preset: the shipped table, else
    one tier at the preset's mmr; the preset's mm_basis) over the required margin, the price the
    tiered liquidation price; None for any other preset."""
    if not case["exchange"]:
        return None
    preset = _preset(case)
    if preset.get("margin_model") != "mmr" or "_user_preset" in case:
        return None
    table = xc.tiers.for_preset(case["exchange"])
    mm_basis = preset.get("mm_basis") or "mark"
    p, p0, q = case["price"], case["entry_price"], case["quantity"]
    maintenance = xc.perpetual.maintenance_margin(p, q, tiers=table, mm_basis=mm_basis, entry_price=p0)
    margin_price = p if parse_basis(basis) else p0
    wallet = (case["deposit"] - case["fees"]) / (case["quote_rate"] or 1.0)
    liquidation = xc.perpetual.liquidation_price(
        wallet, case["side"], p0, q, None, tiers=table, mm_basis=mm_basis, tick_size=case["tick_size"]
    )
    top = max(p, liquidation) if math.isfinite(liquidation) else p
    return dict(
        loss_cut_level=float(maintenance / (margin_price * q / case["leverage"])),
        loss_cut_price=float(liquidation),
        beyond=bool(xc.tiers.beyond_table(top * q, table)),
    )


def _trigger(args, level, tick):
    if math.isnan(level):
        return math.nan
    return xc.trigger_price(level=level, tick_size=tick, **args)


def expected_calculator(case, lang):
    lv = _levels(case)
    mc, lc, safe, basis = lv["margin_call_level"], lv["loss_cut_level"], lv["safe_level"], lv["basis"]
    rate, tick = case["quote_rate"] or 1.0, case["tick_size"]
    args = dict(
        deposit=case["deposit"],
        side=case["side"],
        entry_price=case["entry_price"],
        quantity=case["quantity"],
        leverage=case["leverage"],
        basis=basis,
        fees=case["fees"],
        quote_rate=rate,
    )
    p, p0, q, side = case["price"], case["entry_price"], case["quantity"], case["side"]
    d, f = case["deposit"], case["fees"]
    mark = parse_basis(basis)
    ratio = xc.maintenance_ratio(price=p, **args)
    exp = dict(
        notional=p * q * rate,
        # as the preset rounds it (SPEC §8); every other figure on the exact margin
        required_margin=xc.required_margin(
            p if mark else p0, q, case["leverage"], quote_rate=rate, **money_rounding(_preset(case))
        ),
        pnl=xc.unrealized_pnl(side, p0, p, q, quote_rate=rate),
        equity=xc.equity(d, side, p0, p, q, fees=f, quote_rate=rate),
        ratio=ratio,
        status=label(xc.status(ratio, mc, lc, safe_level=safe), lang),
        safe_price=_trigger(args, safe, tick),
        margin_call_price=_trigger(args, mc, tick),
        loss_cut_price=_trigger(args, lc, tick),
        bankruptcy_price=xc.bankruptcy_price(d, side, p0, q, fees=f, quote_rate=rate, tick_size=tick),
        margin_call_level=mc,
        loss_cut_level=lc,
        safe_level=safe,
    )
    tiered = _tiered_preset(case, basis)
    if tiered is not None and case.get("loss_cut_level_override") is None:
        exp["loss_cut_price"] = tiered["loss_cut_price"]  # the tiered liquidation, as xlcalc calc
    days, fee = case["holding_days"], lv["daily_fee_rate"]
    if days is None:
        exp["loss_cut_price_after_days"] = math.nan
    else:  # SPEC §10 fee drift: holding_cost (quote currency) more fees, in the account currency
        later = dict(args, fees=f + xc.holding_cost(p0, q, 0.0 if math.isnan(fee) else fee, days) * rate)
        exp["loss_cut_price_after_days"] = _trigger(later, lc, tick)
    for pre, key in layout.DISTANCE_PREFIX.items():
        t = exp[pre]
        exp[f"{key}_distance"] = t - p
        exp[f"{key}_distance_pct"] = t / p - 1
    target = mc if not math.isnan(mc) else lc
    exp["target_level"] = target
    if math.isnan(target):
        exp["additional_deposit"] = exp["close_quantity"] = math.nan
    else:
        exp["additional_deposit"] = xc.additional_deposit(price=p, target=target, **args)
        exp["close_quantity"] = xc.close_quantity(price=p, target=target, **args)
    gap, stop, risk = case["gap_price"], case["stop_price"], case["risk"]
    exp["shortfall"] = math.nan if gap is None else xc.shortfall(d, side, p0, gap, q, fees=f, quote_rate=rate)
    exp["stop_loss_amount"] = (
        math.nan if stop is None else xc.stop_loss_amount(side, p0, stop, q, quote_rate=rate)
    )
    if stop is None or risk is None or d <= 0:
        exp["position_size"] = exp["position_size_capped"] = math.nan
    else:
        exp["position_size"] = xc.position_size(d, risk, p0, stop)
        exp["position_size_capped"] = xc.position_size(d, risk, p0, stop, case["leverage"])
    return exp, args, lv


def _blank(v):
    return v is None or v == ""


def _close(got, want, scale, what):
    if isinstance(want, str):
        assert got == want, what
        return
    if math.isnan(want):
        assert _blank(got), f"{what}: expected an empty cell, got {got!r}"
        return
    assert isinstance(got, (int, float)) and not isinstance(got, bool), f"{what}: got {got!r}, want {want!r}"
    assert math.isclose(got, want, rel_tol=REL, abs_tol=REL * scale), f"{what}: got {got!r}, want {want!r}"


def _value(wb, names, key):
    sheet, cell = names[key]
    return wb[sheet][cell].value


def _good(results):
    return [r for r in results if "_bad" not in r[1]]


def _scale(case):
    rate = case["quote_rate"] or 1.0
    return max(1.0, case["deposit"], case["entry_price"] * case["quantity"] * rate, case["entry_price"])


def test_every_case_was_recalculated(recalculated):
    assert len(_good(recalculated)) >= 2 * (RANDOM_CASES + len(PRESET_IDS) + REORDERED_CASES)
    for _, case, names, wb in recalculated:
        assert _value(wb, names, "inputs_ok") is ("_bad" not in case), case


def test_variety_of_cases(recalculated):
    """The random sets really cover both sides, both bases, blank and unreachable levels, fees."""
    seen = set()
    for lang, case, _, _ in _good(recalculated):
        exp, args, lv = expected_calculator(case, lang)
        mc, lc = lv["margin_call_level"], lv["loss_cut_level"]
        seen.add(("side", parse_side(case["side"])))
        seen.add(("mark", bool(parse_basis(args["basis"]))))
        seen.add(("fees", case["fees"] > 0))
        seen.add(("blank_level", math.isnan(mc) or math.isnan(lc)))
        seen.add(("unreachable", (not math.isnan(lc) and math.isnan(exp["loss_cut_price"]))))
        seen.add(("tick", case["tick_size"] is not None and not math.isnan(exp["loss_cut_price"])))
        seen.add(("rate", (case["quote_rate"] or 1) != 1))
        seen.add(("days", not math.isnan(exp["loss_cut_price_after_days"])))
        seen.add(("status", exp["status"]))
    for item in [
        ("side", 1.0),
        ("side", -1.0),
        ("mark", True),
        ("mark", False),
        ("fees", True),
        ("fees", False),
        ("blank_level", True),
        ("unreachable", True),
        ("tick", True),
        ("rate", True),
        ("days", True),
    ]:
        assert item in seen, item
    assert {s for k, s in seen if k == "status"} >= {
        label(k, lang) for k in ("ok", "caution", "margin_call", "loss_cut") for lang in LANGUAGES
    }


def test_calculator_outputs_equal_core(recalculated):
    for lang, case, names, wb in _good(recalculated):
        exp, args, _ = expected_calculator(case, lang)
        for key, want in exp.items():
            _close(_value(wb, names, key), want, _scale(case), f"{lang} {key} {case}")
        assert _blank(_value(wb, names, "input_check"))


def test_tick_rounding_is_conservative(recalculated):
    """A long's prices are rounded up to the tick, a short's down (SPEC §8), never the other way."""
    checked = 0
    for _, case, names, wb in _good(recalculated):
        tick = case["tick_size"]
        if tick is None:
            continue
        for key in ("margin_call_price", "loss_cut_price", "bankruptcy_price", "safe_price"):
            got = _value(wb, names, key)
            if _blank(got):
                continue
            steps = got / tick
            assert abs(steps - round(steps)) < 1e-6 * max(1, abs(steps)), (key, got, tick)
            checked += 1
    assert checked > 10


def _ladder(wb, names, lang):
    ws = wb[label("sheet_scenarios", lang)]
    letters = names["_columns"]["scenarios"]
    rows = []
    for r in range(5, 5 + layout.LADDER_ROWS):
        rows.append({k: ws[f"{x}{r}"].value for k, x in letters.items()})
    return rows


def test_scenario_ladder_equals_core(recalculated):
    for lang, case, names, wb in _good(recalculated):
        exp, args, lv = expected_calculator(case, lang)
        mc, lc, safe = lv["margin_call_level"], lv["loss_cut_level"], lv["safe_level"]
        rate = case["quote_rate"] or 1.0
        scale = _scale(case)
        rows = [row for row in _ladder(wb, names, lang) if not _blank(row["price"])]
        prices = [row["price"] for row in rows]
        assert prices == sorted(prices) and len(set(prices)) == len(prices), prices
        assert len(rows) >= layout.LADDER_STEPS + 2, (len(rows), case)  # steps below 0 are dropped
        for key in ("price", "margin_call_price", "loss_cut_price", "bankruptcy_price", "safe_price"):
            want = case["price"] if key == "price" else exp[key]
            if not math.isnan(want):  # each level price is a row of its own
                assert any(math.isclose(p, want, rel_tol=REL) for p in prices), (key, want, prices)
        for row in rows:
            p = row["price"]
            _close(row["move"], p / case["price"] - 1, 1, "move")
            _close(
                row["pnl"],
                xc.unrealized_pnl(case["side"], case["entry_price"], p, case["quantity"], quote_rate=rate),
                scale,
                "pnl",
            )
            _close(
                row["equity"],
                xc.equity(
                    args["deposit"],
                    case["side"],
                    case["entry_price"],
                    p,
                    case["quantity"],
                    fees=args["fees"],
                    quote_rate=rate,
                ),
                scale,
                "equity",
            )
            ratio = xc.maintenance_ratio(price=p, **args)
            _close(row["ratio"], ratio, scale, f"ratio {p}")
            # A level price's own row sits on the level: either side of it is right.
            allowed = {
                label(xc.status(ratio * (1 + e), mc, lc, safe_level=safe), lang) for e in (-1e-9, 0, 1e-9)
            }
            assert row["status"] in allowed, (row, allowed)
            _close(row["chart_ratio"], ratio, scale, "chart ratio")
            for key, level in (("margin_call_level", mc), ("loss_cut_level", lc), ("safe_level", safe)):
                if math.isnan(level):
                    assert row[key] == "#N/A"  # a gap in the chart
                else:
                    assert row[key] == pytest.approx(level, rel=REL)
        marks = {row["level_mark"] for row in rows} - {None, ""}
        assert label("price", lang) in marks


def _hedge_rule(acc):
    """The user's rule, else the account preset's (SPEC §8), else "sum"."""
    if acc["hedge"]:
        return acc["hedge"]
    if acc["exchange"]:
        return xc.get_preset(acc["exchange"]).get("hedge") or "sum"
    return "sum"


def _account_basis(acc):
    """The account's basis: typed, else its preset's (an mmr preset's: mark), else entry."""
    preset = xc.get_preset(acc["exchange"]) if acc["exchange"] else None
    return acc.get("basis") or resolve_levels(preset, leverage=1.0)["basis"]


def _expected_account(case):
    acc, rows = case["account"], case["positions"]
    symbols = [r[0] or "" for r in rows]
    return xc.account_state(
        acc["deposit"],
        [r[1] for r in rows],
        [r[2] for r in rows],
        [r[5] for r in rows],
        [r[3] for r in rows],
        [r[4] for r in rows],
        basis=_account_basis(acc),
        fees=acc["fees"],
        symbol=symbols,
        hedge=_hedge_rule(acc),
    )


def _level_typed(value):
    """A level typed into "Your value": None when blank, NaN for "none", else the number."""
    return math.nan if isinstance(value, str) else value


def _account_levels(acc):
    """(margin call, loss-cut, safe level) of the Positions account: the typed ones, else the
    account preset's (xlcalc.presets.resolve_levels), else the defaults; NaN: no such level.
    None for an mmr preset's loss-cut (each row's maintenance margin: compared with the report)."""
    preset = xc.get_preset(acc["exchange"]) if acc["exchange"] else None
    mmr = bool(preset) and preset["margin_model"] == "mmr"
    mc, lc = _level_typed(acc.get("margin_call_level")), _level_typed(acc.get("loss_cut_level"))
    if mmr and lc is None:
        return None
    found = resolve_levels(preset, margin_call=mc, loss_cut=lc, leverage=1.0 if mmr else None)
    safe = _level_typed(acc.get("safe_level"))
    return found["margin_call_level"], found["loss_cut_level"], layout.DEFAULT_SAFE if safe is None else safe


def test_positions_account_equals_core(recalculated):
    hedged = 0
    for lang, case, names, wb in _good(recalculated):
        if case.get("_below"):
            continue
        acc, rows = case["account"], case["positions"]
        st = _expected_account(case)
        scale = max(1.0, sum(r[2] * r[3] for r in rows))
        _close(_value(wb, names, "account_pnl"), st.pnl, scale, "account pnl")
        _close(_value(wb, names, "account_equity"), st.equity, scale, "account equity")
        rounding = money_rounding(xc.get_preset(acc["exchange"]) if acc["exchange"] else None)
        if rounding["margin_rounding"] == "none":  # else the report's figure: see test_positions_equal_report
            _close(_value(wb, names, "account_required_margin"), st.required_margin, scale, "account margin")
        # the ratio on the exact margin, whatever the preset rounds
        _close(_value(wb, names, "account_ratio"), st.ratio, scale, f"account ratio {_hedge_rule(acc)}")
        if _hedge_rule(acc) == "max":
            plain = xc.account_state(
                acc["deposit"],
                [r[1] for r in rows],
                [r[2] for r in rows],
                [r[5] for r in rows],
                [r[3] for r in rows],
                [r[4] for r in rows],
                basis=_account_basis(acc),
                fees=acc["fees"],
            )
            hedged += not math.isclose(plain.required_margin, st.required_margin)
        levels = _account_levels(acc)
        if levels is not None:  # an mmr preset's loss-cut: test_positions_levels_equal_report
            mc, lc, safe = levels
            want = label(xc.status(st.ratio, mc, lc, safe_level=safe), lang)
            _close(_value(wb, names, "account_status"), want, scale, "status")
            for key, level in zip(("margin_call_level", "loss_cut_level", "safe_level"), levels):
                _close(_value(wb, names, f"account_{key}"), level, 1, f"account {key}")
        ws = wb[label("sheet_positions", lang)]
        letters = names["_columns"]["positions"]
        row0 = next(c.row for c in ws[letters["symbol"]] if c.value == label("symbol", lang)) + 1
        mark = parse_basis(_account_basis(acc))
        for i, r in enumerate(rows):
            _close(
                ws[f"{letters['pnl']}{row0 + i}"].value,
                xc.unrealized_pnl(r[1], r[2], r[5], r[3]),
                scale,
                "row pnl",
            )
            _close(
                ws[f"{letters['required_margin']}{row0 + i}"].value,
                xc.required_margin(r[5] if mark else r[2], r[3], r[4], **rounding),
                scale,
                "row margin",
            )
    assert hedged > 5  # "max" really margined a hedged symbol on its larger side


def test_a_position_below_the_table_is_flagged(recalculated):
    below = [r for r in recalculated if r[1].get("_below")]
    assert len(below) == len(LANGUAGES)
    for lang, _, names, wb in below:
        msg = _value(wb, names, "account_input_check")
        assert msg == label("check_rows_below", lang)
        assert _value(wb, names, "account_status") == msg
        assert _blank(_value(wb, names, "account_ratio"))


def test_reordered_columns_were_built_and_compared(recalculated):
    reordered = [r for r in recalculated if r[1].get("_reverse")]
    assert len(reordered) == REORDERED_CASES * len(LANGUAGES)
    normal = next(r for r in recalculated if not r[1].get("_reverse"))
    for _, _, names, _ in reordered:
        assert names["_columns"]["positions"]["symbol"] != normal[2]["_columns"]["positions"]["symbol"]
        assert names["_columns"]["scenarios"]["price"] != normal[2]["_columns"]["scenarios"]["price"]


def test_presets_fill_levels(recalculated):
    for lang, case, names, wb in _good(recalculated):
        if not case["exchange"] or case["margin_call_level_override"] is not None:
            continue
        lv = preset_levels(_preset(case), case["leverage"])
        tiered = _tiered_preset(case, _levels(case)["basis"])
        lc = lv["loss_cut_level"] if tiered is None else tiered["loss_cut_level"]
        _close(_value(wb, names, "margin_call_level"), lv["margin_call_level"], 1, "mc")
        _close(_value(wb, names, "loss_cut_level_preset"), lc, 1, "lc")
        assert _value(wb, names, "basis_preset") == label(lv["basis"], lang)


def _rounded(results):
    return [r for r in _good(results) if "_rounding" in r[1]]


def test_calculator_shows_the_margin_as_the_preset_rounds_it(recalculated):
    """DMM FX (dmm_fx: floor, unit 1): 77,914 and 59,637 as xlcalc calc and DMM show them,
    never 77,915 nor 59,636; the ratio, prices and deposit to restore stay on the exact margin."""
    rounded = _rounded(recalculated)
    assert len(rounded) == len(LANGUAGES) * len(_rounding_cases("en"))
    for lang, case, names, wb in rounded:
        what = f"{lang} {case['_rounding']}"
        rate = case["quote_rate"] or 1.0
        p, q, lev = case["price"], case["quantity"], case["leverage"]  # dmm_fx: mark basis
        exact = xc.required_margin(p, q, lev, quote_rate=rate)
        core = xc.required_margin(p, q, lev, quote_rate=rate, **money_rounding(_preset(case)))
        got = _value(wb, names, "required_margin")
        assert got == core == pytest.approx(case["_shown"], rel=1e-12), (what, got, core)
        if case["_shown"] != round(case["_shown"]):  # a preset without rounding: as before
            assert got == pytest.approx(exact, rel=1e-12), what
        exp, args, _ = expected_calculator(case, lang)
        assert _value(wb, names, "ratio") == pytest.approx(xc.maintenance_ratio(price=p, **args), rel=1e-12)
        for key in ("additional_deposit", "close_quantity", "margin_call_price", "loss_cut_price"):
            _close(_value(wb, names, key), exp[key], _scale(case), f"{what} {key}")
        assert _blank(_value(wb, names, "input_check")), what


def test_positions_equal_report(recalculated, tmp_path):
    """The Positions sheet's rows and account equal xlcalc.report.build_report's for the same
    positions and preset: each row's margin as the venue rounds it, the account's the sum of
    the rows' shown ones (hedge max: the side larger by the exact margin), the ratio exact."""
    checked = set()
    for n, (lang, case, names, wb) in enumerate(_rounded(recalculated)):
        acc, rows = case["account"], case["positions"]
        what = f"{lang} {case['_rounding']} {acc['exchange']} {acc['hedge']}"
        sides = {label("long", lang): "long", label("short", lang): "short"}
        keys = ("symbol", "side", "entry_price", "quantity", "leverage", "price")
        df = pd.DataFrame([dict(zip(keys, r), side=sides[r[1]]) for r in rows])
        out = tmp_path / f"report-{n}.xlsx"
        build_report(
            df,
            out,
            lang=lang,
            deposit=acc["deposit"],
            exchange=acc["exchange"],
            basis="mark",
            margin_call=acc["margin_call_level"],
            loss_cut=acc["loss_cut_level"],
            hedge=acc["hedge"],
        )
        report = {ws.title: list(ws.iter_rows(values_only=True)) for ws in openpyxl.load_workbook(out)}
        table = report[label("report_sheet_positions", lang)]
        margins = [r[table[0].index(label("required_margin", lang))] for r in table[1 : 1 + len(rows)]]
        ws = wb[label("sheet_positions", lang)]
        letters = names["_columns"]["positions"]
        row0 = next(c.row for c in ws[letters["symbol"]] if c.value == label("symbol", lang)) + 1
        shown = [ws[f"{letters['required_margin']}{row0 + i}"].value for i in range(len(rows))]
        assert shown == margins, (what, shown, margins)
        summary = report[label("report_sheet_summary", lang)]
        head = next(i for i, r in enumerate(summary) if r and r[0] == label("account", lang))
        account = dict(zip(summary[head], summary[head + 1]))
        assert _value(wb, names, "account_required_margin") == account[label("required_margin", lang)], what
        ratio = _value(wb, names, "account_ratio")
        assert ratio == pytest.approx(account[label("ratio", lang)], rel=1e-12), what
        assert ratio == pytest.approx(_expected_account(case).ratio, rel=1e-12), what  # the exact margin
        checked.add((acc["exchange"], _hedge_rule(acc)))
    assert {("dmm_fx", "sum"), ("dmm_fx", "max"), ("jp_fx_25x", "sum"), (None, "max")} <= checked


def _report_account(case, lang, out):
    """The report's Summary account row (label -> value) for the case's positions and account."""
    acc, rows = case["account"], case["positions"]
    sides = {label("long", lang): "long", label("short", lang): "short"}
    keys = ("symbol", "side", "entry_price", "quantity", "leverage", "price")
    df = pd.DataFrame([dict(zip(keys, r), side=sides[r[1]]) for r in rows])
    basis = {label("entry", lang): "entry", label("mark", lang): "mark"}.get(acc.get("basis"))
    build_report(
        df,
        out,
        lang=lang,
        deposit=acc["deposit"],
        exchange=acc["exchange"],
        basis=basis,
        margin_call=acc.get("margin_call_level"),
        loss_cut=acc.get("loss_cut_level"),
        safe_level=acc.get("safe_level"),
        hedge=acc["hedge"],
    )
    summary = list(
        openpyxl.load_workbook(out)[label("report_sheet_summary", lang)].iter_rows(values_only=True)
    )
    head = next(i for i, r in enumerate(summary) if r and r[0] == label("account", lang))
    return dict(zip(summary[head], summary[head + 1]))


def test_positions_levels_equal_report(recalculated, tmp_path):
    """Audit: the Positions account ignored its preset's levels (gmo_coin_fx: loss-cut 75 %, no
    margin call) and had no caution. Its levels now come from the account's preset (an mmr
    preset: each counted row's P·Q·mmr), typed values and "none" override them, and the status
    with caution below the safe level equals xlcalc report's for the same account."""
    seen = {}
    accounts = [r for r in _good(recalculated) if "_account" in r[1] and not r[1].get("_tier")]
    for n, (lang, case, names, wb) in enumerate(accounts):
        what = f"{lang} {case['_account']}"
        account = _report_account(case, lang, tmp_path / f"account-{n}.xlsx")
        assert _blank(_value(wb, names, "account_input_check")), what
        status = _value(wb, names, "account_status")
        assert status == account[label("status", lang)], (what, status, account)
        ratio = _value(wb, names, "account_ratio")
        assert ratio == pytest.approx(account[label("ratio", lang)], rel=1e-12), what
        seen[(lang, case["_account"])] = status
    for lang in LANGUAGES:  # the audit's cases, and every status was reached
        assert seen[(lang, "gmo_300k")] == label("loss_cut", lang)
        assert seen[(lang, "jp_max_700k")] == label("caution", lang)
        assert {status for (where, _), status in seen.items() if where == lang} == {
            label(k, lang) for k in ("ok", "caution", "margin_call", "loss_cut")
        }


def test_positions_levels_come_from_the_account_preset(recalculated):
    """The Preset column shows the account preset's levels (gmo_coin_fx: none and 75 %; an mmr
    preset: mmr × counted notional / margin, none), the Used column what the status uses."""
    for lang, case, names, wb in _good(recalculated):
        if case.get("_account") not in ("gmo_300k", "binance_max", "no_preset"):
            continue
        pre = {k: _value(wb, names, f"account_{k}_preset") for k in ("margin_call_level", "loss_cut_level")}
        used = {
            k: _value(wb, names, f"account_{k}")
            for k in ("margin_call_level", "loss_cut_level", "safe_level")
        }
        assert used["safe_level"] == layout.DEFAULT_SAFE
        if case["_account"] == "gmo_300k":
            assert _blank(pre["margin_call_level"]) and pre["loss_cut_level"] == pytest.approx(0.75)
            assert _value(wb, names, "account_basis") == label(
                xc.get_preset("gmo_coin_fx")["basis"] or "entry", lang
            )
        elif case["_account"] == "no_preset":
            assert (pre["margin_call_level"], pre["loss_cut_level"]) == (1.0, 0.5)
        else:  # hedge max: S1's long leg (margin 3,000 > 590) and S2, at the price
            mmr = xc.get_preset("binance_usdm")["mmr"]
            notional, margin = 59_000 * 0.5 + 2_500 * 3, 59_000 * 0.5 / 10 + 2_500 * 3 / 5
            assert _blank(pre["margin_call_level"])
            assert pre["loss_cut_level"] == pytest.approx(mmr * notional / margin, rel=1e-12)
            assert _value(wb, names, "account_basis") == label("mark", lang)
        assert used["loss_cut_level"] == pre["loss_cut_level"]


def test_split_hedge_counts_the_side_larger_by_the_exact_margin(recalculated):
    """hedge max with rounding: symbol X's long side is the larger exact (302.7 > 301.5), so
    the account counts its shown 300, not the short side's 301 (as the report does)."""
    cases = [r for r in _rounded(recalculated) if r[1]["_rounding"] == "float_noise"]
    assert len(cases) == len(LANGUAGES)
    for _, case, names, wb in cases:
        y = xc.required_margin(149.015, 10_000, 25, margin_rounding="floor")
        assert (y, case["account"]["hedge"]) == (59_606, "max")
        assert _value(wb, names, "account_required_margin") == 300 + y


def test_bad_inputs_show_a_message_not_an_error(recalculated):
    bad = [r for r in recalculated if "_bad" in r[1]]
    assert len(bad) == 2 * len(_bad_cases("en"))
    for lang, case, names, wb in bad:
        msg = _value(wb, names, "input_check")
        assert isinstance(msg, str) and msg, case
        assert _value(wb, names, "status") == msg
        for key in (
            "required_margin",
            "pnl",
            "equity",
            "ratio",
            "margin_call_price",
            "loss_cut_price",
            "bankruptcy_price",
            "additional_deposit",
            "close_quantity",
            "shortfall",
            "stop_loss_amount",
            "position_size",
            "safe_price",
            "loss_cut_price_after_days",
        ):
            assert _blank(_value(wb, names, key)), (key, case)
        field = case["_bad"].replace("_override", "")
        assert label(field, lang) in msg, (msg, field)
        for ws in wb.worksheets[:3]:
            for row in ws.iter_rows(values_only=True):
                for v in row:
                    assert not (v in ERRORS or str(v).startswith("Err:")), (ws.title, v)


# -- printing: every sheet on one page (issue #12) -------------------------------------------

PAGES = re.compile(rb"/Type\s*/Page[^s]")


# FX and coin inputs whose prices must print at the decimals typed (issue #12).
PRECISION_CASES = [
    dict(side="long", entry_price=1.08523, quantity=100_000, leverage=25, deposit=10_000, price=1.08012),
    dict(side="short", entry_price=110.123, quantity=10_000, leverage=25, deposit=100_000, price=110.456),
    dict(side="long", entry_price=0.00001237, quantity=1e9, leverage=2, deposit=10_000, price=0.00001111),
    # typed without decimals: 6 significant digits, as xlcalc calc (loss-cut 106.200, not 106)
    dict(side="long", entry_price=110, quantity=10_000, leverage=25, deposit=60_000, price=110),
]


# The audit's run4: a USDT account in the Japanese template, a yen one in the English one.
CURRENCY_CASES = {
    "ja": dict(
        side="買い",
        entry_price=60_000,
        quantity=1,
        leverage=100,
        deposit=600,
        price=59_900,
        exchange="binance_usdm",
        account_exchange="binance_usdm",
    ),
    "en": dict(
        side="Long",
        entry_price=1.08523,
        quantity=10_000,
        leverage=25,
        deposit=100_000,
        price=1.08012,
        quote_rate=149.094,
        exchange="jp_fx_25x",
        account_exchange="jp_fx_25x",
    ),
}


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    """The default workbook of each language, and the precision cases, printed to PDF in one call."""
    require_soffice()
    src = tmp_path_factory.mktemp("print")
    books = {
        lang: write_template(build_workbook(lang), src / f"{lang}.xlsx", force=True) for lang in LANGUAGES
    }
    for i, case in enumerate(PRECISION_CASES):
        wb = build_workbook("en")
        for key, value in dict(case, side=label(case["side"], "en")).items():
            sheet, cell = wb._xlcalc_names[key]
            wb[sheet][cell].value = value
        books[i] = write_template(wb, src / f"precision-{i}.xlsx", force=True)
    for lang, case in CURRENCY_CASES.items():
        wb = build_workbook(lang)
        for key, value in case.items():
            sheet, cell = wb._xlcalc_names[key]
            wb[sheet][cell].value = value
        books[f"currency-{lang}"] = write_template(wb, src / f"currency-{lang}.xlsx", force=True)
    pdfs = dict(zip(books, convert(list(books.values()), tmp_path_factory.mktemp("pdf"), "pdf")))
    return {key: _pages(pdf) for key, pdf in pdfs.items()}


def _pages(pdf):
    """The text of every page of ``pdf`` (pdftotext), or the page count alone without pdftotext."""
    count = len(PAGES.findall(pdf.read_bytes()))
    if not shutil.which("pdftotext"):
        return count, None
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True).stdout
    return count, text.split("\f")[:count]


def test_every_sheet_prints_on_one_page(printed):
    """Pages are given to sheets by the title in A1 that starts each sheet; each sheet gets one."""
    for lang in LANGUAGES:
        count, pages = printed[lang]
        titles = [ws["A1"].value for ws in build_workbook(lang).worksheets]
        if pages is None:  # every sheet prints at least one page: as many pages as sheets is one each
            assert count == len(titles), (lang, count)
            continue
        per_sheet, k = {t: 0 for t in titles}, -1
        for page in pages:
            first = page.strip().splitlines()[0].strip() if page.strip() else ""
            if k + 1 < len(titles) and first.startswith(str(titles[k + 1])[:20]):
                k += 1
            per_sheet[titles[max(k, 0)]] += 1
        assert per_sheet == {t: 1 for t in titles}, (lang, per_sheet)


def test_prices_print_at_the_decimals_typed(printed):
    """1.08523 is never shown as 1.09; computed prices get the same decimals (issue #12), the
    decimals xlcalc calc shows (:func:`xlcalc.display.price_decimals`, up to 12: the audit found
    0.00001237 at 8 decimals where xlcalc calc shows 10)."""
    for i, case in enumerate(PRECISION_CASES):
        pages = printed[i][1]
        if pages is None:
            pytest.skip("pdftotext (poppler-utils) is not installed")
        text = pages[0]
        typed = [
            len(repr(float(case[k])).split(".")[1].rstrip("0")) if "e" not in repr(case[k]) else 8
            for k in ("entry_price", "price")
        ]
        decimals = price_decimals(case["entry_price"], typed)  # 0.00001237: 10, as xlcalc calc
        assert decimals <= layout.MAX_DECIMALS
        lc = xc.loss_cut_price(
            case["deposit"],
            case["side"],
            case["entry_price"],
            case["quantity"],
            case["leverage"],
            level=layout.DEFAULT_LOSS_CUT,
        )
        for value in (case["entry_price"], case["price"], lc):
            shown = f"{value:,.{decimals}f}"
            assert re.search(rf"(?<![\d.]){re.escape(shown)}(?![\d])", text), (shown, text[:2000])


def test_money_prints_in_the_presets_currency(printed):
    """Audit run4: the ja template printed ¥600 for a 600.00 USDT deposit, the en one
    100,000.00 for yen. Printed by LibreOffice, money follows the preset's currency as xlcalc
    calc shows it (xlcalc.display), and the ratio has 2 decimals."""
    pages = printed["currency-ja"][1]
    if pages is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    calc, positions = pages[0], pages[2]
    assert "600.00 USDT" in calc and "¥600" not in calc  # the deposit
    assert "599.00 USDT" in calc  # required margin, 59,900 x 1 / 100
    assert f"{(600 - 100) / 599:.2%}" in calc  # 83.47%
    assert "1,500,000.00 USDT" in positions  # the account's deposit, its preset's currency
    pages = printed["currency-en"][1]
    calc = pages[0]
    assert "¥100,000" in calc and "100,000.00" not in calc
    margin = xc.required_margin(1.08523, 10_000, 25, quote_rate=149.094)  # jp_fx_25x: entry basis
    assert f"¥{margin:,.0f}" in calc


def test_tier_note_beyond_the_last_shipped_tier(recalculated):
    """Beside the loss-cut price of an mmr preset, as xlcalc calc, liq and the report say: the
    notional (now or at that price) is above the last tier of the preset's shipped table, whose
    higher tiers are not in it. Silent within the table, without one, or with a loss-cut typed."""
    seen = set()
    for lang, case, names, wb in _good(recalculated):
        note = _value(wb, names, "tier_note")
        tiered = _tiered_preset(case, _levels(case)["basis"])
        beyond = tiered is not None and case["loss_cut_level_override"] is None and tiered["beyond"]
        want = label("check_beyond_tiers", lang).format(name=label("loss_cut_price", lang))
        assert (note == want) if beyond else _blank(note), (lang, case["exchange"], note)
        seen.add((lang, beyond))
    assert seen == {(lang, b) for lang in LANGUAGES for b in (True, False)}


def test_tiers_sheet_is_the_shipped_tables():
    """The Tiers sheet's rows are xlcalc.tiers' tables (amounts derived as tier_table does), each
    preset's first table first, as tiers.for_preset(id, None) takes it."""
    rows = layout.tier_rows()
    for exchange in {r[0] for r in rows}:
        first = next(r for r in rows if r[0] == exchange)
        want = xc.tiers.for_preset(exchange)
        assert want.attrs["symbol"] == first[1]
        got = [r[2:] for r in rows if r[0] == exchange and r[1] == first[1]]
        assert got == [tuple(map(float, t)) for t in want[xc.tiers.TIER_COLUMNS].itertuples(index=False)]
    assert {r[0] for r in rows} == {"binance_usdm", "bybit_usdt"}


def _tier_results(recalculated):
    return [r for r in _good(recalculated) if "_tier_name" in r[1]]


@pytest.mark.parametrize("name", list(TIER_POSITIONS))
def test_tiered_loss_cut_equals_xlcalc_calc_and_the_report(recalculated, tmp_path, name):
    """The Calculator's mmr-preset figures are xlcalc calc's and the report's (SPEC §1 tiers: the
    tier holding the notional at the liquidation price): status, loss-cut level and price,
    deposit to restore and quantity to close, to 1e-9 relative; the audit's are 57,313.1,
    164.00 and 0.52429668 with the status Loss-cut."""
    from click.testing import CliRunner

    from xlcalc.cli import main

    exchange, side, entry, qty, lev, deposit, price = TIER_POSITIONS[name]
    df = pd.DataFrame(
        {"symbol": ["BTCUSDT"], "side": [side], "entry_price": [entry], "quantity": [qty], "leverage": [lev],
         "deposit": [deposit], "price": [price]}
    )  # fmt: skip
    symbol = ["--symbol", "BTCUSDT"] if exchange != "bybit_usdt_classic" else []
    runs = [r for r in _tier_results(recalculated) if r[1]["_tier_name"] == name]
    assert len(runs) == len(LANGUAGES)
    for lang, _, names, wb in runs:
        out = tmp_path / f"{lang}.xlsx"
        build_report(df, out, exchange=exchange, lang=lang)
        row = pd.read_excel(out, sheet_name=label("report_sheet_positions", lang)).iloc[0]
        got = {
            k: _value(wb, names, k)
            for k in ("status", "loss_cut_price", "additional_deposit", "close_quantity")
        }
        for key, column in (
            ("loss_cut_price", "loss_cut_price"),
            ("additional_deposit", "additional_deposit"),
            ("close_quantity", "close_quantity"),
        ):
            want = float(row[label(column, lang)])
            assert got[key] == pytest.approx(want, rel=1e-9, abs=1e-9), (lang, name, key, got[key], want)
        assert got["status"] == row[label("status", lang)], (lang, name)
        cli = CliRunner().invoke(
            main,
            ["calc", "--exchange", exchange, *symbol, "--side", side, "--entry", str(entry),
             "--qty", str(qty), "--leverage", str(lev), "--deposit", str(deposit), "--price", str(price),
             "--lang", lang],
        )  # fmt: skip
        assert cli.exit_code == 0, cli.output
        text = cli.output
        assert f"{got['loss_cut_price']:,.1f}" in text and got["status"] in text, (lang, name, text)
        close = f"{got['close_quantity']:.8f}" if got["close_quantity"] else "0\n"
        assert f"{got['additional_deposit']:,.2f}" in text and close in text, text
        level = 100 * _value(wb, names, "loss_cut_level")  # shown with 2 or 4 decimals
        assert f"{level:.2f} %" in text or f"{level:.4f} %" in text, (level, text)
        if name == "audit":
            assert got["status"] == label("loss_cut", lang)
            assert round(got["loss_cut_price"], 1) == 57_313.1
            assert round(got["additional_deposit"], 2) == 164.00
            assert round(got["close_quantity"], 8) == 0.52429668
