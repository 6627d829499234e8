"""Proofs over HTTP: the latest signed checkpoint, a new one (admin, with the server's key), and
inclusion and consistency proofs as the CLI's `prove` writes them, so that `verify-proof` checks
what the service hands out. Readable by admin, auditors and integrations."""

from __future__ import annotations

from typing import Final

from litestar import Response, get, post

from ledger.domain.access import Principal
from ledger.errors import BadInput, Unprocessable
from ledger.integrity.audit import LedgerAuditor
from ledger.integrity.witness import parse_witness_key
from service.api.contract import POSITION, SIZE, Answer, declares
from service.api.documents import ConsistencyProof, InclusionProof
from service.auth import requires
from service.params import json_response, whole
from service.proofs import checkpoint_of_size, cosigned_by, inclusion_document, witnessed_checkpoint
from service.state import LedgerService

#: Witnesses' verifier keys (`name+id+base64(0x04 ‖ key)`), repeatable.
WITNESS_KEYS: Final = {
    "type": "array",
    "items": {"type": "string", "maxLength": 200, "pattern": "^[^\\s+]+\\+[0-9a-f]{8}\\+[A-Za-z0-9+/=]+$"},
    "maxItems": 16,
}
NOTE: Final = "text/plain"  # Litestar adds the charset (utf-8)
#: A proof between given sizes proves the same hashes forever; a client may keep it a day without
#: asking. Not `immutable`: the checkpoint note it carries may gain a cosignature later (a second
#: key, a witness), which a client then sees on revalidation (ETag). Private: it is answered to a
#: principal whose scope was checked, never to a shared cache.
_KEPT: Final = {"Cache-Control": "private, max-age=86400"}


_NOTE_DOC: Final = "a signed checkpoint (C2SP signed-note): origin, size, root hash (base64), a blank line, signatures"


@get(
    "/checkpoints/latest",
    sync_to_thread=False,
    guards=[requires("read_proofs")],
    opt=declares(
        "latest_checkpoint",
        Answer(200, media=(NOTE + "; charset=utf-8",), headers=("ETag",), description=_NOTE_DOC),
        errors=(404,),
    ),
)
def latest_checkpoint(ledger: LedgerService) -> Response[bytes]:
    """The latest signed checkpoint, as the signed note `checkpoint --out` writes."""
    return Response(checkpoint_of_size(ledger, None, "size").encode("utf-8"), media_type=NOTE)


@post(
    "/checkpoints",
    sync_to_thread=False,
    status_code=201,
    guards=[requires("sign_checkpoint")],
    opt=declares(
        "sign_checkpoint", Answer(201, media=(NOTE + "; charset=utf-8",), description=_NOTE_DOC), errors=(409, 507)
    ),
)
def sign_checkpoint(ledger: LedgerService) -> Response[bytes]:
    """Sign a checkpoint of the whole ledger with the server's key and record it (admin), with the
    cosignatures of the service's witnesses (`serve --witness`)."""
    note = ledger.sign_checkpoint()
    return Response(note.encode("utf-8"), media_type=NOTE, status_code=201)


@get(
    "/proofs/inclusion/{seq:int}",
    sync_to_thread=False,
    opt=declares(
        "inclusion_proof",
        Answer(200, InclusionProof, headers=("ETag", "Cache-Control")),
        errors=(404,),
        params={"seq": POSITION, "size": POSITION, "witness": WITNESS_KEYS, "min_witnesses": SIZE},
    ),
)
def inclusion_proof(
    seq: int,
    ledger: LedgerService,
    principal: Principal,
    size: str | None = None,
    witness: list[str] | None = None,
    min_witnesses: str | None = None,
) -> Response[bytes]:
    """Prove that the event at position `seq` is in the ledger of the checkpoint of `size` events
    (default the latest): the document of `prove inclusion`. The event must be within the
    principal's feed (an `integration:PP` reads its province's events only). With `witness`
    (witnesses' verifier keys) the proof is against the latest checkpoint cosigned by
    `min_witnesses` of them (default all), and `cosigned_by` names who cosigned it, and when."""
    given = whole("size", size, least=1)
    try:
        keys = [parse_witness_key(k) for k in witness or ()]
    except BadInput as e:  # shaped as a key, but not one (its id does not match, not type 0x04)
        raise Unprocessable(str(e), field="witness") from e
    if not keys:
        if min_witnesses is not None:
            raise Unprocessable("min_witnesses needs witness: the witnesses' keys", field="min_witnesses")
        document = inclusion_document(ledger, principal, seq, given)
        return json_response(document, headers=_KEPT if given is not None else None)
    if given is not None:
        raise Unprocessable("give size or witness, not both", field="witness")
    needed = whole("min_witnesses", min_witnesses)
    needed = len(keys) if needed is None else needed
    if needed > len(keys):
        raise Unprocessable(
            f"min_witnesses {needed} is more than the {len(keys)} witnesses given", field="min_witnesses"
        )
    note = witnessed_checkpoint(ledger, keys, needed)
    document = inclusion_document(ledger, principal, seq, None, note)
    return json_response({**document, "cosigned_by": cosigned_by(note, keys)})


@get(
    "/proofs/consistency",
    sync_to_thread=False,
    guards=[requires("read_proofs")],
    opt=declares(
        "consistency_proof",
        Answer(200, ConsistencyProof, headers=("ETag", "Cache-Control")),
        errors=(404, 409),
        params={"old": SIZE, "new": SIZE},
    ),
)
def consistency_proof(ledger: LedgerService, old: str, new: str | None = None) -> Response[bytes]:
    """Prove that the ledger of the checkpoint of `new` events (default the latest) extends the
    one of `old` events: the document of `prove consistency`."""
    old_size, new_size = whole("old", old), whole("new", new)
    if old_size is None:
        raise BadInput("give old: the size of the checkpoint to prove the new one extends", field="old")
    if new_size is not None and new_size < old_size:
        raise Unprocessable(f"old={old_size} is after new={new_size}", field="old")
    old_note = checkpoint_of_size(ledger, old_size, "old")
    new_note = checkpoint_of_size(ledger, new_size, "new")
    proof = LedgerAuditor(ledger.app.ledger_recorder).consistency_proof(old_note, new_note)
    return json_response(proof, headers=_KEPT if new_size is not None else None)


ROUTES: Final = [latest_checkpoint, sign_checkpoint, inclusion_proof, consistency_proof]
