"""Auditing the ledger's log: roots at any size, signed checkpoints, proofs, and `verify`.

`verify` trusts nothing the store says about itself: it recomputes every leaf from the stored
events, the root at every checkpoint, and compares. Proof files carry the event and the signed
checkpoint, so that `check_proof_file` needs no ledger at all.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, Protocol

import msgspec

from ledger.errors import BadInput, Refused, Unprocessable
from ledger.integrity.checkpoint import Checkpoint, Quorum, Signer, Verifier, parse_checkpoint
from ledger.integrity.leaf import event_leaf
from ledger.integrity.merkle import (
    BLOCK,
    NODE_STRIDE,
    CompactRange,
    NodeBuilder,
    ProofError,
    check_consistency,
    check_inclusion,
    node_hash,
    perfect_root,
    prove_consistency,
    prove_inclusion,
    root_of,
)
from ledger.integrity.split_view import SPLIT_VIEW_FORMAT, check_split_view
from ledger.stamps import parse_stamp

if TYPE_CHECKING:
    from ledger.integrity.witness import Policy

INCLUSION_FORMAT: Final = "mission-ledger/inclusion-proof/v1"
CONSISTENCY_FORMAT: Final = "mission-ledger/consistency-proof/v1"


class _Stamp(msgspec.Struct):
    recorded_at: str | None = None


_stamp_decoder: Final = msgspec.json.Decoder(_Stamp)


class LogReader(Protocol):
    """LogReader is what auditing needs of a store: its log, its stored hashes and checkpoints.
    Every store (ledger.store.contract.LedgerLog) is one; the auditor trusts none of it."""

    def get_meta(self, key: str) -> str | None: ...
    def log_size(self) -> int: ...
    def tree(self) -> CompactRange: ...
    def leaves(self, start: int, end: int) -> list[bytes]: ...
    def nodes(self, level: int, lo: int, hi: int) -> list[bytes] | None: ...
    def all_nodes(self) -> dict[tuple[int, int], bytes]: ...
    def audit_rows(self, after: int = 0, limit: int = 5000) -> list[tuple[Any, ...]]: ...
    def unlogged_events(self) -> list[tuple[int, str, int]]: ...
    def checkpoints(self) -> list[tuple[int, bytes, str]]: ...
    def record_checkpoint(self, size: int, root: bytes, note: str, signed_at: datetime) -> None: ...


class LedgerAuditor:
    """LedgerAuditor computes roots and proofs over one ledger's log and verifies it."""

    def __init__(self, recorder: LogReader) -> None:
        self.recorder = recorder

    def origin(self) -> str:
        """origin is the ledger's name in its checkpoints (set at init)."""
        return self.recorder.get_meta("origin") or "mission-ledger"

    def subtree(self, start: int, end: int) -> bytes:
        """subtree is the root of leaves [start, end): from the stored interior nodes where the
        range is a complete block of them (O(log n) hashes for a proof), else from the leaves."""
        n = end - start
        if n > BLOCK:
            if n & (n - 1) == 0 and start % n == 0:
                level = (n.bit_length() - 1) // NODE_STRIDE * NODE_STRIDE
                nodes = self.recorder.nodes(level, start >> level, end >> level)
                if nodes is not None:
                    return perfect_root(nodes)
            else:
                k = 1 << ((n - 1).bit_length() - 1)  # RFC 9162's split: the largest power of two below n
                return node_hash(self.subtree(start, start + k), self.subtree(start + k, end))
        return root_of(self.recorder.leaves(start, end))

    def root_at(self, size: int) -> bytes:
        """root_at is the tree root over the first `size` events."""
        return self.subtree(0, size)

    def checkpoints_newest_first(self) -> list[str]:
        """checkpoints_newest_first are the recorded checkpoints' notes, the largest first, and of
        one size the last recorded first (a round's seal, signed later, may be smaller than one
        signed before it; a checkpoint signed again may carry more cosignatures)."""
        recorded = self.recorder.checkpoints()
        return [note for _, (_, _, note) in sorted(enumerate(recorded), key=lambda c: (-c[1][0], -c[0]))]

    def checked_checkpoint(self, note: str) -> Checkpoint:
        """checked_checkpoint parses a checkpoint and refuses it unless this ledger matches it."""
        checkpoint = parse_checkpoint(note)
        self._checked_checkpoint(checkpoint)
        return checkpoint

    def _checked_checkpoint(self, checkpoint: Checkpoint) -> None:
        if checkpoint.origin != self.origin():
            raise Refused(f"the checkpoint is for {checkpoint.origin!r}, not this ledger ({self.origin()!r})")
        size = self.recorder.log_size()
        if checkpoint.size > size:
            raise Refused(f"the checkpoint covers {checkpoint.size} events; the ledger has only {size}")
        if self.root_at(checkpoint.size) != checkpoint.root:
            raise Refused(f"the ledger does not match the checkpoint at size {checkpoint.size}: run `verify`")

    # --- checkpoints --------------------------------------------------------------------------

    def sign_checkpoint_at(
        self, signer: Signer, size: int, now: datetime, *, cosign: Callable[[str], str] | None = None
    ) -> str:
        """sign_checkpoint_at signs the first `size` events — a prefix of the log, such as
        everything recorded by a round's deadline — and records the checkpoint. Its root is
        recomputed from the leaves; a size the log does not have is refused."""
        if not 0 <= size <= self.recorder.log_size():
            raise BadInput(f"size {size}: the log has {self.recorder.log_size()} events")
        checkpoint = Checkpoint(self.origin(), size, self.root_at(size))
        for signed, root, _ in self.recorder.checkpoints():
            if signed <= size and self.root_at(signed) != root:
                raise Refused(f"the log is not consistent with the checkpoint signed at size {signed}: run `verify`")
        note = signer.sign(checkpoint.text())
        if cosign is not None:
            note = cosign(note)
        self.recorder.record_checkpoint(checkpoint.size, checkpoint.root, note, now)
        return note

    def size_at(self, instant: datetime) -> int:
        """size_at is how many events the log had recorded by `instant` (recorded_at ≤ it): the
        recorder stamps events in log order, so they are a prefix, found by halving."""
        from ledger.stamps import format_stamp

        wanted = format_stamp(instant)
        lo, hi = 0, self.recorder.log_size()  # the answer is in [lo, hi]
        while lo < hi:
            mid = (lo + hi + 1) // 2
            (row,) = self.recorder.audit_rows(mid - 1, 1)
            if row[2] <= wanted:
                lo = mid
            else:
                hi = mid - 1
        return lo

    def sign_checkpoint(self, signer: Signer, now: datetime, *, cosign: Callable[[str], str] | None = None) -> str:
        """sign_checkpoint signs the whole log as it stands and records the checkpoint; it never
        signs a tree that is not an extension of the last checkpoint it signed. `cosign` gives the
        signed note its witnesses' cosignatures before it is recorded."""
        tree = self.recorder.tree()
        previous = self.recorder.checkpoints()
        if previous:
            size, root, _ = max(previous, key=lambda c: c[0])  # a seal may be signed after a larger one
            if size > tree.size or self.root_at(size) != root:
                raise Refused(
                    f"the log is not consistent with the checkpoint signed at size {size}: "
                    "refusing to sign; run `mission-ledger verify`"
                )
        checkpoint = Checkpoint(self.origin(), tree.size, tree.root())
        if tree.root() != self.root_at(tree.size):
            raise Refused("the stored tree frontier does not match the leaves: run `mission-ledger verify`")
        note = signer.sign(checkpoint.text())
        if cosign is not None:
            note = cosign(note)
        self.recorder.record_checkpoint(checkpoint.size, checkpoint.root, note, now)
        return note

    # --- proofs -----------------------------------------------------------------------------

    def inclusion_proof(self, position: int, note: str) -> dict[str, Any]:
        """inclusion_proof writes the proof that the event at `position` is in the checkpoint."""
        checkpoint = parse_checkpoint(note)
        self._checked_checkpoint(checkpoint)
        if not 1 <= position <= checkpoint.size:
            raise Unprocessable(f"position {position} is not in the checkpoint (positions 1–{checkpoint.size})")
        (row,) = self.recorder.audit_rows(position - 1, 1)
        proof = prove_inclusion(position - 1, checkpoint.size, self.subtree)
        try:  # the stored hashes are a cache: a proof that does not check is not handed out
            leaf = event_leaf(position, row[4], row[5], row[6], bytes(row[7]))
            check_inclusion(position - 1, checkpoint.size, leaf, proof, checkpoint.root)
        except (ProofError, TypeError) as e:
            why = f"the stored hashes do not prove position {position} ({e}): run `mission-ledger verify`"
            raise Refused(why) from e
        return {
            "format": INCLUSION_FORMAT,
            "checkpoint": note,
            "position": position,
            "event": {
                "stream_id": row[4],
                "version": row[5],
                "type": row[6],
                "state": base64.b64encode(bytes(row[7])).decode(),
            },
            "proof": [base64.b64encode(h).decode() for h in proof],
        }

    def consistency_proof(self, old_note: str, new_note: str) -> dict[str, Any]:
        """consistency_proof writes the proof that the old checkpoint's log is a prefix of the new's."""
        old, new = parse_checkpoint(old_note), parse_checkpoint(new_note)
        self._checked_checkpoint(old)
        self._checked_checkpoint(new)
        if old.size > new.size:
            raise BadInput(f"the old checkpoint ({old.size}) is larger than the new one ({new.size})")
        proof = prove_consistency(old.size, new.size, self.subtree) if old.size and old.size != new.size else []
        if proof:
            try:
                check_consistency(old.size, new.size, proof, old.root, new.root)
            except ProofError as e:
                why = f"the stored hashes do not prove consistency ({e}): run `mission-ledger verify`"
                raise Refused(why) from e
        return {
            "format": CONSISTENCY_FORMAT,
            "old": old_note,
            "new": new_note,
            "proof": [base64.b64encode(h).decode() for h in proof],
        }

    # --- verify -------------------------------------------------------------------------------

    def verify(self, external: Sequence[str] = (), verifier: Verifier | Quorum | Policy | None = None) -> VerifyReport:
        """verify recomputes every leaf, the root at every recorded and given checkpoint, and
        checks signatures (with `verifier`); the report names the first bad position."""
        report = VerifyReport()
        targets: dict[int, list[tuple[str, bytes]]] = {}
        for size, root, note in self.recorder.checkpoints():
            targets.setdefault(size, []).append(("recorded checkpoint", root))
            if verifier is not None:
                report.check_signature(verifier, note, f"recorded checkpoint at size {size}")
        for note in external:
            checkpoint = parse_checkpoint(note)
            if checkpoint.origin != self.origin():
                report.problem(None, "bad checkpoint", f"a given checkpoint is for {checkpoint.origin!r}")
                continue
            if verifier is not None:
                report.check_signature(verifier, note, f"given checkpoint at size {checkpoint.size}")
            targets.setdefault(checkpoint.size, []).append(("given checkpoint", checkpoint.root))
        stored_nodes = self.recorder.all_nodes()
        builder = NodeBuilder()
        tree = CompactRange()
        expected = 1
        last_notification = 0
        last_stamp: datetime | None = None
        last_version: dict[str, int] = {}
        matched = 0
        self._check_root(tree, targets, report)
        after = 0
        while True:
            rows = self.recorder.audit_rows(after)
            if not rows:
                break
            for i, (position, notification, stamp, leaf, stream, version, topic, state) in enumerate(rows):
                after = position
                if position != expected:
                    report.problem(expected, "missing", f"the log jumps from {expected - 1} to {position}")
                    expected = position
                following = rows[i + 1][1] if i + 1 < len(rows) else None
                # Positions are handed out in the order events are stored: an event stored
                # before its predecessor, or after its successor, is out of place.
                out_of_order = notification <= last_notification or (
                    following is not None and notification >= following
                )
                if stream is None:
                    report.problem(position, "missing", "the event of this position is gone from the event table")
                    leaf_now = bytes(leaf)  # nothing to recompute; the tree goes on with what is stored
                else:
                    leaf_now = event_leaf(position, stream, version, topic, bytes(state))
                    if leaf_now != bytes(leaf):
                        what = "reordered" if out_of_order else "changed"
                        report.problem(position, what, "the event's bytes at this position do not match its leaf hash")
                    elif out_of_order:
                        report.problem(position, "inserted", "the event was stored after events that follow it")
                    previous = last_version.get(stream, 0)
                    if version != previous + 1:
                        what = "reordered" if version <= previous else "missing"
                        report.problem(position, what, f"{stream} version {version} follows version {previous}")
                    last_version[stream] = max(previous, version)
                    try:
                        event_stamp = _stamp_decoder.decode(bytes(state)).recorded_at
                    except msgspec.DecodeError:
                        event_stamp = None
                    if event_stamp is not None and stamp is not None:
                        at = datetime.fromisoformat(event_stamp.replace("Z", "+00:00"))
                        if at != parse_stamp(stamp):
                            report.problem(position, "changed", "recorded_at differs between the event and the log")
                        if last_stamp is not None and at < last_stamp:
                            report.problem(position, "reordered", "recorded_at goes back in time")
                        last_stamp = at
                last_notification = max(last_notification, notification)
                tree = tree.append(leaf_now)
                for level, index, node in builder.add(leaf_now):
                    if stored_nodes.pop((level, index), node) != node:
                        report.problem(
                            (index << level) + 1,
                            "changed",
                            f"the stored hash of positions {(index << level) + 1}–{(index + 1) << level} "
                            "does not match their leaves",
                            exact=False,
                        )
                expected = position + 1
                matched += self._check_root(tree, targets, report)
        report.size = tree.size
        report.root = tree.root()
        for size, items in targets.items():
            if size > tree.size:
                for what, _ in items:
                    report.problem(
                        tree.size + 1, "missing", f"the {what} covers {size} events; the ledger has {tree.size}"
                    )
        for level, index in sorted(stored_nodes):
            report.problem(
                None, "inserted", f"a stored hash (level {level}, block {index}) covers positions beyond the log"
            )
        stored = self.recorder.tree()
        if stored.size != tree.size or stored.root() != tree.root():
            report.problem(None, "changed", "the stored tree frontier does not match the recomputed tree")
        for rowid, stream, version in self.recorder.unlogged_events():
            report.problem(None, "inserted", f"event {stream} v{version} (row {rowid}) has no place in the log")
        report.checkpoints = matched
        return report

    @staticmethod
    def _check_root(tree: CompactRange, targets: dict[int, list[tuple[str, bytes]]], report: VerifyReport) -> int:
        items = targets.get(tree.size)
        if not items:
            return 0
        root = tree.root()
        for what, expected in items:
            if expected != root:
                report.problem(
                    report.last_good_checkpoint + 1,
                    "changed",
                    exact=False,
                    detail=f"the first {tree.size} events do not hash to the {what}'s root: an event at or before "
                    f"position {tree.size} was changed (the last checkpoint that matched covers "
                    f"{report.last_good_checkpoint})",
                )
                return 0
        report.last_good_checkpoint = tree.size
        return len(items)


@dataclass
class VerifyReport:
    """VerifyReport is what `verify` found: problems (position, what, detail) and the tree."""

    problems: list[tuple[int | None, str, str]] = field(default_factory=list)
    # Findings that only bound a position (a checkpoint's root differs: the change is somewhere
    # after the last checkpoint that matched) rank after findings that pin one down.
    ranges: set[int] = field(default_factory=set)
    size: int = 0
    root: bytes = b""
    checkpoints: int = 0
    signatures: int = 0
    last_good_checkpoint: int = 0

    def problem(self, position: int | None, what: str, detail: str, *, exact: bool = True) -> None:
        """problem notes one finding; `exact=False` when the position is only a lower bound."""
        if not exact:
            self.ranges.add(len(self.problems))
        self.problems.append((position, what, detail))

    def check_signature(self, verifier: Verifier | Quorum | Policy, note: str, what: str) -> None:
        """check_signature notes a bad signature on a checkpoint."""
        try:
            verifier.check(note)
            self.signatures += 1
        except (Refused, BadInput) as e:
            self.problem(None, "bad signature", f"{what}: {e}")

    @property
    def ok(self) -> bool:
        """ok is true when nothing was found."""
        return not self.problems

    def first(self) -> tuple[int | None, str, str]:
        """first is the finding at the lowest position (positionless findings last)."""
        ranked = sorted(
            enumerate(self.problems), key=lambda ip: (ip[0] in self.ranges, ip[1][0] is None, ip[1][0] or 0)
        )
        return ranked[0][1]


# --- proof files, checked offline --------------------------------------------------------------


@dataclass(frozen=True)
class ProofResult:
    """ProofResult says what a proof file proved."""

    kind: str
    checkpoint: Checkpoint
    old: Checkpoint | None = None
    position: int | None = None
    event: dict[str, Any] | None = None
    signed: bool = False


def check_proof_file(text: str, verifier: Verifier | Quorum | Policy | None = None) -> ProofResult:
    """check_proof_file checks an inclusion or consistency proof file with no ledger at hand;
    raises Refused (or BadInput for a malformed file) when it does not hold."""
    try:
        doc = json.loads(text)
        kind = doc["format"]
    except (ValueError, KeyError, TypeError) as e:
        raise BadInput("not a mission-ledger proof file (JSON with a 'format')") from e
    try:
        if kind == INCLUSION_FORMAT:
            note = doc["checkpoint"]
            if verifier is not None:
                verifier.check(note)
            checkpoint = parse_checkpoint(note)
            position = int(doc["position"])
            event = doc["event"]
            state = base64.b64decode(event["state"], validate=True)
            leaf = event_leaf(position, event["stream_id"], int(event["version"]), event["type"], state)
            proof = [base64.b64decode(h, validate=True) for h in doc["proof"]]
            check_inclusion(position - 1, checkpoint.size, leaf, proof, checkpoint.root)
            return ProofResult(
                "inclusion", checkpoint, position=position, event=json.loads(state), signed=verifier is not None
            )
        if kind == CONSISTENCY_FORMAT:
            old_note, new_note = doc["old"], doc["new"]
            if verifier is not None:
                verifier.check(old_note)
                verifier.check(new_note)
            old, new = parse_checkpoint(old_note), parse_checkpoint(new_note)
            if old.origin != new.origin:
                raise Refused(f"the checkpoints are of different logs ({old.origin!r}, {new.origin!r})")
            proof = [base64.b64decode(h, validate=True) for h in doc["proof"]]
            check_consistency(old.size, new.size, proof, old.root, new.root)
            return ProofResult("consistency", new, old=old, signed=verifier is not None)
        if kind == SPLIT_VIEW_FORMAT:
            if verifier is not None:
                verifier.check(doc["first"])
                verifier.check(doc["second"])
            view = check_split_view(doc)
            return ProofResult("split-view", view.second, old=view.first, signed=verifier is not None)
    except ProofError as e:
        raise Refused(f"the proof does not hold: {e}") from e
    except (KeyError, TypeError, ValueError) as e:
        raise BadInput(f"malformed proof file: {e}") from e
    raise BadInput(f"unknown proof format {kind!r}")
