"""The core math: SPEC §1 worked examples, properties, broadcasting and bad input."""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import xlcalc as xc

# -- worked examples (SPEC §1) ---------------------------------------------------------


def test_seed_example_ratio_zero_and_loss_cut():
    # deposit 5,000, 2x, long 0.2 BTC at 50,000; at 25,000 equity 0, ratio 0 %.
    assert xc.equity(5_000, "long", 50_000, 25_000, 0.2) == 0
    assert xc.maintenance_ratio(5_000, "long", 50_000, 25_000, 0.2, 2) == 0
    assert xc.loss_cut_price(5_000, "long", 50_000, 0.2, 2, level=0.5) == pytest.approx(37_500, abs=1e-9)


def test_fx_example():
    # USD/JPY 110, 100,000 units, 25x: margin 440,000; equity 1,000,000: ratio 227 %;
    # loss-cut at 100 % on entry basis: 104.4.
    assert xc.required_margin(110, 100_000, 25) == pytest.approx(440_000)
    assert xc.maintenance_ratio(1_000_000, "buy", 110, 110, 100_000, 25) == pytest.approx(1_000_000 / 440_000)
    assert round(xc.maintenance_ratio(1_000_000, "buy", 110, 110, 100_000, 25), 2) == 2.27
    assert xc.loss_cut_price(1_000_000, "long", 110, 100_000, 25, level=1.0) == pytest.approx(104.4)


def test_gmo_coin_required_margin():
    assert xc.required_margin(1_000_000, 1, 2) == 500_000


def test_bitflyer_api_sample():
    # collateral 100,000, open P&L -715, required 19,857: ratio 5.000 (500 %).
    assert round((100_000 - 715) / 19_857, 3) == 5.000
    # The same through the core: a long whose P&L at price is -715 and whose entry-basis
    # margin is 19,857 (quantity 1, entry 39,714 at 2x).
    ratio = xc.maintenance_ratio(100_000, "long", 39_714, 39_714 - 715, 1, 2)
    assert round(ratio, 3) == 5.000


@pytest.mark.parametrize(
    "side, basis, expected",
    [
        ("long", "entry", 8_750_000),
        ("short", "entry", 11_250_000),
        ("long", "mark", 8_000_000),
        ("short", "mark", 10_909_090.91),
    ],
)
def test_derived_loss_cut_75(side, basis, expected):
    got = xc.loss_cut_price(1_000_000, side, 10_000_000, 0.2, 2, level=0.75, basis=basis)
    assert round(got, 2) == expected


def test_derived_margin_call_and_deposit():
    args = dict(deposit=1_000_000, side="long", entry_price=10_000_000, quantity=0.1, leverage=2)
    assert xc.margin_call_price(**args) == pytest.approx(5_000_000)
    assert xc.loss_cut_price(**args, level=0.5) == pytest.approx(2_500_000)
    assert xc.equity(1_000_000, "long", 10_000_000, 4_000_000, 0.1) == pytest.approx(400_000)
    assert xc.additional_deposit(price=4_000_000, **args) == pytest.approx(100_000)


def test_derived_gap_shortfall():
    assert xc.equity(500_000, "long", 10_000_000, 4_000_000, 0.1) == pytest.approx(-100_000)
    assert xc.shortfall(500_000, "long", 10_000_000, 4_000_000, 0.1) == pytest.approx(100_000)
    assert xc.shortfall(500_000, "long", 10_000_000, 9_000_000, 0.1) == 0


def test_unreachable_levels_are_nan():
    # A fully collateralised 1x long never reaches zero equity nor any level on mark basis.
    assert math.isnan(xc.bankruptcy_price(10_000, "long", 100, 100))
    assert math.isnan(xc.trigger_price(10_000, "long", 100, 100, 1, 0.5, basis="mark"))
    assert math.isnan(xc.loss_cut_price(20_000, "long", 100, 100, 2, 0.5))


def test_holding_cost_moves_loss_cut_towards_market():
    base = xc.loss_cut_price(1_000_000, "long", 10_000_000, 0.1, 2, 0.5)
    fee = xc.holding_cost(10_000_000, 0.1, 0.0004, np.array([0, 10, 30]))
    later = xc.loss_cut_price(1_000_000, "long", 10_000_000, 0.1, 2, 0.5, fees=fee)
    assert later[0] == base and np.all(np.diff(later) > 0)


def test_close_quantity_restores_target():
    args = dict(deposit=1_000_000, side="long", entry_price=10_000_000, quantity=0.1, leverage=2)
    q_close = xc.close_quantity(price=4_000_000, **args)
    assert q_close == pytest.approx(0.02)
    # closing realises P&L into the deposit: equity stays, margin shrinks in proportion
    eq = xc.equity(1_000_000, "long", 10_000_000, 4_000_000, 0.1)
    kept = 0.1 - q_close
    assert eq / xc.required_margin(10_000_000, kept, 2) == pytest.approx(1.0)
    # wiped out: everything must go, and never more than the position
    assert xc.close_quantity(price=4_000_000, **{**args, "deposit": 500_000}) == 0.1
    assert xc.close_quantity(price=12_000_000, **args) == 0


def test_position_size_and_stop_loss():
    assert xc.position_size(1_000_000, 0.02, 10_000_000, 9_500_000) == pytest.approx(0.04)
    assert xc.position_size(1_000_000, 0.02, 10_000_000, 9_950_000, leverage=2) == pytest.approx(0.2)
    q = xc.position_size(1_000_000, 0.02, 10_000_000, 10_400_000)  # short with a stop above
    assert xc.stop_loss_amount("short", 10_000_000, 10_400_000, q) == pytest.approx(20_000)


@pytest.mark.parametrize(
    "ratio, expected",
    [
        (2.0, "ok"),
        (1.0, "ok"),
        (0.99, "margin_call"),
        (0.5, "margin_call"),
        (0.49, "loss_cut"),
        (-1, "loss_cut"),
    ],
)
def test_status_strictly_below_level(ratio, expected):
    assert xc.status(ratio, 1.0, 0.5) == expected


def test_status_without_margin_call_level():
    assert xc.status(0.8, math.nan, 0.75) == "ok"
    assert xc.status(0.7, math.nan, 0.75) == "loss_cut"


# -- sides, broadcasting ---------------------------------------------------------------


@pytest.mark.parametrize("word", [1, 1.0, "long", "LONG", " Buy ", "買い", "買", "+1", np.int8(1)])
def test_long_spellings(word):
    assert xc.unrealized_pnl(word, 100, 110, 1) == 10


@pytest.mark.parametrize("word", [-1, "short", "Sell", "売り", "売", "-1"])
def test_short_spellings(word):
    assert xc.unrealized_pnl(word, 100, 110, 1) == -10


def test_scalar_in_float_out():
    out = xc.maintenance_ratio(1_000, 1, 100, 90, 10, 2)
    assert type(out) is float


def test_array_in_ndarray_out_and_words_array():
    out = xc.unrealized_pnl(np.array(["買い", "売り", "long"]), 100, np.array([110, 110, 90]), 2)
    assert isinstance(out, np.ndarray)
    np.testing.assert_array_equal(out, [20, -20, -20])


def test_series_keeps_index():
    idx = pd.Index(["BTC", "ETH", "XRP"], name="symbol")
    price = pd.Series([9_000_000, 300_000, 80.0], index=idx)
    out = xc.maintenance_ratio(1_000_000, "long", [10_000_000, 400_000, 100.0], price, [0.1, 1, 5_000], 2)
    assert isinstance(out, pd.Series)
    assert out.index.equals(idx)
    assert out["BTC"] == pytest.approx(xc.maintenance_ratio(1_000_000, "long", 10_000_000, 9_000_000, 0.1, 2))


def test_basis_array_broadcasts():
    out = xc.loss_cut_price(
        1_000_000, "long", 10_000_000, 0.2, 2, 0.75, basis=["entry", "mark", "建値", "時価"]
    )
    np.testing.assert_allclose(out, [8_750_000, 8_000_000, 8_750_000, 8_000_000])


# -- bad input -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: xc.unrealized_pnl("sideways", 1, 1, 1), "side must be"),
        (lambda: xc.unrealized_pnl("long", 0, 1, 1), "entry_price must be a positive number, got 0"),
        (lambda: xc.unrealized_pnl("long", 1, -5, 1), "price must be a positive number, got -5"),
        (lambda: xc.unrealized_pnl("long", 1, 1, math.nan), "quantity must be a positive number, got nan"),
        (lambda: xc.required_margin(1, 1, 0), "leverage must be a positive number, got 0"),
        (lambda: xc.trigger_price(1, "long", 1, 1, 2, 0), "level must be a positive number, got 0"),
        (lambda: xc.trigger_price(1, "long", 1, 1, 2, -0.5), "level must be a positive number"),
        (lambda: xc.equity(-1, "long", 1, 1, 1), "deposit must be a number >= 0, got -1"),
        (lambda: xc.equity(1, "long", 1, 1, 1, fees=-2), "fees must be a number >= 0"),
        (lambda: xc.required_margin("abc", 1, 1), "price must be a number, got 'abc'"),
        (lambda: xc.position_size(1, 0.02, 100, 100), "stop_price must be different from entry_price"),
        (lambda: xc.position_size(1, 2, 100, 90), "risk must be a fraction"),
        (
            lambda: xc.maintenance_ratio(1, 1, 1, 1, 1, 1, basis="last"),
            "basis must be 'entry' or 'mark', got 'last'",
        ),
        (lambda: xc.required_margin(math.inf, 1, 1), "price must be a positive number, got inf"),
    ],
)
def test_bad_input_names_argument_and_value(call, message):
    with pytest.raises(xc.InputError, match=message.replace("(", r"\(")) as info:
        call()
    assert isinstance(info.value, ValueError)


def test_array_error_reports_first_bad_row():
    with pytest.raises(xc.InputError, match=r"quantity must be a positive number, got -1.0 at row 2"):
        xc.required_margin(100, np.array([1.0, 2.0, -1.0, -3.0]), 2)
    with pytest.raises(xc.InputError, match=r"side must be .* got 'up' at row 1"):
        xc.unrealized_pnl(["long", "up", "short"], 100, 110, 1)
    with pytest.raises(xc.InputError, match=r"side must be .* at row 1"):
        xc.unrealized_pnl(np.array([1, 0, -1]), 100, 110, 1)
    with pytest.raises(xc.InputError, match=r"price must be a number, got 'x' at row 1"):
        xc.required_margin(["1", "x"], 1, 1)


def test_series_error_reports_index_label():
    s = pd.Series([1.0, math.nan], index=["BTC", "ETH"])
    with pytest.raises(xc.InputError, match=r"at row 'ETH'"):
        xc.required_margin(s, 1, 2)


# -- properties ------------------------------------------------------------------------

prices = st.floats(min_value=1e-2, max_value=1e8)
quantities = st.floats(min_value=1e-4, max_value=1e6)
leverages = st.floats(min_value=1, max_value=125)
levels = st.floats(min_value=0.05, max_value=3)
sides = st.sampled_from([1, -1])
bases = st.sampled_from(["entry", "mark"])


@st.composite
def positions(draw):
    p0, q, lev = draw(prices), draw(quantities), draw(leverages)
    margin = p0 * q / lev
    deposit = draw(st.floats(min_value=0, max_value=5)) * margin
    fees = draw(st.floats(min_value=0, max_value=0.2)) * margin
    return dict(deposit=deposit, side=draw(sides), entry_price=p0, quantity=q, leverage=lev, fees=fees)


@settings(max_examples=300, deadline=None)
@given(positions(), levels, bases)
def test_ratio_at_trigger_price_equals_level(pos, level, basis):
    p = xc.trigger_price(level=level, basis=basis, **pos)
    if math.isnan(p):
        return
    ratio = xc.maintenance_ratio(price=p, basis=basis, **pos)
    assert ratio == pytest.approx(level, rel=1e-9, abs=_ratio_tolerance(pos, p, basis))


def _ratio_tolerance(pos, price, basis):
    """Rounding of E = D + s(P - P0)Q - F is eps times the size of its terms; R divides it by M."""
    margin = (price if basis == "mark" else pos["entry_price"]) * pos["quantity"] / pos["leverage"]
    terms = pos["deposit"] + pos["fees"] + (pos["entry_price"] + price) * pos["quantity"]
    return 1e-12 * terms / margin


@settings(max_examples=200, deadline=None)
@given(positions(), levels, bases)
def test_nan_trigger_only_when_level_unreachable(pos, level, basis):
    p = xc.trigger_price(level=level, basis=basis, **pos)
    if not math.isnan(p):
        return
    # no positive price on a wide grid crosses the level: R(P) - level keeps one sign
    grid = pos["entry_price"] * np.geomspace(1e-6, 1e6, 2001)
    r = xc.maintenance_ratio(price=grid, basis=basis, **pos) - level
    assert np.all(r >= -1e-9) or np.all(r <= 1e-9)


@settings(max_examples=200, deadline=None)
@given(positions(), levels, bases)
def test_long_and_short_mirror_on_entry_basis(pos, level, basis):
    # On entry basis a short's distance up equals a long's distance down.
    long_p = xc.trigger_price(level=level, **{**pos, "side": 1})
    short_p = xc.trigger_price(level=level, **{**pos, "side": -1})
    if not math.isnan(long_p) and not math.isnan(short_p):
        p0 = pos["entry_price"]
        assert p0 - long_p == pytest.approx(short_p - p0, rel=1e-9, abs=1e-6 * p0)
    # P&L mirrors for every basis
    p = pos["entry_price"] * 1.1
    assert xc.unrealized_pnl(1, pos["entry_price"], p, pos["quantity"]) == -xc.unrealized_pnl(
        -1, pos["entry_price"], p, pos["quantity"]
    )


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(positions(), prices, levels, bases), min_size=1, max_size=20))
def test_scalar_and_array_forms_agree(rows):
    cols = {k: np.array([r[0][k] for r in rows]) for k in rows[0][0]}
    price = np.array([r[1] for r in rows])
    level = np.array([r[2] for r in rows])
    basis = np.array([r[3] for r in rows])
    ratio = xc.maintenance_ratio(price=price, basis=basis, **cols)
    trig = xc.trigger_price(level=level, basis=basis, **cols)
    dep = xc.additional_deposit(price=price, target=level, basis=basis, **cols)
    close = xc.close_quantity(price=price, target=level, basis=basis, **cols)
    series = xc.maintenance_ratio(
        price=pd.Series(price, index=range(10, 10 + len(rows))), basis=basis, **cols
    )
    for i, (pos, p, r, b) in enumerate(rows):
        assert ratio[i] == xc.maintenance_ratio(price=p, basis=b, **pos)
        np.testing.assert_equal(trig[i], xc.trigger_price(level=r, basis=b, **pos))
        assert dep[i] == xc.additional_deposit(price=p, target=r, basis=b, **pos)
        assert close[i] == xc.close_quantity(price=p, target=r, basis=b, **pos)
        assert series[10 + i] == ratio[i]


@settings(max_examples=200, deadline=None)
@given(positions(), prices, levels, bases)
def test_additional_deposit_restores_target(pos, price, target, basis):
    extra = xc.additional_deposit(price=price, target=target, basis=basis, **pos)
    assert extra >= 0
    after = xc.maintenance_ratio(price=price, basis=basis, **{**pos, "deposit": pos["deposit"] + extra})
    before = xc.maintenance_ratio(price=price, basis=basis, **pos)
    if extra > 0:
        tol = _ratio_tolerance({**pos, "deposit": pos["deposit"] + extra}, price, basis)
        assert after == pytest.approx(target, rel=1e-9, abs=tol)
    else:
        assert before >= target - _ratio_tolerance(pos, price, basis)


@settings(max_examples=200, deadline=None)
@given(positions())
def test_equity_is_zero_at_bankruptcy_price(pos):
    pb = xc.bankruptcy_price(
        pos["deposit"], pos["side"], pos["entry_price"], pos["quantity"], fees=pos["fees"]
    )
    if math.isnan(pb):
        # only a long backed by (at least, up to rounding) its full notional
        notional = pos["entry_price"] * pos["quantity"]
        assert pos["side"] == 1 and pos["deposit"] - pos["fees"] >= notional * (1 - 1e-12)
        return
    eq = xc.equity(pos["deposit"], pos["side"], pos["entry_price"], pb, pos["quantity"], fees=pos["fees"])
    assert eq == pytest.approx(0, abs=1e-9 * max(pos["deposit"], pos["entry_price"] * pos["quantity"]))


def test_status_far_side_of_trigger_means_breached():
    # price already below a long's loss-cut price: status says loss_cut
    args = dict(deposit=1_000_000, side="long", entry_price=10_000_000, quantity=0.1, leverage=2)
    lc = xc.loss_cut_price(**args, level=0.5)
    below = xc.maintenance_ratio(price=lc * 0.99, **args)
    assert xc.status(below, 1.0, 0.5) == "loss_cut"


# -- cross margin ----------------------------------------------------------------------


def test_account_state_hedged():
    st_ = xc.account_state(1_000_000, ["long", "short"], 10_000_000, 9_000_000, [0.3, 0.1], 2)
    assert (st_.equity, st_.required_margin, st_.ratio) == (800_000, 2_000_000, 0.4)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.tuples(sides, prices, st.floats(0.5, 2), quantities, leverages), min_size=1, max_size=6),
    st.floats(0, 3),
    levels,
    bases,
)
def test_market_move_reaches_level(legs, deposit_mult, level, basis):
    s, p0, move, q, lev = (np.array(c) for c in zip(*legs))
    price = p0 * move
    deposit = deposit_mult * float(np.sum(p0 * q / lev))
    x = xc.market_move_to_level(deposit, s, p0, price, q, lev, level, basis=basis)
    if math.isnan(x) or 1 + x < 1e-9:
        # NaN: never; 1 + x ~ 0 is a level "reached" only at a vanishing price, where a
        # fully backed 1x long's ratio is 0/0 and rounding decides
        return
    ratio = xc.account_state(deposit, s, p0, price * (1 + x), q, lev, basis=basis).ratio
    scale = max(1.0, float(np.sum(price * q)) * (1 + abs(x)) / max(1e-12, float(np.sum(p0 * q / lev))))
    assert ratio == pytest.approx(level, rel=1e-7, abs=1e-9 * scale)


def test_single_position_account_matches_position():
    args = dict(deposit=1_000_000, side="long", entry_price=10_000_000, quantity=0.1, leverage=2)
    x = xc.market_move_to_level(args["deposit"], "long", 10_000_000, 10_000_000, 0.1, 2, 0.5)
    assert 10_000_000 * (1 + x) == pytest.approx(xc.loss_cut_price(**args, level=0.5))


# -- long arrays run in cache-sized blocks -------------------------------------------------


def test_blocked_long_arrays_equal_one_pass_and_name_the_global_row():
    from xlcalc._inputs import BLOCK_ROWS
    from xlcalc.core import maintenance_ratio as blocked

    n = 2 * BLOCK_ROWS + 12_345  # past the threshold, with a ragged last block
    rng = np.random.default_rng(7)
    p0 = rng.uniform(100, 1e7, n)
    args = dict(
        deposit=rng.uniform(0, 1e6, n),
        side=rng.choice([-1.0, 1.0], n),
        entry_price=p0,
        quantity=rng.uniform(0.01, 10, n),
        leverage=rng.choice([2.0, 25.0], n),
    )
    one_pass = blocked.__wrapped__(price=p0 * 0.9, basis="mark", **args)
    np.testing.assert_array_equal(blocked(price=p0 * 0.9, basis="mark", **args), one_pass)
    lc = xc.loss_cut_price(level=0.5, basis="mark", fees=1.0, **args)
    np.testing.assert_array_equal(lc, xc.trigger_price.__wrapped__(level=0.5, basis="mark", fees=1.0, **args))
    args["quantity"][n - 3] = -2.0  # in the last block
    with pytest.raises(xc.InputError, match=rf"quantity must be a positive number, got -2.0 at row {n - 3}$"):
        xc.maintenance_ratio(price=p0, **args)


def test_errors_carry_their_parts_for_other_languages():
    from xlcalc.labels import error_text

    with pytest.raises(xc.InputError) as info:
        xc.maintenance_ratio(1, "long", 100, 90, 1, pd.Series([2.0, 0.0], index=["BTC", "ETH"]))
    err = info.value
    assert (err.argument, err.expected, err.value, err.row) == ("leverage", "positive", 0.0, "ETH")
    assert error_text(err, "en") == str(err) == "leverage must be a positive number, got 0.0 at row 'ETH'"
    assert error_text(err, "ja") == "レバレッジは正の数でなければなりません（値: 0.0、行 ETH）"
    # an error without parts stays as it is in every language
    plain = xc.InputError("input file not found: 'x.csv'")
    assert error_text(plain, "ja") == "input file not found: 'x.csv'"
