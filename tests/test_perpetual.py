"""Perpetuals: tier tables, tiered liquidation price, taker fee, cross margin, hedge mode, CLI."""

import math

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import xlcalc as xc
from xlcalc import perpetual
from xlcalc.cli import main

BINANCE = xc.exchange_tiers("binance_usdm")
BYBIT = xc.exchange_tiers("bybit_usdt")


# -- published examples ------------------------------------------------------------------
def test_binance_faq_maintenance_amount_derivation():
    # Binance FAQ "How to Calculate Liquidation Price of USDⓈ-M Futures Contracts": the
    # maintenance amount on level 3 = 250,000 x (1 % - 0.5 %) + 50 USDT = 1,300 USDT; a
    # BTCUSDT position of 264,000 USDT has a 1 % rate; one of 500,000 USDT a 1,300 amount.
    t = xc.tier_table([[0, 50_000, 0.004], [50_000, 250_000, 0.005], [250_000, 1_000_000, 0.01]])
    assert t["maintenance_amount"].tolist() == [0.0, 50.0, 1300.0]
    assert perpetual.tier_for(264_000, BINANCE)["mmr"] == 0.01
    assert perpetual.tier_for(500_000, BINANCE)["maintenance_amount"] == 1300.0
    # MM = notional x rate - amount (same FAQ), at 500,000 USDT
    assert xc.maintenance_margin(50_000, 10, tiers=BINANCE) == pytest.approx(500_000 * 0.01 - 1300)


def test_shipped_tables_follow_the_exchanges_formula():
    # Bybit publishes deductions (0, 1,200, 3,020, 4,300 for BTCUSDT tiers 1-4 on its
    # "Margin Parameters" page); deriving them from floors and rates must give the same.
    for table in (BINANCE, BYBIT):
        derived = xc.tier_table(table[["floor", "cap", "mmr"]])
        np.testing.assert_allclose(derived["maintenance_amount"], table["maintenance_amount"], atol=1e-6)
    assert BYBIT["maintenance_amount"].tolist() == [0, 1200, 3020, 4300]


def test_bybit_usdt_isolated_example():
    # Bybit help center "Liquidation Price (USDT Contract)", Example 1 (Long): 1 BTC at
    # 20,000 USDT, 50x, MMR 0.5 %: IM 400, MM 1 x 20,000 x 0.5 % = 100, LP = 20,000 - (400 - 100)
    # = 19,700. Bybit values MM on the entry price; held as a fixed amount (rate 0) our solver
    # reproduces it exactly.
    assert xc.liquidation_price(400 - 100, "long", 20_000, 1, 0.0) == pytest.approx(19_700, abs=1e-9)
    # With MM on the mark price (Binance's convention) liquidation is 1.51 USDT lower.
    assert xc.liquidation_price(400, "long", 20_000, 1, 0.005) == pytest.approx(19_600 / 0.995)


def test_binance_cross_formula_written_out():
    # Binance FAQ cross formula (one-way mode):
    # LP = (WB - TMM1 + UPNL1 + cumB - Side*Position*EP) / (Position*MMR_B - Side*Position)
    wb, tmm1, upnl1, cum, side, pos, ep, mmr = 12_000, 450, -800, 50, -1, 2.0, 61_000, 0.005
    expected = (wb - tmm1 + upnl1 + cum - side * pos * ep) / (pos * mmr - side * pos)
    got = xc.liquidation_price(wb, side, ep, pos, mmr, cum, other_maintenance=tmm1, other_pnl=upnl1)
    assert got == pytest.approx(expected, rel=1e-12)


# -- tier tables -------------------------------------------------------------------------
def test_tier_table_forms_agree():
    rows = [[0, 50_000, 0.004], [50_000, 250_000, 0.005], [250_000, 1_000_000, 0.01]]
    expected = xc.tier_table(rows)
    forms = [
        pd.DataFrame(rows, columns=["floor", "cap", "mmr"]),
        [dict(floor=f, cap=c, mmr=m) for f, c, m in rows],
        [tuple(r) for r in rows],
        np.array(rows),
        # an Excel range: header, trailing empty cells, a blank row at the bottom
        [
            ["Floor", "Cap", "MMR", None],
            [0.0, 50000.0, 0.004, None],
            [50000.0, 250000.0, 0.005, ""],
            [250000.0, 1000000.0, 0.01, None],
            [None, None, None, None],
        ],
        [
            ["下限", "上限", "維持証拠金率"],
            ["0", "50,000", "0.4%"],
            ["50,000", "250,000", "0.5%"],
            ["250,000", "1,000,000", "1%"],
        ],
    ]
    for form in forms:
        pd.testing.assert_frame_equal(xc.tier_table(form), expected)
    assert xc.tier_table([[0, 50_000, 0.004]]).shape == (1, 4)
    assert xc.tier_table([0, 50_000, 0.004])["cap"].iloc[0] == 50_000  # one flat row
    last_open = xc.tier_table([[0, 10, 0.01], [10, None, 0.02]])
    assert last_open["cap"].iloc[-1] == math.inf


def test_tier_table_keeps_given_amounts_and_header_order():
    t = xc.tier_table([["mmr", "cum", "cap", "floor"], [0.01, 0, 100, 0], [0.02, 1, 200, 100]])
    assert t.to_dict("list") == {
        "floor": [0, 100],
        "cap": [100, 200],
        "mmr": [0.01, 0.02],
        "maintenance_amount": [0, 1],
    }


@pytest.mark.parametrize(
    "rows, message",
    [
        ([[0, 100, 0.01], [50, 200, 0.02]], "row 2: floor must equal the previous tier's cap"),
        ([[0, 100, 0.01], [100, 100, 0.02]], "row 2: cap must be greater than floor"),
        ([[100, 200, 0.01], [0, 100, 0.02]], "row 2: floors must increase"),
        ([[0, 100, -0.01]], "row 1: mmr must be a fraction"),
        ([[0, 100, 1.5]], "row 1: mmr must be a fraction"),
        ([[0, 100, "abc"]], "row 1: mmr must be a number, got 'abc'"),
        ([[0, 100, 0.01, 0], [100, 200, 0.02]], "row 2: maintenance_amount is missing"),
        ([[0, 100]], "row 1: mmr is missing"),
        ([], "at least one row"),
        ([["floor", "mmr"], [0, 0.01]], "header must name floor, cap and mmr"),
    ],
)
def test_tier_table_errors_name_the_row(rows, message):
    with pytest.raises(xc.InputError, match=message):
        xc.tier_table(rows)


def test_tier_table_rejects_non_tables():
    with pytest.raises(xc.InputError, match="tiers must be a table"):
        xc.tier_table(0.004)


def test_exchange_tiers_errors_and_attrs():
    assert BINANCE.attrs["as_of"] == "2021-03-18" and BINANCE.attrs["source_url"].startswith(
        "https://www.binance.com/"
    )
    assert BYBIT.attrs["symbol"] == "BTCUSDT"
    with pytest.raises(xc.InputError, match="binance_usdm, bybit_usdt"):
        xc.exchange_tiers("gmo_coin_fx")
    with pytest.raises(xc.InputError, match="symbol must be one of BTCUSDT"):
        xc.exchange_tiers("bybit_usdt", "DOGEUSDT")


# -- tiered liquidation price ------------------------------------------------------------
def test_tiers_ignore_mmr_and_broadcast():
    base = xc.liquidation_price(30_000, "long", 60_000, 10, None, tiers=BINANCE)
    assert xc.liquidation_price(30_000, "long", 60_000, 10, math.nan, math.nan, tiers=BINANCE) == base
    assert xc.liquidation_price(30_000, "long", 60_000, 10, 0.9, 123.0, tiers=BINANCE) == base
    # the consistent tier is the third (1 %, 1,300): same as the plain formula with them
    assert base == pytest.approx(xc.liquidation_price(30_000, "long", 60_000, 10, 0.01, 1300))
    arr = xc.liquidation_price([30_000, 1_000], ["long", "short"], 60_000, [10, 0.1], None, tiers=BINANCE)
    assert isinstance(arr, np.ndarray) and arr.shape == (2,)
    ser = xc.liquidation_price(
        pd.Series([30_000, 1_000], index=["a", "b"]), "long", 60_000, 10, None, tiers=BINANCE
    )
    assert isinstance(ser, pd.Series) and list(ser.index) == ["a", "b"]
    assert isinstance(base, float)


def test_never_liquidated_is_nan():
    assert math.isnan(xc.liquidation_price(100_000, "long", 60_000, 1, None, tiers=BINANCE))
    assert math.isnan(xc.liquidation_price(100_000, "long", 60_000, 1, 0.004))


def test_rate_plus_fee_below_one():
    with pytest.raises(xc.InputError, match="taker_fee must be below 1"):
        xc.liquidation_price(1_000, "long", 100, 1, None, tiers=[[0, 10, 0.6]], taker_fee=0.5)


def test_table_with_a_jump_liquidates_at_the_boundary():
    # Given amounts that make MM drop at a notional of 1,000 (1 % x 1,000 = 10 below, 5 % x
    # 1,000 - 45 = 5 above): for a long of 1 at 1,100 with 107, no tier is consistent (tier 2's
    # root 997.9 is below its range, tier 1's 1,003.0 above its). The first price moving down
    # with equity <= MM is the boundary itself: equity 7 <= MM 10 at 1,000, 7 > 5 just above.
    t = [[0, 1_000, 0.01, 0], [1_000, 10_000, 0.05, 45]]
    assert xc.liquidation_price(107, "long", 1_100, 1, None, tiers=t) == pytest.approx(1_000)
    assert 107 + (1_000 - 1_100) <= xc.maintenance_margin(1_000, 1, tiers=t)
    assert 107 + (1_000.01 - 1_100) > xc.maintenance_margin(1_000.01, 1, tiers=t)
    # the mirror case for a short: MM rises at the boundary (cum too small)
    t2 = [[0, 1_000, 0.01, 0], [1_000, 10_000, 0.05, 0]]
    lp = xc.liquidation_price(30, "short", 990, 1, None, tiers=t2)
    assert lp == pytest.approx(1_000)


def _brute_force(wb, s, p0, q, table, fee=0.0):
    """The exchanges' procedure: start with the tier at entry, re-pick and re-solve."""
    tier = perpetual.tier_for(p0 * q, table)
    for _ in range(50):
        lp = xc.liquidation_price(wb, s, p0, q, tier["mmr"], tier["maintenance_amount"], taker_fee=fee)
        if math.isnan(lp):
            return lp
        new = perpetual.tier_for(lp * q, table)
        if new.name == tier.name:
            return lp
        tier = new
    raise AssertionError("did not settle")


sides = st.sampled_from([1, -1])
prices = st.floats(100, 200_000)
quantities = st.floats(0.001, 400)
leverages = st.floats(1.2, 125)
fees = st.sampled_from([0.0, 0.0002, 0.0005, 0.00075])
tables = st.sampled_from([BINANCE, BYBIT])


@settings(max_examples=200, deadline=None)
@given(s=sides, p0=prices, q=quantities, lev=leverages, fee=fees, table=tables)
def test_equity_equals_maintenance_at_liquidation(s, p0, q, lev, fee, table):
    wb = p0 * q / lev
    lp = xc.liquidation_price(wb, s, p0, q, None, tiers=table, taker_fee=fee)
    assume(not math.isnan(lp))
    equity = wb + s * (lp - p0) * q
    mm = xc.maintenance_margin(lp, q, tiers=table, taker_fee=fee)
    assert equity == pytest.approx(mm, rel=1e-9, abs=1e-6 * p0 * q)
    # tier consistency: the notional at LP lies in the tier whose line gave LP
    tier = perpetual.tier_for(lp * q, table)
    same = xc.liquidation_price(wb, s, p0, q, tier["mmr"], tier["maintenance_amount"], taker_fee=fee)
    assert lp == pytest.approx(same, rel=1e-9)
    assert tier["floor"] - 1e-6 <= lp * q <= tier["cap"] * (1 + 1e-9) or tier.name == len(table) - 1
    # and the exchanges' re-pick loop lands on the same price
    assert lp == pytest.approx(_brute_force(wb, s, p0, q, table, fee), rel=1e-9)
    # a position opened above its maintenance margin is liquidated below entry (long) or
    # above it (short); one over the tier's leverage limit is already past it
    if wb > xc.maintenance_margin(p0, q, tiers=table, taker_fee=fee):
        assert (lp - p0) * s < 0


@settings(max_examples=200, deadline=None)
@given(
    s=sides,
    p0=prices,
    q=quantities,
    lev=leverages,
    fee=fees,
    mmr=st.floats(0, 0.2),
    cum=st.floats(0, 100),
    other_mm=st.floats(0, 500),
    other_pnl=st.floats(-500, 500),
)
def test_equity_equals_maintenance_without_tiers(s, p0, q, lev, fee, mmr, cum, other_mm, other_pnl):
    wb = p0 * q / lev + 1_000
    lp = xc.liquidation_price(wb, s, p0, q, mmr, cum, other_mm, other_pnl, taker_fee=fee)
    assume(not math.isnan(lp))
    equity = wb - other_mm + other_pnl + s * (lp - p0) * q
    assert equity == pytest.approx(lp * q * (mmr + fee) - cum, rel=1e-9, abs=1e-7 * (p0 * q + wb))


# -- cross margin ------------------------------------------------------------------------
def _positions():
    return pd.DataFrame(
        {
            "symbol": ["BTCUSDT", "ETHUSDT", "SOLUSDT"],
            "side": ["long", "short", "long"],
            "entry_price": [60_000, 3_000, 150],
            "mark_price": [58_000, 3_100, 160],
            "quantity": [2, 20, 100],
            "mmr": [0.004, 0.005, 0.01],
            "maintenance_amount": [0, 0, 5],
        }
    )


@settings(max_examples=100, deadline=None)
@given(
    wb=st.floats(5_000, 200_000),
    moves=st.lists(st.floats(-0.2, 0.2), min_size=3, max_size=3),
    fee=fees,
    tiered=st.booleans(),
)
def test_cross_liquidation_is_isolated_formula_with_others_at_mark(wb, moves, fee, tiered):
    pos = _positions()
    pos["mark_price"] = pos["entry_price"] * (1 + np.array(moves))
    tiers = {"BTCUSDT": BINANCE} if tiered else None
    acct = xc.cross_account(pos, wb, tiers=tiers, taker_fee=fee)
    s = np.array([1, -1, 1])
    pnl = s * (pos["mark_price"] - pos["entry_price"]) * pos["quantity"]
    mm = pos["mark_price"] * pos["quantity"] * (pos["mmr"] + fee) - pos["maintenance_amount"]
    if tiered:
        mm[0] = xc.maintenance_margin(pos["mark_price"][0], 2, tiers=BINANCE, taker_fee=fee)
    assert acct.margin_balance == pytest.approx(wb + pnl.sum())
    assert acct.maintenance_margin == pytest.approx(mm.sum())
    balance = wb + pnl.sum()
    assert acct.margin_ratio == (pytest.approx(mm.sum() / balance) if balance > 0 else math.inf)
    for i in range(3):
        others = [k for k in range(3) if k != i]
        wb_prime = wb - mm[others].sum() + pnl[others].sum()
        row = pos.iloc[i]
        iso = xc.liquidation_price(
            wb_prime,
            s[i],
            row["entry_price"],
            row["quantity"],
            row["mmr"],
            row["maintenance_amount"],
            taker_fee=fee,
            tiers=BINANCE if tiered and i == 0 else None,
        )
        got = acct.positions["liquidation_price"].iloc[i]
        assert (math.isnan(got) and math.isnan(iso)) or got == pytest.approx(iso, rel=1e-9)
    # the uniform move: at every price x (1 + move) margin balance equals maintenance margin
    x = acct.move_to_liquidation
    if not math.isnan(x):
        p = pos["mark_price"] * (1 + x)
        eq = wb + (s * (p - pos["entry_price"]) * pos["quantity"]).sum()
        mmx = p * pos["quantity"] * (pos["mmr"] + fee) - pos["maintenance_amount"]
        if tiered:
            mmx[0] = xc.maintenance_margin(p[0], 2, tiers=BINANCE, taker_fee=fee)
        assert eq == pytest.approx(mmx.sum(), rel=1e-9, abs=1e-6)


def test_hedge_mode_legs_share_the_binance_price():
    # Binance FAQ hedge-mode formula for one symbol (no other contracts):
    # LP = (WB + cumL + cumS - PosL*EPL + PosS*EPS) / (PosL*MMR_L + PosS*MMR_S - PosL + PosS)
    pos = pd.DataFrame(
        {
            "symbol": ["BTCUSDT", "BTCUSDT"],
            "side": ["long", "short"],
            "entry_price": [60_000, 62_000],
            "mark_price": [61_000, 61_000],
            "quantity": [3, 1],
            "mmr": [0.004, 0.004],
        }
    )
    wb = 20_000
    acct = xc.cross_account(pos, wb)
    expected = (wb - 3 * 60_000 + 1 * 62_000) / (3 * 0.004 + 1 * 0.004 - 3 + 1)
    np.testing.assert_allclose(acct.positions["liquidation_price"], [expected, expected], rtol=1e-12)
    # net short hedge liquidates above the mark
    pos["quantity"] = [1, 3]
    acct = xc.cross_account(pos, wb)
    lp = acct.positions["liquidation_price"].iloc[0]
    assert lp > 61_000
    eq = wb + (lp - 60_000) * 1 - (lp - 62_000) * 3
    assert eq == pytest.approx(lp * 4 * 0.004)


def test_hedge_mode_with_tiers_and_other_symbols():
    pos = pd.DataFrame(
        {
            "symbol": ["BTCUSDT", "BTCUSDT", "ETHUSDT"],
            "side": ["long", "short", "short"],
            "entry_price": [60_000, 60_000, 3_000],
            "mark_price": [60_000, 60_000, 2_900],
            "quantity": [12, 4, 10],
            "mmr": [None, None, 0.005],
        }
    )
    wb = 80_000
    acct = xc.cross_account(pos, wb, tiers={"BTCUSDT": BINANCE})
    lp = acct.positions["liquidation_price"].iloc[0]
    assert lp == acct.positions["liquidation_price"].iloc[1] and lp < 60_000
    eth_pnl = -(2_900 - 3_000) * 10
    eth_mm = 2_900 * 10 * 0.005
    eq = wb + eth_pnl + (lp - 60_000) * 12 - (lp - 60_000) * 4
    mm = eth_mm + xc.maintenance_margin(lp, 12, tiers=BINANCE) + xc.maintenance_margin(lp, 4, tiers=BINANCE)
    assert eq == pytest.approx(mm, rel=1e-9)


def test_cross_account_errors():
    pos = _positions().drop(columns="mmr")
    with pytest.raises(xc.InputError, match="row 0: mmr is missing"):
        xc.cross_account(pos, 10_000)
    bad = _positions()
    bad.loc[1, "side"] = "sideways"
    with pytest.raises(xc.InputError, match="side"):
        xc.cross_account(bad, 10_000)
    with pytest.raises(xc.InputError, match="positions must have a mark_price column"):
        xc.cross_account(_positions().drop(columns="mark_price"), 10_000)
    with pytest.raises(xc.InputError, match="DataFrame"):
        xc.cross_account([1, 2], 10_000)


def test_cross_ratio_when_equity_gone():
    pos = _positions()
    pos["mark_price"] = [30_000, 3_000, 150]
    acct = xc.cross_account(pos, 10_000)
    assert acct.margin_balance < 0 and acct.margin_ratio == math.inf


# -- command line ------------------------------------------------------------------------
def test_cli_liq_with_exchange_tiers():
    r = CliRunner().invoke(
        main,
        [
            "liq",
            "--side",
            "long",
            "--entry",
            "60000.00",
            "--qty",
            "10",
            "--wallet",
            "30000",
            "--exchange",
            "binance_usdm",
        ],
    )
    assert r.exit_code == 0, r.output
    assert "57,444.44" in r.output and "1.00 %" in r.output and "2021-03-18" in r.output


def test_cli_liq_mmr_inverse_and_errors():
    runner = CliRunner()
    r = runner.invoke(
        main,
        [
            "liq",
            "--side",
            "short",
            "--entry",
            "20000",
            "--qty",
            "1",
            "--wallet",
            "400",
            "--mmr",
            "0.005",
            "--lang",
            "ja",
        ],
    )
    assert r.exit_code == 0 and "清算価格" in r.output
    assert f"{400 / 1 + 20_000:,.2f}"[:2] in r.output  # bankruptcy 20,400 shown
    r = runner.invoke(
        main,
        [
            "liq",
            "--side",
            "long",
            "--entry",
            "50000.00",
            "--wallet",
            "0.12",
            "--inverse",
            "--contracts",
            "60000",
            "--contract-value",
            "1",
            "--mmr",
            "0.005",
        ],
    )
    assert r.exit_code == 0 and "45,681.82" in r.output
    r = runner.invoke(
        main,
        [
            "liq",
            "--side",
            "long",
            "--entry",
            "50000.00",
            "--wallet",
            "0.12",
            "--inverse",
            "--contracts",
            "60000",
            "--contract-value",
            "1",
        ],
    )
    assert r.exit_code == 2 and "--mmr" in r.output
    r = runner.invoke(
        main, ["liq", "--side", "long", "--entry", "-5", "--qty", "1", "--wallet", "1", "--mmr", "0.01"]
    )
    assert r.exit_code == 2 and "--entry must be greater than 0" in r.output
    assert "Traceback" not in r.output
