"""Reporting rounds (pure): a round is data, not a flag typed each time. `round_opened` events
say which rounds there are; which one applied at a time is itself as-of-able, since the events
carry when the ledger learnt of them.

The round that applies to a province, as known at T, is the one with the latest start among the
rounds opened by T for that province or for the whole country (a province's own round wins a tie:
it is the more specific). Its deadline is the end of the deadline day in Bangkok.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final

from ledger.domain.events import Event, RoundOpened
from ledger.domain.thai import arabic_digits, end_of_day
from ledger.errors import BadInput

_NAME: Final = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]{0,63}")


def check_round_name(name: str) -> str:
    """check_round_name accepts a round's name: 1 to 64 of ASCII letters, digits, `.`, `_`, `-`,
    starting with a letter or digit (`2568`, `fy2568-h1`); Thai digits are read as digits."""
    name = arabic_digits(name.strip())
    if not _NAME.fullmatch(name):
        raise BadInput(f"round name {name!r} must be 1 to 64 of A-Z, a-z, 0-9, '.', '_', '-' (such as fy2568)")
    return name


def check_province_code(code: str, *, what: str = "province") -> str:
    """check_province_code accepts a province's two digits (Thai digits too)."""
    code = arabic_digits(code.strip())
    if not (len(code) == 2 and code.isdigit()):
        raise BadInput(f"{what} {code!r} is not a province code (2 digits, such as 81)")
    return code


@dataclass(frozen=True)
class Round:
    """Round is one reporting round as opened."""

    name: str
    start: date
    deadline: date
    province_code: str | None
    opened_at: datetime
    opened_by: str

    @property
    def deadline_instant(self) -> datetime:
        """deadline_instant is the last moment of the deadline day (Bangkok), in UTC."""
        return end_of_day(self.deadline)

    def applies_to(self, province_code: str | None) -> bool:
        """applies_to: a nationwide round applies everywhere; a province's round to it alone
        (and not to a nationwide question)."""
        return self.province_code is None or self.province_code == province_code


def check_round(name: str, start: date, deadline: date) -> None:
    """check_round refuses a round whose deadline is before its start."""
    if deadline < start:
        raise BadInput(f"round {name}: the deadline {deadline.isoformat()} is before the start {start.isoformat()}")


def fold_rounds(events: Iterable[Event], known_at: datetime | None = None) -> list[Round]:
    """fold_rounds lists the rounds opened by `known_at` (None: all), oldest start first."""
    found = [
        Round(e.name, e.start, e.deadline, e.province_code, e.recorded_at, e.actor)
        for e in events
        if isinstance(e, RoundOpened) and (known_at is None or e.recorded_at <= known_at)
    ]
    return sorted(found, key=lambda r: (r.start, r.province_code is not None, r.opened_at))


def round_for(rounds: Iterable[Round], province_code: str | None) -> Round | None:
    """round_for is the round that applies to a province (None: the nationwide question):
    the latest start among those that apply, a province's own round winning a tie."""
    applying = [r for r in rounds if r.applies_to(province_code)]
    return max(applying, key=lambda r: (r.start, r.province_code is not None, r.opened_at), default=None)
