"""Reading import files — CSV (UTF-8, BOM, cp874), XLSX and JSON lines — as rows of cells.

Streaming, row by row, in bounded memory; every bound of ledger.domain.limits is kept here, before
a cell is interpreted: file size, rows, cell length, JSON nesting, XLSX inflation. A row of the
wrong shape is handed on as a MalformedRow, to be reported like any bad row.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import zipfile
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path, PurePath
from typing import TextIO

from ledger.domain.limits import (
    MAX_CELL_CHARS,
    MAX_FILE_BYTES,
    MAX_JSON_DEPTH,
    MAX_LINE_CHARS,
    MAX_ROWS,
    MAX_XLSX_INFLATED,
    MAX_XLSX_RATIO,
    MAX_XLSX_SHARED_STRINGS,
)
from ledger.errors import BadInput

Source = bytes | Path


def _chunks(source: Source, size: int = 1 << 20) -> Iterator[bytes]:
    if isinstance(source, bytes):
        for start in range(0, len(source), size):
            yield source[start : start + size]
        return
    with source.open("rb") as f:
        while chunk := f.read(size):
            yield chunk


def sha256_of(source: Source) -> str:
    """sha256_of hashes a file (or bytes) without holding it in memory."""
    digest = hashlib.sha256()
    for chunk in _chunks(source):
        digest.update(chunk)
    return digest.hexdigest()


def detect_encoding(source: Source, name: str, encoding: str | None) -> str:
    """detect_encoding checks the whole file decodes (streaming): UTF-8 (BOM or not), else Thai
    cp874 when that reads as Thai, else the user must say (--encoding)."""
    candidates = [encoding] if encoding else ["utf-8-sig", "cp874"]
    problem = ""
    for candidate in candidates:
        try:
            decoder = codecs.getincrementaldecoder(candidate)()
        except LookupError as e:
            raise BadInput(f"{name}: unknown encoding {candidate!r}") from e
        thai = False
        try:
            for chunk in _chunks(source):
                text = decoder.decode(chunk)
                thai = thai or any("\u0e00" <= ch <= "\u0e7f" for ch in text)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as e:
            problem = problem or f"not {candidate} (byte {e.start} of a block)"
            continue
        if encoding or candidate != "cp874" or thai:
            return candidate
    if encoding:
        raise BadInput(f"{name}: cannot read as {encoding}: {problem}")
    raise BadInput(f"{name}: not UTF-8 nor Thai cp874 text ({problem}); save it as CSV UTF-8 or give --encoding")


def _text(source: Source, encoding: str) -> TextIO:
    if isinstance(source, bytes):
        return io.StringIO(source.decode(encoding), newline="")
    return source.open("r", encoding=encoding, newline="")


class MalformedRow(dict[str, str]):
    """MalformedRow stands for a row whose shape is wrong (too few or too many cells): its
    cells as far as they go, and why. It is reported like any bad row."""

    def __init__(self, cells: dict[str, str], why: str) -> None:
        super().__init__(cells)
        self.why = why


def _size_of(source: Source) -> int:
    return len(source) if isinstance(source, bytes) else source.stat().st_size


def read_table(source: Source, name: str, *, encoding: str | None = None) -> Iterator[tuple[int, dict[str, str]]]:
    """read_table yields (row number as the user sees it, {header: cell}) from a CSV, XLSX or
    JSON-lines file, streaming; the first item is (0, header row as {name: name}). A row of the
    wrong shape comes as a MalformedRow. A file over MAX_FILE_BYTES is refused here; the reader
    counts rows against MAX_ROWS (`check_row_count`)."""
    size = _size_of(source)
    if size > MAX_FILE_BYTES:
        raise BadInput(f"{name}: {size:,} bytes is over the limit of {MAX_FILE_BYTES:,} bytes for one import")
    suffix = PurePath(name).suffix.lower()
    if suffix == ".xlsx":
        return _read_xlsx(source, name)
    if suffix in (".jsonl", ".ndjson", ".json"):
        return _read_jsonl(source, name, detect_encoding(source, name, encoding))
    return _read_csv(source, name, detect_encoding(source, name, encoding))


def check_row_count(rows: int, name: str) -> None:
    """check_row_count refuses a file past MAX_ROWS rows (called as rows are read)."""
    if rows > MAX_ROWS:
        raise BadInput(f"{name}: more than {MAX_ROWS:,} rows, the limit for one import; split the file")


def _read_csv(source: Source, name: str, encoding: str) -> Iterator[tuple[int, dict[str, str]]]:
    # The csv module's own limit, so that a runaway cell (an unclosed quote swallowing the rest
    # of the file) stops at MAX_CELL_CHARS instead of filling memory.
    csv.field_size_limit(MAX_CELL_CHARS)
    with _text(source, encoding) as text:
        reader = csv.reader(text)
        line = 1  # where the row being read starts
        try:
            try:
                header = [h.strip() for h in next(reader)]
            except StopIteration as e:
                raise BadInput(f"{name}: the file is empty (no header row)") from e
            yield 0, {h: h for h in header}
            width = len(header)
            line = reader.line_num + 1
            for cells in reader:
                start, line = line, reader.line_num + 1
                if line - start > 1 and any("\n" in c or "\r" in c for c in cells):
                    # No field holds a line break: a cell that spans lines is an unclosed quote.
                    raise BadInput(
                        f"{name}, line {start}: a quoted cell runs on to line {reader.line_num}; "
                        'is a closing quote (") missing?'
                    )
                if len(cells) == width:
                    got = dict(zip(header, map(str.strip, cells), strict=True))
                    if any(got.values()):
                        yield start, got
                    continue
                if not any(c.strip() for c in cells):
                    continue
                # A short row is not a row with blanks: its blanks would clear the fields it lacks.
                more = "more" if len(cells) > width else "fewer"
                why = f"{len(cells)} cells where the header has {width} ({more} cells than columns)"
                yield start, MalformedRow(dict(zip(header, map(str.strip, cells), strict=False)), why)
        except csv.Error as e:
            if "field larger than field limit" in str(e):
                raise BadInput(
                    f"{name}, line {line}: a cell is longer than {MAX_CELL_CHARS:,} characters "
                    '(the limit); is a closing quote (") missing?'
                ) from e
            raise BadInput(f"{name}, line {line}: not CSV ({e})") from e


def _check_xlsx(source: Source, name: str) -> None:
    """Refuse a workbook whose parts would inflate past the limits (a zip bomb), before
    openpyxl inflates anything: the zip's directory says each part's size, and reading stops
    at that size."""
    try:
        with zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source) as book:
            parts = book.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise BadInput(f"{name}: not a readable XLSX workbook ({e})") from e
    total = sum(p.file_size for p in parts)
    if total > MAX_XLSX_INFLATED:
        raise BadInput(
            f"{name}: its parts inflate to {total:,} bytes, over the limit of {MAX_XLSX_INFLATED:,} for one import"
        )
    for part in parts:
        if part.filename.endswith("sharedStrings.xml") and part.file_size > MAX_XLSX_SHARED_STRINGS:
            raise BadInput(
                f"{name}: its shared strings inflate to {part.file_size:,} bytes, over the limit of "
                f"{MAX_XLSX_SHARED_STRINGS:,}"
            )
        if part.file_size > 1 << 20 and part.file_size > MAX_XLSX_RATIO * max(1, part.compress_size):
            raise BadInput(
                f"{name}: part {part.filename} inflates {part.file_size // max(1, part.compress_size):,} times "
                f"(over {MAX_XLSX_RATIO}): not a workbook an office program writes"
            )


def _read_xlsx(source: Source, name: str) -> Iterator[tuple[int, dict[str, str]]]:
    import openpyxl

    _check_xlsx(source, name)
    try:
        book = openpyxl.load_workbook(
            io.BytesIO(source) if isinstance(source, bytes) else source, read_only=True, data_only=True
        )
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as e:
        raise BadInput(f"{name}: not a readable XLSX workbook ({type(e).__name__}: {e})") from e
    try:
        rows = book.worksheets[0].iter_rows(values_only=True)
        try:
            header = [_cell(h).strip() for h in next(rows)]
        except StopIteration as e:
            raise BadInput(f"{name}: the first sheet is empty (no header row)") from e
        yield 0, {h: h for h in header if h}
        for number, values in enumerate(rows, start=2):
            if number > MAX_ROWS + 1:
                raise BadInput(f"{name}: more than {MAX_ROWS:,} rows, the limit for one import; split the file")
            cells = {h: _cell(v).strip() for h, v in zip(header, values, strict=False) if h}
            for h, text in cells.items():
                if len(text) > MAX_CELL_CHARS:
                    raise BadInput(
                        f"{name}, row {number}, column {h}: a cell longer than {MAX_CELL_CHARS:,} characters"
                    )
            if any(cells.values()):
                yield number, cells
    finally:
        book.close()


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _depth(text: str) -> int:
    """The deepest nesting of brackets outside strings, in one pass (before json parses it)."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def _read_jsonl(source: Source, name: str, encoding: str) -> Iterator[tuple[int, dict[str, str]]]:
    # JSON lines name their columns in every object; the header is the first object's keys,
    # and later objects may add columns (they are checked like any other).
    first = True
    with _text(source, encoding) as text:
        for number, line in enumerate(text, start=1):
            if not line.strip():
                continue
            if len(line) > MAX_LINE_CHARS:
                raise BadInput(f"{name}, line {number}: longer than {MAX_LINE_CHARS:,} characters (the limit)")
            if ("[" in line or "{" in line) and _depth(line) > MAX_JSON_DEPTH:
                raise BadInput(f"{name}, line {number}: nested deeper than a record is (one flat JSON object per line)")
            try:
                doc = json.loads(line)
            except json.JSONDecodeError as e:
                raise BadInput(f"{name}, line {number}: not JSON ({e.msg})") from e
            if not isinstance(doc, dict):
                raise BadInput(f"{name}, line {number}: not a JSON object")
            nested = [k for k, v in doc.items() if isinstance(v, (dict, list))]
            if nested:
                raise BadInput(f"{name}, line {number}: {nested[0]!r} holds a list or object, not a value")
            cells = {k: "" if v is None else str(v) for k, v in doc.items()}
            if first:
                yield 0, {k: k for k in cells}
                first = False
            yield number, cells
    if first:
        yield 0, {}
