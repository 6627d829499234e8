"""Planning an import: what each checked row asks of the ledger, compared with the record's
current state — the events that bring the ledger to the row, and none where nothing differs.
Pure: the importer passes the states in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from ledger.domain.timeline import RecordState, Values
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
