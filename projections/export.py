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

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import IO, Any, Final

import msgspec

from ledger.domain.thai import BANGKOK, format_date, format_instant
from ledger.domain.timeline import RECORD_KEYS
from ledger.i18n.voice import Voice
from ledger.imports.columns import THAI_EXPORT_HEADERS, protect_mark
from projections.sheets import text_cell, write_csv, write_xlsx

#: A record's JSON keys (RECORD_KEYS) with the LAO's and the mission's names after their codes.
EXPORT_COLUMNS: Final = tuple(
    name
    for key in RECORD_KEYS
    for name in ((key, f"{key[:-5]}_name_th") if key in ("lao_code", "mission_code") else (key,))
)


#: Columns by the kind of value they hold.
DATE_COLUMNS: Final = ("effective_from", "valid_from", "valid_to")
NUMBER_COLUMNS: Final = ("received_fy", "quantity", "budget", "staff", "version")
#: How Excel shows each kind: dates day first, in CE or (Excel's Thai Buddhist calendar, 07, in
#: the Thai locale, 041E) in BE; amounts grouped with satang; instants to the second.
_XLSX_FORMATS: Final = {
    ("date", "ce"): "dd/mm/yyyy",
    ("date", "be"): "[$-107041E]dd/mm/yyyy",
    ("instant", "ce"): "dd/mm/yyyy hh:mm:ss",
    ("instant", "be"): "[$-107041E]dd/mm/yyyy hh:mm:ss",
    ("budget", ""): "#,##0.00",
    ("quantity", ""): "#,##0.####",
    ("whole", ""): "0",
}


def export_rows(rows: Iterable[tuple[dict[str, Any], dict[str, Any]]], *, lang: str = "en") -> Iterable[list[Any]]:
    """export_rows turns as-of rows (record, names) into export values, in EXPORT_COLUMNS order,
    still typed (Decimal, date, datetime, int): each format writes them its own way. With
    lang="th" the status is in Thai."""
    status = EXPORT_COLUMNS.index("status")
    for record, names in rows:
        merged = {**record, **names}
        values: list[Any] = [merged.get(c) for c in EXPORT_COLUMNS]
        if lang == "th" and values[status] is not None:
            values[status] = Voice("th").word(str(values[status]))  # the import reads the word back
        yield values


def headers(lang: str) -> list[str]:
    """headers are the column titles, English keys or Thai."""
    return [THAI_EXPORT_HEADERS[c] if lang == "th" else c for c in EXPORT_COLUMNS]


def _text(column: str, value: Any, calendar: str) -> Any:
    """A value as CSV and JSON lines write it: dates and instants in the calendar, amounts exact."""
    if value is None:
        return None
    if column == "recorded_at":
        return format_instant(value, calendar=calendar)
    if column in DATE_COLUMNS:
        return format_date(value, calendar=calendar)
    if isinstance(value, Decimal):
        return str(value)
    return value


def _xlsx_cell(sheet: Any, column: str, value: Any, calendar: str) -> Any:
    """A typed XLSX cell: codes and text as string cells (never a formula, a code never a
    number), numbers as numbers, dates as dates, with their display formats."""
    from openpyxl.cell import WriteOnlyCell

    if value is None:
        return None
    if column in ("lao_code", "mission_code") or isinstance(value, str):
        return text_cell(sheet, protect_mark(str(value)) if column in ("unit", "note") else str(value))
    if column == "recorded_at":
        kind, value = "instant", value.astimezone(BANGKOK).replace(tzinfo=None)
    elif column in DATE_COLUMNS:
        kind = "date"
    elif column in ("budget", "quantity"):
        kind, value = column, float(value)  # exact to the digits these fields keep (limits.md)
    else:
        kind = "whole"
    cell = WriteOnlyCell(sheet, value)
    cell.number_format = _XLSX_FORMATS[(kind, calendar if kind in ("date", "instant") else "")]
    return cell


def instant_cell(sheet: Any, value: datetime, calendar: str) -> Any:
    """instant_cell is an instant as an XLSX date-time cell in Bangkok time, shown to the second
    in the calendar (BE through Excel's Thai Buddhist calendar)."""
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value.astimezone(BANGKOK).replace(tzinfo=None))
    cell.number_format = _XLSX_FORMATS[("instant", calendar)]
    return cell


#: How wide (in characters) Excel shows each column of an XLSX export: every date, amount and
#: Thai name whole (no `####`); columns not named here get _WIDTH.
_WIDTHS: Final = {
    "lao_name_th": 34, "mission_name_th": 40, "note": 30, "unit": 12, "budget": 16, "quantity": 11,
    "effective_from": 13, "valid_from": 13, "valid_to": 13, "recorded_at": 21, "status": 18,
}  # fmt: skip
_WIDTH: Final = 12


def write_export(
    out: IO[bytes],
    rows: Iterable[list[Any]],
    *,
    fmt: str,
    lang: str = "en",
    calendar: str = "ce",
    title: str | None = None,
) -> int:
    """write_export writes rows (from export_rows) as csv, xlsx or jsonl to a binary stream;
    returns the row count. XLSX has typed cells, a frozen header row, a sheet named in the
    language, columns wide enough for their values and, above the table, `title` (which ledger,
    as known at when): an import reads past it to the header."""
    count = 0
    # CSV and JSON lines are read by programs and spreadsheets: dates ISO CE whatever `calendar`
    # says (a BE year written as ISO is read 543 years off); XLSX shows BE through its format.
    if fmt == "csv":
        texts = ([_text(c, v, "ce") for c, v in zip(EXPORT_COLUMNS, row, strict=True)] for row in rows)
        count = write_csv(out, headers(lang), texts)
    elif fmt == "jsonl":
        encoder = msgspec.json.Encoder()
        keys = headers(lang)
        for row in rows:
            cells = [_text(c, v, "ce") for c, v in zip(EXPORT_COLUMNS, row, strict=True)]
            out.write(encoder.encode(dict(zip(keys, cells, strict=True))) + b"\n")
            count += 1
    elif fmt == "xlsx":
        count = write_xlsx(
            out,
            headers(lang),
            rows,
            sheet_name="ภารกิจ" if lang == "th" else "missions",
            title=title,
            widths=[_WIDTHS.get(c, _WIDTH) for c in EXPORT_COLUMNS],
            cell=lambda sheet, i, value: _xlsx_cell(sheet, EXPORT_COLUMNS[i], value, calendar),
        )
    else:
        raise ValueError(f"unknown export format {fmt!r}")
    return count
