"""Planning an import: what each checked row asks of the ledger, compared with the record's
current state — the events that bring the ledger to the row, and none where nothing differs.
Pure: the importer passes the states in.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any, Literal

from ledger.domain.timeline import RecordState, Values, fold
from ledger.domain.values import FIELD_NAMES
from ledger.imports.rows import ImportRow, RowError


@dataclass(frozen=True)
class Plan:
    """Plan is what one row asks of the ledger: a kind and its arguments (and before → after)."""

    row: int
    kind: str
    lao_code: str
    mission_code: str
    values: dict[str, Any]
    effective_from: date | None
    before: dict[str, Any]
    #: The reason its event carries, when not the batch's (a conflict applied anyway).
    reason: str | None = None

    def changes(self) -> list[tuple[str, Any, Any]]:
        """changes lists what the event would change, (field, before, after), in field order;
        a correction of the first day adds effective_from."""
        out = [
            (k, self.before.get(k), self.values[k])
            for k in FIELD_NAMES
            if k in self.values and (self.values[k] is not None or self.before.get(k) is not None)
        ]
        if self.kind == "corrected" and self.effective_from:
            out.append(("effective_from", self.before.get("effective_from"), self.effective_from))
        return out


def plan_row(
    row: ImportRow, state: RecordState, *, mode: str, effective: date | None, today: date
) -> tuple[list[Plan], list[RowError]]:
    """plan_row compares a row with its record's current state (its latest period) and returns
    the events it needs: none when nothing differs."""
    start = row.effective_from or effective
    timeline = state.timeline
    if not timeline.exists:
        if row.cancelled:
            why = "a record that is not recorded cannot be cancelled"
            return [], [RowError(row.row, "status", "cancelled", why, row.cells)]
        if "status" not in row.values:
            return [], [
                RowError(row.row, "status", "", "a new record needs a status (operating or not_yet)", row.cells)
            ]
        if start is None:
            why = "a new record needs effective_from (or --effective)"
            return [], [RowError(row.row, "effective_from", "", why, row.cells)]
        return [Plan(row.row, "recorded", row.lao_code, row.mission_code, row.values, start, {})], []
    current: Values = timeline.periods[-1].values
    plans: list[Plan] = []
    differing = {k: v for k, v in row.values.items() if getattr(current, k) != v}
    before = {k: getattr(current, k) for k in differing}
    if mode == "changes":
        if differing:
            when = effective or row.effective_from or today
            plans.append(Plan(row.row, "changed", row.lao_code, row.mission_code, differing, when, before))
    else:
        new_start = row.effective_from if row.effective_from not in (None, timeline.start) else None
        if new_start is not None:
            before["effective_from"] = timeline.start
        if differing or new_start is not None:
            plans.append(Plan(row.row, "corrected", row.lao_code, row.mission_code, differing, new_start, before))
    if row.cancelled and not current.cancelled:
        plans.append(
            Plan(
                row.row, "cancelled", row.lao_code, row.mission_code, {}, effective or today, {"status": current.status}
            )
        )
    elif not row.cancelled and "status" in row.values and current.cancelled:
        plans.append(
            Plan(
                row.row,
                "reinstated",
                row.lao_code,
                row.mission_code,
                {"status": row.values["status"]},
                effective or today,
                {"status": "cancelled"},
            )
        )
    return plans, []


Standing = Literal["current", "untouched", "edited", "ahead"]


def standing(row: ImportRow, state: RecordState, earlier: RecordState) -> Standing:
    """standing is how a row that names the version it was based on stands to its record:
    `current` (the record is still at that version, or the row names none), `untouched` (the
    record moved on, and the row says exactly what the record said at that version: the person
    did not touch it), `edited` (the record moved on, and the row differs from that version: a
    conflict), `ahead` (the row names a version the record never had)."""
    if row.based_on is None or row.based_on == state.version:
        return "current"
    if row.based_on > state.version:
        return "ahead"
    return "edited" if edits_since(row, earlier) else "untouched"


def edits_since(row: ImportRow, earlier: RecordState) -> ImportRow | None:
    """edits_since is the row reduced to what it changes of the record as it was at `earlier`
    (the version it was based on): the person's own edits, or None when there are none."""
    timeline = earlier.timeline
    if not timeline.exists:
        return row
    then: Values = timeline.periods[-1].values
    values = {k: v for k, v in row.values.items() if getattr(then, k) != v}
    cancelled = row.cancelled and not then.cancelled
    # A status cell naming the status the record had is no edit; one that says otherwise is.
    starts = row.effective_from if row.effective_from not in (None, timeline.start) else None
    if not values and not cancelled and starts is None and row.cancelled == then.cancelled:
        return None
    return replace(row, values=values, cancelled=cancelled or row.cancelled, effective_from=starts, based_on=None)


def state_at(events: list[Any], version: int) -> RecordState:
    """state_at is a record's state at one of its versions (its first `version` events)."""
    return fold(events[:version])


def describe_since(events: list[Any], version: int) -> str:
    """describe_since says what happened to a record after a version: when, by whom, what."""
    from ledger.domain.events import kind_of
    from ledger.domain.thai import format_instant

    parts = []
    for event in events[version:]:
        changed = getattr(event, "set", None) or getattr(event, "values", None)
        fields = ", ".join(k for k, _ in changed.items()) if changed is not None else ""
        kind = kind_of(event)
        parts.append(f"{format_instant(event.recorded_at)} {event.actor} {kind}" + (f" ({fields})" if fields else ""))
    return "; ".join(parts)
