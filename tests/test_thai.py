from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from ledger.domain.thai import (
    end_of_day,
    fiscal_year_of,
    format_date,
    format_instant,
    parse_date,
    parse_decimal,
    parse_instant,
    parse_int,
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
    ],
)
def test_dates_in_ce_be_and_thai_digits(text: str, expected: date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    "text, message",
    [
        ("05/03/2567", "ambiguous"),
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
