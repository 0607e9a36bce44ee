"""The argument-help table (xlcalc.arguments): both languages, every argument of the API."""

from __future__ import annotations

import inspect

import pytest

import xlcalc as xc
from xlcalc import arguments, udfs
from xlcalc.labels import LANGUAGES


def test_languages_have_the_same_keys():
    assert set(arguments.HELP) == set(LANGUAGES)
    keys = {lang: set(table) for lang, table in arguments.HELP.items()}
    assert keys["ja"] == keys["en"], keys["ja"] ^ keys["en"]
    for lang, table in arguments.HELP.items():
        for key, text in table.items():
            assert text.strip() == text and 5 < len(text) <= 200, (lang, key)


def test_function_wordings_name_a_real_function_and_argument():
    for key in arguments.EN:
        if "." in key:
            function, name = key.split(".")
            assert name in inspect.signature(getattr(xc, function)).parameters, key


def test_kinds():
    assert set(arguments.KIND.values()) <= set(arguments.KINDS)
    assert set(arguments.KIND) <= set(arguments.names())
    assert arguments.kind("deposit") == "number"


def _public_functions():
    """Every public function of the API (xlcalc and xlcalc.inverse), by name."""
    found = {}
    for module, prefix in ((xc, ""), (xc.inverse, "inverse.")):
        for name in getattr(module, "__all__", dir(module)):
            f = getattr(module, name)
            if inspect.isfunction(f) and not name.startswith("_"):
                found[prefix + name] = f
    return found


@pytest.mark.parametrize("name", sorted(_public_functions()))
def test_every_argument_of_the_api_has_help(name):
    f = _public_functions()[name]
    for p in inspect.signature(f).parameters.values():
        for lang in LANGUAGES:
            assert arguments.help_text(p.name, lang, function=f.__name__), (name, p.name, lang)


@pytest.mark.parametrize("name", udfs.__all__)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_excel_argument_has_help_within_excels_limit(name, lang):
    for p in inspect.signature(getattr(udfs, name)).parameters.values():
        # the longest form: with "Optional" and a default
        text = arguments.help_text(p.name, lang, default=0.0004)
        assert len(text) <= 255, (name, p.name, lang)


def test_optional_and_default_wording():
    assert arguments.help_text("basis", default="entry") == (
        "Optional. Margin basis: entry (建値) or mark (時価). Default entry."
    )
    assert arguments.help_text("tick_size", "ja", default=None).startswith("省略可。呼値")
    assert not arguments.help_text("tick_size", default=None).endswith("Default None.")
    assert arguments.help_text("level", "ja", function="margin_call_price").startswith("追証ライン")
    assert arguments.help_text("level", "ja", function="no_such_function") == arguments.JA["level"]
    with pytest.raises(KeyError, match="add it to xlcalc.arguments"):
        arguments.help_text("colour")
    with pytest.raises(KeyError):
        arguments.help_text("deposit", "fr")
