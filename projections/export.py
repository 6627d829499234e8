"""Export: the point-in-time view as a file an officer opens in Excel, or a machine reads.

The columns are the record's JSON keys (docs/design.md §9) plus the LAO's and mission's names; with
lang="th" the headers are Thai. No cell is a live formula: CSV text that a spreadsheet would run
is prefixed with an apostrophe (and read back without it), XLSX text is a string cell. CSV is
UTF-8 with a BOM (Excel then shows Thai text); XLSX is
written row by row (openpyxl's write-only mode), JSON lines one record per line. An exported file
imported again appends nothing: every column it has is either a record value that matches, or
an export-only column the import reads past.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import IO, Any, Final

import msgspec

from ledger.domain.thai import format_date, format_instant
from ledger.domain.timeline import RECORD_KEYS
from ledger.imports.columns import THAI_EXPORT_HEADERS, neutralise

#: A record's JSON keys (RECORD_KEYS) with the LAO's and the mission's names after their codes.
EXPORT_COLUMNS: Final = tuple(
    name
    for key in RECORD_KEYS
    for name in ((key, f"{key[:-5]}_name_th") if key in ("lao_code", "mission_code") else (key,))
)
STATUS_TH: Final = {"operating": "ดำเนินการ", "not_yet": "ยังไม่ได้ดำเนินการ", "cancelled": "ยกเลิก"}


def _cell(column: str, value: Any, calendar: str, lang: str) -> Any:
    if value is None:
        return None
    if column == "recorded_at":
        return format_instant(value, calendar=calendar)
    if column in ("effective_from", "valid_from", "valid_to"):
        return format_date(value, calendar=calendar)
    if column == "status" and lang == "th":
        return STATUS_TH[value]
    if column in ("quantity", "budget"):
        return str(value)
    return value


def export_rows(
    rows: Iterable[tuple[dict[str, Any], dict[str, Any]]], *, calendar: str = "ce", lang: str = "en"
) -> Iterable[list[Any]]:
    """export_rows turns as-of rows (record, names) into export cells, in EXPORT_COLUMNS order."""
    for record, names in rows:
        merged = {**record, **names}
        yield [_cell(c, merged.get(c), calendar, lang) for c in EXPORT_COLUMNS]


def headers(lang: str) -> list[str]:
    """headers are the column titles, English keys or Thai."""
    return [THAI_EXPORT_HEADERS[c] if lang == "th" else c for c in EXPORT_COLUMNS]


def _xlsx_cell(sheet: Any, index: int, value: Any) -> Any:
    from openpyxl.cell import WriteOnlyCell

    if value is None:
        return None
    if index in (0, 2) or isinstance(value, str):
        # Codes stay text (a leading zero, a 7-digit code Excel would turn into a number), and
        # text is a string cell: openpyxl would store "=HYPERLINK(…)" as a live formula.
        cell = WriteOnlyCell(sheet, str(value))
        cell.data_type = "s"
        return cell
    return value


def write_export(out: IO[bytes], rows: Iterable[list[Any]], *, fmt: str, lang: str = "en") -> int:
    """write_export writes rows as csv, xlsx or jsonl to a binary stream; returns the row count."""
    count = 0
    if fmt == "csv":
        text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="")
        writer = csv.writer(text, lineterminator="\r\n")
        writer.writerow(headers(lang))
        for row in rows:
            writer.writerow(["" if v is None else neutralise(v) if isinstance(v, str) else v for v in row])
            count += 1
        text.flush()
        text.detach()
    elif fmt == "jsonl":
        encoder = msgspec.json.Encoder()
        keys = headers(lang)
        for row in rows:
            out.write(encoder.encode(dict(zip(keys, row, strict=True))) + b"\n")
            count += 1
    elif fmt == "xlsx":
        import openpyxl

        book = openpyxl.Workbook(write_only=True)
        sheet = book.create_sheet("missions")
        sheet.append(headers(lang))
        for row in rows:
            sheet.append([_xlsx_cell(sheet, i, v) for i, v in enumerate(row)])
            count += 1
        book.save(out)
    else:
        raise ValueError(f"unknown export format {fmt!r}")
    return count
