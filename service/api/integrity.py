"""Proofs over HTTP: the latest signed checkpoint, a new one (admin, with the server's key), and
inclusion and consistency proofs as the CLI's `prove` writes them, so that `verify-proof` checks
what the service hands out. Readable by admin, auditors and integrations."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from litestar import Response, get, post

from ledger.domain.access import Principal
from ledger.errors import BadInput, NotFound, Refused
from ledger.integrity.audit import LedgerAuditor
from projections.feed import feed_head
from service.api.params import json_response, province_lookup
from service.auth import requires
from service.state import LedgerService

NOTE: Final = "text/plain"  # Litestar adds the charset (utf-8)


def _checkpoint_of_size(ledger: LedgerService, size: int | None, name: str) -> str:
    recorded = ledger.app.ledger_recorder.checkpoints()
    if not recorded:
        raise NotFound("no checkpoint has been signed yet (POST /api/v1/checkpoints, or `mission-ledger checkpoint`)")
    if size is None:
        return recorded[-1][2]
    for found, _, note in reversed(recorded):
        if found == size:
            return note
    sizes = ", ".join(str(s) for s, _, _ in recorded[-10:])
    raise NotFound(f"{name}={size}: no checkpoint of that size (latest sizes: {sizes})", field=name)


@get("/checkpoints/latest", sync_to_thread=False, guards=[requires("read_proofs")])
def latest_checkpoint(ledger: LedgerService) -> Response[bytes]:
    """The latest signed checkpoint, as the signed note `checkpoint --out` writes."""
    return Response(_checkpoint_of_size(ledger, None, "size").encode("utf-8"), media_type=NOTE)


@post("/checkpoints", sync_to_thread=False, status_code=201, guards=[requires("sign_checkpoint")])
def sign_checkpoint(ledger: LedgerService) -> Response[bytes]:
    """Sign a checkpoint of the whole ledger with the server's key and record it (admin)."""
    if not ledger.config.key:
        raise Refused("this service has no signing key (start it with --key or MISSION_LEDGER_KEY)")
    from ledger.integrity.checkpoint import parse_signer

    signer = parse_signer(Path(ledger.config.key).read_text(encoding="utf-8"))
    note = LedgerAuditor(ledger.app.ledger_recorder).sign_checkpoint(signer, ledger.app.clock.now())
    return Response(note.encode("utf-8"), media_type=NOTE, status_code=201)


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
    note = _checkpoint_of_size(ledger, size, "size")
    return LedgerAuditor(ledger.app.ledger_recorder).inclusion_proof(seq, note)


@get("/proofs/inclusion/{seq:int}", sync_to_thread=False)
def inclusion_proof(seq: int, ledger: LedgerService, principal: Principal, size: int | None = None) -> Response[bytes]:
    """Prove that the event at position `seq` is in the ledger of the checkpoint of `size` events
    (default the latest): the document of `prove inclusion`. The event must be within the
    principal's feed (an `integration:PP` reads its province's events only)."""
    return json_response(inclusion_document(ledger, principal, seq, size))


@get("/proofs/consistency", sync_to_thread=False, guards=[requires("read_proofs")])
def consistency_proof(ledger: LedgerService, old: int, new: int | None = None) -> Response[bytes]:
    """Prove that the ledger of the checkpoint of `new` events (default the latest) extends the
    one of `old` events: the document of `prove consistency`."""
    if new is not None and new < old:
        raise BadInput(f"old={old} is after new={new}", field="old")
    old_note = _checkpoint_of_size(ledger, old, "old")
    new_note = _checkpoint_of_size(ledger, new, "new")
    return json_response(LedgerAuditor(ledger.app.ledger_recorder).consistency_proof(old_note, new_note))


ROUTES: Final = [latest_checkpoint, sign_checkpoint, inclusion_proof, consistency_proof]
