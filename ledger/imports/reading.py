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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path, PurePath
from typing import Any, Final, TextIO

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


#: Encodings tried in turn, with the words a person knows them by.
ENCODINGS: Final = (
    ("utf-8-sig", 'UTF-8 (Excel\'s "CSV UTF-8")'),
    ("utf-16", 'UTF-16 (Excel\'s "Unicode Text")'),
    ("cp874", "Thai Windows-874 (older Thai Excel and Windows files)"),
)


def detect_encoding(source: Source, name: str, encoding: str | None) -> str:
    """detect_encoding checks the whole file decodes (streaming): UTF-16 when it starts with its
    byte-order mark, else UTF-8 (BOM or not), else Thai cp874 when that reads as Thai; else the
    user is told, in plain words, which encodings were tried and what to do."""
    with _first_bytes(source) as start:
        head = start
    if encoding:
        candidates = [encoding]
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    else:
        candidates = ["utf-8-sig", "cp874"]
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
            problem = problem or f"byte {e.start} of a block"
            continue
        if encoding or candidate != "cp874" or thai:
            return candidate
    if encoding:
        raise BadInput(f"{name}: cannot read as {encoding} ({problem})")
    tried = ", ".join(words for _, words in ENCODINGS)
    raise BadInput(
        f'{name}: cannot read this file as text: tried {tried}. In Excel, save it as "CSV UTF-8" (or give --encoding)'
    )


@contextmanager
def _first_bytes(source: Source, size: int = 4) -> Iterator[bytes]:
    if isinstance(source, bytes):
        yield source[:size]
        return
    with source.open("rb") as f:
        yield f.read(size)


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


#: How many rows above the header a file may have (a title, a subtitle, a blank line).
TITLE_ROWS: Final = 10


def read_table(
    source: Source,
    name: str,
    *,
    encoding: str | None = None,
    is_header: Callable[[list[str]], bool] = lambda cells: True,
    sheet: str | None = None,
) -> Iterator[tuple[int, dict[str, str]]]:
    """read_table yields (row number as the user sees it, {header: cell}) from a CSV (or Excel's
    tab-separated "Unicode Text"), XLSX (the first sheet, or `sheet`: a name or a number from 1)
    or JSON-lines file, streaming; the first item is (0, header row as {name: name}). The header
    is the first row `is_header` accepts among the first TITLE_ROWS rows: rows of titles above it
    are passed over. A row of the wrong shape comes as a MalformedRow. A file over MAX_FILE_BYTES
    is refused here; the reader counts rows against MAX_ROWS (`check_row_count`)."""
    size = _size_of(source)
    if size > MAX_FILE_BYTES:
        raise BadInput(f"{name}: {size:,} bytes is over the limit of {MAX_FILE_BYTES:,} bytes for one import")
    suffix = PurePath(name).suffix.lower()
    if sheet is not None and suffix != ".xlsx":
        raise BadInput(f"{name}: --sheet is for XLSX workbooks")
    if suffix == ".xlsx":
        return _read_xlsx(source, name, is_header, sheet)
    if suffix in (".jsonl", ".ndjson", ".json"):
        return _read_jsonl(source, name, detect_encoding(source, name, encoding))
    return _read_csv(source, name, detect_encoding(source, name, encoding), is_header)


def _header_among(
    rows: Iterator[tuple[int, list[str]]], name: str, is_header: Callable[[list[str]], bool]
) -> list[str]:
    """The header row: the first of the first TITLE_ROWS rows is_header accepts — or, when none
    is, the first row (whose columns the caller then names as missing)."""
    first: list[str] | None = None
    for seen, (_, cells) in enumerate(rows, start=1):
        stripped = [c.strip() for c in cells]
        if is_header(stripped):
            return stripped
        if first is None:
            first = stripped
        if seen >= TITLE_ROWS:
            break
    if first is None:
        raise BadInput(f"{name}: the file is empty (no header row)")
    return first


def check_row_count(rows: int, name: str) -> None:
    """check_row_count refuses a file past MAX_ROWS rows (called as rows are read)."""
    if rows > MAX_ROWS:
        raise BadInput(f"{name}: more than {MAX_ROWS:,} rows, the limit for one import; split the file")


def _read_csv(
    source: Source, name: str, encoding: str, is_header: Callable[[list[str]], bool]
) -> Iterator[tuple[int, dict[str, str]]]:
    # The csv module's own limit, so that a runaway cell (an unclosed quote swallowing the rest
    # of the file) stops at MAX_CELL_CHARS instead of filling memory.
    csv.field_size_limit(MAX_CELL_CHARS)
    with _text(source, encoding) as text:
        first = text.readline()
        text.seek(0)
        # Excel's "Unicode Text" separates cells with tabs.
        reader = csv.reader(text, delimiter="\t" if first.count("\t") > first.count(",") else ",")
        line = 1  # where the row being read starts

        def numbered() -> Iterator[tuple[int, list[str]]]:
            nonlocal line
            for cells in reader:
                start, line = line, reader.line_num + 1
                if line - start > 1 and any("\n" in c or "\r" in c for c in cells):
                    # No field holds a line break: a cell that spans lines is an unclosed quote.
                    raise BadInput(
                        f"{name}, line {start}: a quoted cell runs on to line {reader.line_num}; "
                        'is a closing quote (") missing?'
                    )
                yield start, cells

        try:
            rows = numbered()
            header = _header_among(rows, name, is_header)
            yield 0, {h: h for h in header}
            width = len(header)
            for start, cells in rows:
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


def _read_xlsx(
    source: Source, name: str, is_header: Callable[[list[str]], bool], sheet: str | None
) -> Iterator[tuple[int, dict[str, str]]]:
    import openpyxl

    _check_xlsx(source, name)
    try:
        book = openpyxl.load_workbook(
            io.BytesIO(source) if isinstance(source, bytes) else source, read_only=True, data_only=True
        )
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as e:
        raise BadInput(f"{name}: not a readable XLSX workbook ({type(e).__name__}: {e})") from e
    try:
        worksheet = _sheet(book, name, sheet)

        def numbered() -> Iterator[tuple[int, list[str]]]:
            for number, values in enumerate(worksheet.iter_rows(values_only=True), start=1):
                if number > MAX_ROWS + TITLE_ROWS:
                    raise BadInput(f"{name}: more than {MAX_ROWS:,} rows, the limit for one import; split the file")
                yield number, [_cell(v) for v in values]

        rows = numbered()
        header = _header_among(rows, name, is_header)
        yield 0, {h: h for h in header if h}
        for number, values in rows:
            cells = {h: v.strip() for h, v in zip(header, values, strict=False) if h}
            for h, text in cells.items():
                if len(text) > MAX_CELL_CHARS:
                    limit = f"{MAX_CELL_CHARS:,} characters"
                    raise BadInput(f"{name}, row {number}, column {h}: a cell longer than {limit}")
            if any(cells.values()):
                yield number, cells
    finally:
        book.close()


def _sheet(book: Any, name: str, sheet: str | None) -> Any:
    """The worksheet to read: the first, or `sheet` by its name or its number (1 = the first)."""
    if sheet is None:
        return book.worksheets[0]
    names = book.sheetnames
    if sheet in names:
        return book[sheet]
    if sheet.isdigit() and 1 <= int(sheet) <= len(names):
        return book.worksheets[int(sheet) - 1]
    listed = ", ".join(f"{i} {n!r}" for i, n in enumerate(names, start=1))
    raise BadInput(f"{name}: no sheet {sheet!r}; the workbook has {listed}")


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
