"""The Python API with inputs from the real world (issue #11) and its import cost (issue #13)."""

import datetime
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import xlcalc as xc
from xlcalc._inputs import Inputs


# --- Series with different indexes: refused, naming both arguments ---------------------------
def test_series_with_different_indexes_are_refused_not_paired_by_position():
    # issue #11: two accounts whose rows come in a different order. Paired by position the
    # ratios would be 2.0 / -0.98; by label they are 1.0 / 0.02.
    deposit = pd.Series([199.0, 1.0], index=["alice", "bob"])
    price = pd.Series([101.0, 1.0], index=["bob", "alice"])
    with pytest.raises(xc.InputError, match="price and deposit are Series with different indexes") as info:
        xc.maintenance_ratio(deposit, "long", 100.0, price, 1.0, 1)
    assert info.value.argument == "price" and info.value.expected == "same_index"
    by_position = xc.maintenance_ratio(deposit.to_numpy(), "long", 100.0, price.to_numpy(), 1.0, 1)
    np.testing.assert_allclose(by_position, [2.0, -0.98])  # what used to come out
    # the remedy the message names gives the label-aligned figures
    deposit, price = deposit.align(price)
    got = xc.maintenance_ratio(deposit, "long", 100.0, price, 1.0, 1)
    assert got.to_dict() == pytest.approx({"alice": 1.0, "bob": 0.02})


def test_series_with_the_same_index_broadcast_as_before():
    idx = pd.Index(["a", "b"])
    d = pd.Series([1_000.0, 2_000.0], index=idx)
    p = pd.Series([100.0, 110.0], index=pd.Index(["a", "b"]))  # equal, not the same object
    got = xc.equity(d, "long", 100.0, p, 10)
    assert got.to_dict() == {"a": 1_000.0, "b": 2_100.0}


# --- arrays of different lengths --------------------------------------------------------------
def test_length_mismatch_names_both_arguments_and_lengths():
    with pytest.raises(xc.InputError, match=r"price has 3 rows but entry_price has 2") as info:
        xc.unrealized_pnl("long", [100.0, 101.0], [1.0, 2.0, 3.0], 1.0)
    assert info.value.expected == "same_length"
    with pytest.raises(xc.InputError, match="quantity has 2 rows but deposit has 3"):
        xc.loss_cut_price(pd.Series([1.0, 2.0, 3.0]), "long", 100.0, np.array([1.0, 2.0]), 2, 0.5)


def test_length_mismatch_in_the_new_modules_too():
    with pytest.raises(xc.InputError, match="price has 3 rows but collateral_quantity has 2"):
        xc.loan_ltv(100, [1, 2], [1, 2, 3])
    with pytest.raises(xc.InputError, match="rows but"):
        xc.days_to_level(1e6, ["long", "short"], 1e7, [1e7, 1e7, 1e7], 0.1, 2, 0.5, 0.0004)


def test_long_arrays_of_different_lengths_also_give_the_clear_error():
    # above the block size the core computes in blocks; the check must still run
    n = 200_000
    with pytest.raises(xc.InputError, match="rows but"):
        xc.maintenance_ratio(np.ones(n), np.ones(n), np.ones(n), np.ones(n + 1), np.ones(n), 2.0)


# --- dates are not numbers ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "value",
    [
        np.datetime64("2020-01-01"),
        np.array(["2020-01-01", "2021-01-01"], dtype="datetime64[D]"),
        [np.datetime64("2020-01-01")],
        pd.Series(pd.to_datetime(["2020-01-01", "2021-01-01"])),
        datetime.datetime(2020, 1, 1),
        pd.Timestamp("2020-01-01"),
        [100.0, datetime.date(2020, 1, 1)],
        np.array([np.timedelta64(1, "D")]),
    ],
)
def test_dates_are_refused_as_prices(value):
    with pytest.raises(xc.InputError, match="price must be a number"):
        xc.required_margin(value, 1.0, 2)


def test_dates_are_refused_as_ratios_too():
    with pytest.raises(xc.InputError, match="ratio must be a number"):
        xc.status(np.array(["2020-01-01"], dtype="datetime64[D]"))


# --- the below_one rule (for mmr and other rates under 100 %) ------------------------------------
def test_below_one_rule():
    a = Inputs()
    assert a.number("mmr", 0.005, rule="below_one") == 0.005
    assert a.number("mmr", 0.0, rule="below_one") == 0.0
    for bad in (1.5, 1.0, -0.01, float("nan")):
        with pytest.raises(xc.InputError, match=r"mmr must be a fraction >= 0 and < 1"):
            Inputs().number("mmr", bad, rule="below_one")
    with pytest.raises(xc.InputError, match="at row 1"):
        Inputs().number("mmr", [0.004, 1.5], rule="below_one")


def test_below_one_error_in_japanese():
    from xlcalc.labels import error_text

    try:
        Inputs().number("liquidation_fee", 1.5, rule="below_one")
    except xc.InputError as exc:
        assert "0 以上 1 未満" in error_text(exc, "ja")


# --- the side check without BLAS -----------------------------------------------------------------
def test_numeric_side_check_still_exact():
    n = 300_000  # several blocks
    s = np.ones(n)
    s[::2] = -1.0
    np.testing.assert_array_equal(xc.core.parse_side(s), s)
    for bad in (0.0, 0.5, np.nan, -0.999999):
        t = s.copy()
        t[-7] = bad
        with pytest.raises(xc.InputError, match=f"at row {n - 7}"):
            xc.unrealized_pnl(t, 100.0, 101.0, 1.0)


def test_side_words_with_bools_and_numbers():
    assert xc.core.parse_side(np.array(["long", 1, -1, "売り"], dtype=object)).tolist() == [1, 1, -1, -1]
    with pytest.raises(xc.InputError, match="side"):
        xc.core.parse_side(np.array([1, True], dtype=object))  # True is not "long"
    with pytest.raises(xc.InputError, match="side"):
        xc.core.parse_side(np.array(["long", None], dtype=object))


# --- imports without pandas (issue #13) ----------------------------------------------------------
@pytest.mark.parametrize(
    "code",
    [
        "import xlcalc",
        "import xlcalc.core",
        "import xlcalc as xc; xc.maintenance_ratio([1e6], 'long', 1e7, 1e7, 0.1, 2); xc.status([1.0, None])",
        "import xlcalc as xc; xc.loan_ltv([1, 2], 1, 3); xc.loan_presets()",
        "import xlcalc as xc; xc.days_to_level(1e6, 'long', 1e7, [1e7, 9e6], 0.1, 2, 0.5, 4e-4)",
        "import xlcalc as xc; xc.core.parse_side(['long', 'short']); xc.core.parse_basis(['mark', 'entry'])",
    ],
)
def test_no_pandas_on_import_or_in_the_core(code):
    check = code + "; import sys; assert 'pandas' not in sys.modules, 'pandas was imported'"
    subprocess.run([sys.executable, "-c", check], check=True)


def test_lazy_names_still_resolve():
    assert xc.get_preset("bitflyer_cfd")["loss_cut_level"] == 0.5
    from xlcalc import exchange_presets, inverse_pnl, tier_table  # noqa: F401

    assert set(xc.__all__) <= set(dir(xc))
    for name in xc.__all__:
        getattr(xc, name)
    with pytest.raises(AttributeError):
        _ = xc.no_such_name


def test_side_cell_holding_a_list_is_refused_with_its_row():
    with pytest.raises(xc.InputError, match="side must be .* at row 1"):
        xc.core.parse_side(np.array(["long", [1, 2]], dtype=object))


@pytest.mark.parametrize("rule", ["positive", "nonnegative", "any", "below_one"])
@pytest.mark.parametrize("value", [-1.0, -0.0, 0.0, 0.5, 0.999, 1.0, 1.5, float("inf"), float("nan"), 3])
def test_scalar_fast_path_and_array_path_agree_on_every_rule(rule, value):
    def accepted(v):
        try:
            Inputs().number("x", v, rule=rule)
            return True
        except xc.InputError:
            return False

    assert accepted(value) == accepted(np.array([value])) == accepted(np.float32(value))
