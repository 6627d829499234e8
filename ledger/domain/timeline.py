"""The two-clock fold of docs/design.md §4, as pure functions.

A record's events, taken in ledger order up to a known_at T, fold into a valid-time timeline:
periods [valid_from, valid_to) each holding one set of values. The state at (T, V) is the
period containing V, or absent. This module *is* the naive fold: every projection must agree
with it, and the tests check that they do.

`apply` both folds stored events and checks new ones: a transition the ledger's rules refuse
raises `Refused` (or `BadInput`), so a command is validated by folding it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final

from msgspec import UNSET

from ledger.domain.events import (
    Cancelled,
    Changed,
    Corrected,
    Recorded,
    RecordEvent,
    Reinstated,
    Voided,
)
from ledger.domain.values import FIELD_NAMES, Fields
from ledger.errors import BadInput, Refused, Unprocessable


@dataclass(frozen=True)
class Values:
    """Values is what a record says during one period.

    `status` is the status reported (operating / not_yet); `cancelled` overlays it, so that a
    reinstatement can restore what held before the cancellation.
    """

    status: str
    received_fy: int | None = None
    quantity: Decimal | None = None
    unit: str | None = None
    budget: Decimal | None = None
    staff: int | None = None
    note: str | None = None
    cancelled: bool = False

    @property
    def shown_status(self) -> str:
        """shown_status is the status a reader sees: `cancelled` while cancelled."""
        return "cancelled" if self.cancelled else self.status

    def patched(self, fields: Fields) -> Values:
        """patched returns these values with the set fields replaced."""
        changes = fields.items()
        if not changes:
            return self
        # dataclasses.replace re-inspects the fields on every call; a fold patches millions.
        return Values(**{**self.__dict__, **dict(changes)})

    def missing_required(self) -> list[str]:
        """missing_required names the required fields with no value (completeness, docs/design.md §2)."""
        missing = [n for n in ("received_fy",) if getattr(self, n) is None]
        if self.quantity is None or self.unit is None:
            missing.append("quantity" if self.quantity is None else "unit")
        return missing


@dataclass(frozen=True)
class Period:
    """Period is one stretch of valid time [valid_from, valid_to) with its values;
    valid_to None means open-ended."""

    valid_from: date
    valid_to: date | None
    values: Values

    def contains(self, day: date) -> bool:
        """contains is true when `day` falls in [valid_from, valid_to)."""
        return self.valid_from <= day and (self.valid_to is None or day < self.valid_to)


@dataclass(frozen=True)
class Timeline:
    """Timeline is a record's valid-time history as known at some T: contiguous periods in
    order, with no two neighbours holding equal values (so equal timelines mean equal
    meaning). Empty periods mean the record is absent (never recorded, or voided)."""

    periods: tuple[Period, ...] = ()
    voided: bool = False

    @property
    def exists(self) -> bool:
        """exists is true when the record holds at some valid time."""
        return bool(self.periods)

    @property
    def start(self) -> date | None:
        """start is the record's first valid day (its effective_from)."""
        return self.periods[0].valid_from if self.periods else None

    def at(self, valid_on: date) -> Period | None:
        """at returns the period holding on `valid_on`, or None when the record is absent then."""
        for period in self.periods:
            if period.contains(valid_on):
                return period
        return None


@dataclass(frozen=True)
class RecordState:
    """RecordState is a record's fold at one known_at: its timeline, how many of its events
    were known (`version`), and when the latest of them was recorded."""

    timeline: Timeline = field(default_factory=Timeline)
    version: int = 0
    last_recorded_at: datetime | None = None


def _coalesce(periods: Iterable[Period]) -> tuple[Period, ...]:
    out: list[Period] = []
    for p in periods:
        if out and out[-1].values == p.values and out[-1].valid_to == p.valid_from:
            out[-1] = Period(out[-1].valid_from, p.valid_to, p.values)
        else:
            out.append(p)
    return tuple(out)


def _split(periods: tuple[Period, ...], at: date) -> tuple[Period, ...]:
    """Split the period containing `at` so that a period starts exactly at `at`."""
    out: list[Period] = []
    for p in periods:
        if p.valid_from < at and (p.valid_to is None or at < p.valid_to):
            out.append(Period(p.valid_from, at, p.values))
            out.append(Period(at, p.valid_to, p.values))
        else:
            out.append(p)
    return tuple(out)


def _map_from(
    periods: tuple[Period, ...], start: date, end: date | None, fn: Callable[[Values], Values]
) -> tuple[Period, ...]:
    """Apply fn to the values holding in [start, end), splitting periods at the edges."""
    periods = _split(periods, start)
    if end is not None:
        periods = _split(periods, end)
    return _coalesce(
        Period(p.valid_from, p.valid_to, fn(p.values))
        if p.valid_from >= start and (end is None or p.valid_from < end)
        else p
        for p in periods
    )


def _require_exists(timeline: Timeline, event: RecordEvent) -> None:
    if not timeline.exists:
        what = "was voided" if timeline.voided else "is not recorded"
        raise Refused(f"record {event.lao_code}/{event.mission_code} {what}")


def _require_within(timeline: Timeline, day: date, what: str) -> None:
    start = timeline.start
    if start is not None and day < start:
        raise Refused(f"{what} {day.isoformat()} is before the record starts ({start.isoformat()})")


def _check_units(timeline: Timeline) -> None:
    for p in timeline.periods:
        if p.values.quantity is not None and p.values.unit is None:
            raise Unprocessable(
                f"quantity {p.values.quantity} has no unit (from {p.valid_from.isoformat()}): give --unit or set unit"
            )


def apply(timeline: Timeline, event: RecordEvent) -> Timeline:
    """apply folds one event into a timeline, refusing transitions the ledger forbids."""
    if isinstance(event, Recorded):
        if timeline.exists:
            key = f"{event.lao_code}/{event.mission_code}"
            raise Refused(f"record {key} is already recorded: use 'correct' or 'change'")
        if event.values.status is UNSET:
            raise BadInput("a new record needs a status (operating or not_yet)")
        base = Values(**dict(event.values.items()))
        result = Timeline((Period(event.effective_from, None, base),))
    elif isinstance(event, Corrected):
        _require_exists(timeline, event)
        periods = timeline.periods
        if event.effective_from is not None:
            first = periods[0]
            if first.valid_to is not None and event.effective_from >= first.valid_to:
                raise Refused(
                    f"effective_from {event.effective_from.isoformat()} is not before the "
                    f"record's next boundary ({first.valid_to.isoformat()})"
                )
            periods = (Period(event.effective_from, first.valid_to, first.values), *periods[1:])
        if not event.set.is_empty():
            start = event.period_from or periods[0].valid_from
            if event.period_to is not None and event.period_to <= start:
                raise BadInput("the corrected period is empty (period_to must be after period_from)")
            start = max(start, periods[0].valid_from)
            periods = _map_from(periods, start, event.period_to, lambda v: v.patched(event.set))
        result = Timeline(_coalesce(periods))
    elif isinstance(event, Changed):
        _require_exists(timeline, event)
        _require_within(timeline, event.effective_from, "a change effective")
        result = Timeline(_map_from(timeline.periods, event.effective_from, None, lambda v: v.patched(event.set)))
    elif isinstance(event, Cancelled):
        _require_exists(timeline, event)
        _require_within(timeline, event.effective_from, "a cancellation effective")
        held = timeline.at(event.effective_from)
        if held is not None and held.values.cancelled:
            raise Refused(
                f"record {event.lao_code}/{event.mission_code} is already cancelled on "
                f"{event.effective_from.isoformat()}"
            )
        result = Timeline(_map_from(timeline.periods, event.effective_from, None, lambda v: replace(v, cancelled=True)))
    elif isinstance(event, Reinstated):
        _require_exists(timeline, event)
        _require_within(timeline, event.effective_from, "a reinstatement effective")
        held = timeline.at(event.effective_from)
        if held is None or not held.values.cancelled:
            raise Refused(
                f"record {event.lao_code}/{event.mission_code} is not cancelled on {event.effective_from.isoformat()}"
            )
        status = event.status
        result = Timeline(
            _map_from(
                timeline.periods,
                event.effective_from,
                None,
                lambda v: replace(v, cancelled=False, status=status or v.status),
            )
        )
    elif isinstance(event, Voided):
        _require_exists(timeline, event)
        result = Timeline((), voided=True)
    else:  # pragma: no cover - the union is closed
        raise TypeError(f"not a record event: {event!r}")
    _check_units(result)
    return result


def fold(events: Iterable[RecordEvent], known_at: datetime | None = None) -> RecordState:
    """fold gives a record's state as known at `known_at` (None: everything).

    Events must be the record's events in ledger order; those recorded after known_at are
    ignored (recorded_at never decreases along the ledger, so they are a suffix).
    """
    state = RecordState()
    for event in events:
        if known_at is not None and event.recorded_at > known_at:
            break
        state = RecordState(apply(state.timeline, event), state.version + 1, event.recorded_at)
    return state


def changed_fields(before: Values | None, after: Values | None) -> dict[str, tuple[object, object]]:
    """changed_fields lists, by name, the values that differ between two states (before, after)."""
    names = (*FIELD_NAMES, "cancelled")
    out: dict[str, tuple[object, object]] = {}
    for name in names:
        b = getattr(before, name) if before is not None else None
        a = getattr(after, name) if after is not None else None
        if b != a:
            out[name] = (b, a)
    return out


@dataclass(frozen=True)
class RecordView:
    """RecordView is a mission record at (known_at, valid_on): the JSON of `show` (docs/design.md §9)."""

    lao_code: str
    mission_code: str
    status: str
    received_fy: int | None
    quantity: Any
    unit: str | None
    budget: Any
    staff: int | None
    note: str | None
    version: int
    effective_from: date
    valid_from: date
    valid_to: date | None
    recorded_at: datetime

    @classmethod
    def of(cls, lao: str, mission: str, state: RecordState, period: Period) -> RecordView:
        """of builds the view of one record's period as folded in `state`."""
        v = period.values
        start = state.timeline.start
        assert start is not None and state.last_recorded_at is not None  # a period implies both
        return cls(
            lao_code=lao,
            mission_code=mission,
            status=v.shown_status,
            received_fy=v.received_fy,
            quantity=v.quantity,
            unit=v.unit,
            budget=v.budget,
            staff=v.staff,
            note=v.note,
            version=state.version,
            effective_from=start,
            valid_from=period.valid_from,
            valid_to=period.valid_to,
            recorded_at=state.last_recorded_at,
        )


#: The keys of a record's JSON (`show --json`, the lists of `as-of --json`), in their order.
RECORD_KEYS: Final = tuple(f.name for f in fields(RecordView))
