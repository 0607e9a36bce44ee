"""Numbers as people type them: ``100%``, ``50 %``, ``20x``, ``2倍``, ``95,000``, ``９５０００``,
``¥1,000``.

Every command-line option goes through here (SPEC §9), so a level typed as a trader says it
("追証ライン100%") is never read as 10,000 %. Errors are :class:`~xlcalc.errors.InputError`
whose message names the option and the value, in the command's language.

The language rule is here too (:func:`default_language`): the ``--lang`` given, else the
locale, else English.
"""

from __future__ import annotations

import math
import os
import re
import unicodedata

from .errors import InputError
from .labels import LANGUAGES, label

__all__ = [
    "NO_LEVEL_WORDS",
    "default_language",
    "parse_level",
    "leverage_number",
    "parse_leverage",
    "parse_number",
    "parse_percent",
    "parse_rate",
    "typed_decimals",
]

# Words for "this venue has no such level" (shown as "none" / なし).
NO_LEVEL_WORDS = {"none", "no", "nan", "-", "なし", "無し", "無"}
_MONEY_SIGNS = "¥$€£₩"
_MONEY_CODES = re.compile(r"\s*(jpy|usdt|usdc|usd|eur|円|ドル)\s*$", re.IGNORECASE)
_GROUPED = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")
_PLAIN = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
# Bare values above these are refused: a level of 10 = 1,000 % is already beyond any venue.
MAX_BARE_LEVEL = 10.0
MAX_BARE_RATE = 1.0


def default_language(lang=None, environ=None) -> str:
    """The language of a command: ``lang`` if given, else the locale, else English.

    The locale is the first set of ``LC_ALL``, ``LC_MESSAGES``, ``LANG`` (POSIX order);
    one starting with ``ja`` means Japanese.

    >>> default_language("ja")
    'ja'
    >>> default_language(None, {"LANG": "ja_JP.UTF-8"})
    'ja'
    >>> default_language(None, {"LC_ALL": "C", "LANG": "ja_JP.UTF-8"})
    'en'
    >>> default_language(None, {})
    'en'
    """
    if lang:
        if lang not in LANGUAGES:
            raise InputError(f"lang must be one of {', '.join(LANGUAGES)}, got {lang!r}")
        return lang
    env = os.environ if environ is None else environ
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name)
        if value:
            return "ja" if value.lower().startswith("ja") else "en"
    return "en"


def _fail(key, option, text, lang, **extra):
    raise InputError(label(key, lang).format(option=option, value=text, **extra))


def _clean(text) -> str:
    """Full-width to ASCII (NFKC), money signs and codes off, spaces trimmed."""
    s = unicodedata.normalize("NFKC", str(text)).strip()
    s = s.replace("−", "-").replace("－", "-")
    s = _MONEY_CODES.sub("", s)
    s = s.strip().lstrip(_MONEY_SIGNS).strip()
    if len(s) > 1 and s[0] in "+-" and s[1] in _MONEY_SIGNS:  # -¥1,000
        s = s[0] + s[2:].strip()
    return s


def _number(s: str, option, original, lang) -> float:
    if _GROUPED.match(s):
        s = s.replace(",", "")
    elif "," in s:
        # "0,1" or "1.000,50": a decimal comma, which the command line does not guess at
        _fail("human_comma", option, original, lang)
    if not _PLAIN.match(s):
        _fail("human_not_number", option, original, lang)
    return float(s)


def typed_decimals(text) -> int:
    """Decimals as typed, so ``110.000`` keeps 3 (a float would keep none).

    >>> typed_decimals("1.08523"), typed_decimals("95,000"), typed_decimals("１１０．０００")
    (5, 0, 3)
    """
    s = _clean(text).split("e")[0].split("E")[0]
    return len(s.split(".", 1)[1]) if "." in s else 0


def parse_number(text, option="value", lang="en", *, positive=False, nonnegative=False) -> float:
    """A number as typed: thousands commas, full-width digits, ¥/$ signs.

    >>> parse_number("95,000"), parse_number("９５０００"), parse_number("¥1,000,000")
    (95000.0, 95000.0, 1000000.0)
    >>> parse_number("$0.5")
    0.5
    >>> parse_number("0,5", "--qty")
    Traceback (most recent call last):
    ...
    xlcalc.errors.InputError: --qty: '0,5' has a comma that is not a thousands separator;
    use a point for decimals (0.5, not 0,5)
    """
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        value = float(text)
    else:
        value = _number(_clean(text), option, text, lang)
    if math.isnan(value) or math.isinf(value):
        _fail("human_not_number", option, text, lang)
    if positive and not value > 0:
        _fail("human_positive", option, text, lang)
    if nonnegative and value < 0:
        _fail("human_nonnegative", option, text, lang)
    return value


def _percent_or_bare(text, option, lang, max_bare, *, signed=False):
    """``50%`` read as 0.5, or a bare fraction; a bare value above ``max_bare`` (its size if
    ``signed``) is refused with a hint, never read as 100 times what was meant."""
    s = _clean(text)
    if s.endswith("%"):
        return _number(s[:-1].strip(), option, text, lang) / 100
    value = _number(s, option, text, lang)
    if (abs(value) if signed else value) > max_bare:
        hint = {"percent": f"{value:g} %", "read": f"{value * 100:,g} %", "fraction": f"{value / 100:g}"}
        _fail("human_bare_level", option, text, lang, **hint)
    return value


def _fraction(text, option, lang, max_bare, allow_none):
    if allow_none and _clean(text).lower() in NO_LEVEL_WORDS:
        return math.nan
    value = _percent_or_bare(text, option, lang, max_bare)
    if not value > 0:
        _fail("human_positive", option, text, lang)
    return value


def parse_level(text, option="level", lang="en", *, allow_none=True) -> float:
    """A maintenance-ratio level as a fraction: ``100%``, ``50 %``, ``1.0``, ``0.5``.

    A bare number above 10 (1,000 %) is refused with a hint, never read as 10,000 %;
    ``none`` / ``なし`` is NaN, a level the venue does not have.

    >>> parse_level("100%"), parse_level("50 %"), parse_level("０．７５"), parse_level("300％")
    (1.0, 0.5, 0.75, 3.0)
    >>> parse_level("なし")
    nan
    >>> parse_level("100", "--margin-call")
    Traceback (most recent call last):
    ...
    xlcalc.errors.InputError: --margin-call: 100 would be 10,000 %; did you mean 100 %? Write 100% or 1
    >>> parse_level("100", "--margin-call", "ja")
    Traceback (most recent call last):
    ...
    xlcalc.errors.InputError: --margin-call: 100 は 10,000 % と読まれます。100 % のつもりなら
    100% または 1 と入力してください
    """
    return _fraction(text, option, lang, MAX_BARE_LEVEL, allow_none)


def parse_rate(text, option="rate", lang="en", *, allow_zero=True) -> float:
    """A rate (fee, maintenance margin rate, risk) as a fraction: ``0.075%`` or ``0.00075``.

    A bare number above 1 (100 %) is refused with a hint (``--risk 2`` means 2 %?).

    >>> parse_rate("0.075%"), parse_rate("0.04 %"), parse_rate("0.004"), parse_rate("0")
    (0.00075, 0.0004, 0.004, 0.0)
    >>> parse_rate("2", "--risk")
    Traceback (most recent call last):
    ...
    xlcalc.errors.InputError: --risk: 2 would be 200 %; did you mean 2 %? Write 2% or 0.02
    """
    s = _clean(text)
    if allow_zero and s.rstrip("%").strip() in ("0", "0.0", ".0", "0."):
        return 0.0
    return _fraction(text, option, lang, MAX_BARE_RATE, allow_none=False)


def parse_percent(text, option="value", lang="en") -> float:
    """A signed fraction such as an ROE: ``50%``, ``-20 %``, ``0.5``; a bare value beyond ±10 is
    refused with a hint, as for levels.

    >>> parse_percent("50%"), parse_percent("-20 %"), parse_percent("1.5"), parse_percent("0")
    (0.5, -0.2, 1.5, 0.0)
    """
    return _percent_or_bare(text, option, lang, MAX_BARE_LEVEL, signed=True)


def leverage_number(text: str, *, leading_mark=True) -> str:
    """The number of a leverage as traders write it, marks off: ``20x``, ``20倍``, ``1:25`` (a
    ratio to one), and ``x20`` unless not ``leading_mark``; after NFKC. Other text as it is (the
    caller reads the number, with its own decimal rule). The one rule of the CLI and of the
    report's leverage column (which takes no ``x20``: in a file it is more often a code).

    >>> leverage_number("20x"), leverage_number("２５倍"), leverage_number("1:25"), leverage_number("2,5 x")
    ('20', '25', '25', '2,5')
    >>> leverage_number("x20"), leverage_number("x20", leading_mark=False)
    ('20', 'x20')
    """
    s = unicodedata.normalize("NFKC", str(text)).strip().lower()
    for mark in ("倍", "x", "×"):
        if s.endswith(mark):
            return s[: -len(mark)].strip()
        if leading_mark and s.startswith(mark):
            return s[len(mark) :].strip()
    ratio = _RATIO_TO_ONE.match(s)
    return ratio.group(1) if ratio else s


_RATIO_TO_ONE = re.compile(r"^1\s*:\s*(\S.*)$")  # 1:25 is 25x (25:1 is not written for a leverage)


def parse_leverage(text, option="--leverage", lang="en") -> float:
    """Leverage as traders write it: ``20x``, ``x20``, ``20倍``, ``1:25``, ``25``.

    >>> parse_leverage("20x"), parse_leverage("2倍"), parse_leverage("x125"), parse_leverage("２５")
    (20.0, 2.0, 125.0, 25.0)
    >>> parse_leverage("1:25")
    25.0
    """
    s = leverage_number(_clean(text))
    value = _number(s, option, text, lang)
    if not value > 0:
        _fail("human_positive", option, text, lang)
    return value
