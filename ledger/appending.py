"""The write seam of the ledger: stamp a write with the ledger clock, decide its events, and append
them in one transaction, with what every event says of itself (`meta`). Every writer — record
commands, imports' bookkeeping, principals and tokens, rounds, registry and catalog loads — comes
through `Appending.append`, the one place that maps the store's conflicts and faults onto the
ledger's errors.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import msgspec
from eventsourcing.persistence import IntegrityError, Mapper, PersistenceError, StoredEvent

from ledger.clock import CLOCK_ENV, CLOCK_LEAD, Clock
from ledger.domain.events import kind_of
from ledger.domain.thai import format_instant
from ledger.errors import Backdating, Conflict, Refused, StoreUnavailable
from ledger.store.contract import ClockBehind, LedgerLog
from ledger.store.credentials import IdempotencyKey
from ledger.store.location import StoreLocation, translate_store_error
from ledger.store.mapper import Envelope


@dataclass(frozen=True)
class Receipt:
    """Receipt says what a command appended: the events' ledger positions and their time."""

    positions: tuple[int, ...]
    recorded_at: datetime | None
    kinds: tuple[str, ...] = ()

    @property
    def count(self) -> int:
        """count is the number of events appended."""
        return len(self.positions)


def _duration(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} minutes"
    if minutes < 48 * 60:
        return f"{minutes // 60} hours"
    return f"{minutes // (24 * 60):,} days"


class Appending:
    """Appending is the write seam a ledger application has (a mixin of MissionLedger)."""

    clock: Clock
    actor: str
    source: str
    location: StoreLocation
    ledger_recorder: LedgerLog
    if TYPE_CHECKING:  # the application's (eventsourcing declares it)
        mapper: Mapper[str]

    def meta(self, now: datetime, reason: str | None, reported_at: datetime | None = None) -> dict[str, Any]:
        """meta is what every event appended now says of itself: when, who, through what, why."""
        return {
            "recorded_at": now,
            "actor": self.actor,
            "source": self.source,
            "reason": reason,
            "reported_at": reported_at,
        }

    def stamp(self) -> datetime:
        """The ledger time for the next write: the clock, never behind the last event."""
        return self.stamp_after(self.ledger_recorder.last_recorded_at())

    def stamp_after(self, last: datetime | None) -> datetime:
        """stamp_after is the ledger time for a write after an event recorded at `last`: the
        clock's time, or `last` when this machine's clock is a hair behind another writer's.
        A fixed clock earlier than `last` is backdating, one ahead of the machine's clock by
        more than CLOCK_LEAD a time no later write could ever go back from: both refused."""
        now = self.clock.now()
        if self.clock.fixed:
            lead = now - datetime.now(UTC)
            if lead > CLOCK_LEAD:
                raise Refused(
                    f"the ledger clock ({format_instant(now)}) is {_duration(lead)} ahead of this machine's: "
                    f"every later write would have to be stamped after it, so it may lead by at most "
                    f"{_duration(CLOCK_LEAD)} (check {CLOCK_ENV})"
                )
        if last is not None and now < last:
            if self.clock.fixed:
                raise Backdating(
                    f"the ledger clock ({format_instant(now)}) is earlier than the last "
                    f"recorded event ({format_instant(last)}): backdating is refused"
                )
            now = last
        return now

    def append(
        self,
        decide: Callable[[datetime], Sequence[Envelope]],
        *,
        conflict: str,
        idempotency: IdempotencyKey | None = None,
    ) -> Receipt:
        """Decide, stamp and save in one transaction; map store conflicts to ledger errors.

        When another writer committed a later recorded_at between our stamp and our insert,
        the store stamps the *same* events again under its write lock — never decided again on
        fresh state: a decision taken on a version someone else has since changed must end in
        a conflict. A write whose outcome an error hid is looked up: if exactly its events are
        in the ledger it succeeded, and says so.
        """
        now = self.stamp()
        envelopes = list(decide(now))
        if not envelopes:
            return Receipt((), None)
        stamped = [now]

        def restamp(last: datetime) -> tuple[datetime, list[StoredEvent]]:
            # Under the store's write lock: this machine's clock is a hair behind another
            # writer's, and the ledger clock never runs backwards.
            at = max(self.clock.now(), last)
            stamped[0] = at
            envelopes[:] = [
                Envelope(x.originator_id, x.originator_version, msgspec.structs.replace(x.event, recorded_at=at))
                for x in envelopes
            ]
            return at, [self.mapper.to_stored_event(x) for x in envelopes]

        kinds = tuple(kind_of(x.event) for x in envelopes)
        try:
            # The recorder directly: Application.save's per-object protocol checks cost more
            # than the insert for a large batch, and this application has no snapshots or
            # notifications for save to take care of.
            notification_ids = self.ledger_recorder.insert_events(
                [self.mapper.to_stored_event(x) for x in envelopes],
                recorded_at=now,
                restamp=None if self.clock.fixed else restamp,
                idempotency=idempotency,
            )
        except ClockBehind as e:
            raise Backdating(str(e)) from e
        except IntegrityError as e:
            positions = self._outcome(envelopes, e)
            if positions is None:
                raise Conflict(conflict) from e
            return Receipt(positions, stamped[0], kinds)
        except PersistenceError as e:
            positions = self._outcome(envelopes, e)
            if positions is None:
                raise translate_store_error(e, self.location) from e
            return Receipt(positions, stamped[0], kinds)
        positions = self.ledger_recorder.positions_of(list(notification_ids or ()))
        return Receipt(positions, stamped[0], kinds)

    def _outcome(self, envelopes: Sequence[Envelope], error: Exception) -> tuple[int, ...] | None:
        """The positions of exactly these events when the ledger holds them (the write committed
        although an error was reported), else None (nothing of the write was appended). When
        the store cannot be asked either, the outcome is unknown, and the error says so."""
        try:
            return self.ledger_recorder.stored_positions([self.mapper.to_stored_event(x) for x in envelopes])
        except PersistenceError:
            raise StoreUnavailable(
                f"{translate_store_error(error, self.location)}; whether the write was recorded is unknown: "
                "look at the record (`show`, `history`) before writing it again"
            ) from error
