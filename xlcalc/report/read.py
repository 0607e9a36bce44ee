"""Files to raw rows: text cells with the line (CSV) or row (xlsx) number of each row.

Nothing here decides what a value means (that is :mod:`xlcalc.report.reader`); this module
makes sure every row of the file arrives, once, with its own line number, or the file is
refused with one sentence. Rows come as DataFrames of text, ``CHUNK_ROWS`` at a time, with
two extra columns when a row of the chunk needs them:

* :data:`OVERFLOW`: the row's fields beyond the header (JSON list), "" when none;
* :data:`PROBLEMS`: what the reader found wrong with the row's cells (JSON list of
  ``[header, cell, kind, detail]``), "" when nothing: a formula without a saved value, a
  cell longer than Excel allows, a stray quote.

CSV: the encodings and separators :func:`xlcalc._files.detect_encoding` and
:func:`~xlcalc._files.detect_delimiter` know. pandas' C parser reads each block of lines in
which it finds one record a line; the csv module reads any other block record by record
(:func:`_one_by_one`), and finds a stray quote that would swallow the following lines.

xlsx: read by a bounded streaming parser over defusedxml (no DTDs, no entities), never more
than the part sizes, the cell length and the column count allow.
"""

from __future__ import annotations

import csv
import io
import json
import re
import warnings
import zipfile
import zlib
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from xml.sax import SAXParseException
from xml.sax.handler import ContentHandler

import numpy as np
import pandas as pd
from defusedxml import DefusedXmlException
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

from .._files import detect_delimiter, detect_encoding
from .._inputs import InputError

CHUNK_ROWS = 25_000  # rows read, validated and written at once: memory holds one chunk
MAX_COLUMNS = 16_384  # Excel's last column, XFD
MAX_ROWS = 1_048_576  # Excel's last row
CELL_CHARS = 32_767  # Excel's longest cell text
HEADER_SEARCH_ROWS = 20  # the header is looked for among the first non-blank rows (titles above it)
# Excel's first line "sep=;" names the CSV's separator: honoured, and not a row.
_SEP_LINE = re.compile(r'^\s*"?sep=(.)"?\s*$', re.IGNORECASE)
# An xlsx part (sheet, shared strings) may not decompress beyond this, nor expand more than
# MAX_RATIO times once past RATIO_FROM bytes: real sheets compress 5-50 times, a zip bomb ~1,000.
MAX_PART_BYTES = 4 << 30
MAX_RATIO, RATIO_FROM = 300, 64 << 20
MAX_SMALL_PART = 64 << 20  # workbook.xml, styles.xml, rels

# Extra fields of a row longer than the header land in this column (never a user header).
OVERFLOW = "\x00overflow"
PROBLEMS = "\x00problems"


class NumberCell(str):
    """The text of a cell that holds a number (an xlsx number cell, a DataFrame's float): its
    value is exact, whatever the decimal mark, which concerns numbers written as text."""

    __slots__ = ()


def number_cells(values) -> np.ndarray:
    """Which of ``values`` are :class:`NumberCell`."""
    return np.fromiter(map(type, values), dtype=object, count=len(values)) == NumberCell


@dataclass
class Source:
    """What the file is: decides defaults of the values' reading (decimal separator)."""

    kind: str  # "csv", "xlsx" or "frame"
    delimiter: str = ","
    sheet: str | None = None
    chunks: object = None  # iterator of (DataFrame of text, line numbers)
    skipped: list = field(default_factory=list)  # (line, text) of the rows above the header (titles)


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
    for i, name in enumerate(names):
        if len(name) > CELL_CHARS:
            raise InputError(
                f"input file {str(path)!r}: the header of column {i + 1} is {len(name):,} "
                f"characters long ({_clip(name, 40)!r}): is the first row really the header?"
            )
    where = (
        (lambda i: f"column {get_column_letter(i + 1)}") if kind == "xlsx" else (lambda i: f"field {i + 1}")
    )
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


def _frame(names, rows, lines, notes):
    """A chunk: ``rows`` (lists of text) under ``names`` with their line numbers; ``notes``:
    row -> (its fields beyond the header, its problems), the OVERFLOW and PROBLEMS columns."""
    frame = pd.DataFrame(rows, columns=names, dtype=object)
    for column, k in ((OVERFLOW, 0), (PROBLEMS, 1)):
        if any(note[k] for note in notes.values()):
            cells = np.full(len(rows), "", dtype=object)
            for i, note in notes.items():
                cells[i] = json.dumps(note[k]) if note[k] else ""
            frame[column] = cells
    return frame, np.asarray(lines, dtype=np.int64)


def _clip(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def open_source(path: Path, *, sheet=None, is_header=None) -> Source:
    """The :class:`Source` of a positions or loans file, by content first, then by extension.

    Its header is the first row, among the first :data:`HEADER_SEARCH_ROWS` non-blank ones,
    that ``is_header`` (a function of the row's cells) accepts, so that title rows above it
    are skipped (noted in ``skipped``, not rows); when none is, or without ``is_header``, the
    first non-blank row."""
    with open(path, "rb") as fh:
        head = fh.read(8)
    suffix = path.suffix.lower()
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1") or suffix == ".xls":  # OLE: Excel 97-2003
        raise InputError(
            f"input file {str(path)!r} is an old Excel .xls workbook: open it in Excel or "
            f"LibreOffice and save it as .xlsx (or CSV), then run again"
        )
    if suffix in (".ods", ".numbers"):
        raise InputError(
            f"input file {str(path)!r} is a {suffix} spreadsheet: save it as .xlsx (or CSV) and run again"
        )
    if head.startswith(b"PK\x03\x04") or suffix in (".xlsx", ".xlsm"):
        return _open_xlsx(path, sheet, is_header)
    if sheet is not None:
        raise InputError(f"sheet={sheet!r} was given but {str(path)!r} is a CSV, not a workbook")
    src = Source("csv")
    src.chunks = _csv_chunks(path, src, is_header)
    return src


def _row_text(values) -> str:
    """A skipped row as one line: its non-empty cells."""
    return " ".join(str(v).strip() for v in values if v is not None and str(v).strip())


# -- CSV -------------------------------------------------------------------------------------------


def _csv_chunks(path, src, is_header=None):
    """The rows after the header, a block of CHUNK_ROWS lines at a time: read by pandas when
    each line is one record (record i is line i), else record by record. Sets the separator
    of ``src`` from the header's line (or Excel's "sep=;" first line) and the rows skipped
    above the header (:func:`open_source`)."""
    encoding, limit = detect_encoding(path), csv.field_size_limit()
    csv.field_size_limit(2**31 - 1)  # a field longer than a cell is its row's problem, not the file's
    try:
        with open(path, encoding=encoding, newline="") as fh:
            start, before, delimiter, src.skipped = _csv_header_line(fh, path, is_header)
            src.delimiter = delimiter
            fh.seek(start)
            reader = csv.reader(fh, delimiter=delimiter)
            header = next((record for record in reader if any(v.strip() for v in record)), None)
            if header is None:
                raise InputError(f"input file {str(path)!r} has no header row")
            names, width = clean_header(header, "csv", path)
            # pending: lines to read again; line: the last line read (lines before the header's counted)
            pending, line, full = deque(), before + reader.line_num, True
            while full or pending:
                block = [pending.popleft() for _ in range(min(len(pending), CHUNK_ROWS))]
                block += islice(fh, CHUNK_ROWS - len(block))
                full, chunk = len(block) == CHUNK_ROWS, _parsed(block, delimiter, names, len(header))
                if chunk is None:
                    pending.extendleft(reversed(block))
                    *chunk, line = _one_by_one(pending, fh, delimiter, names, width, line)
                    chunk = _frame(names, *chunk)
                else:
                    chunk = chunk, np.arange(line + 1, line + 1 + len(block), dtype=np.int64)
                    line += len(block)
                del block  # not held while the chunk is validated
                yield chunk
                del chunk
    except UnicodeDecodeError as exc:
        raise InputError(f"input file {str(path)!r} is not valid {encoding} text ({exc.reason})") from None
    except csv.Error as exc:  # the header's (a row's rejects that row only)
        raise InputError(f"input file {str(path)!r}: the header cannot be read as CSV ({exc})") from None
    finally:
        csv.field_size_limit(limit)


def _csv_header_line(fh, path, is_header):
    """(position of the header's line for ``fh.seek``, the number of lines before it, the
    separator, the skipped rows above it as ``(line, text)``): the first of the first
    HEADER_SEARCH_ROWS lines with text that ``is_header`` accepts, else the first."""
    sep, candidates, number = None, [], 0
    while len(candidates) < HEADER_SEARCH_ROWS:
        start, text = fh.tell(), _whole_line(fh)
        if not text:
            break
        number += 1
        if not text.strip():
            continue
        if not candidates and sep is None and (m := _SEP_LINE.match(text)):
            sep = m.group(1)  # Excel's "sep=;": the separator, not a row
            continue
        delimiter = sep or detect_delimiter(text)
        record = next(csv.reader([text.rstrip("\r\n")], delimiter=delimiter), [])
        if not any(v.strip() for v in record):
            continue
        candidates.append((start, number - 1, delimiter, record))
        if is_header is None or is_header(record):
            skipped = [(n + 1, _row_text(r)) for _, n, _, r in candidates[:-1]]
            return (*candidates[-1][:3], skipped)
    if not candidates:
        raise InputError(f"input file {str(path)!r} is empty")
    return (*candidates[0][:3], [])  # no row names the fields: the first is the header (its error says so)


def _whole_line(fh, keep=1 << 20) -> str:
    """The next line of ``fh`` (its first ``keep`` characters; the rest is read past)."""
    text = fh.readline(keep)
    rest = text
    while rest and not rest.endswith(("\n", "\r")):
        rest = fh.readline(keep)
    return text


def _parsed(block, delimiter, names, fields):
    """``block`` read by pandas, when each line is one record no longer than the header and
    than a cell (the header's ``fields`` beyond ``names`` are empty); else None."""
    if max(map(len, block), default=0) > CELL_CHARS:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)  # pandas would drop the extra fields
            frame = pd.read_csv(
                io.BytesIO("".join(block).encode()),
                names=range(fields),
                header=None,
                index_col=False,
                sep=delimiter,
                dtype=str,
                na_filter=False,
                skip_blank_lines=False,
                encoding="utf-8",
            )
    except (pd.errors.ParserError, pd.errors.ParserWarning, pd.errors.EmptyDataError):
        return None
    if len(frame) != len(block) or (
        fields > len(names) and (frame.iloc[:, len(names) :] != "").any(axis=None)
    ):
        return None
    return frame.iloc[:, : len(names)].set_axis(names, axis=1)


def _one_by_one(pending, fh, delimiter, names, width, line):
    """Up to CHUNK_ROWS records of the lines ``pending`` (and of the file's next lines while
    one is open) read one at a time, each with the number of its first line; returns (rows,
    their lines, notes as for :func:`_frame`, the last line read).

    A stray quote is a record spanning lines whose first line is a whole row by itself and a
    later line is one too (a note spanning lines starts or continues a partial row): its first
    line alone is rejected, its quotes taken literally, and the lines after it are read again.
    So is a record the csv module cannot read."""
    rows, lines, notes, need = [], [], {}, max(width - 1, 2)
    while pending and len(rows) < CHUNK_ROWS:
        taken = []
        try:
            record, problem = next(csv.reader(_taking(pending, fh, taken), delimiter=delimiter)), []
            rowlike = [t.count(delimiter) + 1 >= need for t in taken]
            if len(taken) > 1 and rowlike[0] and any(rowlike[1:]):
                problem = [["", f"line {line + 1}", "stray_quote", len(taken) - 1]]
        except csv.Error as exc:
            problem = [["", f"line {line + 1}", "unreadable", str(exc)]]
        if problem:
            record = next(
                csv.reader([taken[0].rstrip("\r\n")], delimiter=delimiter, quoting=csv.QUOTE_NONE), []
            )
            pending.extendleft(reversed(taken[1:]))
            taken = taken[:1]
        lines.append(line + 1)
        line += len(taken)
        row, notes[len(rows)] = _fit(record, names, width, problem)
        rows.append(row)
    return rows, lines, notes, line


def _taking(pending, fh, taken):
    """Lines for the csv module, ``pending`` ones first, each one noted in ``taken``."""
    while text := pending.popleft() if pending else fh.readline():
        taken.append(text)
        yield text


def _fit(record, names, width, problems):
    """A record as a row of the header's width, and (its fields beyond, its problems)."""
    extra = record[width:]
    while extra and extra[-1] == "":
        extra.pop()  # trailing empty fields (a stray comma) are harmless
    row = record[:width] + [""] * (width - len(record))
    problems += [
        [names[i], f"field {i + 1}", "too_long", len(v)] for i, v in enumerate(row) if len(v) > CELL_CHARS
    ]
    if len(extra) > MAX_COLUMNS:
        problems.append(["", "", "too_many_fields", len(record)])
        extra = extra[:MAX_COLUMNS]
    if any(len(v) > CELL_CHARS for v in extra):
        problems.append(["", "", "too_long", max(len(v) for v in extra)])
    return row, (extra, problems)


# -- xlsx ------------------------------------------------------------------------------------------

# zipfile's (CRC, truncated, encrypted, unknown compression) and ElementTree's (a SyntaxError)
_BROKEN = (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError, SyntaxError, zlib.error, RuntimeError)
_REF = re.compile(r"([A-Z]{1,3})(\d+)$")
_REL_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
# Built-in number formats that show dates (ECMA-376 18.8.30, with the CJK date formats 27-36, 50-58).
_DATE_FORMATS = set(range(14, 23)) | {45, 46, 47} | set(range(27, 37)) | set(range(50, 59))


@contextmanager
def _damaged(path, part):
    """Whatever a damaged or hostile part raises, as one sentence."""
    try:
        yield
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
    except _BROKEN as exc:
        raise InputError(
            f"input file {str(path)!r} is damaged ({part}: {exc}); open and save it again "
            f"in Excel or LibreOffice"
        ) from None


def _check_size(info, path, limit=MAX_PART_BYTES):
    if info.file_size > limit or (
        info.file_size > RATIO_FROM and info.file_size > MAX_RATIO * max(info.compress_size, 1)
    ):
        raise InputError(
            f"input file {str(path)!r}: its part {info.filename} would expand to "
            f"{info.file_size / 1e6:,.0f} MB from {info.compress_size / 1e6:,.1f} MB; refused "
            f"(a damaged or hostile workbook): save it again from Excel, or export a CSV"
        )


def _small_xml(zf, name, path):
    """The element tree of a small part (workbook, rels, styles); None when there is none."""
    from defusedxml.ElementTree import fromstring

    if name not in zf.NameToInfo:
        return None
    _check_size(zf.getinfo(name), path, MAX_SMALL_PART)
    with _damaged(path, name):
        return fromstring(zf.read(name), forbid_dtd=True)


def _open_xlsx(path, sheet, is_header=None):
    try:
        zf = zipfile.ZipFile(path)
    except _BROKEN as exc:
        raise InputError(f"input file {str(path)!r} is not a readable xlsx ({exc})") from None
    try:
        with _damaged(path, "xl/workbook.xml"):
            names = set(zf.namelist())
            if "xl/workbook.xml" not in names:
                if "content.xml" in names:
                    raise InputError(
                        f"input file {str(path)!r} is an OpenDocument (.ods) spreadsheet: save it "
                        f"as .xlsx (or CSV) and run again"
                    )
                raise InputError(f"input file {str(path)!r} is a zip file but not an xlsx workbook")
            targets = {}
            for rel in _small_xml(zf, "xl/_rels/workbook.xml.rels", path) or ():
                target = rel.get("Target", "")
                target = target.lstrip("/") if target.startswith("/") else "xl/" + target
                targets[rel.get("Id")] = (re.sub(r"[^/]+/\.\./", "", target), rel.get("Type", ""))
            sheets, active, date1904, recalc = [], 0, False, False
            for el in _small_xml(zf, "xl/workbook.xml", path).iter():
                tag = el.tag.rpartition("}")[2]
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
                raise InputError(
                    f"input file {str(path)!r}: sheet {name!r} has no cells (is it a chart sheet?)"
                )
            if "chartsheet" in target[1]:
                raise InputError(f"input file {str(path)!r}: sheet {name!r} is a chart, not a table")
            member = zf.getinfo(target[0])
            _check_size(member, path)
            part = f"sheet {name!r} ({member.filename})"
            cells = _Cells(path, part, _shared_strings(zf, path), _date_styles(zf, path), date1904, recalc)
    except BaseException:
        zf.close()
        raise
    src = Source("xlsx", sheet=name)
    src.chunks = _sheet_chunks(zf, member, path, name, cells, src, is_header)
    return src


def _choose_sheet(sheets, active, wanted, path):
    """The sheet to read: ``wanted`` (a name or a 0-based position), else the active sheet
    when it is visible, else the first visible one; never a hidden one unless asked for."""
    if not sheets:
        raise InputError(f"input file {str(path)!r} has no sheets")
    visible = [s for s in sheets if s[1] == "visible"]
    if wanted is None:
        if 0 <= active < len(sheets) and sheets[active][1] == "visible":
            return sheets[active][0], sheets[active][2]
        if not visible:
            raise InputError(f"input file {str(path)!r} has no visible sheet; name one with --sheet")
        return visible[0][0], visible[0][2]
    if isinstance(wanted, int) and not isinstance(wanted, bool):
        found = [sheets[wanted]] if 0 <= wanted < len(sheets) else []
    else:  # the exact name, else the name in any case
        found = [s for s in sheets if s[0] == wanted] or [
            s for s in sheets if str(s[0]).casefold() == str(wanted).strip().casefold()
        ]
    if not found:
        raise InputError(
            f"sheet {wanted!r} is not in {str(path)!r}; its sheets are: "
            f"{', '.join(repr(s[0]) for s in sheets)}",
            argument="sheet",
            value=wanted,
        )
    return found[0][0], found[0][2]


def _date_styles(zf, path) -> set:
    """The style ids (as text, as cells name them) whose number format shows a date."""
    from openpyxl.styles.numbers import is_date_format

    root = _small_xml(zf, "xl/styles.xml", path)
    custom, formats = {}, []
    for el in () if root is None else root:
        tag = el.tag.rpartition("}")[2]
        if tag == "numFmts":
            custom = {int(f.get("numFmtId", -1)): f.get("formatCode", "") for f in el}
        elif tag == "cellXfs":
            formats = [int(x.get("numFmtId", 0)) for x in el]
    return {
        str(i)
        for i, fmt in enumerate(formats)
        if (is_date_format(custom[fmt]) if fmt in custom else fmt in _DATE_FORMATS)
    }


def _shared_strings(zf, path) -> list:
    if "xl/sharedStrings.xml" not in zf.NameToInfo:
        return []
    member = zf.getinfo("xl/sharedStrings.xml")
    _check_size(member, path)
    handler = _Cells(path, "xl/sharedStrings.xml")
    for _ in _feed(handler, zf, member):
        pass
    return handler.strings


class _TooLong(str):
    """A cell text cut at Excel's limit; ``length`` is its real length."""

    length = 0


class _Cells(ContentHandler):
    """SAX events of a sheet to its finished rows, ``(row number, {column: text}, problems)``
    in ``rows``; of the shared strings part to ``strings``. A text is kept to CELL_CHARS + 1
    characters, whatever its length; the furigana of Japanese text (``rPh``) is not part of it."""

    def __init__(self, path, part, shared=(), dates=(), date1904=False, recalc=False):
        super().__init__()
        self.path, self.part, self.shared, self.dates, self.recalc = path, part, shared, dates, recalc
        self.epoch = CALENDAR_MAC_1904 if date1904 else CALENDAR_WINDOWS_1900
        self.rows, self.strings = [], []
        self.number, self.cells, self.problems, self.col = 0, {}, [], -1
        self.parts, self.size, self.reading = [], 0, False  # the text being read
        self.in_string, self.phonetic = False, 0  # in an inline (or shared) string; in its furigana

    def startElement(self, name, attrs):
        name = name.rpartition(":")[2]
        if name == "c":
            ref = attrs.get("r")
            if ref:
                m = _REF.match(ref)
                if m is None:
                    raise InputError(
                        f"input file {str(self.path)!r} is damaged "
                        f"({self.part}: cell reference {_clip(ref)!r})"
                    )
                self.col = column_index_from_string(m.group(1)) - 1
            else:
                self.col += 1
            if self.col >= MAX_COLUMNS:
                raise InputError(
                    f"input file {str(self.path)!r}: {self.part} has a cell in column "
                    f"{self.col + 1:,}, beyond Excel's {MAX_COLUMNS:,} columns; refused"
                )
            self.type, self.style = attrs.get("t", "n"), attrs.get("s")
            self.formula = self.value = self.inline = None
        elif name == "v" or name == "f":
            self.parts, self.size, self.reading = [], 0, True
        elif name == "is" or name == "si":
            self.parts, self.size, self.in_string = [], 0, True
        elif name == "t":
            self.reading = self.in_string and not self.phonetic
        elif name == "rPh":
            self.phonetic += 1
        elif name == "row":
            r = attrs.get("r")
            self.number = int(r) if r and r.isdigit() else self.number + 1
            if self.number > MAX_ROWS:
                raise InputError(
                    f"input file {str(self.path)!r}: {self.part} has a row {self.number:,}, "
                    f"beyond Excel's {MAX_ROWS:,}; refused"
                )
            self.cells, self.problems, self.col = {}, [], -1

    def characters(self, content):
        if self.reading:
            if self.size <= CELL_CHARS:
                self.parts.append(content[: CELL_CHARS + 1 - self.size])
            self.size += len(content)

    def _text(self):
        text = "".join(self.parts)
        if self.size > CELL_CHARS:
            text = _TooLong(text[:CELL_CHARS])
            text.length = self.size
        self.reading = False
        return text

    def endElement(self, name):
        name = name.rpartition(":")[2]
        if name == "v":
            self.value = self._text()
        elif name == "f":
            self.formula = self._text()
        elif name == "t":
            self.reading = False
        elif name == "rPh":
            self.phonetic -= 1
        elif name == "is":
            self.inline, self.in_string = self._text(), False
        elif name == "c":
            self._cell()
        elif name == "row":
            self.rows.append((self.number, self.cells, self.problems))
        elif name == "si":
            self.strings.append(self._text())
            self.in_string = False

    def _cell(self):
        col, kind, value = self.col, self.type, self.value
        ref = f"{get_column_letter(col + 1)}{self.number}"
        if self.formula is not None and (value is None or value == "" or self.recalc):
            # a formula whose result was never saved (written by a script): never blank, never 0
            self.cells[col] = "=" + self.formula
            self.problems.append([col, ref, "formula", _clip("=" + self.formula, 100)])
            return
        if kind == "inlineStr":
            value = "" if self.inline is None else self.inline
        elif value is None:
            return
        elif kind == "s":
            try:
                value = self.shared[int(value)]
            except (ValueError, IndexError):
                raise InputError(
                    f"input file {str(self.path)!r} is damaged ({self.part}: cell {ref} names shared "
                    f"string {_clip(value)!r})"
                ) from None
        elif kind == "b":
            value = "TRUE" if value in ("1", "true") else "FALSE"
        elif kind in ("n", "") and self.style in self.dates and value:
            try:
                day = from_excel(float(value), self.epoch)
                timed = getattr(day, "hour", 0) or getattr(day, "minute", 0)
                value = day.isoformat(sep=" ") if timed else day.strftime("%Y-%m-%d")
            except (ValueError, OverflowError, TypeError):
                pass
        elif kind in ("n", "") and not isinstance(value, _TooLong):
            value = NumberCell(value)
        if isinstance(value, _TooLong):
            self.problems.append([col, ref, "too_long", value.length])
        if value != "":
            self.cells[col] = value


def _feed(handler, zf, member):
    """Stream ``member`` through a defusedxml SAX parser 1 MiB at a time, yielding the rows
    ``handler`` finished (the part's size was checked: zipfile reads no more than it says)."""
    from defusedxml.sax import make_parser

    parser = make_parser()
    parser.forbid_dtd = True
    parser.setContentHandler(handler)
    with _damaged(handler.path, handler.part), zf.open(member) as fh:
        while block := fh.read(1 << 20):
            parser.feed(block)
            yield handler.rows
            handler.rows = []
        parser.close()
    yield handler.rows


def _sheet_chunks(zf, member, path, sheet, cells, src, is_header=None):
    """Rows of the sheet as (DataFrame of text, sheet row numbers), CHUNK_ROWS at a time; the
    header chosen as :func:`open_source` says, the rows above it in ``src.skipped``."""
    names = width = None
    rows, lines, notes = [], [], {}
    waiting = []  # the non-blank rows read while the header is looked for

    def take(number, values, problems):
        right = [c for c in values if c >= width and str(values[c]).strip() != ""]
        extra = [values.get(i, "") for i in range(width, max(right) + 1)] if right else []
        if extra or problems:
            named = [[names[c] if c < width else "", *p] for c, *p in problems]
            notes[len(rows)] = (extra, named)
        rows.append([values.get(i, "") for i in range(width)])
        lines.append(number)

    def choose(at):  # waiting[at] is the header: the rows above are skipped, the rows below are rows
        nonlocal names, width
        number, values, problems = waiting[at]
        names, width = clean_header([values.get(i) for i in range(max(values) + 1)], "xlsx", path)
        if problems:
            raise InputError(
                f"input file {str(path)!r}: the header row {number} has a formula "
                f"without a saved value or an over-long cell ({problems[0][1]})"
            )
        src.skipped = [(n, _row_text(v.values())) for n, v, _ in waiting[:at]]
        for row in waiting[at + 1 :]:
            take(*row)
        waiting.clear()

    try:
        for done in _feed(cells, zf, member):
            for number, values, problems in done:
                if names is not None:
                    take(number, values, problems)
                elif any(str(v).strip() for v in values.values()):  # the header is the first such row...
                    waiting.append((number, values, problems))
                    if is_header is None or is_header([values.get(i) for i in range(max(values) + 1)]):
                        choose(len(waiting) - 1)  # ... that names the fields
                    elif len(waiting) == HEADER_SEARCH_ROWS:
                        choose(0)  # none does: the first (its error says what is missing)
            if len(rows) >= CHUNK_ROWS:  # checked once a block: chunk boundaries, hence sums, as ever
                yield _frame(names, rows, lines, notes)
                rows, lines, notes = [], [], {}
        if names is None and waiting:
            choose(0)
        if names is None:
            raise InputError(f"input file {str(path)!r}: sheet {sheet!r} has no header row")
        yield _frame(names, rows, lines, notes)
    finally:
        zf.close()
