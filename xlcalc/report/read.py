"""Files to raw rows: text cells with the line (CSV) or row (xlsx) number of each row.

Nothing here decides what a value means (that is :mod:`xlcalc.report.reader`); this module
makes sure every row of the file arrives, once, with its own line number, or the file is
refused with one sentence. Rows come as DataFrames of text, ``CHUNK_ROWS`` at a time, with
two extra columns where needed:

* :data:`OVERFLOW`: the row's fields beyond the header (JSON list), "" when none;
* :data:`PROBLEMS`: what the reader found wrong with the row's cells (JSON list of
  ``[header, cell, kind, detail]``), "" when nothing: a formula without a saved value, a
  cell longer than Excel allows, a stray quote.

CSV: UTF-8 (BOM or not), cp932, UTF-16; comma, semicolon or tab separated (from the header
line). The fast reader is pandas'; a file it cannot read exactly (quoted line breaks, rows
longer than the header, very long lines) is read again by :func:`_csv_records`, which finds
a stray quote that would swallow the following lines and rejects only its own line.

xlsx: read by a bounded streaming parser over defusedxml (no DTDs, no entities), never more
than the part sizes, the cell length and the column count allow.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
import zipfile
import zlib
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .._files import detect_delimiter, detect_encoding
from .._inputs import InputError

CHUNK_ROWS = 25_000  # rows read, validated and written at once: memory holds one chunk
MAX_COLUMNS = 16_384  # Excel's last column, XFD
MAX_ROWS = 1_048_576  # Excel's last row
CELL_CHARS = 32_767  # Excel's longest cell text
# An xlsx part (sheet, shared strings) may not decompress beyond this, nor expand more than
# MAX_RATIO times once past RATIO_FROM bytes: real sheets compress 5-50 times, a zip bomb ~1,000.
MAX_PART_BYTES = 4 << 30
MAX_RATIO, RATIO_FROM = 300, 64 << 20
MAX_SMALL_PART = 64 << 20  # workbook.xml, styles.xml, rels

# Extra fields of a row longer than the header land in this column (never a user header).
OVERFLOW = "\x00overflow"
PROBLEMS = "\x00problems"


class RowTooLong(Exception):
    """The fast reader met a row it cannot read exactly: read again with ``tolerant=True``."""


@dataclass
class ExactLines:
    """Kept for callers that handle it; the readers now give exact line numbers themselves."""

    path: Path
    encoding: str

    def chunks(self):
        return iter(())


@dataclass
class Source:
    """What the file is: decides defaults of the values' reading (decimal separator)."""

    kind: str  # "csv", "xlsx" or "frame"
    delimiter: str = ","
    encoding: str | None = None
    sheet: str | None = None
    chunks: object = field(default=None, repr=False)  # iterator of (DataFrame, lines)


def column_letter(index: int) -> str:
    """Excel's name of the 0-based column ``index``.

    >>> column_letter(0), column_letter(25), column_letter(26), column_letter(16_383)
    ('A', 'Z', 'AA', 'XFD')
    """
    name = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        name = chr(65 + rem) + name
    return name


def clean_header(values, kind: str, path) -> tuple[list, int]:
    """The header's names and its width: trailing empty cells (formatted columns right of
    the data) are not columns; an empty name inside gets its column's name; two columns with
    one name are refused, naming both."""
    names = ["" if v is None else str(v).strip() for v in values]
    width = len(names)
    while width and names[width - 1] == "":
        width -= 1
    if width > MAX_COLUMNS:
        raise InputError(
            f"input file {str(path)!r} has {width:,} columns; Excel holds {MAX_COLUMNS:,}: "
            f"is it really a positions file?"
        )
    names = names[:width]
    if any(len(n) > CELL_CHARS for n in names):
        i = next(i for i, n in enumerate(names) if len(n) > CELL_CHARS)
        raise InputError(
            f"input file {str(path)!r}: the header of column {i + 1} is {len(names[i]):,} "
            f"characters long ({_clip(names[i], 40)!r}): is the first row really the header?"
        )
    where = (lambda i: f"column {column_letter(i)}") if kind == "xlsx" else (lambda i: f"field {i + 1}")
    seen = {}
    for i, name in enumerate(names):
        if name == "":
            names[i] = f"({where(i)})"
        elif name in seen:
            raise InputError(
                f"input file {str(path)!r} has two columns named {name!r} ({where(seen[name])} "
                f"and {where(i)}): keep one, or rename the other"
            )
        seen.setdefault(names[i], i)
    return names, width


def _frame(header, rows):
    width = len(header)
    rows = [r + [""] * (width - len(r)) for r in rows]
    return pd.DataFrame(rows, columns=range(width), dtype=object).set_axis(header, axis=1)


def _clip(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


# -- file kind -----------------------------------------------------------------------------------

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def open_source(path: Path, *, tolerant=False, sheet=None, delimiter=None) -> Source:
    """The :class:`Source` of a positions file, by content first, then by extension."""
    with open(path, "rb") as fh:
        head = fh.read(8)
    suffix = path.suffix.lower()
    if head.startswith(_OLE) or suffix == ".xls":
        raise InputError(
            f"input file {str(path)!r} is an old Excel .xls workbook: open it in Excel or "
            f"LibreOffice and save it as .xlsx (or CSV), then run again"
        )
    if suffix in (".ods", ".numbers"):
        raise InputError(
            f"input file {str(path)!r} is a {suffix} spreadsheet: save it as .xlsx (or CSV) and run again"
        )
    if head.startswith(b"PK\x03\x04") or suffix in (".xlsx", ".xlsm"):
        return _open_xlsx(path, sheet)
    if sheet is not None:
        raise InputError(f"sheet={sheet!r} was given but {str(path)!r} is a CSV, not a workbook")
    return _open_csv(path, tolerant, delimiter)


# -- CSV -------------------------------------------------------------------------------------------


def _open_csv(path, tolerant, delimiter):
    encoding = detect_encoding(path)
    try:
        with open(path, encoding=encoding, newline="") as fh:
            first = fh.readline(1 << 20)
        if not first.strip():
            with open(path, encoding=encoding, newline="") as fh:
                if not any(line.strip() for line in fh):
                    raise InputError(f"input file {str(path)!r} is empty")
    except UnicodeDecodeError as exc:
        raise InputError(f"input file {str(path)!r} is not valid {encoding} text ({exc.reason})") from None
    delimiter = delimiter or detect_delimiter(first)
    src = Source(kind="csv", delimiter=delimiter, encoding=encoding)
    fast = not tolerant and not encoding.startswith("utf-16")
    src.chunks = _csv_fast(path, encoding, delimiter) if fast else _csv_records(path, encoding, delimiter)
    return src


def _csv_fast(path, encoding, delimiter):
    """pandas' C reader; raises RowTooLong (read again, slowly) for what it cannot read exactly."""
    with open(path, encoding=encoding, newline="") as fh:
        header_fields = next(csv.reader(fh, delimiter=delimiter), None)
    if not header_fields:
        raise InputError(f"input file {str(path)!r} has no header row")
    if len(header_fields) > MAX_COLUMNS:
        clean_header(header_fields, "csv", path)  # raises: too many columns
    names, width = clean_header(header_fields, "csv", path)
    full = names + [f"\x00trailing {i}" for i in range(len(header_fields) - width)]
    records = 0
    try:
        import warnings

        with warnings.catch_warnings():
            # pandas would drop the extra fields of a row longer than the header: refuse.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            reader = pd.read_csv(
                path,
                encoding=encoding,
                dtype=str,
                keep_default_na=False,
                na_filter=False,
                skip_blank_lines=False,
                index_col=False,
                chunksize=CHUNK_ROWS,
                sep=delimiter,
                header=0,
                names=full,
                quoting=csv.QUOTE_MINIMAL,
            )
            for chunk in reader:
                if width < len(full):
                    chunk = _trailing_to_overflow(chunk, width)
                yield chunk, np.arange(records, records + len(chunk), dtype=np.int64) + 2
                records += len(chunk)
    except (pd.errors.ParserWarning, pd.errors.ParserError, csv.Error):
        raise RowTooLong() from None
    except pd.errors.EmptyDataError:
        raise InputError(f"input file {str(path)!r} is empty") from None
    if records == 0:  # a header and no rows: an empty report, not "no header"
        yield pd.DataFrame(columns=names, dtype=object), np.zeros(0, dtype=np.int64)
    # One record per line, no line longer than a cell, or read again exactly.
    lines, longest = _count_lines(path)
    if records + 1 != lines or longest > CELL_CHARS:
        raise RowTooLong()


def _trailing_to_overflow(chunk, width):
    """Columns right of the header's last name: ignored when empty (formatted cells), else the
    row's extra fields."""
    tail = chunk.iloc[:, width:]
    chunk = chunk.iloc[:, :width].copy()
    filled = (tail != "").to_numpy()
    overflow = np.full(len(chunk), "", dtype=object)
    for i in np.flatnonzero(filled.any(axis=1)):
        extra = tail.iloc[i].tolist()
        while extra and extra[-1] == "":
            extra.pop()
        overflow[i] = json.dumps(extra)
    chunk[OVERFLOW] = overflow
    return chunk


def _count_lines(path: Path) -> tuple[int, int]:
    """(lines in the file, bytes of its longest line, or 0 when no line reaches 16 KiB).

    A line of 32 KiB or more holds a whole aligned 16 KiB segment without a line break, so
    only a file with such a segment is measured exactly (numpy over its blocks)."""
    size = path.stat().st_size
    if size == 0:
        return 0, 0
    seg = 1 << 14
    newlines = 0
    maybe_long = False
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            newlines += block.count(b"\n")
            if not maybe_long:
                full = range(0, len(block) - seg + 1, seg)
                maybe_long = any(block.find(b"\n", i, i + seg) < 0 for i in full)
        fh.seek(-1, io.SEEK_END)
        last = fh.read(1)
    lines = newlines + (0 if last == b"\n" else 1)
    return lines, (_longest_line(path, size) if maybe_long else 0)


def _longest_line(path, size) -> int:
    longest, start, offset = 0, 0, 0  # start: offset of the current line's first byte
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            ends = np.flatnonzero(np.frombuffer(block, dtype=np.uint8) == 10) + offset
            if len(ends):
                longest = max(longest, int(ends[0] - start), int(np.diff(ends).max()) if len(ends) > 1 else 0)
                start = int(ends[-1]) + 1
            offset += len(block)
    return max(longest, size - start)


def _looks_like_rows(lines, delimiter, width) -> bool:
    """Is a record spanning ``lines`` a stray quote? Its first line is a whole row by itself
    and a later line is one too (a note spanning lines starts or continues a partial row)."""
    need = max(width - 1, 2)
    if lines[0][1].count(delimiter) + 1 < need:
        return False
    return any(text.count(delimiter) + 1 >= need for _, text in lines[1:])


def _literal_fields(text: str, delimiter: str) -> list:
    """A line's fields with its quotes as plain characters (the line of a stray quote)."""
    return next(csv.reader([text.rstrip("\r\n")], delimiter=delimiter, quoting=csv.QUOTE_NONE), [])


def _csv_records(path, encoding, delimiter):
    """The csv module, record by record, each with its first line's number.

    A quoted field spanning lines that look like records of their own is a stray quote: the
    line where it opens is rejected alone and the lines after it are read again as records.
    A row longer than the header keeps its extra fields (OVERFLOW); a field longer than an
    Excel cell is a problem of its row."""
    old_limit = csv.field_size_limit()
    csv.field_size_limit(sys.maxsize if sys.maxsize < 2**63 else 2**31 - 1)
    try:
        with open(path, encoding=encoding, newline="") as fh:
            lines = _Lines(fh)
            pending, consumed, count = lines.pending, lines.consumed, lines.count

            reader = csv.reader(lines, delimiter=delimiter)
            header = None
            while header is None:
                consumed.clear()
                record = next(reader, None)
                if record is None:
                    raise InputError(f"input file {str(path)!r} is empty")
                if any(v.strip() for v in record):
                    header = record
            if len(header) > MAX_COLUMNS:
                clean_header(header, "csv", path)
            names, width = clean_header(header, "csv", path)
            columns = names + [OVERFLOW, PROBLEMS]
            rows, numbers = [], []
            while True:
                consumed.clear()
                try:
                    record = next(reader, None)
                except csv.Error as exc:  # e.g. NUL byte: the line alone is rejected
                    record = None
                    first = consumed[0] if consumed else (count[0], "")
                    rows.append(
                        _stray_row(
                            _literal_fields(first[1], delimiter),
                            width,
                            ["", f"line {first[0]}", "unreadable", str(exc)],
                        )
                    )
                    numbers.append(first[0])
                    pending.extendleft(reversed(consumed[1:]))
                    continue
                if record is None:
                    break
                first_line = consumed[0][0] if consumed else count[0]
                if len(consumed) > 1 and _looks_like_rows(consumed, delimiter, width):
                    rows.append(
                        _stray_row(
                            _literal_fields(consumed[0][1], delimiter),
                            width,
                            ["", f"line {first_line}", "stray_quote", str(len(consumed) - 1)],
                        )
                    )
                    numbers.append(first_line)
                    pending.extendleft(reversed(consumed[1:]))
                else:
                    rows.append(_record_row(record, width, names))
                    numbers.append(first_line)
                if len(rows) >= CHUNK_ROWS:
                    yield (
                        pd.DataFrame(rows, columns=columns, dtype=object),
                        np.asarray(numbers, dtype=np.int64),
                    )
                    rows, numbers = [], []
            yield pd.DataFrame(rows, columns=columns, dtype=object), np.asarray(numbers, dtype=np.int64)
    except UnicodeDecodeError as exc:
        raise InputError(f"input file {str(path)!r} is not valid {encoding} text ({exc.reason})") from None
    finally:
        csv.field_size_limit(old_limit)


class _Lines:
    """The file's lines for the csv module, each remembered with its number until the record
    is taken; lines pushed back to ``pending`` are read again (after a stray quote). Unlike a
    generator, it goes on after reporting the end once."""

    def __init__(self, fh):
        self.fh = fh
        self.pending, self.consumed, self.count = deque(), [], [0]

    def __iter__(self):
        return self

    def __next__(self):
        if self.pending:
            item = self.pending.popleft()
        else:
            text = self.fh.readline()
            if not text:
                raise StopIteration
            self.count[0] += 1
            item = (self.count[0], text)
        self.consumed.append(item)
        return item[1]


def _record_row(record, width, names):
    extra = record[width:]
    while extra and extra[-1] == "":
        extra.pop()  # trailing empty fields (a stray comma) are harmless
    row = record[:width] + [""] * (width - len(record))
    problems = []
    for i, value in enumerate(row):
        if len(value) > CELL_CHARS:
            problems.append([names[i], f"field {i + 1}", "too_long", len(value)])
    if len(extra) > MAX_COLUMNS:
        problems.append(["", "", "too_many_fields", len(record)])
        extra = extra[:MAX_COLUMNS]
    if any(len(v) > CELL_CHARS for v in extra):
        problems.append(["", "", "too_long", max(len(v) for v in extra)])
    return row + [json.dumps(extra) if extra else "", json.dumps(problems) if problems else ""]


def _stray_row(fields, width, problem):
    extra = fields[width:]
    while extra and extra[-1] == "":
        extra.pop()
    row = fields[:width] + [""] * (width - len(fields))
    return row + [json.dumps(extra) if extra else "", json.dumps([problem])]


# -- xlsx ------------------------------------------------------------------------------------------

_REL_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
# Built-in number formats that show dates (ECMA-376 18.8.30, with the CJK date formats 27-36, 50-58).
_DATE_FORMATS = set(range(14, 23)) | {45, 46, 47} | set(range(27, 37)) | set(range(50, 59))


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _zip_member(zf, name, path, limit):
    """Bytes of a small xlsx part, refused beyond ``limit``."""
    try:
        info = zf.getinfo(name)
    except KeyError:
        return None
    _check_size(info, path, limit)
    return zf.read(info)


def _check_size(info, path, limit=MAX_PART_BYTES):
    if info.file_size > limit or (
        info.file_size > RATIO_FROM and info.file_size > MAX_RATIO * max(info.compress_size, 1)
    ):
        raise InputError(
            f"input file {str(path)!r}: its part {info.filename} would expand to "
            f"{info.file_size / 1e6:,.0f} MB from {info.compress_size / 1e6:,.1f} MB; refused "
            f"(a damaged or hostile workbook): save it again from Excel, or export a CSV"
        )


def _xml(data, path, part):
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import ParseError, fromstring

    try:
        return fromstring(data, forbid_dtd=True)
    except DefusedXmlException:
        raise InputError(
            f"input file {str(path)!r}: {part} declares XML entities or a DTD; refused as unsafe"
        ) from None
    except ParseError as exc:
        raise InputError(
            f"input file {str(path)!r} is damaged ({part}: {exc}); open and save it again "
            f"in Excel or LibreOffice"
        ) from None


def _open_xlsx(path, sheet):
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as exc:
        raise InputError(f"input file {str(path)!r} is not a readable xlsx ({exc})") from None
    try:
        names = set(zf.namelist())
        if "xl/workbook.xml" not in names:
            if "content.xml" in names:
                raise InputError(
                    f"input file {str(path)!r} is an OpenDocument (.ods) spreadsheet: save it "
                    f"as .xlsx (or CSV) and run again"
                )
            raise InputError(f"input file {str(path)!r} is a zip file but not an xlsx workbook")
        book = _xml(_zip_member(zf, "xl/workbook.xml", path, MAX_SMALL_PART), path, "xl/workbook.xml")
        rels = _zip_member(zf, "xl/_rels/workbook.xml.rels", path, MAX_SMALL_PART)
        targets = {}
        if rels is not None:
            for rel in _xml(rels, path, "xl/_rels/workbook.xml.rels"):
                target = rel.get("Target", "")
                target = target.lstrip("/") if target.startswith("/") else "xl/" + target
                targets[rel.get("Id")] = (re.sub(r"[^/]+/\.\./", "", target), rel.get("Type", ""))
        sheets, active, date1904, recalc = [], 0, False, False
        for el in book.iter():
            tag = _local(el.tag)
            if tag == "sheet":
                sheets.append((el.get("name"), el.get("state", "visible"), targets.get(el.get(_REL_ID))))
            elif tag == "workbookView" and el.get("activeTab") is not None:
                active = int(el.get("activeTab"))
            elif tag == "workbookPr":
                date1904 = el.get("date1904") in ("1", "true")
            elif tag == "calcPr":
                recalc = el.get("fullCalcOnLoad") in ("1", "true")
        name, target = _choose_sheet(sheets, active, sheet, path)
        if target is None or target[0] not in names:
            raise InputError(f"input file {str(path)!r}: sheet {name!r} has no cells (is it a chart sheet?)")
        if "chartsheet" in target[1]:
            raise InputError(f"input file {str(path)!r}: sheet {name!r} is a chart, not a table")
        dates = _date_styles(zf, path)
        shared = _shared_strings(zf, path)
        member = zf.getinfo(target[0])
        _check_size(member, path)
    except InputError:
        zf.close()
        raise
    except (
        zipfile.BadZipFile,
        OSError,
        EOFError,
        zlib.error,
        ValueError,
        KeyError,
        RuntimeError,
        NotImplementedError,
    ) as exc:  # zipfile: encrypted, unknown compression
        zf.close()
        raise InputError(
            f"input file {str(path)!r} is damaged ({exc}); open and save it again in Excel or LibreOffice"
        ) from None
    except BaseException:
        zf.close()
        raise
    src = Source(kind="xlsx", sheet=name)
    src.chunks = _sheet_rows(zf, member, path, name, shared, dates, date1904, recalc)
    return src


def _choose_sheet(sheets, active, wanted, path):
    """The sheet to read: ``wanted`` (a name or a 0-based position), else the active sheet
    when it is visible, else the first visible one; never a hidden one unless asked for."""
    if not sheets:
        raise InputError(f"input file {str(path)!r} has no sheets")
    visible = [s for s in sheets if s[1] == "visible"]
    if wanted is not None:
        if isinstance(wanted, int) and not isinstance(wanted, bool):
            if 0 <= wanted < len(sheets):
                return sheets[wanted][0], sheets[wanted][2]
        else:
            for s in sheets:
                if s[0] == wanted:
                    return s[0], s[2]
            for s in sheets:
                if str(s[0]).casefold() == str(wanted).strip().casefold():
                    return s[0], s[2]
        raise InputError(
            f"sheet {wanted!r} is not in {str(path)!r}; its sheets are: "
            f"{', '.join(repr(s[0]) for s in sheets)}",
            argument="sheet",
            value=wanted,
        )
    if 0 <= active < len(sheets) and sheets[active][1] == "visible":
        return sheets[active][0], sheets[active][2]
    if not visible:
        raise InputError(f"input file {str(path)!r} has no visible sheet; name one with --sheet")
    return visible[0][0], visible[0][2]


def _date_styles(zf, path) -> set:
    data = _zip_member(zf, "xl/styles.xml", path, MAX_SMALL_PART)
    if data is None:
        return set()
    from openpyxl.styles.numbers import is_date_format

    root = _xml(data, path, "xl/styles.xml")
    custom = {}
    xfs = []
    for el in root:
        tag = _local(el.tag)
        if tag == "numFmts":
            for f in el:
                custom[int(f.get("numFmtId", -1))] = f.get("formatCode", "")
        elif tag == "cellXfs":
            xfs = [int(x.get("numFmtId", 0)) for x in el]
    dates = set()
    for i, fmt in enumerate(xfs):
        if fmt in custom:
            if is_date_format(custom[fmt]):
                dates.add(str(i))
        elif fmt in _DATE_FORMATS:
            dates.add(str(i))
    return dates


class _TooLong(str):
    """A cell text cut at Excel's limit; ``length`` is its real length."""

    length = 0


def _parser(handler):
    from defusedxml.sax import make_parser

    parser = make_parser()
    parser.forbid_dtd = True
    parser.setContentHandler(handler)
    return parser


def _feed(parser, zf, member, path, part, handler=None, chunks=None):
    """Stream ``member`` through ``parser`` in 1 MiB pieces; bounded by its declared size."""
    from xml.sax import SAXParseException

    from defusedxml import DefusedXmlException

    read = 0
    try:
        with zf.open(member) as fh:
            while block := fh.read(1 << 20):
                read += len(block)
                if read > MAX_PART_BYTES:
                    raise InputError(
                        f"input file {str(path)!r}: {part} is larger than {MAX_PART_BYTES >> 30} GB; refused"
                    )
                parser.feed(block)
                if chunks is not None:
                    yield from chunks()
            parser.close()
    except InputError:
        raise
    except DefusedXmlException:
        raise InputError(
            f"input file {str(path)!r}: {part} declares XML entities or a DTD; refused as unsafe"
        ) from None
    except SAXParseException as exc:
        raise InputError(
            f"input file {str(path)!r} is damaged ({part}, line {exc.getLineNumber()}, column "
            f"{exc.getColumnNumber()}: {exc.getMessage()}); open and save it again in Excel "
            f"or LibreOffice, or export a CSV"
        ) from None
    except (
        zipfile.BadZipFile,
        EOFError,
        OSError,
        ValueError,
        zlib.error,
        RuntimeError,
        NotImplementedError,
    ) as exc:  # CRC, truncated, encrypted
        raise InputError(
            f"input file {str(path)!r} is damaged ({part}: {exc}); open and save it again "
            f"in Excel or LibreOffice"
        ) from None


class _Text:
    """Bounded text accumulation: never more than CELL_CHARS + 1 characters kept."""

    __slots__ = ("parts", "size")

    def __init__(self):
        self.parts, self.size = [], 0

    def add(self, content):
        if self.size <= CELL_CHARS:
            self.parts.append(content[: CELL_CHARS + 1 - self.size])
        self.size += len(content)

    def value(self):
        text = "".join(self.parts)
        if self.size > CELL_CHARS:
            text = _TooLong(text[:CELL_CHARS])
            text.length = self.size
        return text


def _shared_strings(zf, path) -> list:
    from xml.sax.handler import ContentHandler

    try:
        member = zf.getinfo("xl/sharedStrings.xml")
    except KeyError:
        return []
    _check_size(member, path)
    strings = []

    class Handler(ContentHandler):
        def __init__(self):
            super().__init__()
            self.text, self.collect, self.phonetic = None, False, 0

        def startElement(self, name, attrs):
            name = name.rpartition(":")[2]
            if name == "si":
                self.text = _Text()
            elif name == "t" and not self.phonetic:
                self.collect = True
            elif name == "rPh":  # furigana of Japanese text: not part of the value
                self.phonetic += 1

        def endElement(self, name):
            name = name.rpartition(":")[2]
            if name == "t":
                self.collect = False
            elif name == "rPh":
                self.phonetic -= 1
            elif name == "si":
                strings.append(self.text.value())

        def characters(self, content):
            if self.collect:
                self.text.add(content)

    for _ in _feed(_parser(Handler()), zf, member, path, "xl/sharedStrings.xml"):
        pass
    return strings


_REF = re.compile(r"([A-Z]{1,3})(\d+)$")


def _column_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def _sheet_rows(zf, member, path, sheet_name, shared, dates, date1904, recalc):
    """Rows of the sheet as (DataFrame of text, sheet row numbers), CHUNK_ROWS at a time."""
    from xml.sax.handler import ContentHandler

    from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

    epoch = CALENDAR_MAC_1904 if date1904 else CALENDAR_WINDOWS_1900
    done = []  # (row number, {column: value}, problems)
    part = f"sheet {sheet_name!r} ({member.filename})"

    class Handler(ContentHandler):
        def __init__(self):
            super().__init__()
            self.row_number, self.cells, self.problems = 0, {}, []
            self.col = -1
            self.text = None
            self.in_is = False
            self.phonetic = 0

        def startElement(self, name, attrs):
            name = name.rpartition(":")[2]
            if name == "c":
                ref = attrs.get("r")
                if ref:
                    m = _REF.match(ref)
                    if m is None:
                        raise InputError(
                            f"input file {str(path)!r} is damaged ({part}: cell reference {_clip(ref)!r})"
                        )
                    self.col = _column_index(m.group(1))
                else:
                    self.col += 1
                if self.col >= MAX_COLUMNS:
                    raise InputError(
                        f"input file {str(path)!r}: {part} has a cell in column "
                        f"{self.col + 1:,}, beyond Excel's {MAX_COLUMNS:,} columns; refused"
                    )
                self.type, self.style = attrs.get("t", "n"), attrs.get("s")
                self.formula, self.value, self.inline = None, None, None
            elif name == "v":
                self.text = _Text()
            elif name == "f":
                self.text = _Text()
                self.formula = ""
            elif name == "is":
                self.in_is, self.inline = True, _Text()
            elif name == "t" and self.in_is and not self.phonetic:
                self.text = self.inline
            elif name == "rPh":
                self.phonetic += 1
            elif name == "row":
                r = attrs.get("r")
                self.row_number = int(r) if r and r.isdigit() else self.row_number + 1
                if self.row_number > MAX_ROWS:
                    raise InputError(
                        f"input file {str(path)!r}: {part} has a row {self.row_number:,}, "
                        f"beyond Excel's {MAX_ROWS:,}; refused"
                    )
                self.cells, self.problems, self.col = {}, [], -1

        def characters(self, content):
            if self.text is not None:
                self.text.add(content)

        def endElement(self, name):
            name = name.rpartition(":")[2]
            if name == "v":
                self.value, self.text = self.text.value(), None
            elif name == "f":
                self.formula, self.text = self.text.value(), None
            elif name == "t":
                if self.in_is:
                    self.text = None
            elif name == "rPh":
                self.phonetic -= 1
            elif name == "is":
                self.in_is = False
            elif name == "c":
                self._cell()
            elif name == "row":
                done.append((self.row_number, self.cells, self.problems))

        def _cell(self):
            col, kind, value = self.col, self.type, self.value
            ref = f"{column_letter(col)}{self.row_number}"
            if self.formula is not None and (value is None or value == "" or recalc):
                # a formula whose result was never saved (written by a script): never blank, never 0
                self.cells[col] = "=" + str(self.formula)
                self.problems.append([col, ref, "formula", _clip("=" + str(self.formula), 100)])
                return
            if kind == "inlineStr":
                value = self.inline.value() if self.inline is not None else ""
            elif value is None:
                return
            elif kind == "s":
                try:
                    value = shared[int(value)]
                except (ValueError, IndexError):
                    raise InputError(
                        f"input file {str(path)!r} is damaged ({part}: cell {ref} names shared "
                        f"string {_clip(value)!r})"
                    ) from None
            elif kind == "b":
                value = "TRUE" if value in ("1", "true") else "FALSE"
            elif kind in ("n", "") and self.style in dates and value:
                try:
                    day = from_excel(float(value), epoch)
                    value = (
                        day.isoformat(sep=" ")
                        if getattr(day, "hour", 0) or getattr(day, "minute", 0)
                        else day.strftime("%Y-%m-%d")
                    )
                except (ValueError, OverflowError, TypeError):
                    pass
            if isinstance(value, _TooLong):
                self.problems.append([col, ref, "too_long", value.length])
            if value != "":
                self.cells[col] = value

    handler = Handler()
    parser = _parser(handler)
    state = {"header": None, "width": 0, "rows": [], "lines": []}

    def chunks():
        if not done:
            return
        items = done[:]
        done.clear()
        for number, cells, problems in items:
            if state["header"] is None:
                if not any(str(v).strip() for v in cells.values()):
                    continue
                top = max(cells) + 1
                header, width = clean_header([cells.get(i) for i in range(top)], "xlsx", path)
                if problems:
                    raise InputError(
                        f"input file {str(path)!r}: the header row {number} has a formula "
                        f"without a saved value or an over-long cell ({problems[0][1]})"
                    )
                state["header"], state["width"] = header, width
                continue
            header, width = state["header"], state["width"]
            row = [cells.get(i, "") for i in range(width)]
            extra_cols = sorted(c for c in cells if c >= width and str(cells[c]).strip() != "")
            extra = [cells.get(i, "") for i in range(width, extra_cols[-1] + 1)] if extra_cols else []
            named = [[header[c] if c < width else "", ref, kind, detail] for c, ref, kind, detail in problems]
            state["rows"].append(
                row + [json.dumps(extra) if extra else "", json.dumps(named) if named else ""]
            )
            state["lines"].append(number)
        if len(state["rows"]) >= CHUNK_ROWS:
            yield _flush()

    def _flush():
        rows, lines = state["rows"], state["lines"]
        state["rows"], state["lines"] = [], []
        return (
            pd.DataFrame(rows, columns=state["header"] + [OVERFLOW, PROBLEMS], dtype=object),
            np.asarray(lines, dtype=np.int64),
        )

    try:
        yield from _feed(parser, zf, member, path, part, chunks=chunks)
        yield from chunks()
        if state["header"] is None:
            raise InputError(f"input file {str(path)!r}: sheet {sheet_name!r} has no header row")
        yield _flush()
    finally:
        zf.close()
