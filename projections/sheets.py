"""The one way a table becomes a file a person opens in a spreadsheet program — the export, the
dashboard's Excel download, the import's error file and every CSV the command line prints.

CSV: UTF-8 with a BOM (Excel then reads Thai text), CRLF, and no cell a live formula (text that a
spreadsheet would run, or an import would read as a clearing mark, is prefixed with an apostrophe;
the import takes it off). XLSX: written row by row (openpyxl's write-only mode), text always a
string cell (never a formula, a code never a number), a frozen header row, columns wide enough for
their values, and an optional title line above the header (an import reads past it).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import IO, Any

from ledger.imports.columns import neutralise

#: How wide a column is when the caller names no width (characters).
DEFAULT_WIDTH = 12


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """csv_lines yields the CSV text of a table, a line at a time (the first with the BOM), for
    printing or writing; None is an empty cell."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def line(cells: Sequence[Any]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(["" if c is None else neutralise(c) if isinstance(c, str) else c for c in cells])
        return buffer.getvalue()

    yield "\ufeff" + line(header)
    for row in rows:
        yield line(row)


def write_csv(out: IO[bytes], header: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """write_csv writes a table as CSV to a binary stream; returns the row count."""
    lines = csv_lines(header, rows)
    out.write(next(lines).encode("utf-8"))  # the header
    count = 0
    for text in lines:
        out.write(text.encode("utf-8"))
        count += 1
    return count


def text_cell(sheet: Any, value: str) -> Any:
    """text_cell is a string cell that a spreadsheet shows as the text it is: never a formula
    (openpyxl stores "=HYPERLINK(…)" as a live one), never a number."""
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value)
    cell.data_type = "s"
    return cell


def plain_cell(sheet: Any, index: int, value: Any) -> Any:
    """plain_cell is a value as XLSX keeps it: text a string cell, anything else as it is."""
    return text_cell(sheet, value) if isinstance(value, str) else value


def write_xlsx(
    out: IO[bytes],
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    sheet_name: str,
    title: str | None = None,
    widths: Sequence[int] | None = None,
    cell: Callable[[Any, int, Any], Any] = plain_cell,
) -> int:
    """write_xlsx writes a table as an XLSX workbook of one sheet; `cell(sheet, column index,
    value)` makes each cell (typed numbers and dates, formats); returns the row count."""
    import openpyxl
    from openpyxl.utils import get_column_letter

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet(sheet_name)
    for i in range(len(header)):
        width = widths[i] if widths is not None else DEFAULT_WIDTH
        sheet.column_dimensions[get_column_letter(i + 1)].width = width
    sheet.freeze_panes = "A3" if title else "A2"  # the title and the header stay in view
    if title:
        sheet.append([text_cell(sheet, title)])
    sheet.append([text_cell(sheet, h) for h in header])
    count = 0
    for row in rows:
        sheet.append([cell(sheet, i, v) for i, v in enumerate(row)])
        count += 1
    book.save(out)
    return count
