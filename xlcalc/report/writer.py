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

FORMATS = {
    "int": "0",
    "money": "#,##0.00",
    "price": "#,##0.00######",
    # computed prices: cents for large prices, more digits for small ones (alt coins)
    "trigger": "[>=100]#,##0.00;[>=1]#,##0.0000;0.00000000",
    "qty": "#,##0.########",
    "lev": '0.##"x"',
    "pct": "0.00%",
    "move": "+0.0%;-0.0%;0.0%",
    "text": "@",
    "status": "General",
    "side": "General",
}

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

    def __init__(self, ws):
        from openpyxl.styles import Alignment, Font, PatternFill

        self.ws = ws
        self.header_font = Font(bold=True)
        self.header_fill = PatternFill("solid", fgColor=HEADER_FILL)
        self.wrap = Alignment(wrap_text=True, vertical="center")
        self.title_font = Font(bold=True, size=14)
        self.fills = {k: PatternFill("solid", fgColor=v) for k, v in STATUS_FILLS.items()}

    def cell(self, value, fmt=None, *, bold=False, header=False, status=None):
        """A write-only cell; strings are forced to text so they never become formulas."""
        from openpyxl.cell import WriteOnlyCell

        if isinstance(value, float) and not np.isfinite(value):
            value = None
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, str):
            value = _ILLEGAL.sub(lambda m: f"_x{ord(m.group()):04X}_", value)
        c = WriteOnlyCell(self.ws, value=value)
        if isinstance(value, str):
            c.data_type = "s"
        if fmt and fmt in FORMATS:
            c.number_format = FORMATS[fmt]
        if header:
            c.font, c.fill, c.alignment = self.header_font, self.header_fill, self.wrap
        elif bold:
            c.font = self.header_font
        if status in self.fills:
            c.fill = self.fills[status]
        return c


def _width(text: str) -> float:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(text))


def _set_widths(ws, headers, minimum=10, maximum=28):
    for letter, text in zip(_letters(len(headers)), headers):
        ws.column_dimensions[letter].width = max(minimum, min(maximum, _width(text) * 0.9 + 2))


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

    wb = Workbook(write_only=True)
    summary_ws = wb.create_sheet(sheet_title("report_sheet_summary", lang))
    position_sheets = _positions_sheets(wb, report, lang)
    stress_ws = wb.create_sheet(sheet_title("report_sheet_stress", lang))
    errors = _errors_sheet(wb, report, lang)
    _summary_sheet(summary_ws, report, lang)
    _stress_sheet(stress_ws, report, lang)
    buf = io.BytesIO()
    wb.save(buf)
    sheets = position_sheets + ([errors] if errors is not None else [])
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


def _register(styles, fmt):
    c = styles.cell(None, fmt)
    return c.style_id


def _positions_sheets(wb, report, lang):
    layout = positions_layout(report)
    keys = [key for key, _, _ in layout]
    headers = [label(lk, lang) if lk else str(key[1]) for key, lk, _ in layout]
    letters = _letters(len(layout))
    status_idx = keys.index("status")
    n = report.rows.n_positions
    per_sheet = MAX_ROWS - 1
    out = []
    for part, start in enumerate(range(0, max(n, 1), per_sheet), 1):
        stop = min(start + per_sheet, n)
        ws = wb.create_sheet(sheet_title("report_sheet_positions", lang, part))
        styles = _Styles(ws)
        style_ids = [_register(styles, fmt) for _, _, fmt in layout]
        ws.freeze_panes = "B2"
        _set_widths(ws, headers)
        last_row = stop - start + 1
        ws.auto_filter.ref = f"A1:{letters[-1]}{max(last_row, 1)}"
        _status_rules(ws, letters[status_idx], letters[-1], last_row, lang)
        ws.append([styles.cell(h, header=True) for h in headers])
        chunks = (lambda a=start, b=stop: position_chunks(report, keys, lang, a, b))
        out.append(SheetData(style_ids=style_ids, chunks=chunks, start=start, stop=stop, extra={"ws": ws}))
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
    style_ids = [_register(styles, "int"), _register(styles, "text")]
    style_ids += [_register(styles, "text")] * width
    ws.freeze_panes = "C2"
    _set_widths(ws, headers)
    ws.column_dimensions["B"].width = 60
    letters = _letters(len(headers))
    ws.auto_filter.ref = f"A1:{letters[-1]}{rows.n_errors + 1}"
    ws.append([styles.cell(h, header=True) for h in headers])
    return SheetData(style_ids=style_ids, chunks=lambda: error_chunks(rows, width), start=0,
                     stop=rows.n_errors, extra={"ws": ws})


def _summary_sheet(ws, report, lang):
    styles = _Styles(ws)
    ws.column_dimensions["A"].width = 30
    for letter in _letters(12)[1:]:
        ws.column_dimensions[letter].width = 18
    cell = styles.cell
    ws.append([cell(label("report_title", lang), bold=True)])
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
    for key, value, fmt in info:
        ws.append([cell(label(key, lang), bold=True), cell(value, fmt)])
    ws.append([])
    ws.append([cell(label(k, lang), header=True) for _, k, _ in ACCOUNT_LAYOUT])
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
        ws.append(row)
    ws.append([])
    ws.append([cell(label("report_closest", lang), bold=True)])
    ws.append([cell(label(k, lang), header=True) for _, k, _ in CLOSEST_LAYOUT])
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
        ws.append(row)


def _level_text(value, lang):
    return label("none", lang) if math.isnan(float(value)) else f"{float(value) * 100:g} %"


def _stress_sheet(ws, report, lang):
    from openpyxl.chart import LineChart, Reference

    styles = _Styles(ws)
    cell = styles.cell
    fig = report.figures
    names = [a["name"] or label("report_all_positions", lang) for a in fig.accounts[:16000]]
    levels = []  # a level line when every account has the same level
    for key, colour in (("margin_call_level", "FFC000"), ("loss_cut_level", "C00000")):
        values = {round(a[key], 12) for a in fig.accounts if np.isfinite(a[key])}
        if len(values) == 1:
            levels.append((label(key, lang), values.pop(), colour))
    headers = [label("report_market_move", lang)] + [str(n) for n in names] + [h for h, _, _ in levels]
    _set_widths(ws, headers, minimum=12)
    ws.append([cell(h, header=True) for h in headers])
    for i, move in enumerate(fig.moves):
        row = [cell(float(move), "move")]
        row += [cell(float(fig.stress[i, j]), "pct") for j in range(len(names))]
        row += [cell(float(v), "pct") for _, v, _ in levels]
        ws.append(row)
    if not names or not len(fig.moves):
        return
    chart = LineChart()
    chart.title = label("report_sheet_stress", lang)
    chart.y_axis.title = label("ratio", lang)
    chart.x_axis.title = label("report_market_move", lang)
    chart.y_axis.number_format = "0%"
    chart.height, chart.width = 10, 20
    last = len(fig.moves) + 1
    shown = min(len(names), 10)
    for j in list(range(2, 2 + shown)) + list(range(2 + len(names), 2 + len(names) + len(levels))):
        chart.add_data(Reference(ws, min_col=j, min_row=1, max_row=last), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=2, max_row=last))
    for k, (_, _, colour) in enumerate(levels):
        series = chart.series[shown + k]
        series.graphicalProperties.line.dashStyle = "dash"
        series.graphicalProperties.line.solidFill = colour
    ws.add_chart(chart, f"{_letters(len(headers) + 2)[-1]}2")
