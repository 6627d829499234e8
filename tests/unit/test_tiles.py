"""Tile names, the tiles of a tree, and entry bundles as c2sp.org/tlog-tiles defines them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.errors import BadInput
from ledger.integrity.tiles import Tile, bundle, parse_tile_path, tiles_for, unbundle


def test_tile_paths_are_written_as_the_spec_writes_them() -> None:
    assert Tile(0, 1234067).path() == "tile/0/x001/x234/067"
    assert Tile(0, 0).path() == "tile/0/000"
    assert Tile(2, 5, 17).path() == "tile/2/005.p/17"
    assert Tile(None, 1000).path() == "tile/entries/x001/000"
    assert Tile(None, 3, 112).path() == "tile/entries/003.p/112"


@given(st.one_of(st.none(), st.integers(0, 63)), st.integers(0, 10**12), st.integers(1, 256))
def test_a_tile_path_reads_back_as_the_tile(level: int | None, index: int, width: int) -> None:
    tile = Tile(level, index, width)
    assert parse_tile_path(tile.path()) == tile


@pytest.mark.parametrize(
    "path",
    [
        "tile/0/1234067",  # not in 3-digit elements
        "tile/0/x001/234067",
        "tile/0/001/234",  # x missing before a non-final element
        "tile/00/000",  # leading zero in the level
        "tile/64/000",
        "tile/0/000.p/0",
        "tile/0/000.p/256",
        "tile/0/000.p/017",
        "tile/0/000.p/",
        "tile/0/x000/001",  # a leading zero element
        "tile/1/../000",
        "tiles/0/000",
        "tile/entries/00a",
    ],
)
def test_a_malformed_tile_path_is_refused(path: str) -> None:
    with pytest.raises(BadInput):
        parse_tile_path(path)


def test_a_tree_of_70000_leaves_has_the_tiles_the_spec_lists() -> None:
    tiles = [t for t in tiles_for(70_000) if t.level is not None]
    assert len([t for t in tiles if t.level == 0 and t.full]) == 273
    assert [t for t in tiles if t.level == 0 and not t.full] == [Tile(0, 273, 112)]
    assert [t for t in tiles if t.level == 1] == [Tile(1, 0), Tile(1, 1, 17)]
    assert [t for t in tiles if t.level == 2] == [Tile(2, 0, 1)]
    bundles = [t for t in tiles_for(70_000) if t.level is None]
    assert len(bundles) == 274 and bundles[-1] == Tile(None, 273, 112)


def test_a_tree_of_256_leaves_has_one_full_tile_and_a_partial_one_above() -> None:
    assert list(tiles_for(256)) == [Tile(0, 0), Tile(None, 0), Tile(1, 0, 1)]
    assert list(tiles_for(0)) == []


@given(st.lists(st.binary(max_size=300), max_size=20))
def test_an_entry_bundle_reads_back_as_its_entries(entries: list[bytes]) -> None:
    assert unbundle(bundle(entries)) == entries


def test_a_truncated_bundle_is_refused_and_a_huge_entry_does_not_fit() -> None:
    data = bundle([b"abc", b"defg"])
    for cut in (1, 4, len(data) - 1):
        with pytest.raises(BadInput):
            unbundle(data[:cut])
    with pytest.raises(ValueError, match="does not fit"):
        bundle([b"x" * 65536])
