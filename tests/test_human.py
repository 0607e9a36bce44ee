"""Human input (SPEC §9, issue 12): levels, rates, leverage and numbers as traders type them."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xlcalc._inputs import InputError
from xlcalc.human import (
    default_language,
    parse_level,
    parse_leverage,
    parse_number,
    parse_rate,
    typed_decimals,
)


@pytest.mark.parametrize(
    "text, value",
    [
        ("100%", 1.0),
        ("50 %", 0.5),
        ("1.0", 1.0),
        ("0.5", 0.5),
        ("300％", 3.0),
        ("７５％", 0.75),
        (" 100 % ", 1.0),
        ("10", 10.0),
        ("0.75", 0.75),
        ("1,000%", 10.0),
    ],
)
def test_levels(text, value):
    assert parse_level(text, "--loss-cut") == pytest.approx(value)


@pytest.mark.parametrize("text", ["none", "None", "なし", "-"])
def test_no_such_level(text):
    assert math.isnan(parse_level(text))


@pytest.mark.parametrize(
    "text, lang, hint",
    [
        ("100", "en", "did you mean 100 %? Write 100% or 1"),
        ("50", "en", "did you mean 50 %? Write 50% or 0.5"),
        ("１００", "ja", "100 % のつもりなら"),
    ],
)
def test_bare_level_above_ten_is_refused_with_a_hint(text, lang, hint):
    with pytest.raises(InputError, match="--margin-call") as info:
        parse_level(text, "--margin-call", lang)
    assert hint in str(info.value)


@pytest.mark.parametrize("text", ["0", "0%", "-50%", "abc", "50%%", ""])
def test_bad_levels(text):
    with pytest.raises(InputError, match="--loss-cut"):
        parse_level(text, "--loss-cut")


@pytest.mark.parametrize(
    "text, value",
    [
        ("0.075%", 0.00075),
        ("0.04 %", 0.0004),
        ("0.004", 0.004),
        ("2%", 0.02),
        ("0", 0.0),
        ("0%", 0.0),
    ],
)
def test_rates(text, value):
    assert parse_rate(text) == pytest.approx(value, abs=0, rel=1e-12)


def test_bare_rate_above_one_is_refused():
    with pytest.raises(InputError, match=r"--risk: 2 would be 200 %; did you mean 2 %\?"):
        parse_rate("2", "--risk")


@pytest.mark.parametrize(
    "text, value",
    [
        ("20x", 20.0),
        ("20X", 20.0),
        ("x20", 20.0),
        ("2倍", 2.0),
        ("２倍", 2.0),
        ("25", 25.0),
        ("125 x", 125.0),
        ("20×", 20.0),
        ("1.5x", 1.5),
    ],
)
def test_leverage(text, value):
    assert parse_leverage(text) == value


@pytest.mark.parametrize("text", ["0x", "-2倍", "twenty", "x"])
def test_bad_leverage(text):
    with pytest.raises(InputError, match="--leverage"):
        parse_leverage(text)


@pytest.mark.parametrize(
    "text, value",
    [
        ("95,000", 95000.0),
        ("９５０００", 95000.0),
        ("９５，０００", 95000.0),
        ("¥1,000,000", 1e6),
        ("￥1,000,000", 1e6),
        ("$0.5", 0.5),
        ("-¥1,000", -1000.0),
        ("1,234,567.25", 1234567.25),
        ("10000 JPY", 10000.0),
        ("5,000 USDT", 5000.0),
        ("1e-5", 1e-05),
        ("100円", 100.0),
    ],
)
def test_numbers(text, value):
    assert parse_number(text) == value


@pytest.mark.parametrize("text", ["0,1", "1.000,50", "1,00", "12,3456", "1..2", "nan", "inf", "¥", ""])
def test_numbers_that_are_not_read_as_a_guess(text):
    with pytest.raises(InputError, match="--price"):
        parse_number(text, "--price")


def test_sign_rules_name_the_option_in_the_language():
    with pytest.raises(InputError, match=r"^--qty must be greater than 0, got '0'$"):
        parse_number("0", "--qty", positive=True)
    with pytest.raises(InputError, match=r"^--fees には0以上|^--feesには0以上"):
        parse_number("-1", "--fees", "ja", nonnegative=True)


@given(st.integers(min_value=0, max_value=10**12))
def test_grouped_and_full_width_integers_round_trip(n):
    grouped = f"{n:,}"
    full_width = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in str(n))
    assert parse_number(grouped) == parse_number(full_width) == float(n)


@given(st.decimals(min_value="0.0001", max_value="10", places=4))
def test_percent_and_fraction_agree(x):
    assert parse_level(f"{x * 100}%") == pytest.approx(float(x), rel=1e-12)
    assert parse_level(str(x)) == pytest.approx(float(x), rel=1e-12)


def test_typed_decimals():
    assert typed_decimals("110.000") == 3 and typed_decimals("1.08523") == 5 and typed_decimals("95,000") == 0
    assert typed_decimals("¥0.00001234") == 8


@pytest.mark.parametrize(
    "env, lang",
    [
        ({}, "en"),
        ({"LANG": "ja_JP.UTF-8"}, "ja"),
        ({"LC_MESSAGES": "ja_JP", "LANG": "en_US"}, "ja"),
        ({"LC_ALL": "en_US.UTF-8", "LANG": "ja_JP.UTF-8"}, "en"),
        ({"LC_ALL": "", "LANG": "ja"}, "ja"),
    ],
)
def test_language_from_the_locale(env, lang):
    assert default_language(None, env) == lang
    assert default_language("en", {"LANG": "ja_JP.UTF-8"}) == "en"


def test_unknown_language():
    with pytest.raises(InputError, match="lang must be one of ja, en"):
        default_language("fr")
