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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final

import msgspec
from eventsourcing.persistence import IntegrityError, PersistenceError

from ledger.application import MissionLedger
from ledger.domain.events import (
    BatchImported,
    Cancelled,
    Changed,
    Corrected,
    Recorded,
    RecordEvent,
    Reinstated,
    batch_id,
    record_id,
)
from ledger.domain.limits import EARLIEST_EFFECTIVE, MAX_ROWS
from ledger.domain.search import expand, matches, search_key
from ledger.domain.thai import bangkok_date
from ledger.domain.timeline import RecordState, apply, fold
from ledger.domain.values import (
    Fields,
    check_effective,
    check_received_fy_by,
    check_text,
    latest_effective,
    latest_fiscal_year,
)
from ledger.errors import BadInput, Conflict, LedgerError
from ledger.imports.planning import Plan, describe_since, edits_since, plan_row, standing, state_at
from ledger.imports.reading import check_row_count, read_table, sha256_of
from ledger.imports.rows import Header, ImportRow, LaoName, RowError, check_row, looks_like_header, not_a_record
from ledger.store.contract import Follower
from ledger.store.location import translate_store_error
from ledger.store.mapper import Envelope


@dataclass
class ImportReport:
    """ImportReport says what an import found and did (or, in a dry run, would do)."""

    batch_id: str
    sha256: str
    file_name: str
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    #: Rows read once though the file has them more than once, word for word.
    repeated: list[tuple[int, int]] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)
    kinds: Counter[str] = field(default_factory=Counter)
    plans: list[Plan] = field(default_factory=list)  # kept only when asked (dry run --verbose)
    missing: list[str] = field(default_factory=list)
    #: Rows under the table that are no record (a totals row, a signature): (row, why), skipped.
    skipped: list[tuple[int, str]] = field(default_factory=list)
    #: Rows based on an earlier version of a record that moved on since, saying exactly what that
    #: version said: the person did not touch them, and they append nothing.
    untouched: int = 0
    #: Rows based on an earlier version that change it: conflicts (each also an error).
    conflicts: int = 0
    #: How the file names each column it has (column → its header), to speak of it in its words.
    headers: dict[str, str] = field(default_factory=dict)
    #: Mission codes written otherwise than the catalog's (`qol 01`): (row, as written, read as).
    read_as: list[tuple[int, str, str]] = field(default_factory=list)
    already_imported_at: datetime | None = None
    recorded_at: datetime | None = None
    appended: int = 0

    @property
    def invalid_rows(self) -> int:
        """invalid_rows is the number of rows with at least one error."""
        return len({e.row for e in self.errors})

    def as_json(self) -> dict[str, Any]:
        """as_json is the report as a document (the service's answer to an upload): what was
        read, every error with its row and column, what was (or would be) appended."""
        return {
            "batch_id": self.batch_id,
            "sha256": self.sha256,
            "file_name": self.file_name,
            "rows": self.rows,
            "invalid_rows": self.invalid_rows,
            "errors": [{"row": e.row, "column": e.column, "value": e.value, "why": e.why} for e in self.errors],
            "repeated": [{"row": row, "same_as_row": first} for row, first in self.repeated],
            "unknown_columns": self.unknown_columns,
            "kinds": dict(sorted(self.kinds.items())),
            "plans": [
                {
                    "row": p.row,
                    "kind": p.kind,
                    "lao_code": p.lao_code,
                    "mission_code": p.mission_code,
                    "effective_from": p.effective_from,
                    "changes": [{"field": f, "before": b, "after": a} for f, b, a in p.changes()],
                }
                for p in self.plans
            ],
            "missing": self.missing,
            "skipped": [{"row": row, "why": why} for row, why in self.skipped],
            "untouched": self.untouched,
            "read_as": [{"row": row, "written": typed, "read_as": code} for row, typed, code in self.read_as],
            "conflicts": self.conflicts,
            "already_imported_at": self.already_imported_at,
            "recorded_at": self.recorded_at,
            "appended": self.appended,
        }

    def error_table(self) -> tuple[list[str], list[list[Any]]]:
        """error_table is the bad rows as the file had them, each with what is wrong (header,
        rows): the error file an LAO fixes — correct the cells, delete the two error columns,
        import again."""
        by_row: dict[int, list[RowError]] = {}
        for e in self.errors:
            by_row.setdefault(e.row, []).append(e)
        columns = list(dict.fromkeys(k for errors in by_row.values() for e in errors for k in e.cells))
        rows = []
        for row, errors in sorted(by_row.items()):
            cells: dict[str, str] = next((e.cells for e in errors if e.cells), {})
            rows.append(
                [
                    row,
                    *(cells.get(c, "") for c in columns),
                    "; ".join(e.column for e in errors),
                    "; ".join(e.why for e in errors),
                ]
            )
        return ["row", *columns, "error_column", "error_why"], rows


CHUNK = 2000


def import_file(
    app: MissionLedger,
    source: bytes | Path,
    *,
    name: str,
    encoding: str | None = None,
    sheet: str | None = None,
    mode: str = "corrections",
    effective: date | None = None,
    dry_run: bool = False,
    skip_invalid: bool = False,
    snapshot: bool = False,
    cancel_missing: bool = False,
    keep_plans: bool = False,
    progress: Callable[[int], None] | None = None,
    blank_clears: bool = False,
    override_conflicts: str | None = None,
    follower: Follower | None = None,
) -> ImportReport:
    """import_file imports one file (a path, or its bytes). Bad rows: by default nothing is
    appended and every error is in the report; with skip_invalid the good rows are appended.
    Raises BadInput for a file that cannot be read at all.

    A row that names the version of its record it was based on (the export's `version` column) is
    a conditional write: when the record has moved on since, a row that says what that version
    said appends nothing (nobody touched it) and a row that changes it is a conflict — refused,
    with what changed since — unless `override_conflicts` gives the reason to apply its edits
    anyway. A blank cell leaves its field as it is (`blank_clears`: it clears it, for a file that
    is a complete snapshot); a clearing mark clears it.

    Memory stays bounded: rows stream through in chunks of CHUNK, each chunk's events go into
    the one open transaction, and only the keys seen so far (to find a record named twice) grow
    with the file. A `follower` (the views, projections.follow) is told each chunk as it is
    appended and whether the batch committed."""
    if mode not in ("corrections", "changes"):
        raise BadInput(f"--as {mode!r}: give corrections or changes")
    if mode == "changes" and effective is None:
        raise BadInput("--as changes needs --effective DATE (the day the changes hold from)")
    sha = sha256_of(source)
    report = ImportReport(batch_id=sha[:16], sha256=sha, file_name=name)
    previous = app.stream(batch_id(report.batch_id))
    if previous:
        report.already_imported_at = previous[0].recorded_at
        return report

    table = read_table(source, name, encoding=encoding, is_header=looks_like_header, sheet=sheet)
    _, names = next(table)
    header = Header.of(list(names), name)
    report.unknown_columns = header.unknown
    report.headers = {column: h.strip() for h, column in header.columns.items()}

    def run(now: datetime, insert: Callable[[list[Envelope]], None] | None) -> None:
        today = bangkok_date(now)
        meta: dict[str, Any] = {
            "recorded_at": now,
            "actor": app.actor,  # through the service: the signed-in principal
            "source": f"import:{report.batch_id}",
            "reason": f"import of {name} (batch {report.batch_id})",
        }
        override = check_text(override_conflicts, what="reason") if override_conflicts else None
        planner = _Planner(app, report, mode=mode, effective=effective, today=today, meta=meta, keep_plans=keep_plans,
                           override=override)  # fmt: skip

        def chunks() -> Iterator[list[ImportRow]]:
            chunk: list[ImportRow] = []
            for number, cells in table:
                report.rows += 1
                if report.rows > MAX_ROWS:
                    check_row_count(report.rows, name)
                skip = not_a_record(cells, header)
                if skip is not None:
                    report.skipped.append((number, skip))
                    continue
                row, errors = check_row(number, cells, header, blank_clears=blank_clears)
                if row is not None:
                    errors = planner.canonical(row)
                    row = None if errors else row
                if row is None:
                    report.errors += errors
                elif planner.first_sight(row):
                    chunk.append(row)
                if len(chunk) >= CHUNK:
                    yield chunk
                    chunk = []
                if progress and report.rows % 500 == 0:
                    progress(500)
            if progress:
                progress(report.rows % 500)
            yield chunk

        for chunk in chunks():
            envelopes = planner.plan(chunk)
            if insert is not None and not (report.errors and not skip_invalid):
                insert(envelopes)
        if report.rows == 0:
            raise BadInput(f"{name}: no rows under the header")
        if snapshot:
            missing = planner.missing(cancel_missing, effective or today)
            if insert is not None:
                insert(missing)
        if insert is None:
            return
        if report.errors and not skip_invalid:
            raise _Invalid  # rolls the transaction back: nothing of the file is appended
        if not report.appended:
            raise _Invalid  # the ledger already holds every row: not even the batch is appended
        batch = BatchImported(
            batch_id=report.batch_id,
            file_name=name,
            sha256=sha,
            mode=mode,
            rows=report.rows,
            invalid_rows=report.invalid_rows,
            appended=dict(report.kinds),
            **meta,
        )
        insert([Envelope(batch_id(report.batch_id), 1, batch)])

    if dry_run:
        run(app.stamp(), None)
        report.errors.sort(key=lambda e: e.row)  # in the sheet's order, as its reader goes
        return report
    try:
        # The batch's time is taken under the store's write lock, so no other writer can record
        # a later time before the batch commits.
        with app.ledger_recorder.batch(app.stamp_after, follower=follower) as (now, insert_stored):

            def insert(envelopes: list[Envelope]) -> None:
                if envelopes:
                    insert_stored([app.mapper.to_stored_event(e) for e in envelopes])
                    report.appended += len(envelopes)

            run(now, insert)
    except _Invalid:
        report.appended = 0
        report.errors.sort(key=lambda e: e.row)
        return report
    except IntegrityError as e:
        raise Conflict("records of this batch changed while it was imported; import it again") from e
    except PersistenceError as e:
        raise translate_store_error(e, app.location) from e
    report.recorded_at = now
    return report


class _Invalid(Exception):
    """Stop and roll back: rows are invalid (and skip_invalid is off), or nothing differs."""


class _Planner:
    """Plans each chunk of rows against the records' current states."""

    def __init__(
        self,
        app: MissionLedger,
        report: ImportReport,
        *,
        mode: str,
        effective: date | None,
        today: date,
        meta: dict[str, Any],
        keep_plans: bool,
        override: str | None = None,
    ) -> None:
        self.app, self.report, self.mode, self.effective, self.today = app, report, mode, effective, today
        self.override = override
        self.codes: set[str] | None = None
        self.names: list[tuple[str, str]] | None = None
        if effective is not None:
            check_effective(effective, today, what="--effective")
        # The bounds of every row's dates, computed once (the checks raise with the message).
        self.latest_effective = latest_effective(today)
        self.latest_fy = latest_fiscal_year(today)
        self.meta, self.keep_plans = meta, keep_plans
        self.first_row: dict[str, int] = {}
        self.first_cells: dict[str, bytes] = {}
        self.file_laos: set[str] = set()
        self.laos: dict[str, str | None] = {}
        self.missions: dict[str, Any] = {}
        self.provinces: dict[str, str | None] = {}

    def canonical(self, row: ImportRow) -> list[RowError]:
        """canonical reads an LAO written by its name as the one registry entry it fits, and a
        mission code written in lower case or with a space (`qol 01`, `inf_05`) as the one
        catalog code it can only mean, and notes each; a name that fits none or several is an
        error naming them, a code that fits none or several is left as written (its error
        suggests the closest)."""
        if isinstance(row.lao_code, LaoName):
            written = str(row.lao_code)
            fits = self._laos_named(written)
            if len(fits) != 1:
                listed = ", ".join(f"{code} {name}" for code, name in fits[:5])
                why = f"{written} fits several LAOs ({listed}): write the code"
                if not fits:
                    why = f"no LAO in the registry is named {written}: write the code (`mission-ledger laos` finds it)"
                return [RowError(row.row, "lao_code", written, why, row.cells)]
            row.lao_code = fits[0][0]
            self.report.read_as.append((row.row, written, f"{fits[0][0]} {fits[0][1]}"))
        self._canonical_mission(row)
        return []

    def _laos_named(self, written: str) -> list[tuple[str, str]]:
        """The registry's (code, name) that a written name fits: the one it equals (spaces, tone
        marks and อบต./ทต. forgiven), else those it is a fragment of."""
        if self.names is None:
            self.names = []
            for sid in self.app.ledger_recorder.stream_ids("lao/"):
                lao = self.app._lao_or_none(sid.split("/", 1)[1])
                if lao is not None:
                    self.names.append((lao.lao_code, lao.name_th))
        key = search_key(expand(written))
        exact = [(c, n) for c, n in self.names if search_key(n) == key]
        return exact or sorted((c, n) for c, n in self.names if matches(written, "", n))

    def _canonical_mission(self, row: ImportRow) -> None:
        if self.codes is None:
            self.codes = {sid.split("/", 1)[1] for sid in self.app.ledger_recorder.stream_ids("mission/")}
        if row.mission_code in self.codes:
            return
        key = _code_key(row.mission_code)
        fits = [c for c in self.codes if _code_key(c) == key]
        if len(fits) == 1:
            self.report.read_as.append((row.row, row.mission_code, fits[0]))
            row.mission_code = fits[0]

    def first_sight(self, row: ImportRow) -> bool:
        """first_sight is false for a record already on an earlier row: a row that says exactly
        what the earlier one says is read once (and noted); one that says otherwise is an error."""
        key = f"{row.lao_code}/{row.mission_code}"
        if key in self.first_row:
            first, cells = self.first_row[key], self.first_cells.get(key)
            if cells is not None and cells == _said(row):
                self.report.repeated.append((row.row, first))
                return False
            self.report.errors.append(
                RowError(
                    row.row,
                    "lao_code/mission_code",
                    key,
                    f"the same record is on row {first} too, with other values: which one is meant?",
                    row.cells,
                )
            )
            return False
        self.first_row[key] = row.row
        self.first_cells[key] = _said(row)
        self.file_laos.add(row.lao_code)
        return True

    def _authorize(self, lao_code: str) -> None:
        """A row for an LAO outside the signed-in principal's scope is a bad row (an officer of
        province 81 imports for province 81 only); the LAO's province is read once per batch."""
        if self.app.principal is None:
            return
        if lao_code not in self.provinces:
            lao = self.app._lao_or_none(lao_code)
            self.provinces[lao_code] = lao.province_code if lao is not None else None
        self.app.authorize_write(lao_code, self.provinces[lao_code])

    def _count(self, plans: list[Plan]) -> None:
        self.report.kinds.update(p.kind for p in plans)
        if self.keep_plans:
            self.report.plans += plans

    def plan(self, rows: list[ImportRow]) -> list[Envelope]:
        """plan gives the envelopes of one chunk; rows the rules refuse become errors."""
        streams = self.app.records_events([(r.lao_code, r.mission_code) for r in rows])
        envelopes: list[Envelope] = []
        for row in rows:
            events = streams[(row.lao_code, row.mission_code)]
            state = fold(events)
            reason = None
            if row.based_on is not None and row.based_on != state.version:
                decided = self._conditional(row, state, events)
                if decided is None:
                    continue
                row, reason = decided, self.override
            try:
                self._authorize(row.lao_code)
                _check_reference(self.app, row, state, self.laos, self.missions)
                plans, errors = plan_row(row, state, mode=self.mode, effective=self.effective, today=self.today)
                plans = [replace(p, reason=reason) for p in plans] if reason else plans
                if errors:
                    self.report.errors += errors
                    continue
                day, year = row.effective_from, row.values.get("received_fy")
                if day is not None and not EARLIEST_EFFECTIVE <= day <= self.latest_effective:
                    check_effective(day, self.today, what="effective_from")
                if year is not None and year > self.latest_fy:
                    check_received_fy_by(year, self.today)
                built = _events(plans, self.meta)
                timeline = state.timeline
                for event in built:
                    timeline = apply(timeline, event)  # refuses what the rules forbid, per row
            except LedgerError as e:
                self.report.errors.append(
                    RowError(row.row, "—", f"{row.lao_code}/{row.mission_code}", str(e), row.cells)
                )
                continue
            self._count(plans)
            sid = record_id(row.lao_code, row.mission_code)
            envelopes += [Envelope(sid, state.version + i + 1, e) for i, e in enumerate(built)]
        return envelopes

    def _conditional(self, row: ImportRow, state: RecordState, events: list[RecordEvent]) -> ImportRow | None:
        """A row based on another version than the record's: None when it appends nothing (it is
        untouched, or a conflict or from elsewhere, said as an error), else the row reduced to
        its edits, to apply anyway (override_conflicts)."""
        key, based_on = f"{row.lao_code}/{row.mission_code}", row.based_on or 0
        earlier = state_at(events, based_on)
        found = standing(row, state, earlier)
        if found == "untouched":
            self.report.untouched += 1
            return None
        if found == "ahead":
            why = f"record {key} has {state.version} versions, not {based_on}: this row is not from this ledger"
            self.report.errors.append(RowError(row.row, "version", str(based_on), why, row.cells))
            return None
        edits = edits_since(row, earlier)
        if self.override is not None and edits is not None:
            return edits
        self.report.conflicts += 1
        why = (
            f"conflict: record {key} changed since version {based_on} (now version {state.version}): "
            f"{describe_since(events, based_on)}; export it again and redo the row, or import with "
            "--override-conflicts REASON"
        )
        self.report.errors.append(RowError(row.row, "version", str(based_on), why, row.cells))
        return None

    def missing(self, cancel: bool, when: date) -> list[Envelope]:
        """--snapshot: records of the file's LAOs that the file does not mention need attention."""
        out: list[Envelope] = []
        for lao in sorted(self.file_laos):
            for sid in self.app.ledger_recorder.stream_ids(f"record/{lao}/"):
                mission = sid.split("/", 2)[2]
                if f"{lao}/{mission}" in self.first_row:
                    continue
                state = fold(self.app.record_events(lao, mission))
                held = state.timeline.periods[-1].values if state.timeline.exists else None
                if held is None or held.cancelled:
                    continue
                self.report.missing.append(f"{lao}/{mission}")
                if cancel:
                    start = max(when, state.timeline.start or when)
                    event = Cancelled(lao_code=lao, mission_code=mission, effective_from=start, **self.meta)
                    apply(state.timeline, event)
                    self._count([Plan(0, "cancelled", lao, mission, {}, start, {"status": held.status})])
                    out.append(Envelope(sid, state.version + 1, event))
        return out


def _code_key(code: str) -> str:
    """A mission code as compared for reading it: upper case, no blanks or separators."""
    return "".join(c for c in code.upper() if c.isalnum())


def _said(row: ImportRow) -> bytes:
    """A digest of what a row says of its record, to compare two rows of one record; kept for
    every record of the file, so a short digest rather than the values. Encoded by msgspec (exact
    for Decimals and dates, and several times cheaper than repr)."""
    said = (row.cancelled, sorted(row.values.items()), row.effective_from)
    return hashlib.blake2b(_SAID.encode(said), digest_size=12).digest()


_SAID: Final = msgspec.json.Encoder(decimal_format="string")


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


def _events(plans: list[Plan], batch_meta: dict[str, Any]) -> list[RecordEvent]:
    out: list[RecordEvent] = []
    for p in plans:
        meta = {**batch_meta, "reason": p.reason} if p.reason else batch_meta
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
