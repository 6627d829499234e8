"""Checkpoints and proofs as both faces hand them out (the API's /proofs, the pages' proof page):
the recorded checkpoint of a size, and an inclusion proof of one event for a principal that may
read that event."""

from __future__ import annotations

from typing import Any

from ledger.domain.access import Principal
from ledger.errors import NotFound
from ledger.integrity.audit import LedgerAuditor
from projections.feed import feed_head
from service.params import province_lookup
from service.state import LedgerService


def checkpoint_of_size(ledger: LedgerService, size: int | None, name: str) -> str:
    """checkpoint_of_size is the signed note of the recorded checkpoint of `size` events (None:
    the latest); NotFound naming the latest sizes else."""
    recorded = ledger.app.ledger_recorder.checkpoints()
    if not recorded:
        raise NotFound("no checkpoint has been signed yet (POST /api/v1/checkpoints, or `mission-ledger checkpoint`)")
    if size is None:  # the largest (a round's seal, signed later, may be smaller)
        return max(enumerate(recorded), key=lambda c: (c[1][0], c[0]))[1][2]
    for found, _, note in reversed(recorded):
        if found == size:
            return note
    sizes = ", ".join(str(s) for s, _, _ in recorded[-10:])
    raise NotFound(f"{name}={size}: no checkpoint of that size (latest sizes: {sizes})", field=name)


def inclusion_document(ledger: LedgerService, principal: Principal, seq: int, size: int | None) -> dict[str, Any]:
    """inclusion_document is the inclusion proof of the event at `seq` in the checkpoint of
    `size` events (default the latest), for a principal that may read that event: a proof
    carries the event whole, so it answers to the feed's scope (403 else)."""
    app = ledger.as_principal(principal)
    app.authorize("read_proofs")
    recorder = ledger.app.ledger_recorder
    logged = recorder.select_log(seq - 1, 1) if 1 <= seq <= recorder.log_size() else []
    if logged and logged[0].position == seq:
        lao = feed_head(logged[0].state).lao_code
        province = province_lookup(ledger.views())("lao", lao) if lao else None
        app.authorize("read_event", province=province)
    note = checkpoint_of_size(ledger, size, "size")
    return LedgerAuditor(ledger.app.ledger_recorder).inclusion_proof(seq, note)
