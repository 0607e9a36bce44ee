"""Safe zone, leverage planner and fee drift (SPEC §10)."""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import xlcalc as xc

deposits = st.floats(1e3, 1e8)
prices = st.floats(1.0, 1e7)
leverages = st.sampled_from([1.0, 2.0, 4.0, 25.0, 100.0])
levels = st.floats(0.2, 8.0)
sides = st.sampled_from(["long", "short"])


# --- status: the safe zone and the unknown state -------------------------------------------
def test_status_caution_between_margin_call_and_safe_level():
    # SPEC §10: caution when margin_call_level <= ratio < safe_level, ok at or above it
    got = xc.status([3.0, 2.99, 1.0, 0.99, 0.49], 1.0, 0.5, safe_level=3.0)
    assert got.tolist() == ["ok", "caution", "caution", "margin_call", "loss_cut"]


def test_status_without_safe_level_is_unchanged():
    assert xc.status([2.27, 1.0, 0.8, 0.4]).tolist() == ["ok", "ok", "margin_call", "loss_cut"]


def test_status_nan_and_none_are_unknown_not_ok():
    # issue #11: status(nan) and status(None) returned "ok"
    assert xc.status(math.nan) == xc.STATUS_UNKNOWN == "unknown"
    assert xc.status(None) == "unknown"
    assert xc.status(np.array([np.nan, 2.0]), safe_level=3.0).tolist() == ["unknown", "caution"]
    assert xc.status([None, 0.3]).tolist() == ["unknown", "loss_cut"]


def test_status_no_margin_call_level_still_cautions():
    # GMO Coin has no margin call (NaN): below the safe level and above the loss-cut is caution
    assert xc.status([0.9, 0.7], math.nan, 0.75, safe_level=3.0).tolist() == ["caution", "loss_cut"]


def test_status_series_keeps_index_and_refuses_text():
    r = pd.Series([3.5, 2.0, np.nan], index=["a", "b", "c"])
    got = xc.status(r, safe_level=3.0)
    assert got.to_dict() == {"a": "ok", "b": "caution", "c": "unknown"}
    with pytest.raises(xc.InputError, match="ratio"):
        xc.status("high")


def test_status_labels_in_both_languages():
    from xlcalc.labels import EN, JA

    for key in (xc.STATUS_CAUTION, xc.STATUS_UNKNOWN):
        assert EN[key] and JA[key] and EN[key] != JA[key]


def test_default_levels_have_one_home():
    assert (xc.DEFAULT_MARGIN_CALL_LEVEL, xc.DEFAULT_LOSS_CUT_LEVEL, xc.DEFAULT_SAFE_LEVEL) == (1.0, 0.5, 3.0)
    import inspect

    sig = inspect.signature(xc.status).parameters
    assert sig["margin_call_level"].default is xc.DEFAULT_MARGIN_CALL_LEVEL
    assert inspect.signature(xc.max_quantity).parameters["level"].default is xc.DEFAULT_SAFE_LEVEL


# --- leverage_plan / max_quantity -----------------------------------------------------------
def test_leverage_plan_spec_example():
    # SPEC §10: 1,000,000 JPY, long at 10,000,000, 2x venue, e = 1
    plan = xc.leverage_plan(1_000_000, "long", 10_000_000, 2, [1.0, 2.0])
    row = plan.loc[1.0]
    assert list(plan.columns) == [
        "quantity",
        "ratio",
        "margin_call_price",
        "loss_cut_price",
        "bankruptcy_price",
        "safe_price",
        "margin_call_move",
        "loss_cut_move",
        "bankruptcy_move",
        "safe_move",
    ]
    assert plan.index.name == "effective_leverage"
    assert row["quantity"] == pytest.approx(0.1)
    assert row["ratio"] == pytest.approx(2.0)
    assert row["margin_call_price"] == pytest.approx(5_000_000)
    assert row["margin_call_move"] == pytest.approx(-0.5)
    assert row["loss_cut_price"] == pytest.approx(2_500_000)
    assert row["loss_cut_move"] == pytest.approx(-0.75)
    assert math.isnan(row["bankruptcy_price"])  # a 1x long is paid in full: zero only at price 0
    assert plan.loc[2.0, "bankruptcy_price"] == pytest.approx(5_000_000)


def test_leverage_plan_agrees_with_core_for_a_short_on_mark_basis():
    plan = xc.leverage_plan(50_000, "short", 100.0, 10, [1, 3, 5], basis="mark", fees=100)
    q = plan["quantity"].to_numpy()
    np.testing.assert_allclose(q, 50_000 * np.array([1, 3, 5]) / 100.0)
    np.testing.assert_allclose(
        plan["loss_cut_price"], xc.loss_cut_price(50_000, "short", 100.0, q, 10, 0.5, basis="mark", fees=100)
    )
    np.testing.assert_allclose(
        plan["safe_price"], xc.trigger_price(50_000, "short", 100.0, q, 10, 3.0, basis="mark", fees=100)
    )
    ratio = xc.maintenance_ratio(50_000, "short", 100.0, 100.0, q, 10, basis="mark", fees=100)
    np.testing.assert_allclose(plan["ratio"], ratio)


def test_leverage_plan_level_the_venue_lacks_gives_nan_column():
    plan = xc.leverage_plan(1_000_000, "long", 10_000_000, 2, [1, 2], margin_call_level=None)
    assert plan["margin_call_price"].isna().all() and plan["margin_call_move"].isna().all()
    assert not plan["loss_cut_price"].isna().any()


def test_leverage_plan_bad_input_names_the_argument():
    with pytest.raises(xc.InputError, match="effective_leverage"):
        xc.leverage_plan(1_000_000, "long", 10_000_000, 2, [1, -1])
    with pytest.raises(xc.InputError, match="side"):
        xc.leverage_plan(1_000_000, "up", 10_000_000, 2, 1)


def test_max_quantity_spec_example():
    assert xc.max_quantity(1_000_000, 10_000_000, 2, level=3.0) == pytest.approx(0.0666667, rel=1e-6)
    assert xc.max_quantity(1_000, 10, 2, fees=2_000) == 0.0  # fees ate the deposit


@settings(max_examples=200, deadline=None)
@given(deposits, prices, leverages, levels, st.floats(0, 0.5))
def test_ratio_at_max_quantity_equals_the_level(d, p0, lev, level, fee_share):
    fees = d * fee_share
    q = xc.max_quantity(d, p0, lev, level=level, fees=fees)
    ratio = xc.maintenance_ratio(d, "long", p0, p0, q, lev, fees=fees)
    assert ratio == pytest.approx(level, rel=1e-9)


# --- days_to_level -------------------------------------------------------------------------
def test_days_to_level_spec_example():
    # SPEC §10: 1,000,000, long 0.1 at 10,000,000, price unchanged, 2x, 50 %, 0.04 %/day
    assert xc.days_to_level(1_000_000, "long", 10_000_000, 10_000_000, 0.1, 2, 0.5, 0.0004) == pytest.approx(
        1875
    )


def test_days_to_level_zero_when_there_and_nan_without_fee():
    args = (1_000_000, "long", 10_000_000)
    assert xc.days_to_level(*args, 4_000_000, 0.1, 2, 1.0, 0.0004) == 0.0  # ratio 80 % < 100 %
    assert math.isnan(xc.days_to_level(*args, 10_000_000, 0.1, 2, 0.5, 0.0))
    assert xc.days_to_level(*args, 4_000_000, 0.1, 2, 1.0, 0.0) == 0.0  # already there


@settings(max_examples=200, deadline=None)
@given(
    deposits,
    sides,
    prices,
    st.floats(0.5, 1.5),
    st.floats(1e-4, 10),
    leverages,
    levels,
    st.floats(1e-5, 0.01),
    st.sampled_from(["entry", "mark"]),
)
def test_days_of_fees_put_the_ratio_at_the_level(d, side, p0, move, q, lev, level, rate, basis):
    p = p0 * move
    days = xc.days_to_level(d, side, p0, p, q, lev, level, rate, basis=basis)
    ratio_now = xc.maintenance_ratio(d, side, p0, p, q, lev, basis=basis)
    if ratio_now <= level:
        assert days == 0.0
        return
    fees = xc.holding_cost(p0, q, rate, days)
    ratio = xc.maintenance_ratio(d, side, p0, p, q, lev, basis=basis, fees=fees)
    assert ratio == pytest.approx(level, rel=1e-7, abs=1e-9 * ratio_now)


def test_days_to_level_broadcasts_a_series():
    price = pd.Series([10_000_000, 7_500_000], index=["now", "down 25 %"])
    got = xc.days_to_level(1_000_000, "long", 10_000_000, price, 0.1, 2, 1.0, 0.0004)
    assert got.to_dict() == pytest.approx({"now": 1250.0, "down 25 %": 625.0})


SEVERITY = ["ok", "caution", "margin_call", "loss_cut"]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(-1, 10), min_size=2, max_size=20),
    st.floats(0.3, 1.5),
    st.floats(0.1, 0.9),
    st.floats(1.0, 8.0),
)
def test_status_never_gets_safer_as_the_ratio_falls(ratios, mc, lc, safe):
    ratios = sorted(ratios, reverse=True)
    words = xc.status(ratios, mc, lc, safe_level=safe).tolist()
    severity = [SEVERITY.index(w) for w in words]
    assert severity == sorted(severity)
    for r, w in zip(ratios, words):
        assert (w == "loss_cut") == (r < lc)
        assert (w == "ok") == (r >= max(mc, safe, lc))
