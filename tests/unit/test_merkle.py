"""RFC 9162 hashing and proofs: the upstream vectors, a naive recursive tree hash, and an
independent verifier written from the RFC text (not from the project's code)."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.integrity.merkle import (
    BLOCK,
    EMPTY_ROOT,
    NODE_STRIDE,
    CompactRange,
    ProofError,
    check_consistency,
    check_inclusion,
    completed_nodes,
    leaf_hash,
    nodes_of,
    prove_consistency,
    prove_inclusion,
    root_of,
)
from tests.conftest import examples

VECTORS = Path(__file__).resolve().parents[1] / "fixtures" / "rfc9162"


def b64(text: str | None) -> bytes:
    return base64.b64decode(text or "")


def cases(kind: str) -> list[Path]:
    return sorted((VECTORS / kind).rglob("*.json"))


def test_all_196_vector_files_are_here() -> None:
    assert len(cases("inclusion")) + len(cases("consistency")) == 196


@pytest.mark.parametrize("path", cases("inclusion"), ids=lambda p: str(p.relative_to(VECTORS)))
def test_inclusion_vectors(path: Path) -> None:
    case = json.loads(path.read_text())
    args = (
        case["leafIdx"],
        case["treeSize"],
        b64(case["leafHash"]),
        [b64(p) for p in case["proof"] or []],
        b64(case["root"]),
    )
    if case["wantErr"]:
        with pytest.raises(ProofError):
            check_inclusion(*args)
    else:
        check_inclusion(*args)


@pytest.mark.parametrize("path", cases("consistency"), ids=lambda p: str(p.relative_to(VECTORS)))
def test_consistency_vectors(path: Path) -> None:
    case = json.loads(path.read_text())
    args = (case["size1"], case["size2"], [b64(p) for p in case["proof"] or []], b64(case["root1"]), b64(case["root2"]))
    if case["wantErr"]:
        with pytest.raises(ProofError):
            check_consistency(*args)
    else:
        check_consistency(*args)


# --- an independent reference, from RFC 9162 §2.1.1 (recursive MTH) ---------------------------


def naive_mth(leaves: list[bytes]) -> bytes:
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + naive_mth(leaves[:k]) + naive_mth(leaves[k:])).digest()


def rfc_path(m: int, data: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]) exactly as RFC 9162 §2.1.3.1 writes it."""
    n = len(data)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return rfc_path(m, data[:k]) + [naive_mth(data[k:])]
    return rfc_path(m - k, data[k:]) + [naive_mth(data[:k])]


def rfc_subproof(m: int, data: list[bytes], b: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) exactly as RFC 9162 §2.1.4.1 writes it."""
    n = len(data)
    if m == n:
        return [] if b else [naive_mth(data)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return rfc_subproof(m, data[:k], b) + [naive_mth(data[k:])]
    return rfc_subproof(m - k, data[k:], False) + [naive_mth(data[:k])]


def test_the_eight_leaf_tree_of_the_vectors() -> None:
    leaves = [
        bytes.fromhex(h)
        for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f")
    ]
    assert (
        root_of([leaf_hash(x) for x in leaves]).hex()
        == "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
    )
    assert CompactRange().root() == EMPTY_ROOT


@settings(max_examples=examples(60), deadline=None)
@given(st.integers(0, 1100))
def test_compact_range_root_equals_the_naive_tree_hash(size: int) -> None:
    data = [i.to_bytes(4, "big") for i in range(size)]
    assert CompactRange().extend([leaf_hash(d) for d in data]).root() == naive_mth(data)


@settings(max_examples=examples(80), deadline=None)
@given(st.integers(1, 300).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n - 1), st.integers(1, n))))
def test_proofs_equal_the_rfc_definitions_and_verify(args: tuple[int, int, int]) -> None:
    size, index, old = args
    data = [i.to_bytes(3, "big") for i in range(size)]
    leaves = [leaf_hash(d) for d in data]

    def subtree(a: int, b: int) -> bytes:
        return root_of(leaves[a:b])

    root = naive_mth(data)
    proof = prove_inclusion(index, size, subtree)
    assert proof == rfc_path(index, data)
    check_inclusion(index, size, leaves[index], proof, root)
    consistency = prove_consistency(old, size, subtree)
    assert consistency == rfc_subproof(old, data, True)
    check_consistency(old, size, consistency, naive_mth(data[:old]), root)
    if size > 1:
        with pytest.raises(ProofError):
            check_inclusion(index, size, leaves[(index + 1) % size], proof, root)


# --- stored interior nodes ------------------------------------------------------------------------


def _appended_in_batches(leaves: list[bytes], cuts: list[int]) -> dict[tuple[int, int], bytes]:
    """Append `leaves` in batches ending at `cuts`, storing what completed_nodes gives, as the log does."""
    stored: dict[tuple[int, int], bytes] = {}

    def read(level: int, lo: int, hi: int) -> list[bytes] | None:
        got = [leaves[i] if level == 0 else stored.get((level, i)) for i in range(lo, hi)]
        return None if any(h is None for h in got) else got  # type: ignore[misc]

    size = 0
    for cut in [*sorted(set(cuts)), len(leaves)]:
        if cut <= size:
            continue
        for level, index, node in completed_nodes(size, leaves[size:cut], read):
            assert (level, index) not in stored, "a node is stored once"
            stored[(level, index)] = node
        size = cut
    return stored


@settings(max_examples=examples(60), deadline=None)
@given(st.integers(0, 2600).flatmap(lambda n: st.tuples(st.just(n), st.lists(st.integers(0, n), max_size=12))))
def test_nodes_stored_batch_by_batch_are_the_roots_of_their_blocks(args: tuple[int, list[int]]) -> None:
    size, cuts = args
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(size)]
    stored = _appended_in_batches(leaves, cuts)
    assert stored == {(level, index): node for level, index, node in nodes_of(leaves)}
    assert sorted(stored) == [(NODE_STRIDE, b) for b in range(size // BLOCK)]
    for (level, index), node in stored.items():
        assert node == root_of(leaves[index << level : (index + 1) << level])


def test_second_level_nodes_cover_65536_leaves_and_survive_a_missing_history() -> None:
    size = (1 << 2 * NODE_STRIDE) + 300
    leaves = [hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(size)]
    stored = _appended_in_batches(leaves, [1, 255, 256, 40_000, 65_535, 65_536, 65_537])
    assert stored[(2 * NODE_STRIDE, 0)] == root_of(leaves[: 1 << 16])
    assert len(stored) == size // BLOCK + 1
    # A log older than its nodes table: the first block's children are not stored, so that block
    # (and the second-level node above it) is left out instead of being stored wrong.
    older = completed_nodes(100, leaves[100:600], lambda level, lo, hi: None)
    assert older == [(NODE_STRIDE, 1, root_of(leaves[256:512]))]
