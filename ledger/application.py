"""The mission-ledger application: commands that append events, and reads of one record.

An eventsourcing `Application` whose seams (`construct_*`) give it the msgspec mapper and the
ledger's recorder. A command reads the streams it needs, decides its events by folding them
(ledger.domain.timeline refuses what the rules forbid), stamps them with the ledger clock and saves
them in one transaction. Optimistic concurrency comes from the store's primary key on
(stream, version): two writers that read the same version cannot both append.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final, TypeVar

from eventsourcing.application import Application
from eventsourcing.persistence import PersistenceError, StoredEvent
from eventsourcing.utils import Environment

from ledger.appending import Appending
from ledger.appending import Receipt as Receipt
from ledger.clock import Clock, SystemClock
from ledger.domain.access import Operation, Principal, authorize
from ledger.domain.events import (
    Cancelled,
    Changed,
    Corrected,
    Event,
    LedgerEvent,
    Recorded,
    RecordEvent,
    Reinstated,
    Voided,
    decode_event,
    record_id,
)
from ledger.domain.limits import MAX_ACTOR_CHARS
from ledger.domain.thai import bangkok_date, format_instant
from ledger.domain.timeline import RecordState, RecordView, Timeline, apply, fold
from ledger.domain.values import (
    Fields,
    check_effective,
    check_fields,
    check_received_fy_by,
    check_reported_at,
    check_text,
    parse_lao_code,
    parse_mission_code,
)
from ledger.errors import BadInput, NotFound, Refused, StaleVersion
from ledger.reference import ReferenceData
from ledger.store.contract import LedgerLog
from ledger.store.credentials import IdempotencyKey
from ledger.store.location import StoreLocation, store_environment, translate_store_error
from ledger.store.mapper import Envelope, MsgspecMapper

E = TypeVar("E", bound=Event)


def default_actor() -> str:
    """default_actor is the OS user name (docs/design.md §9), or 'unknown' where there is none."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _codes(lao_code: str, mission_code: str) -> tuple[str, str]:
    return parse_lao_code(lao_code), parse_mission_code(mission_code)


def require_reason(reason: str | None, command: str) -> str:
    """require_reason refuses a missing or blank reason (docs/design.md §3: all but `recorded`), and one
    that is not one line of plain text within MAX_REASON_CHARS."""
    if reason is None or not reason.strip():
        raise BadInput(f"{command} needs a reason (--reason TEXT)")
    return check_text(reason, what="reason")


def check_actor(name: str, *, what: str = "actor") -> str:
    """check_actor accepts who writes: one line of plain text, at most MAX_ACTOR_CHARS."""
    name = check_text(name, what=what, limit=MAX_ACTOR_CHARS)
    if not name:
        raise BadInput(f"{what} is empty")
    return name


def check_plausible(event: Event, now: datetime) -> None:
    """check_plausible refuses an event whose dates could not be true when it is recorded at
    `now`: an effective day outside the plausible range, a report from the future or from before
    LAOs reported electronically, a fiscal year not yet begun."""
    today = bangkok_date(now)
    for name in ("effective_from", "period_from", "period_to"):
        day = getattr(event, name, None)
        if day is not None:
            check_effective(day, today, what=name)
    reported_at = getattr(event, "reported_at", None)
    if reported_at is not None:
        check_reported_at(reported_at, now)
    for values in (getattr(event, "values", None), getattr(event, "set", None)):
        year = getattr(values, "received_fy", None) if values is not None else None
        if isinstance(year, int):
            check_received_fy_by(year, today)


@dataclass(frozen=True)
class RecordCommand:
    """RecordCommand says what one command on a mission record takes and which event it appends."""

    event: type[RecordEvent]
    #: The arguments it takes beyond the record's key, reason, expect_version and reported_at.
    arguments: tuple[str, ...] = ()
    required: tuple[str, ...] = ()
    needs_reason: bool = True
    #: Refused without a field to set (or, for a correction, a new first day).
    needs_change: bool = False
    #: Refused, with this message, when the event would leave the record as it was.
    unchanged: str | None = None


#: The commands on mission records (docs/design.md §3), by name.
RECORD_COMMANDS: Final[dict[str, RecordCommand]] = {
    "record": RecordCommand(
        Recorded, ("effective_from", "values"), required=("effective_from", "values"), needs_reason=False
    ),
    "correct": RecordCommand(
        Corrected,
        ("set", "effective_from", "period_from", "period_to"),
        needs_change=True,
        unchanged="the correction changes nothing",
    ),
    "change": RecordCommand(
        Changed,
        ("set", "effective_from"),
        required=("set", "effective_from"),
        needs_change=True,
        unchanged="the change changes nothing",
    ),
    "cancel": RecordCommand(Cancelled, ("effective_from",), required=("effective_from",)),
    "reinstate": RecordCommand(Reinstated, ("effective_from", "status"), required=("effective_from",)),
    "void": RecordCommand(Voided),
}


@dataclass(frozen=True)
class Preview:
    """Preview is a record command decided but not appended: the record's state before, the
    event, and the timeline it would leave."""

    state: RecordState
    event: RecordEvent
    after: Timeline


class MissionLedger(Application[str], Appending, ReferenceData):
    """MissionLedger records, corrects, changes, cancels, reinstates and voids mission records,
    loads the registry and catalog, and reads records at any (known_at, valid_on)."""

    name = "MissionLedger"

    def __init__(
        self,
        location: StoreLocation | str | Path,
        *,
        clock: Clock | None = None,
        actor: str | None = None,
        source: str = "cli",
        create_tables: bool | None = None,
        principal: Principal | None = None,
    ) -> None:
        self.location = location if isinstance(location, StoreLocation) else StoreLocation(str(location))
        self.clock: Clock = clock or SystemClock()
        # A signed-in principal writes as itself: nothing a client sends chooses the actor.
        # Without one, this is the operator's own tool (the OS user, DESIGN §10).
        self.principal = principal
        self.actor = principal.name if principal is not None else check_actor(actor or default_actor())
        self.source = check_actor(source, what="source")
        # DDL only where the ledger is new (or on request, as `init` does): many processes
        # opening one PostgreSQL ledger at once must not race to re-create its tables.
        # Asked first in every case: a location that is no ledger (a folder, another kind of
        # file, a server that refuses) is one clear error before eventsourcing opens anything.
        found = self.location.exists()
        self.create_tables = not found if create_tables is None else create_tables
        try:
            super().__init__()
            self.ledger_recorder: LedgerLog = self.recorder  # type: ignore[assignment]
            if not self.create_tables:
                self.ledger_recorder.upgrade()  # an existing ledger, perhaps of an earlier version
        except PersistenceError as e:
            raise translate_store_error(e, self.location) from e
        # eventsourcing closes the store when the application is collected; whoever holds the
        # recorder (`MissionLedger(x).ledger_recorder`) keeps the application, so the store, alive.
        self.ledger_recorder.owner = self

    # --- eventsourcing seams ------------------------------------------------------------------

    def construct_env(self, name: str, env: Any = None) -> Environment:
        # Only the ledger's own settings: a PERSISTENCE_MODULE left in the shell must not
        # silently point the ledger at another store. And always the same name, which
        # eventsourcing turns into table names: a subclass must find the same tables.
        settings = store_environment(self.location)
        settings["CREATE_TABLE"] = "yes" if self.create_tables else "no"
        return Environment(MissionLedger.name, settings)

    def construct_mapper(self) -> MsgspecMapper:
        return MsgspecMapper()

    # --- reading streams -------------------------------------------------------------------

    def stream(self, sid: str) -> list[LedgerEvent]:
        """stream returns the events of one stream (record, LAO or mission), oldest first."""
        return [
            self.mapper.to_domain_event(s).event  # type: ignore[attr-defined]
            for s in self.recorder.select_events(sid)
        ]

    def records_events(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], list[RecordEvent]]:
        """records_events reads many records' events at once (imports compare thousands of rows)."""
        found = self.ledger_recorder.select_streams([record_id(lao, mission) for lao, mission in keys])
        out: dict[tuple[str, str], list[RecordEvent]] = {}
        for lao, mission in keys:
            rows = found.get(record_id(lao, mission), [])
            out[(lao, mission)] = [decode_event(state) for _, state in rows]  # type: ignore[misc]
        return out

    def record_events(self, lao_code: str, mission_code: str) -> list[RecordEvent]:
        """record_events returns a mission record's events, oldest first."""
        return self.stream(record_id(lao_code, mission_code))  # type: ignore[return-value]

    # --- who may write ------------------------------------------------------------------------

    def acting_as(self, principal: Principal, source: str = "http") -> MissionLedger:
        """acting_as is this ledger's application for one signed-in principal: the same store
        and clock, the principal's name as the actor of every write, its roles deciding."""
        other = object.__new__(_ActingLedger)
        other.__dict__.update(self.__dict__)
        other.principal = principal
        other.actor = principal.name
        other.source = check_actor(source, what="source")
        return other

    def authorize_write(self, lao_code: str, province_code: str | None = None) -> None:
        """authorize_write refuses (Forbidden) a write to an LAO's records that the signed-in
        principal's roles do not cover; the operator's own CLI (no principal) may write anything.
        `province_code`: the LAO's province when the caller has it, else read from the registry."""
        if self.principal is None:
            return
        if province_code is None:
            lao = self._lao_or_none(lao_code)
            province_code = lao.province_code if lao is not None else None
        authorize(self.principal, "write_record", lao=lao_code, province=province_code)

    def authorize(
        self, operation: Operation, *, province: str | None = None, lao: str | None = None, district: str | None = None
    ) -> None:
        """authorize refuses (Forbidden) an operation the signed-in principal may not do, by the one
        rule (ledger.domain.access.permits); the operator's own CLI (no principal) may do anything."""
        authorize(self.principal, operation, province=province, lao=lao, district=district)

    def _decide_on_record(
        self,
        lao_code: str,
        mission_code: str,
        make: Callable[[datetime], RecordEvent],
        *,
        expect_version: int | None = None,
        must_exist: bool = True,
        unchanged: str | None = None,
        idempotency: IdempotencyKey | None = None,
    ) -> Receipt:
        key = f"{lao_code}/{mission_code}"

        def decide(now: datetime) -> list[Envelope]:
            preview = self._judge(lao_code, mission_code, make, now, expect_version, must_exist, unchanged)
            return [Envelope(record_id(lao_code, mission_code), preview.state.version + 1, preview.event)]

        return self.append(
            decide,
            conflict=f"record {key} was written by someone else at the same time; read it again and retry",
            idempotency=idempotency,
        )

    def _judge(
        self,
        lao_code: str,
        mission_code: str,
        make: Callable[[datetime], RecordEvent],
        now: datetime,
        expect_version: int | None,
        must_exist: bool,
        unchanged: str | None,
    ) -> Preview:
        """The decision on a record's current state: the event and the timeline it leaves, or
        the refusal. A write appends the event; a preview only shows it."""
        key = f"{lao_code}/{mission_code}"
        state = fold(self.record_events(lao_code, mission_code))
        if expect_version is not None and state.version != expect_version:
            raise StaleVersion(
                f"record {key} is at version {state.version}, not {expect_version} as "
                "expected: someone changed it since you read it"
            )
        if must_exist and not state.timeline.exists:
            self._raise_absent(lao_code, mission_code, state.timeline)
        event = make(now)
        check_plausible(event, now)
        after = apply(state.timeline, event)
        if unchanged is not None and after == state.timeline:
            raise Refused(f"{unchanged}: record {key} already holds these values")
        return Preview(state, event, after)

    def _raise_absent(self, lao_code: str, mission_code: str, timeline: Timeline) -> None:
        if timeline.voided:
            raise NotFound(f"record {lao_code}/{mission_code} was voided (record it anew if needed)")
        self.lao(lao_code)
        self.mission(mission_code)
        raise NotFound(f"no record {lao_code}/{mission_code}: LAO {lao_code} has not recorded mission {mission_code}")

    # --- commands on mission records -----------------------------------------------------------

    def command(
        self,
        name: str,
        lao_code: str,
        mission_code: str,
        *,
        reason: str | None = None,
        expect_version: int | None = None,
        reported_at: datetime | None = None,
        idempotency: IdempotencyKey | None = None,
        **arguments: Any,
    ) -> Receipt:
        """command runs one of RECORD_COMMANDS on a mission record: checks its arguments,
        decides its event on the record's current state and appends it. Every face (the CLI,
        imports, the service) comes through here. With an idempotency key, the store keeps the
        write's positions under the key in the write's own transaction; a second write with the
        same key is a Conflict, appending nothing."""
        lao_code, mission_code, make, spec = self._prepare(name, lao_code, mission_code, reason, reported_at, arguments)
        return self._decide_on_record(
            lao_code,
            mission_code,
            make,
            expect_version=expect_version,
            must_exist=spec.event is not Recorded,
            unchanged=spec.unchanged,
            idempotency=idempotency,
        )

    def preview(
        self,
        name: str,
        lao_code: str,
        mission_code: str,
        *,
        reason: str | None = None,
        expect_version: int | None = None,
        reported_at: datetime | None = None,
        **arguments: Any,
    ) -> Preview:
        """preview decides a command exactly as `command` would, by the same rules and checks
        (scope included), and shows the event and the record it would leave, appending nothing."""
        lao_code, mission_code, make, spec = self._prepare(name, lao_code, mission_code, reason, reported_at, arguments)
        return self._judge(
            lao_code, mission_code, make, self.clock.now(), expect_version, spec.event is not Recorded, spec.unchanged
        )

    def _prepare(
        self,
        name: str,
        lao_code: str,
        mission_code: str,
        reason: str | None,
        reported_at: datetime | None,
        arguments: dict[str, Any],
    ) -> tuple[str, str, Callable[[datetime], RecordEvent], RecordCommand]:
        spec = RECORD_COMMANDS.get(name)
        if spec is None:
            raise BadInput(f"{name!r} is not a command on records ({', '.join(RECORD_COMMANDS)})")
        unknown = sorted(set(arguments) - set(spec.arguments))
        if unknown:
            raise BadInput(f"{name} takes no {', '.join(unknown)}")
        missing = [a for a in spec.required if arguments.get(a) is None]
        if missing:
            raise BadInput(f"{name} needs {', '.join(missing)}")
        lao_code, mission_code = _codes(lao_code, mission_code)
        self.authorize_write(lao_code)
        why = (
            require_reason(reason, name) if spec.needs_reason else check_text(reason, what="reason") if reason else None
        )
        for key in ("values", "set"):
            if key in arguments:
                check_fields(arguments[key])
        changes = arguments.get("set")
        if spec.needs_change and (changes is None or changes.is_empty()) and arguments.get("effective_from") is None:
            raise BadInput(f"{name} needs at least one --set FIELD=VALUE")
        if spec.event is Recorded:
            lao, mission = self.lao(lao_code), self.mission(mission_code)
            if not mission.applies(lao.lao_type):
                raise Refused(
                    f"mission {mission_code} does not apply to LAO {lao_code} ({lao.lao_type}); "
                    f"it applies to: {', '.join(mission.applies_to)}"
                )
        given = {k: v for k, v in arguments.items() if v is not None}
        codes = (lao_code, mission_code)

        def make(now: datetime) -> RecordEvent:
            return spec.event(lao_code=codes[0], mission_code=codes[1], **given, **self.meta(now, why, reported_at))

        return lao_code, mission_code, make, spec

    def record(
        self,
        lao_code: str,
        mission_code: str,
        *,
        effective_from: date,
        values: Fields,
        reason: str | None = None,
        reported_at: datetime | None = None,
    ) -> Receipt:
        """record appends `recorded`: the first report of a mission record by an LAO."""
        return self.command(
            "record", lao_code, mission_code, effective_from=effective_from, values=values, reason=reason,
            reported_at=reported_at,
        )  # fmt: skip

    def correct(self, lao_code: str, mission_code: str, **arguments: Any) -> Receipt:
        """correct appends `corrected`: an earlier report was wrong (set, reason, and optionally
        effective_from, period_from, period_to, expect_version, reported_at)."""
        return self.command("correct", lao_code, mission_code, **arguments)

    def change(self, lao_code: str, mission_code: str, **arguments: Any) -> Receipt:
        """change appends `changed`: circumstances changed from effective_from on (set,
        effective_from, reason; optionally expect_version, reported_at)."""
        return self.command("change", lao_code, mission_code, **arguments)

    def cancel(self, lao_code: str, mission_code: str, **arguments: Any) -> Receipt:
        """cancel appends `cancelled`: the mission is cancelled from effective_from on."""
        return self.command("cancel", lao_code, mission_code, **arguments)

    def reinstate(self, lao_code: str, mission_code: str, **arguments: Any) -> Receipt:
        """reinstate appends `reinstated`: a cancellation is reversed from effective_from on
        (to the status before it, or `status`)."""
        return self.command("reinstate", lao_code, mission_code, **arguments)

    def void(self, lao_code: str, mission_code: str, **arguments: Any) -> Receipt:
        """void appends `voided`: the record was entered in error and exists at no valid time."""
        return self.command("void", lao_code, mission_code, **arguments)

    # --- reading one record --------------------------------------------------------------------

    def state(self, lao_code: str, mission_code: str, known_at: datetime | None = None) -> RecordState:
        """state folds a record's events known at `known_at` (None: all)."""
        return fold(self.record_events(parse_lao_code(lao_code), parse_mission_code(mission_code)), known_at)

    def show(
        self,
        lao_code: str,
        mission_code: str,
        *,
        known_at: datetime | None = None,
        valid_on: date | None = None,
    ) -> RecordView:
        """show gives a record as the ledger knew it at known_at (default now), valid on
        valid_on (default: known_at's date in Bangkok). Raises NotFound when absent then."""
        lao_code, mission_code = parse_lao_code(lao_code), parse_mission_code(mission_code)
        known_at = known_at or self.clock.now()
        valid_on = valid_on or bangkok_date(known_at)
        state = self.state(lao_code, mission_code, known_at)
        key = f"{lao_code}/{mission_code}"
        when = f"as known at {format_instant(known_at)}"
        if state.version == 0:
            self.lao(lao_code)
            self.mission(mission_code)
            raise NotFound(f"no record {key} {when}")
        if state.timeline.voided:
            raise NotFound(f"record {key} was voided ({when})")
        period = state.timeline.at(valid_on)
        if period is None:
            start = state.timeline.start
            assert start is not None
            raise NotFound(
                f"record {key} is not valid on {valid_on.isoformat()}: it starts on {start.isoformat()} ({when})"
            )
        return RecordView.of(lao_code, mission_code, state, period)

    def copy_from(self, source: MissionLedger, *, page: int = 2000) -> int:
        """copy_from appends every event of `source`, in ledger order, with its stream, version,
        bytes and recorded_at unchanged, so positions and leaves — and the Merkle root — are the
        same; the ledger's identity (id, origin) and checkpoints come along. This ledger must be
        empty. Returns the number of events copied."""
        if self.ledger_recorder.log_size():
            raise Refused(f"{self.location.describe()} already holds events; copy needs an empty ledger")
        # The identity comes along, or the copy is refused: checkpoints and proofs name the origin,
        # and views name the ledger id — a copy under another name would fail every one of them.
        for key, what in (("origin", "origin"), ("ledger_id", "ledger id")):
            value = source.ledger_recorder.get_meta(key)
            if value is None:
                continue
            held = self.ledger_recorder.set_meta_once(key, value)
            if held != value:
                raise Refused(
                    f"{self.location.describe()} was initialised with {what} {held!r}, the source's is "
                    f"{value!r}: its checkpoints and proofs would not hold in the copy. Copy into a ledger "
                    "that was not initialised (copy creates it)"
                )
        copied = 0
        batch: list[StoredEvent] = []
        stamp: datetime | None = None
        for logged in source.ledger_recorder.iter_log(page=page):
            # Events recorded together are copied together, with their one recorded_at.
            if batch and (logged.recorded_at != stamp or len(batch) >= page):
                copied += self._copy_batch(batch, stamp)
                batch = []
            stamp = logged.recorded_at
            batch.append(StoredEvent(logged.stream_id, logged.version, logged.topic, logged.state))
        if batch:
            copied += self._copy_batch(batch, stamp)
        for size, root, note in source.ledger_recorder.checkpoints():
            self.ledger_recorder.record_checkpoint(size, root, note, self.clock.now())
        return copied

    def _copy_batch(self, batch: list[StoredEvent], stamp: datetime | None) -> int:
        try:
            self.recorder.insert_events(batch, recorded_at=stamp)
        except PersistenceError as e:
            raise translate_store_error(e, self.location) from e
        return len(batch)

    def initialise(self, origin: str | None = None) -> bool:
        """initialise records the ledger's identity; returns False when it already had one."""
        import uuid

        before = self.ledger_recorder.get_meta("ledger_id")
        ledger_id = self.ledger_recorder.set_meta_once("ledger_id", str(uuid.uuid4()))
        if origin is not None and (not origin.strip() or "\n" in origin):
            raise BadInput("--origin must be one line of text")
        self.ledger_recorder.set_meta_once("origin", origin or f"mission-ledger/{ledger_id}")
        return before is None


class _ActingLedger(MissionLedger):
    """The ledger as one principal sees it (MissionLedger.acting_as): it shares the store of the
    ledger it came from, which alone closes it — eventsourcing closes an application's store when
    the application is collected, and this one is collected after every request."""

    def close(self) -> None:
        """close leaves the shared store open: its owner closes it."""

    def __del__(self) -> None:
        pass
