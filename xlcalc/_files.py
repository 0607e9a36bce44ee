"""Writing output files safely: the template and the report both go through here."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


class atomic_output:
    """Context manager giving a temporary path next to ``path``; renamed into place on
    success, removed on any failure, so a reader never sees a half-written file. An
    existing file is kept unless ``force``; missing parent folders are created.

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

    def check(self):
        if self.path.exists() and not self.force:
            raise FileExistsError(f"output file {str(self.path)!r} exists; use --force to overwrite it")
        if self.path.is_dir():
            raise IsADirectoryError(f"output {str(self.path)!r} is a directory")

    def __enter__(self):
        self.check()
        directory = self.path.parent if str(self.path.parent) else Path(".")
        directory.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=directory)
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
            if self.tmp.exists():
                self.tmp.unlink()
        return False


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
