"""Reporting rounds on a ledger: `round open` appends a `round_opened` event (admin only); the
round that applies to a province as known at a time is read from those events
(ledger.domain.rounds decides which).

Rounds are few and read on every dashboard: they are read once from their streams, then kept up
to date from the log's tail (an append elsewhere costs one short read, not a scan).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING

from ledger.domain.events import RoundOpened, RoundSealed, decode_event, round_id
from ledger.domain.rounds import Round, check_province_code, check_round, check_round_name, fold_rounds, round_for
from ledger.errors import Conflict, NotFound, Refused
from ledger.integrity.audit import LedgerAuditor
from ledger.integrity.checkpoint import Signer, parse_checkpoint
from ledger.integrity.cosigning import cosigner
from ledger.store.mapper import Envelope

if TYPE_CHECKING:
    from ledger.application import MissionLedger, Receipt


class Rounds:
    """Rounds opens reporting rounds and says which applied when, on one ledger."""

    def __init__(self, app: MissionLedger) -> None:
        self.app = app
        self._opened: dict[str, RoundOpened] | None = None
        self._position = 0

    def open(
        self, name: str, start: date, deadline: date, province: str | None = None, reason: str | None = None
    ) -> Receipt:
        """open starts a round; refused when its name is taken or its deadline precedes its start."""
        self.app.authorize("open_round")
        name = check_round_name(name)
        province = check_province_code(province) if province else None
        check_round(name, start, deadline)

        def decide(now: datetime) -> list[Envelope]:
            if self.app.stream(round_id(name)):
                raise Refused(f"round {name!r} exists already (a round is opened once; open another name)")
            event = RoundOpened(
                name=name, start=start, deadline=deadline, province_code=province, **self.app.meta(now, reason)
            )
            return [Envelope(round_id(name), 1, event)]

        return self.app.append(decide, conflict=f"round {name!r} was opened by someone else at the same time")

    def _refresh(self) -> list[RoundOpened]:
        recorder = self.app.ledger_recorder
        if self._opened is None:
            # The tail is followed from the size read *before* the streams: a round opened in
            # between is seen twice, and kept once (a round's name is opened once).
            self._position = recorder.log_size()
            self._opened = {
                e.name: e
                for sid in recorder.stream_ids("round/")
                for e in self.app.stream(sid)
                if isinstance(e, RoundOpened)
            }
        while True:
            page = recorder.select_log(self._position, 5000)
            if not page:
                return list(self._opened.values())
            for logged in page:
                if logged.stream_id.startswith("round/"):
                    event = decode_event(logged.state)
                    if isinstance(event, RoundOpened):
                        self._opened[event.name] = event
            self._position = page[-1].position

    def rounds(self, known_at: datetime | None = None) -> list[Round]:
        """rounds lists the rounds opened by `known_at` (None: now), oldest start first."""
        return fold_rounds(self._refresh(), known_at)

    def seal_of(self, name: str) -> RoundSealed | None:
        """seal_of is the round's seal, or None while it has none."""
        self.named(name)
        return next((e for e in self.app.stream(round_id(name)) if isinstance(e, RoundSealed)), None)

    def seal_at(self, known_at: datetime | None) -> tuple[Round, RoundSealed] | None:
        """seal_at is the sealed round whose deadline is `known_at` exactly — an answer "as known at
        the deadline" then names the seal it can be proven against — or None."""
        if known_at is None:
            return None
        for found in self.rounds():
            if found.deadline_instant == known_at:
                sealed = self.seal_of(found.name)
                if sealed is not None:
                    return found, sealed
        return None

    def seal(
        self, name: str, signer: Signer, *, witnesses: Sequence[str] = (), said: Callable[[str], None] = lambda _: None
    ) -> RoundSealed:
        """seal signs a checkpoint of exactly the events recorded by the round's deadline and keeps
        it as the round's seal (`round_sealed`). Refused before the deadline has passed; a round
        already sealed keeps its seal (sealing twice changes nothing, also when two race). With
        `witnesses`, the seal carries their cosignatures; each refusal goes to `said`."""
        self.app.authorize("sign_checkpoint")
        found = self.named(name)
        existing = self.seal_of(name)
        if existing is not None:
            return existing
        now = self.app.clock.now()
        if now <= found.deadline_instant:
            raise Refused(
                f"round {name}: its deadline {found.deadline.isoformat()} has not passed; a round is sealed after it"
            )
        auditor = LedgerAuditor(self.app.ledger_recorder)
        size = auditor.size_at(found.deadline_instant)
        cosign = cosigner(witnesses, auditor.subtree, said) if witnesses else None
        note = auditor.sign_checkpoint_at(signer, size, now, cosign=cosign)
        root = parse_checkpoint(note).root.hex()

        def decide(at: datetime) -> list[Envelope]:
            stream = self.app.stream(round_id(name))
            if any(isinstance(e, RoundSealed) for e in stream):
                return []  # sealed by another process meanwhile: its seal stands
            event = RoundSealed(name=name, size=size, root=root, checkpoint=note, **self.app.meta(at, None))
            return [Envelope(round_id(name), len(stream) + 1, event)]

        with contextlib.suppress(Conflict):  # another process sealed it first: its seal stands
            self.app.append(decide, conflict=f"round {name!r} was sealed by someone else at the same time")
        sealed = self.seal_of(name)
        assert sealed is not None
        return sealed

    def named(self, name: str) -> Round:
        """named is the round opened under `name`, or NotFound naming the rounds there are."""
        found = {r.name: r for r in self.rounds()}
        if name not in found:
            there = ", ".join(sorted(found)) or "none has been opened"
            raise NotFound(f"round {name!r} is not a reporting round ({there})")
        return found[name]

    def current(self, province: str | None = None, known_at: datetime | None = None) -> Round | None:
        """current is the round that applies to `province` (None: nationwide) as known at
        `known_at` (None: now), or None when no round was opened."""
        return round_for(self.rounds(known_at), province)
