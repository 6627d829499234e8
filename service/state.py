"""What one worker of the service holds: the ledger, its views kept in step, who signs in, and
the tail of the log that every live feed stream follows.

Every handler runs on the worker's event loop (`sync_to_thread=False`): the ledger's calls take
a millisecond or so, and one thread per worker keeps SQLite's connections on the thread that
opened them. Several workers, or hosts, share one PostgreSQL ledger; each keeps its views file in
step before it reads (DESIGN §10, as `project` does).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Final

import msgspec
import sqlite_utils

from ledger.application import MissionLedger
from ledger.clock import clock_from_environment
from ledger.domain.access import Principal
from ledger.errors import NotFound, Refused
from ledger.identity import Identity
from ledger.rounds import Rounds
from ledger.store.contract import LoggedEvent
from ledger.store.location import StoreLocation
from projections.feed import Feed, FeedHead, feed_head
from projections.runner import Projector
from service.offload import Importer

if TYPE_CHECKING:
    from ledger.integrity.checkpoint import Signer

_encoder: Final = msgspec.json.Encoder()
#: How often the tail asks the store for new events (seconds): the feed's delivery delay.
TAIL_POLL: Final = 0.1
#: Events the tail keeps for streams that are a little behind.
TAIL_KEEP: Final = 20_000


@dataclass
class ServiceConfig:
    """ServiceConfig is what `serve` was told: the ledger, its views, the checkpoint key."""

    db: str
    views: str | None = None
    key: str | None = None
    heartbeat: float = 15.0
    #: Whether the service seals rounds whose deadline has passed (with `key`); off, a person seals
    #: them with `round seal` (MISSION_LEDGER_SEAL=off).
    seal: bool = True
    #: Witnesses (their add-checkpoint URL prefixes) asked to cosign every checkpoint the service
    #: signs: the rounds' seals, POST /checkpoints, and one every COSIGN_EVERY while the log grows.
    witnesses: tuple[str, ...] = ()

    @classmethod
    def from_environment(cls) -> ServiceConfig:
        """from_environment reads the settings a worker process is started with."""
        heartbeat = os.environ.get("MISSION_LEDGER_HEARTBEAT")
        return cls(
            db=os.environ.get("MISSION_LEDGER_DB", "mission-ledger.db"),
            views=os.environ.get("MISSION_LEDGER_VIEWS") or None,
            key=os.environ.get("MISSION_LEDGER_KEY") or None,
            heartbeat=float(heartbeat) if heartbeat else 15.0,
            seal=os.environ.get("MISSION_LEDGER_SEAL", "on").lower() not in ("off", "0", "no"),
            witnesses=tuple(os.environ.get("MISSION_LEDGER_WITNESSES", "").split()),
        )


@dataclass(frozen=True)
class Framed:
    """Framed is one event as the live feed sends it: its head (for filters) and its whole
    Server-Sent Event, encoded once per worker however many streams send it."""

    position: int
    head: FeedHead
    frame: bytes


def frame_of(feed: Feed, logged: LoggedEvent) -> Framed:
    """frame_of encodes one event as a Server-Sent Event: `id:` the sequence, `event:` the
    CloudEvents type, `data:` the CloudEvent (JSON on one line)."""
    head = feed_head(logged.state)
    line = feed.cloud_event(logged, head)
    frame = b"id: %s\nevent: %s\ndata: %s\n\n" % (line.sequence.encode(), line.type.encode(), _encoder.encode(line))
    return Framed(logged.position, head, frame)


class Tail:
    """Tail reads each new event of the log once per worker, encodes it once, and wakes every
    stream waiting for it."""

    def __init__(self, service: LedgerService) -> None:
        self.service = service
        self.feed = Feed(service.app.ledger_recorder)
        self.position = service.app.ledger_recorder.log_size()
        # The last events, oldest first (between TAIL_KEEP and twice as many): a stream takes the
        # slice after its position, without copying the rest.
        self.recent: list[Framed] = []
        self.grew = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """start begins polling the store on the running loop."""
        if self.task is None:
            self.task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """stop ends the polling."""
        if self.task is not None:
            self.task.cancel()
            self.task = None

    async def _run(self) -> None:
        recorder = self.service.app.ledger_recorder
        while True:
            try:
                page = recorder.select_log(self.position, 5000)
            except Exception:  # the store went away for a while (a restart): try again
                page = []
                await asyncio.sleep(1.0)
            if page:
                self.recent.extend(frame_of(self.feed, logged) for logged in page)
                if len(self.recent) > 2 * TAIL_KEEP:
                    del self.recent[:-TAIL_KEEP]
                self.position = page[-1].position
                woken, self.grew = self.grew, asyncio.Event()
                woken.set()
                continue
            await asyncio.sleep(TAIL_POLL)

    def after(self, position: int) -> list[Framed] | None:
        """after gives the kept events after `position`, or None when the stream is further
        behind than the tail keeps (it then reads the store itself)."""
        if position >= self.position:
            return []
        if not self.recent or self.recent[0].position > position + 1:
            return None
        return self.recent[position + 1 - self.recent[0].position :]


def _witness_said(refusal: str) -> None:
    """A witness's refusal, in the service's log: an operator must see it (it may be a split view)."""
    from service.hardening import escaped

    logging.getLogger("mission_ledger.service").warning("witness refused: %s", escaped(refusal, 500, blanks=True))


@dataclass
class LedgerService:
    """LedgerService is one worker's ledger, views, identity and tail."""

    config: ServiceConfig
    app: MissionLedger = field(init=False)
    identity: Identity = field(init=False)
    projector: Projector = field(init=False)
    tail: Tail = field(init=False)
    rounds: Rounds = field(init=False)
    importer: Importer = field(init=False)
    #: When this worker last signed a checkpoint for its witnesses (time.monotonic()).
    _last_cosigned: float = field(init=False, default=float("-inf"))

    def __post_init__(self) -> None:
        location = StoreLocation(self.config.db)
        if not location.exists():
            raise NotFound(f"no ledger at {location.describe()}: run `mission-ledger init` or give --db")
        self.app = MissionLedger(location, clock=clock_from_environment(dict(os.environ)), create_tables=False)
        self.identity = Identity(self.app)
        views = Path(self.config.views) if self.config.views else location.views_path()
        self.projector = Projector(self.app.ledger_recorder, views)
        self.tail = Tail(self)
        # The reporting rounds every dashboard asks for: read once now (a scan of the stream ids),
        # not in the first person's request; later rounds come from the log's tail.
        self.rounds = Rounds(self.app)
        self.rounds.rounds()
        self.importer = Importer(views)

    def seal_due(self) -> list[str]:
        """seal_due seals every round whose deadline has passed and that has no seal yet, with the
        service's key (none: nothing is sealed): a service that was down at a deadline seals on
        start, the same tree (the events recorded by the deadline). Several workers may try at
        once; a round keeps one seal. Returns the names of the rounds sealed now."""
        if not self.config.key or not self.config.seal:
            return []
        signer = self._signer()
        now, sealed = self.app.clock.now(), []
        for found in self.rounds.rounds():
            if now > found.deadline_instant and self.rounds.seal_of(found.name) is None:
                self.rounds.seal(found.name, signer, witnesses=self.config.witnesses, said=_witness_said)
                sealed.append(found.name)
        return sealed

    def sign_checkpoint(self) -> str:
        """sign_checkpoint signs and records a checkpoint of the whole log with the service's key,
        cosigned by its witnesses (each refusal is logged)."""
        from ledger.integrity.audit import LedgerAuditor
        from ledger.integrity.cosigning import cosigner

        if not self.config.key:
            raise Refused("this service has no signing key (start it with --key or MISSION_LEDGER_KEY)")
        signer = self._signer()
        auditor = LedgerAuditor(self.app.ledger_recorder)
        cosign = cosigner(self.config.witnesses, auditor.subtree, _witness_said) if self.config.witnesses else None
        return auditor.sign_checkpoint(signer, self.app.clock.now(), cosign=cosign)

    def _signer(self) -> Signer:
        """The service's checkpoint key, read from its file when it signs (a key replaced on disk
        is the one used next)."""
        from ledger.integrity.checkpoint import parse_signer

        assert self.config.key is not None
        return parse_signer(Path(self.config.key).read_text(encoding="utf-8"))

    def cosign_due(self, every: float) -> bool:
        """cosign_due signs a witnessed checkpoint of the whole log when the service has witnesses
        and a key, the log grew since its latest checkpoint, and this worker signed none for
        `every` seconds: the witnesses then keep up with the log between seals."""
        if not self.config.key or not self.config.witnesses:
            return False
        if time.monotonic() - self._last_cosigned < every:
            return False
        recorded = self.app.ledger_recorder.checkpoints()
        if recorded and max(size for size, _, _ in recorded) >= self.app.ledger_recorder.log_size():
            return False
        self._last_cosigned = time.monotonic()
        self.sign_checkpoint()
        return True

    def views(self) -> sqlite_utils.Database:
        """views is the views database, caught up with the ledger first (other writers too)."""
        if self.projector.position() < self.app.ledger_recorder.log_size():
            self.projector.catch_up()
        return self.projector.db

    def as_principal(self, principal: Principal) -> MissionLedger:
        """as_principal is the application writing as a signed-in principal, source `http`."""
        return self.app.acting_as(principal, source="http")

    def close(self) -> None:
        """close closes the views, the import process and the store."""
        self.importer.close()
        self.projector.close()
        self.app.close()
