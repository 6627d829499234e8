"""A witness's decision (c2sp.org/tlog-witness add-checkpoint), cosignatures (tlog-cosignature/v1)
and the policy a verifier holds checkpoints to — pure, over a real Merkle tree."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.errors import BadInput
from ledger.integrity.checkpoint import Checkpoint, SignatureError, Signer
from ledger.integrity.merkle import leaf_hash, prove_consistency, root_of
from ledger.integrity.witness import (
    AddCheckpoint,
    Policy,
    Witness,
    parse_add_checkpoint,
    parse_witness,
    parse_witness_key,
    with_cosignatures,
    witness_verdict,
)

LOG = Signer.generate("example.org/log")
LEAVES = [leaf_hash(b"event %d" % i) for i in range(600)]
FORKED = LEAVES[:300] + [leaf_hash(b"other %d" % i) for i in range(300, 600)]


def note(size: int, leaves: list[bytes] = LEAVES, signer: Signer = LOG) -> str:
    return signer.sign(Checkpoint("example.org/log", size, root_of(leaves[:size])).text())


def proof(old: int, size: int, leaves: list[bytes] = LEAVES) -> tuple[bytes, ...]:
    def subtree(start: int, end: int) -> bytes:
        return root_of(leaves[start:end])

    return tuple(prove_consistency(old, size, subtree)) if 0 < old < size else ()


LOGS = {"example.org/log": LOG.verifier()}


def test_a_first_checkpoint_is_cosigned_and_the_next_needs_a_proof_from_it() -> None:
    first = witness_verdict(AddCheckpoint(0, (), note(300)), LOGS, None)
    assert first.status == 200 and first.checkpoint is not None and first.checkpoint.size == 300
    last = (300, root_of(LEAVES[:300]))
    assert witness_verdict(AddCheckpoint(300, proof(300, 500), note(500)), LOGS, last).status == 200
    assert witness_verdict(AddCheckpoint(300, (), note(300)), LOGS, last).status == 200  # the same again


def test_a_stale_size_is_409_with_the_witness_size() -> None:
    verdict = witness_verdict(AddCheckpoint(0, (), note(500)), LOGS, (300, root_of(LEAVES[:300])))
    assert (verdict.status, verdict.size) == (409, 300)


def test_a_fork_is_refused_whatever_its_size() -> None:
    last = (400, root_of(LEAVES[:400]))
    same_size = witness_verdict(AddCheckpoint(400, (), note(400, FORKED)), LOGS, last)
    assert same_size.status == 409 and "second root" in same_size.why
    # The forked branch cannot prove it extends what was cosigned: its proof leads elsewhere.
    larger = witness_verdict(AddCheckpoint(400, proof(400, 600, FORKED), note(600, FORKED)), LOGS, last)
    assert larger.status == 422


def test_what_the_spec_refuses_before_looking_at_the_tree() -> None:
    other_log = Signer.generate("example.org/log")
    assert witness_verdict(AddCheckpoint(0, (), note(10, signer=other_log)), LOGS, None).status == 403
    unknown = Signer.generate("example.org/other").sign(Checkpoint("example.org/other", 1, LEAVES[0]).text())
    assert witness_verdict(AddCheckpoint(0, (), unknown), LOGS, None).status == 404
    assert witness_verdict(AddCheckpoint(20, (), note(10)), LOGS, None).status == 400
    assert witness_verdict(AddCheckpoint(0, proof(5, 10), note(10)), LOGS, None).status == 422


@given(st.integers(1, 599), st.integers(1, 600))
def test_a_proof_from_the_cosigned_size_is_accepted_exactly_when_the_tree_extends(old: int, size: int) -> None:
    last = (old, root_of(LEAVES[:old]))
    if size < old:
        assert witness_verdict(AddCheckpoint(old, (), note(size)), LOGS, last).status == 400
        return
    assert witness_verdict(AddCheckpoint(old, proof(old, size), note(size)), LOGS, last).status == 200
    if size > 300 and old > 300:  # a branch that differs before the cosigned size
        assert witness_verdict(AddCheckpoint(old, proof(old, size, FORKED), note(size, FORKED)), LOGS, last).status in (
            409,
            422,
        )


def test_a_cosignature_verifies_by_its_key_only_and_names_its_time() -> None:
    witness = Witness.generate("witness.example/w1")
    text = note(300).split("\n\n")[0] + "\n"
    cosigned = with_cosignatures(note(300), [witness.cosign(text, 1_700_000_000)])
    assert witness.key.cosigned_at(cosigned) == 1_700_000_000
    policy = Policy(LOG.verifier(), (witness.key,), 1)
    assert policy.check(cosigned) == text and policy.cosigners(cosigned) == [("witness.example/w1", 1_700_000_000)]
    with pytest.raises(SignatureError, match="cosigned by 0 of the 1"):
        policy.check(note(300))
    stranger = Witness.generate("witness.example/w1")
    with pytest.raises(SignatureError):
        Policy(LOG.verifier(), (stranger.key,), 1).check(cosigned)
    # A cosignature of another checkpoint does not carry over.
    moved = cosigned.replace(text, note(301).split("\n\n")[0] + "\n")
    with pytest.raises(SignatureError):
        witness.key.cosigned_at(moved)


def test_witness_keys_read_back_and_a_log_key_is_not_one() -> None:
    witness = Witness.generate("witness.example/w1")
    assert parse_witness(witness.format()) == witness
    assert parse_witness_key(witness.key.format()) == witness.key
    with pytest.raises(BadInput, match="0x04"):
        parse_witness_key(LOG.verifier().format())


@pytest.mark.parametrize(
    "body",
    [
        b"old 01\n\n",
        b"old -1\n\n",
        b"new 1\n\n",
        b"old 1\nnot base64!\n\nx",
        b"old 1\n" + b"AAAA\n\nx",
        b"old 1" + b"\n" + b"\n".join([b"A" * 43 + b"="] * 64) + b"\n\nx",
        b"old 1\n" + b"\xff" * 10,
        b"old 1\nno blank line",
    ],
)
def test_a_malformed_request_is_400(body: bytes) -> None:
    with pytest.raises(BadInput):
        parse_add_checkpoint(body)


def test_a_request_reads_back_as_sent() -> None:
    request = AddCheckpoint(300, proof(300, 500), note(500))
    assert parse_add_checkpoint(request.body()) == request
    assert hashlib.sha256(request.body()).digest()  # bytes, as sent
