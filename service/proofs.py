"""Checkpoints and proofs as both faces hand them out (the API's /proofs, the pages' proof page):
the recorded checkpoint of a size, and an inclusion proof of one event for a principal that may
read that event."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Final

from ledger.domain.access import Principal
from ledger.errors import NotFound
from ledger.integrity.audit import LedgerAuditor
from ledger.integrity.checkpoint import Quorum
from ledger.integrity.witness import Policy, WitnessKey
from projections.feed import feed_head
from service.params import province_lookup
from service.state import LedgerService

#: The log's own signature is the client's to check (the note is in the answer): a policy of the
#: service's counts cosignatures only.
_NO_LOG: Final = Quorum((), 0)


def checkpoint_of_size(ledger: LedgerService, size: int | None, name: str) -> str:
    """checkpoint_of_size is the signed note of the recorded checkpoint of `size` events (None:
    the latest); NotFound naming the latest sizes else."""
    recorded = ledger.app.ledger_recorder.checkpoints()
    if not recorded:
        raise NotFound("no checkpoint has been signed yet (POST /api/v1/checkpoints, or `mission-ledger checkpoint`)")
    if size is None:
        return LedgerAuditor(ledger.app.ledger_recorder).checkpoints_newest_first()[0]
    for found, _, note in reversed(recorded):
        if found == size:
            return note
    sizes = ", ".join(str(s) for s, _, _ in recorded[-10:])
    raise NotFound(f"{name}={size}: no checkpoint of that size (latest sizes: {sizes})", field=name)


def witnessed_checkpoint(ledger: LedgerService, keys: Sequence[WitnessKey], needed: int) -> str:
    """witnessed_checkpoint is the largest recorded checkpoint cosigned by at least `needed` of the
    witnesses `keys`; NotFound when none is."""
    policy = Policy(_NO_LOG, tuple(keys), needed)
    for note in LedgerAuditor(ledger.app.ledger_recorder).checkpoints_newest_first():
        if len(policy.cosigners(note)) >= needed:
            return note
    raise NotFound(f"no checkpoint is cosigned by {needed} of these witnesses", field="witness")


def cosigned_by(note: str, keys: Sequence[WitnessKey]) -> list[dict[str, Any]]:
    """cosigned_by lists the witnesses among `keys` whose cosignature on the note verifies, and
    when they cosigned (a client checks it again: the note is in the answer)."""
    return [
        {"name": name, "time": datetime.fromtimestamp(at, UTC)}
        for name, at in Policy(_NO_LOG, tuple(keys), 0).cosigners(note)
    ]


def inclusion_document(
    ledger: LedgerService, principal: Principal, seq: int, size: int | None, note: str | None = None
) -> dict[str, Any]:
    """inclusion_document is the inclusion proof of the event at `seq` in the checkpoint of
    `size` events (default the latest; or the checkpoint `note`), for a principal that may read
    that event: a proof carries the event whole, so it answers to the feed's scope (403 else)."""
    app = ledger.as_principal(principal)
    app.authorize("read_proofs")
    recorder = ledger.app.ledger_recorder
    logged = recorder.select_log(seq - 1, 1) if 1 <= seq <= recorder.log_size() else []
    if logged and logged[0].position == seq:
        lao = feed_head(logged[0].state).lao_code
        province = province_lookup(ledger.views())("lao", lao) if lao else None
        app.authorize("read_event", province=province)
    note = note if note is not None else checkpoint_of_size(ledger, size, "size")
    return LedgerAuditor(ledger.app.ledger_recorder).inclusion_proof(seq, note)
