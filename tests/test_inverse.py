"""Inverse (coin-margined) contracts: P&L, margin, liquidation, bankruptcy, trigger prices."""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import xlcalc as xc
from xlcalc import inverse


def test_binance_coin_m_faq_maintenance_margin():
    # Binance FAQ "How to Calculate Liquidation Price of Coin-M Futures Contracts": 100
    # BTCUSD contracts (100 USD each) at a mark price of 25,000 are 100 * 100 / 25,000 = 0.4 BTC,
    # level 1, so MM = 0.4 * 0.4 % - 0 = 0.0016 BTC.
    assert inverse.maintenance_margin(25_000, 100, 100, 0.004) == pytest.approx(0.0016)


def test_bybit_uta_isolated_inverse_formula():
    # Bybit help center "Liquidation Price Calculation under Isolated Mode (Unified Trading
    # Account)", inverse contracts: LP(long) = Size x (MMR + 1) / (Size/Entry + Size/Entry/Lev
    # + MM deduction), LP(short) = Size x (1 - MMR) / (Size/Entry - Size/Entry/Lev - MM deduction),
    # with the inputs of its example: 60,000 USD at 50,000, 10x, MMR 0.5 %.
    size, entry, lev, mmr = 60_000, 50_000, 10, 0.005
    im = inverse.required_margin(entry, size, 1, lev)
    assert im == pytest.approx(0.12)  # "Initial Margin = 1.2 / 10 = 0.12 BTC"
    long_ = size * (mmr + 1) / (size / entry + size / entry / lev)
    short = size * (1 - mmr) / (size / entry - size / entry / lev)
    got = inverse.liquidation_price(im, ["long", "short"], entry, size, 1, mmr)
    np.testing.assert_allclose(got, [long_, short], rtol=1e-12)
    # with a deduction (maintenance amount) of 0.001 BTC
    got = inverse.liquidation_price(im, "long", entry, size, 1, mmr, 0.001)
    assert got == pytest.approx(size * (mmr + 1) / (size / entry + size / entry / lev + 0.001))


def test_pnl_and_broadcasting():
    assert inverse.unrealized_pnl("long", 8_000, 10_000, 10_000, 1) == pytest.approx(0.25)
    s = inverse.unrealized_pnl(pd.Series(["long", "short"], index=["a", "b"]), 8_000, 10_000, 10_000, 1)
    assert list(s.index) == ["a", "b"] and s["b"] == pytest.approx(-0.25)
    assert xc.inverse_pnl is inverse.unrealized_pnl
    with pytest.raises(xc.InputError, match="contracts must be a positive number"):
        inverse.unrealized_pnl("long", 8_000, 10_000, 0, 1)


def test_never_liquidated_short_and_bankruptcy():
    assert math.isnan(inverse.liquidation_price(1.2, "short", 50_000, 60_000, 1, 0.005))
    assert math.isnan(inverse.bankruptcy_price(1.2, "short", 50_000, 60_000, 1))
    # a long always has one
    assert inverse.liquidation_price(100, "long", 50_000, 60_000, 1, 0.005) > 0


def test_trigger_price_both_bases():
    # mark basis: ratio E / (N V / (P L)) = r is the liquidation price with mmr = r / L
    got = inverse.trigger_price(0.3, "long", 40_000, 20_000, 1, 5, 0.5, basis="mark")
    assert got == pytest.approx(inverse.liquidation_price(0.3, "long", 40_000, 20_000, 1, 0.5 / 5))
    # entry basis: equity reaches r x N V / (P0 L)
    p = inverse.trigger_price(0.3, "short", 40_000, 20_000, 1, 5, 0.5)
    eq = inverse.equity(0.3, "short", 40_000, p, 20_000, 1)
    assert eq == pytest.approx(0.5 * inverse.required_margin(40_000, 20_000, 1, 5))


sides = st.sampled_from([1, -1])


@settings(max_examples=200, deadline=None)
@given(
    s=sides,
    p0=st.floats(100, 200_000),
    n=st.floats(1, 1e6),
    v=st.sampled_from([1.0, 10.0, 100.0]),
    lev=st.floats(1.1, 100),
    mmr=st.floats(0, 0.1),
    fee=st.sampled_from([0.0, 0.0005, 0.00075]),
    cum=st.floats(0, 0.01),
)
def test_equity_equals_maintenance_at_liquidation(s, p0, n, v, lev, mmr, fee, cum):
    wb = inverse.required_margin(p0, n, v, lev)
    lp = inverse.liquidation_price(wb, s, p0, n, v, mmr, cum, taker_fee=fee)
    assume(not math.isnan(lp))
    eq = inverse.equity(wb, s, p0, lp, n, v)
    mm = inverse.maintenance_margin(lp, n, v, mmr, cum, taker_fee=fee)
    assert eq == pytest.approx(mm, rel=1e-9, abs=1e-12 * n * v / p0 + 1e-12)
    assert inverse.equity(wb, s, p0, inverse.bankruptcy_price(wb, s, p0, n, v), n, v) == pytest.approx(
        0, abs=1e-9 * n * v / p0
    )


@settings(max_examples=200, deadline=None)
@given(
    p0=st.floats(100, 200_000),
    p=st.floats(100, 200_000),
    n=st.floats(1, 1e6),
    wb=st.floats(0, 50),
    mmr=st.floats(0, 0.1),
    fee=st.sampled_from([0.0, 0.0005]),
)
def test_long_short_mirror(p0, p, n, wb, mmr, fee):
    # P&L mirrors exactly; and in x = 1/P an inverse long is a linear short (and vice versa)
    assert inverse.unrealized_pnl(1, p0, p, n, 1) == -inverse.unrealized_pnl(-1, p0, p, n, 1)
    for s in (1, -1):
        inv = inverse.liquidation_price(wb, s, p0, n, 1, mmr, taker_fee=fee)
        lin = xc.liquidation_price(wb, -s, 1 / p0, n, mmr, taker_fee=fee)
        assert (math.isnan(inv) and math.isnan(lin)) or inv == pytest.approx(1 / lin, rel=1e-9)


COIN_TIERS = [[0, 5, 0.005], [5, 10, 0.01], [10, 20, 0.025], [20, 50, 0.05]]  # in coin


@settings(max_examples=200, deadline=None)
@given(s=sides, p0=st.floats(1_000, 100_000), n=st.floats(1, 3e6), lev=st.floats(1.1, 50))
def test_tiered_inverse_is_consistent(s, p0, n, lev):
    wb = inverse.required_margin(p0, n, 1, lev)
    lp = inverse.liquidation_price(wb, s, p0, n, 1, None, tiers=COIN_TIERS)
    assume(not math.isnan(lp))
    eq = inverse.equity(wb, s, p0, lp, n, 1)
    mm = inverse.maintenance_margin(lp, n, 1, tiers=COIN_TIERS)
    assert eq == pytest.approx(mm, rel=1e-9, abs=1e-12 * n / p0)
    tier = xc.perpetual.tier_for(n / lp, COIN_TIERS)
    same = inverse.liquidation_price(wb, s, p0, n, 1, tier["mmr"], tier["maintenance_amount"])
    assert lp == pytest.approx(same, rel=1e-9)
