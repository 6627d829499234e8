"""The ledger's log: the canonical bytes of an event at a position, and its leaf hash.

Specified in docs/integrity.md so that a third party can recompute every leaf from an export
of the event table without this code. Pure: no I/O.
"""

from __future__ import annotations

from ledger.integrity.merkle import leaf_hash

CANONICAL_PREFIX = b"mission-ledger/leaf/v1\n"


def canonical_bytes(position: int, stream_id: str, version: int, topic: str, state: bytes) -> bytes:
    """canonical_bytes is what leaf `position` hashes: a fixed header line, then position,
    stream id, stream version and event type, one per line, then the stored event bytes
    (which carry recorded_at, actor, source and reason) exactly as stored."""
    for what, text in (("stream id", stream_id), ("event type", topic)):
        if "\n" in text:
            raise ValueError(f"{what} {text!r} contains a newline")
    header = f"{position}\n{stream_id}\n{version}\n{topic}\n".encode()
    return CANONICAL_PREFIX + header + state


def event_leaf(position: int, stream_id: str, version: int, topic: str, state: bytes) -> bytes:
    """event_leaf is the RFC 9162 leaf hash of an event at its ledger position."""
    return leaf_hash(canonical_bytes(position, stream_id, version, topic, state))
