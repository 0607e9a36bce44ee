"""The Planner and Loan sheets (SPEC §10): structure, and their formulas recalculated by LibreOffice
equal xlcalc.planning and xlcalc.loans.

Each generated workbook carries one planner input set and one loan input set (random: both
sides and bases, fees, blank/"none"/unreachable levels, levels taken from the Calculator,
edited effective-leverage columns with junk in them, every loan preset, interest over days)
plus the SPEC §10 examples and bad inputs; ALL workbooks are recalculated in ONE soffice call.
"""

from __future__ import annotations

import math
import random
import re

import openpyxl
import pytest
from libreoffice import recalculate, require_soffice
from test_template import ALLOWED, CALL, _formulas, _strip_strings

import xlcalc as xc
from xlcalc import loans, planning
from xlcalc.labels import LANGUAGES, label
from xlcalc.template import (
    INPUT_NAMES,
    OUTPUT_NAMES,
    build_template,
    build_workbook,
    loan,
    planner,
    write_template,
)

RANDOM_CASES = 30  # per language
REL = 1e-9
LOAN_PRESET_IDS = [row["id"] for row in loans.loan_presets()]
TABLE_KEYS = [k for k, _, _ in planner.TABLE]
PLAN_INPUTS = ["plan_" + k for k, *_ in planner.INPUTS] + [f"plan_{k}_override" for k, *_ in planner.LEVELS]
PLAN_OUTPUTS = [
    "plan_max_quantity",
    "plan_max_notional",
    "plan_max_effective_leverage",
    "plan_max_margin_call_price",
    "plan_max_margin_call_move",
    "plan_max_loss_cut_price",
    "plan_max_loss_cut_move",
    "plan_max_bankruptcy_price",
    "plan_max_bankruptcy_move",
    "plan_input_check",
]
LOAN_INPUTS = ["loan_" + k for k, *_ in loan.INPUTS + loan.WHAT_IF] + [
    f"loan_{k}_override" for k, *_ in loan.LEVELS
]
LOAN_OUTPUTS = ["loan_" + k for k, *_ in loan.OUTPUTS] + [
    f"loan_{k}_distance{p}" for k in ("margin_call", "liquidation", "target") for p in ("", "_pct")
]


# -- input sets -----------------------------------------------------------------------------


def _plan_case(rng: random.Random, lang: str, i: int) -> dict:
    deposit = 10 ** rng.uniform(2, 7)
    lev = rng.choice([1, 2, 4, 10, 25, 100, rng.uniform(0.5, 50)])
    other = "en" if lang == "ja" else "ja"
    case = dict(
        plan_deposit=deposit,
        plan_side=label(rng.choice(["long", "short"]), other if i % 7 == 0 else lang),
        plan_entry_price=10 ** rng.uniform(-1, 7),
        plan_leverage=lev,
        plan_fees=0.0 if i % 2 else deposit * rng.uniform(0, 0.3),
        plan_safe_level=rng.choice([3.0, 7.0, rng.uniform(0.8, 10), None]),
        plan_basis_override=rng.choice([None, label("entry", lang), label("mark", lang)]),
    )
    if i % 13 == 4:
        case["plan_fees"] = deposit * rng.uniform(1.0, 1.5)  # fees eat the deposit: max quantity 0
    for key, lo, hi in (("margin_call_level", 0.5, 2.5), ("loss_cut_level", 0.05, 0.9)):
        pick = rng.random()
        case[f"plan_{key}_override"] = (
            rng.uniform(lo, hi)
            if pick < 0.35
            else label("none", rng.choice(LANGUAGES))
            if pick < 0.45
            else None
        )
        # the Calculator's own value, used when the planner's is blank
        pick = rng.random()
        case[f"{key}_override"] = (
            rng.uniform(lo, hi) if pick < 0.4 else label("none", lang) if pick < 0.55 else None
        )
    if i % 11 == 6:
        case["plan_loss_cut_level_override"] = lev * rng.uniform(1.0, 3.0)  # mark basis: unreachable
    if i % 3 == 0:  # an edited column, junk included: such rows stay empty
        column = [round(10 ** rng.uniform(-1, 2.1), 3) for _ in planner.EFFECTIVE_LEVERAGES]
        for j, junk in zip(rng.sample(range(len(column)), 3), (None, "abc", -1)):
            column[j] = junk
        case["plan_effective_leverage"] = column
    return case


def _loan_case(rng: random.Random, lang: str, i: int) -> dict:
    amount = 0.0 if i % 19 == 7 else 10 ** rng.uniform(2, 7)
    qty = 10 ** rng.uniform(-3, 3)
    price = amount / (qty * rng.uniform(0.2, 1.3)) if amount else 10 ** rng.uniform(0, 6)
    case = dict(
        loan_amount=amount,
        loan_collateral_quantity=qty,
        loan_collateral_price=price,
        loan_interest=rng.choice([0.0, None, amount * rng.uniform(0, 0.1)]),
        loan_days=rng.choice([None, 0, rng.randint(1, 400)]),
        loan_preset=rng.choice(LOAN_PRESET_IDS) if i % 3 == 0 else None,
        loan_gap_price=price * rng.uniform(0.1, 1.1) if i % 4 else None,
    )
    for key, lo, hi in (
        ("interest_rate", 0, 0.3),
        ("target_ltv", 0.3, 0.8),
        ("margin_call_ltv", 0.6, 0.9),
        ("liquidation_ltv", 0.8, 1.0),
        ("liquidation_fee", 0, 0.1),
    ):
        pick = rng.random()
        case[f"loan_{key}_override"] = (
            rng.uniform(lo, hi)
            if pick < 0.4
            else label("none", rng.choice(LANGUAGES))
            if pick < 0.5
            else None
        )
    return case


# SPEC §10: 1,000,000 JPY, long at 10,000,000, 2x venue (e = 1 is a row of the default column).
SPEC_PLAN = dict(
    plan_deposit=1_000_000,
    plan_side="long",
    plan_entry_price=10_000_000,
    plan_leverage=2,
    plan_fees=0,
    plan_safe_level=3.0,
)
# SPEC §10: loan 10,000 USDT on 1 BTC, LTV 80 % as the margin call, back to 65 %, a gap fill at
# 9,000 with a 2 % fee; at 20,000 (LTV 50 %) and at 12,500 (LTV 80 %).
SPEC_LOAN = dict(
    loan_amount=10_000,
    loan_collateral_quantity=1,
    loan_interest=0,
    loan_days=None,
    loan_preset=None,
    loan_gap_price=9_000,
    loan_interest_rate_override=None,
    loan_target_ltv_override=0.65,
    loan_margin_call_ltv_override=0.8,
    loan_liquidation_ltv_override=None,
    loan_liquidation_fee_override=0.02,
)

PLAN_BAD = [
    ("plan_deposit", 0),
    ("plan_entry_price", "abc"),
    ("plan_leverage", -1),
    ("plan_side", "sideways"),
    ("plan_safe_level", "abc"),
    ("plan_margin_call_level_override", "abc"),
    ("plan_fees", -5),
    ("plan_basis_override", "market"),
]
LOAN_BAD = [
    ("loan_amount", -1),
    ("loan_collateral_price", "abc"),
    ("loan_collateral_quantity", 0),
    ("loan_preset", "nope"),
    ("loan_liquidation_fee_override", 1.5),
    ("loan_days", -3),
    ("loan_target_ltv_override", "abc"),
    ("loan_interest", -1),
]


def _write(plan_case, loan_case, lang, path):
    wb = build_workbook(lang)
    names = wb._xlcalc_names
    cases = dict(plan_case, **loan_case)
    for key, value in cases.items():
        if key in names:
            sheet, cell = names[key]
            wb[sheet][cell].value = value
    column = plan_case.get("plan_effective_leverage")
    if column is not None:
        sheet, col, first, last = _range(wb, "plan_effective_leverage")
        for r, v in zip(range(first, last + 1), column):
            wb[sheet][f"{col}{r}"].value = v
    write_template(wb, path, force=True)
    return names, {n: _range(wb, n) for n in ["plan_" + k for k in TABLE_KEYS]}


def _range(wb, name):
    """(sheet, column letter, first row, last row) of a one-column defined range."""
    ((sheet, ref),) = wb.defined_names[name].destinations
    m = re.fullmatch(r"\$([A-Z]+)\$(\d+):\$[A-Z]+\$(\d+)", ref)
    return sheet, m.group(1), int(m.group(2)), int(m.group(3))


@pytest.fixture(scope="module")
def recalculated(tmp_path_factory):
    require_soffice()
    src = tmp_path_factory.mktemp("planning")
    rng = random.Random(20261123)
    jobs = []
    for lang in LANGUAGES:
        pairs = [(_plan_case(rng, lang, i), _loan_case(rng, lang, i)) for i in range(RANDOM_CASES)]
        for price in (20_000, 12_500):
            pairs.append(
                (
                    dict(SPEC_PLAN, plan_side=label("long", lang), _spec=True),
                    dict(SPEC_LOAN, loan_collateral_price=price, _spec=True),
                )
            )
        base_plan = dict(SPEC_PLAN, plan_side=label("long", lang))
        base_loan = dict(SPEC_LOAN, loan_collateral_price=20_000)
        for (pk, pv), (lk, lv) in zip(PLAN_BAD, LOAN_BAD):
            pairs.append((dict(base_plan, **{pk: pv}, _bad=pk), dict(base_loan, **{lk: lv}, _bad=lk)))
        for i, (pc, lc) in enumerate(pairs):
            path = src / f"{lang}-{i:03d}.xlsx"
            jobs.append((lang, pc, lc, *_write(pc, lc, lang, path), path))
    outs = recalculate([j[-1] for j in jobs], tmp_path_factory.mktemp("planning-out"))
    return [
        (lang, pc, lc, names, ranges, openpyxl.load_workbook(out, data_only=True))
        for (lang, pc, lc, names, ranges, _), out in zip(jobs, outs)
    ]


# -- expected values from the core ----------------------------------------------------------


def _level(override, calculator, default):
    """The planner's/loan's used level: its own value, "none" = no level, blank = the fallback."""
    if override is None:
        v = calculator if calculator is not None else default
        return math.nan if isinstance(v, str) or v is None else v
    return math.nan if isinstance(override, str) else override


def plan_levels(case):
    mc = _level(case.get("plan_margin_call_level_override"), case.get("margin_call_level_override"), 1.0)
    lc = _level(case.get("plan_loss_cut_level_override"), case.get("loss_cut_level_override"), 0.5)
    basis = case.get("plan_basis_override") or "entry"  # the Calculator's basis: entry with no preset
    safe = case["plan_safe_level"]
    return mc, lc, (math.nan if safe is None else safe), basis


def _nan_none(level):
    return None if math.isnan(level) else level


def expected_plan(case, column):
    """{table key: [value per row]} and {answer name: value} from xlcalc.planning."""
    mc, lc, safe, basis = plan_levels(case)
    d, side, p0, lev, f = (
        case[k] for k in ("plan_deposit", "plan_side", "plan_entry_price", "plan_leverage", "plan_fees")
    )
    rows = {k: [] for k in TABLE_KEYS[1:-1]}
    notes = []
    for e in column:
        ok = isinstance(e, (int, float)) and e > 0 and e <= lev
        if ok:
            plan = planning.leverage_plan(
                d,
                side,
                p0,
                lev,
                e,
                margin_call_level=_nan_none(mc),
                loss_cut_level=_nan_none(lc),
                safe_level=_nan_none(safe),
                basis=basis,
                fees=f,
            )
            row = plan.iloc[0]
        for k in rows:
            rows[k].append(float(row[k]) if ok else math.nan)
        over = isinstance(e, (int, float)) and e > lev
        safe_zone = ok and not math.isnan(safe) and row["ratio"] >= safe
        notes.append("over" if over else "safe" if safe_zone else "")
    answer = {}
    if math.isnan(safe):
        answer = {k: math.nan for k in PLAN_OUTPUTS[:-1]}
    else:
        q = planning.max_quantity(d, p0, lev, level=safe, fees=f)
        answer.update(plan_max_quantity=q, plan_max_notional=q * p0, plan_max_effective_leverage=q * p0 / d)
        args = dict(deposit=d, side=side, entry_price=p0, quantity=q, leverage=lev, basis=basis, fees=f)
        for key, level in (("margin_call", mc), ("loss_cut", lc), ("bankruptcy", None)):
            if q <= 0 or (level is not None and math.isnan(level)):
                price = math.nan
            elif level is None:
                price = xc.bankruptcy_price(d, side, p0, q, fees=f)
            else:
                price = xc.trigger_price(level=level, **args)
            answer[f"plan_max_{key}_price"] = price
            answer[f"plan_max_{key}_move"] = price / p0 - 1
    return rows, notes, answer


def loan_levels(case):
    preset = loans.get_loan_preset(case["loan_preset"]) if case.get("loan_preset") else None
    out = {}
    for key, col, _ in ((k, c, None) for k, _, c in loan.LEVELS):
        fallback = loan.DEFAULTS[key] if preset is None else preset[col]
        if isinstance(fallback, float) and math.isnan(fallback):
            fallback = None  # not published
        out[key] = _level(case.get(f"loan_{key}_override"), fallback, None)
    return out


def expected_loan(case, lang):
    lv = loan_levels(case)
    b, q, p = case["loan_amount"], case["loan_collateral_quantity"], case["loan_collateral_price"]
    rate, days = lv["interest_rate"], case["loan_days"]
    over = 0.0 if math.isnan(rate) or days is None else loans.loan_interest(b, rate, days)
    interest = (case["loan_interest"] or 0.0) + over
    ltv = loans.loan_ltv(b, q, p, interest=interest)
    exp = dict(
        loan_interest_over_days=over,
        loan_interest_total=interest,
        loan_debt=b + interest,
        loan_collateral_value=q * p,
        loan_ltv_now=ltv,
    )
    liq, mc, target = lv["liquidation_ltv"], lv["margin_call_ltv"], lv["target_ltv"]
    word = "loan_status_liquidation" if ltv >= liq else "margin_call" if ltv >= mc else "ok"
    exp["loan_status"] = label(word, lang)
    for key, level in (("margin_call", mc), ("liquidation", liq), ("target", target)):
        price = math.nan if math.isnan(level) else loans.ltv_price(b, q, level, interest=interest)
        exp[f"loan_{key}_price"] = price
        exp[f"loan_{key}_distance"] = price - p
        exp[f"loan_{key}_distance_pct"] = price / p - 1
    if math.isnan(target):
        exp["loan_collateral_to_add"] = exp["loan_repay_to_target"] = math.nan
    else:
        exp["loan_collateral_to_add"] = loans.collateral_to_add(b, q, p, target, interest=interest)
        exp["loan_repay_to_target"] = loans.repay_to_target(b, q, p, target, interest=interest)
    gap, fee = case["loan_gap_price"], lv["liquidation_fee"]
    exp["loan_shortfall"] = (
        math.nan
        if gap is None
        else loans.loan_shortfall(
            b, q, gap, interest=interest, liquidation_fee=0.0 if math.isnan(fee) else fee
        )
    )
    return exp


def _blank(v):
    return v is None or v == ""


def _at_zero(price, scale):
    """A price within rounding of zero: the spreadsheet's subtraction may snap it to 0 (an empty
    cell) where numpy leaves a few ulps; its move is then -100 % or empty."""
    return not math.isnan(price) and abs(price) <= REL * scale


def _close(got, want, scale, what, edge=False):
    if edge and _blank(got):
        return
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


def _column(wb, ranges, key):
    sheet, col, first, last = ranges["plan_" + key]
    return [wb[sheet][f"{col}{r}"].value for r in range(first, last + 1)]


def _good(results):
    return [r for r in results if "_bad" not in r[1]]


# -- the recalculated workbooks ---------------------------------------------------------------


def test_every_case_was_recalculated(recalculated):
    assert len(_good(recalculated)) == 2 * (RANDOM_CASES + 2)
    for _lang, pc, lc, names, _ranges, wb in recalculated:
        assert _value(wb, names, "plan_inputs_ok") is ("_bad" not in pc), pc
        assert _value(wb, names, "loan_inputs_ok") is ("_bad" not in lc), lc


def test_planner_table_equals_core(recalculated):
    seen = set()
    for lang, case, _, _names, ranges, wb in _good(recalculated):
        column = _column(wb, ranges, "effective_leverage")
        assert column == case.get("plan_effective_leverage", planner.EFFECTIVE_LEVERAGES)
        rows, notes, _ = expected_plan(case, column)
        scale = max(1.0, case["plan_entry_price"], case["plan_deposit"])
        for key, want in rows.items():
            got = _column(wb, ranges, key)
            prices = rows[key.replace("_move", "_price")] if key.endswith("_move") else want
            for i, (g, w) in enumerate(zip(got, want)):
                _close(g, w, scale, f"{lang} {key} row {i} {case}", edge=_at_zero(prices[i], scale))
                seen.add((key, math.isnan(w)))
        words = {"over": label("plan_over_max", lang), "safe": label("plan_in_safe_zone", lang), "": None}
        assert [v or None for v in _column(wb, ranges, "row_note")] == [words[n] for n in notes]
        seen |= {("note", n) for n in notes}
    # the sets really cover empty and filled cells of every column, rows over the venue's leverage
    # and rows in the safe zone
    for key in TABLE_KEYS[1:-1]:
        assert (key, False) in seen and (key, True) in seen, key
    assert {("note", "over"), ("note", "safe"), ("note", "")} <= seen


def test_planner_answer_equals_core(recalculated):
    kinds = set()
    for lang, case, _, names, _ranges, wb in _good(recalculated):
        _, _, answer = expected_plan(case, [])
        scale = max(1.0, case["plan_entry_price"], case["plan_deposit"])
        for key, want in answer.items():
            price = answer.get(key.replace("_move", "_price"), math.nan)
            _close(_value(wb, names, key), want, scale, f"{lang} {key} {case}", edge=_at_zero(price, scale))
        assert _blank(_value(wb, names, "plan_input_check"))
        q = answer["plan_max_quantity"]
        kinds.add("none" if math.isnan(q) else "zero" if q == 0 else "some")
    assert kinds == {"none", "zero", "some"}


def test_planner_levels_come_from_the_calculator(recalculated):
    """A blank planner level is the Calculator's used level (its preset, its value or none)."""
    sources = set()
    for lang, case, _, names, _ranges, wb in _good(recalculated):
        mc, lc, _, basis = plan_levels(case)
        _close(_value(wb, names, "plan_margin_call_level"), mc, 1, "mc")
        _close(_value(wb, names, "plan_loss_cut_level"), lc, 1, "lc")
        assert _value(wb, names, "plan_basis") == (case.get("plan_basis_override") or label("entry", lang))
        if case.get("plan_margin_call_level_override") is None:
            sources.add(type(case.get("margin_call_level_override")).__name__)
    assert sources == {"NoneType", "float", "str"}


def test_loan_outputs_equal_core(recalculated):
    seen = set()
    for lang, _, case, names, _ranges, wb in _good(recalculated):
        exp = expected_loan(case, lang)
        value = case["loan_collateral_quantity"] * case["loan_collateral_price"]
        scale = max(1.0, case["loan_amount"], value, case["loan_collateral_price"])
        for key, want in exp.items():
            _close(_value(wb, names, key), want, scale, f"{lang} {key} {case}")
        assert _blank(_value(wb, names, "loan_input_check"))
        seen.add(exp["loan_status"])
        seen.add(("preset", bool(case["loan_preset"])))
        seen.add(("blank price", math.isnan(exp["loan_liquidation_price"])))
        seen.add(("add", exp["loan_collateral_to_add"] > 0))
        seen.add(("interest over days", exp["loan_interest_over_days"] > 0))
    statuses = ("ok", "margin_call", "loan_status_liquidation")
    assert {label(k, lg) for k in statuses for lg in LANGUAGES} <= seen
    for item in [
        ("preset", True),
        ("preset", False),
        ("blank price", True),
        ("blank price", False),
        ("add", True),
        ("add", False),
        ("interest over days", True),
    ]:
        assert item in seen, item


def test_loan_presets_fill_the_levels(recalculated):
    for _lang, _, case, names, _ranges, wb in _good(recalculated):
        if not case["loan_preset"]:
            continue
        preset = loans.get_loan_preset(case["loan_preset"])
        for key, _, col in loan.LEVELS:
            _close(_value(wb, names, f"loan_{key}_preset"), preset[col], 1, f"{case['loan_preset']} {key}")


def test_spec_examples_through_the_workbook(recalculated):
    """SPEC §10's worked examples, read from LibreOffice's results."""
    spec = [r for r in _good(recalculated) if "_spec" in r[1]]
    assert len(spec) == 4
    for _lang, _, lc, names, ranges, wb in spec:
        e = _column(wb, ranges, "effective_leverage")
        row = e.index(1)

        def get(key, wb=wb, ranges=ranges, row=row):
            return _column(wb, ranges, key)[row]

        assert get("quantity") == pytest.approx(0.1, rel=REL)
        assert get("ratio") == pytest.approx(2.0, rel=REL)
        assert get("margin_call_price") == pytest.approx(5_000_000, rel=REL)
        assert get("margin_call_move") == pytest.approx(-0.5, rel=REL)
        assert get("loss_cut_price") == pytest.approx(2_500_000, rel=REL)
        assert get("loss_cut_move") == pytest.approx(-0.75, rel=REL)
        assert round(_value(wb, names, "plan_max_quantity"), 4) == 0.0667
        # the loan: 10,000 on 1 BTC
        if lc["loan_collateral_price"] == 20_000:
            assert _value(wb, names, "loan_ltv_now") == pytest.approx(0.5, rel=REL)
            assert _value(wb, names, "loan_margin_call_price") == pytest.approx(12_500, rel=REL)
            assert _value(wb, names, "loan_collateral_to_add") == 0
        else:
            assert _value(wb, names, "loan_ltv_now") == pytest.approx(0.8, rel=REL)
            assert round(_value(wb, names, "loan_collateral_to_add"), 6) == 0.230769
        assert _value(wb, names, "loan_shortfall") == pytest.approx(1_180, rel=REL)


def test_bad_inputs_show_a_message_not_an_error(recalculated):
    bad = [r for r in recalculated if "_bad" in r[1]]
    assert len(bad) == 2 * len(PLAN_BAD)
    for lang, pc, lc, names, ranges, wb in bad:
        for case, prefix, outputs in ((pc, "plan_", PLAN_OUTPUTS[:-1]), (lc, "loan_", LOAN_OUTPUTS[1:])):
            msg = _value(wb, names, prefix + "input_check")
            assert isinstance(msg, str) and msg, case
            field = case["_bad"].replace("_override", "")
            shared = field.replace("plan_", "")  # inputs the Calculator also has keep its words
            word = label(
                shared
                if shared in ("deposit", "entry_price", "side", "fees", "margin_call_level", "basis")
                else field,
                lang,
            )
            assert word in msg, (msg, field)
            for key in outputs:
                if key == "loan_status":
                    assert _value(wb, names, key) == msg
                else:
                    assert _blank(_value(wb, names, key)), (key, case)
        for key in TABLE_KEYS[1:-1]:
            assert all(_blank(v) for v in _column(wb, ranges, key)), key
    for *_, wb in recalculated:
        for ws in wb.worksheets[-2:]:
            for row in ws.iter_rows(values_only=True):
                for v in row:
                    assert not (isinstance(v, str) and v.startswith("#") and v != "#N/A"), (ws.title, v)


# -- structure (no LibreOffice needed) --------------------------------------------------------


@pytest.fixture(scope="module", params=LANGUAGES)
def book(request, tmp_path_factory):
    path = build_template(tmp_path_factory.mktemp("p") / f"p-{request.param}.xlsx", lang=request.param)
    return request.param, openpyxl.load_workbook(path)


def _sheets(lang, wb):
    return wb[label("sheet_planner", lang)], wb[label("sheet_loan", lang)]


def test_sheets_are_appended_and_contract_names_untouched(book):
    lang, wb = book
    assert wb.sheetnames[-2:] == [label("sheet_planner", lang), label("sheet_loan", lang)]
    calc = label("sheet_calculator", lang)
    for name in INPUT_NAMES + OUTPUT_NAMES:
        assert next(wb.defined_names[name].destinations)[0] == calc, name
    plan, lo = _sheets(lang, wb)
    new = {
        n: next(d.destinations)[0]
        for n, d in wb.defined_names.items()
        if next(d.destinations)[0] in (plan.title, lo.title)
    }
    assert all(n.startswith(("plan_", "loan_")) for n in new), new
    for name in PLAN_INPUTS + PLAN_OUTPUTS + ["plan_" + k for k in TABLE_KEYS]:
        assert new[name] == plan.title, name
    for name in LOAN_INPUTS + LOAN_OUTPUTS + ["loan_preset_ids"]:
        assert new[name] == lo.title, name


def test_only_portable_functions_and_defined_names(book):
    lang, wb = book
    defined = set(wb.defined_names)
    used = set()
    titles = {ws.title for ws in _sheets(lang, wb)}
    for title, coord, f in _formulas(wb):
        if title not in titles:
            continue
        used |= set(CALL.findall(_strip_strings(f)))
        assert "_xlfn" not in f and "[" not in _strip_strings(f)
        words = set(re.findall(r"\b([a-z_][a-z0-9_]*)\b(?!\()", _strip_strings(f)))
        assert words <= defined, (title, coord, words - defined)
        assert len(f) < 8192, (title, coord)  # Excel's formula length limit
    assert used <= ALLOWED, used - ALLOWED


def test_inputs_unlocked_formulas_locked_one_page(book):
    lang, wb = book
    names = {n: next(d.destinations) for n, d in wb.defined_names.items()}
    for ws in _sheets(lang, wb):
        assert ws.protection.sheet and not ws.protection.password
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 1)
        assert ws.print_area
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, str) and c.value.startswith("="):
                    assert c.protection.locked, (ws.title, c.coordinate)
    for name in PLAN_INPUTS + LOAN_INPUTS:
        sheet, ref = names[name]
        cell = wb[sheet][ref.replace("$", "")]
        assert cell.protection.locked is False and cell.fill.fgColor.rgb[-6:] == "FFF2CC", name
    sheet, col, first, last = _range(wb, "plan_effective_leverage")
    assert all(wb[sheet][f"{col}{r}"].protection.locked is False for r in range(first, last + 1))


def test_validation_formats_chart(book):
    lang, wb = book
    plan, lo = _sheets(lang, wb)
    names = {n: next(d.destinations)[1].replace("$", "") for n, d in wb.defined_names.items()}
    lists = {
        (dv.formula1, str(dv.sqref))
        for ws in (plan, lo)
        for dv in ws.data_validations.dataValidation
        if dv.type == "list"
    }
    side = ",".join(label(k, lang) for k in ("long", "short"))
    basis = ",".join(label(k, lang) for k in ("entry", "mark"))
    assert {
        (f'"{side}"', names["plan_side"]),
        (f'"{basis}"', names["plan_basis_override"]),
        ("loan_preset_ids", names["loan_preset"]),
    } <= lists
    positive = {str(dv.sqref) for dv in plan.data_validations.dataValidation if dv.operator == "greaterThan"}
    assert {names["plan_deposit"], names["plan_entry_price"], names["plan_leverage"]} <= positive
    _, col, first, last = _range(wb, "plan_effective_leverage")
    assert f"{col}{first}:{col}{last}" in positive
    money = "#,##0.00"  # the currency's format is conditional on the preset's (test_template.py)
    assert plan[names["plan_deposit"]].number_format == money
    assert plan[names["plan_max_notional"]].number_format == money
    assert lo[names["loan_debt"]].number_format == money
    assert lo[names["loan_ltv_now"]].number_format == "0.00%"
    assert plan[names["plan_safe_level"]].value == planner.DEFAULT_SAFE_LEVEL
    _, col, first, _ = _range(wb, "plan_ratio")
    assert plan[f"{col}{first}"].number_format == "0.00%"
    assert len(plan._charts) == 1 and len(plan._charts[0].series) == len(planner.CHART_SERIES)
    fills = {
        r.dxf.fill.fgColor.rgb[-6:]
        for cf in plan.conditional_formatting
        for r in cf.rules
        if r.dxf and r.dxf.fill
    }
    assert {"FFD966", "FF7C80", "C6EFCE"} <= fills  # amber, red, safe green


def test_loan_presets_table_has_sources_and_blanks(book):
    lang, wb = book
    _, lo = _sheets(lang, wb)
    sheet, col, first, last = _range(wb, "loan_preset_ids")
    ids = [lo[f"{col}{r}"].value for r in range(first, last + 1)]
    presets = loans.loan_presets()
    assert ids[: len(presets)] == [p["id"] for p in presets] and not any(ids[len(presets) :])
    header = [c.value for c in lo[first - 1]]
    src = header.index(label("source_url", lang)) + 1
    liq = header.index(label("loan_liquidation_ltv", lang)) + 1
    for i, p in enumerate(presets):
        assert lo.cell(row=first + i, column=src).value.startswith("https://")
        got = lo.cell(row=first + i, column=liq).value
        assert (got is None) == math.isnan(p["liquidation_ltv"]), p["id"]  # unpublished stays blank


def test_udf_workbook_has_the_sheets_too(tmp_path):
    path = build_template(tmp_path / "u.xlsm", lang="en", udf=True)
    wb = openpyxl.load_workbook(path, keep_vba=True)
    assert {label("sheet_planner", "en"), label("sheet_loan", "en")} <= set(wb.sheetnames)
    assert "plan_max_quantity" in wb.defined_names and "loan_ltv_now" in wb.defined_names
