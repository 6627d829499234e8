"""Checkpoints as C2SP signed notes, with Ed25519 keys in the signed-note key format.

- A *checkpoint* (c2sp.org/tlog-checkpoint) is the note text `origin\\nsize\\nbase64(root)\\n`.
- A *signed note* (c2sp.org/signed-note) is that text, a blank line, and signature lines
  `— <key name> base64(key id ‖ signature)`; the key id is the first 4 bytes of
  SHA-256(name ‖ "\\n" ‖ 0x01 ‖ public key).
- Keys are written `PRIVATE+KEY+<name>+<id hex>+base64(0x01 ‖ seed)` (signer) and
  `<name>+<id hex>+base64(0x01 ‖ public key)` (verifier).

Pure functions, in pairs (format/parse, sign/check). Parsers are strict: a size written `007`,
a root that is not 32 bytes, a stray blank line — each is refused.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ledger.errors import BadInput, Refused

ED25519 = 0x01
_NAME = re.compile(r"[^\s+]+")
_SIZE = re.compile(r"0|[1-9][0-9]*")


class SignatureError(Refused):
    """SignatureError: a note's signature is missing, malformed or does not verify."""


def _b64decode(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as e:
        raise BadInput(f"{what} is not base64") from e


def key_id(name: str, public: bytes, kind: int = ED25519) -> bytes:
    """key_id is the 4-byte id of an Ed25519 key named `name` (C2SP signed-note): of a log's key,
    or with `kind` 0x04 of a witness's (tlog-cosignature)."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([kind]) + public).digest()[:4]


@dataclass(frozen=True)
class Signer:
    """Signer is a named Ed25519 private key."""

    name: str
    seed: bytes

    @classmethod
    def generate(cls, name: str) -> Signer:
        """generate makes a new key pair named `name`."""
        check_key_name(name)
        from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

        key = Ed25519PrivateKey.generate()
        seed = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        return cls(name, seed)

    @property
    def public(self) -> bytes:
        """public is the raw 32-byte public key."""
        return Ed25519PrivateKey.from_private_bytes(self.seed).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    def verifier(self) -> Verifier:
        """verifier is the public half."""
        return Verifier(self.name, self.public)

    def format(self) -> str:
        """format writes the signer key string."""
        blob = base64.b64encode(bytes([ED25519]) + self.seed).decode()
        return f"PRIVATE+KEY+{self.name}+{key_id(self.name, self.public).hex()}+{blob}"

    def sign(self, text: str) -> str:
        """sign returns the signed note: text, blank line, one signature line."""
        check_note_text(text)
        signature = Ed25519PrivateKey.from_private_bytes(self.seed).sign(text.encode())
        blob = base64.b64encode(key_id(self.name, self.public) + signature).decode()
        return f"{text}\n\u2014 {self.name} {blob}\n"


@dataclass(frozen=True)
class Verifier:
    """Verifier is a named Ed25519 public key."""

    name: str
    public: bytes

    def format(self) -> str:
        """format writes the verifier key string."""
        blob = base64.b64encode(bytes([ED25519]) + self.public).decode()
        return f"{self.name}+{key_id(self.name, self.public).hex()}+{blob}"

    def check(self, note: str) -> str:
        """check returns the note's text if one of its signatures is this key's and verifies."""
        text, signatures = split_note(note)
        kid = key_id(self.name, self.public)
        for name, blob in signatures:
            if name == self.name and blob[:4] == kid:
                try:
                    Ed25519PublicKey.from_public_bytes(self.public).verify(blob[4:], text.encode())
                except InvalidSignature as e:
                    raise SignatureError(f"the signature by {name} does not verify") from e
                return text
        raise SignatureError(f"the note has no signature by key {self.name} ({kid.hex()})")


def check_key_name(name: str) -> str:
    """check_key_name accepts a key name as C2SP signed notes allow it (non-empty, no '+', no
    Unicode space), printable, at most 100 characters, and not a file path (a name is shown in
    every checkpoint it signs: a signer's folders have no place there)."""
    if not _NAME.fullmatch(name) or not name.isprintable():
        raise BadInput(f"key name {name!r} must be non-empty, printable, without '+' or spaces")
    if len(name) > 100:
        raise BadInput(f"key name {name[:20]!r}… is longer than 100 characters")
    if name.startswith(("/", ".", "~")) or "\\" in name or "/../" in name:
        raise BadInput(f"key name {name!r} looks like a file path; give a short name (--name krabi-ppao)")
    return name


def parse_signer(text: str) -> Signer:
    """parse_signer reads a signer key string, checking its id."""
    parts = text.strip().split("+", 4)  # base64 may contain '+' too
    if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
        raise BadInput("not a signer key (PRIVATE+KEY+name+id+key)")
    name, kid, blob = parts[2], parts[3], _b64decode(parts[4], "the signer key")
    check_key_name(name)
    if len(blob) != 33 or blob[0] != ED25519:
        raise BadInput("the signer key is not an Ed25519 key")
    signer = Signer(name, blob[1:])
    if key_id(name, signer.public).hex() != kid:
        raise BadInput(f"the signer key's id {kid} does not match its key")
    return signer


@dataclass(frozen=True)
class Quorum:
    """Quorum is several verifier keys and how many of them must have signed a note validly — a
    key rotation, a cosigner, a witness. Signatures by other keys are not refused: they are named
    (`others`). Checks a note as a Verifier does."""

    verifiers: tuple[Verifier, ...]
    needed: int = 1

    def check(self, note: str) -> str:
        """check returns the note's text when at least `needed` of the keys signed it validly."""
        valid, failures, text = 0, [], ""
        for verifier in self.verifiers:
            try:
                text = verifier.check(note)
                valid += 1
            except SignatureError as e:
                failures.append(str(e))
        if valid < self.needed:
            why = "; ".join(failures)
            raise SignatureError(
                f"{valid} of the {len(self.verifiers)} keys signed it validly, {self.needed} needed: {why}"
            )
        return text

    def others(self, note: str) -> list[str]:
        """others are the names of the note's signatures by keys this quorum does not hold."""
        _, signatures = split_note(note)
        mine = {v.name for v in self.verifiers}
        return sorted({name for name, _ in signatures} - mine)


def parse_verifier(text: str) -> Verifier:
    """parse_verifier reads a verifier key string, checking its id."""
    parts = text.strip().split("+", 2)  # base64 may contain '+' too
    if len(parts) != 3:
        raise BadInput("not a verifier key (name+id+key)")
    name, kid, blob = parts[0], parts[1], _b64decode(parts[2], "the verifier key")
    check_key_name(name)
    if len(blob) != 33 or blob[0] != ED25519:
        raise BadInput("the verifier key is not an Ed25519 key")
    if key_id(name, blob[1:]).hex() != kid:
        raise BadInput(f"the verifier key's id {kid} does not match its key")
    return Verifier(name, blob[1:])


def check_note_text(text: str) -> None:
    """check_note_text refuses text a signed note cannot carry."""
    if not text.endswith("\n") or "\n\n" in text or text.startswith("\n"):
        raise BadInput("note text must be non-empty lines, each ending in a newline")


def split_note(note: str) -> tuple[str, list[tuple[str, bytes]]]:
    """split_note separates a signed note into its text and (name, signature blob) pairs."""
    text, sep, rest = note.partition("\n\n")
    if not sep or not rest:
        raise BadInput("not a signed note (no blank line before the signatures)")
    text += "\n"
    check_note_text(text)
    signatures = []
    for line in rest.split("\n")[:-1] if rest.endswith("\n") else ["<no final newline>"]:
        m = re.fullmatch("\u2014 ([^\\s+]+) ([A-Za-z0-9+/=]+)", line)
        if not m:
            raise BadInput(f"not a signature line: {line!r}")
        blob = _b64decode(m[2], "a signature")
        if len(blob) < 5:
            raise BadInput("a signature is too short")
        signatures.append((m[1], blob))
    if not signatures:
        raise BadInput("the note has no signature")
    return text, signatures


@dataclass(frozen=True)
class Checkpoint:
    """Checkpoint commits to the first `size` events of the log named `origin`."""

    origin: str
    size: int
    root: bytes

    def text(self) -> str:
        """text is the checkpoint's note text."""
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"


def parse_checkpoint(note: str) -> Checkpoint:
    """parse_checkpoint reads a checkpoint from a signed note (signatures are not checked here:
    use Verifier.check first when a key is at hand)."""
    text, _ = split_note(note)
    lines = text.split("\n")[:-1]
    if len(lines) < 3:
        raise BadInput("a checkpoint has an origin, a size and a root hash line")
    origin, size, root_b64 = lines[0], lines[1], lines[2]
    if not origin:
        raise BadInput("the checkpoint's origin is empty")
    if not _SIZE.fullmatch(size):
        raise BadInput(f"the checkpoint's size {size!r} is not a decimal number")
    root = _b64decode(root_b64, "the checkpoint's root")
    if len(root) != 32:
        raise BadInput("the checkpoint's root is not a SHA-256 hash")
    return Checkpoint(origin, int(size), root)
