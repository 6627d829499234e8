"""The stored form of recorded_at: UTC text with microseconds, sortable as text, in both stores
and the views; and how a stored blob is read back. Pure: no I/O."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any


# Remembered: a batch stamps thousands of events with one instant, and every read formats or
# parses the same few stamps again and again.
@functools.lru_cache(maxsize=4096)
def format_stamp(instant: datetime) -> str:
    """format_stamp is the stored form of a recorded_at: UTC, microseconds, sortable as text."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@functools.lru_cache(maxsize=4096)
def parse_stamp(text: str) -> datetime:
    """parse_stamp reads a stored recorded_at."""
    if len(text) != 27 or text[-1] != "Z":
        raise ValueError(f"{text!r} is not a stored recorded_at")
    # fromisoformat is several times faster than strptime, and this runs for every event read.
    return datetime.fromisoformat(text[:-1]).replace(tzinfo=UTC)


def stamp_text(value: str | datetime | None) -> str | None:
    """stamp_text is a stored instant as format_stamp writes it, whichever column holds it: text
    (SQLite) as it is, timestamptz (PostgreSQL, which gives a datetime) written again."""
    if value is None or isinstance(value, str):
        return value
    return format_stamp(value)


def stored_instant(value: str | datetime) -> datetime:
    """stored_instant is a stored instant as a datetime in UTC, from a text (SQLite) or a
    timestamptz (PostgreSQL) column."""
    return parse_stamp(value) if isinstance(value, str) else value.astimezone(UTC)


def read_stamp(value: str | datetime | None) -> datetime | None:
    """read_stamp is stored_instant of a column that may be empty (None)."""
    return None if value is None or value == "" else stored_instant(value)


def as_bytes(value: Any) -> bytes | None:
    """as_bytes reads a stored blob; a tamperer's SQL may have left text, read as the bytes it spells."""
    if value is None or isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    return bytes(value)
