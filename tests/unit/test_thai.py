from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.domain.thai import (
    end_of_day,
    fiscal_year_of,
    format_date,
    format_instant,
    parse_date,
    parse_decimal,
    parse_instant,
    parse_int,
    thai_date,
)
from ledger.errors import BadInput


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2024-12-30", date(2024, 12, 30)),
        ("2567-12-30", date(2024, 12, 30)),
        ("๒๕๖๗-๑๒-๓๐", date(2024, 12, 30)),
        (" 2567-12-30 ", date(2024, 12, 30)),
        ("30/12/2567", date(2024, 12, 30)),
        ("5/5/2024", date(2024, 5, 5)),
        # Day first, always: Thai dates are never month first.
        ("05/03/2567", date(2024, 3, 5)),
        ("1/10/2567", date(2024, 10, 1)),
        ("1.10.2567", date(2024, 10, 1)),
        ("30-12-2567", date(2024, 12, 30)),
        ("๓๐/๑๒/๒๕๖๗", date(2024, 12, 30)),
        ("30 ธ.ค. 2567", date(2024, 12, 30)),
        ("30 ธันวาคม 2567", date(2024, 12, 30)),
        ("๑ ม.ค. ๒๕๖๘", date(2025, 1, 1)),
        ("1ม.ค.2568", date(2025, 1, 1)),
        ("30 ธค 2567", date(2024, 12, 30)),
        ("30 ธันวาคม พ.ศ. 2567", date(2024, 12, 30)),
        ("29 ก.พ. 2567", date(2024, 2, 29)),
        ("15 มี.ค. 2024", date(2024, 3, 15)),
    ],
)
def test_dates_as_thai_officers_write_them(text: str, expected: date) -> None:
    assert parse_date(text) == expected


def test_a_thai_month_date_is_a_known_at_too() -> None:
    assert parse_instant("30 ธ.ค. 2567") == end_of_day(date(2024, 12, 30))
    assert parse_instant("30/12/2567 10:00") == datetime(2024, 12, 30, 3, tzinfo=UTC)


@given(
    st.dates(min_value=date(1957, 1, 1), max_value=date(2099, 12, 31)),
    st.sampled_from(["iso-ce", "iso-be", "short", "full", "slash-be", "thai-digits"]),
)
def test_every_date_printed_in_any_form_parses_back_to_the_same_date(day: date, form: str) -> None:
    printed = {
        "iso-ce": format_date(day),
        "iso-be": format_date(day, calendar="be"),
        "short": thai_date(day),
        "full": thai_date(day, full=True),
        "slash-be": f"{day.day}/{day.month}/{day.year + 543}",
        "thai-digits": thai_date(day, full=True, thai_digits=True),
    }[form]
    assert parse_date(printed) == day


@pytest.mark.parametrize(
    "text, message",
    [
        ("13/13/2567", "not a valid date"),
        ("30 ฟฟ 2567", "is not a Thai month"),
        ("2567-02-30", "not a valid date"),
        ("67-12-30", "not a date"),
        ("2300-01-01", "not a plausible year"),
        ("yesterday", "not a date"),
        ("2024-1-5", "not a date"),
    ],
)
def test_bad_or_ambiguous_dates_are_refused_not_guessed(text: str, message: str) -> None:
    with pytest.raises(BadInput, match=message):
        parse_date(text, what="--effective")


def test_a_date_as_known_at_means_the_end_of_that_day_in_bangkok() -> None:
    t = parse_instant("2567-12-30")
    assert t == end_of_day(date(2024, 12, 30))
    assert t == datetime(2024, 12, 30, 16, 59, 59, 999999, tzinfo=UTC)


def test_timestamps_without_offset_are_bangkok_time() -> None:
    assert parse_instant("2567-12-30T10:00") == datetime(2024, 12, 30, 3, tzinfo=UTC)
    assert parse_instant("2024-12-30T10:00:00Z") == datetime(2024, 12, 30, 10, tzinfo=UTC)
    with pytest.raises(BadInput, match="not a timestamp"):
        parse_instant("2024-12-30T25:00")


def test_be_output_on_request() -> None:
    assert format_date(date(2024, 12, 30), calendar="be") == "2567-12-30"
    assert format_date(date(2024, 12, 30)) == "2024-12-30"
    t = datetime(2024, 12, 30, 3, tzinfo=UTC)
    assert format_instant(t) == "2024-12-30T10:00:00+07:00"
    assert format_instant(t, calendar="be") == "2567-12-30T10:00:00+07:00"


def test_fiscal_year_runs_october_to_september() -> None:
    assert fiscal_year_of(date(2024, 9, 30)) == 2567
    assert fiscal_year_of(date(2024, 10, 1)) == 2568


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1250000.50", Decimal("1250000.50")),
        ("1,250,000.50", Decimal("1250000.50")),
        ("๑,๒๕๐,๐๐๐.๕๐", Decimal("1250000.50")),
        ("0", Decimal("0")),
        ("-3", Decimal("-3")),
    ],
)
def test_decimals_are_exact(text: str, expected: Decimal) -> None:
    value = parse_decimal(text)
    assert value == expected and str(value) == str(expected)


@pytest.mark.parametrize("text", ["1,25,000", "1.250.000,50", "12a", "", "1e5", "NaN", "1,000,00"])
def test_ambiguous_or_malformed_numbers_are_refused(text: str) -> None:
    with pytest.raises(BadInput, match="not a number"):
        parse_decimal(text, what="budget")


def test_whole_numbers() -> None:
    assert parse_int("๑๒") == 12
    with pytest.raises(BadInput, match="not a whole number"):
        parse_int("1.5", what="staff")


def test_a_date_as_the_start_of_a_window_means_the_start_of_that_day() -> None:
    assert parse_instant("2567-12-31", day_starts=True) == datetime(2024, 12, 30, 17, tzinfo=UTC)
