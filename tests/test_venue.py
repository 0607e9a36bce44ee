"""Venue conventions (SPEC §8): entry-valued maintenance margin, fee inside the bankruptcy price,
ticks, hedged positions, quote currency, money rounding, presets, the futures calculator."""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import xlcalc as xc
from xlcalc import inverse, perpetual, tiers
from xlcalc.account import account_state
from xlcalc.core import round_money, round_to_tick

BINANCE = xc.exchange_tiers("binance_usdm")


# -- maintenance margin valued at entry ---------------------------------------------------
def test_bybit_inverse_cross_example():
    # Bybit help 360039261334 "How to calculate Liquidation Price (Inverse Contract)", cross:
    # 0.5 BTC, long 10,000 contracts at 8,000, MMR 0.5 %, taker 0.075 %:
    # BP = 1.00075 x 10,000 / (10,000/8,000 + 0.5) = 5,718.57; LP = 5,739.50 after the tick.
    bp = inverse.bankruptcy_price(0.5, "long", 8_000, 10_000, 1, taker_fee=0.00075)
    assert round(bp, 2) == 5718.57
    lp = inverse.liquidation_price(0.5, "long", 8_000, 10_000, 1, 0.005, taker_fee=0.00075, mm_basis="entry")
    assert round(lp, 2) == 5739.08
    # the page's own equation, solved for LP with its rounded BP
    rhs = -(0.5 - 10_000 / 8_000 * 0.005 - 10_000 * 0.00075 / 5718.57)
    assert lp == pytest.approx(1 / (1 / 8_000 - rhs / 10_000), rel=1e-6)
    ticked = inverse.liquidation_price(
        0.5, "long", 8_000, 10_000, 1, 0.005, taker_fee=0.00075, mm_basis="entry", tick_size=0.5
    )
    assert ticked == 5739.5
    # the maintenance margin behind it: 1.25 BTC x 0.5 % + the fee to close at BP
    mm = inverse.maintenance_margin(
        bp, 10_000, 1, 0.005, taker_fee=0.00075, mm_basis="entry", entry_price=8_000
    )
    assert mm == pytest.approx(1.25 * 0.005 + 10_000 * 0.00075 / bp)
    assert inverse.equity(0.5, "long", 8_000, lp, 10_000, 1) == pytest.approx(mm)


def test_jesse_isolated_examples():
    # jesse strategies TestLiquidationInIsolatedModeForLongTrade / ...ForShortTrade: 10,000 USDT
    # at 2x, mmr 0.4 % (jesse models/Position.py, after Bybit's USDT liquidation page).
    assert round(xc.liquidation_price(10_000, "long", 80, 250, 0.004, mm_basis="entry"), 2) == 40.32
    assert round(xc.liquidation_price(10_000, "long", 80, 250, 0.004), 2) == 40.16  # issue 10: mark basis
    assert round(xc.liquidation_price(10_000, "short", 10, 2_000, 0.004, mm_basis="entry"), 2) == 14.96
    assert perpetual.bankruptcy_price(10_000, "short", 10, 2_000) == 15.0


def test_bybit_usdt_classic_examples():
    # help.bybit.com 900000181046 "Liquidation Price (USDT Contract)", isolated, MMR 0.5 %:
    # long 1 BTC at 10,000, 50x: 10,000 x (1 - 2 % + 0.5 %) = 9,850;
    # short 1 BTC at 8,000, 40x: 8,000 x (1 + 2.5 % - 0.5 %) = 8,160.
    long_ = xc.liquidation_price(10_000 / 50, "long", 10_000, 1, 0.005, mm_basis="entry")
    short = xc.liquidation_price(8_000 / 40, "short", 8_000, 1, 0.005, mm_basis="entry")
    assert long_ == pytest.approx(9_850) and short == pytest.approx(8_160)


def test_mcs_isolated_examples_are_inverse_on_entry_value():
    # help.mcs.io 360041008371 "Isolated Margin": 10x at 2,000, MMR 0.5 %:
    # long 2,000 x 10 / (10 x (1 - 0.005) + 1) = 1,826.48; short 2,000 x 10 / (10 x 1.005 - 1) = 2,209.94.
    # That is the inverse formula with the maintenance margin on the entry value.
    value = 1_000.0  # contracts x contract value (any: the price does not depend on it)
    margin = value / 2_000 / 10
    long_ = inverse.liquidation_price(margin, "long", 2_000, value, 1, 0.005, mm_basis="entry")
    short = inverse.liquidation_price(margin, "short", 2_000, value, 1, 0.005, mm_basis="entry")
    assert round(long_, 2) == 1_826.48 and round(short, 2) == 2_209.94


@pytest.mark.parametrize(
    "side, leverage, expected",
    [
        # freqtrade tests/exchange/test_exchange.py::test_get_liquidation_price, bybit rows:
        # open_rate 10, amount 1, mm_ratio 0.01, isolated; LP = open_rate x (1 -/+ 1/L +/- mmr)
        ("long", 1.0, 0.1),
        ("long", 3.0, 6.7666666),
        ("long", 5.0, 8.1),
        ("long", 10.0, 9.1),
        ("short", 1.0, 19.9),
        ("short", 3.0, 13.233333),
        ("short", 5.0, 11.9),
        ("short", 10.0, 10.9),
    ],
)
def test_freqtrade_bybit_rows(side, leverage, expected):
    lp = xc.liquidation_price(10 / leverage, side, 10, 1, 0.01, mm_basis="entry")
    assert lp == pytest.approx(expected, abs=1e-6)


def test_entry_basis_with_tiers_uses_the_entry_notional_tier():
    # 600,000 USDT entry notional sits in Binance's 1 % / 1,300 tier whatever the price does
    lp = xc.liquidation_price(30_000, "long", 60_000, 10, None, tiers=BINANCE, mm_basis="entry")
    assert lp == pytest.approx(60_000 + (600_000 * 0.01 - 1_300 - 30_000) / 10)
    mm = xc.maintenance_margin(lp, 10, tiers=BINANCE, mm_basis="entry", entry_price=60_000)
    assert mm == pytest.approx(4_700.0)


def test_mm_basis_in_cross_account_single_symbol_matches_the_formula():
    pos = pd.DataFrame(
        {
            "symbol": ["BTC", "ETH"],
            "side": ["long", "short"],
            "entry_price": [80, 3_000],
            "mark_price": [80, 3_000],
            "quantity": [250, 1],
            "mmr": [0.004, 0.005],
        }
    )
    acct = xc.cross_account(pos, 10_000, mm_basis="entry")
    eth_mm, eth_pnl = 3_000 * 0.005, 0.0
    expected = xc.liquidation_price(
        10_000, "long", 80, 250, 0.004, other_maintenance=eth_mm, other_pnl=eth_pnl, mm_basis="entry"
    )
    assert acct.positions["liquidation_price"].iloc[0] == pytest.approx(expected)
    assert acct.maintenance_margin == pytest.approx(80 + eth_mm)


def test_bad_mm_basis_and_rates():
    with pytest.raises(xc.InputError, match="mm_basis must be 'mark' or 'entry', got 'spot'"):
        xc.liquidation_price(1_000, "long", 100, 1, 0.004, mm_basis="spot")
    with pytest.raises(xc.InputError, match="mmr must be a fraction >= 0 and < 1"):
        xc.liquidation_price(1_000, "long", 100, 1, 1.5)
    with pytest.raises(xc.InputError, match="mmr must be a fraction"):
        inverse.liquidation_price(1, "long", 100, 100, 1, 1.0, mm_basis="entry")
    with pytest.raises(xc.InputError, match="mmr must be a fraction"):
        xc.tier_table([[0, 100, 1.2]])
    with pytest.raises(xc.InputError, match="entry_price must be a positive number"):
        xc.maintenance_margin(100, 1, 0.004, mm_basis="entry")


# -- fee inside the bankruptcy price --------------------------------------------------------
def test_bankruptcy_price_with_fee_is_the_liquidation_price_at_zero_rate():
    bp = perpetual.bankruptcy_price(1_000, ["long", "short"], 10_000, 1, taker_fee=0.0006)
    lp = xc.liquidation_price(1_000, ["long", "short"], 10_000, 1, 0.0, taker_fee=0.0006)
    np.testing.assert_allclose(bp, lp, rtol=1e-12)
    # Phemex-style: equity after the fee to close at BP is zero
    assert 1_000 + (bp[0] - 10_000) - 0.0006 * bp[0] == pytest.approx(0, abs=1e-9)


@given(
    wb=st.floats(0.01, 10),
    p0=st.floats(100, 1e5),
    n=st.floats(1, 1e6),
    fee=st.floats(0, 0.01),
    long=st.booleans(),
)
def test_inverse_bankruptcy_equals_liquidation_at_zero_rate(wb, p0, n, fee, long):
    side = "long" if long else "short"
    bp = inverse.bankruptcy_price(wb, side, p0, n, 1, taker_fee=fee)
    lp = inverse.liquidation_price(wb, side, p0, n, 1, 0.0, taker_fee=fee)
    assert (math.isnan(bp) and math.isnan(lp)) or bp == pytest.approx(lp, rel=1e-9)


# -- ticks ----------------------------------------------------------------------------------
def test_tick_examples():
    assert xc.loss_cut_price(5_000, "long", 50_000, 0.2, 2, level=0.5, tick_size=1_000) == 38_000.0
    assert round_to_tick(37_500, "short", 1_000) == 37_000.0
    assert round_to_tick(38_000, "long", 1_000) == 38_000.0  # on the tick stays
    assert round_to_tick(37_500, "long", 0.1) == 37_500.0  # 37,500 / 0.1 has float noise
    assert math.isnan(round_to_tick(math.nan, "long", 0.5))
    assert math.isnan(xc.trigger_price(10_000, "long", 100, 100, 1, 0.5, basis="mark", tick_size=1))
    assert round_to_tick(5_739.08, "long", None) == 5_739.08
    s = round_to_tick(pd.Series([1.23, 1.27], index=["a", "b"]), "short", 0.05)
    assert s.index.tolist() == ["a", "b"] and s.tolist() == [1.2, 1.25]
    with pytest.raises(xc.InputError, match="tick_size must be a positive number"):
        xc.bankruptcy_price(5_000, "long", 50_000, 0.2, tick_size=0)


def test_every_price_function_takes_a_tick():
    kw = dict(tick_size=1_000)
    assert xc.trigger_price(5_000, "long", 50_000, 0.2, 2, 0.5, **kw) == 38_000
    assert xc.margin_call_price(5_000, "short", 50_000, 0.2, 2, level=0.5, **kw) == 62_000  # 62,500 -> down
    assert xc.bankruptcy_price(5_000, "long", 50_000, 0.3, **kw) == 34_000  # 33,333.33 -> up
    assert perpetual.bankruptcy_price(1_000, "short", 10_000, 1, **kw) == 11_000
    assert xc.liquidation_price(1_000, "long", 10_000, 1, 0.004, **kw) == 10_000  # 9,036.14 -> up
    assert inverse.bankruptcy_price(0.12, "short", 50_000, 60_000, 1, **kw) == 55_000
    assert inverse.trigger_price(1, "long", 10_000, 10_000, 1, 1, 0.5, **kw) == 7_000
    assert perpetual.target_price("short", 60_000, leverage=20, roe=1.0, **kw) == 57_000


@given(
    price=st.floats(1e-4, 1e8),
    tick=st.sampled_from([1e-8, 0.0001, 0.01, 0.05, 0.1, 0.5, 1, 5, 1_000]),
    long=st.booleans(),
)
def test_rounded_price_is_a_conservative_tick_multiple(price, tick, long):
    rounded = round_to_tick(price, "long" if long else "short", tick)
    steps = rounded / tick
    assert steps == pytest.approx(round(steps), rel=1e-12, abs=1e-6)
    slack = 1e-9 * max(1.0, price / tick) * tick  # float noise counts as on the tick
    if long:
        assert price - slack <= rounded < price + tick + slack
    else:
        assert price - tick - slack < rounded <= price + slack


# -- hedged positions -------------------------------------------------------------------------
def test_hedge_max_takes_each_symbols_larger_side():
    # long 0.3 BTC and short 0.1 BTC, plus a long of 1 ETH; 2x at entry basis
    side, entry, qty = ["long", "short", "long"], [10_000_000, 10_000_000, 500_000], [0.3, 0.1, 1.0]
    sym = ["BTC", "BTC", "ETH"]
    summed = account_state(2_000_000, side, entry, entry, qty, 2, symbol=sym)
    biggest = account_state(2_000_000, side, entry, entry, qty, 2, symbol=sym, hedge="max")
    assert summed.required_margin == 2_250_000.0
    assert biggest.required_margin == 1_750_000.0  # 1,500,000 (BTC long) + 250,000 (ETH)
    # one symbol for all when none is given: max(1,500,000 + 250,000, 500,000)
    assert account_state(2_000_000, side, entry, entry, qty, 2, hedge="max").required_margin == 1_750_000.0
    with pytest.raises(xc.InputError, match="hedge must be 'sum' or 'max'"):
        account_state(2_000_000, side, entry, entry, qty, 2, hedge="net")
    with pytest.raises(xc.InputError, match="symbol must be one name or one per position, got 2 names"):
        account_state(2_000_000, side, entry, entry, qty, 2, symbol=["BTC", "ETH"], hedge="max")
    with pytest.raises(xc.InputError, match="quote_rate must be one number or one per position"):
        account_state(2_000_000, side, entry, entry, qty, 2, quote_rate=[1, 2])
    # cross_account takes the symbols as an argument too
    pos = pd.DataFrame(
        {"side": side, "entry_price": entry, "mark_price": entry, "quantity": qty, "mmr": 0.01}
    )
    by_arg = xc.cross_account(pos, 2_000_000, symbol=sym, hedge="max")
    by_column = xc.cross_account(pos.assign(symbol=sym), 2_000_000, hedge="max")
    assert by_arg.maintenance_margin == by_column.maintenance_margin == pytest.approx(30_000 + 5_000)


def _hedged_btc(long_qty, short_qty, entry_price, mark_price, **columns):
    """A BTCUSDT long and short in one account (the hedge tests' positions)."""
    return pd.DataFrame(
        {
            "symbol": "BTCUSDT",
            "side": ["long", "short"],
            "entry_price": entry_price,
            "mark_price": mark_price,
            "quantity": [long_qty, short_qty],
            **columns,
        }
    )


def test_cross_account_hedge_max_prices_where_the_larger_side_meets_equity():
    pos = _hedged_btc(1.0, 0.5, 60_000, 60_000, mmr=0.004)
    acct = xc.cross_account(pos, 1_000, hedge="max")
    assert acct.maintenance_margin == pytest.approx(240.0)
    lp = acct.positions["liquidation_price"].iloc[0]
    # at LP the net long's loss leaves equity equal to the long leg's margin
    assert 1_000 + 0.5 * (lp - 60_000) == pytest.approx(lp * 1.0 * 0.004)


@given(
    qty=st.lists(st.floats(0.01, 10), min_size=1, max_size=4),
    price=st.floats(100, 1e5),
    long=st.booleans(),
    deposit=st.floats(1e3, 1e6),
)
def test_hedge_max_equals_sum_with_one_side_only(qty, price, long, deposit):
    side = ["long" if long else "short"] * len(qty)
    a = account_state(deposit, side, price, price * 1.01, qty, 5, symbol="X")
    b = account_state(deposit, side, price, price * 1.01, qty, 5, symbol="X", hedge="max")
    assert a.required_margin == pytest.approx(b.required_margin, rel=1e-12)
    pos = pd.DataFrame(
        {
            "symbol": "X",
            "side": side,
            "entry_price": price,
            "mark_price": price * 1.01,
            "quantity": qty,
            "mmr": 0.005,
        }
    )
    c, d = xc.cross_account(pos, deposit), xc.cross_account(pos, deposit, hedge="max")
    assert c.maintenance_margin == pytest.approx(d.maintenance_margin, rel=1e-12)
    np.testing.assert_allclose(c.positions["liquidation_price"], d.positions["liquidation_price"], rtol=1e-9)


# -- quote currency != account currency --------------------------------------------------------
def test_eur_usd_in_a_yen_account():
    # SPEC §8: EUR/USD short 15,000 at 1.2, USD/JPY 80, 20x: 72,000 JPY; with 100,000 JPY the
    # 100 % line is 1.2 + 0.023333.
    assert xc.required_margin(1.2, 15_000, 20, quote_rate=80) == pytest.approx(72_000)
    price = xc.margin_call_price(100_000, "short", 1.2, 15_000, 20, quote_rate=80)
    assert price == pytest.approx(1.2 + 28_000 / (15_000 * 80))
    assert round(price - 1.2, 6) == 0.023333
    assert xc.maintenance_ratio(100_000, "short", 1.2, price, 15_000, 20, quote_rate=80) == pytest.approx(1.0)
    assert xc.unrealized_pnl("short", 1.2, 1.21, 15_000, quote_rate=80) == pytest.approx(-12_000)
    st_ = account_state(100_000, "short", 1.2, 1.2, 15_000, 20, quote_rate=80)
    assert st_.required_margin == pytest.approx(72_000) and st_.ratio == pytest.approx(100_000 / 72_000)


@given(
    d=st.floats(1e4, 1e7),
    f=st.floats(0, 1e3),
    p0=st.floats(0.5, 200),
    q=st.floats(1e3, 1e6),
    lev=st.sampled_from([2.0, 20.0, 25.0]),
    r=st.floats(0.01, 200),
    long=st.booleans(),
    move=st.floats(0.9, 1.1),
    mark=st.booleans(),
)
def test_quote_rate_equals_scaling_deposit_and_fees(d, f, p0, q, lev, r, long, move, mark):
    s, basis, p = ("long" if long else "short"), ("mark" if mark else "entry"), p0 * move
    assume(d > f)
    with_rate = xc.trigger_price(d, s, p0, q, lev, 0.5, basis=basis, fees=f, quote_rate=r)
    scaled = xc.trigger_price(d / r, s, p0, q, lev, 0.5, basis=basis, fees=f / r)
    assert (math.isnan(with_rate) and math.isnan(scaled)) or with_rate == pytest.approx(scaled, rel=1e-9)
    ratio = xc.maintenance_ratio(d, s, p0, p, q, lev, basis=basis, fees=f, quote_rate=r)
    scaled_ratio = xc.maintenance_ratio(d / r, s, p0, p, q, lev, basis=basis, fees=f / r)
    assert ratio == pytest.approx(scaled_ratio, rel=1e-9)
    add = xc.additional_deposit(d, s, p0, p, q, lev, basis=basis, fees=f, quote_rate=r)
    assert add == pytest.approx(
        r * xc.additional_deposit(d / r, s, p0, p, q, lev, basis=basis, fees=f / r), rel=1e-9, abs=1e-6
    )
    short = xc.shortfall(d, s, p0, p, q, fees=f, quote_rate=r)
    assert short == pytest.approx(r * xc.shortfall(d / r, s, p0, p, q, fees=f / r), rel=1e-9, abs=1e-6)
    assert xc.bankruptcy_price(d, s, p0, q, fees=f, quote_rate=r) == pytest.approx(
        xc.bankruptcy_price(d / r, s, p0, q, fees=f / r), rel=1e-9, nan_ok=True
    )


# -- money rounding ----------------------------------------------------------------------------
@pytest.mark.parametrize("rate, shown", [(149.094, 59_637), (162.268, 64_907), (194.787, 77_914)])
def test_dmm_fx_margin_truncated_to_the_yen(rate, shown):
    # DMM FX FAQ 00115: current rate x lots x unit / 25; the margin simulation quoted by mag2.com
    # (2024-10-16) shows USD/JPY, EUR/JPY, GBP/JPY at 1 lot: 59,637 / 64,907 / 77,914 yen
    # (77,914.8 is truncated, not rounded).
    assert xc.required_margin(rate, 10_000, 25, margin_rounding="floor", money_unit=1) == shown
    assert xc.required_margin(rate, 10_000, 25) == pytest.approx(rate * 400)


def test_round_money_units_and_noise():
    assert round_money(1_234.5, "floor", 10) == 1_230.0
    assert round_money(0.1 * 3 * 10, "floor", 1) == 3.0  # 3.0000000000000004 stays 3
    assert round_money(2.9999999999999996, "floor", 1) == 3.0  # float noise is not a lost unit
    assert round_money(1_234.5) == 1_234.5
    with pytest.raises(xc.InputError, match="margin_rounding must be 'none' or 'floor'"):
        round_money(1, "ceil")


# -- presets ---------------------------------------------------------------------------------
def test_presets_carry_conventions_with_sources():
    table = xc.exchange_presets()
    for column in ("mm_basis", "hedge", "margin_rounding", "money_unit", "convention_sources"):
        assert column in table.columns
    assert set(table["mm_basis"]) <= {"", "mark", "entry"}
    assert set(table["hedge"]) <= {"", "sum", "max"}
    assert set(table["margin_rounding"]) <= {"", "none", "floor"}
    has_rule = (table["mm_basis"] != "") | (table["hedge"] != "") | (table["margin_rounding"] != "")
    assert (table.loc[has_rule, "convention_sources"].str.len() > 20).all()
    dmm = xc.get_preset("dmm_fx")
    assert dmm["margin_rounding"] == "floor" and dmm["money_unit"] == 1.0
    assert xc.get_preset("bybit_usdt_classic")["mm_basis"] == "entry"
    assert xc.get_preset("binance_usdm")["mm_basis"] == "mark"


def test_gmo_coin_exchange_leverage_per_position_loss_cut():
    # GMO Coin support 360001585848: loss-cut at 建玉レート -/+ 必要証拠金 x 50 % per unit. With the
    # position's own required margin as deposit that is the 50 % ratio on entry basis.
    preset = xc.get_preset("gmo_coin_exchange_leverage")
    assert preset["loss_cut_level"] == 0.5 and preset["basis"] == "entry"
    margin = xc.required_margin(1_000_000, 1, 2)
    price = xc.loss_cut_price(margin, "long", 1_000_000, 1, 2, preset["loss_cut_level"])
    assert price == 1_000_000 - margin * 0.5 / 1


def test_for_preset_is_the_one_tier_choice():
    assert tiers.for_preset("binance_usdm").equals(xc.exchange_tiers("binance_usdm"))
    one = tiers.for_preset("bybit_usdt_classic")
    assert one["mmr"].tolist() == [0.005] and one["cap"].tolist() == [math.inf]
    with pytest.raises(xc.InputError, match="exchange must be a preset with a maintenance margin rate"):
        tiers.for_preset("gmo_coin_fx")


# -- the futures calculator ------------------------------------------------------------------
def test_binance_calculator_figures():
    assert perpetual.initial_margin(60_000, 10, 20) == 30_000.0
    assert perpetual.roe("short", 60_000, 57_000, 20) == pytest.approx(1.0)
    assert perpetual.pnl("short", 60_000, 57_000, 10) == 30_000.0
    assert perpetual.target_price("short", 60_000, leverage=20, roe=-0.5) == pytest.approx(61_500)
    assert perpetual.target_price("long", 60_000, pnl=-5_000, quantity=10) == 59_500
    with pytest.raises(xc.InputError, match="roe or pnl must be given"):
        perpetual.target_price("long", 60_000)
    # the balance pays the margin and the fee to open: 1,000 / (1/20 + 0.0004)
    assert perpetual.max_open_quantity(1_000, 60_000, 20, taker_fee=0.0004) == pytest.approx(
        1_000 / (1 / 20 + 0.0004) / 60_000
    )
    # Binance 2021-03-18 BTCUSDT table: 50x allowed up to 1,000,000 notional
    assert perpetual.max_open_quantity(1e6, 50_000, 50, tiers=BINANCE) == pytest.approx(20.0)
    with pytest.raises(xc.InputError, match="leverage must be at most 125"):
        perpetual.max_open_quantity(1_000, 60_000, 150, tiers=BINANCE)


def test_margin_ratio_runs_opposite_to_the_maintenance_ratio():
    # Binance: "Margin Ratio = Maintenance Margin / Margin Balance", liquidation at 100 %
    prices = np.array([10_000.0, 9_500.0, 9_100.0])
    mr = perpetual.margin_ratio(1_000, "long", 10_000, prices, 1, 0.004)
    assert (np.diff(mr) > 0).all()
    np.testing.assert_allclose(mr, prices * 0.004 / (1_000 + prices - 10_000))
    lp = xc.liquidation_price(1_000, "long", 10_000, 1, 0.004)
    assert perpetual.margin_ratio(1_000, "long", 10_000, lp, 1, 0.004) == pytest.approx(1.0)
    assert perpetual.margin_ratio(1_000, "long", 10_000, 8_000, 1, 0.004) == math.inf
    acct = xc.cross_account(
        pd.DataFrame(
            {
                "side": ["long"],
                "entry_price": [10_000],
                "mark_price": [9_500],
                "quantity": [1],
                "mmr": [0.004],
            }
        ),
        1_000,
    )
    assert acct.margin_ratio == pytest.approx(mr[1])


# -- properties ------------------------------------------------------------------------------
@given(
    p0=st.floats(10, 1e5),
    q=st.floats(0.01, 100),
    mmr=st.floats(0.001, 0.2),
    long=st.booleans(),
    tiered=st.booleans(),
)
def test_entry_basis_equals_mark_when_liquidation_is_at_entry(p0, q, mmr, long, tiered):
    # equity at entry equal to the maintenance margin at entry: both bases liquidate at entry
    side = "long" if long else "short"
    if tiered:
        table, rate_kw = BINANCE, dict(mmr=None, tiers=BINANCE)
        balance = float(xc.maintenance_margin(p0, q, tiers=table))
    else:
        rate_kw = dict(mmr=mmr)
        balance = p0 * q * mmr
    assume(balance > 0)
    mark = xc.liquidation_price(balance, side, p0, q, **rate_kw)
    entry = xc.liquidation_price(balance, side, p0, q, mm_basis="entry", **rate_kw)
    assert mark == pytest.approx(p0, rel=1e-9) and entry == pytest.approx(p0, rel=1e-9)
    coin = q * mmr / p0 if not tiered else None
    if coin:
        inv_mark = inverse.liquidation_price(coin, side, p0, q, 1, mmr)
        inv_entry = inverse.liquidation_price(coin, side, p0, q, 1, mmr, mm_basis="entry")
        assert inv_mark == pytest.approx(p0, rel=1e-9) and inv_entry == pytest.approx(p0, rel=1e-9)


@settings(deadline=None, max_examples=60)
@given(
    long_qty=st.floats(0.1, 30),
    short_qty=st.floats(0.1, 30),
    mark=st.floats(5_000, 80_000),
    wallet=st.floats(100, 200_000),
    skew=st.floats(0.8, 1.2),
    entry_basis=st.booleans(),
)
def test_hedge_max_liquidation_is_the_first_crossing(long_qty, short_qty, mark, wallet, skew, entry_basis):
    # brute force: equity minus the larger side's maintenance margin, on a fine grid of prices
    basis = "entry" if entry_basis else "mark"
    entries = [mark * skew, mark / skew]
    pos = _hedged_btc(long_qty, short_qty, entries, mark)
    lp = (
        xc.cross_account(pos, wallet, tiers=BINANCE, hedge="max", mm_basis=basis)
        .positions["liquidation_price"]
        .iloc[0]
    )

    def gap(price):
        long_mm, short_mm = (
            xc.maintenance_margin(price, q, tiers=BINANCE, mm_basis=basis, entry_price=p0)
            for q, p0 in zip([long_qty, short_qty], entries)
        )
        pnl = (price - entries[0]) * long_qty - (price - entries[1]) * short_qty
        return wallet + pnl - np.maximum(long_mm, short_mm)

    assume(gap(mark) > 1e-6 * wallet)  # safe now: the price moves against the net position
    if math.isnan(lp):
        net = long_qty - short_qty
        grid = np.linspace(mark, mark * (0.02 if net > 0 else 20), 400)
        assert (gap(grid) > -1e-6 * wallet).all()
        return
    assert gap(lp) == pytest.approx(0, abs=1e-6 * max(wallet, mark * (long_qty + short_qty)))
    grid = np.linspace(mark, lp, 400)[1:-1]
    assert (gap(grid) > -1e-6 * max(wallet, mark)).all()


def test_inverse_entry_basis_with_coin_tiers():
    # tiers in coin (Binance COIN-M style): the tier of the entry value N·V/P0 applies, fixed
    coin_tiers = xc.tier_table([[0, 5, 0.005], [5, 10, 0.01], [10, 20, 0.02]])
    value = 600_000.0  # 12 BTC at 50,000: third tier, 2 %, amount 5 x 0.005 + 10 x 0.01 = 0.125
    lp = inverse.liquidation_price(3.0, "long", 50_000, value, 1, None, tiers=coin_tiers, mm_basis="entry")
    one = inverse.liquidation_price(
        3.0, "long", 50_000, value, 1, 0.02, maintenance_amount=0.125, mm_basis="entry"
    )
    assert lp == pytest.approx(one, rel=1e-12)
    assert inverse.equity(3.0, "long", 50_000, lp, value, 1) == pytest.approx(12 * 0.02 - 0.125)


def test_a_rows_tick_rounding_does_not_depend_on_the_other_rows():
    # found in review: the decimals used to come from the smallest tick of the whole batch
    alone = xc.bankruptcy_price(0, "long", 1, 1, tick_size=100.25)
    batch = xc.bankruptcy_price(0, "long", [1.0, 1.0], 1, tick_size=[1.0, 100.25])
    assert alone == batch[1] == 100.25
    assert xc.round_to_tick(0.30000000000000004, "long", 0.1) == 0.3


def test_offsetting_legs_with_float_noise_have_no_liquidation_price():
    # 0.1 long against 0.1 short that a sum left as 0.10000000000000002 (found by hypothesis):
    # the net slope is rounding noise, so no price liquidates the account (not 7e18)
    pos = _hedged_btc(0.1, 0.1 + 0.2 - 0.2, 5_000.0, 5_000.0)
    assert pos["quantity"][1] != 0.1
    account = xc.cross_account(pos, 100.0, tiers=BINANCE, hedge="max", mm_basis="entry")
    assert account.positions["liquidation_price"].isna().all()
    assert math.isnan(account.move_to_liquidation)


@pytest.mark.parametrize("contracts", [1.0, 1.0000000000000002])
def test_inverse_short_backed_by_its_own_value_never_goes_bankrupt(contracts):
    # 0.01 BTC wallet behind a short of 1 one-dollar contract at 100: the coin's gain covers the
    # short's loss at any price (found by hypothesis: 4.5e17 and 5.8e17 from rounding noise)
    assert math.isnan(inverse.bankruptcy_price(0.01, "short", 100, contracts, 1))
    assert math.isnan(inverse.liquidation_price(0.01, "short", 100, contracts, 1, 0.0))
    # a little less coin: a real, finite price
    assert inverse.bankruptcy_price(0.009, "short", 100, contracts, 1) == pytest.approx(1_000)
