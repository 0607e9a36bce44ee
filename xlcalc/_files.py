"""Files in and out, safely: the template and the report both go through here.

* :class:`atomic_output` writes next to the target and renames into place; the temporary
  file is removed on any failure, on Ctrl-C and on SIGTERM.
* :func:`check_output` refuses an output that is the input, or not an .xlsx.
* :func:`detect_encoding` and :func:`read_text_table` read the text files traders' tools
  save: UTF-8 (with or without BOM), Shift_JIS/cp932 (Japanese Excel), UTF-16 (Excel's
  "Unicode text"), comma, semicolon or tab separated.
"""

from __future__ import annotations

import codecs
import os
import signal
import tempfile
import threading
from pathlib import Path

from .errors import InputError

__all__ = [
    "atomic_output",
    "check_output",
    "decode_text",
    "detect_encoding",
    "detect_delimiter",
    "read_text_table",
]


class atomic_output:
    """Context manager giving a temporary path next to ``path``; renamed into place on
    success, removed on any failure, so a reader never sees a half-written file. An
    existing file is kept unless ``force``; missing parent folders are created.

    While the block runs, SIGTERM (``kill``, a job scheduler's timeout) unwinds it like
    Ctrl-C does, so the temporary file is removed too; the previous handler is restored.

    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "out" / "book.txt"
    >>> with atomic_output(target) as tmp:
    ...     _ = tmp.write_text("done")
    >>> target.read_text()
    'done'
    """

    def __init__(self, path, force=False):
        self.path = Path(path)
        self.force = force
        self.tmp = None
        self._old_handler = None

    def check(self):
        if self.path.exists() and not self.force:
            raise FileExistsError(f"output file {str(self.path)!r} exists; use --force to overwrite it")
        if self.path.is_dir():
            raise IsADirectoryError(f"output {str(self.path)!r} is a directory")

    def __enter__(self):
        self.check()
        directory = self.path.parent if str(self.path.parent) else Path(".")
        directory.mkdir(parents=True, exist_ok=True)
        self._catch_sigterm()
        try:
            fd, name = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=directory)
        except BaseException:
            self._restore_sigterm()
            raise
        os.close(fd)
        self.tmp = Path(name)
        return self.tmp

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None:
                self.check()
                os.chmod(self.tmp, 0o666 & ~_umask())  # mkstemp makes it private; outputs are not
                os.replace(self.tmp, self.path)
        finally:
            try:
                if self.tmp.exists():
                    self.tmp.unlink()
            finally:
                self._restore_sigterm()
        return False

    def _catch_sigterm(self):
        # signal handlers can only be set from the main thread; elsewhere Python's default stays
        if threading.current_thread() is not threading.main_thread():
            return
        self._old_handler = signal.signal(signal.SIGTERM, _raise_on_sigterm)

    def _restore_sigterm(self):
        if self._old_handler is not None:
            signal.signal(signal.SIGTERM, self._old_handler)
            self._old_handler = None


class Terminated(SystemExit):
    """SIGTERM while an output was being written: unwinds like Ctrl-C, exits 128 + 15."""


def _raise_on_sigterm(signum, frame):
    raise Terminated(128 + signum)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def check_output(input_path, output_path, *, suffixes=(".xlsx",)) -> Path:
    """``output_path`` as a Path, after refusing an output that would destroy the input or
    be mislabelled: one equal to the input (the same file, even through another path, a
    link or another spelling), or one whose extension is not in ``suffixes``.

    ``input_path`` may be None or a DataFrame (nothing to compare with).

    >>> check_output("positions.csv", "report.xlsx").name
    'report.xlsx'
    >>> check_output("positions.csv", "report.csv")
    Traceback (most recent call last):
    ...
    xlcalc.errors.InputError: output 'report.csv' must end in .xlsx (the report is an Excel workbook): \
try 'report.xlsx'
    """
    output = Path(output_path)
    if output.suffix.lower() not in suffixes:
        hint = output.with_suffix(suffixes[0]).name if output.name else f"report{suffixes[0]}"
        raise InputError(
            f"output {str(output)!r} must end in {' or '.join(suffixes)} (the report is an "
            f"Excel workbook): try {hint!r}",
            argument="output",
            value=str(output),
        )
    if isinstance(input_path, (str, os.PathLike)):
        source = Path(input_path)
        same = False
        try:
            same = output.exists() and source.exists() and os.path.samefile(source, output)
        except OSError:
            same = False
        if same or os.path.abspath(source) == os.path.abspath(output):
            raise InputError(
                f"output {str(output)!r} is the input file {str(source)!r}: writing it would "
                f"destroy your positions; choose another -o",
                argument="output",
                value=str(output),
            )
    return output


# -- reading text ----------------------------------------------------------------------------


def _bom_or_utf16(head: bytes) -> str | None:
    """The encoding a file's first bytes prove: a BOM, or UTF-16 without one (every other
    byte NUL); None when only decoding can tell."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if len(head) >= 4 and b"\x00" in head:
        even, odd = head[0::2].count(0), head[1::2].count(0)
        if odd > len(head) // 4 and even == 0:
            return "utf-16-le"
        if even > len(head) // 4 and odd == 0:
            return "utf-16-be"
    return None


# UTF-8 before cp932: every UTF-8 file of Japanese text is invalid cp932 somewhere, and a
# cp932 file is almost never valid UTF-8.
_TRIED = ("utf-8", "cp932")
_NOT_TEXT = "is neither UTF-8, UTF-16 nor Shift_JIS/cp932 text"


def detect_encoding(path) -> str:
    """The encoding of a text file: ``utf-8-sig``, ``utf-16``, ``utf-16-le``/``-be`` (no
    BOM), ``utf-8`` or ``cp932`` (Shift_JIS as Japanese Excel saves it); else InputError.
    The whole file is decoded (in blocks) before an encoding is chosen.
    """
    path = Path(path)
    with open(path, "rb") as fh:
        proven = _bom_or_utf16(fh.read(4096))
    if proven:
        return proven
    for enc in _TRIED:
        dec = codecs.getincrementaldecoder(enc)()
        try:
            with open(path, "rb") as fh:
                while chunk := fh.read(1 << 22):
                    dec.decode(chunk)
            dec.decode(b"", final=True)
            return enc
        except UnicodeDecodeError:
            continue
    raise InputError(f"input file {str(path)!r} {_NOT_TEXT}")


def decode_text(data: bytes, what: str) -> str:
    """A small file's bytes as text by the rules of :func:`detect_encoding` (a presets file,
    built in or the user's); ``what`` names the file in the error.

    >>> decode_text("id,名前".encode("cp932"), "presets file x.csv")
    'id,名前'
    """
    proven = _bom_or_utf16(data[:4096])
    for enc in [proven] if proven else _TRIED:
        try:
            return data.decode(enc).removeprefix("\ufeff")
        except UnicodeDecodeError:
            continue
    raise InputError(f"{what} {_NOT_TEXT}")


def detect_delimiter(header_line: str) -> str:
    """The separator of a header line: tab, semicolon or comma (the one splitting it most).

    >>> detect_delimiter("symbol;side;qty"), detect_delimiter("a\\tb\\tc"), detect_delimiter("a,b")
    (';', '\\t', ',')
    """
    counts = {d: header_line.count(d) for d in ("\t", ";", ",")}
    best = max(counts, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


def read_text_table(path):
    """A small CSV (presets, prices) as a DataFrame of strings, whatever Excel saved it as:
    UTF-8 with or without BOM, cp932, UTF-16; comma, semicolon or tab separated.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "presets.csv"
    >>> _ = p.write_bytes("id,名前\\nmine,自分の取引所\\n".encode("cp932"))
    >>> read_text_table(p).to_dict("records")
    [{'id': 'mine', '名前': '自分の取引所'}]
    """
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise InputError(f"file not found: {str(path)!r}")
    encoding = detect_encoding(path)
    with open(path, encoding=encoding, newline="") as fh:
        first = fh.readline()
    try:
        return pd.read_csv(
            path, dtype=str, keep_default_na=False, encoding=encoding, sep=detect_delimiter(first)
        )
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeError) as exc:
        raise InputError(f"file {str(path)!r} is not a readable CSV: {str(exc).splitlines()[0]}") from None
