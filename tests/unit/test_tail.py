"""A batch keeps the log's tail in memory (ledger.store.tail): chunk after chunk it must store the
nodes and frontier a log built leaf by leaf has, without reading anything back from the store."""

from __future__ import annotations

import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.integrity.merkle import CompactRange, nodes_of
from ledger.store.tail import Tail
from tests.conftest import examples


def leaf(i: int) -> bytes:
    return hashlib.sha256(i.to_bytes(8, "big")).digest()


@settings(max_examples=examples(200), deadline=None)
@given(start=st.integers(0, 70_000), chunks=st.lists(st.integers(1, 3_000), min_size=1, max_size=5))
def test_a_batch_completes_the_nodes_a_log_built_leaf_by_leaf_completes(start: int, chunks: list[int]) -> None:
    leaves = [leaf(i) for i in range(start + sum(chunks))]
    before = {(level, index): node for level, index, node in nodes_of(leaves[:start])}

    def stored(level: int, lo: int, hi: int) -> list[bytes] | None:
        """The store before the batch: its leaves and nodes, nothing of the batch."""
        if level == 0:
            return leaves[lo:hi] if hi <= start else None
        found = [before.get((level, i)) for i in range(lo, hi)]
        return None if None in found else found  # type: ignore[return-value]

    tail = Tail.read(start, CompactRange().extend(leaves[:start]), stored)
    reads: list[tuple[int, int, int]] = []

    def counted(level: int, lo: int, hi: int) -> list[bytes] | None:
        reads.append((level, lo, hi))
        return stored(level, lo, hi)

    made = []
    size = start
    for n in chunks:
        made += tail.advance(leaves[size : size + n], counted, nodes=True)
        size += n
    assert made == [node for node in nodes_of(leaves) if (node[0], node[1]) not in before]
    assert tail.frontier == CompactRange().extend(leaves) and tail.size == len(leaves)
    assert reads == []  # the batch read the tail once, when it began
