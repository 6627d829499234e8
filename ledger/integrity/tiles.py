"""The log as C2SP tiles (c2sp.org/tlog-tiles): names, contents, and their checks.

A tile is 256 consecutive hashes of one level of the Merkle tree, served or stored under
`tile/<L>/<N>[.p/<W>]`: at level 0 the leaf hashes, at level L the roots of the full tiles of
level L-1 — exactly the nodes the ledger already keeps every 8 levels (`ledger_nodes`), so a
tile is read, never computed. An entry bundle `tile/entries/<N>[.p/<W>]` holds the entries a
level-0 tile hashes: here each event's canonical leaf bytes (docs/integrity.md), each prefixed
by its length as a big-endian uint16. Anyone holding the tiles of a signed checkpoint can
compute any inclusion or consistency proof, and check every leaf, without this program.

Names and bundles are pure functions; `read_tile` reads one from the store.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Final, Protocol

from ledger.errors import BadInput, Refused
from ledger.integrity.leaf import canonical_bytes
from ledger.integrity.merkle import CompactRange, leaf_hash, perfect_root
from ledger.store.contract import LoggedEvent

#: Hashes in a full tile; a tile spans 8 levels of the tree.
WIDTH: Final = 256
HEIGHT: Final = 8
HASH_BYTES: Final = 32
#: The largest entry a bundle can carry (its length is a uint16).
MAX_ENTRY: Final = 0xFFFF
_INDEX: Final = re.compile(r"(?:x\d{3}/)*\d{3}")
_NUMBER: Final = re.compile(r"0|[1-9][0-9]*")


@dataclass(frozen=True)
class Tile:
    """Tile names one tile: a level (None: an entry bundle), its index in the level, and its width
    (WIDTH: full; fewer: the partial tile of a tree whose size ends inside it)."""

    level: int | None
    index: int
    width: int = WIDTH

    @property
    def full(self) -> bool:
        """full is true for a tile of 256 hashes (immutable once the log has them)."""
        return self.width == WIDTH

    def path(self) -> str:
        """path is the tile's name: tile/<L>/<N>[.p/<W>], tile/entries/<N>[.p/<W>]."""
        digits = f"{self.index:d}"
        digits = "0" * (-len(digits) % 3) + digits
        parts = [digits[i : i + 3] for i in range(0, len(digits), 3)]
        index = "/".join([*(f"x{p}" for p in parts[:-1]), parts[-1]])
        where = "entries" if self.level is None else str(self.level)
        return f"tile/{where}/{index}" + ("" if self.full else f".p/{self.width}")


def parse_tile_path(path: str) -> Tile:
    """parse_tile_path reads a tile's name as tlog-tiles writes it, strictly: no leading zeros in
    the level or the width, three digits per index element, `x` on all but the last; BadInput
    otherwise."""
    rest = path.removeprefix("/")
    if not rest.startswith("tile/"):
        raise BadInput(f"{path!r} is not a tile (tile/<L>/<N>[.p/<W>])")
    where, _, rest = rest.removeprefix("tile/").partition("/")
    index, _, partial = rest.partition(".p/")
    if not _INDEX.fullmatch(index) or (rest.count(".p/") and not partial):
        raise BadInput(f"{path!r}: the tile index must be 3-digit elements, x before all but the last")
    number = int(index.replace("x", "").replace("/", ""))
    if len(index) > 3 and index.startswith("x000"):
        raise BadInput(f"{path!r}: the tile index has leading zero elements")
    width = WIDTH
    if partial:
        if not _NUMBER.fullmatch(partial) or not 1 <= int(partial) < WIDTH:
            raise BadInput(f"{path!r}: a partial tile's width is 1 to 255, without leading zeros")
        width = int(partial)
    if where == "entries":
        return Tile(None, number, width)
    if not _NUMBER.fullmatch(where) or int(where) > 63:
        raise BadInput(f"{path!r}: the tile level is 0 to 63, without leading zeros")
    return Tile(int(where), number, width)


def tiles_for(size: int) -> Iterator[Tile]:
    """tiles_for names every tile (and entry bundle) of a tree of `size` leaves: the full ones
    and, at each level, the partial one its size ends in. Level by level, from the leaves."""
    level = 0
    while WIDTH**level <= size:
        span = WIDTH ** (level + 1)
        partial = (size // WIDTH**level) % WIDTH
        for index in range(size // span):
            yield Tile(level, index)
            if level == 0:
                yield Tile(None, index)
        if partial:
            yield Tile(level, size // span, partial)
            if level == 0:
                yield Tile(None, size // span, partial)
        level += 1


def bundle(entries: Sequence[bytes]) -> bytes:
    """bundle is an entry bundle: each entry prefixed by its length (big-endian uint16)."""
    out = bytearray()
    for entry in entries:
        if len(entry) > MAX_ENTRY:
            raise ValueError(f"an entry of {len(entry)} bytes does not fit an entry bundle (at most {MAX_ENTRY})")
        out += struct.pack(">H", len(entry)) + entry
    return bytes(out)


def unbundle(data: bytes) -> list[bytes]:
    """unbundle reads an entry bundle back into its entries; BadInput for a truncated one."""
    entries, at = [], 0
    while at < len(data):
        if at + 2 > len(data):
            raise BadInput("the entry bundle ends inside an entry's length")
        (length,) = struct.unpack_from(">H", data, at)
        at += 2
        if at + length > len(data):
            raise BadInput("the entry bundle ends inside an entry")
        entries.append(data[at : at + length])
        at += length
    return entries


def hashes_of(data: bytes, tile: Tile) -> list[bytes]:
    """hashes_of splits a hash tile into its hashes; BadInput unless it holds exactly its width."""
    if len(data) != tile.width * HASH_BYTES:
        raise BadInput(f"{tile.path()} holds {len(data)} bytes, not {tile.width} hashes")
    return [data[i : i + HASH_BYTES] for i in range(0, len(data), HASH_BYTES)]


def entry_hashes(data: bytes, tile: Tile) -> list[bytes]:
    """entry_hashes are the leaf hashes of an entry bundle's entries (RFC 6962: SHA-256 of 0x00
    and the entry); BadInput unless it holds exactly its width."""
    entries = unbundle(data)
    if len(entries) != tile.width:
        raise BadInput(f"{tile.path()} holds {len(entries)} entries, not {tile.width}")
    return [leaf_hash(e) for e in entries]


def tile_root(hashes: Sequence[bytes]) -> bytes:
    """tile_root is the hash a full tile stands for in the tile of the level above."""
    return perfect_root(hashes)


class _Store(Protocol):
    def nodes(self, level: int, lo: int, hi: int) -> list[bytes] | None: ...
    def select_log(self, after: int = 0, limit: int = 1000) -> list[LoggedEvent]: ...
    def log_size(self) -> int: ...


def read_tile(store: _Store, tile: Tile) -> bytes | None:
    """read_tile is a tile's bytes as the ledger holds them, or None when the log does not reach
    its end (or, for a level above 0, a ledger older than its stored nodes does not hold them)."""
    first = tile.index * WIDTH
    if tile.level is None:
        if store.log_size() < first + tile.width:
            return None
        page = store.select_log(first, tile.width)
        return bundle([canonical_bytes(e.position, e.stream_id, e.version, e.topic, e.state) for e in page])
    hashes = store.nodes(HEIGHT * tile.level, first, first + tile.width)
    return b"".join(hashes) if hashes is not None else None


def check_tiles(fetch: Callable[[str], bytes | None], size: int, root: bytes) -> int:
    """check_tiles reads every tile of a tree of `size` leaves through `fetch` (a tile's path → its
    bytes, None when missing) and checks that each entry bundle's entries hash to its level-0
    tile, that every tile above holds the roots of the full tiles below it, and that the leaves
    give `root`. Returns how many tiles (bundles included) it read; Refused at the first that
    fails, naming it."""
    leaves = CompactRange()
    roots: dict[int, list[bytes]] = {}  # level → the roots of its full tiles, in order
    level_zero: dict[int, list[bytes]] = {}
    count = 0
    for tile in tiles_for(size):
        data = fetch(tile.path())
        if data is None:
            raise Refused(f"{tile.path()} is missing (a tree of {size} leaves has it)")
        count += 1
        if tile.level is None:
            if entry_hashes(data, tile) != level_zero.pop(tile.index):
                raise Refused(
                    f"{tile.path()}: its entries do not hash to the leaves of {Tile(0, tile.index, tile.width).path()}"
                )
            continue
        hashes = hashes_of(data, tile)
        if tile.level == 0:
            leaves = leaves.extend(hashes)
            level_zero[tile.index] = hashes
        else:
            first = tile.index * WIDTH
            if hashes != roots.get(tile.level - 1, [])[first : first + tile.width]:
                raise Refused(f"{tile.path()} does not hold the roots of the tiles of level {tile.level - 1} below it")
        if tile.full:
            roots.setdefault(tile.level, []).append(tile_root(hashes))
    if leaves.root() != root:
        raise Refused(f"the tiles' {size} leaves give root {leaves.root().hex()}, not the checkpoint's {root.hex()}")
    return count
