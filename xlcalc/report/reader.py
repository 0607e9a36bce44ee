"""Positions in: CSV (UTF-8, UTF-8 with BOM, Shift_JIS/cp932) or xlsx, headers in English or
Japanese, numbers as exchanges and spreadsheets export them.

Rows are read and validated in chunks (:func:`iter_chunks`), floats and categoricals; the
report streams them, :func:`read_table` gathers them in memory. Nothing is dropped: a row the core would reject keeps its raw text, its line number
and the core's own error message, for the Errors sheet. Only blank lines (every field empty)
are skipped; they hold no data.

>>> canonical_header("  Entry Price ")
'entry_price'
>>> canonical_header("建値"), canonical_header("ＬＥＶＥＲＡＧＥ")
('entry_price', 'leverage')
>>> clean_numbers(pd.Series(["1,234,567", "１２３", "¥5,000", "50%", "▲1,000", "", "abc"])).tolist()
[1234567.0, 123.0, 5000.0, 0.5, -1000.0, nan, nan]
"""
from __future__ import annotations

import codecs
import csv
import io
import json
import math
import unicodedata
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .._inputs import InputError, Inputs, parse_side_word
from ..labels import error_text, label

__all__ = ["FIELDS", "NUMERIC_FIELDS", "TEXT_FIELDS", "Table", "Chunk", "ExactLines", "RowTooLong",
           "canonical_header", "clean_numbers", "read_table", "iter_chunks", "read_prices"]

CHUNK_ROWS = 25_000   # rows read, validated and written at once: memory holds one chunk

# Canonical field -> header spellings (compared after NFKC, lower case, no spaces/_/-).
ALIASES = {
    "account": ["account", "account id", "口座", "口座番号", "アカウント"],
    "symbol": ["symbol", "pair", "instrument", "ticker", "contract", "銘柄", "銘柄名", "通貨ペア"],
    "side": ["side", "direction", "buy/sell", "売買", "売買区分", "ポジション"],
    "entry_price": ["entry_price", "entry", "entry price", "avg entry price", "open price",
                    "建値", "平均建値", "建単価", "約定価格"],
    "quantity": ["quantity", "qty", "size", "amount", "数量", "建玉数量", "建玉数"],
    "leverage": ["leverage", "lev", "レバレッジ", "倍率"],
    "price": ["price", "mark price", "mark", "current price", "last price", "現在値", "時価",
              "現在価格", "評価レート"],
    "deposit": ["deposit", "collateral", "wallet balance", "証拠金", "預託証拠金", "預り証拠金"],
    "fees": ["fees", "fee", "costs", "手数料", "未払手数料"],
}
FIELDS = list(ALIASES)
NUMERIC_FIELDS = ["entry_price", "quantity", "leverage", "price", "deposit", "fees"]
TEXT_FIELDS = ["account", "symbol"]
# Rule of each number, as the core checks it (positive / nonnegative).
RULES = {"entry_price": "positive", "quantity": "positive", "leverage": "positive",
         "price": "positive", "deposit": "nonnegative", "fees": "nonnegative"}


def _key(text) -> str:
    t = unicodedata.normalize("NFKC", str(text)).strip().lower()
    for ch in " _-\u3000\t":
        t = t.replace(ch, "")
    return t


_HEADER_KEYS = {_key(alias): name for name, aliases in ALIASES.items() for alias in aliases}


def canonical_header(text) -> str | None:
    """The canonical field a header names (EN or JA, any case/spacing/width), else None."""
    return _HEADER_KEYS.get(_key(text))


# "\\" is how Python decodes the yen sign of a Shift_JIS file.
_STRIP_RE = r"[,\s¥$円€£\\]|JPY|USDT|USD"


def clean_numbers(raw: pd.Series) -> np.ndarray:
    """Floats from exported number text; NaN where empty or not a number.

    Thousands separators, full-width digits, currency signs (¥ $ 円), "▲" or "−" for minus,
    "(1,000)" for a negative and "50%" (0.5) are understood.
    """
    if raw.dtype.kind in "iufb":
        return raw.to_numpy(dtype=float)
    text = raw.astype(object).where(raw.notna(), "").astype(str)
    values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float, na_value=np.nan).copy()
    need = np.isnan(values) & (text != "").to_numpy()
    if need.any():
        t = text[need]
        t = t.str.normalize("NFKC").str.strip()
        t = t.str.replace(_STRIP_RE, "", regex=True, case=False)
        t = t.str.replace("\u2212", "-", regex=False).str.replace("▲", "-", regex=False)
        paren = t.str.startswith("(") & t.str.endswith(")")
        t = t.where(~paren, "-" + t.str.slice(1, -1))
        pct = t.str.endswith("%")
        t = t.where(~pct, t.str.slice(0, -1))
        parsed = pd.to_numeric(t, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        parsed = np.where(pct.to_numpy(), parsed / 100.0, parsed)
        values[need] = parsed
    values[~np.isfinite(values)] = np.nan
    return values


@dataclass
class Table:
    """The input, compact: one entry per non-blank row, in file order."""

    line: np.ndarray                      # line number in the input (header = 1)
    raw_columns: list                     # the input's own headers, in order
    fields: dict                          # canonical field -> original header
    numbers: dict = field(default_factory=dict)   # field -> float array (NaN: empty/bad)
    texts: dict = field(default_factory=dict)     # field -> pd.Categorical of raw text
    side: np.ndarray | None = None        # +1/-1, NaN when not a side
    extra: dict = field(default_factory=dict)     # unknown header -> pd.Categorical
    bad: np.ndarray | None = None         # True: the row is rejected
    reasons: dict = field(default_factory=dict)   # row position -> reason
    raw_bad: dict = field(default_factory=dict)   # row position -> raw values (list of str)
    default_leverage: float | None = None  # for an input without a leverage column

    @property
    def n_rows(self) -> int:
        return len(self.line)


def _detect_encoding(path: Path) -> str:
    with open(path, "rb") as fh:
        if fh.read(3) == codecs.BOM_UTF8:
            return "utf-8-sig"
    for enc in ("utf-8", "cp932"):
        dec = codecs.getincrementaldecoder(enc)()
        try:
            with open(path, "rb") as fh:
                while chunk := fh.read(1 << 22):
                    dec.decode(chunk)
            dec.decode(b"", final=True)
            return enc
        except UnicodeDecodeError:
            continue
    raise InputError(f"input file {str(path)!r} is neither UTF-8 nor Shift_JIS/cp932 text")


def _csv_line_numbers(path: Path, encoding: str) -> np.ndarray:
    """Line number of every record (header excluded), honouring quoted line breaks."""
    parts = list(_iter_csv_line_numbers(path, encoding))
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def _iter_csv_line_numbers(path: Path, encoding: str):
    """The same, CHUNK_ROWS records at a time."""
    out = []
    with open(path, encoding=encoding, newline="") as fh:
        reader = csv.reader(fh)
        next(reader, None)
        start = reader.line_num
        for _ in reader:
            out.append(start + 1)
            start = reader.line_num
            if len(out) >= CHUNK_ROWS:
                yield np.asarray(out, dtype=np.int64)
                out = []
    if out:
        yield np.asarray(out, dtype=np.int64)


@dataclass
class ExactLines:
    """A CSV whose quoted line breaks make line != record + 2: count its lines exactly."""

    path: Path
    encoding: str

    def chunks(self):
        return _iter_csv_line_numbers(self.path, self.encoding)


def _count_lines(path: Path) -> int:
    size = path.stat().st_size
    if size == 0:
        return 0
    with open(path, "rb") as fh:
        newlines = sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 22), b""))
        fh.seek(-1, io.SEEK_END)
        last = fh.read(1)
    return newlines + (0 if last == b"\n" else 1)


# Extra fields of a row longer than the header land in this column (never a user header).
OVERFLOW = "\x00overflow"


class RowTooLong(Exception):
    """The fast reader met a row longer than the header: read again, row by row."""


def _iter_csv_rows(path: Path, encoding: str):
    """CSV read by the csv module: a row longer than the header keeps its extra fields."""
    with open(path, encoding=encoding, newline="") as fh:
        try:
            yield from _csv_records(path, csv.reader(fh))
        except csv.Error as exc:
            raise InputError(f"input file {str(path)!r} is not a readable CSV: {exc}") from None


def _csv_records(path, reader):
    header = next(reader, None)
    if header is None:
        raise InputError(f"input file {str(path)!r} is empty")
    width = len(header)
    rows, lines = [], []
    start = reader.line_num
    for record in reader:
        extra = record[width:]
        # trailing empty fields (a stray comma) are harmless; real extra fields are kept
        rows.append(record[:width] + [""] * (width - len(record)) + [json.dumps(extra) if any(extra) else ""])
        lines.append(start + 1)
        start = reader.line_num
        if len(rows) >= CHUNK_ROWS:
            yield _frame(header + [OVERFLOW], rows), np.asarray(lines, dtype=np.int64)
            rows, lines = [], []
    yield _frame(header + [OVERFLOW], rows), np.asarray(lines, dtype=np.int64)


def _iter_csv(path: Path, tolerant: bool = False):
    encoding = _detect_encoding(path)
    if tolerant:
        yield from _iter_csv_rows(path, encoding)
        return
    records = 0
    try:
        with warnings.catch_warnings():
            # pandas would drop the extra fields of a row longer than the header: refuse.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            reader = pd.read_csv(path, encoding=encoding, dtype=str, keep_default_na=False,
                                 na_filter=False, skip_blank_lines=False, index_col=False,
                                 chunksize=CHUNK_ROWS)
            for chunk in reader:
                yield chunk, None
                records += len(chunk)
    except pd.errors.ParserWarning:
        raise RowTooLong() from None
    except pd.errors.EmptyDataError:
        raise InputError(f"input file {str(path)!r} is empty") from None
    except pd.errors.ParserError:
        raise RowTooLong() from None  # "Expected 6 fields in line 3, saw 8": the slow reader decides
    # One record per line unless a quoted field holds a line break: then count exactly.
    if records + 1 != _count_lines(path):
        yield None, ExactLines(path, encoding)


def _iter_xlsx(path: Path):
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a bad file
        raise InputError(f"input file {str(path)!r} is not a readable xlsx: {exc}") from None
    try:
        ws = wb.worksheets[0]
        header = None
        rows, lines = [], []
        for number, values in enumerate(ws.iter_rows(values_only=True), 1):
            if header is None:
                if all(v is None or str(v).strip() == "" for v in values):
                    continue
                header = [("" if v is None else str(v)) for v in values]
                continue
            if any(v is not None and str(v).strip() != "" for v in values[len(header):]):
                raise InputError(f"input file {str(path)!r}: row {number} has more cells than the header")
            rows.append(["" if v is None else (repr(v) if isinstance(v, float) else str(v))
                         for v in values[:len(header)]])
            lines.append(number)  # the sheet's own row number
            if len(rows) >= CHUNK_ROWS:
                yield _frame(header, rows), np.asarray(lines)
                rows, lines = [], []
        if header is None:
            raise InputError(f"input file {str(path)!r} has no header row")
        yield _frame(header, rows), np.asarray(lines, dtype=np.int64)
    finally:
        wb.close()


def _frame(header, rows):
    width = len(header)
    rows = [r + [""] * (width - len(r)) for r in rows]
    return pd.DataFrame(rows, columns=range(width), dtype=object).set_axis(header, axis=1)


def _iter_frame(df: pd.DataFrame):
    for start in range(0, max(len(df), 1), CHUNK_ROWS):
        chunk = df.iloc[start:start + CHUNK_ROWS]
        yield chunk, np.arange(start, start + len(chunk), dtype=np.int64) + 2


def _as_text(col: pd.Series) -> pd.Series:
    if col.dtype.kind == "f":
        return col.map(lambda v: "" if v != v else repr(float(v)))
    return col.astype(object).where(col.notna(), "").astype(str)


def read_table(source, *, prices: dict | None = None, default_leverage: float | None = None) -> Table:
    """Read and validate positions from a path (CSV or xlsx) or a DataFrame, all in memory.

    ``prices`` (symbol -> price) replaces the price of matching symbols; an empty price
    falls back to the entry price. ``default_leverage`` fills a missing leverage column.
    A CSV row with more fields than the header is rejected with its extra fields shown.
    The report itself streams the same chunks (:func:`iter_chunks`) instead.
    """
    try:
        return _read_table(source, prices, default_leverage, tolerant=False)
    except RowTooLong:  # rare: the slower reader keeps such rows, to report them
        return _read_table(source, prices, default_leverage, tolerant=True)


def _read_table(source, prices, default_leverage, tolerant) -> Table:
    table, chunks, exact = None, [], None
    for chunk in iter_chunks(source, prices=prices, default_leverage=default_leverage, tolerant=tolerant):
        if isinstance(chunk, ExactLines):
            exact = chunk
            continue
        table = chunk.header
        chunks.append(chunk)
    table = Table(line=None, raw_columns=table.raw_columns, fields=table.fields,
                  default_leverage=table.default_leverage)
    record = np.concatenate([c.record for c in chunks])
    table.line = np.concatenate([c.line for c in chunks])
    if exact is not None:
        table.line = _csv_line_numbers(exact.path, exact.encoding)[record]
    table.side = np.concatenate([c.side for c in chunks])
    table.bad = np.concatenate([c.bad for c in chunks])
    table.numbers = {k: np.concatenate([c.numbers[k] for c in chunks]) for k in chunks[0].numbers}
    table.texts = {k: _concat_categoricals([c.texts[k] for c in chunks]) for k in chunks[0].texts}
    table.extra = {k: _concat_categoricals([c.extra[k] for c in chunks]) for k in chunks[0].extra}
    base = 0
    for c in chunks:
        table.reasons.update({base + i: r for i, r in c.reasons.items()})
        table.raw_bad.update({base + i: r for i, r in c.raw_bad.items()})
        base += c.n_rows
    return table


@dataclass
class Chunk:
    """Up to CHUNK_ROWS validated rows: like :class:`Table`, row positions local to the chunk."""

    header: Table                         # fields, raw_columns, default_leverage of the input
    record: np.ndarray                    # record number of each row in the input (0 = first)
    line: np.ndarray = None               # line number (for a CSV with quoted line breaks:
    side: np.ndarray = None               # fixed later from ExactLines)
    bad: np.ndarray = None
    numbers: dict = field(default_factory=dict)
    texts: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)
    reasons: dict = field(default_factory=dict)
    raw_bad: dict = field(default_factory=dict)

    @property
    def n_rows(self) -> int:
        return len(self.record)

    @property
    def fields(self):
        return self.header.fields

    @property
    def default_leverage(self):
        return self.header.default_leverage


def iter_chunks(source, *, prices: dict | None = None, default_leverage: float | None = None,
                tolerant: bool = False, lang: str = "en"):
    """Validated :class:`Chunk` after chunk, in input order; then, for a CSV with quoted line
    breaks, one :class:`ExactLines`. Raises :class:`RowTooLong` (fast CSV reader only) when
    a row is longer than the header: read again with ``tolerant=True``."""
    if isinstance(source, pd.DataFrame):
        chunks = _iter_frame(source)
    else:
        path = Path(source)
        if not path.is_file():
            raise InputError(f"input file not found: {str(path)!r}")
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            chunks = _iter_xlsx(path)
        else:
            chunks = _iter_csv(path, tolerant)

    header = None
    offset = 0
    for chunk, lines in chunks:
        if chunk is None:  # CSV with quoted line breaks: exact line numbers at the end
            yield lines
            continue
        if header is None:
            header = _start_table(chunk.columns, default_leverage)
        n = len(chunk)
        if lines is None:
            lines = np.arange(offset, offset + n, dtype=np.int64) + 2
        if chunk.columns.has_duplicates:
            raise InputError(f"input has duplicate headers: {list(chunk.columns)}")
        text = {c: _as_text(chunk.iloc[:, i]) for i, c in enumerate(chunk.columns)}
        blank = np.ones(n, dtype=bool)  # every field empty: a blank line, not a row
        for col in text.values():
            blank &= (col == "").to_numpy()
        keep = ~blank
        out = Chunk(header=header, record=np.flatnonzero(keep) + offset)
        _validate_chunk(out, text, keep, lines, prices, lang)
        offset += n
        yield out
    if header is None:
        raise InputError("input has no header row")


def _concat_categoricals(parts):
    from pandas.api.types import union_categoricals

    if not parts:
        return pd.Categorical([])
    return union_categoricals(parts) if len(parts) > 1 else parts[0]


def _start_table(columns, default_leverage) -> Table:
    fields = {}
    columns = [c for c in columns if c != OVERFLOW]
    for col in columns:
        name = canonical_header(col)
        if name is None:
            continue
        if name in fields:
            raise InputError(f"input headers {fields[name]!r} and {col!r} both mean {name}")
        fields[name] = col
    missing = [f for f in ("side", "entry_price", "quantity") if f not in fields]
    if "leverage" not in fields and default_leverage is None:
        missing.append("leverage")
    if missing:
        raise InputError(f"input has no {', '.join(missing)} column; headers found: "
                         f"{', '.join(map(str, columns))}")
    table = Table(line=None, raw_columns=[str(c) for c in columns], fields=fields,
                  default_leverage=default_leverage)
    return table


def _validate_chunk(out: Chunk, text, keep, lines, prices, lang="en"):
    f = out.fields
    n = int(keep.sum())
    col = {name: text[header][keep] for name, header in f.items()}
    out.line = np.asarray(lines)[keep]

    # side: map each distinct word once
    codes, uniques = pd.factorize(col["side"].to_numpy(), use_na_sentinel=False)
    side = np.array([parse_side_word(str(u).strip()) for u in uniques], dtype=float)[codes] \
        if n else np.zeros(0)
    bad = np.isnan(side)
    out.side = side

    values = {}
    for name in NUMERIC_FIELDS:
        if name in col:
            values[name] = clean_numbers(col[name])
        elif name == "leverage":
            values[name] = np.full(n, float(out.default_leverage))
        elif name == "fees":
            values[name] = np.zeros(n)
    if "fees" in col:  # an empty fee is no fee
        values["fees"] = np.where(col["fees"].str.strip().to_numpy() == "", 0.0, values["fees"])

    # price: the prices file first, then the row's own price, then the entry price
    price = values.get("price", np.full(n, np.nan))
    price_bad = np.zeros(n, dtype=bool)
    if "price" in col:
        price_bad = np.isnan(price) & (col["price"].str.strip().to_numpy() != "")
    if prices and "symbol" in col:
        mapped = col["symbol"].str.strip().map(prices).to_numpy(dtype=float, na_value=np.nan)
        found = ~np.isnan(mapped)
        price = np.where(found, mapped, price)
        price_bad &= ~found
    price = np.where(np.isnan(price) & ~price_bad, values["entry_price"], price)
    values["price"] = price

    for name, arr in values.items():
        with np.errstate(invalid="ignore"):
            ok = arr > 0 if RULES[name] == "positive" else arr >= 0
        bad |= ~ok
    bad |= price_bad
    overflow = text[OVERFLOW][keep].to_numpy() if OVERFLOW in text else None
    if overflow is not None:
        bad |= overflow != ""

    out.numbers = values
    out.bad = bad
    for name in TEXT_FIELDS:
        if name in col:
            out.texts[name] = pd.Categorical(col[name].to_numpy())
    known = set(f.values()) | {OVERFLOW}
    for header, series in text.items():
        if header not in known:
            out.extra[header] = pd.Categorical(series[keep].to_numpy())

    # Reasons come from the core's own checks, so the words match the API's errors.
    if not bad.any():
        return
    headers = [h for h in text if h != OVERFLOW]
    kept = {h: text[h][keep].to_numpy() for h in headers}
    for i in np.flatnonzero(bad):
        raw = {name: col[name].iloc[i] for name in col}
        problems = _problems(raw, {k: v[i] for k, v in values.items()}, bool(price_bad[i]), lang)
        raw_values = [kept[h][i] for h in headers]
        if overflow is not None and overflow[i]:
            extra_fields = json.loads(overflow[i])
            problems.insert(0, label("report_row_too_long", lang).format(
                fields=len(headers) + len(extra_fields), header=len(headers)))
            raw_values += extra_fields
        reason = "; ".join(problems) or label("report_rejected", lang)
        out.reasons[i] = reason
        out.raw_bad[i] = raw_values


def _problems(raw: dict, parsed: dict, price_bad: bool, lang: str) -> list:
    """What is wrong with a rejected row, in the core's own words (in ``lang``)."""
    problems = []
    try:
        Inputs().side("side", raw["side"].strip())
    except InputError as exc:
        problems.append(error_text(exc, lang))
    for name in NUMERIC_FIELDS:
        value = parsed.get(name)
        if value is None:
            continue
        shown = raw.get(name, "")
        if name == "price" and not price_bad and not str(shown).strip():
            continue  # an empty price is the entry price: its problem is reported there
        try:
            if math.isnan(value) or (name == "price" and price_bad):
                Inputs().number(name, shown.strip() if isinstance(shown, str) else shown)
            Inputs().number(name, value, rule=RULES[name])
        except InputError as exc:
            problems.append(error_text(exc, lang))
    return problems


def read_prices(path) -> dict:
    """Symbol -> price from a CSV with a symbol column and a price column (EN or JA headers)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"prices file not found: {str(path)!r}")
    try:
        df = pd.read_csv(path, encoding=_detect_encoding(path), dtype=str, keep_default_na=False)
    except (pd.errors.EmptyDataError, pd.errors.ParserError) as exc:
        raise InputError(f"prices file {str(path)!r} is not a readable CSV: {exc}") from None
    cols = {canonical_header(c): c for c in df.columns}
    if "symbol" not in cols or "price" not in cols:
        raise InputError(f"prices file {str(path)!r} needs symbol and price columns; headers found: "
                         f"{', '.join(df.columns)}")
    values = clean_numbers(df[cols["price"]])
    bad = ~(values > 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"prices file {str(path)!r}: price must be a positive number, got "
                         f"{df[cols['price']].iloc[i]!r} on line {i + 2}")
    symbols = df[cols["symbol"]].str.strip()
    return dict(zip(symbols, values.tolist()))
