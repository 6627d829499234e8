"""Files the commands write: never the ledger, its views, their journals or the file being read.

An output path is resolved (symlinks followed) and compared with every file the command must not
touch, by path and by inode (a hard link is the same file); an existing file is kept unless the
user says `--force`; a missing folder is one line. Writing goes to a temporary file in the same
folder, renamed over the target only when complete, so a failed export leaves no half file.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from ledger.errors import BadInput, Refused

#: The files SQLite keeps beside a database while it is open or after a crash.
JOURNAL_SUFFIXES = ("", "-wal", "-shm", "-journal")


def with_journals(path: Path) -> list[Path]:
    """with_journals is a SQLite file and the journal files SQLite keeps beside it."""
    return [Path(f"{path}{suffix}") for suffix in JOURNAL_SUFFIXES]


def _same(a: Path, b: Path) -> bool:
    if a == b:
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def check_output(
    path: Path,
    *,
    protected: Iterable[tuple[Path, str]],
    force: bool,
    option: str,
    ours: Callable[[Path], bool] = lambda path: False,
) -> Path:
    """check_output refuses an output path that is (or links to) a protected file, names an
    existing file without `force` (unless `ours` says this command wrote it: an error file of an
    earlier import), is a folder, or lies in a missing folder; returns the resolved path to write."""
    target = path.resolve()
    for other, what in protected:
        if _same(target, other.resolve()):
            raise Refused(f"{option} {path} is {what}: refusing to overwrite it (choose another file)")
    if target.is_dir():
        raise BadInput(f"{option} {path} is a folder; give a file name")
    if not target.parent.is_dir():
        raise BadInput(f"{option} {path}: folder {target.parent} does not exist")
    if target.exists() and not force and not ours(target):
        raise Refused(f"{option} {path} exists already; give --force to replace it")
    return target


#: The last columns of an error file an import writes (ledger.imports.batch.ImportReport.error_table),
#: in English and as a Thai session writes them.
ERROR_FILE_COLUMNS = ("error_column", "error_why")
THAI_ERROR_FILE_COLUMNS = ("คอลัมน์ที่ผิด", "เหตุผล")


def is_error_file(path: Path) -> bool:
    """is_error_file is true for a CSV whose header ends with the error file's two columns: one an
    earlier import wrote, which the next import of the file may replace or remove."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            header = next(csv.reader([f.readline()]), [])
    except (OSError, UnicodeDecodeError):
        return False
    return tuple(header[-2:]) in (ERROR_FILE_COLUMNS, THAI_ERROR_FILE_COLUMNS)


@contextmanager
def replacing(target: Path) -> Iterator[IO[bytes]]:
    """replacing writes to a temporary file beside `target` and renames it into place when the
    block ends normally; on an error the target is untouched and the temporary file removed."""
    fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
