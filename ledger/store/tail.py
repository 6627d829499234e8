"""The log's tail as one batch moves it on, kept in memory.

Appending a chunk moves the log's tail: its size, its Merkle frontier, and the stored-level nodes
the chunk completes (whose older children lie in the block in progress at each level). A single
write reads these from the store. A batch holds the write lock from its first chunk to its last,
so nothing else can move the tail meanwhile: `Tail` reads it once when the batch begins and keeps
it from chunk to chunk — no chunk reads anything back, which is what lets PostgreSQL take a
batch's statements in a pipeline (ledger.store.postgres) while the importer plans the next chunk.

Pure: the store's reads come in through `stored` (the same reader a single write uses).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ledger.integrity.merkle import NODE_STRIDE, CompactRange, StoredNodes, completed_nodes


def _levels(size: int) -> range:
    """The stored levels with at least one complete node in a log of `size` (0: the leaves)."""
    return range(0, max(size.bit_length(), 1), NODE_STRIDE)


@dataclass
class Tail:
    """Tail is the log's size and frontier, and each stored level's block in progress (its
    hashes by index), as a batch appends."""

    size: int
    frontier: CompactRange
    recent: dict[int, dict[int, bytes]] = field(default_factory=dict)

    @classmethod
    def read(cls, size: int, frontier: CompactRange, stored: StoredNodes) -> Tail:
        """read takes the tail of a log of `size`: at each stored level, the complete nodes of
        the block in progress (where the store has them: a log older than its nodes has not)."""
        tail = cls(size, frontier)
        for level in _levels(size):
            count = size >> level
            start = (count >> NODE_STRIDE) << NODE_STRIDE
            hashes = stored(level, start, count) if start < count else []
            if hashes is not None:
                tail.recent[level] = dict(enumerate(hashes, start=start))
        return tail

    def advance(self, leaves: Sequence[bytes], stored: StoredNodes, *, nodes: bool) -> list[tuple[int, int, bytes]]:
        """advance appends `leaves`: the frontier moves on, and (with `nodes`) the stored-level
        nodes they complete are returned, read from what the tail keeps (from `stored` only for
        what it does not)."""

        def kept(level: int, lo: int, hi: int) -> list[bytes] | None:
            have = self.recent.get(level, {})
            if all(i in have for i in range(lo, hi)):
                return [have[i] for i in range(lo, hi)]
            return stored(level, lo, hi)

        made = completed_nodes(self.size, leaves, kept) if nodes else []
        self.frontier = self.frontier.extend(leaves)
        self.recent.setdefault(0, {}).update(enumerate(leaves, start=self.size))
        for level, index, node in made:
            self.recent.setdefault(level, {})[index] = node
        self.size += len(leaves)
        for level, hashes in self.recent.items():  # only the block in progress is ever read again
            start = ((self.size >> level) >> NODE_STRIDE) << NODE_STRIDE
            for index in [i for i in hashes if i < start]:
                del hashes[index]
        return made
