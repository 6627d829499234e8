"""Merkle tree hashing of RFC 9162 (§2.1), and the compact range that appends in O(log n).

Pure functions, no I/O. A leaf is SHA-256(0x00 ‖ data); an interior node SHA-256(0x01 ‖ l ‖ r);
the tree over n leaves splits at the largest power of two below n.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
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
        hashes = list(self.hashes)
        size = self.size
        for leaf in leaves:
            node = leaf
            bits = size
            while bits & 1:
                node = node_hash(hashes.pop(), node)
                bits >>= 1
            hashes.append(node)
            size += 1
        return CompactRange(size, tuple(hashes))

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


# --- proofs (RFC 9162 §2.1.3 and §2.1.4) -------------------------------------------------------
#
# Provers take `subtree(start, end)`, the root of leaves [start, end): storage reaches the pure
# core through this one function (as tlog's HashReader), and nothing here trusts it — checkers
# recompute everything from the proof.

SubtreeRoot = Callable[[int, int], bytes]


class ProofError(ValueError):
    """ProofError: a proof does not prove what it claims (or is malformed)."""


def _split_point(n: int) -> int:
    """The largest power of two smaller than n (n ≥ 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def prove_inclusion(index: int, size: int, subtree: SubtreeRoot) -> list[bytes]:
    """prove_inclusion gives the audit path of leaf `index` in the tree of `size` leaves."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of {size}")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = _split_point(end - start)
        if index - start < k:
            path.append(subtree(start + k, end))
            end = start + k
        else:
            path.append(subtree(start, start + k))
            start += k
    path.reverse()
    return path


def check_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes) -> None:
    """check_inclusion raises ProofError unless `proof` shows `leaf` at `index` in the tree of
    `size` leaves whose root is `root` (the algorithm of RFC 9162 §2.1.3.2)."""
    if index < 0 or index >= size:
        raise ProofError(f"leaf index {index} is not below the tree size {size}")
    _check_hashes(leaf, root, *proof)
    r = leaf
    for sibling, left in _chain(index, size - 1, proof, "tree is"):
        r = node_hash(sibling, r) if left else node_hash(r, sibling)
    if r != root:
        raise ProofError("the proof does not lead to the root")


def prove_consistency(old_size: int, size: int, subtree: SubtreeRoot) -> list[bytes]:
    """prove_consistency shows the tree of `old_size` leaves is a prefix of the one of `size`."""
    if not 0 < old_size <= size:
        raise ProofError(f"no consistency proof from size {old_size} to size {size}")
    proof: list[bytes] = []

    def sub(m: int, start: int, end: int, whole: bool) -> None:
        n = end - start
        if m == n:
            if not whole:
                proof.append(subtree(start, end))
            return
        k = _split_point(n)
        if m <= k:
            sub(m, start, start + k, whole)
            proof.append(subtree(start + k, end))
        else:
            sub(m - k, start + k, end, False)
            proof.append(subtree(start, start + k))

    sub(old_size, 0, size, True)
    return proof


def check_consistency(old_size: int, size: int, proof: Sequence[bytes], old_root: bytes, root: bytes) -> None:
    """check_consistency raises ProofError unless `proof` shows the tree (old_size, old_root) is
    a prefix of (size, root) (RFC 9162 §2.1.4.2; a proof from the empty tree proves nothing)."""
    if old_size == 0:
        raise ProofError("a consistency proof from the empty tree proves nothing")
    if size < old_size:
        raise ProofError(f"the new size {size} is smaller than the old size {old_size}")
    if old_size == size:
        if proof:
            raise ProofError("trees of equal size need an empty proof")
        if old_root != root:
            raise ProofError("trees of equal size have different roots")
        return
    if not proof:
        raise ProofError("the proof is empty")
    _check_hashes(old_root, root, *proof)
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for sibling, left in _chain(fn, sn, path[1:], "trees are"):
        if left:
            fr = node_hash(sibling, fr)
            sr = node_hash(sibling, sr)
        else:
            sr = node_hash(sr, sibling)
    if fr != old_root:
        raise ProofError("the proof does not lead to the old root")
    if sr != root:
        raise ProofError("the proof does not lead to the new root")


def _chain(fn: int, sn: int, path: Sequence[bytes], what: str) -> Iterator[tuple[bytes, bool]]:
    """The walk RFC 9162's inclusion and consistency checks share (§2.1.3.2, §2.1.4.2): each hash
    of `path` with whether it is the left sibling, from the node at index `fn` of the last index
    `sn` up to the root; a path longer or shorter than the tree is deep is refused."""
    for sibling in path:
        if sn == 0:
            raise ProofError(f"the proof is longer than the {what} deep")
        if fn & 1 or fn == sn:
            yield sibling, True
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            yield sibling, False
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError(f"the proof is shorter than the {what} deep")


def _check_hashes(*hashes: bytes) -> None:
    for h in hashes:
        if len(h) != HASH_SIZE:
            raise ProofError(f"a hash of {len(h)} bytes is not a SHA-256 hash")


# --- stored interior nodes (tlog's tiles, one hash per tile) --------------------------------------
#
# Proofs need the roots of large subtrees. Recomputing them from the leaves is O(n); the log
# therefore also stores the root of every complete, aligned block of 2^NODE_STRIDE nodes of the
# level below, at levels NODE_STRIDE, 2·NODE_STRIDE, … A subtree root then costs at most
# 2^NODE_STRIDE stored hashes per level of the proof, O(log n) in all. Stored nodes are a
# cache the checkers never trust: a proof is checked against the signed root.

NODE_STRIDE = 8
BLOCK = 1 << NODE_STRIDE

#: Reads stored hashes at `level` (0: leaves) for indexes [lo, hi); None when any is missing.
StoredNodes = Callable[[int, int, int], "list[bytes] | None"]


def perfect_root(hashes: Sequence[bytes]) -> bytes:
    """perfect_root is the root over a power-of-two count of sibling hashes."""
    level = list(hashes)
    while len(level) > 1:
        level = [node_hash(level[i], level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


def completed_nodes(size: int, leaves: Sequence[bytes], stored: StoredNodes) -> list[tuple[int, int, bytes]]:
    """completed_nodes gives (level, index, hash) of the stored-level nodes that appending
    `leaves` to a log of `size` completes; the block straddling `size` reads its older children
    through `stored` (and is left out when they are missing: a log older than its nodes)."""
    new_size = size + len(leaves)
    fresh: dict[int, dict[int, bytes]] = {0: {}}
    out: list[tuple[int, int, bytes]] = []
    level = NODE_STRIDE
    while (1 << level) <= new_size:
        child = level - NODE_STRIDE
        fresh[level] = {}
        for b in range(size >> level, new_size >> level):
            lo, hi = b << NODE_STRIDE, (b + 1) << NODE_STRIDE
            first_new = size >> child if child else size  # the first child index made by this append
            kids: list[bytes] | None = []
            if lo < first_new:
                kids = stored(child, lo, first_new)
            if kids is not None:
                if child == 0:
                    kids += leaves[max(lo, size) - size : hi - size]
                else:
                    kids += [fresh[child][i] for i in range(max(lo, first_new), hi) if i in fresh[child]]
            if kids is None or len(kids) != BLOCK:
                continue
            node = perfect_root(kids)
            fresh[level][b] = node
            out.append((level, b, node))
        level += NODE_STRIDE
    return out


class NodeBuilder:
    """NodeBuilder is fed a log's leaves in order and gives back, as each completes, the
    (level, index, hash) of the stored-level nodes (what `verify` compares the stored ones with)."""

    def __init__(self) -> None:
        self.pending: dict[int, list[bytes]] = {}
        self.counts: dict[int, int] = {}

    def add(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """add takes the next leaf; returns the nodes it completes (mostly none)."""
        out: list[tuple[int, int, bytes]] = []
        level, node = 0, leaf
        while True:
            row = self.pending.setdefault(level, [])
            row.append(node)
            if len(row) < BLOCK:
                return out
            node = perfect_root(row)
            row.clear()
            level += NODE_STRIDE
            index = self.counts.get(level, 0)
            self.counts[level] = index + 1
            out.append((level, index, node))


def nodes_of(leaves: Iterable[bytes]) -> list[tuple[int, int, bytes]]:
    """nodes_of lists every stored-level node of a log with these leaves."""
    builder = NodeBuilder()
    return [node for leaf in leaves for node in builder.add(leaf)]


def root_of(leaves: Sequence[bytes]) -> bytes:
    """root_of is the tree hash of the given leaf hashes."""
    return CompactRange().extend(leaves).root()
