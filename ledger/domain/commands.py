"""A command on a mission record as a person or a program writes it — text, as a form, a JSON
body or a sheet's cells hold it — and the one translation of it into the application's arguments
(`MissionLedger.command`): which fields each command takes, each value read by its field's
parser (BE or CE dates, Thai digits and month names, exact decimals), every error naming the
field it is about. Every face that takes a record command as text comes through here. Pure.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, Final, TypeVar

import msgspec

from ledger.domain.thai import parse_date, parse_instant
from ledger.domain.values import FIELD_NAMES, Fields, parse_field, parse_status
from ledger.errors import BadInput

T = TypeVar("T")


class CommandText(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """CommandText is what a record command takes, as text, as the CLI's options do. Dates are CE or BE
    (`2567-12-30`, `30/12/2567`, `30 ธ.ค. 2567`); decimals are strings, so that they stay exact."""

    status: str | None = None
    effective: str | None = None
    # A JSON number with no fraction (12 or 12.0: JSON Schema's integer) is taken as its digits;
    # one with a fraction is refused, for a sender's floats may have rounded it already.
    received_fy: str | int | float | None = None
    quantity: str | int | float | None = None
    unit: str | None = None
    budget: str | int | float | None = None
    staff: str | int | float | None = None
    note: str | None = None
    set: dict[str, str | int | float | None] | None = None
    period_from: str | None = None
    period_to: str | None = None
    reason: str | None = None
    reported_at: str | None = None


#: The fields each command takes as text (beyond reason and reported_at).
TAKES: Final = {
    "record": {"status", "effective", "received_fy", "quantity", "unit", "budget", "staff", "note"},
    "correct": {"set", "period_from", "period_to"},
    "change": {"set", "effective"},
    "cancel": {"effective"},
    "reinstate": {"effective", "status"},
    "void": set(),
}
_VALUE_FIELDS: Final = ("received_fy", "quantity", "unit", "budget", "staff", "note")


def _text(value: str | int | float | None) -> str | None:
    return None if value is None else str(value)


def _integral(value: Any, where: str) -> Any:
    """_integral is a JSON number without a fraction as an int (12.0 → 12); one with a fraction
    is refused: the sender's floats may have rounded it already."""
    if not isinstance(value, float):
        return value
    if value.is_integer() and abs(value) < 2**53:
        return int(value)
    raise BadInput(f'{where}: {value!r}: send a decimal as a string, e.g. "12.50", so that it stays exact', field=where)


def _exact(body: CommandText) -> CommandText:
    """_exact is the body with its numbers as ints (see _integral)."""
    found = {n: _integral(getattr(body, n), n) for n in _VALUE_FIELDS}
    if body.set is not None:
        found["set"] = {k: _integral(v, f"set.{k}") for k, v in body.set.items()}
    return msgspec.structs.replace(body, **found)


def _field(name: str, text: str, where: str | None = None) -> Any:
    where = where or name
    try:
        return parse_field(name, text)
    except BadInput as e:
        raise BadInput(f"{where}: {e}", field=where) from e


def command_arguments(command: str, body: CommandText) -> dict[str, Any]:
    """command_arguments turns a command's text into MissionLedger.command's arguments, parsing
    every value as the CLI does; a field the command does not take, or a bad value, is BadInput
    naming it."""
    body = _exact(body)
    given = {f for f in body.__struct_fields__ if getattr(body, f) is not None} - {"reason", "reported_at"}
    extra = sorted(given - TAKES[command])
    if extra:
        raise BadInput(f"{command} takes no {', '.join(extra)}", field=extra[0])
    # Every field is read, and every refusal kept: a person fixes a form once, not once per field.
    refused: list[BadInput] = []

    def read(reading: Callable[..., T], *args: Any) -> T | None:
        try:
            return reading(*args)
        except BadInput as e:
            refused.append(e)
            return None

    arguments: dict[str, Any] = {"reason": body.reason, "reported_at": read(instant, "reported_at", body.reported_at)}
    if body.effective is not None:
        arguments["effective_from"] = read(day, "effective", body.effective)
    if command == "record":
        if body.status is None:
            refused.append(BadInput("record needs status (operating or not_yet)", field="status"))
        values: dict[str, Any] = {"status": read(parsed, "status", body.status, parse_status)}
        for name in _VALUE_FIELDS:
            text = _text(getattr(body, name))
            if text is not None:
                values[name] = read(_field, name, text)
        if not refused:
            arguments["values"] = Fields(**{k: v for k, v in values.items() if v is not None})
    if command == "reinstate" and body.status is not None:
        arguments["status"] = read(parsed, "status", body.status, parse_status)
    if body.set is not None:
        changes: dict[str, Any] = {}
        for name, value in body.set.items():
            where = f"set.{name}"
            if name == "effective_from" and command == "correct":
                arguments["effective_from"] = read(day, where, _text(value))
            elif name not in FIELD_NAMES:
                refused.append(BadInput(f"{where}: no field {name!r} (fields: {', '.join(FIELD_NAMES)})", field=where))
            elif name == "status" and str(value).strip() in ("cancelled", "ยกเลิก"):
                refused.append(BadInput("status 'cancelled' is set only by a cancellation: use cancel", field=where))
            else:
                changes[name] = read(_field, name, _text(value) or "", where)
        if not refused:
            arguments["set"] = Fields(**changes)
    for name in ("period_from", "period_to"):
        if getattr(body, name) is not None:
            arguments[name] = read(day, name, getattr(body, name))
    if refused:
        first = refused[0]
        first.also = tuple(refused[1:])
        raise first
    return arguments


def parsed(name: str, text: str | None, parse: Callable[[str], T]) -> T | None:
    """parsed reads one value with a ledger parser; its error names the field (None: empty)."""
    if text is None or text == "":
        return None
    try:
        return parse(text)
    except BadInput as e:
        raise BadInput(f"{name}: {e}", field=name) from e


def whole(name: str, text: str | None, *, least: int = 0) -> int | None:
    """whole reads a whole-number parameter (ASCII digits, at most 16): None when absent;
    BadInput naming it else — also for `` and `null`, which a lenient reader would take as absent."""
    if text is None:
        return None
    if not (text.isascii() and text.isdigit() and len(text) <= 16) or int(text) < least:
        raise BadInput(f"{name} {text[:40]!r} is not a whole number of at least {least}", field=name)
    return int(text)


def instant(name: str, text: str | None, *, day_starts: bool = False) -> datetime | None:
    """instant reads a known_at-like value (a date alone: the end of that day, Bangkok; with
    day_starts, its start)."""
    return parsed(name, text, lambda t: parse_instant(t, what=name, day_starts=day_starts))


def day(name: str, text: str | None) -> date | None:
    """day reads a date (CE or BE, Thai digits and month names)."""
    return parsed(name, text, lambda t: parse_date(t, what=name))
