"""Witnesses: independent parties that cosign a checkpoint only if it is consistent with every
checkpoint of that log they cosigned before (c2sp.org/tlog-witness, c2sp.org/tlog-cosignature).

- A *cosignature* is a signed-note signature line `— <name> base64(key id ‖ timestamp ‖ Ed25519
  signature)` over `cosignature/v1\\ntime <timestamp>\\n` followed by the checkpoint's text; its key
  id is SHA-256(name ‖ "\\n" ‖ 0x04 ‖ public key)[:4]. Witness keys are written as the log's keys
  are, with 0x04 for 0x01.
- `witness_verdict` is the whole of a witness's decision, pure: given what it last cosigned for the
  origin and an add-checkpoint request, cosign (and remember the new size and root) or refuse with
  the spec's status. The witness service keeps the state and applies the verdict atomically.
- A `Policy` is what a verifier demands of a checkpoint: signed by the log, cosigned by at least k
  of these witnesses.

Pure functions and values: no I/O.
"""

from __future__ import annotations

import base64
import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from ledger.errors import BadInput
from ledger.integrity.checkpoint import (
    Checkpoint,
    Quorum,
    SignatureError,
    Verifier,
    check_key_name,
    key_id,
    parse_checkpoint,
    split_note,
)
from ledger.integrity.merkle import ProofError, check_consistency

#: The signature type of a cosignature/v1 key (tlog-cosignature: Ed25519 cosigner keys).
COSIGNATURE: Final = 0x04
#: A consistency proof has at most 63 hashes (tlog-witness).
MAX_PROOF: Final = 63
#: The most an add-checkpoint request body may hold: 63 proof lines and a checkpoint with some
#: signatures (the witness service reads no more).
MAX_REQUEST: Final = 16 * 1024
_SIZE: Final = re.compile(r"0|[1-9][0-9]*")


def cosigner_key_id(name: str, public: bytes) -> bytes:
    """cosigner_key_id is the 4-byte id of an Ed25519 cosigner key named `name`."""
    return key_id(name, public, COSIGNATURE)


def cosigned_message(text: str, timestamp: int) -> bytes:
    """cosigned_message is what a cosignature/v1 signs: a header line, a time line, and the
    checkpoint's whole note text."""
    return b"cosignature/v1\ntime %d\n" % timestamp + text.encode()


@dataclass(frozen=True)
class WitnessKey:
    """WitnessKey is a witness's public key: it checks the witness's cosignatures."""

    name: str
    public: bytes

    def format(self) -> str:
        """format writes the key as a vkey (`name+id+base64(0x04 ‖ key)`)."""
        blob = base64.b64encode(bytes([COSIGNATURE]) + self.public).decode()
        return f"{self.name}+{cosigner_key_id(self.name, self.public).hex()}+{blob}"

    def cosigned_at(self, note: str) -> int:
        """cosigned_at is the time (POSIX seconds) of this witness's valid cosignature on the note;
        SignatureError when it has none, or one that does not verify."""
        text, signatures = split_note(note)
        kid = cosigner_key_id(self.name, self.public)
        for name, blob in signatures:
            if name == self.name and blob[:4] == kid:
                if len(blob) != 4 + 8 + 64:
                    raise SignatureError(f"the cosignature by {name} is not a cosignature/v1")
                (timestamp,) = struct.unpack(">Q", blob[4:12])
                try:
                    Ed25519PublicKey.from_public_bytes(self.public).verify(blob[12:], cosigned_message(text, timestamp))
                except InvalidSignature as e:
                    raise SignatureError(f"the cosignature by {name} does not verify") from e
                return int(timestamp)
        raise SignatureError(f"the note has no cosignature by witness {self.name} ({kid.hex()})")


@dataclass(frozen=True)
class Witness:
    """Witness is a witness's private key: it cosigns checkpoints."""

    name: str
    seed: bytes

    @classmethod
    def generate(cls, name: str) -> Witness:
        """generate makes a new witness key named `name`."""
        seed = Ed25519PrivateKey.generate().private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        return cls(check_key_name(name), seed)

    @property
    def key(self) -> WitnessKey:
        """key is the public half."""
        public = (
            Ed25519PrivateKey.from_private_bytes(self.seed).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        )
        return WitnessKey(self.name, public)

    def format(self) -> str:
        """format writes the private key (`PRIVATE+KEY+name+id+base64(0x04 ‖ seed)`)."""
        blob = base64.b64encode(bytes([COSIGNATURE]) + self.seed).decode()
        return f"PRIVATE+KEY+{self.name}+{cosigner_key_id(self.name, self.key.public).hex()}+{blob}"

    def cosign(self, text: str, timestamp: int) -> str:
        """cosign is the cosignature line of a checkpoint's note text at `timestamp`."""
        signature = Ed25519PrivateKey.from_private_bytes(self.seed).sign(cosigned_message(text, timestamp))
        blob = cosigner_key_id(self.name, self.key.public) + struct.pack(">Q", timestamp) + signature
        return f"\u2014 {self.name} {base64.b64encode(blob).decode()}\n"


def _key_parts(text: str, private: bool) -> tuple[str, str, bytes]:
    parts = text.strip().split("+", 4 if private else 2)  # base64 may hold '+' too
    if private:
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise BadInput("not a witness key (PRIVATE+KEY+name+id+key)")
        parts = parts[2:]
    if len(parts) != 3:
        raise BadInput("not a witness verifier key (name+id+key)")
    name, kid, blob_text = parts
    check_key_name(name)
    try:
        blob = base64.b64decode(blob_text, validate=True)
    except ValueError as e:
        raise BadInput("the witness key is not base64") from e
    if len(blob) != 33 or blob[0] != COSIGNATURE:
        raise BadInput("not an Ed25519 witness key (cosignature/v1, type 0x04)")
    return name, kid, blob[1:]


def parse_witness(text: str) -> Witness:
    """parse_witness reads a witness's private key, checking its id."""
    name, kid, seed = _key_parts(text, private=True)
    witness = Witness(name, seed)
    if cosigner_key_id(name, witness.key.public).hex() != kid:
        raise BadInput(f"the witness key's id {kid} does not match its key")
    return witness


def parse_witness_key(text: str) -> WitnessKey:
    """parse_witness_key reads a witness's verifier key, checking its id."""
    name, kid, public = _key_parts(text, private=False)
    if cosigner_key_id(name, public).hex() != kid:
        raise BadInput(f"the witness key's id {kid} does not match its key")
    return WitnessKey(name, public)


@dataclass(frozen=True)
class Policy:
    """Policy is what a checkpoint must carry to be trusted: the log's signature (by its key, or
    a quorum of its keys) and valid cosignatures by at least `needed` of `witnesses`. Checks a
    note as a Verifier does, so every command and page that checks signatures takes one."""

    log: Verifier | Quorum
    witnesses: tuple[WitnessKey, ...] = ()
    needed: int = 0

    def check(self, note: str) -> str:
        """check returns the note's text when the log signed it and enough witnesses cosigned it."""
        text = self.log.check(note)
        cosigned = self.cosigners(note)
        if len(cosigned) < self.needed:
            named = ", ".join(name for name, _ in cosigned) or "none"
            raise SignatureError(
                f"cosigned by {len(cosigned)} of the {len(self.witnesses)} witnesses ({named}), {self.needed} needed"
            )
        return text

    def cosigners(self, note: str) -> list[tuple[str, int]]:
        """cosigners are (name, time) of the witnesses of this policy that validly cosigned the note."""
        found = []
        for key in self.witnesses:
            try:
                found.append((key.name, key.cosigned_at(note)))
            except SignatureError:
                continue
        return found


def with_cosignatures(note: str, lines: Sequence[str]) -> str:
    """with_cosignatures is the note with cosignature lines added (each once)."""
    have = set(note.splitlines(keepends=True))
    return note + "".join(line for line in lines if line not in have)


# --- the witness's decision (tlog-witness add-checkpoint) ------------------------------------


@dataclass(frozen=True)
class AddCheckpoint:
    """AddCheckpoint is an add-checkpoint request: the size the client believes the witness is
    at, a consistency proof from it, and the signed checkpoint."""

    old: int
    proof: tuple[bytes, ...]
    note: str

    def body(self) -> bytes:
        """body is the request as sent: `old N`, proof lines, a blank line, the note."""
        lines = [f"old {self.old}", *(base64.b64encode(h).decode() for h in self.proof)]
        return ("\n".join(lines) + "\n\n" + self.note).encode()


def parse_add_checkpoint(body: bytes) -> AddCheckpoint:
    """parse_add_checkpoint reads a request body strictly; BadInput (400) for anything else."""
    if len(body) > MAX_REQUEST:
        raise BadInput(f"the request is over {MAX_REQUEST} bytes")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as e:
        raise BadInput("the request is not UTF-8") from e
    head, sep, note = text.partition("\n\n")
    if not sep:
        raise BadInput("no blank line between the old size and proof, and the checkpoint")
    first, *proof_lines = head.split("\n")
    if not first.startswith("old ") or not _SIZE.fullmatch(first[4:]):
        raise BadInput("the first line must be `old <size>`, a decimal without leading zeros")
    if len(proof_lines) > MAX_PROOF:
        raise BadInput(f"more than {MAX_PROOF} consistency proof lines")
    proof = []
    for line in proof_lines:
        try:
            hashed = base64.b64decode(line, validate=True)
        except ValueError as e:
            raise BadInput("a consistency proof line is not base64") from e
        if len(hashed) != 32:
            raise BadInput("a consistency proof line is not a SHA-256 hash")
        proof.append(hashed)
    return AddCheckpoint(int(first[4:]), tuple(proof), note)


@dataclass(frozen=True)
class Verdict:
    """Verdict is a witness's answer: cosign (status 200; remember `checkpoint`), or refuse with
    the spec's status and why (409 carries the size the witness is at)."""

    status: int
    why: str = ""
    checkpoint: Checkpoint | None = None
    size: int | None = None


def witness_verdict(
    request: AddCheckpoint, logs: dict[str, Verifier | Quorum], last: tuple[int, bytes] | None
) -> Verdict:
    """witness_verdict decides an add-checkpoint request given the logs this witness follows
    (origin → the log's key) and what it last cosigned for the request's origin (size, root; None:
    nothing yet). Checked in the spec's order: a known origin (404), the log's signature (403), old
    ≤ size (400), old = the size last cosigned (409), the same root at the same size (409), the
    consistency proof (422)."""
    checkpoint = parse_checkpoint(request.note)
    key = logs.get(checkpoint.origin)
    if key is None:
        return Verdict(404, f"this witness does not follow {checkpoint.origin}")
    try:
        key.check(request.note)
    except SignatureError as e:
        return Verdict(403, f"not signed by the log's key: {e}")
    if request.old > checkpoint.size:
        return Verdict(400, f"old {request.old} is beyond the checkpoint's size {checkpoint.size}")
    size, root = last if last is not None else (0, b"")
    if request.old != size:
        return Verdict(409, f"this witness is at size {size} of {checkpoint.origin}", size=size)
    if request.old == checkpoint.size:
        if size and checkpoint.root != root:
            return Verdict(409, f"a second root for size {size}: this witness cosigned another")
        if request.proof:
            return Verdict(422, "no consistency proof is needed between equal sizes")
    elif request.old == 0:
        if request.proof:
            return Verdict(422, "the consistency proof from size 0 must be empty")
    else:
        try:
            check_consistency(request.old, checkpoint.size, list(request.proof), root, checkpoint.root)
        except ProofError as e:
            return Verdict(422, f"not consistent with the checkpoint of size {request.old} it cosigned: {e}")
    return Verdict(200, checkpoint=checkpoint)
