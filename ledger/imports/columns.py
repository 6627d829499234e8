"""The columns of an import or export file, and the cells a spreadsheet must not run.

The record's columns in English (the keys of `show --json`) and the Thai headers officers write;
the columns an export adds; and the neutralising of text a spreadsheet would read as a formula
(OWASP's "CSV injection"), undone when the file is imported again. Pure: no I/O.
"""

from __future__ import annotations

from typing import Final

from ledger.domain.values import FIELD_NAMES

#: Column names as docs/design.md §9's record JSON names them.
COLUMNS: Final = ("lao_code", "mission_code", *FIELD_NAMES, "effective_from")
#: Thai headers accepted for each column (docs/import.md lists them).
THAI_HEADERS: Final = {
    "รหัส อปท.": "lao_code",
    "รหัสอปท.": "lao_code",
    "รหัส อปท": "lao_code",
    "รหัสภารกิจ": "mission_code",
    "สถานะ": "status",
    "ปีงบประมาณที่รับโอน": "received_fy",
    "ปีที่รับโอน": "received_fy",
    "ปีงบประมาณ": "received_fy",
    "จำนวน": "quantity",
    "ปริมาณ": "quantity",
    "หน่วยนับ": "unit",
    "หน่วย": "unit",
    "งบประมาณ (บาท)": "budget",
    "งบประมาณ": "budget",
    "จำนวนบุคลากร (คน)": "staff",
    "บุคลากร": "staff",
    "หมายเหตุ": "note",
    "วันที่มีผล": "effective_from",
    "วันที่เริ่มต้น": "effective_from",
}
#: Thai headers `export --lang th` writes, one per column.
THAI_EXPORT_HEADERS: Final = {
    "lao_code": "รหัส อปท.",
    "mission_code": "รหัสภารกิจ",
    "status": "สถานะ",
    "received_fy": "ปีงบประมาณที่รับโอน",
    "quantity": "จำนวน",
    "unit": "หน่วยนับ",
    "budget": "งบประมาณ (บาท)",
    "staff": "จำนวนบุคลากร (คน)",
    "note": "หมายเหตุ",
    "effective_from": "วันที่มีผล",
    "version": "ฉบับที่",
    "valid_from": "มีผลตั้งแต่",
    "valid_to": "มีผลถึง",
    "recorded_at": "บันทึกเมื่อ",
    "lao_name_th": "ชื่อ อปท.",
    "mission_name_th": "ชื่อภารกิจ",
}
#: Columns an export adds that say something about the ledger, not the LAO's report: read
#: back without complaint, and without effect (`version` is read: it makes a row conditional).
EXPORT_ONLY: Final = ("version", "valid_from", "valid_to", "recorded_at", "lao_name_th", "mission_name_th")
#: The column that says which version of its record a row was based on, by its names.
VERSION_HEADERS: Final = ("version", "ฉบับที่")
#: Columns the error file adds (the row's number in the original file, what is wrong): read back
#: without complaint, so a fixed error file imports as it is.
ERROR_FILE_ONLY: Final = ("row", "error_column", "error_why", "แถว", "คอลัมน์ที่ผิด", "เหตุผล")
#: A cell that asks to clear its field (a blank cell leaves the field as it is). A text field whose
#: value is one of these is exported neutralised ("'-"), so it reads back as text, not as a clearing.
CLEAR_MARKS: Final = ("-", "—", "–", "ล้างค่า")
#: Words of a totals row under a table (its LAO cell holds one): skipped, not a record.
TOTALS_WORDS: Final = ("รวม", "ทั้งหมด", "total", "sum", "ยอดรวม")


#: A spreadsheet reads a cell that starts with one of these as a formula (OWASP, "CSV injection").
FORMULA_TRIGGERS: Final = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """neutralise prefixes a text cell a spreadsheet would run as a formula, or an import would
    read as a clearing mark, with an apostrophe, which spreadsheets show as text; `restore`
    undoes it on import."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) or is_clear_mark(text) else text


def protect_mark(text: str) -> str:
    """protect_mark prefixes a text that is a clearing mark with an apostrophe (an XLSX string
    cell is never a formula, but "-" in it would still read back as a clearing)."""
    return "'" + text if is_clear_mark(text) else text


def is_clear_mark(text: str) -> bool:
    """is_clear_mark: the cell asks to clear its field."""
    return text.strip() in CLEAR_MARKS


def restore(text: str) -> str:
    """restore reads back a cell `neutralise` or `protect_mark` wrote: the apostrophe before a
    formula trigger or a clearing mark goes, so export then import changes nothing (the value
    stays text in the ledger)."""
    if text.startswith("'") and (text[1:].startswith(FORMULA_TRIGGERS) or is_clear_mark(text[1:])):
        return text[1:]
    return text
