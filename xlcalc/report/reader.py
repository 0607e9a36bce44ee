"""Positions in: CSV (UTF-8, UTF-8 with BOM, Shift_JIS/cp932, UTF-16; comma, semicolon or tab
separated) or xlsx, headers in English, Japanese or as exchanges export them, numbers as
exchanges and spreadsheets write them.

Rows are read (:mod:`xlcalc.report.read`) and validated here in chunks (:func:`iter_chunks`),
floats and categoricals, which the report streams.
Nothing is dropped: a row the core would reject keeps its raw text, its line number and the
reason, for the Errors sheet. Only blank lines (every field empty) are skipped. Nothing is
guessed: a formula without a saved value, a number whose decimal separator is ambiguous, a
line opened by a stray quote is a rejected row with its reason, never a blank, a 0 or 10x.

>>> canonical_header("  Entry Price "), canonical_header("positionAmt")
('entry_price', 'quantity')
>>> canonical_header("建値"), canonical_header("ＬＥＶＥＲＡＧＥ")
('entry_price', 'leverage')
>>> clean_numbers(pd.Series(["1,234,567", "１２３", "¥5,000", "50%", "▲1,000", "", "abc"])).tolist()
[1234567.0, 123.0, 5000.0, 0.5, -1000.0, nan, nan]
>>> clean_numbers(pd.Series(["0,1", "1.000,50", "1,000"]), decimal=",").tolist()
[0.1, 1000.5, 1.0]
"""

from __future__ import annotations

import functools
import json
import math
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl.utils import get_column_letter

from .._inputs import RULES, InputError, Inputs, parse_side_word
from ..human import leverage_number
from ..labels import error_text, label
from .read import CELL_CHARS, CHUNK_ROWS, OVERFLOW, PROBLEMS, NumberCell, Source, number_cells, open_source

__all__ = [
    "ALIASES",
    "NUMBERS",
    "TEXT_FIELDS",
    "Header",
    "Chunk",
    "canonical_header",
    "header_keys",
    "is_header_row",
    "named_fields",
    "clean_numbers",
    "detect_decimal",
    "header_notes",
    "iter_chunks",
    "read_prices",
    "account_key",
    "symbol_key",
    "symbol_prices",
]

# Header spellings of each field, compared as _key makes them (NFKC, lower case, no spaces,
# _ - or .); exchange exports: Binance USDⓈ-M positionRisk / Positions tab, Bybit, OKX, Hyperliquid.
# Quantities that carry the side in their sign (a negative size is a short):
SIGNED_QUANTITY = "positionAmt, position amt, pos, szi, net quantity"
# Deposits of exchange exports: an isolated position's margin, not a cross account's:
ISOLATED_DEPOSIT = "margin, isolatedWallet, isolated wallet, position margin, positionMargin, positionBalance"
MARGIN_MODE = "marginType, margin type, marginMode, margin mode, mgnMode"
ALIASES = {
    "account": "account, account id, 口座, 口座番号, アカウント",
    "symbol": "symbol, pair, instrument, ticker, contract, 銘柄, 銘柄名, 通貨ペア, instId, coin",
    "side": "side, direction, buy/sell, 売買, 売買区分, ポジション, positionSide, posSide, holdSide",
    "entry_price": "entry_price, entry, entry price, avg entry price, open price, 建値, 平均建値, 建単価, "
    "約定価格, entryPrice, avgPrice, avg price, average price, avgPx, entryPx, avgEntryPrice",
    "quantity": "quantity, qty, size, amount, 数量, 建玉数量, 建玉数, " + SIGNED_QUANTITY,
    "leverage": "leverage, lev, レバレッジ, 倍率, lever",
    "price": "price, mark price, mark, current price, last price, 現在値, 時価, 現在価格, 評価レート, "
    "markPrice, markPx",
    "deposit": "deposit, collateral, wallet balance, 証拠金, 預託証拠金, 預り証拠金, " + ISOLATED_DEPOSIT,
    "fees": "fees, fee, costs, 手数料, 未払手数料",
    "tick_size": "tick_size, tick, tick size, tickSize, 呼値, 呼び値",
    "quote_rate": "quote_rate, quote rate, quoteRate, fx rate, 換算レート",
}
TEXT_FIELDS = ["account", "symbol"]
# Each number: the core's rule, and the value of an empty cell (None: none, the row is
# rejected; an empty price is the entry price, an empty tick 0: no rounding).
NUMBERS = {
    "entry_price": ("positive", None),
    "quantity": ("positive", None),
    "leverage": ("positive", None),
    "price": ("positive", "entry_price"),
    "deposit": ("nonnegative", None),
    "fees": ("nonnegative", 0.0),
    "tick_size": ("nonnegative", 0.0),
    "quote_rate": ("positive", 1.0),
}
NEUTRAL_SIDES = {"both", "net"}  # side words that leave the side to a signed quantity's sign
TINY = np.finfo(float).tiny  # below it a float is subnormal: products and quotients lose it


def _key(text) -> str:
    t = unicodedata.normalize("NFKC", str(text)).strip().lower()
    for ch in " _-.\u3000\t":
        t = t.replace(ch, "")
    return t


def _keys(spellings: str) -> set:
    return {_key(s) for s in spellings.split(", ")}


def header_keys(aliases: dict) -> dict:
    """Header key (as :func:`_key` makes it) -> field, from field -> "spelling, spelling"."""
    return {k: name for name, spellings in aliases.items() for k in _keys(spellings)}


_HEADER_KEYS = header_keys(ALIASES)


def canonical_header(text) -> str | None:
    """The canonical field a header names (EN or JA, any case/spacing/width), else None."""
    return _HEADER_KEYS.get(_key(text))


def named_fields(columns, keys: dict) -> dict:
    """Field -> the header of ``columns`` naming it (``keys``: :func:`header_keys`); two
    headers meaning one field are refused, naming both: the reader never picks one."""
    fields = {}
    for col in columns:
        name = keys.get(_key(col))
        if name in fields:
            raise InputError(
                f"input headers {fields[name]!r} and {col!r} both mean {name}: keep one, or rename the other"
            )
        if name is not None:
            fields[name] = col
    return fields


def is_header_row(cells) -> bool:
    """True when ``cells`` (a row's values) name the fields a report needs: a positions file's
    side (or a signed quantity), entry price and quantity, or a loans file's loan and
    collateral quantity. Rows above it (a title, a date) are not the header.

    >>> is_header_row(["建玉一覧 2024/05/01"]), is_header_row(["銘柄", "売買", "建値", "数量"])
    (False, True)
    >>> is_header_row(["symbol", "positionAmt", "entryPrice"]), is_header_row(["loan", "担保数量"])
    (True, True)
    """
    from .loans import LOAN_ALIASES  # loans builds on this module

    keys = {_key(c) for c in cells if c is not None and str(c).strip()}
    named = {_HEADER_KEYS[k] for k in keys if k in _HEADER_KEYS}
    signed = bool(keys & _keys(SIGNED_QUANTITY))
    if {"entry_price", "quantity"} <= named and ("side" in named or signed):
        return True
    loan_keys = _loan_keys(tuple(LOAN_ALIASES.items()))
    return {"loan", "collateral_quantity"} <= {loan_keys[k] for k in keys if k in loan_keys}


@functools.cache
def _loan_keys(aliases):
    return header_keys(dict(aliases))


# -- numbers --------------------------------------------------------------------------------------

# Any number may be written as a percentage ("50%" is 0.5, SPEC §6: exports write rates so).
# Fields that count units: a currency on them ("0.5 USD" as a quantity) is refused.
UNIT_FIELDS = {"quantity", "collateral_quantity", "leverage"}
# "\\" is how Python decodes the yen sign of a Shift_JIS file.
_CURRENCY_RE = r"[¥$円€£\\]|JPY|USDT|USD"
# Digits that NFKC would make 0-9 though nobody types them as such ("5²" is not 52, "①" not
# 1), and digits of other scripts ("٥"): refused, not guessed. Full-width ０-９ are digits.
_ODD_DIGITS = re.compile(
    r"(?![0-9\uff10-\uff19])[\d\u00b2\u00b3\u00b9\u00bc-\u00be\u2070-\u209f\u2150-\u218f"
    r"\u2460-\u24ff\u2776-\u2793\u3251-\u325f\u32b1-\u32bf]"
)
_MINUS_RE = r"[\u2212\u2012\u2013\ufe63▲]"  # minus signs other than "-" ("▲": Japanese reports)
# Spaces and apostrophes group thousands by three, and only between digits ("1 234 567,5",
# Swiss "1'234.50"); elsewhere (around the sign, the currency, the percent) a space is dropped.
_GROUPED_RE = r"^[+-]?\d{1,3}(?:[ '’]\d{3})+(?:[.,]\d*)?$"
# A value read with a decimal point: commas group thousands by three.
_POINT_RE = r"^[+-]?(?:\d+|\d{1,3}(?:,\d{3})+)(?:\.\d*)?(?:e[+-]?\d+)?$|^[+-]?\.\d+$"
# A value read with a decimal comma: points group thousands by three.
_COMMA_RE = r"^[+-]?(?:\d+|\d{1,3}(?:\.\d{3})+)(?:,\d*)?$|^[+-]?,\d+$"
_AMBIGUOUS_POINT = re.compile(r"^[+-]?\d{1,3}\.\d{3}$")  # "1.000": 1 or 1,000?


def _readings(t: pd.Series):
    """(value with a decimal point, value with a decimal comma: NaN where that reading is
    invalid, percent mask, currency mask) of number text."""
    odd = t.str.contains(_ODD_DIGITS).to_numpy(dtype=bool)
    t = t.str.normalize("NFKC").str.strip().str.lstrip("'")  # "'100": Excel's text prefix
    currency = t.str.contains(_CURRENCY_RE, case=False).to_numpy(dtype=bool)
    t = t.str.replace(_CURRENCY_RE, "", regex=True, case=False)
    t = t.str.replace(_MINUS_RE, "-", regex=True).str.replace(r"\s+", " ", regex=True).str.strip()
    t = t.str.replace(r"(?<![\d]) | (?![\d])", "", regex=True)  # spaces not between two digits
    paren = t.str.startswith("(") & t.str.endswith(")")
    t = t.where(~paren, "-" + t.str.slice(1, -1))
    pct = t.str.endswith("%")
    t = t.where(~pct, t.str.slice(0, -1))
    grouped = t.str.contains(r"\d[ '’]\d", regex=True)
    bad_groups = grouped & ~t.str.match(_GROUPED_RE)
    t = t.where(~grouped, t.str.replace(r"[ '’]", "", regex=True))
    valid = ~(odd | bad_groups.to_numpy(dtype=bool))
    point_ok = valid & t.str.lower().str.match(_POINT_RE).to_numpy(dtype=bool)
    comma_ok = valid & t.str.match(_COMMA_RE).to_numpy(dtype=bool)
    point = pd.to_numeric(t.str.replace(",", "", regex=False), errors="coerce").to_numpy(
        dtype=float, na_value=np.nan
    )
    comma = pd.to_numeric(
        t.str.replace(".", "", regex=False).str.replace(",", ".", regex=False), errors="coerce"
    ).to_numpy(dtype=float, na_value=np.nan)
    return np.where(point_ok, point, np.nan), np.where(comma_ok, comma, np.nan), pct.to_numpy(), currency


def clean_numbers(raw: pd.Series, decimal: str | None = ".", *, percent=True, currency=True) -> np.ndarray:
    """Floats from exported number text; NaN where empty, not a number, or ambiguous.

    Thousands separators (commas or points by the decimal mark; spaces and apostrophes by
    three: "1 234 567,5", "1'234.50"), full-width digits, currency signs (¥ $ 円 €), "▲" or
    "−" for minus, "(1,000)" for a negative and "50%" (0.5) are understood; "5²", "٥", "1 2"
    and "1_000" are not numbers. ``decimal`` is the file's decimal separator: "." (commas
    group thousands: "95,000" is 95000), "," (points group thousands: "1.000,50" is 1000.5,
    "0,1" is 0.1) or None (unknown: a value that reads differently either way, "1,000" or
    "1.500", is NaN). A comma never groups fewer than three digits, so "0,1" is never 1.
    ``percent``/``currency`` False: a value with a percent sign / a currency is NaN (a
    quantity of "50%" or "0.5 USD"). A :class:`~.read.NumberCell` (a number cell) is its
    number under any.
    """
    if raw.dtype.kind in "iufb":
        return raw.to_numpy(dtype=float)
    text = raw.astype(object).where(raw.notna(), "").astype(str)
    values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float, na_value=np.nan).copy()
    need = np.isnan(values) & (text != "").to_numpy()
    if decimal != ".":  # a plain "1.500" or "1.5" is not read by pandas' rule here, unless a number cell
        need |= text.str.contains(".", regex=False).to_numpy() & ~number_cells(raw.to_numpy(dtype=object))
    if need.any():
        point, comma, pct, has_currency = _readings(text[need])
        if decimal is None:  # only the readings that agree
            same = (point == comma) | np.isnan(comma)
            parsed = np.where(np.isnan(point), comma, np.where(same, point, np.nan))
        else:
            parsed = point if decimal == "." else comma
        parsed = np.where(pct, parsed / 100.0, parsed)
        refused = (pct & (not percent)) | (has_currency & (not currency))
        values[need] = np.where(refused, np.nan, parsed)
    values[~np.isfinite(values)] = np.nan
    return values


def detect_decimal(columns, default: str | None = ".") -> str | None:
    """The decimal separator of a file from its number columns (Series of text).

    Values that read one way only are the evidence: "0,1" and "1.000,50" say ","; "0.1" and
    "1,000.50" say ".". Both kinds: None (ambiguous values are rejected); neither:
    ``default``. Number cells (:class:`~.read.NumberCell`) say nothing.

    >>> detect_decimal([pd.Series(["1,5", "2"])]), detect_decimal([pd.Series(["1.5", "95,000"])])
    (',', '.')
    >>> print(detect_decimal([pd.Series(["0,5", "0.5"])]))
    None
    """
    point_seen = comma_seen = False
    for col in columns:
        if col.dtype.kind in "iufb":
            continue
        for part in (col.iloc[:500], col):
            part = _as_text(part).to_numpy(dtype=object)
            uniques = pd.Series(pd.unique(part[~number_cells(part)]), dtype=object)
            plain = pd.to_numeric(uniques, errors="coerce").notna().to_numpy()
            dotted = uniques.str.contains(".", regex=False).to_numpy()
            if (plain & dotted).any():  # "0.1" by pandas' own rule: a point, unless "1.000"
                point_seen |= not uniques[plain & dotted].str.match(_AMBIGUOUS_POINT).all()
            uniques = uniques[~plain]
            uniques = uniques[uniques.str.contains(r"[.,，．]", regex=True)]
            if len(uniques):
                point, comma, _, _ = _readings(uniques)
                point_seen |= bool((~np.isnan(point) & np.isnan(comma)).any())
                comma_seen |= bool((np.isnan(point) & ~np.isnan(comma)).any())
            if point_seen != comma_seen:
                break
    if point_seen != comma_seen:
        return "." if point_seen else ","
    return None if point_seen else default


def _number_problem(name, shown, decimal, lang, again=False):
    """Why the text ``shown`` is not a number of field ``name`` under ``decimal``, in the
    user's words (the two readings of an ambiguous value, a digit or a sign the reader does
    not take, a percent or a currency where the field has none); None when it says nothing.
    ``again``: the row's reason already says how to settle an ambiguous value (a shorter one)."""
    text = str(shown)
    if not text.strip():
        return None
    point, comma, pct, currency = _readings(pd.Series([text], dtype=object))
    p, c = float(point[0]), float(comma[0])
    args = dict(name=label(name, lang), value=text)
    odd = _ODD_DIGITS.findall(text)
    if odd:
        return label("report_number_digits", lang).format(**args, chars=" ".join(dict.fromkeys(odd)))
    if name in UNIT_FIELDS and (currency[0] or re.search(r"\d\s*[^\d\s.,%)+-]+\s*$", text)):
        return label("report_number_unit", lang).format(**args)
    if not math.isnan(p) and not math.isnan(c) and p != c:
        key = "report_decimal_ambiguous_also" if again else "report_decimal_ambiguous"
        return label(key, lang).format(**args, point=_plain(p), comma=_plain(c))
    other = p if decimal == "," else c
    if decimal is not None and not math.isnan(other):
        return label("report_decimal_other", lang).format(**args, decimal=decimal)
    if not math.isnan(p) or not math.isnan(c):
        return None
    if re.search(r"\d[\s'’]+\d", unicodedata.normalize("NFKC", text)):
        return label("report_number_spaces", lang).format(**args)
    return None


def _plain(x: float) -> str:
    """``x`` without thousands separators, so that it reads one way (1500, 1.5)."""
    return f"{x:.10g}"


@dataclass
class Header:
    """What the header and the first chunk say about the input."""

    raw_columns: list  # the input's own headers, in order
    fields: dict  # canonical field -> original header
    default_leverage: float | None = None  # for an input without a leverage column
    decimal: str | None = "."  # the decimal separator numbers were read with
    signed_quantity: bool = False  # the quantity's sign is the side (positionAmt)
    margin_mode: str | None = None  # header of an exchange's margin-mode column
    sheet: str | None = None  # the sheet read (xlsx)
    delimiter: str | None = None  # the separator (CSV)
    # (field, text, point reading, comma reading) of a value the file's separator leaves open
    undecided: tuple | None = None
    skipped: list = field(default_factory=list)  # (line, text) of the rows above the header


@dataclass
class Chunk:
    """Validated rows, one entry per non-blank input row in input order."""

    header: Header
    line: np.ndarray = None  # line number (CSV, header = 1), sheet row (xlsx), DataFrame row + 2
    side: np.ndarray = None  # +1/-1, NaN when not a side
    bad: np.ndarray = None  # True: the row is rejected
    numbers: dict = field(default_factory=dict)  # field -> float array (NaN: empty/bad)
    texts: dict = field(default_factory=dict)  # field -> pd.Categorical of raw text
    extra: dict = field(default_factory=dict)  # unknown header -> pd.Categorical
    reasons: dict = field(default_factory=dict)  # row position -> reason
    raw_bad: dict = field(default_factory=dict)  # row position -> raw values (list of str)
    at_entry: np.ndarray = None  # True: valued at its entry price (no price column, cell or file price)
    not_in_prices: np.ndarray = None  # True: prices were given, none for its symbol

    @property
    def n_rows(self) -> int:
        return len(self.line)


def _as_text(col: pd.Series) -> pd.Series:
    if isinstance(col.dtype, pd.StringDtype) and not col.hasnans:  # as pandas read a CSV
        return col
    if col.dtype.kind == "f":  # a DataFrame's floats: number cells
        return pd.Series([NumberCell(repr(v)) if v == v else "" for v in col.tolist()], col.index, object)
    text = col.astype(object).where(col.notna(), "")
    # text already (an xlsx chunk): kept as it is, with its number cells (astype(str) may copy them)
    return text if pd.api.types.infer_dtype(text, skipna=False) == "string" else text.astype(str)


def _iter_frame(df: pd.DataFrame):
    for start in range(0, max(len(df), 1), CHUNK_ROWS):
        chunk = df.iloc[start : start + CHUNK_ROWS]
        yield chunk, np.arange(start, start + len(chunk), dtype=np.int64) + 2


def iter_chunks(
    source,
    *,
    prices: dict | None = None,
    default_leverage: float | None = None,
    lang: str = "en",
    decimal: str | None = None,
    sheet=None,
):
    """Validated :class:`Chunk` after chunk, in input order.

    Parameters
    ----------
    source : str, Path or DataFrame
        CSV (UTF-8, UTF-8 with BOM, cp932, UTF-16; comma, semicolon or tab separated) or
        xlsx/xlsm. .xls and .ods are refused with a hint to save as xlsx or CSV.
    prices : dict, optional
        Symbol -> price: replaces the price of matching symbols (an empty price is the entry
        price).
    default_leverage : float, optional
        The leverage of an input without a leverage column.
    lang : {"en", "ja"}
        Language of the rejected rows' reasons.
    decimal : {None, ".", ","}
        Decimal separator of the numbers written as text. None: detected from the file
        (without evidence, in any input: unknown, so that ambiguous values such as "1.000"
        are rejected, not guessed).
    sheet : str or int, optional
        The xlsx sheet (name, or 0-based position); default the active sheet when visible,
        else the first visible one, never a hidden one.
    """
    header = functools.partial(_header, default_leverage=default_leverage)
    for head, text, lines in text_chunks(source, header, decimal=decimal, sheet=sheet):
        out = _validate_chunk(head, text, lines, prices, lang)
        del text  # not held while the next chunk is read
        yield out


def text_chunks(source, make_header, *, decimal=None, sheet=None):
    """``(header, text columns, line numbers)`` of each chunk's non-blank rows, in input
    order; the header is ``make_header(first chunk, decimal, source)`` (a :class:`Header`).
    Every reader of the report (positions, loans) starts here."""
    if decimal not in (None, ".", ","):
        raise InputError(
            f"decimal must be '.' or ',' (or None to detect it), got {decimal!r}",
            argument="decimal",
            value=decimal,
        )
    if isinstance(source, pd.DataFrame):
        columns = [str(c) for c in source.columns]
        if len(set(columns)) != len(columns):  # the file readers refuse them in read.clean_header
            dup = next(c for c in columns if columns.count(c) > 1)
            raise InputError(f"input has two columns named {dup!r}: keep one, or rename the other")
        src = Source(kind="frame", chunks=_iter_frame(source))
    else:
        path = Path(source)
        if not path.is_file():
            raise InputError(f"input file not found: {str(path)!r}")
        src = open_source(path, sheet=sheet, is_header=is_header_row)
    header = None
    for chunk, lines in src.chunks:
        if header is None:
            header = make_header(chunk, decimal, src)
        text = {c: _as_text(chunk.iloc[:, i]) for i, c in enumerate(chunk.columns)}
        del chunk  # not held while the next chunk is read
        if src.kind == "frame":  # the file readers bound their cells; a DataFrame's are marked here
            _long_cells(text)
        keep = ~np.logical_and.reduce([col.to_numpy() == "" for col in text.values()])  # not blank
        if not keep.all():
            text = {name: col[keep] for name, col in text.items()}
        yield header, text, np.asarray(lines)[keep]
        del text


def _long_cells(text):
    """Mark text longer than an Excel cell (PROBLEMS), as the file readers do."""
    found = {}
    for j, (name, col) in enumerate(text.items()):
        lengths = col.str.len().to_numpy()
        for i in np.flatnonzero(lengths > CELL_CHARS):
            found.setdefault(i, []).append(
                [name, f"column {get_column_letter(j + 1)}", "too_long", int(lengths[i])]
            )
    if found:
        n = len(next(iter(text.values())))
        text[PROBLEMS] = pd.Series(
            [json.dumps(found[i]) if i in found else "" for i in range(n)], dtype=object
        )


def make_header(chunk, fields, rules, decimal, src, **more) -> Header:
    """The :class:`Header` of ``fields`` (canonical field -> header); numbers are read with
    ``decimal``, else the separator the first chunk's number columns (``fields`` that
    ``rules`` names) show; without evidence, whatever the source (a CSV of any separator,
    the text cells of an xlsx, a DataFrame's text), unknown (None): a value that reads
    differently either way ("18.000", "1,500") is rejected, one that reads one way is read.
    Its first such value is kept for :func:`header_notes`."""
    undecided = None
    columns = [str(c) for c in chunk.columns if c not in (OVERFLOW, PROBLEMS)]
    if decimal is None:
        numeric = {name: chunk[h] for name, h in fields.items() if name in rules}
        decimal = detect_decimal(numeric.values(), None)
        if decimal is None and src.delimiter != ";" and _written_in_japanese(chunk, fields, rules):
            decimal = "."  # Japan writes a decimal point: 149.094 (USD/JPY) is never 149,094 there
        if decimal is None:
            undecided = _first_ambiguous(numeric)
    skipped = list(getattr(src, "skipped", []))
    return Header(
        columns,
        fields,
        decimal=decimal,
        sheet=src.sheet,
        delimiter=src.delimiter,
        undecided=undecided,
        skipped=skipped,
        **more,
    )


# Kana, kanji, half-width kana and the yen sign: text written where the decimal mark is a point.
_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff66-\uff9f¥￥]")


def _written_in_japanese(chunk, fields: dict, rules: dict, rows=200) -> bool:
    """True when the file's own words are Japanese: a header naming a field (建値, 銘柄), a side
    word (買, 売建) or a yen sign in a number (5,000円, ¥5,000), in its first ``rows`` rows:
    evidence of the decimal point, which no European decimal-comma file carries. Symbols and
    other text (a memo, 日経225 in a German CFD file) say nothing of the numbers' locale.

    >>> _written_in_japanese(pd.DataFrame({"建値": ["149.094"]}), {"entry_price": "建値"}, {"entry_price": 0})
    True
    >>> de = pd.DataFrame({"entry": ["18.000"], "side": ["long"], "memo": ["メモ"], "symbol": ["日経225"]})
    >>> fields = {"entry_price": "entry", "side": "side", "symbol": "symbol"}
    >>> _written_in_japanese(de, fields, {"entry_price": 0})
    False
    """
    if any(_JAPANESE.search(str(header)) for header in fields.values()):
        return True
    words = [h for name, h in fields.items() if name == "side" or name in rules]
    for header in words:
        cells = chunk[header].iloc[:rows]
        if cells.dtype.kind not in "iufb" and cells.astype(str).str.contains(_JAPANESE).any():
            return True
    return False


def _first_ambiguous(columns: dict):
    """(field, text, reading with a point, reading with a comma) of the first value of
    ``columns`` (field -> text Series) that reads differently either way; else None."""
    for name, col in columns.items():
        if col.dtype.kind in "iufb":
            continue
        part = _as_text(col).to_numpy(dtype=object)
        uniques = pd.Series(pd.unique(part[~number_cells(part)]), dtype=object)
        uniques = uniques[uniques.str.contains(r"[.,，．]", regex=True)]
        if len(uniques):
            point, comma, _, _ = _readings(uniques)
            both = np.flatnonzero(~np.isnan(point) & ~np.isnan(comma) & (point != comma))
            if len(both):
                i = both[0]
                return name, str(uniques.iloc[i]).strip(), _plain(point[i]), _plain(comma[i])
    return None


def header_notes(header: Header, lang: str) -> list:
    """What the report says of the file besides its rows (Summary and the command line): the
    rows above the header it skipped, a decimal separator the file does not settle."""
    notes = []
    if header.skipped:
        first, last = header.skipped[0][0], header.skipped[-1][0]
        lines = str(first) if first == last else f"{first}-{last}"
        text = " | ".join(text for _, text in header.skipped)
        text = text if len(text) <= 80 else text[:80] + "…"
        notes.append(label("report_note_skipped", lang).format(n=len(header.skipped), lines=lines, text=text))
    if header.undecided is not None:
        name, value, point, comma = header.undecided
        notes.append(
            label("report_note_decimal", lang).format(
                name=label(name, lang), value=value, point=point, comma=comma
            )
        )
    return notes


def _header(chunk, decimal, src, default_leverage=None) -> Header:
    """The fields the first chunk's columns name, and the decimal separator of its numbers."""
    columns = [c for c in chunk.columns if c not in (OVERFLOW, PROBLEMS)]
    fields = named_fields(columns, _HEADER_KEYS)
    signed = "quantity" in fields and _key(fields["quantity"]) in _keys(SIGNED_QUANTITY)
    missing = [
        f for f in ("side", "entry_price", "quantity") if f not in fields and not (f == "side" and signed)
    ]
    if "leverage" not in fields and default_leverage is None:
        missing.append("leverage")
    if missing:
        raise InputError(
            f"input has no {', '.join(missing)} column; headers found: {', '.join(map(str, columns))}"
        )
    mode = None
    if "deposit" in fields and _key(fields["deposit"]) in _keys(ISOLATED_DEPOSIT):
        mode = next((c for c in columns if _key(c) in _keys(MARGIN_MODE)), None)
    more = dict(default_leverage=default_leverage, signed_quantity=signed, margin_mode=mode)
    return make_header(chunk, fields, NUMBERS, decimal, src, **more)


def _fit_cell(text, lang="en") -> str:
    """``text`` cut to fit an Excel cell, with a marker saying how long it was."""
    text = str(text)
    if len(text) <= CELL_CHARS:
        return text
    marker = label("report_truncated", lang).format(n=len(text))
    return text[: CELL_CHARS - len(marker)] + marker


# -- one chunk's rows -----------------------------------------------------------------------------


def read_numbers(cells: dict, rules: dict, decimal) -> tuple[dict, dict]:
    """The numbers of the ``cells`` (field -> text Series) that ``rules`` (field -> (the
    core's rule, value of an empty cell)) names, and the empty cells of the fields that have
    such a value. That value is a number, or the name of an earlier field (its number); None:
    NaN, the row is rejected."""
    values, empty = {}, {}
    for name, (_, blank) in rules.items():
        if name in cells:
            values[name] = clean_numbers(cells[name], decimal, currency=name not in UNIT_FIELDS)
            if blank is not None:
                empty[name] = cells[name].str.strip().to_numpy() == ""
                values[name] = np.where(
                    empty[name], values[blank] if isinstance(blank, str) else blank, values[name]
                )
    return values, empty


def broken_rows(values: dict, rules: dict, empty: dict) -> np.ndarray:
    """Rows where a number breaks its rule (:data:`xlcalc._inputs.RULES`) or is subnormal
    (the core cannot divide by it); a field's value for an empty or missing cell never does."""
    bad = np.zeros(len(next(iter(values.values()))), dtype=bool)
    for name, x in values.items():
        rule, blank = rules[name]
        lower, upper, _ = RULES[rule]
        with np.errstate(invalid="ignore"):
            broken = ~(lower(x) & upper(x)) | ((x != 0) & (np.abs(x) < TINY))
        if blank is not None:
            broken &= ~empty[name] if name in empty else False
        bad |= broken
    return bad


def reject(out: Chunk, text, problems_of, lang):
    """Rejects (``out.bad``) the rows the reader noted too: a cell's problem (but a formula in a
    column the report does not read stays its text), fields beyond the header. Each rejected
    row's reason: the reader's notes, then ``problems_of(row, raw)`` (``raw``: field -> its
    text) when its fields could be read; its raw cells, with the fields beyond the header."""
    overflow = text[OVERFLOW].to_numpy() if OVERFLOW in text else np.full(len(out.line), "")
    row_problems = {}
    for i in np.flatnonzero(text[PROBLEMS].to_numpy() != "") if PROBLEMS in text else ():
        found = [
            p
            for p in json.loads(text[PROBLEMS].iloc[i])
            if p[2] != "formula" or p[0] in out.header.fields.values()
        ]
        if found:
            row_problems[i] = found
    bad = out.bad
    bad |= overflow != ""
    bad[list(row_problems)] = True
    headers = [h for h in text if h not in (OVERFLOW, PROBLEMS)]
    cells = {h: text[h].to_numpy() for h in headers} if bad.any() else {}
    for i in np.flatnonzero(bad):
        found = [_reader_problem(p, out.line[i], lang) for p in row_problems.get(i, [])]
        if not any(p[2] in ("stray_quote", "unreadable") for p in row_problems.get(i, [])):
            found += problems_of(i, {name: cells[h][i] for name, h in out.header.fields.items()})
        raw_values = [cells[h][i] for h in headers]
        if overflow[i]:
            extra_fields = json.loads(overflow[i])
            fields = len(headers) + len(extra_fields)
            found.insert(0, label("report_row_too_long", lang).format(fields=fields, header=len(headers)))
            raw_values += extra_fields
        out.reasons[i] = _fit_cell("; ".join(found) or label("report_rejected", lang), lang)
        out.raw_bad[i] = [_fit_cell(v, lang) for v in raw_values]


def _validate_chunk(head: Header, text, lines, prices, lang="en") -> Chunk:
    f, n = head.fields, len(lines)
    col = {name: text[header] for name, header in f.items()}
    if "leverage" in col:  # "2x", "25倍", "1:25" as the CLI reads them (human.leverage_number)
        col["leverage"] = _map_text(col["leverage"], functools.partial(leverage_number, leading_mark=False))
    out = Chunk(header=head, line=lines)
    values, empty = read_numbers(col, NUMBERS, head.decimal)
    if "leverage" not in values:
        values["leverage"] = np.full(n, float(head.default_leverage))
    values.setdefault("fees", np.zeros(n))

    # side: map each distinct word once; a signed quantity (positionAmt) carries it itself
    side, neutral = np.full(n, np.nan), np.ones(n, dtype=bool)
    if "side" in col:
        codes, words = pd.factorize(col["side"].to_numpy(), use_na_sentinel=False)
        side = np.array([parse_side_word(str(w).strip()) for w in words], dtype=float)[codes]
        neutral = np.array([_key(w) in NEUTRAL_SIDES for w in words], dtype=bool)[codes]
    side_conflict = np.zeros(n, dtype=bool)
    if head.signed_quantity:
        # an explicit side decides a positive quantity (OKX long/short mode: pos 2, posSide
        # short); a negative one with a long side is a conflict (a short says so: Binance's
        # hedge mode writes SHORT with a negative positionAmt)
        sign = np.sign(values["quantity"])
        side = np.where(neutral & (sign != 0), sign, side)
        side_conflict = ~neutral & (sign < 0) & (side == 1.0)
        values["quantity"] = np.abs(values["quantity"])
    out.side = side

    # price: the prices file first, then the row's own price, then (empty) the entry price
    price = values.setdefault("price", values["entry_price"])
    at_entry = empty["price"].copy() if "price" in empty else np.ones(n, dtype=bool)
    price_bad = np.isnan(price) & ~empty["price"] if "price" in empty else np.zeros(n, dtype=bool)
    out.not_in_prices = np.zeros(n, dtype=bool)
    if prices:
        mapped = np.full(n, np.nan)
        if "symbol" in col:
            keyed = symbol_prices(prices, lang)
            codes, symbols = pd.factorize(col["symbol"].to_numpy(), use_na_sentinel=False)
            mapped = np.array([keyed.get(symbol_key(s), np.nan) for s in symbols], dtype=float)[codes]
        values["price"] = np.where(np.isnan(mapped), price, mapped)
        price_bad &= np.isnan(mapped)
        at_entry &= np.isnan(mapped)
        out.not_in_prices = np.isnan(mapped)
    out.at_entry = at_entry

    # an account column's blank cell in cross margin: a deposit of its own would be invented
    no_account = np.zeros(n, dtype=bool)
    if "account" in col and "deposit" not in f:
        no_account = (_map_text(col["account"], account_key) == "").to_numpy()

    bad = np.isnan(side) | side_conflict | price_bad | no_account | broken_rows(values, NUMBERS, empty)
    cross = np.zeros(n, dtype=bool)
    if head.margin_mode is not None:
        cross = text[head.margin_mode].str.strip().str.lower().isin(["cross", "crossed"]).to_numpy()
        bad |= cross

    out.numbers, out.bad = values, bad
    if "account" in col:  # one spelling of each account on every sheet: "１２３４ " is 1234
        col["account"] = _map_text(col["account"], account_key)
    out.texts = {name: pd.Categorical(col[name].to_numpy()) for name in TEXT_FIELDS if name in col}
    known = set(f.values()) | {OVERFLOW, PROBLEMS}
    out.extra = {h: pd.Categorical(series.to_numpy()) for h, series in text.items() if h not in known}

    def problems_of(i, raw):  # in the core's own words, so that they match the API's errors
        found = []
        if no_account[i]:
            found.append(label("report_blank_account", lang).format(header=f["account"]))
        if side_conflict[i]:
            found.append(
                label("report_side_conflict", lang).format(
                    quantity=raw["quantity"].strip(), header=f["quantity"], side=raw["side"].strip()
                )
            )
        elif ("side" in raw or not head.signed_quantity) and np.isnan(side[i]):
            found += _side_problem(raw, head, lang)
        if cross[i]:
            found.append(label("report_cross_row", lang).format(header=f["deposit"]))
        return found + number_problems(raw, {k: v[i] for k, v in values.items()}, NUMBERS, head.decimal, lang)

    reject(out, text, problems_of, lang)
    return out


def _map_text(column: pd.Series, rule) -> pd.Series:
    """``rule`` applied to each distinct text of ``column`` once; a text it leaves as it is
    stays that object (a :class:`~.read.NumberCell` stays a number cell)."""
    codes, uniques = pd.factorize(column.to_numpy(), use_na_sentinel=False)
    mapped = np.empty(len(uniques), dtype=object)
    for i, u in enumerate(uniques):
        mapped[i] = rule(u) if isinstance(u, str) else u
        if mapped[i] == u:
            mapped[i] = u
    return pd.Series(mapped[codes], index=column.index, dtype=object)


def _side_problem(raw, head, lang):
    try:
        Inputs().side("side", raw.get("side", "").strip())
    except InputError as exc:
        text = error_text(exc, lang)
        if head.signed_quantity and raw.get("quantity", "").strip() in ("", "0"):
            text += label("report_side_from_sign", lang)
        return [text]
    return []


def _reader_problem(p, line, lang) -> str:
    header, ref, kind, detail = p
    if kind == "formula":
        return label("report_formula", lang).format(cell=ref, header=header, formula=detail)
    if kind == "too_long":
        where = f"{ref} ({header})" if header else (ref or label("report_line", lang))
        return label("report_too_long", lang).format(where=where, n=int(detail), limit=CELL_CHARS)
    if kind == "stray_quote":
        return label("report_stray_quote", lang).format(line=int(line), n=int(detail))
    if kind == "too_many_fields":
        return label("report_too_many_fields", lang).format(n=int(detail))
    return label("report_unreadable", lang).format(line=int(line), detail=detail)


def number_problems(raw: dict, parsed: dict, rules: dict, decimal, lang: str) -> list:
    """What is wrong with a rejected row's numbers (``raw``: field -> its text, ``parsed``:
    field -> its number), in the core's own words (in ``lang``); an empty cell with a value
    in ``rules`` is fine."""
    problems, ambiguous = [], False
    for name, (rule, blank) in rules.items():
        value = parsed.get(name)
        if value is None:
            continue
        shown = raw.get(name, "")
        if blank is not None and not str(shown).strip():
            continue  # its value (an empty price: the entry price, whose problem is reported there)
        try:
            if math.isnan(value):
                text = shown.strip() if isinstance(shown, str) else shown
                why = _number_problem(name, text, decimal, lang, ambiguous) if isinstance(text, str) else None
                if why:
                    ambiguous |= why != _number_problem(name, text, decimal, lang, True)
                    problems.append(why)
                    continue
                Inputs().number(name, text)
                if isinstance(text, str):  # Python's float reads it ("1_000"), the reader does not
                    problems.append(
                        label("report_not_a_number", lang).format(name=label(name, lang), value=text)
                    )
                    continue
            if value != 0 and abs(value) < TINY:
                problems.append(label("report_subnormal", lang).format(name=label(name, lang), value=value))
                continue
            Inputs().number(name, value, rule=rule)
        except InputError as exc:
            problems.append(error_text(exc, lang))
    return problems


def account_key(text) -> str:
    """The account a cell names: NFKC (full-width digits are ASCII ones), spaces trimmed and
    runs of spaces one. ``"１２３４"``, ``"1234 "`` and ``"1234"`` are one account.

    >>> account_key(" １２３４\u3000"), account_key("main  desk")
    ('1234', 'main desk')
    """
    return " ".join(unicodedata.normalize("NFKC", str(text)).split())


def symbol_key(text) -> str:
    """The instrument a symbol names, for matching prices and tier tables: its letters and
    digits, NFKC and upper case; separators (/ - _ . spaces) and case do not count. No
    suffix is dropped: ``BTC-USDT-SWAP`` is not ``BTC-USDT`` (a swap is not the spot pair).

    >>> symbol_key("BTC/JPY"), symbol_key("btc_jpy"), symbol_key("ＢＴＣ／ＪＰＹ"), symbol_key(" dax ")
    ('BTCJPY', 'BTCJPY', 'BTCJPY', 'DAX')
    """
    return "".join(ch for ch in unicodedata.normalize("NFKC", str(text)).upper() if ch.isalnum())


def symbol_prices(prices: dict, lang="en") -> dict:
    """:func:`symbol_key` -> price of ``prices`` (symbol -> price, as the API takes them); two
    symbols of one key with different prices are refused, naming both."""
    keyed, first = {}, {}
    for symbol, price in prices.items():
        key = symbol_key(symbol)
        if not key:
            continue
        if key in keyed and keyed[key] != price:
            raise InputError(
                label("report_prices_twice_dict", lang).format(
                    first=first[key],
                    first_price=_price_text(keyed[key]),
                    second=symbol,
                    second_price=_price_text(price),
                )
            )
        keyed.setdefault(key, price)
        first.setdefault(key, symbol)
    return keyed


def _price_text(price) -> str:
    try:
        return f"{float(price):,.10g}"
    except (TypeError, ValueError):
        return repr(price)


def read_prices(path, *, decimal: str | None = None, lang: str = "en") -> dict:
    """Symbol -> price from a CSV with a symbol column and a price column (EN or JA headers),
    in any encoding and separator :func:`xlcalc._files.read_text_table` reads.

    A symbol listed twice (as :func:`symbol_key` compares them) with different prices is
    refused, naming both lines; the same price twice is kept once. Without ``decimal`` the
    prices' separator is detected from them; a price that reads two ways ("18.500" in a
    file that shows no other evidence) is refused with both readings, never guessed.
    """
    from .._files import read_text_table

    path = Path(path)
    if not path.is_file():
        raise InputError(f"prices file not found: {str(path)!r}")
    df = read_text_table(path)
    cols = {canonical_header(c): c for c in df.columns}
    if "symbol" not in cols or "price" not in cols:
        raise InputError(
            f"prices file {str(path)!r} needs symbol and price columns; headers found: "
            f"{', '.join(df.columns)}"
        )
    if decimal is None:
        decimal = detect_decimal([df[cols["price"]]], None)
        fields = {"symbol": cols["symbol"], "price": cols["price"]}
        if decimal is None and _written_in_japanese(df, fields, {"price": 0}):
            decimal = "."  # as the positions file: Japanese headers or yen say decimal point
    values = clean_numbers(df[cols["price"]], decimal)
    bad = ~(values >= TINY)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        shown = df[cols["price"]].iloc[i]
        why = _number_problem("price", str(shown).strip(), decimal, lang) if isinstance(shown, str) else None
        if why:
            raise InputError(
                label("report_prices_ambiguous", lang).format(path=str(path), line=i + 2, problem=why)
            )
        raise InputError(
            f"prices file {str(path)!r}: price must be a positive number, got {shown!r} on line {i + 2}"
        )
    prices, first = {}, {}  # first: key -> (symbol, line, price)
    symbols = df[cols["symbol"]].fillna("").astype(str).str.strip()
    for line, (symbol, price) in enumerate(zip(symbols, values.tolist()), start=2):
        key = symbol_key(symbol)
        if not key:  # names no symbol: no position takes its price (and they are counted)
            continue
        if key in first and first[key][2] != price:
            (first_symbol, first_line, first_price) = first[key]
            raise InputError(
                label("report_prices_twice", lang).format(
                    path=str(path),
                    first=first_symbol,
                    first_line=first_line,
                    first_price=f"{first_price:,.10g}",
                    second=symbol,
                    second_line=line,
                    second_price=f"{price:,.10g}",
                )
            )
        first.setdefault(key, (symbol, line, price))
        prices.setdefault(symbol, price)
    return prices
