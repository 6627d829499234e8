"""Importing a file as one batch: read, check, plan, and append in one transaction.

One import is one transaction: every event it appends shares one recorded_at and the source
`import:<batch id>`, and the batch itself is recorded (`batch_imported`: file name, SHA-256, row
counts, events per kind). The batch id is derived from the file's SHA-256, so importing the same
file again appends nothing; a process killed mid-import leaves nothing behind, and running the
same import again gives the events a single clean run gives.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from ledger.application import MissionLedger
from ledger.errors import BadInput, LedgerError
from ledger.events import (
    BatchImported,
    Cancelled,
    Changed,
    Corrected,
    Recorded,
    RecordEvent,
    Reinstated,
    batch_id,
    kind_of,
    record_id,
)
from ledger.ingest import Header, ImportRow, Plan, RowError, check_row, plan_row, read_table
from ledger.mapper import Envelope
from ledger.thai import bangkok_date
from ledger.timeline import RecordState, apply, fold
from ledger.values import Fields


@dataclass
class ImportReport:
    """ImportReport says what an import found and did (or, in a dry run, would do)."""

    batch_id: str
    sha256: str
    file_name: str
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)
    plans: list[Plan] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    already_imported_at: datetime | None = None
    recorded_at: datetime | None = None
    appended: int = 0

    @property
    def kinds(self) -> Counter[str]:
        """kinds counts the planned events by kind."""
        return Counter(p.kind for p in self.plans)

    @property
    def invalid_rows(self) -> int:
        """invalid_rows is the number of rows with at least one error."""
        return len({e.row for e in self.errors})


def import_file(
    app: MissionLedger,
    data: bytes,
    *,
    name: str,
    encoding: str | None = None,
    mode: str = "corrections",
    effective: date | None = None,
    dry_run: bool = False,
    skip_invalid: bool = False,
    snapshot: bool = False,
    cancel_missing: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """import_file imports one file. Bad rows: by default nothing is appended and every error is
    in the report; with skip_invalid the good rows are appended. Raises BadInput for a file that
    cannot be read at all."""
    if mode not in ("corrections", "changes"):
        raise BadInput(f"--as {mode!r}: give corrections or changes")
    if mode == "changes" and effective is None:
        raise BadInput("--as changes needs --effective DATE (the day the changes hold from)")
    sha = hashlib.sha256(data).hexdigest()
    report = ImportReport(batch_id=sha[:16], sha256=sha, file_name=name)
    previous = app.stream(batch_id(report.batch_id))
    if previous:
        report.already_imported_at = previous[0].recorded_at
        return report

    table = read_table(data, name, encoding=encoding)
    _, names = next(table)
    header = Header.of(list(names), name)
    report.unknown_columns = header.unknown
    rows: list[ImportRow] = []
    first_row_of: dict[tuple[str, str], int] = {}
    for number, cells in table:
        report.rows += 1
        row, errors = check_row(number, cells, header)
        if progress:
            progress(1)
        if row is None:
            report.errors += errors
            continue
        key = (row.lao_code, row.mission_code)
        if key in first_row_of:
            report.errors.append(
                RowError(
                    number,
                    "lao_code/mission_code",
                    f"{key[0]}/{key[1]}",
                    f"the same record is on row {first_row_of[key]} too: which one is meant?",
                    cells,
                )
            )
            continue
        first_row_of[key] = number
        rows.append(row)
    if report.rows == 0:
        raise BadInput(f"{name}: no rows under the header")
    # A record named twice is refused on both rows: neither is more right than the other.
    doubled = {
        (e.value.split("/")[0], e.value.split("/")[1]) for e in report.errors if e.column == "lao_code/mission_code"
    }
    rows = [r for r in rows if (r.lao_code, r.mission_code) not in doubled]
    for key in doubled:
        report.errors.append(
            RowError(
                first_row_of[key],
                "lao_code/mission_code",
                "/".join(key),
                "the same record is on a later row too: which one is meant?",
            )
        )

    def decide(now: datetime) -> list[Envelope]:
        report.plans = []
        today = bangkok_date(now)
        envelopes: list[Envelope] = []
        meta: dict[str, Any] = {
            "recorded_at": now,
            "actor": app.actor,
            "source": f"import:{report.batch_id}",
            "reason": f"import of {name} (batch {report.batch_id})",
        }
        laos: dict[str, str | None] = {}
        missions: dict[str, Any] = {}
        streams = app.records_events([(r.lao_code, r.mission_code) for r in rows])
        for row in rows:
            state = fold(streams[(row.lao_code, row.mission_code)])
            try:
                _check_reference(app, row, state, laos, missions)
                plans, errors = plan_row(row, state, mode=mode, effective=effective, today=today)
                if errors:
                    report.errors += errors
                    continue
                built = _events(plans, meta)
                timeline = state.timeline
                for event in built:
                    timeline = apply(timeline, event)  # refuses what the rules forbid, per row
            except LedgerError as e:
                report.errors.append(RowError(row.row, "—", f"{row.lao_code}/{row.mission_code}", str(e), row.cells))
                continue
            report.plans += plans
            sid = record_id(row.lao_code, row.mission_code)
            envelopes += [Envelope(sid, state.version + i + 1, e) for i, e in enumerate(built)]
        if snapshot:
            envelopes += _missing(app, rows, report, meta, cancel_missing, effective or today)
        if report.errors and not skip_invalid:
            raise _Invalid
        if dry_run:
            raise _DryRun
        if not envelopes:
            return []  # the ledger already holds every row: not even the batch is appended
        batch = BatchImported(
            batch_id=report.batch_id,
            file_name=name,
            sha256=sha,
            mode=mode,
            rows=report.rows,
            invalid_rows=report.invalid_rows,
            appended=dict(Counter(kind_of(e.event) for e in envelopes)),
            **meta,
        )
        return [*envelopes, Envelope(batch_id(report.batch_id), 1, batch)]

    try:
        receipt = app._append(decide, conflict="records of this batch changed while it was imported; import it again")
    except (_Invalid, _DryRun):
        return report
    report.recorded_at = receipt.recorded_at
    report.appended = receipt.count
    return report


class _Invalid(Exception):
    """Rows are invalid and skip_invalid is off: nothing is appended."""


class _DryRun(Exception):
    """A dry run stops once the plan is made."""


def _check_reference(
    app: MissionLedger, row: ImportRow, state: RecordState, laos: dict[str, str | None], missions: dict[str, Any]
) -> None:
    if state.version:
        return
    # Registry and catalog entries are read once per batch, not once per row.
    if row.lao_code not in laos:
        laos[row.lao_code] = app.lao(row.lao_code).lao_type
    if row.mission_code not in missions:
        missions[row.mission_code] = app.mission(row.mission_code)
    mission = missions[row.mission_code]
    lao_type = laos[row.lao_code]
    if lao_type is not None and not mission.applies(lao_type):
        raise BadInput(f"mission {row.mission_code} does not apply to LAO {row.lao_code} ({lao_type})")


def _events(plans: list[Plan], meta: dict[str, Any]) -> list[RecordEvent]:
    out: list[RecordEvent] = []
    for p in plans:
        key: dict[str, Any] = {"lao_code": p.lao_code, "mission_code": p.mission_code}
        if p.kind == "recorded":
            assert p.effective_from is not None
            out.append(
                Recorded(**key, effective_from=p.effective_from, values=Fields(**p.values), **{**meta, "reason": None})
            )
        elif p.kind == "corrected":
            out.append(Corrected(**key, set=Fields(**p.values), effective_from=p.effective_from, **meta))
        elif p.kind == "changed":
            assert p.effective_from is not None
            out.append(Changed(**key, set=Fields(**p.values), effective_from=p.effective_from, **meta))
        elif p.kind == "cancelled":
            assert p.effective_from is not None
            out.append(Cancelled(**key, effective_from=p.effective_from, **meta))
        elif p.kind == "reinstated":
            assert p.effective_from is not None
            out.append(Reinstated(**key, effective_from=p.effective_from, status=p.values.get("status"), **meta))
    return out


def _missing(
    app: MissionLedger, rows: list[ImportRow], report: ImportReport, meta: dict[str, Any], cancel: bool, when: date
) -> list[Envelope]:
    """--snapshot: records of the file's LAOs that the file does not mention need attention."""
    present = {(r.lao_code, r.mission_code) for r in rows}
    out: list[Envelope] = []
    for lao in sorted({r.lao_code for r in rows}):
        for sid in app.ledger_recorder.stream_ids(f"record/{lao}/"):
            mission = sid.split("/", 2)[2]
            if (lao, mission) in present:
                continue
            events = app.record_events(lao, mission)
            state = fold(events)
            held = state.timeline.periods[-1].values if state.timeline.exists else None
            if held is None or held.cancelled:
                continue
            report.missing.append(f"{lao}/{mission}")
            if cancel:
                event = Cancelled(
                    lao_code=lao, mission_code=mission, effective_from=max(when, state.timeline.start or when), **meta
                )
                apply(state.timeline, event)
                report.plans.append(
                    Plan(0, "cancelled", lao, mission, {}, event.effective_from, {"status": held.status})
                )
                out.append(Envelope(sid, state.version + 1, event))
    return out
