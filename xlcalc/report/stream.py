"""The long sheets' rows as SpreadsheetML, spliced into openpyxl's package (write stage).

openpyxl spends ~20 µs on each cell, so the rows of Positions and Errors are rendered here,
a batch at a time and column by column, with the style ids openpyxl registered, and deflated
in a second thread while the next batch renders. User text is always a string cell (a shared
string when it repeats down a column, else inline): ``=HYPERLINK(...)`` never becomes a formula.
"""

from __future__ import annotations

import io
import queue
import re
import threading
import time
import zipfile
import zlib
from dataclasses import dataclass

import numpy as np

__all__ = ["Column", "SheetData", "stream_rows", "xml_text", "splice_workbook"]

BATCH_ROWS = 2_000  # rows rendered at once: peak +17 MB from 20k to 200k rows (5,000: +28)
DEFLATE_LEVEL = 3  # zlib-ng 3 at 100k rows: 19.4 MB (4: 18.1 MB, 18 % slower; isal: 20.7 MB)

# XML 1.0 forbids these characters; Excel reads _xHHHH_ back as the character.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# Text that already looks like an escape (a symbol "A_x0041_") keeps its underscore: _x005F_.
_LOOKS_ESCAPED = re.compile(r"_(x[0-9A-Fa-f]{4}_)")


def controls_escaped(text: str) -> str:
    """``text`` with the characters XML forbids as Excel's _xHHHH_ (openpyxl's cells too)."""
    return _ILLEGAL.sub(lambda m: f"_x{ord(m.group()):04X}_", text)


def xml_text(text: str) -> str:
    """``text`` escaped for an inline string, control characters as Excel's _xHHHH_.

    >>> xml_text("a<b & \x01 _x0041_"), xml_text("=SUM(A1) & <b>"), xml_text("bell\x07")
    ('a&lt;b &amp; _x0001_ _x005F_x0041_', '=SUM(A1) &amp; &lt;b&gt;', 'bell_x0007_')
    """
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if "_x" in text:
        text = _LOOKS_ESCAPED.sub(r"_x005F_\1", text)
    return controls_escaped(text) if _ILLEGAL.search(text) else text


def _text_cell(style_id: int, text: str) -> str:
    return f'<c s="{style_id}" t="inlineStr"><is><t xml:space="preserve">{xml_text(text)}</t></is></c>'


@dataclass
class Column:
    """One column of a streamed sheet.

    ``values``: a float array (numbers; NaN is an empty cell), or ``codes`` into
    ``words`` (text that repeats: symbols, sides, statuses; -1 is an empty cell), or a list
    of str. ``styles``: a style id of each word (a status's fill), else the column's.
    """

    values: object = None
    codes: np.ndarray = None
    words: list = None
    styles: list = None

    def __len__(self):
        return len(self.codes) if self.words is not None else len(self.values)


@dataclass
class SheetData:
    """Rows to splice into one sheet part (``arcname``), below its header row: ``chunks()``
    yields them as lists of :class:`Column` (one per sheet column), made while they are written."""

    style_ids: list
    chunks: object
    ws: object = None  # the openpyxl sheet, which names the part once saved
    arcname: str = ""
    shared: object = None  # the workbook's SharedStrings, while it is written


class SharedStrings:
    """The workbook's shared strings: a word that repeats down a column (symbol, side, status,
    account) is written once, its cells hold its number."""

    def __init__(self):
        self.index = {}

    def numbers(self, words) -> np.ndarray:
        return np.array([self.index.setdefault(str(w), len(self.index)) for w in words], dtype=np.int64)

    def xml(self) -> bytes:
        items = "".join(f'<si><t xml:space="preserve">{xml_text(w)}</t></si>' for w in self.index)
        return (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="{_MAIN}" '
            f'uniqueCount="{len(self.index)}">{items}</sst>'
        ).encode()


_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_SST_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
_SST_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"
_SHARED_PARTS = {
    "[Content_Types].xml": (
        b"</Types>",
        f'<Override PartName="/xl/sharedStrings.xml" ContentType="{_SST_TYPE}"/>',
    ),
    "xl/_rels/workbook.xml.rels": (
        b"</Relationships>",
        f'<Relationship Id="rIdShared" Type="{_SST_REL}" Target="sharedStrings.xml"/>',
    ),
}
SHARED_MOST = 10_000  # a column with more distinct words (a memo) stays inline


def _cells(col: Column, style_id: int, a: int, b: int, shared=None) -> list:
    """The ``<c>`` elements (bytes) of rows ``a:b`` of one column. No ``r="B2"`` references
    (optional in SpreadsheetML: a cell follows the one before); no value: ``<c s=".."/>``.
    ``shared``: the shared-string number of each of ``col.words``."""
    empty = f'<c s="{style_id}"/>'.encode()
    if shared is not None and col.styles is None:
        codes = np.asarray(col.codes[a:b])
        numbers = np.where(codes < 0, -1, shared[codes])
        return _number_cells(numbers, f'<c s="{style_id}" t="s">', empty, missing=b"-1")
    if col.words is not None:  # each word's cell once, then one per row by its code
        styles = col.styles or [style_id] * len(col.words)
        if shared is not None:
            words = [f'<c s="{s}" t="s"><v>{k}</v></c>'.encode() for s, k in zip(styles, shared.tolist())]
        else:
            words = [_text_cell(s, str(w)).encode() for s, w in zip(styles, col.words)]
        words = np.array(words + [empty], dtype=object)
        codes = np.asarray(col.codes[a:b])
        return words[np.where(codes < 0, len(words) - 1, codes)].tolist()
    if not isinstance(col.values, np.ndarray):
        return [_text_cell(style_id, t).encode() if t != "" else empty for t in col.values[a:b]]
    v = col.values[a:b]
    if v.dtype.kind == "f":  # inf and NaN: empty; -0.0 written as 0.0
        v = np.where(np.isfinite(v), v, np.nan) + 0.0
    return _number_cells(v, f'<c s="{style_id}">', empty)


def _number_cells(v, start: str, empty: bytes, missing=b"null") -> list:
    """One ``<c>`` per number of ``v``; ``missing`` (NaN's null, or a number): ``empty``."""
    if not len(v):
        return []
    pre, post = start.encode() + b"<v>", b"</v></c>"
    cells = pre + _numbers(v).replace(b",", post + b"\0" + pre) + post
    return cells.replace(pre + missing + post, empty).split(b"\0")


def _numbers(v: np.ndarray) -> bytes:
    """``v`` as "1.5,null,2": each float's shortest repr that reads back as the same float
    (orjson's, 15x faster than Python's; Python's repr without it), NaN as null."""
    try:
        import orjson
    except ImportError:
        return (
            repr([x if x == x else None for x in v.tolist()])[1:-1]
            .replace(", ", ",")
            .replace("None", "null")
            .encode()
        )
    return orjson.dumps(np.ascontiguousarray(v), option=orjson.OPT_SERIALIZE_NUMPY)[1:-1]


def stream_rows(data: SheetData, first_row: int = 2, progress=None):
    """Yield the SpreadsheetML of ``data``'s rows, encoded, batch by batch."""
    for columns in data.chunks():
        m = len(columns[0]) if columns else 0
        shared = [
            data.shared.numbers(col.words)
            if data.shared is not None and col.words is not None and len(col.words) <= SHARED_MOST
            else None
            for col in columns
        ]
        for a in range(0, m, BATCH_ROWS):
            b = min(a + BATCH_ROWS, m)
            # rows × (row break, cells): one join over the flattened table (2.7x zip and joins)
            table = np.empty((b - a, len(columns) + 1), dtype=object)
            table[:, 0] = b"</row><row>"
            for j, (col, sid, sh) in enumerate(zip(columns, data.style_ids, shared), 1):
                table[:, j] = _cells(col, sid, a, b, sh)
            yield b"".join(table.ravel().tolist())[len(b"</row>") :] + b"</row>"
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
    shared = SharedStrings()
    now = time.localtime()[:6]
    with (
        zipfile.ZipFile(io.BytesIO(workbook_bytes)) as zin,
        zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as zout,
    ):
        for info in zin.infolist():
            part = zin.read(info.filename)
            data = by_name.get(info.filename)
            info = zipfile.ZipInfo(info.filename, date_time=now)
            info.compress_type = zipfile.ZIP_DEFLATED
            if info.filename in _SHARED_PARTS:  # the shared strings' type and relationship
                end, entry = _SHARED_PARTS[info.filename]
                part = part.replace(end, entry.encode() + end)
            if data is None:
                zout.writestr(info, part, compresslevel=compresslevel)
                continue
            data.shared = shared
            head, tail = part.split(b"</sheetData>", 1)
            with zout.open(info, "w", force_zip64=True) as fh:
                if hasattr(fh, "_compressor"):  # zipfile's deflater, swapped for a faster one
                    fh._compressor = _compressobj(compresslevel)
                fh.write(head)
                _write_in_thread(fh, stream_rows(data, progress=progress))
                fh.write(b"</sheetData>" + tail)
        info = zipfile.ZipInfo("xl/sharedStrings.xml", date_time=now)
        zout.writestr(info, shared.xml(), compress_type=zipfile.ZIP_DEFLATED, compresslevel=compresslevel)


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
