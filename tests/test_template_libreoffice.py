"""The template's native formulas, recalculated by headless LibreOffice, equal the Python core.

Per language: 50 random positions (both sides, both bases, levels that are blank, "none",
unreachable, presets incl. the mmr model, fees), every preset, and bad inputs. Each input set
is typed into the input cells with openpyxl; ALL workbooks are recalculated in ONE soffice
call; then every named output, every scenario row and the Positions account are compared
with xlcalc's functions.
"""
from __future__ import annotations

import math
import random

import openpyxl
import pytest

import xlcalc as xc
from libreoffice import recalculate, require_soffice
from xlcalc.core import parse_basis, parse_side
from xlcalc.labels import LANGUAGES, label
from xlcalc.presets import preset_levels
from xlcalc.template import build_workbook, layout, write_template

RANDOM_CASES = 50
REL = 1e-9
PRESET_IDS = list(xc.exchange_presets().index)


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
    case = dict(
        side=label(side_word, other if i % 9 == 0 else lang),  # both languages' words work
        entry_price=entry, quantity=qty, leverage=lev, deposit=deposit,
        fees=0.0 if i % 2 else deposit * rng.uniform(0, 0.2),
        price=entry * rng.uniform(0.3, 1.7),
        exchange=None, basis_override=None, margin_call_level_override=None,
        loss_cut_level_override=None,
        gap_price=entry * rng.uniform(0.05, 2.0) if i % 4 else None,
        stop_price=entry * rng.uniform(0.8, 1.2) if i % 5 else None,
        risk=rng.uniform(0.001, 0.1) if i % 6 else None,
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
    case["positions"] = [
        (f"S{j}", label(rng.choice(["long", "short"]), lang), 10 ** rng.uniform(0, 6),
         10 ** rng.uniform(-2, 2), rng.choice([1, 2, 5, 25]), None)
        for j in range(rng.randint(1, 6))]
    case["positions"] = [row[:5] + (row[2] * rng.uniform(0.5, 1.5),) for row in case["positions"]]
    case["account"] = dict(deposit=rng.uniform(0, 1) * sum(r[2] * r[3] for r in case["positions"]),
                           fees=rng.choice([0.0, rng.uniform(0, 100)]),
                           basis=label(rng.choice(["entry", "mark"]), lang),
                           margin_call_level=rng.choice([1.0, rng.uniform(0.5, 2), None]),
                           loss_cut_level=rng.choice([0.5, rng.uniform(0.1, 0.5), None]))
    return case


def _bad_cases(lang):
    base = dict(layout.SAMPLE[lang], side=label("long", lang))
    bad = [("entry_price", "abc"), ("leverage", 0), ("quantity", -1), ("deposit", None),
           ("side", "sideways"), ("price", "10,000"), ("fees", -5), ("exchange", "no_such_id"),
           ("margin_call_level_override", "abc"), ("basis_override", "market")]
    return [dict(base, **{k: v}, _bad=k) for k, v in bad]


def _write(case, lang, path):
    wb = build_workbook(lang)
    names = wb._xlcalc_names
    for key, value in case.items():
        if key in names:
            sheet, cell = names[key]
            wb[sheet][cell].value = value
    if "positions" in case:
        ws = wb[names["account_deposit"][0]]
        for key, value in case["account"].items():
            sheet, cell = names[f"account_{key}"]
            wb[sheet][cell].value = value
        first = ws.tables["Positions"].ref.split(":")[0]
        row0 = int(first[1:]) + 1
        for i in range(layout.POSITION_ROWS):
            for j in range(6):
                ws.cell(row=row0 + i, column=j + 1).value = None
        for i, rec in enumerate(case["positions"]):
            for j, v in enumerate(rec):
                ws.cell(row=row0 + i, column=j + 1).value = v
    write_template(wb, path, force=True)
    return names


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
            c.update(exchange=ex, basis_override=None, margin_call_level_override=None,
                     loss_cut_level_override=None)
            cases.append(c)
        cases += _bad_cases(lang)
        for i, case in enumerate(cases):
            path = src / f"{lang}-{i:03d}.xlsx"
            jobs.append((lang, case, _write(case, lang, path), path))
    outs = recalculate([j[3] for j in jobs], tmp_path_factory.mktemp("recalculated"))
    results = []
    for (lang, case, names, _), out in zip(jobs, outs):
        wb = openpyxl.load_workbook(out, data_only=True)
        results.append((lang, case, names, wb))
    return results


# -- expected values from the core --------------------------------------------------------

def _levels(case):
    lev = case["leverage"]
    if case["exchange"]:
        pre = preset_levels(xc.get_preset(case["exchange"]), lev)
    else:
        pre = dict(margin_call_level=layout.DEFAULT_MARGIN_CALL, loss_cut_level=layout.DEFAULT_LOSS_CUT,
                   basis="entry")
    out = {}
    for key in ("margin_call_level", "loss_cut_level"):
        v = case[f"{key}_override"]
        if v is None:
            out[key] = pre[key]
        elif isinstance(v, str):
            out[key] = math.nan  # "none"
        else:
            out[key] = v
    out["basis"] = case["basis_override"] or pre["basis"]
    return out


def expected_calculator(case, lang):
    lv = _levels(case)
    mc, lc, basis = lv["margin_call_level"], lv["loss_cut_level"], lv["basis"]
    args = dict(deposit=case["deposit"], side=case["side"], entry_price=case["entry_price"],
                quantity=case["quantity"], leverage=case["leverage"], basis=basis, fees=case["fees"])
    p, p0, q = case["price"], case["entry_price"], case["quantity"]
    mark = parse_basis(basis)
    ratio = xc.maintenance_ratio(price=p, **args)
    exp = dict(
        notional=p * q,
        required_margin=xc.required_margin(p if mark else p0, q, case["leverage"]),
        pnl=xc.unrealized_pnl(case["side"], p0, p, q),
        equity=xc.equity(case["deposit"], case["side"], p0, p, q, fees=case["fees"]),
        ratio=ratio,
        status=label(xc.status(ratio, mc, lc), lang),
        margin_call_price=math.nan if math.isnan(mc) else xc.margin_call_price(level=mc, **args),
        loss_cut_price=math.nan if math.isnan(lc) else xc.loss_cut_price(level=lc, **args),
        bankruptcy_price=xc.bankruptcy_price(case["deposit"], case["side"], p0, q, fees=case["fees"]),
        margin_call_level=mc, loss_cut_level=lc,
    )
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
    exp["shortfall"] = math.nan if gap is None else xc.shortfall(
        case["deposit"], case["side"], p0, gap, q, fees=case["fees"])
    exp["stop_loss_amount"] = math.nan if stop is None else xc.stop_loss_amount(case["side"], p0, stop, q)
    if stop is None or risk is None or case["deposit"] <= 0:
        exp["position_size"] = exp["position_size_capped"] = math.nan
    else:
        exp["position_size"] = xc.position_size(case["deposit"], risk, p0, stop)
        exp["position_size_capped"] = xc.position_size(case["deposit"], risk, p0, stop, case["leverage"])
    return exp, args, mc, lc


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


def test_every_case_was_recalculated(recalculated):
    assert len(_good(recalculated)) >= 2 * (RANDOM_CASES + len(PRESET_IDS))
    for lang, case, names, wb in recalculated:
        assert _value(wb, names, "inputs_ok") is ("_bad" not in case), case


def test_variety_of_cases(recalculated):
    """The random sets really cover both sides, both bases, blank and unreachable levels, fees."""
    seen = set()
    for lang, case, names, wb in _good(recalculated):
        exp, args, mc, lc = expected_calculator(case, lang)
        seen.add(("side", parse_side(case["side"])))
        seen.add(("mark", bool(parse_basis(args["basis"]))))
        seen.add(("fees", case["fees"] > 0))
        seen.add(("blank_level", math.isnan(mc) or math.isnan(lc)))
        seen.add(("unreachable", (not math.isnan(lc) and math.isnan(exp["loss_cut_price"]))))
        seen.add(("status", exp["status"]))
    for item in [("side", 1.0), ("side", -1.0), ("mark", True), ("mark", False), ("fees", True),
                 ("fees", False), ("blank_level", True), ("unreachable", True)]:
        assert item in seen, item
    assert {s for k, s in seen if k == "status"} >= {label(k, l) for k in ("ok", "margin_call", "loss_cut")
                                                     for l in LANGUAGES}


def test_calculator_outputs_equal_core(recalculated):
    for lang, case, names, wb in _good(recalculated):
        exp, args, _, _ = expected_calculator(case, lang)
        scale = max(1.0, case["deposit"], case["entry_price"] * case["quantity"], case["entry_price"])
        for key, want in exp.items():
            _close(_value(wb, names, key), want, scale, f"{lang} {key} {case}")
        assert _blank(_value(wb, names, "input_check"))


def test_scenario_rows_equal_core(recalculated):
    for lang, case, names, wb in _good(recalculated):
        exp, args, mc, lc = expected_calculator(case, lang)
        ws = wb[label("sheet_scenarios", lang)]
        scale = max(1.0, case["deposit"], case["entry_price"] * case["quantity"])
        rows = list(ws.iter_rows(min_row=5, max_row=4 + len(layout.SCENARIO_MOVES), max_col=8, values_only=True))
        for move, row in zip(layout.SCENARIO_MOVES, rows):
            p = case["price"] * (1 + move)
            assert row[0] == pytest.approx(move)
            _close(row[1], p, scale, f"price {move}")
            _close(row[2], xc.unrealized_pnl(case["side"], case["entry_price"], p, case["quantity"]), scale, "pnl")
            _close(row[3], xc.equity(
                case["deposit"], case["side"], case["entry_price"], p, case["quantity"], fees=case["fees"]),
                scale, "equity")
            ratio = xc.maintenance_ratio(price=p, **args)
            _close(row[4], ratio, scale, f"ratio {move}")
            _close(row[5], label(xc.status(ratio, mc, lc), lang), scale, "status")
            for got, level in ((row[6], mc), (row[7], lc)):
                if math.isnan(level):
                    assert got == "#N/A"  # a gap in the chart
                else:
                    assert got == pytest.approx(level, rel=REL)


def test_positions_account_equals_core(recalculated):
    for lang, case, names, wb in _good(recalculated):
        acc, rows = case["account"], case["positions"]
        st = xc.account_state(acc["deposit"], [r[1] for r in rows], [r[2] for r in rows],
                              [r[5] for r in rows], [r[3] for r in rows], [r[4] for r in rows],
                              basis=acc["basis"], fees=acc["fees"])
        scale = max(1.0, sum(r[2] * r[3] for r in rows))
        _close(_value(wb, names, "account_pnl"), st.pnl, scale, "account pnl")
        _close(_value(wb, names, "account_equity"), st.equity, scale, "account equity")
        _close(_value(wb, names, "account_required_margin"), st.required_margin, scale, "account margin")
        _close(_value(wb, names, "account_ratio"), st.ratio, scale, "account ratio")
        mc = math.nan if acc["margin_call_level"] is None else acc["margin_call_level"]
        lc = math.nan if acc["loss_cut_level"] is None else acc["loss_cut_level"]
        _close(_value(wb, names, "account_status"), label(xc.status(st.ratio, mc, lc), lang), scale, "status")
        ws = wb[label("sheet_positions", lang)]
        row0 = int(ws.tables["Positions"].ref.split(":")[0][1:]) + 1 if ws.tables else None
        if row0 is None:  # LibreOffice may rename the table on export; find it by header
            row0 = next(c.row for c in ws["A"] if c.value == label("symbol", lang)) + 1
        mark = parse_basis(acc["basis"])
        for i, r in enumerate(rows):
            got_pnl, got_margin = ws.cell(row=row0 + i, column=7).value, ws.cell(row=row0 + i, column=8).value
            _close(got_pnl, xc.unrealized_pnl(r[1], r[2], r[5], r[3]), scale, "row pnl")
            _close(got_margin, xc.required_margin(r[5] if mark else r[2], r[3], r[4]), scale, "row margin")


def test_presets_fill_levels(recalculated):
    for lang, case, names, wb in _good(recalculated):
        if not case["exchange"] or case["margin_call_level_override"] is not None:
            continue
        lv = preset_levels(xc.get_preset(case["exchange"]), case["leverage"])
        _close(_value(wb, names, "margin_call_level"), lv["margin_call_level"], 1, "mc")
        _close(_value(wb, names, "loss_cut_level_preset"), lv["loss_cut_level"], 1, "lc")
        assert _value(wb, names, "basis_preset") == label(lv["basis"], lang)


def test_bad_inputs_show_a_message_not_an_error(recalculated):
    bad = [r for r in recalculated if "_bad" in r[1]]
    assert len(bad) == 2 * len(_bad_cases("en"))
    for lang, case, names, wb in bad:
        msg = _value(wb, names, "input_check")
        assert isinstance(msg, str) and msg, case
        assert _value(wb, names, "status") == msg
        for key in ("required_margin", "pnl", "equity", "ratio", "margin_call_price", "loss_cut_price",
                    "bankruptcy_price", "additional_deposit", "close_quantity", "shortfall",
                    "stop_loss_amount", "position_size"):
            assert _blank(_value(wb, names, key)), (key, case)
        field = case["_bad"].replace("_override", "")
        assert label(field, lang) in msg, (msg, field)
        for ws in wb.worksheets[:3]:
            for row in ws.iter_rows(values_only=True):
                for v in row:
                    assert not (isinstance(v, str) and v.startswith("#") and v != "#N/A"), (ws.title, v)
