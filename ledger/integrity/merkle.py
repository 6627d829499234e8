"""Merkle tree hashing of RFC 9162 (§2.1), and the compact range that appends in O(log n).

Pure functions, no I/O. A leaf is SHA-256(0x00 ‖ data); an interior node SHA-256(0x01 ‖ l ‖ r);
the tree over n leaves splits at the largest power of two below n.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """leaf_hash is the RFC 9162 hash of one leaf's data."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """node_hash is the RFC 9162 hash of an interior node."""
    return hashlib.sha256(b"\x01" + left + right).digest()


@dataclass(frozen=True)
class CompactRange:
    """CompactRange is the right frontier of a tree of `size` leaves: the roots of its perfect
    subtrees, largest first — one per set bit of `size`. It is enough to append a leaf and to
    compute the root, without the leaves themselves."""

    size: int = 0
    hashes: tuple[bytes, ...] = ()

    def append(self, leaf: bytes) -> CompactRange:
        """append returns the frontier after one more leaf hash; O(log n)."""
        hashes = list(self.hashes)
        node = leaf
        size = self.size
        # Each trailing 1 bit of the old size is a perfect subtree the new leaf completes.
        while size & 1:
            node = node_hash(hashes.pop(), node)
            size >>= 1
        hashes.append(node)
        return CompactRange(self.size + 1, tuple(hashes))

    def extend(self, leaves: Sequence[bytes]) -> CompactRange:
        """extend appends many leaf hashes in order."""
        out = self
        for leaf in leaves:
            out = out.append(leaf)
        return out

    def root(self) -> bytes:
        """root is the tree hash of the `size` leaves appended (EMPTY_ROOT for none)."""
        if not self.hashes:
            return EMPTY_ROOT
        node = self.hashes[-1]
        for left in reversed(self.hashes[:-1]):
            node = node_hash(left, node)
        return node


def levels_of(size: int) -> list[int]:
    """levels_of gives the height of each frontier subtree of a tree of `size`, largest first."""
    return [bit for bit in reversed(range(size.bit_length())) if size >> bit & 1]
