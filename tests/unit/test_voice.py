"""The presentation layer (issue 23): every value a person reads, in her words — one voice for
the command line, the pages and the files she opens."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.domain.provinces import PROVINCES
from ledger.i18n.voice import Voice

THAI = Voice("th", "be")
ENGLISH = Voice("en", "ce")


def test_dates_and_instants_as_each_reader_writes_them() -> None:
    assert THAI.day(date(2024, 10, 1)) == "1 ต.ค. 2567"
    assert THAI.day(date(2024, 10, 1), full=True) == "1 ตุลาคม 2567"
    assert Voice("th", "ce").day(date(2024, 10, 1)) == "1 ต.ค. ค.ศ. 2024"
    assert ENGLISH.day(date(2024, 10, 1)) == "1 Oct 2024"
    assert Voice("en", "be").day(date(2024, 10, 1)) == "1 Oct 2567 BE"
    # The deadline's last microsecond, in Bangkok, to the minute unless seconds are asked for.
    deadline = datetime(2024, 12, 30, 16, 59, 59, 999999, tzinfo=UTC)
    assert THAI.when(deadline) == "30 ธ.ค. 2567 23:59 น."
    assert THAI.when(deadline, seconds=True) == "30 ธ.ค. 2567 23:59:59 น."
    assert ENGLISH.when(deadline) == "30 Dec 2024 23:59"
    assert Voice("th", "be", thai_digits=True).day(date(2024, 10, 1)) == "๑ ต.ค. ๒๕๖๗"


def test_values_amounts_and_the_ledgers_words() -> None:
    assert THAI.value("budget", Decimal("1669367.6")) == "1,669,367.6"
    assert THAI.value("received_fy", 2546) == "2546"  # a year is no amount
    assert THAI.value("status", "operating") == "ดำเนินการ"
    assert THAI.value("kind", "corrected") == "แก้ไขข้อมูลผิด"
    assert THAI.value("lao_type", "sao") == "อบต."
    assert THAI.value("note", None) == "—"
    assert THAI.source("http") == "ระบบออนไลน์" and THAI.source("cli") == "บรรทัดคำสั่ง"
    assert THAI.source("import:3f9c2a71d0e4aa55") == "นำเข้าไฟล์ (ชุด 3f9c2a71)"
    assert THAI.events("recorded", 11) == "บันทึก 11 รายการ"


def test_names_before_codes() -> None:
    assert len(PROVINCES) == 77
    assert THAI.province("81") == "จังหวัดกระบี่" and ENGLISH.province("81") == "Krabi province"
    assert THAI.province("10") == "กรุงเทพมหานคร"
    assert THAI.province("99") == "จังหวัด 99"  # no province has it: said as is
    assert THAI.role("province:81") == "เจ้าหน้าที่จังหวัดกระบี่"
    assert THAI.role("integration:82") == "ระบบที่เชื่อมต่อ จังหวัดพังงา"
    assert THAI.role("lao:6810103", "องค์การบริหารส่วนตำบลเขาคราม") == "เจ้าหน้าที่องค์การบริหารส่วนตำบลเขาคราม (6810103)"


def test_rounds_by_their_fiscal_year_as_officers_name_them() -> None:
    start = date(2024, 10, 1)
    assert THAI.round("fy2568", start) == "ปีงบประมาณ 2568"
    assert THAI.round("2568", start) == "ปีงบประมาณ 2568"
    # A name that says something else is kept beside the year: "2567" was the old demo's.
    assert THAI.round("2567", start) == "ปีงบประมาณ 2568 (2567)"
    assert THAI.round("fy2568-h2", date(2025, 4, 1)) == "ปีงบประมาณ 2568 (fy2568-h2)"
    assert ENGLISH.round("fy2568", start) == "fiscal year 2025 (fy2568)"


def test_what_the_system_stored_for_itself_is_worded_when_shown() -> None:
    stored = "import of krabi.xlsx (batch 3f9c2a71d0e4aa55)"  # as events of every version store it
    assert THAI.reason(stored) == "นำเข้าจากไฟล์ krabi.xlsx (ชุด 3f9c2a71)"
    assert THAI.reason("วัดใหม่") == "วัดใหม่"  # what a person typed stays as typed


def test_a_library_message_reads_its_dates_in_the_readers_words_but_not_what_was_typed() -> None:
    said = THAI("record 6810103/INF-01 is not valid on 2024-10-01: it starts on 2025-01-01 (x)")
    assert "1 ต.ค. 2567" in said and "1 ม.ค. 2568" in said and "2024" not in said
    assert "'2567-02-31'" in THAI("effective '2567-02-31' is not a valid date")
    assert ENGLISH("on 2024-10-01") == "on 2024-10-01"  # English messages keep ISO


@given(st.dates(min_value=date(1950, 1, 1), max_value=date(2150, 12, 31)))
def test_a_thai_date_never_shows_the_ce_year(day: date) -> None:
    shown = THAI.day(day)
    assert str(day.year + 543) in shown and not re.search(rf"\b{day.year}\b", shown)


def test_the_catalog_defines_each_message_once() -> None:
    text = (Path(__file__).resolve().parents[2] / "ledger" / "i18n" / "th.po").read_text(encoding="utf-8")
    ids = re.findall(r'^msgid "(.*)"$', text, flags=re.MULTILINE)
    repeated = sorted({i for i in ids if ids.count(i) > 1} - {""})
    assert not repeated, f"th.po defines these twice (Babel keeps one silently): {repeated}"


@pytest.mark.parametrize("field", ["budget", "quantity", "staff"])
def test_amounts_are_grouped(field: str) -> None:
    assert THAI.value(field, Decimal("1250000")) == "1,250,000"


def test_the_status_words_the_voice_writes_are_the_ones_an_import_reads_back() -> None:
    from ledger.domain.values import _STATUS_WORDS

    for status in ("operating", "not_yet", "cancelled"):
        assert _STATUS_WORDS[THAI.word(status)] == status
