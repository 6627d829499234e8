"""The proof page: an auditor downloads an inclusion proof and has the page check it, in the
browser, against a checkpoint and a public key the auditor pastes — SHA-256 by WebCrypto,
Ed25519 by the vendored @noble/ed25519, following docs/integrity.md byte for byte. The server is
not trusted for the verdict: it only hands out the proof."""

from __future__ import annotations

from typing import Any, Final

from litestar import Request, Response, get
from litestar.response import Template

from ledger.errors import NotFound
from ledger.identity import Session
from service.auth import requires
from service.pages.web import render
from service.params import json_response
from service.proofs import checkpoint_of_size, inclusion_document
from service.state import LedgerService


@get("/proof", sync_to_thread=False, guards=[requires("read_proofs")])
def proof_page(
    request: Request[Any, Any, Any],
    ledger: LedgerService,
    session: Session,
    position: int | None = None,
    round: str | None = None,
) -> Template:
    """The page that checks a proof in the browser — against the latest checkpoint, or a round's
    seal (`round`): the letter's QR code opens it so, and the seal is what is proven."""
    found, seal = None, None
    if round is not None:
        found = ledger.rounds.named(round)
        seal = ledger.rounds.seal_of(round)
        if seal is None:
            raise NotFound(f"round {round} has no seal yet (it is sealed once its deadline has passed)")
    return render(request, "proof.html", session=session, position=position, round=found, seal=seal)


@get("/proof/{position:int}/inclusion.json", sync_to_thread=False)
def proof_download(position: int, ledger: LedgerService, session: Session, size: int | None = None) -> Response[bytes]:
    """An inclusion proof of the event at a position, in the latest checkpoint or the one of
    `size` events (a round's seal), as `prove` writes it."""
    response = json_response(inclusion_document(ledger, session.principal, position, size))
    response.headers["Content-Disposition"] = f'attachment; filename="event-{position}.proof"'
    return response


@get("/proof/checkpoint", sync_to_thread=False, guards=[requires("read_proofs")])
def proof_checkpoint(ledger: LedgerService, session: Session, round: str | None = None) -> Response[bytes]:
    """The ledger's latest checkpoint, or a round's seal (to compare with one held outside, such as
    the root printed on the letter; never trusted alone)."""
    if round is not None:
        seal = ledger.rounds.seal_of(round)
        if seal is None:
            raise NotFound(f"round {round} has no seal yet (it is sealed once its deadline has passed)")
        return Response(seal.checkpoint.encode(), media_type="text/plain")
    return Response(checkpoint_of_size(ledger, None, "size").encode(), media_type="text/plain")


ROUTES: Final = [proof_page, proof_download, proof_checkpoint]
