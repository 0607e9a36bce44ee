"""Excel functions (xlcalc.udfs): registration through classic xlwings' real decorators,
the VBA wrapper Excel imports, and results that equal the core cell by cell."""

from __future__ import annotations

import inspect
import io
import math
import re
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import xlcalc as xc
from xlcalc import arguments, labels, udfs

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from xlwings_stubs import MISSING, call_like_excel, classic_udfs, office_js_cell  # noqa: E402

NAMES = udfs.__all__
# The core function each Excel function exposes, for argument names and order.
CORE = {
    "XLC_RATIO": xc.maintenance_ratio,
    "XLC_LOSSCUT_PRICE": xc.loss_cut_price,
    "XLC_MARGINCALL_PRICE": xc.margin_call_price,
    "XLC_REQUIRED_MARGIN": xc.required_margin,
    "XLC_PNL": xc.unrealized_pnl,
    "XLC_EQUITY": xc.equity,
    "XLC_ADD_DEPOSIT": xc.additional_deposit,
    "XLC_CLOSE_QTY": xc.close_quantity,
    "XLC_BANKRUPTCY_PRICE": xc.bankruptcy_price,
    "XLC_SHORTFALL": xc.shortfall,
    "XLC_POSITION_SIZE": xc.position_size,
    "XLC_LIQ_PRICE": xc.liquidation_price,
    "XLC_LTV": xc.loan_ltv,
    "XLC_LTV_PRICE": xc.ltv_price,
    "XLC_COLLATERAL_TO_ADD": xc.collateral_to_add,
    "XLC_REPAY_TO_TARGET": xc.repay_to_target,
    "XLC_LOAN_SHORTFALL": xc.loan_shortfall,
}
# Functions whose Excel form is not one cell per row: the core function they read their arguments from.
OTHER = {"XLC_STATUS": xc.status, "XLC_PRESET": udfs._preset_values, "XLC_PLAN": xc.leverage_plan}


@pytest.fixture(scope="module")
def classic():
    with classic_udfs() as loaded:
        yield loaded


def col(*values):
    """A one-column range as COM hands it to xlwings."""
    return tuple((v,) for v in values)


def params(f):
    return list(inspect.signature(f).parameters.values())


# -- registration ------------------------------------------------------------------------
def test_all_functions_listed():
    assert sorted(NAMES) == sorted(n for n in dir(udfs) if n.startswith("XLC_"))
    assert set(CORE) | set(OTHER) == set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_registered_with_category_docs_and_arguments(classic, name):
    _, module = classic
    f = getattr(module, name)
    info = f.__xlfunc__
    assert info["name"] == name
    assert info["category"] == "xlcalc"
    assert info["ret"]["doc"] == f.__doc__ and 20 < len(f.__doc__) <= 255  # Excel's limit
    assert [a["name"] for a in info["args"]] == [p.name for p in params(f)]
    for a in info["args"]:
        assert not a["doc"].startswith("Positional argument"), a["name"]
        assert 10 < len(a["doc"]) <= 255
        assert a["options"]["ndim"] == 2
        assert a["options"].get("convert") is (None if a["name"] == "tiers" else np.array)
    assert info["ret"]["options"]["convert"] is np.array


@pytest.mark.parametrize("name", sorted(CORE))
def test_arguments_follow_the_python_api(name):
    ours, theirs = params(getattr(udfs, name)), params(CORE[name])
    assert [p.name for p in ours] == [p.name for p in theirs]
    # optional exactly where the API has a default
    assert [p.default is inspect.Parameter.empty for p in ours] == [
        p.default is inspect.Parameter.empty for p in theirs
    ]


@pytest.mark.parametrize("name", NAMES)
def test_wizard_help_comes_from_the_argument_table(classic, name):
    _, module = classic
    api = CORE.get(name) or OTHER[name]
    core_params = {p.name: p for p in params(api)}
    for a in getattr(module, name).__xlfunc__["args"]:
        lang = "en" if name == "XLC_STATUS" else None  # the one argument the core lacks
        default = core_params[a["name"]].default if a["name"] in core_params else lang
        assert a["doc"] == arguments.help_text(a["name"], "en", function=api.__name__, default=default)
        assert ("optional" in a) == (default is not inspect.Parameter.empty)
        assert a.get("optional") is None  # empty or omitted: the core's own default applies


def test_status_preset_and_plan_arguments():
    assert [p.name for p in params(udfs.XLC_STATUS)] == [*inspect.signature(xc.status).parameters, "lang"]
    assert [p.name for p in params(udfs.XLC_PLAN)] == [
        *inspect.signature(xc.leverage_plan).parameters,
        "lang",
    ]
    assert [p.name for p in params(udfs.XLC_PRESET)] == ["exchange_id", "field"]


def test_vba_wrapper_declares_every_function(classic):
    xlwings_udfs, module = classic

    class Workbook:
        Name = "positions.xlsm"

    buf = io.StringIO()
    xlwings_udfs.generate_vba_wrapper("xlcalc.udfs", module, buf, Workbook())
    vba = buf.getvalue()
    declared = re.findall(r"^Function (\w+)\((.*)\)$", vba, flags=re.M)
    assert sorted(n for n, _ in declared) == sorted(NAMES)
    for name, signature in declared:
        expected = [
            ("Optional " if p.default is not inspect.Parameter.empty else "") + p.name
            for p in params(getattr(udfs, name))
        ]
        assert signature.split(", ") == expected
        assert f'XLPy.CallUDF("xlcalc.udfs", "{name}", Array(' in vba
        assert f"{name} = Err.Description" in vba


def test_classic_loading_leaves_no_trace():
    import xlwings

    def state():
        return (
            xlwings.func,
            xlwings.arg,
            xlwings.ret,
            len(xlwings.engines),
            {n: sys.modules.get(n) for n in ("pythoncom", "win32com.client", "xlwings.udfs")},
        )

    before = state()
    with classic_udfs() as (_, module):
        assert hasattr(module.XLC_PNL, "__xlfunc__")
        assert state() != before
    assert state() == before
    assert not hasattr(udfs.XLC_PNL, "__xlfunc__")  # the package's module is plain Python here


def test_imports_like_xlwings_lite():
    code = (
        "from xlwings import func, arg, ret\n"
        "from xlcalc.udfs import *\n"
        "print(sorted(n for n in dir() if n.startswith('XLC_')))\n"
        "print(XLC_LOSSCUT_PRICE(5000, 'long', 50000, 0.2, 2, 0.5).tolist())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == [str(sorted(NAMES)), "[[37500.0]]"]


# -- calls as Excel makes them ------------------------------------------------------------
def test_spec_examples_through_excel_conversion(classic):
    _, m = classic
    assert call_like_excel(m.XLC_LOSSCUT_PRICE, 5_000, "long", 50_000, 0.2, 2, 0.5) == [[37500.0]]
    assert call_like_excel(m.XLC_RATIO, 5_000, "long", 50_000, 25_000, 0.2, 2) == [[0.0]]
    assert call_like_excel(m.XLC_REQUIRED_MARGIN, 110, 100_000, 25) == [[440_000.0]]
    assert call_like_excel(m.XLC_LOSSCUT_PRICE, 1e6, "buy", 110, 100_000, 25, 1.0) == [[104.4]]
    assert call_like_excel(m.XLC_LOSSCUT_PRICE, 1e6, "long", 1e7, 0.2, 2, 0.75, "mark") == [[8e6]]
    assert call_like_excel(m.XLC_MARGINCALL_PRICE, 1e6, "long", 1e7, 0.1, 2) == [[5e6]]
    assert call_like_excel(m.XLC_ADD_DEPOSIT, 1e6, "long", 1e7, 4e6, 0.1, 2) == [[100_000.0]]
    assert call_like_excel(m.XLC_SHORTFALL, 500_000, "long", 1e7, 4e6, 0.1) == [[100_000.0]]
    assert call_like_excel(m.XLC_BANKRUPTCY_PRICE, 5_000, "short", 50_000, 0.2) == [[75_000.0]]


def test_column_spills_with_a_bad_row(classic):
    _, m = classic
    deposit = col(5_000.0, -1.0, None, 20_000.0, "abc", -2146826246)  # last: #N/A
    got = call_like_excel(m.XLC_LOSSCUT_PRICE, deposit, "long", 50_000.0, 0.2, 2.0, 0.5)
    assert got == [
        [37500.0],
        ["#VALUE! deposit must be a number >= 0, got -1.0"],
        ["#VALUE! deposit is empty"],
        [""],  # never reached: a fully collateralized position
        ["#VALUE! deposit must be a number, got 'abc'"],
        ["#VALUE! deposit must be a number, got '#N/A'"],
    ]


def test_optional_empty_cells_mean_the_default(classic):
    _, m = classic
    base = (500_000.0, "long", 1e7, 0.1, 2.0, 0.5)
    expected = xc.loss_cut_price(*base)
    assert call_like_excel(m.XLC_LOSSCUT_PRICE, *base) == [[expected]]
    assert call_like_excel(m.XLC_LOSSCUT_PRICE, *base, MISSING, MISSING) == [[expected]]
    assert call_like_excel(m.XLC_LOSSCUT_PRICE, *base, None, None) == [[expected]]
    # a fees column with blanks: blank rows are fee-free, the others pay
    got = call_like_excel(m.XLC_LOSSCUT_PRICE, *base, col("mark", None), col(None, 12_000.0))
    assert got == [[xc.loss_cut_price(*base, basis="mark")], [xc.loss_cut_price(*base, fees=12_000)]]
    # required arguments have no default
    assert call_like_excel(m.XLC_PNL, "long", 100.0, None, 2.0) == [["#VALUE! price is empty"]]


def test_broadcasting(classic):
    _, m = classic
    prices = (50_000.0, 40_000.0, 30_000.0)
    got = call_like_excel(m.XLC_RATIO, 5_000, "long", 50_000, col(*prices), 0.2, 2)
    assert got == [[xc.maintenance_ratio(5_000, "long", 50_000, p, 0.2, 2)] for p in prices]
    # a column of sides against a row of prices: a table
    got = call_like_excel(m.XLC_PNL, col("long", "short"), 100.0, (prices,), 1.0)
    assert got == [[xc.unrealized_pnl(s, 100.0, p, 1.0) for p in prices] for s in ("long", "short")]
    got = call_like_excel(m.XLC_PNL, col("long", "short"), 100.0, col(*prices), 1.0)
    assert got == [["#VALUE! ranges must be the same size or single cells: side 2x1, price 3x1"]]


def test_status_words(classic):
    _, m = classic
    ratios = col(2.27, 0.8, 0.4, None)
    assert call_like_excel(m.XLC_STATUS, ratios) == [
        ["OK"],
        ["Margin call"],
        ["Loss-cut"],
        ["#VALUE! ratio is empty"],
    ]
    assert call_like_excel(m.XLC_STATUS, ratios, 1.0, 0.5, MISSING, "ja")[:3] == [
        [labels.label(k, "ja")] for k in ("ok", "margin_call", "loss_cut")
    ]
    # GMO Coin has no margin call: the word none (or なし) says so
    assert call_like_excel(m.XLC_STATUS, 0.8, "なし", 0.75) == [["OK"]]
    assert call_like_excel(m.XLC_STATUS, 0.7, "none", 0.75) == [["Loss-cut"]]
    assert call_like_excel(m.XLC_STATUS, 0.8, 1.0, 0.5, None, "fr") == [
        ["#VALUE! lang must be one of ja, en, got 'fr'"]
    ]
    # the safe zone (SPEC §10): below 300 % and above the margin call is "caution"
    got = call_like_excel(m.XLC_STATUS, col(3.5, 2.27, 0.8), 1.0, 0.5, 3.0, "ja")
    assert got == [[labels.label(k, "ja")] for k in ("ok", "caution", "margin_call")]
    got = call_like_excel(m.XLC_STATUS, col(2.27, 2.27, 2.27), MISSING, MISSING, col(3.0, None, "none"))
    assert got == [["Caution"], ["OK"], ["OK"]]  # an empty safe level or the word none: no safe zone


def test_presets(classic):
    _, m = classic
    table = call_like_excel(
        m.XLC_PRESET,
        col("bitflyer_cfd", "gmo_coin_fx", "nope"),
        (("loss_cut_level", "margin_call_level", "basis"),),
    )
    assert table[0] == [0.5, 1.0, "entry"]
    assert table[1] == [0.75, "none", "entry"]  # no margin call at GMO Coin: the word none
    assert all(c.startswith("#VALUE! exchange must be one of bitflyer_cfd") for c in table[2])
    assert call_like_excel(m.XLC_PRESET, "bitflyer_cfd", "colour") == [
        [f"#VALUE! field must be one of {', '.join(xc.presets.COLUMNS)}, got 'colour'"]
    ]
    assert call_like_excel(m.XLC_PRESET, "bitflyer_cfd", "source_url") == [
        [xc.get_preset("bitflyer_cfd")["source_url"]]
    ]


def test_position_size_leverage_blank_means_no_cap(classic):
    _, m = classic
    got = call_like_excel(m.XLC_POSITION_SIZE, 1e6, 0.02, 1e7, 9.95e6, col(2.0, None))
    assert got == [
        [xc.position_size(1e6, 0.02, 1e7, 9.95e6, leverage=2)],
        [xc.position_size(1e6, 0.02, 1e7, 9.95e6)],
    ]
    got = call_like_excel(m.XLC_POSITION_SIZE, 1e6, col(0.02, 2.0), 1e7, col(9.5e6, 1e7))
    assert got == [
        [xc.position_size(1e6, 0.02, 1e7, 9.5e6)],
        ["#VALUE! risk must be a fraction of capital <= 1 (0.02 = 2 %), got 2.0"],
    ]


def test_liquidation_price(classic):
    _, m = classic
    got = call_like_excel(m.XLC_LIQ_PRICE, col(1_000.0, 2_000.0), "long", 10_000.0, 1.0, 0.004)
    assert got == [[xc.liquidation_price(b, "long", 10_000, 1, 0.004)] for b in (1_000, 2_000)]


def _core_takes_tiers():
    try:
        xc.liquidation_price(
            1_000, "long", 10_000, 1, 0.004, tiers=[[0, 50_000, 0.004, 0], [50_000, 250_000, 0.005, 50]]
        )
    except Exception:  # noqa: BLE001 - not implemented yet in the core
        return False
    return True


@pytest.mark.skipif(not _core_takes_tiers(), reason="xc.liquidation_price does not take tiers yet")
def test_liquidation_price_with_tiers(classic):
    _, m = classic
    tiers = (
        ("floor", "cap", "mmr", "cum"),
        (0.0, 50_000.0, 0.004, 0.0),
        (50_000.0, 250_000.0, 0.005, 50.0),
        (None, None, None, None),
    )
    rows = [[0.0, 50_000.0, 0.004, 0.0], [50_000.0, 250_000.0, 0.005, 50.0]]
    got = call_like_excel(
        m.XLC_LIQ_PRICE, 1_000.0, "long", 10_000.0, 1.0, None, MISSING, MISSING, MISSING, tiers
    )
    expected = xc.liquidation_price(
        1_000, "long", 10_000, 1, None, tiers=[["floor", "cap", "mmr", "cum"], *rows]
    )
    assert got == [[expected]]


def test_one_cell_takes_the_fast_path_with_the_same_error_rules(classic, monkeypatch):
    _, m = classic
    calls = []
    original = m._evaluate_ranges
    monkeypatch.setattr(m, "_evaluate_ranges", lambda *a: calls.append(a) or original(*a))
    base = [1e6, "long", 1e7, 9e6, 0.1, 2.0]
    assert call_like_excel(m.XLC_RATIO, *base) == [[xc.maintenance_ratio(*base)]]
    assert call_like_excel(m.XLC_RATIO, *base, "mark", 12_000.0) == [
        [xc.maintenance_ratio(*base, basis="mark", fees=12_000.0)]
    ]
    assert call_like_excel(m.XLC_RATIO, *base[:3], "abc", *base[4:]) == [
        ["#VALUE! price must be a number, got 'abc'"]
    ]
    assert call_like_excel(m.XLC_RATIO, *base[:3], -2146826246, *base[4:]) == [
        ["#VALUE! price must be a number, got '#N/A'"]
    ]
    assert call_like_excel(m.XLC_RATIO, 1e6, "up", *base[2:]) == [
        ["#VALUE! side must be long/short, buy/sell, 買い/売り or +1/-1, got 'up'"]
    ]
    assert call_like_excel(m.XLC_RATIO, None, *base[1:]) == [["#VALUE! deposit is empty"]]
    assert call_like_excel(m.XLC_RATIO, *base, "sideways") == [
        ["#VALUE! basis must be 'entry' or 'mark', got 'sideways'"]
    ]
    assert calls == []
    # one range among the arguments: the range path, row by row the same answers
    got = call_like_excel(m.XLC_RATIO, None, *base[1:3], col(9e6, "abc"), *base[4:])
    assert got == [["#VALUE! deposit is empty"]] * 2 and len(calls) == 1


def test_error_text_is_said_from_the_error_parts():
    try:
        xc.required_margin([100.0, 100.0], [1.0, -2.0], 2)
    except xc.InputError as err:
        assert str(err).endswith(" at row 1")
        assert udfs._error_text(err) == "#VALUE! quantity must be a positive number, got -2.0"
    assert udfs._error_text(ValueError("tiers must have at least one row")) == (
        "#VALUE! tiers must have at least one row"
    )


# -- venue conventions (SPEC §8): the core's new optional arguments reach Excel by themselves --
PRICES = ["XLC_LOSSCUT_PRICE", "XLC_MARGINCALL_PRICE", "XLC_BANKRUPTCY_PRICE", "XLC_LIQ_PRICE"]
MONEY = [
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
]


def test_venue_arguments_follow_the_core(classic):
    _, m = classic
    for name in PRICES:
        assert "tick_size" in [a["name"] for a in getattr(m, name).__xlfunc__["args"]], name
    for name in MONEY:
        assert "quote_rate" in [p.name for p in params(getattr(udfs, name))], name
    liq = [p.name for p in params(udfs.XLC_LIQ_PRICE)]
    assert {"mm_basis", "taker_fee", "tick_size"} <= set(liq)


def test_venue_examples_through_excel(classic):
    _, m = classic
    # SPEC §8: loss-cut 37,500 with a 1,000 tick is 38,000 for a long (and 37,000 for a short's way)
    got = call_like_excel(
        m.XLC_LOSSCUT_PRICE, 5_000.0, "long", 50_000.0, 0.2, 2.0, 0.5, MISSING, MISSING, MISSING, 1_000.0
    )
    assert got == [[38_000.0]]
    # SPEC §8: EUR/USD short 15,000 at 1.2 in a JPY account, USD/JPY 80, 20x: margin 72,000 JPY;
    # with 100,000 JPY the 100 % line is 1.2 + 0.023333
    assert call_like_excel(m.XLC_REQUIRED_MARGIN, 1.2, 15_000.0, 20.0, 80.0) == [[72_000.0]]
    got = call_like_excel(
        m.XLC_MARGINCALL_PRICE, 100_000.0, "short", 1.2, 15_000.0, 20.0, MISSING, MISSING, MISSING, 80.0
    )
    assert got[0][0] == pytest.approx(1.2 + 0.023333, abs=1e-6)
    # issue #10: jesse / Bybit classic value the maintenance margin at entry: 40.32, not 40.16
    got = call_like_excel(
        m.XLC_LIQ_PRICE,
        10_000.0,
        "long",
        80.0,
        250.0,
        0.004,
        MISSING,
        MISSING,
        MISSING,
        MISSING,
        MISSING,
        col("entry", "mark"),
    )
    assert [round(r[0], 2) for r in got] == [40.32, 40.16]
    # a bad tick in one row is that row's error
    got = call_like_excel(
        m.XLC_BANKRUPTCY_PRICE, 5_000.0, "short", 50_000.0, 0.2, MISSING, MISSING, col(1_000.0, -1.0, None)
    )
    assert got == [[75_000.0], ["#VALUE! tick_size must be a positive number, got -1.0"], [75_000.0]]


# -- crypto-backed loans (SPEC §10) ---------------------------------------------------------
def test_loan_examples_through_excel(classic):
    _, m = classic
    # SPEC §10: loan 10,000 USDT on 1 BTC: at 20,000 LTV 50 %; LTV 80 % at 12,500; at 12,500 back
    # to 65 % needs 0.230769 BTC more; liquidated at 9,000 with a 2 % fee leaves 1,180 owed.
    assert call_like_excel(m.XLC_LTV, 10_000.0, 1.0, 20_000.0) == [[0.5]]
    assert call_like_excel(m.XLC_LTV_PRICE, 10_000.0, 1.0, col(0.8, 0.0)) == [
        [12_500.0],
        ["#VALUE! level must be a positive number, got 0.0"],
    ]
    got = call_like_excel(m.XLC_COLLATERAL_TO_ADD, 10_000.0, 1.0, 12_500.0, 0.65)
    assert got[0][0] == pytest.approx(0.230769, abs=1e-6)
    assert call_like_excel(m.XLC_REPAY_TO_TARGET, 10_000.0, 1.0, 12_500.0, 0.65) == [
        [xc.repay_to_target(10_000, 1, 12_500, 0.65)]
    ]
    assert call_like_excel(m.XLC_LOAN_SHORTFALL, 10_000.0, 1.0, 9_000.0, MISSING, 0.02)[0][
        0
    ] == pytest.approx(1_180.0)


# -- the leverage planner: one table with a header row ----------------------------------------
def test_plan_spills_the_leverage_plan(classic):
    _, m = classic
    rows = (0.5, 1.0, 1.5, 2.0)
    got = call_like_excel(m.XLC_PLAN, 1e6, "long", 1e7, 2.0, col(*rows))
    plan = xc.leverage_plan(1e6, "long", 1e7, 2.0, list(rows))
    assert got[0] == ["effective_leverage", *xc.planning.PLAN_COLUMNS]
    expected = [[e, *("" if math.isnan(v) else v for v in plan.loc[e])] for e in rows]
    assert got[1:] == expected
    # SPEC §10: e = 1 is 0.1 BTC at 200 %, margin call 5,000,000 (-50 %), loss-cut 2,500,000 (-75 %)
    one = dict(zip(got[0], got[2]))
    assert (one["quantity"], one["ratio"], one["margin_call_price"], one["loss_cut_move"]) == (
        0.1,
        2.0,
        5e6,
        -0.75,
    )


def test_plan_rows_errors_words_and_language(classic):
    _, m = classic
    got = call_like_excel(
        m.XLC_PLAN,
        1e6,
        "long",
        1e7,
        2.0,
        col(1.0, -1.0, "x", None),
        MISSING,
        MISSING,
        MISSING,
        MISSING,
        MISSING,
        "ja",
    )
    assert got[0][:3] == [labels.label(k, "ja") for k in ("effective_leverage", "quantity", "ratio")]
    assert got[1][:2] == [1.0, 0.1]
    assert got[2] == ["#VALUE! effective_leverage must be a positive number, got -1.0"] + [""] * 10
    assert got[3][0] == "#VALUE! effective_leverage must be a number, got 'x'"
    assert got[4][0] == "#VALUE! effective_leverage is empty"  # as every XLC_* says an empty cell
    # GMO Coin has no margin call: the word none empties its columns
    got = call_like_excel(m.XLC_PLAN, 1e6, "long", 1e7, 2.0, 1.0, "なし")
    one = dict(zip(got[0], got[1]))
    assert one["margin_call_price"] == "" and one["loss_cut_price"] == 2.5e6
    assert call_like_excel(m.XLC_PLAN, None, "long", 1e7, 2.0, 1.0) == [["#VALUE! deposit is empty"]]
    assert call_like_excel(m.XLC_PLAN, col(1e6, 2e6), "long", 1e7, 2.0, 1.0) == [
        ["#VALUE! deposit must be a single cell, got a 2x1 range"]
    ]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    deposit=st.floats(1e3, 1e7),
    side=st.sampled_from(["long", "short"]),
    entry=st.floats(1, 1e7),
    leverage=st.floats(1, 100),
    rows=st.lists(st.one_of(st.floats(0.01, 20), st.just(-1.0)), min_size=1, max_size=6),
)
def test_property_plan_rows_equal_the_core(classic, deposit, side, entry, leverage, rows):
    _, m = classic
    got = call_like_excel(m.XLC_PLAN, deposit, side, entry, leverage, col(*rows))
    if all(e <= 0 for e in rows):  # no row computes: one error cell, no header
        assert got == [["#VALUE! effective_leverage must be a positive number, got -1.0"]]
        return
    assert len(got) == len(rows) + 1
    for e, line in zip(rows, got[1:]):
        if e <= 0:
            assert line[0].startswith("#VALUE! effective_leverage "), line
            continue
        want = xc.leverage_plan(deposit, side, entry, leverage, [e]).iloc[0]
        assert line == [e, *("" if math.isnan(v) else v for v in want)]


_LEVEL = st.one_of(st.floats(0.05, 5), st.sampled_from([None, "none", "なし"]))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    ratios=st.lists(st.one_of(st.floats(-1, 10), st.none()), min_size=1, max_size=6),
    margin_call=_LEVEL,
    loss_cut=_LEVEL,
    safe=_LEVEL,
    lang=st.sampled_from(["en", "ja"]),
)
def test_property_status_equals_the_core(classic, ratios, margin_call, loss_cut, safe, lang):
    _, m = classic
    got = call_like_excel(m.XLC_STATUS, col(*ratios), margin_call, loss_cut, safe, lang)

    def level(v, default):
        return default if v is None else math.nan if isinstance(v, str) else v

    levels = (level(margin_call, 1.0), level(loss_cut, 0.5), level(safe, None))
    for r, (cell,) in zip(ratios, got):
        if r is None:
            assert cell == "#VALUE! ratio is empty"
        else:
            assert cell == labels.label(xc.status(r, *levels), lang), (r, levels)


# -- property: the Excel functions equal the core, cell by cell ---------------------------
_NUMBER = {
    "deposit": (0, 1e7),
    "wallet_balance": (0, 1e7),
    "capital": (1, 1e7),
    "entry_price": (1, 1e7),
    "price": (1, 1e7),
    "fill_price": (1, 1e7),
    "stop_price": (1, 1e7),
    "quantity": (1e-3, 1e3),
    "leverage": (1, 100),
    "level": (0.05, 2),
    "target": (0.05, 2),
    "risk": (1e-3, 1),
    "fees": (0, 1e5),
    "mmr": (0, 0.1),
    "maintenance_amount": (0, 1e3),
    "other_maintenance": (0, 1e3),
    "other_pnl": (-1e4, 1e4),
    "taker_fee": (0, 1e-3),
    "quote_rate": (0.01, 200),
    "money_unit": (0.01, 100),
    "loan": (0, 1e6),
    "collateral_quantity": (1e-3, 1e3),
    "interest": (0, 1e4),
    "liquidation_fee": (0, 0.1),
}
_BAD = st.sampled_from([None, -5.0, 0.0, "abc", "#N/A", "1000"])
_WORDS = {
    "side": ["long", "short", "buy", "sell", "買い", "売り", 1.0, -1.0],
    "basis": ["entry", "mark", "Mark", "建値", "時価"],
    "mm_basis": ["mark", "entry"],
    "margin_rounding": ["none", "floor"],
}


def _cell(name):
    if name in _WORDS:
        good = st.sampled_from(_WORDS[name])
        bad = st.sampled_from([None, "up", 0.0])
    elif name == "tick_size":  # ticks venues use (the core prints a price to the tick's decimals)
        good = st.sampled_from([1e-4, 0.01, 0.5, 1.0, 5.0, 25.0, 1_000.0])
        bad = _BAD
    else:
        lo, hi = _NUMBER[name]
        good = st.floats(lo, hi, allow_nan=False)
        bad = _BAD
    return st.one_of(good, good, good, bad)


@st.composite
def _call(draw, name):
    names = [p.name for p in params(getattr(udfs, name)) if p.name != "tiers"]
    rows = draw(st.integers(1, 6))
    args = {}
    for n in names:
        if draw(st.booleans()):
            args[n] = [draw(_cell(n)) for _ in range(rows)]
        else:
            args[n] = draw(_cell(n))
    return names, rows, args


def _expected(core, names, optional, row_args):
    for n in names:
        if row_args[n] is None and n not in optional:
            return f"#VALUE! {n} is empty"
    kwargs = {n: v for n, v in row_args.items() if v is not None}
    try:
        value = core(**kwargs)
    except xc.InputError as err:
        return ("error", str(err).split(" ")[0])
    return "" if math.isnan(value) else value


@pytest.mark.parametrize("name", sorted(CORE))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_property_equals_core(classic, name, data):
    _, m = classic
    names, rows, args = data.draw(_call(name))
    optional = {p.name for p in params(CORE[name]) if p.default is not inspect.Parameter.empty}
    excel_args = [
        MISSING
        if p.name not in args
        else col(*args[p.name])
        if isinstance(args[p.name], list)
        else args[p.name]
        for p in params(getattr(udfs, name))
    ]
    got = call_like_excel(getattr(m, name), *excel_args)
    assert len(got) == (rows if any(isinstance(v, list) for v in args.values()) else 1)
    for i, (cell,) in enumerate(got):
        row_args = {n: (v[i] if isinstance(v, list) else v) for n, v in args.items()}
        want = _expected(CORE[name], names, optional, row_args)
        if isinstance(want, tuple):  # the core refuses the row: a readable error naming the argument
            assert isinstance(cell, str) and cell.startswith(f"#VALUE! {want[1]} "), (cell, want)
        else:
            assert cell == want, (row_args, cell, want)


def test_unreachable_level_is_none_for_every_runtime(classic):
    _, m = classic
    deposit = col(5_000.0, 20_000.0, -1.0)
    # None in an object array: classic, Lite and Server all write it as an empty cell
    # (Lite and Server would write a NaN as #NUM!)
    for got in (
        udfs.XLC_LOSSCUT_PRICE(np.array(deposit), "long", 50_000, 0.2, 2, 0.5),
        udfs.XLC_LOSSCUT_PRICE(np.array([[20_000.0]]), "long", 50_000, 0.2, 2, 0.5),
    ):
        assert got.dtype == object and None in got.ravel().tolist()
        assert not any(isinstance(c, float) and math.isnan(c) for c in got.ravel())
    raw = m.XLC_LOSSCUT_PRICE(np.array(deposit), "long", 50_000.0, 0.2, 2.0, 0.5)
    assert [[office_js_cell(c) for c in row] for row in raw.tolist()] == [
        [37_500.0],
        [""],
        ["#VALUE! deposit must be a number >= 0, got -1.0"],
    ]
    assert call_like_excel(m.XLC_LOSSCUT_PRICE, deposit, "long", 50_000.0, 0.2, 2.0, 0.5) == [
        [37_500.0],
        [""],
        ["#VALUE! deposit must be a number >= 0, got -1.0"],
    ]
    # the same for a single cell (the scalar fast path) and for a bankruptcy price
    assert call_like_excel(m.XLC_LOSSCUT_PRICE, 20_000.0, "long", 50_000.0, 0.2, 2.0, 0.5) == [[""]]
    assert office_js_cell(m.XLC_BANKRUPTCY_PRICE(20_000.0, "long", 50_000.0, 0.2)[0, 0]) == ""


def test_a_level_the_venue_does_not_have_gives_no_trigger_price(classic):
    # XLC_PRESET's blank level was an empty cell, which the trigger functions read as their
    # default: GMO Coin (no margin call) got a margin-call price of 5,000,000 and bitbank (no
    # loss-cut) a "Loss-cut" status; xlcalc calc says "none"
    _, m = classic
    gmo_mc = call_like_excel(m.XLC_PRESET, "gmo_coin_fx", "margin_call_level")[0][0]
    assert gmo_mc == "none"
    args = (1_000_000, "long", 10_000_000, 0.1, 2)
    assert call_like_excel(m.XLC_MARGINCALL_PRICE, *args, gmo_mc) == [[""]]
    assert call_like_excel(m.XLC_LOSSCUT_PRICE, *args, "なし") == [[""]]
    bitbank_lc = call_like_excel(m.XLC_PRESET, "bitbank_margin", "loss_cut_level")[0][0]
    assert call_like_excel(m.XLC_STATUS, 0.3, 1, bitbank_lc) == [["Margin call"]]
    # a column mixing levels and none: each row its own, the core's price where a level is given
    got = call_like_excel(m.XLC_LOSSCUT_PRICE, *args, col(0.5, "none", 0.75))
    want = [xc.loss_cut_price(*args, level=lv) for lv in (0.5, 0.75)]
    assert got == [[want[0]], [""], [want[1]]]
    assert call_like_excel(m.XLC_LOSSCUT_PRICE, *args, "half")[0][0].startswith("#VALUE! level")
