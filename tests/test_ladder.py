"""The adaptive scenario ladder (issue 12): every trigger a row, round steps, the price itself."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import xlcalc as xc
from xlcalc.ladder import nice_step, scenario_ladder

prices = st.floats(min_value=1e-6, max_value=1e9, allow_nan=False)


@given(
    prices,
    st.lists(st.one_of(st.just(math.nan), st.floats(min_value=0.01, max_value=3.0)), max_size=5),
    st.integers(min_value=4, max_value=60),
)
def test_ladder_properties(price, relative, rows):
    triggers = [price * r for r in relative]
    ladder = scenario_ladder(price, triggers, rows=rows)
    assert np.all(np.diff(ladder) > 0)  # sorted and unique
    assert np.all(ladder > 0) and np.all(np.isfinite(ladder))
    assert price in ladder
    for t in triggers:
        if math.isfinite(t):
            assert t in ladder  # every finite trigger is a row
    assert ladder.size <= 3 * rows + len(triggers) + 3  # bounded


@given(prices, st.floats(min_value=0.5, max_value=0.999))
def test_range_reaches_past_the_farthest_trigger(price, r):
    ladder = scenario_ladder(price, [price * r])
    assert ladder[0] < price * r or math.isclose(ladder[0], price * r)
    assert ladder[-1] > price  # rows on the profit side too


@given(st.floats(min_value=1e-9, max_value=1e12), st.integers(min_value=1, max_value=100))
def test_nice_step_is_round_and_fits(span, rows):
    step = nice_step(span, rows)
    mantissa = step / 10.0 ** math.floor(math.log10(step) + 1e-12)
    assert any(math.isclose(mantissa, m, rel_tol=1e-9) for m in (1, 2, 5, 10))
    assert span / step <= rows * (1 + 1e-9)
    assert span / step > rows / 5 - 1e-9


def test_twenty_x_liquidation_is_its_own_row():
    # issue 12: at 20x the liquidation at -4.6 % fell between two rows of a fixed 5 % grid.
    # 1 BTC long at 60,000 with 3,000 USDT, MMR 0.4 %: LP = (60,000 - 3,000) / (1 - 0.004)
    lp = xc.liquidation_price(3_000, "long", 60_000, 1, 0.004)
    assert lp == pytest.approx(57_228.915662650605)
    ladder = scenario_ladder(60_000, [lp, xc.bankruptcy_price(3_000, "long", 60_000, 1)])
    assert lp in ladder and 57_000 in ladder
    steps = np.diff(ladder[(ladder != lp)])
    assert np.allclose(steps, 500)


def test_no_trigger_gives_a_ten_percent_window():
    ladder = scenario_ladder(100, [math.nan])
    assert ladder[0] >= 89 and ladder[-1] <= 111 and 100 in ladder


@pytest.mark.parametrize("bad", [0, -1, math.nan, math.inf])
def test_bad_price(bad):
    with pytest.raises(ValueError, match="price must be a positive finite number"):
        scenario_ladder(bad, [1.0])
