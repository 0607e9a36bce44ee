"""The report workbook: Summary, Positions, Stress and Errors, written atomically.

openpyxl (write-only mode) builds the workbook: styles, headers, conditional formatting,
autofilter, frozen panes, the Summary and Stress sheets and the chart. The long sheets
(Positions, Errors) hold up to a million rows; openpyxl spends ~20 µs on each cell, so
their data rows are streamed by :func:`stream_rows`, which takes them chunk by chunk from
the report and renders a batch of rows column by column into the same SpreadsheetML that openpyxl writes (inline strings, the style ids openpyxl
registered) and splices them into openpyxl's sheet part. User text is always an inline
string (``t="inlineStr"``): a symbol like ``=HYPERLINK(...)`` can never become a formula.

>>> xml_text('=SUM(A1) & <b>')
'=SUM(A1) &amp; &lt;b&gt;'
>>> xml_text("bell\\x07")
'bell_x0007_'
"""
from __future__ import annotations

import io
import math
import queue
import re
import threading
import time
import zipfile
import zlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..labels import label

__all__ = ["Column", "SheetData", "stream_rows", "xml_text", "splice_workbook",
           "MAX_ROWS", "FORMATS"]

MAX_ROWS = 1_048_576          # Excel's rows per sheet, header included
BATCH_ROWS = 5_000           # rows rendered at once: a few MB of XML text
DEFLATE_LEVEL = 4            # zlib-ng 4: 0.74 s and 18.6 MB for 100k rows (level 6: 1.2 s, 17.6 MB)

# Money in the account currency: (symbol, decimals); another code: "#,##0.00" and its code.
CURRENCIES = {"JPY": ('"¥"', 0), "USD": ('"$"', 2), "EUR": ('"€"', 2), "GBP": ('"£"', 2), "KRW": ('"₩"', 0),
              "USDT": (None, 2), "USDC": (None, 2), "BTC": (None, 8), "ETH": (None, 8)}
QUOTES = ["USDT", "USDC", "JPY", "USD", "EUR", "GBP", "KRW", "BTC", "ETH"]   # symbol suffixes


def quote_currency(symbol) -> str | None:
    """The currency a symbol is priced in: "BTC/JPY" → JPY, "BTCUSDT" → USDT, "EUR_USD" → USD.

    >>> [quote_currency(s) for s in ("BTC/JPY", "btcusdt", "EUR_USD", "ETH-PERP", "XAUUSD.m")]
    ['JPY', 'USDT', 'USD', None, 'USD']
    """
    text = str(symbol).upper().split(".")[0]
    parts = re.split(r"[/_\-: ]", text)
    if len(parts) > 1:
        return parts[-1] if parts[-1] in CURRENCIES else None
    return next((q for q in QUOTES if text.endswith(q) and len(text) > len(q)), None)


def number_formats(currency=None, price_decimals=2, quantity_decimals=4) -> dict:
    """Excel number formats of the report's kinds of column; none shows ``-0`` (a zero
    section of its own). Prices show the decimals of the prices the user gave.

    >>> f = number_formats("JPY", price_decimals=3)
    >>> f["money"], f["price"]
    ('"¥"#,##0;-"¥"#,##0;"¥"0', '#,##0.000;-#,##0.000;0.000')
    """
    def fixed(decimals, before="", after=""):
        body = "#,##0" + ("." + "0" * decimals if decimals else "")
        zero = "0" + ("." + "0" * decimals if decimals else "")
        return f"{before}{body}{after};-{before}{body}{after};{before}{zero}{after}"
    sign, decimals = CURRENCIES.get(currency, (None, 2))
    after = f'" {currency}"' if currency and not sign else ""
    return {"int": "0", "money": fixed(decimals, sign or "", after), "price": fixed(price_decimals),
            "trigger": fixed(price_decimals), "qty": fixed(quantity_decimals), "lev": '0.##"x"',
            "pct": "0.00%", "move": "+0.0%;-0.0%;0.0%", "text": "@", "status": "General", "side": "General"}


FORMATS = number_formats()


def _decimals(x, most=8) -> int:
    """Decimals the numbers ``x`` were given with (at most ``most``)."""
    x = x[np.isfinite(x)]
    for d in range(most):
        if np.all(np.abs(np.round(x, d) - x) <= 1e-9 * np.abs(x)):
            return d
    return most


class Measure:
    """What the formats and the column widths depend on, gathered chunk by chunk: the largest
    magnitude of each number column, the decimals of the user's prices and quantities, the
    widest text of each text column and the symbols' quote currencies."""

    def __init__(self):
        self.largest, self.decimals, self.text, self.quotes = {}, {}, {}, set()

    def add(self, kept: dict, cols: dict):
        for key, v in {**kept["numbers"], **cols}.items():
            v = np.asarray(v)
            if v.dtype.kind == "f" and len(v):
                big = np.nanmax(np.abs(np.where(np.isfinite(v), v, np.nan)), initial=0.0)
                self.largest[key] = max(self.largest.get(key, 0.0), float(np.nan_to_num(big)))
        for key in ("entry_price", "price", "quantity"):
            self.decimals[key] = max(self.decimals.get(key, 0), _decimals(kept["numbers"][key]))
        texts = {**kept["texts"], **{("extra", k): c for k, c in kept["extra"].items()}}
        for key, cat in texts.items():
            words = pd.Series(cat.categories, dtype=str)
            wide = (words.str.len() + words.str.count(r"[\u1100-\uffff]")).max() if len(words) else 0
            self.text[key] = max(self.text.get(key, 0), int(wide))
        if "symbol" in kept["texts"]:
            self.quotes |= {quote_currency(s) for s in kept["texts"]["symbol"].categories}

    def formats(self, currency=None) -> dict:
        """Number formats; the currency given, else the one quote currency of every symbol."""
        if currency is None and len(self.quotes) == 1:
            currency = next(iter(self.quotes))
        return number_formats(currency, max(self.decimals.get("entry_price", 0), self.decimals.get("price", 0)),
                              self.decimals.get("quantity", 4))

    def width(self, key, fmt, formats) -> int:
        """Characters the widest value of column ``key`` takes in format ``fmt``."""
        if key in self.text:
            return self.text[key]
        return shown_width(self.largest[key], formats[fmt]) if key in self.largest else 0


def shown_width(value, number_format: str) -> int:
    """Characters ``value`` takes in ``number_format`` (its sign counted).

    >>> shown_width(12_345_678.125, '#,##0.000'), shown_width(-0.25, '0.00%')
    (15, 7)
    """
    if isinstance(value, str) or number_format in ("General", "@"):
        return _width(value)
    first = number_format.split(";")[0]
    literal = "".join(re.findall(r'"([^"]*)"', first))
    bare = re.sub(r'"[^"]*"', "", first)
    if "%" in bare:
        value, literal = value * 100, literal + "%"
    return len(f"{abs(value):,.{bare.partition('.')[2].count('0')}f}") + _width(literal) + 1


# XML 1.0 forbids these characters; Excel reads _xHHHH_ back as the character.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


# Text that already looks like an escape (a symbol "A_x0041_") keeps its underscore: _x005F_.
_LOOKS_ESCAPED = re.compile(r"_(x[0-9A-Fa-f]{4}_)")


def xml_text(text: str) -> str:
    """``text`` escaped for an inline string, control characters as Excel's _xHHHH_.

    >>> xml_text("a<b & \x01 _x0041_")
    'a&lt;b &amp; _x0001_ _x005F_x0041_'
    """
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if "_x" in text:
        text = _LOOKS_ESCAPED.sub(r"_x005F_\1", text)
    if _ILLEGAL.search(text):
        text = _ILLEGAL.sub(lambda m: f"_x{ord(m.group()):04X}_", text)
    return text


def _text_cell(style_id: int, text: str) -> str:
    return f'<c s="{style_id}" t="inlineStr"><is><t xml:space="preserve">{xml_text(text)}</t></is></c>'


@dataclass
class Column:
    """One column of a streamed sheet.

    ``values``: a float array (numbers; NaN is an empty cell), or ``codes`` into
    ``words`` (text that repeats: symbols, sides, statuses), or a list of str.
    """

    values: object = None
    codes: np.ndarray = None
    words: list = None
    style_id: int = 0


    def __len__(self):
        return len(self.codes) if self.words is not None else len(self.values)



@dataclass
class SheetData:
    """Rows to splice into one sheet part, below its header row.

    ``chunks()`` yields the rows ``start:stop`` of the sheet's source, in order, as lists of
    :class:`Column` (one per sheet column, any number of rows each): the rows are made
    while they are written, so a sheet of a million rows is never in memory.
    """

    style_ids: list
    chunks: object
    start: int
    stop: int
    arcname: str = ""
    extra: dict = field(default_factory=dict)


def _letters(n):
    from openpyxl.utils import get_column_letter

    return [get_column_letter(i + 1) for i in range(n)]


def _cells(col: Column, style_id: int, a: int, b: int) -> list:
    """The ``<c>`` elements (bytes) of rows ``a:b`` of one column. No ``r="B2"`` references
    (optional in SpreadsheetML: a cell follows the one before); no value: ``<c s=".."/>``."""
    empty = f'<c s="{style_id}"/>'.encode()
    if col.words is not None:
        words = np.array([_text_cell(style_id, str(w)).encode() for w in col.words] + [empty], dtype=object)
        codes = np.asarray(col.codes[a:b])
        return words[np.where(codes < 0, len(words) - 1, codes)].tolist()
    if not isinstance(col.values, np.ndarray):
        return [_text_cell(style_id, t).encode() if t != "" else empty for t in col.values[a:b]]
    v = col.values[a:b]
    if not len(v):
        return []
    if v.dtype.kind == "f":  # inf and NaN: empty; -0.0 written as 0.0
        v = np.where(np.isfinite(v), v, np.nan) + 0.0
    pre, post = f'<c s="{style_id}"><v>'.encode(), b"</v></c>"
    cells = pre + _numbers(v).replace(b",", post + b"\0" + pre) + post
    return cells.replace(pre + b"null" + post, empty).split(b"\0")


def _numbers(v: np.ndarray) -> bytes:
    """``v`` as "1.5,null,2": each float's shortest repr that reads back as the same float
    (orjson's, 15x faster than Python's; Python's repr without it), NaN as null."""
    try:
        import orjson
    except ImportError:
        return repr([x if x == x else None for x in v.tolist()])[1:-1].replace(", ", ",") \
            .replace("None", "null").encode()
    return orjson.dumps(np.ascontiguousarray(v), option=orjson.OPT_SERIALIZE_NUMPY)[1:-1]


def stream_rows(data: SheetData, first_row: int = 2, progress=None):
    """Yield the SpreadsheetML of ``data``'s rows, encoded, batch by batch."""
    for columns in data.chunks():
        m = len(columns[0]) if columns else 0
        for a in range(0, m, BATCH_ROWS):
            b = min(a + BATCH_ROWS, m)
            cells = [_cells(col, sid, a, b) for col, sid in zip(columns, data.style_ids)]
            yield b"<row>" + b"</row><row>".join(map(b"".join, zip(*cells))) + b"</row>"
            if progress is not None:
                progress.update(b - a)


def _compressobj(level):
    """Raw deflate by zlib-ng when installed (1.6x zlib's speed, same format), else zlib."""
    try:
        from zlib_ng import zlib_ng as deflate
    except ImportError:
        deflate = zlib
    return deflate.compressobj(level, deflate.DEFLATED, -15)


def splice_workbook(workbook_bytes: bytes, dest, sheets: list, progress=None, compresslevel=DEFLATE_LEVEL):
    """Copy openpyxl's package to ``dest``, adding each SheetData's rows to its sheet part.

    Rows render in this thread while another deflates them (the compressors release the GIL).
    """
    by_name = {s.arcname: s for s in sheets}
    now = time.localtime()[:6]
    with zipfile.ZipFile(io.BytesIO(workbook_bytes)) as zin, \
            zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as zout:
        for info in zin.infolist():
            part = zin.read(info.filename)
            data = by_name.get(info.filename)
            info = zipfile.ZipInfo(info.filename, date_time=now)
            info.compress_type = zipfile.ZIP_DEFLATED
            if data is None:
                zout.writestr(info, part, compresslevel=compresslevel)
                continue
            head, tail = part.split(b"</sheetData>", 1)
            with zout.open(info, "w", force_zip64=True) as fh:
                if hasattr(fh, "_compressor"):  # zipfile's deflater, swapped for a faster one
                    fh._compressor = _compressobj(compresslevel)
                fh.write(head)
                _write_in_thread(fh, stream_rows(data, progress=progress))
                fh.write(b"</sheetData>" + tail)


def _write_in_thread(fh, chunks):
    """``fh.write`` each of ``chunks`` in a second thread, a few chunks behind."""
    todo, failed = queue.Queue(maxsize=4), []

    def work():
        while (chunk := todo.get()) is not None:
            if not failed:
                try:
                    fh.write(chunk)
                except BaseException as exc:  # noqa: BLE001 - raised again in the caller
                    failed.append(exc)

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    try:
        for chunk in chunks:
            if failed:
                break
            todo.put(chunk)
    finally:
        todo.put(None)
        worker.join()
    if failed:
        raise failed[0]


def sheet_title(key: str, lang: str, part: int = 1) -> str:
    name = label(key, lang)
    return name if part == 1 else f"{name} {part}"


# -- the workbook ---------------------------------------------------------------------
# Layout as data: each column of the Positions sheet is (key, label key, format). A key of
# the computed columns, or of the inputs; "line" is the row's line number in the input.
INPUT_LAYOUT = [
    ("line", "report_line", "int"),
    ("account", "account", "text"),
    ("symbol", "symbol", "text"),
    ("side", "side", "side"),
    ("entry_price", "entry_price", "price"),
    ("quantity", "quantity", "qty"),
    ("leverage", "leverage", "lev"),
    ("price", "price", "price"),
    ("deposit", "deposit", "money"),
    ("fees", "fees", "money"),
]
COMPUTED_LAYOUT = [
    ("notional", "notional", "money"),
    ("required_margin", "required_margin", "money"),
    ("pnl", "pnl", "money"),
    ("equity", "equity", "money"),
    ("ratio", "ratio", "pct"),
    ("status", "status", "status"),
    ("margin_call_price", "margin_call_price", "trigger"),
    ("margin_call_distance", "margin_call_distance", "money"),
    ("margin_call_distance_pct", "margin_call_distance_pct", "pct"),
    ("loss_cut_price", "loss_cut_price", "trigger"),
    ("loss_cut_distance", "loss_cut_distance", "money"),
    ("loss_cut_distance_pct", "loss_cut_distance_pct", "pct"),
    ("bankruptcy_price", "bankruptcy_price", "trigger"),
    ("liquidation_price", "liquidation_price", "trigger"),
    ("additional_deposit", "additional_deposit", "money"),
    ("close_quantity", "close_quantity", "qty"),
]
ACCOUNT_LAYOUT = [
    ("name", "account", "text"),
    ("positions", "report_positions", "int"),
    ("deposit", "deposit", "money"),
    ("equity", "equity", "money"),
    ("required_margin", "required_margin", "money"),
    ("ratio", "ratio", "pct"),
    ("status", "status", "status"),
    ("move_to_margin_call", "move_to_margin_call", "move"),
    ("move_to_loss_cut", "move_to_loss_cut", "move"),
    ("n_margin_call", "report_n_margin_call", "int"),
    ("n_loss_cut", "report_n_loss_cut", "int"),
]
CLOSEST_LAYOUT = [
    ("line", "report_line", "int"),
    ("account", "account", "text"),
    ("symbol", "symbol", "text"),
    ("side", "side", "side"),
    ("price", "price", "price"),
    ("loss_cut_price", "loss_cut_price", "trigger"),
    ("loss_cut_distance_pct", "loss_cut_distance_pct", "pct"),
    ("ratio", "ratio", "pct"),
    ("status", "status", "status"),
]
STATUS_FILLS = {"margin_call": "FFD966", "loss_cut": "FF7C80"}   # amber, red
HEADER_FILL = "DDEBF7"


class _Styles:
    """Cell styles built once: openpyxl looks a style up on every styled cell."""

    def __init__(self, ws, formats=FORMATS):
        from openpyxl.styles import Alignment, Font, PatternFill

        self.ws, self.formats, self.widths, self.rows = ws, formats, [], []
        self.header_font = Font(bold=True)
        self.header_fill = PatternFill("solid", fgColor=HEADER_FILL)
        self.wrap = Alignment(wrap_text=True, vertical="center")
        self.title_font = Font(bold=True, size=14)
        self.fills = {k: PatternFill("solid", fgColor=v) for k, v in STATUS_FILLS.items()}

    def append(self, cells, measure=True):
        """Keep a row for :meth:`write`, widening ``self.widths`` to its content."""
        self.rows.append(cells)
        if measure:
            for j, c in enumerate(cells):
                if j >= len(self.widths):
                    self.widths.append(0)
                if c.value is not None:
                    w = shown_width(c.value, c.number_format)
                    self.widths[j] = max(self.widths[j], min(w, 12) if c.fill is self.header_fill else w)

    def write(self, headers=(), *, one_page=False):
        """Set the widths and the print setup (before any row: write-only), then the rows."""
        _fit_columns(self.ws, self.widths, headers)
        _print_setup(self.ws, len(self.widths), one_page=one_page)
        for cells in self.rows:
            self.ws.append(cells)

    def cell(self, value, fmt=None, *, bold=False, header=False, status=None):
        """A write-only cell; strings are forced to text so they never become formulas."""
        from openpyxl.cell import WriteOnlyCell

        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, float):
            value = value + 0.0 if math.isfinite(value) else None   # no -0
        if isinstance(value, str):
            value = _ILLEGAL.sub(lambda m: f"_x{ord(m.group()):04X}_", value)
        c = WriteOnlyCell(self.ws, value=value)
        if isinstance(value, str):
            c.data_type = "s"
        if fmt and fmt in self.formats:
            c.number_format = self.formats[fmt]
        if header:
            c.font, c.fill, c.alignment = self.header_font, self.header_fill, self.wrap
        elif bold:
            c.font = self.header_font
        if status in self.fills:
            c.fill = self.fills[status]
        return c


def _width(text) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(text))


def _fit_columns(ws, widths, headers=(), most=60):
    """Column widths from their widest content; a header (it wraps) counts up to 12."""
    for j, letter in enumerate(_letters(len(widths))):
        header = min(_width(headers[j]), 12) if j < len(headers) else 0
        ws.column_dimensions[letter].width = min(max(widths[j], header, 6) + 2, most)


def _print_setup(ws, n_columns, *, one_page=False):
    """Fit to one page wide (one page in all: ``one_page``), landscape when wide, the header
    row repeated on every page."""
    ws.page_setup.orientation = "landscape" if n_columns > 7 else "portrait"
    ws.page_setup.paperSize = "9"   # A4
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 1 if one_page else 0
    if not one_page:
        ws.print_title_rows = "1:1"


def _status_rules(ws, status_col, last_col, last_row, lang):
    from openpyxl.formatting.rule import FormulaRule
    from openpyxl.styles import PatternFill

    ref = f"A2:{last_col}{max(last_row, 2)}"
    for key, colour in STATUS_FILLS.items():
        fill = PatternFill(start_color=colour, end_color=colour, fill_type="solid")
        word = label(key, lang).replace('"', '""')
        ws.conditional_formatting.add(
            ref, FormulaRule(formula=[f'${status_col}2="{word}"'], fill=fill, stopIfTrue=True))


def write_report(report, dest, lang: str, progress=None):
    """Write stage: the workbook of ``report`` (pipeline.Report) to ``dest``."""
    package, sheets = build_workbook(report, lang)
    splice_workbook(package, dest, sheets, progress=progress)


def position_chunks(report, keys, lang, start, stop):
    """Columns (``keys`` of :func:`positions_layout`) of the positions ``start:stop``."""
    side_words = [label("long", lang), label("short", lang)]
    a = 0
    for i, n in enumerate(report.rows.positions.lengths):
        lo, hi = max(start - a, 0), min(stop - a, n)
        a += n
        if lo >= hi:
            continue
        rows, pos, cols = report.columns(i)
        status_codes, status_keys = pd.factorize(np.asarray(cols["status"])[lo:hi])
        out = []
        for key in keys:
            if key == "line":
                col = Column(values=report.rows.line_numbers(rows["record"], rows["line"])[lo:hi])
            elif key == "side":
                col = Column(codes=(pos.side[lo:hi] < 0).astype(np.int64), words=side_words)
            elif key in ("account", "symbol") or isinstance(key, tuple):
                cat = rows["texts"][key] if isinstance(key, str) else rows["extra"][key[1]]
                col = Column(codes=np.asarray(cat.codes)[lo:hi], words=list(cat.categories))
            elif key == "status":
                col = Column(codes=status_codes, words=[label(str(k), lang) for k in status_keys])
            else:
                col = Column(values=np.asarray(cols[key] if key in cols else rows["numbers"][key], dtype=float)[lo:hi])
            out.append(col)
        yield out


def error_chunks(rows, width):
    """Columns of the Errors sheet: line, reason, the row's raw fields."""
    for i in range(len(rows.errors.offsets)):
        e = rows.errors.load(i)
        cols = [Column(values=rows.line_numbers(e["record"], e["line"])), Column(values=e["reasons"])]
        cols += [Column(values=[str(r[j]) if j < len(r) else "" for r in e["raw"]]) for j in range(width)]
        yield cols


def build_workbook(report, lang: str):
    """The openpyxl workbook (headers, small sheets) and the rows to splice into it."""
    from openpyxl import Workbook

    formats = report.display.formats(report.currency)
    wb = Workbook(write_only=True)
    summary_ws = wb.create_sheet(sheet_title("report_sheet_summary", lang))
    position_sheets = _positions_sheets(wb, report, lang, formats)
    stress_ws = wb.create_sheet(sheet_title("report_sheet_stress", lang))
    errors = _errors_sheet(wb, report, lang)
    _summary_sheet(_Styles(summary_ws, formats), report, lang)
    _stress_sheet(_Styles(stress_ws, formats), report, lang)
    buf = io.BytesIO()
    wb.save(buf)
    sheets = position_sheets + [errors]
    for data in sheets:
        data.arcname = data.extra.pop("ws").path.lstrip("/")
    return buf.getvalue(), sheets


def positions_layout(report):
    """(key, label key or header, format) of each Positions column, in layout order."""
    out = []
    for key, label_key, fmt in INPUT_LAYOUT:
        if key in ("account", "symbol") and key not in report.rows.header.fields:
            continue
        if key == "deposit" and report.rows.cross:
            continue
        out.append((key, label_key, fmt))
    out += [(key, label_key, fmt) for key, label_key, fmt in COMPUTED_LAYOUT if key in report.computed_keys]
    out += [(("extra", header), None, "text") for header in report.rows.extra_headers]
    return out


def _positions_sheets(wb, report, lang, formats):
    layout = positions_layout(report)
    keys = [key for key, _, _ in layout]
    headers = [label(lk, lang) if lk else str(key[1]) for key, lk, _ in layout]
    words = {"side": [label("long", lang), label("short", lang)],
             "status": [label(k, lang) for k in ("ok", "margin_call", "loss_cut")]}
    widths = [max(map(_width, words[key])) if key in words else report.display.width(key, fmt, formats)
              for key, _, fmt in layout]
    widths[0] = max(widths[0], len(str(report.rows.rows_in + 1)))   # line numbers
    letters = _letters(len(layout))
    n = report.rows.n_positions
    per_sheet = MAX_ROWS - 1
    out = []
    for part, start in enumerate(range(0, max(n, 1), per_sheet), 1):
        stop = min(start + per_sheet, n)
        ws = wb.create_sheet(sheet_title("report_sheet_positions", lang, part))
        styles = _Styles(ws, formats)
        ws.freeze_panes = "B2"
        _fit_columns(ws, widths, headers)
        _print_setup(ws, len(layout))
        last_row = stop - start + 1
        ws.auto_filter.ref = f"A1:{letters[-1]}{max(last_row, 1)}"
        _status_rules(ws, letters[keys.index("status")], letters[-1], last_row, lang)
        ws.append([styles.cell(h, header=True) for h in headers])
        chunks = (lambda a=start, b=stop: position_chunks(report, keys, lang, a, b))
        out.append(SheetData(style_ids=[styles.cell(None, fmt).style_id for _, _, fmt in layout], chunks=chunks,
                             start=start, stop=stop, extra={"ws": ws}))
    return out


def _errors_sheet(wb, report, lang):
    ws = wb.create_sheet(sheet_title("report_sheet_errors", lang))
    styles = _Styles(ws)
    # a CSV row longer than the header brings its extra fields: unnamed columns at the right
    rows = report.rows
    raw_columns = rows.header.raw_columns
    width = max(len(raw_columns), rows.error_width)
    headers = [label("report_line", lang), label("report_reason", lang)] + list(raw_columns) + [
        f"({j + 1})" for j in range(len(raw_columns), width)]
    ws.freeze_panes = "C2"
    _fit_columns(ws, [len(str(rows.rows_in + 1)), 60] + [_width(h) + 4 for h in headers[2:]], headers)
    _print_setup(ws, len(headers))
    ws.auto_filter.ref = f"A1:{_letters(len(headers))[-1]}{rows.n_errors + 1}"
    ws.append([styles.cell(h, header=True) for h in headers])
    style_ids = [styles.cell(None, "int").style_id] + [styles.cell(None, "text").style_id] * (width + 1)
    return SheetData(style_ids=style_ids, chunks=lambda: error_chunks(rows, width), start=0,
                     stop=rows.n_errors, extra={"ws": ws})


def _summary_sheet(styles, report, lang):
    cell, append = styles.cell, styles.append
    append([cell(label("report_title", lang), bold=True)], measure=False)
    rows, levels, p = report.rows, report.levels, report.preset
    exchange = f"{p['name']} {p['product']} ({p['id']}; {p['source_url']}, {p['as_of']})" if p else "-"
    loss_cut = f"mmr {levels.mmr * 100:g} % × {label('leverage', lang)}" if levels.loss_cut_mmr is not None \
        else _level_text(levels.loss_cut, lang)
    info = [
        ("report_input_file", report.source_name, None),
        ("exchange", exchange, None),
        ("basis", label("mark" if levels.mark else "entry", lang), None),
        ("report_margin_mode", label("report_cross" if rows.cross else "report_isolated", lang), None),
        ("margin_call_level", _level_text(levels.margin_call, lang), None),
        ("loss_cut_level", loss_cut, None),
        ("report_rows_in", rows.rows_in, "int"),
        ("report_positions", rows.n_positions, "int"),
        ("report_rows_rejected", rows.n_errors, "int"),
    ]
    for key, value, fmt in info:   # long texts run over the empty cells at their right
        append([cell(label(key, lang), bold=True), cell(value, fmt)], measure=key != "exchange")
    append([])
    append([cell(label(k, lang), header=True) for _, k, _ in ACCOUNT_LAYOUT])
    for acct in report.figures.accounts:
        row = []
        for key, _, fmt in ACCOUNT_LAYOUT:
            value = acct[key]
            if key == "name" and value is None:
                value = label("report_all_positions", lang)
            if key == "status":
                row.append(cell(label(value, lang), status=value))
            else:
                row.append(cell(value, fmt))
        append(row)
    append([])
    append([cell(label("report_closest", lang), bold=True)], measure=False)
    append([cell(label(k, lang), header=True) for _, k, _ in CLOSEST_LAYOUT])
    for r in report.figures.closest:  # dicts: line, account, symbol, side (+1/-1), price, ...
        row = []
        for key, _, fmt in CLOSEST_LAYOUT:
            value = r[key]
            if key == "side":
                value = label("long" if value > 0 else "short", lang)
            elif key == "status":
                row.append(cell(label(value, lang), status=value))
                continue
            row.append(cell(value, fmt))
        append(row)
    styles.write(one_page=len(report.figures.accounts) < 40)


def _level_text(value, lang):
    return label("none", lang) if math.isnan(float(value)) else f"{float(value) * 100:g} %"


def _stress_sheet(styles, report, lang):
    """The ratio of each account over a ladder of market moves, and its chart below the
    table: both on one printed page."""
    from openpyxl.chart import LineChart, Reference

    ws, cell = styles.ws, styles.cell
    fig = report.figures
    names = [a["name"] or label("report_all_positions", lang) for a in fig.accounts[:16000]]
    levels = []  # a level line when every account has the same level
    for key, colour in (("margin_call_level", "FFC000"), ("loss_cut_level", "C00000")):
        values = {round(a[key], 12) for a in fig.accounts if np.isfinite(a[key])}
        if len(values) == 1:
            levels.append((label(key, lang), values.pop(), colour))
    headers = [label("report_market_move", lang)] + [str(n) for n in names] + [h for h, _, _ in levels]
    styles.append([cell(h, header=True) for h in headers])
    for i, move in enumerate(fig.moves):
        row = [cell(float(move), "move")]
        row += [cell(float(fig.stress[i, j]), "pct") for j in range(len(names))]
        row += [cell(float(v), "pct") for _, v, _ in levels]
        styles.append(row)
    styles.write(headers, one_page=len(names) < 20)
    if not names or not len(fig.moves):
        return
    chart = LineChart()
    chart.title = label("report_sheet_stress", lang)
    chart.y_axis.title = label("ratio", lang)
    chart.x_axis.title = label("report_market_move", lang)
    chart.y_axis.number_format = "0%"
    chart.height, chart.width = 9, 16
    last = len(fig.moves) + 1
    shown = min(len(names), 10)
    for j in list(range(2, 2 + shown)) + list(range(2 + len(names), 2 + len(names) + len(levels))):
        chart.add_data(Reference(ws, min_col=j, min_row=1, max_row=last), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=2, max_row=last))
    for k, (_, _, colour) in enumerate(levels):
        series = chart.series[shown + k]
        series.graphicalProperties.line.dashStyle = "dash"
        series.graphicalProperties.line.solidFill = colour
    ws.add_chart(chart, f"A{last + 2}")
