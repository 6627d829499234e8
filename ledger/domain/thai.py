"""Thai dates and numbers: Buddhist Era years, Thai digits, Bangkok time, fiscal years.

Pure functions, no I/O. Parsers are strict: they accept what docs/design.md §4 lists and refuse
anything they would have to guess at, with a message that says what to write instead.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Final

from ledger.errors import BadInput

# Thailand has kept UTC+07:00 without daylight saving since 1920, so a fixed offset is exact
# for every date this ledger holds and spares a dependency on the tz database.
BANGKOK = timezone(timedelta(hours=7), "Asia/Bangkok")

BE_OFFSET = 543
#: A year at or above this is read as Buddhist Era (docs/design.md §4): 2567 → 2024.
BE_THRESHOLD = 2400

_THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
_TO_THAI_DIGITS = str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙")

_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
# Regular thousands grouping only: `1,25,000` or `1.250,50` would be a guess.
_DECIMAL = re.compile(r"[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?")


def arabic_digits(text: str) -> str:
    """arabic_digits returns text with every Thai digit (๐–๙) replaced by its ASCII digit."""
    return text.translate(_THAI_DIGITS)


def ce_year(year: int, *, what: str = "date") -> int:
    """ce_year maps a year written in BE (≥ 2400) or CE to CE, refusing implausible years."""
    if year >= BE_THRESHOLD:
        return year - BE_OFFSET
    if 1900 <= year < 2100:
        return year
    raise BadInput(f"{year} is not a plausible year in {what} (write CE like 2024 or BE like 2567)")


#: Thai month names, full and abbreviated, as officers write them (1 = January).
THAI_MONTHS: Final = (
    "มกราคม",
    "กุมภาพันธ์",
    "มีนาคม",
    "เมษายน",
    "พฤษภาคม",
    "มิถุนายน",
    "กรกฎาคม",
    "สิงหาคม",
    "กันยายน",
    "ตุลาคม",
    "พฤศจิกายน",
    "ธันวาคม",
)
THAI_MONTHS_SHORT: Final = (
    "ม.ค.",
    "ก.พ.",
    "มี.ค.",
    "เม.ย.",
    "พ.ค.",
    "มิ.ย.",
    "ก.ค.",
    "ส.ค.",
    "ก.ย.",
    "ต.ค.",
    "พ.ย.",
    "ธ.ค.",
)


def _month_key(word: str) -> str:
    # Abbreviations are written with or without their dots and spaces: ธ.ค. ธ.ค ธค.
    return word.replace(".", "").replace(" ", "")


_MONTH_OF: Final = {
    **{_month_key(name): i for i, name in enumerate(THAI_MONTHS, start=1)},
    **{_month_key(name): i for i, name in enumerate(THAI_MONTHS_SHORT, start=1)},
}
# 30/12/2567, 1.10.2567, 30-12-2567: the day first, always (Thai dates are never month first).
_DAY_FIRST = re.compile(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4})")
# 30 ธ.ค. 2567, 30 ธันวาคม พ.ศ. 2567, 1ม.ค.2568
_THAI_MONTH_DATE = re.compile(r"(\d{1,2})\s*([\u0e00-\u0e7f][\u0e00-\u0e7f. ]*?)\s*(?:(?:พ\.ศ\.|ค\.ศ\.)\s*)?(\d{4})")


def parse_date(text: str, *, what: str = "date") -> date:
    """parse_date reads a date as Thai officers write it, in CE or BE, with ASCII or Thai digits:
    ISO (2567-12-30), day first with `/`, `.` or `-` (30/12/2567, 1.10.2567), or with a Thai
    month name, full or abbreviated (30 ธันวาคม 2567, ๑ ม.ค. ๒๕๖๘). A year ≥ 2400 is BE."""
    raw = text
    text = arabic_digits(text.strip())
    m = _ISO_DATE.fullmatch(text)
    if m:
        y, mo, d = int(m[1]), int(m[2]), int(m[3])
    elif m := _DAY_FIRST.fullmatch(text):
        d, mo, y = int(m[1]), int(m[3]), int(m[4])
    elif m := _THAI_MONTH_DATE.fullmatch(text):
        month = _MONTH_OF.get(_month_key(m[2]))
        if month is None:
            raise BadInput(f"{what} {raw!r}: {m[2].strip()!r} is not a Thai month (ม.ค. … ธ.ค., มกราคม … ธันวาคม)")
        d, mo, y = int(m[1]), month, int(m[3])
    else:
        raise BadInput(f"{what} {raw!r} is not a date (write 30/12/2567, 30 ธ.ค. 2567 or 2567-12-30)")
    year = ce_year(y, what=f"{what} {raw!r}")
    try:
        return date(year, mo, d)
    except ValueError as e:
        raise BadInput(f"{what} {raw!r} is not a valid date: {e}") from e


def thai_date(day: date, *, full: bool = False, thai_digits: bool = False) -> str:
    """thai_date writes a date as Thai documents do: 30 ธ.ค. 2567 (full: 30 ธันวาคม 2567)."""
    month = (THAI_MONTHS if full else THAI_MONTHS_SHORT)[day.month - 1]
    text = f"{day.day} {month} {day.year + BE_OFFSET}"
    return thai_numerals(text) if thai_digits else text


def thai_numerals(text: str) -> str:
    """thai_numerals writes every ASCII digit of text as a Thai digit."""
    return text.translate(_TO_THAI_DIGITS)


# A date (in any form parse_date reads) then a time of day: 2567-12-30T10:00, 30/12/2567 10:00+07:00.
_TIMED = re.compile(r"(.+?)(?:T|\s+)(\d{1,2}:\d{2}\S*)")


def parse_instant(text: str, *, what: str = "time", day_starts: bool = False) -> datetime:
    """parse_instant reads a point on the ledger clock (a `known_at`), returning UTC.

    A date alone means the *end* of that day in Bangkok (docs/design.md §4: "as of 2567-12-30" includes
    everything reported on the deadline day) — or its start with day_starts (the lower end of a
    window, `changes --since`). A timestamp without offset is Bangkok time. Years may be BE;
    digits may be Thai.
    """
    raw = text
    text = arabic_digits(text.strip())
    timed = _TIMED.fullmatch(text)
    if timed is None:
        day = parse_date(text, what=what)
        if day_starts:
            return datetime.combine(day, time.min, BANGKOK).astimezone(UTC)
        return end_of_day(day)
    day_part, rest = timed[1], timed[2]
    day = parse_date(day_part, what=what)
    try:
        parsed = datetime.fromisoformat(f"{day.isoformat()}T{rest.replace('Z', '+00:00')}")
    except ValueError as e:
        raise BadInput(f"{what} {raw!r} is not a timestamp (write YYYY-MM-DDTHH:MM[:SS][+07:00] or a date)") from e
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=BANGKOK)
    return parsed.astimezone(UTC)


def start_of_day(day: date) -> datetime:
    """start_of_day is the first microsecond of `day` in Bangkok, in UTC."""
    return datetime.combine(day, time.min, BANGKOK).astimezone(UTC)


def end_of_day(day: date) -> datetime:
    """end_of_day is the last microsecond of `day` in Bangkok, in UTC."""
    return (datetime.combine(day, time.max, BANGKOK)).astimezone(UTC)


def bangkok_date(instant: datetime) -> date:
    """bangkok_date is the calendar date of an instant in Bangkok."""
    return instant.astimezone(BANGKOK).date()


def format_date(day: date, *, calendar: str = "ce") -> str:
    """format_date prints ISO (CE) or, with calendar='be', the same form with a BE year."""
    if calendar == "be":
        return f"{day.year + BE_OFFSET:04d}-{day.month:02d}-{day.day:02d}"
    return day.isoformat()


def format_instant(instant: datetime, *, calendar: str = "ce") -> str:
    """format_instant prints an instant as RFC 3339 in Bangkok time (BE year on request)."""
    local = instant.astimezone(BANGKOK)
    text = local.isoformat(timespec="seconds" if local.microsecond == 0 else "microseconds")
    if calendar == "be":
        return f"{local.year + BE_OFFSET:04d}{text[4:]}"
    return text


def fiscal_year_of(day: date) -> int:
    """fiscal_year_of gives the BE fiscal year containing `day` (FY N runs 1 Oct N-1 to 30 Sep N)."""
    return day.year + BE_OFFSET + (1 if day.month >= 10 else 0)


def parse_decimal(text: str, *, what: str = "number") -> Decimal:
    """parse_decimal reads a decimal number exactly; Thai digits and 1,234,567.89 grouping accepted.

    Grouping must be regular (groups of three); anything else (`1,25,000`, `1.250,50`) is
    ambiguous and refused.
    """
    raw = text
    text = text.strip()
    if len(text) > 40:  # no field's number is this long; and int() refuses over 4,300 digits
        raise BadInput(f"{what} {raw[:20]!r}… ({len(raw):,} characters) is too long to be a number")
    if not text.isascii():
        text = arabic_digits(text)
    if not _DECIMAL.fullmatch(text):
        raise BadInput(f"{what} {raw!r} is not a number (write e.g. 1250000.50 or 1,250,000.50)")
    try:
        value = Decimal(text.replace(",", "") if "," in text else text)
    except InvalidOperation as e:  # pragma: no cover - the regex admits only valid literals
        raise BadInput(f"{what} {raw!r} is not a number") from e
    return value


def parse_int(text: str, *, what: str = "number") -> int:
    """parse_int reads a whole number; Thai digits and regular thousands grouping accepted."""
    if text.isascii() and text.isdigit() and len(text) <= 18:  # the common case, without the Decimal round trip
        return int(text)
    value = parse_decimal(text, what=what)
    if value != value.to_integral_value() or "." in text:
        raise BadInput(f"{what} {text!r} is not a whole number")
    return int(value)


# Thai leading vowels are written before the consonant they follow in speech; dictionaries sort
# by the consonant, so the vowel is moved after it. Tone marks and the silencer only break ties.
_LEADING_VOWELS = "เแโใไ"
_TONE_MARKS = "\u0e47\u0e48\u0e49\u0e4a\u0e4b\u0e4c\u0e4d\u0e4e"


def thai_sort_key(text: str) -> tuple[str, str]:
    """thai_sort_key orders Thai names as a Thai dictionary does (Royal Institute order, to the
    precision of consonant–vowel–tone), ASCII and digits by code point."""
    chars = list(text)
    i = 0
    while i < len(chars) - 1:
        if chars[i] in _LEADING_VOWELS and "\u0e01" <= chars[i + 1] <= "\u0e2e":
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
            i += 2
        else:
            i += 1
    swapped = "".join(chars)
    return ("".join(c for c in swapped if c not in _TONE_MARKS), swapped)
