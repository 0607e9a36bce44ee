"""Numbers at the precision the venue shows (issue 12)."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xlcalc.display import Display, excel_number_format, price_decimals, tick_decimals


@pytest.mark.parametrize(
    "reference, typed, tick, decimals",
    [
        (1.08523, [5], None, 5),  # EUR/USD as the user typed it
        (110.0, [0], None, 3),  # USD/JPY: a loss-cut at 104.4 must not print as 104
        (110.123, [3], None, 3),
        (10_000_000, [0], None, 0),  # BTC/JPY
        (50_000, [0], None, 1),
        (0.00001234, [8], None, 10),  # a cheap coin never shows 0.00
        (60_000, [0], 0.1, 1),  # with a tick the tick decides ...
        (60_000, [2], 0.5, 2),  # ... but never fewer decimals than typed
        (150.0, [0], 0.001, 3),
    ],
)
def test_price_decimals(reference, typed, tick, decimals):
    assert price_decimals(reference, typed, tick) == decimals


def test_tick_decimals():
    assert [tick_decimals(t) for t in (1, 0.5, 0.01, 0.001, 1e-05, 1e-8, 1000)] == [0, 1, 2, 3, 5, 8, 0]


@pytest.mark.parametrize(
    "currency, value, text",
    [
        ("JPY", 1234567.4, "¥1,234,567"),
        ("JPY", -1234.5, "-¥1,234"),
        ("USD", 4340.919, "$4,340.92"),
        ("USDT", -12.5, "-12.50 USDT"),
        ("BTC", 0.123456789, "0.12345679 BTC"),
        (None, 1e6, "1,000,000.00"),
        ("XYZ", 3.5, "3.50 XYZ"),
    ],
)
def test_money_in_the_account_currency(currency, value, text):
    assert Display(2, currency).money(value) == text


@given(st.floats(min_value=-0.0049, max_value=0.0049), st.sampled_from([None, "JPY", "USD", "USDT"]))
def test_never_minus_zero(x, currency):
    d = Display(2, currency)
    assert not d.money(x).startswith("-")
    assert not d.price(x).startswith("-")
    assert not d.qty(-0.0).startswith("-")


@pytest.mark.parametrize(
    "rate, text",
    [
        (0.00075, "0.075 %"),
        (0.0004, "0.04 %"),
        (0.004, "0.40 %"),
        (0.5, "50.00 %"),
        (3.0, "300.00 %"),
        (1.0, "100.00 %"),
        (0.0, "0.00 %"),
        (0.000125, "0.0125 %"),
        (0.123456, "12.3456 %"),
        (0.156666666667, "15.6667 %"),
    ],
)
def test_rates_show_every_digit(rate, text):
    assert Display().rate(rate) == text


@pytest.mark.parametrize(
    "x, text",
    [
        (2.2727, "227.27 %"),
        (0.0, "0.00 %"),
        (-0.046, "-4.60 %"),
        (0.000042, "0.0042 %"),
        (1e-17, "0.00 %"),
    ],
)
def test_percentages(x, text):
    assert Display().pct(x) == text


@given(st.floats(min_value=1e-6, max_value=1e7), st.integers(min_value=0, max_value=8))
def test_price_text_reads_back_within_half_a_unit(x, decimals):
    text = Display(decimals).price(x)
    # half a unit of the last decimal, plus the float error of a tie
    assert abs(float(text.replace(",", "")) - x) <= 0.5 * 10.0**-decimals + 1e-12 * max(1.0, x)


def test_missing_values_are_a_dash():
    d = Display(2, "JPY")
    assert d.price(math.nan) == d.money(None) == d.pct(math.inf) == d.qty(math.nan) == d.rate(math.nan) == "-"


def test_excel_number_formats_match():
    assert excel_number_format(3) == "#,##0.000"
    assert excel_number_format(0, "JPY") == '"¥"#,##0'
    assert excel_number_format(2, "USD") == '"$"#,##0.00'
