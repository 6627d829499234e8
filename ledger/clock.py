"""The ledger clock: when an event is recorded.

The wall clock by default; fixed by `MISSION_LEDGER_CLOCK` (ISO 8601) for tests and historical
backfill. Either way the store refuses a time earlier than the last recorded event, and a
set clock more than CLOCK_LEAD ahead of the machine's is refused for writing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from ledger.domain.thai import parse_instant

CLOCK_ENV = "MISSION_LEDGER_CLOCK"
#: How far a set ledger clock may run ahead of the machine's: an event is never stamped earlier
#: than the last one, so one write stamped in the future would stamp every later write there.
CLOCK_LEAD = timedelta(minutes=5)


class Clock(Protocol):
    """Clock tells the time for recorded_at; `fixed` says whether it can move on its own."""

    fixed: bool

    def now(self) -> datetime:
        """now is the current ledger time, timezone-aware, UTC."""
        ...


class SystemClock:
    """SystemClock is the machine's UTC time."""

    fixed = False

    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class FixedClock:
    """FixedClock always says `at` (tests and backfill move it on by assigning `at`)."""

    at: datetime
    fixed: bool = True

    def now(self) -> datetime:
        return self.at


def clock_from_environment(env: Mapping[str, str]) -> Clock:
    """clock_from_environment reads MISSION_LEDGER_CLOCK, or gives the system clock."""
    text = env.get(CLOCK_ENV, "").strip()
    if not text:
        return SystemClock()
    return FixedClock(parse_instant(text, what=CLOCK_ENV))
