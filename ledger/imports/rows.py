"""Checking an import file's rows: its header mapped onto the record's columns, each cell parsed
by its column's parser, every problem collected as (row, column, value, why) so that a whole file
is reported at once. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final

from ledger.domain.thai import arabic_digits, parse_date
from ledger.domain.values import parse_field, parse_lao_code, parse_mission_code
from ledger.errors import BadInput, LedgerError
from ledger.imports.columns import (
    COLUMNS,
    ERROR_FILE_ONLY,
    EXPORT_ONLY,
    THAI_EXPORT_HEADERS,
    THAI_HEADERS,
    TOTALS_WORDS,
    VERSION_HEADERS,
    is_clear_mark,
    restore,
)
from ledger.imports.reading import MalformedRow

#: The columns of a row that name its record or its day; every other column is a value of it.
_KEY_COLUMNS: Final = ("lao_code", "mission_code", "effective_from")


class LaoName(str):
    """LaoName is an LAO cell that holds a name, not a code (`อบต.เขาคราม`): the importer reads
    it as the one registry entry it fits, or says which ones it could be."""


#: Headers of a column of LAO names, which stands for the code column when a sheet has none.
NAME_HEADERS: Final = ("lao_name_th", "ชื่อ อปท.", "ชื่อ อปท", "ชื่อองค์กรปกครองส่วนท้องถิ่น", "อปท.", "อปท")


def _parse_lao_cell(text: str) -> str:
    """A 7-digit code, or — a cell with no digit in it — an LAO's name."""
    if text.strip() and not any(arabic_digits(c).isdigit() for c in text):
        return LaoName(" ".join(text.split()))
    return parse_lao_code(text)


@dataclass(frozen=True)
class RowError:
    """RowError is one problem in a file: where it is and why."""

    row: int
    column: str
    value: str
    why: str
    cells: dict[str, str] = field(default_factory=dict, compare=False)

    def __str__(self) -> str:
        if not self.value and self.column == "—":
            return f"row {self.row}: {self.why}"
        return f"row {self.row}, column {self.column}: {self.value!r}: {self.why}"


@dataclass
class ImportRow:
    """ImportRow is a checked row: a record's key and the values the file gives for it."""

    row: int
    lao_code: str
    mission_code: str
    cancelled: bool
    values: dict[str, Any]
    effective_from: date | None
    cells: dict[str, str] = field(default_factory=dict)
    #: The record's version the row was based on (the export's `version` column): the row is a
    #: conditional write. None: no version given, the row applies to the record as it is now.
    based_on: int | None = None


def column_of(header: str) -> str | None:
    """column_of is the record's column a file's header names (English key or Thai header), or
    `version` for the column that makes rows conditional."""
    key = header.strip().lower()
    if key in VERSION_HEADERS or header.strip() in VERSION_HEADERS:
        return "version"
    return key if key in COLUMNS else THAI_HEADERS.get(header.strip())


def looks_like_header(cells: list[str]) -> bool:
    """looks_like_header is true for a row naming at least the LAO code (or name) and mission
    code columns (a title row above the header names none)."""
    columns = {column_of(c) for c in cells if c}
    named = any(c.strip() in NAME_HEADERS or c.strip().lower() in NAME_HEADERS for c in cells if c)
    return "mission_code" in columns and ("lao_code" in columns or named)


@dataclass
class Header:
    """Header maps a file's column names onto the record's columns."""

    columns: dict[str, str]  # file header -> column
    unknown: list[str]
    parsers: list[tuple[str, str, Callable[[str], Any]]] = field(init=False, repr=False, compare=False)
    #: The file's headers of the LAO and mission columns (None: the file has none), found once.
    lao_header: str | None = field(init=False, repr=False, compare=False)
    mission_header: str | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.parsers = [(h, column, _cell_parser(column)) for h, column in self.columns.items()]
        named = {column: h for h, column in self.columns.items()}
        self.lao_header, self.mission_header = named.get("lao_code"), named.get("mission_code")

    @classmethod
    def of(cls, names: list[str], name: str) -> Header:
        """of maps a header row; refuses one that names neither lao_code nor mission_code."""
        columns: dict[str, str] = {}
        unknown: list[str] = []
        for header in names:
            key = header.strip().lower()
            column = column_of(header)
            if column is None:
                known = (*EXPORT_ONLY, *ERROR_FILE_ONLY, *THAI_EXPORT_HEADERS.values())
                if key not in known and header.strip() not in known:
                    unknown.append(header)
                continue
            if column in columns.values():
                raise BadInput(f"{name}: two columns mean {column}")
            columns[header] = column
        if "lao_code" not in columns.values():
            # A sheet with a column of LAO names and none of codes: the names stand for the codes.
            named = next((h for h in names if h.strip() in NAME_HEADERS or h.strip().lower() in NAME_HEADERS), None)
            if named is not None:
                columns[named] = "lao_code"
                unknown = [u for u in unknown if u != named]
        missing = [c for c in ("lao_code", "mission_code") if c not in columns.values()]
        if missing:
            raise BadInput(
                f"{name}: the header matches no {' or '.join(missing)} column (expected e.g. "
                f"{', '.join(COLUMNS)} or รหัส อปท., รหัสภารกิจ, สถานะ, …)"
            )
        return cls(columns, unknown)


def _parse_status_cell(text: str) -> Any:
    # A file says "cancelled" (ยกเลิก) in the status column to ask for a cancellation.
    if text.strip() in ("cancelled", "ยกเลิก"):
        return "cancelled"
    return parse_field("status", text)


def _parse_effective_from(text: str) -> date | None:
    return parse_date(text, what="effective_from") if text else None


def _parse_version(text: str) -> int | None:
    digits = arabic_digits(text.strip())
    if not digits:
        return None
    if not (digits.isascii() and digits.isdigit() and len(digits) <= 9 and int(digits) >= 1):
        raise BadInput(f"version {text!r} is not a record version (1, 2, 3, … as the export wrote it)")
    return int(digits)


def _cell_parser(column: str) -> Callable[[str], Any]:
    if column == "version":
        return _parse_version
    if column == "lao_code":
        return _parse_lao_cell
    if column == "mission_code":
        # "QOL 01": blanks inside a code are dropped here; the importer then reads the code as the
        # one catalog code it can only mean (upper case, separators aside), and says so.
        return lambda text: parse_mission_code("".join(text.split()))
    if column == "effective_from":
        return _parse_effective_from
    if column == "status":
        return _parse_status_cell
    if column in ("unit", "note"):
        # Text an export neutralised (ledger.imports.rows.neutralise) reads back as it was.
        return lambda text: parse_field(column, restore(text))
    return lambda text: parse_field(column, text)


def not_a_record(cells: dict[str, str], header: Header) -> str | None:
    """not_a_record says why a row under the table is no record — a totals row (its LAO cell says
    รวม, ทั้งหมด, total), or a line with no LAO code and no mission code (a signature, a
    footnote) — or None for a record's row (which may still be a bad one)."""
    if isinstance(cells, MalformedRow):
        return None
    lao = cells.get(header.lao_header, "").strip() if header.lao_header is not None else ""
    mission = cells.get(header.mission_header, "").strip() if header.mission_header is not None else ""
    if any(word in lao.lower() for word in TOTALS_WORDS):
        return "a totals row"
    if not mission and not any(arabic_digits(c).isdigit() for c in lao if c.strip()):
        return "no LAO code and no mission code (a note or a signature line)"
    return None


def check_row(
    number: int, cells: dict[str, str], header: Header, *, blank_clears: bool = False
) -> tuple[ImportRow | None, list[RowError]]:
    """check_row reads one row's cells; returns the row, or None with its errors.

    A blank value cell leaves its field as it is (the field is absent from the row's values); a
    clearing mark (`-`, `—`, `ล้างค่า`) clears it (None). With `blank_clears` (a file that is a
    complete snapshot) a blank cell clears its field too."""
    if isinstance(cells, MalformedRow):
        return None, [RowError(number, "—", "", cells.why, dict(cells))]
    errors: list[RowError] = []
    got: dict[str, Any] = {}
    for h, column, parse in header.parsers:
        text = cells.get(h, "")
        blank = not text.strip()
        if column not in _KEY_COLUMNS and column != "version":
            if blank and not blank_clears:
                continue  # left as it is
            if blank or is_clear_mark(text):
                if column == "status":
                    why = "status cannot be cleared (operating or not_yet)" if not blank else "status is empty"
                    errors.append(RowError(number, column, text, why, cells))
                else:
                    got[column] = None
                continue
        if blank and column in ("lao_code", "mission_code"):
            errors.append(RowError(number, column, text, f"{column} is empty", cells))
            continue
        try:
            got[column] = parse(text)
        except LedgerError as e:
            errors.append(RowError(number, column, text, str(e), cells))
    if errors:
        return None, errors
    status = got.pop("status", None)
    lao_code = got.pop("lao_code")
    mission_code = got.pop("mission_code")
    effective_from = got.pop("effective_from", None)
    based_on = got.pop("version", None)
    if status is not None and status != "cancelled":
        got["status"] = status
    return (
        ImportRow(
            row=number,
            lao_code=lao_code,
            mission_code=mission_code,
            cancelled=status == "cancelled",
            values=got,
            effective_from=effective_from,
            cells=cells,
            based_on=based_on,
        ),
        [],
    )
