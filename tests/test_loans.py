"""Crypto-backed loans (SPEC §10) and the loan-venue presets."""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import xlcalc as xc

loans = st.floats(1.0, 1e8)
quantities = st.floats(1e-4, 1e4)
prices = st.floats(1e-2, 1e6)
ltvs = st.floats(0.05, 0.98)
interests = st.floats(0, 1e4)


# SPEC §10: loan 10,000 USDT on 1 BTC
def test_spec_example_ltv_and_prices():
    assert xc.loan_ltv(10_000, 1, 20_000) == pytest.approx(0.5)
    assert xc.ltv_price(10_000, 1, 0.8) == pytest.approx(12_500)
    assert xc.collateral_to_add(10_000, 1, 12_500, 0.65) == pytest.approx(0.230769, abs=5e-7)
    assert xc.loan_shortfall(10_000, 1, 9_000, liquidation_fee=0.02) == pytest.approx(1_180)


def test_binance_faq_example():
    # Binance FAQ 360040490772: 100 USDT on 0.01938571 BTC at 7,400 USD -> 69.71 %
    assert xc.loan_ltv(100, 0.01938571, 7_400) == pytest.approx(0.6971, abs=5e-5)


def test_nexo_example():
    # Nexo help: 5,000 USD loan, collateral worth 6,000 -> LTV 83.33 %
    assert xc.loan_ltv(5_000, 1, 6_000) == pytest.approx(0.8333, abs=5e-5)


def test_interest_counts_as_debt():
    assert xc.loan_ltv(9_000, 1, 20_000, interest=1_000) == pytest.approx(0.5)
    assert xc.loan_interest(10_000, 0.0365, 10) == pytest.approx(10.0)
    assert xc.loan_shortfall(10_000, 1, 9_000, interest=100) == pytest.approx(1_100)


def test_zero_when_already_safe_and_nan_when_nothing_owed():
    assert xc.collateral_to_add(10_000, 1, 20_000, 0.65) == 0.0
    assert xc.repay_to_target(10_000, 1, 20_000, 0.65) == 0.0
    assert xc.loan_shortfall(10_000, 1, 20_000) == 0.0
    assert math.isnan(xc.ltv_price(0, 1, 0.8))


def test_broadcasting_arrays_and_series():
    got = xc.loan_ltv(10_000, 1, np.array([20_000, 12_500]))
    np.testing.assert_allclose(got, [0.5, 0.8])
    s = pd.Series([1.0, 2.0], index=["alice", "bob"])
    out = xc.ltv_price(10_000, s, 0.8)
    assert list(out.index) == ["alice", "bob"]
    np.testing.assert_allclose(out, [12_500, 6_250])


@pytest.mark.parametrize(
    "call, argument",
    [
        (lambda: xc.loan_ltv(-1, 1, 100), "loan"),
        (lambda: xc.loan_ltv(100, 0, 100), "collateral_quantity"),
        (lambda: xc.loan_ltv(100, 1, [100, -5]), "price"),
        (lambda: xc.ltv_price(100, 1, 0), "level"),
        (lambda: xc.collateral_to_add(100, 1, 100, "high"), "target"),
        (lambda: xc.loan_shortfall(100, 1, 100, liquidation_fee=1.0), "liquidation_fee"),
        (lambda: xc.loan_interest(100, -0.1, 3), "annual_rate"),
    ],
)
def test_bad_input_names_the_argument(call, argument):
    with pytest.raises(xc.InputError, match=argument):
        call()


@settings(max_examples=200, deadline=None)
@given(loans, quantities, ltvs, interests)
def test_ltv_at_ltv_price_equals_the_level(b, q, level, i):
    p = xc.ltv_price(b, q, level, interest=i)
    assert xc.loan_ltv(b, q, p, interest=i) == pytest.approx(level, rel=1e-12)


@settings(max_examples=200, deadline=None)
@given(loans, quantities, prices, ltvs, interests)
def test_adding_collateral_to_add_gives_the_target(b, q, p, target, i):
    add = xc.collateral_to_add(b, q, p, target, interest=i)
    ltv_after = xc.loan_ltv(b, q + add, p, interest=i)
    if add > 0:
        assert ltv_after == pytest.approx(target, rel=1e-9)
    else:
        assert ltv_after <= target * (1 + 1e-12)


@settings(max_examples=200, deadline=None)
@given(loans, quantities, prices, ltvs, interests)
def test_repay_to_target_gives_the_target(b, q, p, target, i):
    repay = xc.repay_to_target(b, q, p, target, interest=i)
    debt_after = b + i - repay
    assert debt_after >= -1e-9 * (b + i)
    if repay > 0:  # compared in money: debt - repay cancels digits when the repay is most of it
        assert debt_after == pytest.approx(target * q * p, rel=1e-9, abs=1e-12 * (b + i))
    else:
        assert debt_after / (q * p) <= target * (1 + 1e-12)


# --- presets ---------------------------------------------------------------------------------
def test_presets_have_sources_dates_and_fractions():
    rows = xc.loan_presets()
    assert len(rows) >= 4
    for row in rows:
        assert row["source_url"].startswith("https://") and len(row["as_of"]) == 10, row["id"]
        for col in ("initial_ltv", "margin_call_ltv", "liquidation_ltv", "liquidation_fee"):
            v = row[col]
            assert math.isnan(v) or 0 < v < 1, (row["id"], col, v)
        levels = [
            row[c] for c in ("initial_ltv", "margin_call_ltv", "liquidation_ltv") if not math.isnan(row[c])
        ]
        assert levels == sorted(levels), row["id"]


def test_binance_2020_preset_matches_the_faq_table():
    row = xc.get_loan_preset("binance_loans_btc_2020")
    assert (row["initial_ltv"], row["margin_call_ltv"], row["liquidation_ltv"]) == (0.65, 0.80, 0.90)


def test_unknown_preset_lists_the_known_ids():
    with pytest.raises(xc.InputError, match="nexo_credit_line"):
        xc.get_loan_preset("no_such_lender")


@pytest.mark.parametrize(
    "encoding, separator",
    # Excel's CSV (UTF-8), CSV UTF-8 (BOM), Japanese Windows (cp932), European (semicolons)
    # and "Unicode text" (UTF-16 with tabs)
    [("utf-8", ","), ("utf-8-sig", ","), ("cp932", ","), ("utf-8", ";"), ("utf-16", "\t")],
)
def test_user_rows_add_and_replace_in_any_excel_encoding(tmp_path, encoding, separator):
    path = tmp_path / "mine.csv"
    text = (
        "id,name,product,initial_ltv,margin_call_ltv,liquidation_ltv,annual_interest_rate\n"
        "my_lender,私の貸付業者,暗号資産担保ローン,50%,0.7,0.8,0.05\n"
        "nexo_credit_line,Nexo,override,,0.75,0.85,\n"
    )
    path.write_bytes(text.replace(",", separator).encode(encoding))
    rows = {r["id"]: r for r in xc.loan_presets(path)}
    assert rows["my_lender"]["name"] == "私の貸付業者"
    assert rows["my_lender"]["initial_ltv"] == 0.5
    assert rows["nexo_credit_line"]["liquidation_ltv"] == 0.85
    assert xc.get_loan_preset("my_lender", path)["annual_interest_rate"] == 0.05


def test_user_file_errors_are_one_sentence(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("id,liquidation_ltv\nx,high\n", encoding="utf-8")
    with pytest.raises(xc.InputError, match="liquidation_ltv must be a number.*line 2"):
        xc.loan_presets(bad)
    with pytest.raises(xc.InputError, match="not found"):
        xc.loan_presets(tmp_path / "missing.csv")
    noid = tmp_path / "noid.csv"
    noid.write_text("name\nx\n", encoding="utf-8")
    with pytest.raises(xc.InputError, match="no 'id' column"):
        xc.loan_presets(noid)


def test_presets_read_without_pandas():
    import subprocess
    import sys

    code = "import sys, xlcalc; xlcalc.loan_presets(); assert 'pandas' not in sys.modules, 'pandas imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_user_rows_from_the_environment(tmp_path, monkeypatch):
    path = tmp_path / "env.csv"
    path.write_text("id,liquidation_ltv\nenv_lender,0.9\n", encoding="utf-8")
    monkeypatch.setenv("XLCALC_LOAN_PRESETS", str(path))
    assert xc.get_loan_preset("env_lender")["liquidation_ltv"] == 0.9
    assert math.isnan(xc.get_loan_preset("env_lender")["initial_ltv"])  # blank, not guessed
