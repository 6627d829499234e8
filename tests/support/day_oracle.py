"""An independent model of docs/design.md §4 for tests: a record as a map from each day to its values.

It shares no code with ledger.domain.timeline: instead of splitting periods it rewrites day by day
over a bounded window, which is easy to see is right. Every effective date the tests generate
lies inside the window, so the last day of the window stands for every day after it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from msgspec import UNSET

from ledger.domain.events import Cancelled, Changed, Corrected, Recorded, RecordEvent, Reinstated, Voided

FIRST = date(2023, 12, 1)
LAST = date(2024, 4, 30)
DAYS = [FIRST + timedelta(days=i) for i in range((LAST - FIRST).days + 1)]


@dataclass(frozen=True)
class DayValues:
    status: str
    received_fy: int | None = None
    quantity: Decimal | None = None
    unit: str | None = None
    budget: Decimal | None = None
    staff: int | None = None
    note: str | None = None
    cancelled: bool = False


Days = dict[date, DayValues | None]


class Rejected(Exception):
    """The model's prediction that the ledger refuses an event."""


def _patch(v: DayValues, fields: object) -> DayValues:
    changes = {
        n: getattr(fields, n)
        for n in ("status", "received_fy", "quantity", "unit", "budget", "staff", "note")
        if getattr(fields, n) is not UNSET
    }
    return replace(v, **changes)


def step(days: Days, event: RecordEvent) -> Days:
    """The day map after one event; raises Rejected where the ledger must refuse it."""
    present = [d for d in DAYS if days.get(d) is not None]
    start = present[0] if present else None
    out = dict(days)
    if isinstance(event, Recorded):
        if present:
            raise Rejected("already recorded")
        base = _patch(DayValues(status="?"), event.values)
        out = {d: (base if d >= event.effective_from else None) for d in DAYS}
    else:
        if not present:
            raise Rejected("absent")
        assert start is not None
        eff = getattr(event, "effective_from", None)
        if isinstance(event, (Changed, Cancelled, Reinstated)) and eff < start:
            raise Rejected("before start")
        if isinstance(event, Corrected):
            if event.effective_from is not None:
                first_values = days[start]
                boundary = next((d for d in present if days[d] != first_values), None)
                if boundary is not None and event.effective_from >= boundary:
                    raise Rejected("start past boundary")
                for d in DAYS:
                    if event.effective_from <= d < start:
                        out[d] = first_values
                    elif start <= d < event.effective_from:
                        out[d] = None
            lo = event.period_from or FIRST
            hi = event.period_to
            for d in DAYS:
                if out[d] is not None and d >= lo and (hi is None or d < hi):
                    out[d] = _patch(out[d], event.set)
        elif isinstance(event, Changed):
            for d in DAYS:
                if d >= event.effective_from and out[d] is not None:
                    out[d] = _patch(out[d], event.set)
        elif isinstance(event, Cancelled):
            if days[event.effective_from].cancelled:
                raise Rejected("already cancelled")
            for d in DAYS:
                if d >= event.effective_from and out[d] is not None:
                    out[d] = replace(out[d], cancelled=True)
        elif isinstance(event, Reinstated):
            if not days[event.effective_from].cancelled:
                raise Rejected("not cancelled")
            for d in DAYS:
                if d >= event.effective_from and out[d] is not None:
                    out[d] = replace(out[d], cancelled=False, status=event.status or out[d].status)
        elif isinstance(event, Voided):
            out = {d: None for d in DAYS}
    for v in out.values():
        if v is not None and v.quantity is not None and v.unit is None:
            raise Rejected("quantity without unit")
    return out


def state_at(events: list[RecordEvent], known_at: datetime, valid_on: date) -> DayValues | None:
    """The values on valid_on as known at known_at (events must be accepted ones, in order)."""
    days: Days = {d: None for d in DAYS}
    for event in events:
        if event.recorded_at <= known_at:
            days = step(days, event)
    return days[min(max(valid_on, FIRST), LAST)] if valid_on >= FIRST else None
