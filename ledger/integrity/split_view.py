"""Split-view evidence: two checkpoints of one log that cannot both be true, in a file anyone can
check offline (`verify-proof`), with no ledger and no trust in whoever wrote the file.

Two signed checkpoints of one origin fork when
- they have the same size and different roots; or
- the larger one's tree does not begin with the smaller one's: its first m leaves have another root.
  Shown with that root X and a consistency proof from (m, X) to the larger checkpoint — which only
  the holder of the larger tree can compute, so the evidence is written from a ledger that holds it.

Either way, the log's key signed two histories: the operator showed different people different logs.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from ledger.errors import BadInput, Refused
from ledger.integrity.checkpoint import Checkpoint, parse_checkpoint
from ledger.integrity.merkle import ProofError, check_consistency, prove_consistency

if TYPE_CHECKING:
    from ledger.integrity.audit import LedgerAuditor

SPLIT_VIEW_FORMAT: Final = "mission-ledger/split-view/v1"


@dataclass(frozen=True)
class SplitView:
    """SplitView is a fork shown: the two checkpoints, and the root the larger one's tree has at the
    smaller one's size (None when the sizes are equal)."""

    first: Checkpoint
    second: Checkpoint
    prefix_root: bytes | None


def ordered(a: str, b: str) -> tuple[str, str]:
    """ordered is two checkpoints' notes, the smaller size first; BadInput for two logs."""
    first, second = parse_checkpoint(a), parse_checkpoint(b)
    if first.origin != second.origin:
        raise BadInput(f"the checkpoints are of different logs ({first.origin!r}, {second.origin!r})")
    return (a, b) if first.size <= second.size else (b, a)


def split_view_evidence(auditor: LedgerAuditor, a: str, b: str) -> dict[str, Any] | None:
    """split_view_evidence is the evidence that two checkpoints of one log fork, computed with this
    ledger — None when they do not, or when this ledger does not hold the larger one's tree (its
    holder can show the fork; a consistency proof from here fails, saying so)."""
    first_note, second_note = ordered(a, b)
    first, second = parse_checkpoint(first_note), parse_checkpoint(second_note)
    doc: dict[str, Any] = {"format": SPLIT_VIEW_FORMAT, "first": first_note, "second": second_note}
    if first.size == second.size:
        return doc if first.root != second.root else None
    if second.size > auditor.recorder.log_size() or auditor.root_at(second.size) != second.root:
        return None  # without the larger tree, a fork cannot be shown from here (its holder can)
    prefix = auditor.root_at(first.size)
    if prefix == first.root:
        return None
    proof = prove_consistency(first.size, second.size, auditor.subtree)
    doc["prefix_root"] = base64.b64encode(prefix).decode()
    doc["proof"] = [base64.b64encode(h).decode() for h in proof]
    return doc


def check_split_view(doc: dict[str, Any]) -> SplitView:
    """check_split_view checks evidence (signatures apart: the caller checks both notes with its
    keys first); Refused when it does not show a fork."""
    first, second = parse_checkpoint(doc["first"]), parse_checkpoint(doc["second"])
    if first.origin != second.origin:
        raise Refused(f"the checkpoints are of different logs ({first.origin!r}, {second.origin!r})")
    if first.size == second.size:
        if first.root == second.root:
            raise Refused("the two checkpoints are the same tree: no fork")
        return SplitView(first, second, None)
    if first.size > second.size:
        raise BadInput("the first checkpoint must be the smaller one")
    prefix = base64.b64decode(doc["prefix_root"], validate=True)
    if prefix == first.root:
        raise Refused("the larger tree begins with the smaller one: no fork")
    proof = [base64.b64decode(h, validate=True) for h in doc["proof"]]
    try:
        check_consistency(first.size, second.size, proof, prefix, second.root)
    except ProofError as e:
        raise Refused(f"the evidence does not hold: {e}") from e
    return SplitView(first, second, prefix)
