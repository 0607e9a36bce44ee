"""The two label tables say the same things: every key in one language is in the other."""

import re

import pytest

from xlcalc.labels import LANGUAGES, TABLES, label


def test_every_language_has_the_same_keys():
    keys = {lang: set(TABLES[lang]) for lang in LANGUAGES}
    for lang in LANGUAGES:
        for other in LANGUAGES:
            missing = sorted(keys[other] - keys[lang])
            assert not missing, f"{lang} lacks {missing}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_label_is_a_nonempty_text(lang):
    for key, text in TABLES[lang].items():
        assert isinstance(text, str) and text.strip(), (lang, key)


def test_placeholders_agree_between_languages():
    # a message formatted with the English placeholders must format in every language
    field = re.compile(r"{(\w+)")
    for key, text in TABLES["en"].items():
        for lang in LANGUAGES:
            assert set(field.findall(TABLES[lang][key])) == set(field.findall(text)), (lang, key)


def test_label_knows_every_key_in_every_language():
    for lang in LANGUAGES:
        for key in TABLES["en"]:
            assert label(key, lang)


def test_no_key_is_written_twice_in_a_table():
    # a dict literal keeps the last of two equal keys silently: one label would vanish
    import ast
    from pathlib import Path

    import xlcalc.labels as labels

    tree = ast.parse(Path(labels.__file__).read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict):
            keys = [ast.unparse(k) for k in node.value.keys if k is not None]
            twice = sorted({k for k in keys if keys.count(k) > 1})
            assert not twice, f"{node.targets[0].id} writes {twice} twice"
