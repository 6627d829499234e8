"""The fields of a mission record (docs/design.md §2): their types, their parsing, their rules.

`Fields` is a partial set of field values, as a command sets them: a field left `UNSET` is
not touched; a field set to `None` is cleared. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final, Literal

import msgspec
from msgspec import UNSET, UnsetType

from ledger.domain.limits import (
    EARLIEST_EFFECTIVE,
    EARLIEST_REPORTED,
    LATEST_EFFECTIVE_YEARS_AHEAD,
    MAX_BUDGET,
    MAX_NOTE_CHARS,
    MAX_QUANTITY,
    MAX_QUANTITY_DECIMALS,
    MAX_REASON_CHARS,
    MAX_STAFF,
    MAX_UNIT_CHARS,
)
from ledger.domain.thai import arabic_digits, parse_decimal, parse_int
from ledger.errors import BadInput

Status = Literal["operating", "not_yet"]
#: The statuses a record can be given directly; `cancelled` comes only through a cancellation.
SETTABLE_STATUSES: Final = ("operating", "not_yet")
_STATUS_WORDS: Final = {
    "operating": "operating",
    "ดำเนินการ": "operating",
    "not_yet": "not_yet",
    "ยังไม่ได้ดำเนินการ": "not_yet",
    "cancelled": "cancelled",
    "ยกเลิก": "cancelled",
}

#: Names of the record's fields, in the order docs/design.md §2 lists them.
FIELD_NAMES: Final = ("status", "received_fy", "quantity", "unit", "budget", "staff", "note")

# A fiscal year is BE; a CE year typed by mistake is caught by this range, not guessed at.
_FY_MIN, _FY_MAX = 2500, 2800
_LAO_CODE = re.compile(r"\d{7}")
_MISSION_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")


class Fields(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Fields is a partial set of a record's values: UNSET leaves a field as it is, None clears it."""

    status: Status | UnsetType = UNSET
    received_fy: int | UnsetType | None = UNSET
    quantity: Decimal | UnsetType | None = UNSET
    unit: str | UnsetType | None = UNSET
    budget: Decimal | UnsetType | None = UNSET
    staff: int | UnsetType | None = UNSET
    note: str | UnsetType | None = UNSET

    def items(self) -> list[tuple[str, Any]]:
        """items lists the (name, value) pairs that are set, in field order."""
        # The struct's fields are declared in FIELD_NAMES order (checked at import, below).
        return [(n, v) for n, v in zip(FIELD_NAMES, msgspec.structs.astuple(self), strict=True) if v is not UNSET]

    def is_empty(self) -> bool:
        """is_empty is true when no field is set."""
        return not self.items()


assert Fields.__struct_fields__ == FIELD_NAMES, "Fields.items relies on the declared order"


def parse_lao_code(text: str) -> str:
    """parse_lao_code checks a DLA LAO code: exactly 7 digits (Thai digits accepted)."""
    code = text.strip()
    if len(code) == 7 and code.isascii() and code.isdigit():
        return code
    code = arabic_digits(code)
    if not _LAO_CODE.fullmatch(code):
        raise BadInput(f"LAO code {text!r} is not a 7-digit DLA code")
    return code


def parse_mission_code(text: str) -> str:
    """parse_mission_code checks a mission code: letters, digits, '.', '_' or '-', up to 32."""
    code = text.strip()
    if not code.isascii():
        code = arabic_digits(code)
    if not _MISSION_CODE.fullmatch(code):
        raise BadInput(f"mission code {text!r} is not a code (letters, digits, '.', '_', '-'; up to 32)")
    return code


def parse_status(text: str) -> Status:
    """parse_status reads `operating` or `not_yet` (or their Thai words)."""
    word = _STATUS_WORDS.get(text.strip().lower()) or _STATUS_WORDS.get(text.strip())
    if word == "cancelled":
        raise BadInput("status 'cancelled' is set only by a cancellation: use `cancel`")
    if word is None:
        raise BadInput(f"status {text!r} is not one of: operating, not_yet")
    return word  # type: ignore[return-value]


def check_received_fy(year: int) -> int:
    """check_received_fy accepts a BE fiscal year; a CE year gets a hint, not a guess."""
    if _FY_MIN <= year <= _FY_MAX:
        return year
    if 1900 <= year < 2100:
        raise BadInput(f"received_fy {year} looks like a CE year; fiscal years are BE (did you mean {year + 543}?)")
    raise BadInput(f"received_fy {year} is not a fiscal year (BE, {_FY_MIN}–{_FY_MAX})")


def _short(value: object) -> str:
    text = str(value)
    return text if len(text) <= 24 else f"{text[:20]}… ({len(text)} characters)"


def _check_quantity_range(value: Decimal) -> Decimal:
    if not value.is_finite() or value < 0:
        raise BadInput(f"{_short(value)} is not a quantity (must be 0 or more)")
    if value > MAX_QUANTITY:
        raise BadInput(f"{_short(value)} is not a plausible quantity (at most {MAX_QUANTITY:,})")
    return value


def _too_many_decimals(value: Decimal) -> None:
    raise BadInput(f"{_short(value)} has more than {MAX_QUANTITY_DECIMALS} decimals")


def check_quantity(value: Decimal) -> Decimal:
    """check_quantity accepts a finite quantity from 0 to MAX_QUANTITY with at most
    MAX_QUANTITY_DECIMALS decimals."""
    _check_quantity_range(value)
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -MAX_QUANTITY_DECIMALS:
        _too_many_decimals(value)
    return value


def check_budget(value: Decimal) -> Decimal:
    """check_budget accepts a THB amount from 0 to MAX_BUDGET with at most 2 decimals (satang)."""
    if not value.is_finite() or value < 0:
        raise BadInput(f"{_short(value)} is not a budget (must be 0 THB or more)")
    if value > MAX_BUDGET:
        raise BadInput(f"{_short(value)} THB is not a plausible budget for one mission (at most {MAX_BUDGET:,} THB)")
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise BadInput(f"{_short(value)} is not a budget (THB has at most 2 decimals)")
    return value


def check_staff(value: int) -> int:
    """check_staff accepts a head count from 0 to MAX_STAFF."""
    if value < 0:
        raise BadInput(f"{value} is not a number of staff (must be 0 or more)")
    if value > MAX_STAFF:
        raise BadInput(f"{_short(value)} is not a plausible number of staff (at most {MAX_STAFF:,})")
    return value


#: Unicode's control characters (category Cc): C0, DEL and C1.
#: Control characters, and the marks that reorder how text is shown (bidi embeddings, overrides
#: and isolates, U+202A–E and U+2066–9): "ราคา\u202e05" would show another amount than it holds.
_CONTROL: Final = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
#: The longest text each text field holds.
TEXT_LIMITS: Final = {"unit": MAX_UNIT_CHARS, "note": MAX_NOTE_CHARS, "reason": MAX_REASON_CHARS}


def check_text(value: str, *, what: str, limit: int | None = None) -> str:
    """check_text accepts one line of text (units, notes, reasons, names) with surrounding
    blanks removed: no line breaks or other control characters, at most `limit` characters
    (the field's own limit by default)."""
    value = value.strip()
    found = _CONTROL.search(value)
    if found is not None:
        bad = found.group()
        if bad in "\n\r":
            raise BadInput(f"{what} must be one line of text")
        if "\u202a" <= bad <= "\u2069":
            raise BadInput(f"{what} holds a mark that reorders text as shown (U+{ord(bad):04X}); write plain text")
        raise BadInput(f"{what} holds a control character (U+{ord(bad):04X}); write plain text")
    limit = limit if limit is not None else TEXT_LIMITS.get(what, MAX_NOTE_CHARS)
    if len(value) > limit:
        raise BadInput(f"{what} is {len(value):,} characters long; at most {limit:,}")
    return value


def latest_effective(today: date) -> date:
    """latest_effective is the last plausible effective day, seen from `today`."""
    return date(today.year + LATEST_EFFECTIVE_YEARS_AHEAD, 12, 31)


def latest_fiscal_year(today: date) -> int:
    """latest_fiscal_year is the latest plausible fiscal year (BE), seen from `today`: the next one."""
    return today.year + 543 + (1 if today.month >= 10 else 0) + 1


def check_effective(day: date, today: date, *, what: str = "effective date") -> date:
    """check_effective accepts a day a record's values can hold from: not before
    EARLIEST_EFFECTIVE, not more than LATEST_EFFECTIVE_YEARS_AHEAD years after `today`."""
    latest = latest_effective(today)
    if day < EARLIEST_EFFECTIVE or day > latest:
        raise BadInput(
            f"{what} {day.isoformat()} ({day.year + 543} BE) is not plausible: give a day from "
            f"{EARLIEST_EFFECTIVE.isoformat()} to {latest.isoformat()}"
        )
    return day


def check_reported_at(at: datetime, now: datetime) -> datetime:
    """check_reported_at accepts when the source system says an LAO reported: not after the
    ledger records it (`now`), not before EARLIEST_REPORTED."""
    if at > now:
        raise BadInput(f"reported_at {at.isoformat()} is later than the time it is recorded ({now.isoformat()})")
    if at.date() < EARLIEST_REPORTED:
        raise BadInput(f"reported_at {at.isoformat()} is before {EARLIEST_REPORTED.isoformat()}: not plausible")
    return at


def check_received_fy_by(year: int, today: date) -> int:
    """check_received_fy_by refuses a fiscal year later than the next one (BE)."""
    latest = latest_fiscal_year(today)
    if year > latest:
        raise BadInput(f"received_fy {year} is in the future (the latest fiscal year now is {latest})")
    return year


def _parse_status_field(text: str) -> Any:
    return parse_status(text)


def _parse_received_fy(text: str) -> Any:
    return check_received_fy(parse_int(text, what="received_fy"))


def _parse_quantity(text: str) -> Any:
    value = _check_quantity_range(parse_decimal(text, what="quantity"))
    # Counted on the text (parse_decimal admits only digits after one '.'): an import parses
    # millions of quantities, and Decimal.as_tuple costs more than the rest of the check.
    if len(text.strip().partition(".")[2]) > MAX_QUANTITY_DECIMALS:
        _too_many_decimals(value)
    return value


def _parse_budget(text: str) -> Any:
    return check_budget(parse_decimal(text, what="budget"))


def _parse_staff(text: str) -> Any:
    return check_staff(parse_int(text, what="staff"))


# One parser per field, looked up once per call (an import parses millions of cells).
_FIELD_PARSERS: Final[dict[str, Callable[[str], Any]]] = {
    "status": _parse_status_field,
    "received_fy": _parse_received_fy,
    "quantity": _parse_quantity,
    "unit": lambda text: check_text(text, what="unit"),
    "budget": _parse_budget,
    "staff": _parse_staff,
    "note": lambda text: check_text(text, what="note"),
}


def parse_field(name: str, text: str) -> Any:
    """parse_field reads one field's value from text; empty text clears the field (None).

    Raises BadInput naming the field and the value when the text is not a valid value.
    """
    parser = _FIELD_PARSERS.get(name)
    if parser is None:
        raise BadInput(f"{name!r} is not a field (fields: {', '.join(FIELD_NAMES)})")
    text = text.strip()
    if text == "":
        if name == "status":
            raise BadInput("status cannot be cleared (operating or not_yet)")
        return None
    try:
        return parser(text)
    except BadInput as e:
        message = str(e)
        raise BadInput(message if message.startswith(name) else f"{name}: {message}") from e


_FIELD_TYPES: Final[dict[str, type]] = {
    "status": str, "received_fy": int, "quantity": Decimal, "unit": str, "budget": Decimal, "staff": int, "note": str,
}  # fmt: skip
_FIELD_KINDS: Final = {
    "status": "a status", "received_fy": "a whole number", "quantity": "a decimal number", "unit": "text",
    "budget": "a decimal amount", "staff": "a whole number", "note": "text",
}  # fmt: skip


def _of_its_type(name: str, value: object) -> bool:
    return type(value) is _FIELD_TYPES[name]  # exactly: a bool is no head count


def check_fields(fields: Fields) -> Fields:
    """check_fields re-applies the per-field rules to values that did not come through text.
    msgspec builds a Fields without checking it: a status or type the event's schema refuses
    would be appended and then never decode, so each is checked here."""
    for name, value in fields.items():
        if value is None:
            if name == "status":
                raise BadInput("status cannot be cleared (operating or not_yet)")
            continue
        if not _of_its_type(name, value):
            raise BadInput(f"{name} {value!r} is not {_FIELD_KINDS[name]}")
        if name == "status" and value not in SETTABLE_STATUSES:
            parse_status(value)  # raises for 'cancelled' (with its own advice) and for words it does not know
            raise BadInput(f"status {value!r} is not one of: operating, not_yet")  # a word, not the stored form
        if name == "received_fy":
            check_received_fy(value)
        elif name == "quantity":
            check_quantity(value)
        elif name == "budget":
            check_budget(value)
        elif name == "staff":
            check_staff(value)
        elif name in ("unit", "note"):
            check_text(value, what=name)
    return fields
