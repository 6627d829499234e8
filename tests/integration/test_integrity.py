"""The verifiable ledger end to end: checkpoints, proofs checked offline, and tamper detection
with raw SQL on a real ledger file (triggers dropped, as a determined operator would)."""

from __future__ import annotations

import base64
import json
import sqlite3
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from ledger.application import MissionLedger
from ledger.domain.values import Fields
from ledger.errors import Refused
from ledger.imports.batch import import_file
from ledger.integrity.audit import LedgerAuditor, check_proof_file
from ledger.integrity.checkpoint import Signer, parse_checkpoint, parse_signer, parse_verifier
from ledger.integrity.leaf import canonical_bytes, event_leaf
from ledger.integrity.merkle import BLOCK, leaf_hash, nodes_of, prove_inclusion, root_of
from tests.conftest import package_data

EVENTS = 100  # 62 LAOs + 31 missions + 7 record events


@pytest.fixture
def signed(ledger: MissionLedger, clock) -> tuple[MissionLedger, Signer, dict[int, str]]:
    """A ledger of 100 events (each backend) with signed checkpoints kept outside it, at sizes 93, 96, 97, 100."""
    return _signed(ledger, clock)


@pytest.fixture
def signed_file(sqlite_ledger: MissionLedger, clock) -> tuple[MissionLedger, Signer, dict[int, str]]:
    """The same, as a SQLite file at db_path, for tests that take the file in hand."""
    return _signed(sqlite_ledger, clock)


def _signed(ledger: MissionLedger, clock) -> tuple[MissionLedger, Signer, dict[int, str]]:
    signer = Signer.generate("krabi-ppao")
    notes: dict[int, str] = {}
    auditor = LedgerAuditor(ledger.ledger_recorder)
    notes[93] = auditor.sign_checkpoint(signer, clock.now())
    for i, (lao, mission) in enumerate([("6810103", "INF-01"), ("4810102", "QOL-03"), ("5810109", "INF-04")]):
        clock.advance(hours=1)
        ledger.record(
            lao,
            mission,
            effective_from=date(2024, 1, 1),
            values=Fields(status="operating", received_fy=2560, quantity=Decimal(i + 1), unit="แห่ง"),
        )
    notes[96] = auditor.sign_checkpoint(signer, clock.now())
    clock.advance(hours=1)
    ledger.correct("6810103", "INF-01", set=Fields(budget=Decimal("1000")), reason="x")
    notes[97] = auditor.sign_checkpoint(signer, clock.now())
    for day in range(1, 4):
        clock.advance(hours=1)
        ledger.change("4810102", "QOL-03", set=Fields(staff=day), effective_from=date(2024, 2, day), reason="y")
    notes[100] = auditor.sign_checkpoint(signer, clock.now())
    assert ledger.ledger_recorder.log_size() == EVENTS
    return ledger, signer, notes


def test_keys_round_trip_and_ids_match(tmp_path: Path) -> None:
    signer = Signer.generate("ทดสอบ-key")
    assert parse_signer(signer.format()) == signer
    verifier = parse_verifier(signer.verifier().format())
    note = signer.sign("origin\n1\n" + "A" * 43 + "=\n")
    assert verifier.check(note).startswith("origin\n")
    other = Signer.generate("ทดสอบ-key").verifier()
    with pytest.raises(Refused, match=r"does not verify|no signature"):
        other.check(note)
    forged = note.replace("origin\n1\n", "origin\n2\n")
    with pytest.raises(Refused, match="does not verify"):
        verifier.check(forged)


@pytest.mark.parametrize(
    "bad",
    [
        "o\n007\n" + "A" * 43 + "=\n\n— k AAAAAAA=\n",
        "o\n7\nAAAA\n\n— k AAAAAAA=\n",
        "o\n7\n" + "A" * 43 + "=\n",
        "\n7\n" + "A" * 43 + "=\n\n— k AAAAAAA=\n",
    ],
)
def test_checkpoint_parser_is_strict(bad: str) -> None:
    from ledger.errors import BadInput

    with pytest.raises(BadInput):
        parse_checkpoint(bad)


def test_checkpoint_commits_to_the_log_and_records_it(signed) -> None:
    ledger, signer, notes = signed
    checkpoint = parse_checkpoint(signer.verifier().check(notes[100]) + "\n— x AAAAAAA=\n")
    assert checkpoint.size == 100 and checkpoint.root == ledger.ledger_recorder.tree().root()
    assert checkpoint.origin == ledger.ledger_recorder.get_meta("origin")
    assert [size for size, _, _ in ledger.ledger_recorder.checkpoints()] == [93, 96, 97, 100]
    report = LedgerAuditor(ledger.ledger_recorder).verify(list(notes.values()), signer.verifier())
    assert report.ok and report.size == 100 and report.signatures == 8


def test_a_leaf_is_the_hash_of_the_documented_canonical_bytes(signed) -> None:
    ledger, _, _ = signed
    row = ledger.ledger_recorder.audit_rows(93, 1)[0]
    position, _, _, leaf, stream, version, topic, state = row
    expected = b"mission-ledger/leaf/v1\n94\nrecord/6810103/INF-01\n1\nrecorded\n" + bytes(state)
    assert canonical_bytes(position, stream, version, topic, bytes(state)) == expected
    assert bytes(leaf) == leaf_hash(expected) == event_leaf(position, stream, version, topic, bytes(state))


def test_inclusion_and_consistency_proofs_check_offline(signed, tmp_path: Path) -> None:
    ledger, signer, notes = signed
    auditor = LedgerAuditor(ledger.ledger_recorder)
    for position in (1, 62, 94, 97, 100):
        doc = auditor.inclusion_proof(position, notes[100])
        result = check_proof_file(json.dumps(doc), signer.verifier())
        assert result.position == position and result.signed
    assert check_proof_file(json.dumps(auditor.inclusion_proof(97, notes[100]))).event["kind"] == "corrected"
    for old, new in ((93, 100), (96, 97), (97, 100), (100, 100)):
        check_proof_file(json.dumps(auditor.consistency_proof(notes[old], notes[new])), signer.verifier())
    # A proof whose event was altered does not hold.
    doc = auditor.inclusion_proof(97, notes[100])
    import base64

    state = json.loads(base64.b64decode(doc["event"]["state"]))
    state["set"]["budget"] = "1000000"
    doc["event"]["state"] = base64.b64encode(json.dumps(state).encode()).decode()
    with pytest.raises(Refused, match="does not hold"):
        check_proof_file(json.dumps(doc), signer.verifier())


def test_proofs_through_the_cli_without_a_ledger(signed_file, db_path: Path, tmp_path: Path) -> None:
    ledger, signer, notes = signed_file
    ledger.close()
    (tmp_path / "k.pub").write_text(signer.verifier().format() + "\n")
    (tmp_path / "c97").write_text(notes[97])
    (tmp_path / "c100").write_text(notes[100])
    run = CliRunner()
    out = run.invoke(
        cli,
        [
            "--db",
            str(db_path),
            "prove",
            "inclusion",
            "95",
            "--checkpoint",
            str(tmp_path / "c100"),
            "--out",
            str(tmp_path / "p.json"),
        ],
    )
    assert out.exit_code == 0, out.output
    out = run.invoke(
        cli,
        [
            "--db",
            str(db_path),
            "prove",
            "consistency",
            "--old",
            str(tmp_path / "c97"),
            "--new",
            str(tmp_path / "c100"),
            "--out",
            str(tmp_path / "q.json"),
        ],
    )
    assert out.exit_code == 0, out.output
    db_path.unlink()  # no ledger at hand
    ok = run.invoke(cli, ["verify-proof", str(tmp_path / "p.json"), "--key", str(tmp_path / "k.pub")])
    assert ok.exit_code == 0 and "event 95 (recorded 4810102/QOL-03" in ok.output and "signature verified" in ok.output
    ok = run.invoke(cli, ["verify-proof", str(tmp_path / "q.json"), "--key", str(tmp_path / "k.pub")])
    assert ok.exit_code == 0 and "at size 100 extends size 97" in ok.output
    other = Signer.generate("mallory")
    (tmp_path / "m.pub").write_text(other.verifier().format())
    bad = run.invoke(cli, ["verify-proof", str(tmp_path / "p.json"), "--key", str(tmp_path / "m.pub")])
    assert bad.exit_code == 1 and "no signature by key mallory" in bad.output


def test_keygen_and_checkpoint_cli(tmp_path: Path) -> None:
    run = CliRunner()
    db = tmp_path / "l.db"
    env = {"MISSION_LEDGER_CLOCK": "2024-11-01"}
    (tmp_path / "k.csv").write_bytes(package_data("krabi_laos.csv"))
    assert run.invoke(cli, ["--db", str(db), "init", "--origin", "dla.go.th/krabi"], env=env).exit_code == 0
    assert run.invoke(cli, ["--db", str(db), "registry", "load", str(tmp_path / "k.csv")], env=env).exit_code == 0
    assert run.invoke(cli, ["keygen", "krabi", "--dir", str(tmp_path)]).exit_code == 0
    assert oct((tmp_path / "krabi.key").stat().st_mode & 0o777) == "0o600"
    again = run.invoke(cli, ["keygen", "krabi", "--dir", str(tmp_path)])
    assert again.exit_code == 1 and "never overwritten" in again.output
    out = run.invoke(cli, ["--db", str(db), "checkpoint", "--key", str(tmp_path / "krabi.key")], env=env)
    assert out.exit_code == 0 and out.output.startswith("dla.go.th/krabi\n62\n")
    ok = run.invoke(cli, ["--db", str(db), "verify", "--key", str(tmp_path / "krabi.pub")], env=env)
    assert ok.exit_code == 0 and ok.output.startswith("ok: 62 events") and "1 signatures" in ok.output


def test_the_store_refuses_update_and_delete(signed_file) -> None:
    ledger, _, _ = signed_file
    con = sqlite3.connect(ledger.ledger_recorder.datastore.pool.db_name)
    for sql in (
        "UPDATE stored_events SET state = state",
        "DELETE FROM stored_events",
        "UPDATE ledger_log SET leaf_hash = leaf_hash",
        "DELETE FROM ledger_log WHERE position = 1",
        "DELETE FROM ledger_checkpoints",
    ):
        with pytest.raises(sqlite3.IntegrityError, match="never changed or removed"):
            con.execute(sql)


def test_a_ledger_never_signs_a_tree_inconsistent_with_its_last_checkpoint(signed_file) -> None:
    ledger, signer, _ = signed_file
    con = _tamperer(ledger)
    con.execute("UPDATE stored_events SET state = replace(state, 'x', 'z') WHERE rowid = 97")
    _rehash_from(con, 97)
    con.commit()
    with pytest.raises(Refused, match="not consistent with the checkpoint signed at size 100"):
        LedgerAuditor(ledger.ledger_recorder).sign_checkpoint(signer, ledger.clock.now())


# --- tampering ---------------------------------------------------------------------------------


def _tamperer(ledger: MissionLedger) -> sqlite3.Connection:
    con = sqlite3.connect(ledger.ledger_recorder.datastore.pool.db_name)
    for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        con.execute(f"DROP TRIGGER {name}")
    return con


def _rehash_from(con: sqlite3.Connection, start: int) -> None:
    """What a careful forger does: recompute every leaf from `start` on, and the frontier."""
    from ledger.integrity.merkle import CompactRange

    rows = con.execute(
        "SELECT l.position, e.originator_id, e.originator_version, e.topic, e.state "
        "FROM ledger_log l JOIN stored_events e ON e.rowid = l.notification_id ORDER BY l.position"
    ).fetchall()
    tree = CompactRange()
    for position, stream, version, topic, state in rows:
        leaf = event_leaf(position, stream, version, topic, state if isinstance(state, bytes) else state.encode())
        if position >= start:
            con.execute("UPDATE ledger_log SET leaf_hash = ? WHERE position = ?", (leaf, position))
        tree = tree.append(leaf)
    con.execute("DELETE FROM ledger_frontier")
    con.executemany("INSERT INTO ledger_frontier VALUES (?, ?)", list(enumerate(tree.hashes)))


def _verify_cli(db: Path, notes: dict[int, str], sizes: tuple[int, ...], folder: Path) -> tuple[int, str]:
    files = []
    for size in sizes:
        path = folder / f"cp{size}"
        path.write_text(notes[size])
        files += ["--checkpoint", str(path)]
    result = CliRunner().invoke(cli, ["--db", str(db), "verify", "--no-signature", *files])
    return result.exit_code, result.output.strip()


TAMPERS = {
    "one byte of one event": (
        "UPDATE stored_events SET state = replace(state, '\"1000\"', '\"9000\"') WHERE rowid = 97",
        None,
        "position 97: changed",
    ),
    "one event deleted": ("DELETE FROM stored_events WHERE rowid = 95", None, "position 95: missing"),
    "two payloads swapped": (
        "UPDATE stored_events SET state = CASE rowid WHEN 98 THEN (SELECT state FROM stored_events WHERE rowid = 99) "
        "ELSE (SELECT state FROM stored_events WHERE rowid = 98) END WHERE rowid IN (98, 99)",
        None,
        "position 98: changed",
    ),
    "two events reordered": (
        "UPDATE ledger_log SET notification_id = CASE position WHEN 94 THEN -96 WHEN 96 THEN -94 END WHERE position IN (94, 96);"
        "UPDATE ledger_log SET notification_id = -notification_id WHERE notification_id < 0",
        None,
        "position 94: reordered",
    ),
    "a forged event inserted": (
        "INSERT INTO stored_events (originator_id, originator_version, topic, state) SELECT 'record/6810103/INF-02', 1, topic, "
        "replace(state, 'INF-01', 'INF-02') FROM stored_events WHERE rowid = 94;"
        "UPDATE ledger_log SET position = position + 1000 WHERE position >= 95;"
        "UPDATE ledger_log SET position = position - 999 WHERE position >= 1000;"
        "INSERT INTO ledger_log SELECT 95, MAX(rowid), NULL, zeroblob(32) FROM stored_events",
        95,
        "position 95: inserted",
    ),
    "the tail truncated": (
        "DELETE FROM stored_events WHERE rowid > 97; DELETE FROM ledger_log WHERE position > 97",
        None,
        "position 98: missing",
    ),
    "leaves replaced consistently with a forged event": (
        "UPDATE stored_events SET state = replace(state, '\"1000\"', '\"9000\"') WHERE rowid = 97",
        1,
        "position 97: changed",
    ),
}


@pytest.mark.parametrize("name", list(TAMPERS))
def test_verify_catches_tampering_and_names_the_position(signed_file, db_path: Path, tmp_path: Path, name: str) -> None:
    ledger, _, notes = signed_file
    ledger.close()
    clean_code, clean = _verify_cli(db_path, notes, (93, 96, 97, 100), tmp_path)
    assert clean_code == 0 and clean.startswith("ok: 100 events"), clean
    sql, rehash_from, expected = TAMPERS[name]
    con = sqlite3.connect(db_path)
    for (trigger,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        con.execute(f"DROP TRIGGER {trigger}")
    con.executescript(sql)
    if rehash_from is not None:
        _rehash_from(con, rehash_from)
        # The forger also rewrites the ledger's own checkpoint history; only the copies held
        # outside the ledger remain.
        con.execute("DELETE FROM ledger_checkpoints")
    con.commit()
    con.close()
    code, output = _verify_cli(db_path, notes, (93, 96, 97, 100), tmp_path)
    assert code == 1, output
    assert output.startswith(f"Error: verify failed at {expected}"), output
    assert "Traceback" not in output


def test_as_of_a_checkpoint_reproduces_the_report_byte_for_byte(signed_file, db_path: Path, tmp_path: Path) -> None:
    ledger, _, notes = signed_file
    ledger.close()
    (tmp_path / "c96").write_text(notes[96])
    run = CliRunner()
    args = ["--db", str(db_path), "as-of", "--checkpoint", str(tmp_path / "c96"), "--csv"]
    first = run.invoke(cli, args)
    assert first.exit_code == 0, first.output
    assert [line.split(",")[:2] for line in first.output.splitlines()[1:]] == [
        ["4810102", "QOL-03"],
        ["5810109", "INF-04"],
        ["6810103", "INF-01"],
    ]
    assert "1000" not in first.output  # the correction at position 97 came after the checkpoint
    assert run.invoke(cli, args).output == first.output
    # A ledger that no longer matches the checkpoint is refused.
    con = sqlite3.connect(db_path)
    for (trigger,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        con.execute(f"DROP TRIGGER {trigger}")
    con.execute("UPDATE ledger_log SET leaf_hash = zeroblob(32) WHERE position = 3")
    con.commit()
    refused = run.invoke(cli, args)
    assert refused.exit_code == 1 and "does not match the checkpoint" in refused.output


# --- an independent verifier, written from RFC 9162's recursive definitions ---------------------
# It rebuilds the roots from the structure of PATH and SUBPROOF (§2.1.3.1, §2.1.4.1) instead of
# the bit-walking algorithms the project uses, and shares no code with it.


def _h(left: bytes, right: bytes) -> bytes:
    import hashlib

    return hashlib.sha256(b"\x01" + left + right).digest()


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def independent_inclusion_root(m: int, n: int, leaf: bytes, path: list[bytes]) -> bytes:
    if n == 1:
        assert not path
        return leaf
    k = _k(n)
    if m < k:
        return _h(independent_inclusion_root(m, k, leaf, path[:-1]), path[-1])
    return _h(path[-1], independent_inclusion_root(m - k, n - k, leaf, path[:-1]))


def independent_consistency_roots(m: int, n: int, b: bool, proof: list[bytes], old_root: bytes) -> tuple[bytes, bytes]:
    if m == n:
        if b:
            assert not proof
            return old_root, old_root
        assert len(proof) == 1
        return proof[0], proof[0]
    k = _k(n)
    if m <= k:
        old, new = independent_consistency_roots(m, k, b, proof[:-1], old_root)
        return old, _h(new, proof[-1])
    old, new = independent_consistency_roots(m - k, n - k, False, proof[:-1], old_root)
    return _h(proof[-1], old), _h(proof[-1], new)


def test_proof_files_verify_with_an_independent_rfc_9162_implementation(signed) -> None:
    import base64
    import hashlib

    ledger, _, notes = signed
    auditor = LedgerAuditor(ledger.ledger_recorder)
    for size in (93, 96, 100):
        checkpoint = parse_checkpoint(notes[size])
        for position in range(1, size + 1, 7):
            doc = auditor.inclusion_proof(position, notes[size])
            event = doc["event"]
            data = (
                f"mission-ledger/leaf/v1\n{position}\n{event['stream_id']}\n{event['version']}\n{event['type']}\n".encode()
                + base64.b64decode(event["state"])
            )
            leaf = hashlib.sha256(b"\x00" + data).digest()
            path = [base64.b64decode(p) for p in doc["proof"]]
            assert independent_inclusion_root(position - 1, size, leaf, path) == checkpoint.root
    for old_size, new_size in ((93, 96), (93, 100), (96, 97), (97, 100)):
        doc = auditor.consistency_proof(notes[old_size], notes[new_size])
        old, new = parse_checkpoint(doc["old"]), parse_checkpoint(doc["new"])
        proof = [base64.b64decode(p) for p in doc["proof"]]
        assert independent_consistency_roots(old.size, new.size, True, proof, old.root) == (old.root, new.root)


# --- stored interior nodes: proofs in O(log n) ---------------------------------------------------


def _grow(ledger: MissionLedger, clock, rows: int, skip: int = 0) -> None:
    """Import `rows` first reports of Krabi's records, after the first `skip` (in two files, so
    that a block of the tree straddles two batches)."""
    catalog = [line.split(",") for line in package_data("sample_catalog.csv").decode().splitlines()[1:]]
    laos = [line.split(",") for line in package_data("krabi_laos.csv").decode().splitlines()[1:]]
    pairs = [(lao[0], m[0]) for m in catalog for lao in laos if lao[1] in m[-1].split("|")][skip : skip + rows]
    for part, chunk in enumerate((pairs[: rows // 2], pairs[rows // 2 :])):
        body = "lao_code,mission_code,status,received_fy,quantity,unit,effective_from\n" + "".join(
            f"{lao},{mission},operating,2567,1,แห่ง,2024-01-01\n" for lao, mission in chunk
        )
        clock.advance(hours=1)
        assert import_file(ledger, body.encode(), name=f"grow{skip}-{part}.csv").appended == len(chunk) + 1


def test_proofs_read_stored_nodes_and_equal_proofs_from_the_leaves(signed, clock) -> None:
    ledger, signer, _ = signed
    _grow(ledger, clock, 500)
    recorder = ledger.ledger_recorder
    size = recorder.log_size()
    assert size == EVENTS + 502
    leaves = recorder.leaves(0, size)
    assert recorder.all_nodes() == {(level, index): node for level, index, node in nodes_of(leaves)}
    assert len(recorder.all_nodes()) == size // BLOCK == 2  # the second straddles the two imports

    def from_leaves(a: int, b: int) -> bytes:
        return root_of(leaves[a:b])

    auditor = LedgerAuditor(recorder)
    note = auditor.sign_checkpoint(signer, clock.now())
    for position in (1, 256, 257, 520, size):
        doc = auditor.inclusion_proof(position, note)
        expected = prove_inclusion(position - 1, size, from_leaves)
        assert [base64.b64decode(h) for h in doc["proof"]] == expected
        assert check_proof_file(json.dumps(doc), signer.verifier()).position == position
    assert auditor.root_at(size) == root_of(leaves) == parse_checkpoint(note).root


def test_a_tampered_stored_node_is_found_by_verify_and_never_proves(signed_file, clock, db_path: Path) -> None:
    ledger, signer, notes = signed_file
    _grow(ledger, clock, 500)
    note = LedgerAuditor(ledger.ledger_recorder).sign_checkpoint(signer, clock.now())
    con = sqlite3.connect(db_path)
    with pytest.raises(sqlite3.IntegrityError, match="never changed or removed"):
        con.execute("UPDATE ledger_nodes SET hash = zeroblob(32)")
    for (trigger,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        con.execute(f"DROP TRIGGER {trigger}")
    con.execute("UPDATE ledger_nodes SET hash = zeroblob(32) WHERE idx = 1")
    con.commit()
    con.close()
    auditor = LedgerAuditor(ledger.ledger_recorder)
    with pytest.raises(Refused, match="does not match the checkpoint at size 602: run `verify`"):
        auditor.inclusion_proof(600, note)
    auditor.inclusion_proof(50, notes[100])  # a tree too small to rest on stored nodes still proves
    report = auditor.verify([note])
    assert not report.ok
    assert report.first()[0] == 257 and "257–512" in report.first()[2]


def test_a_ledger_made_before_the_nodes_table_proves_from_leaves_and_init_adds_it(
    signed_file, clock, db_path: Path
) -> None:
    ledger, signer, _ = signed_file
    ledger.close()
    con = sqlite3.connect(db_path)
    con.executescript(
        "DROP TRIGGER ledger_nodes_no_update; DROP TRIGGER ledger_nodes_no_delete; DROP TABLE ledger_nodes"
    )
    con.close()
    old = MissionLedger(db_path, clock=clock)
    _grow(old, clock, 300)  # positions 101–402: block 0 (1–256) completes without a table to go in
    auditor = LedgerAuditor(old.ledger_recorder)
    note = auditor.sign_checkpoint(signer, clock.now())
    assert old.ledger_recorder.all_nodes() == {}
    assert check_proof_file(json.dumps(auditor.inclusion_proof(300, note)), signer.verifier()).position == 300
    old.close()
    result = CliRunner().invoke(cli, ["--db", str(db_path), "init"])
    assert result.exit_code == 0 and "already initialised" in result.output
    again = MissionLedger(db_path, clock=clock)
    _grow(again, clock, 150, skip=300)  # positions 403–554: block 1 (257–512) completes, with a table now
    recorder = again.ledger_recorder
    leaves = recorder.leaves(0, recorder.log_size())
    assert recorder.all_nodes() == {(8, 1): root_of(leaves[256:512])}  # block 0 stays unstored
    auditor = LedgerAuditor(recorder)
    note = auditor.sign_checkpoint(signer, clock.now())
    for position in (1, 300, 554):
        assert check_proof_file(json.dumps(auditor.inclusion_proof(position, note))).position == position
    assert auditor.verify([note]).ok


# --- the views are a cache: verify checks them, and a checkpoint's report never reads them ---------


def _forge_views(views: Path) -> None:
    con = sqlite3.connect(views)
    con.execute("UPDATE record_versions SET quantity = '99999' WHERE lao_code = '6810103' AND mission_code = 'INF-01'")
    con.execute("UPDATE records SET quantity = '99999' WHERE lao_code = '6810103' AND mission_code = 'INF-01'")
    con.commit()
    con.close()


def test_an_edited_views_file_is_caught_by_verify_and_never_printed_as_of_a_checkpoint(
    signed_file, db_path: Path, tmp_path: Path
) -> None:
    ledger, _, notes = signed_file
    ledger.close()
    (tmp_path / "c100").write_text(notes[100])
    run = CliRunner()
    base = ["--db", str(db_path)]
    honest = run.invoke(cli, [*base, "as-of", "--checkpoint", str(tmp_path / "c100"), "--csv"])
    assert honest.exit_code == 0, honest.output
    assert "99999" not in honest.output
    assert "no views file at" in run.invoke(cli, [*base, "verify", "--no-signature"]).output
    assert run.invoke(cli, [*base, "project"]).exit_code == 0
    clean = run.invoke(cli, [*base, "verify", "--no-signature"])
    assert clean.exit_code == 0 and "views" in clean.output and "they match" in clean.output, clean.output
    _forge_views(db_path.with_name(db_path.stem + ".views.db"))
    forged = run.invoke(cli, [*base, "as-of", "--csv"])
    assert "99999" in forged.output  # the cache says what it was made to say …
    caught = run.invoke(cli, [*base, "verify", "--no-signature"])
    assert caught.exit_code == 1, caught.output
    assert "does not say what the ledger says: table record_versions" in caught.output
    assert "99999" in caught.output and "project --rebuild" in caught.output
    attested = run.invoke(cli, [*base, "as-of", "--checkpoint", str(tmp_path / "c100"), "--csv"])
    assert attested.output == honest.output  # … and a checkpoint's report does not read it
    assert run.invoke(cli, [*base, "verify", "--no-signature", "--no-views"]).exit_code == 0
    assert run.invoke(cli, [*base, "project", "--rebuild"]).exit_code == 0
    assert run.invoke(cli, [*base, "verify", "--no-signature"]).exit_code == 0


def test_a_forged_view_definition_is_caught(signed_file, db_path: Path) -> None:
    ledger, _, _ = signed_file
    ledger.close()
    run = CliRunner()
    assert run.invoke(cli, ["--db", str(db_path), "project"]).exit_code == 0
    con = sqlite3.connect(db_path.with_name(db_path.stem + ".views.db"))
    con.execute("CREATE TRIGGER sneaky AFTER INSERT ON history BEGIN SELECT 1; END")
    con.commit()
    con.close()
    caught = run.invoke(cli, ["--db", str(db_path), "verify", "--no-signature"])
    assert caught.exit_code == 1 and "trigger sneaky" in caught.output, caught.output


@pytest.mark.parametrize("scope", [[], ["--province", "81"], ["--district", "8101"], ["--lao", "6810103"]])
def test_as_of_a_checkpoint_equals_the_views_at_that_size(signed_file, db_path: Path, tmp_path: Path, scope) -> None:
    ledger, _, notes = signed_file
    ledger.close()
    run = CliRunner()
    for size, note in notes.items():
        (tmp_path / f"c{size}").write_text(note)
        attested = run.invoke(
            cli, ["--db", str(db_path), "as-of", "--checkpoint", str(tmp_path / f"c{size}"), "--json", *scope]
        )
        viewed = run.invoke(cli, ["--db", str(db_path), "as-of", "--at-seq", str(size), "--json", *scope])
        assert attested.exit_code == 0, attested.output
        assert attested.output == viewed.output


def test_verify_takes_several_keys_and_a_minimum_of_signatures(ledger, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A checkpoint cosigned by two keys (a rotation, a cosigner): `verify` takes both keys and the
    number that must have signed; a signature by a key not given is not refused."""
    from click.testing import CliRunner

    from cli.main import cli
    from ledger.integrity.audit import LedgerAuditor
    from ledger.integrity.checkpoint import Checkpoint, Signer

    first, second, stranger = Signer.generate("krabi-ppao"), Signer.generate("dla-cosigner"), Signer.generate("x")
    auditor = LedgerAuditor(ledger.ledger_recorder)
    size = ledger.ledger_recorder.log_size()
    text = Checkpoint(auditor.origin(), size, auditor.root_at(size)).text()
    cosigned = first.sign(text) + second.sign(text)[len(text) + 1 :]
    ledger.ledger_recorder.record_checkpoint(size, auditor.root_at(size), cosigned, ledger.clock.now())
    keys = {}
    for signer in (first, second, stranger):
        keys[signer.name] = tmp_path / f"{signer.name}.pub"
        keys[signer.name].write_text(signer.verifier().format(), encoding="utf-8")

    def verify(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(cli, ["--db", str(ledger.location.url), "verify", "--no-views", *args])
        return result.exit_code, result.output

    both = ("--key", str(keys["krabi-ppao"]), "--key", str(keys["dla-cosigner"]))
    assert verify(*both, "--min-signatures", "2")[0] == 0
    assert verify("--key", str(keys["krabi-ppao"]))[0] == 0  # the cosigner's signature is not refused
    code, said = verify("--key", str(keys["krabi-ppao"]), "--key", str(keys["x"]), "--min-signatures", "2")
    assert code == 1 and "1 of the 2 keys signed it validly, 2 needed" in said
    code, said = verify("--key", str(keys["krabi-ppao"]), "--min-signatures", "2")
    assert code == 2 and "--min-signatures 2 needs at least 2 --key" in said


def test_postgresql_refuses_update_delete_and_truncate(postgres_url: str) -> None:
    """The same rule on PostgreSQL, TRUNCATE included (it fires no row trigger): only a superuser
    dropping the triggers gets past it, and `verify` then finds what changed."""
    import psycopg

    from ledger.application import MissionLedger
    from ledger.store.tables import IMMUTABLE_TABLES
    from tests.conftest import package_data

    app = MissionLedger(postgres_url, actor="test")
    app.initialise("test/pg")
    app.load_registry(package_data("krabi_laos.csv"), name="krabi_laos.csv")  # rows to refuse to remove
    events = app.ledger_recorder.events_table_name  # type: ignore[attr-defined]
    app.close()
    base, _, schema = postgres_url.partition("?schema=")
    with psycopg.connect(base, autocommit=True) as conn:
        for table in (events, *IMMUTABLE_TABLES):
            with pytest.raises(psycopg.errors.RaiseException, match="never changed or removed"):
                conn.execute(f'TRUNCATE "{schema}"."{table}"')
        for table in (events, "ledger_log"):  # tables with rows: the row triggers fire
            with pytest.raises(psycopg.errors.RaiseException, match="never changed or removed"):
                conn.execute(f'DELETE FROM "{schema}"."{table}"')
            with pytest.raises(psycopg.errors.RaiseException, match="never changed or removed"):
                conn.execute(f'UPDATE "{schema}"."{table}" SET position = position' if table == "ledger_log"
                             else f'UPDATE "{schema}"."{table}" SET state = state')  # fmt: skip


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_the_store_refuses_rows_no_ledger_writes(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """Rows written past the application — a position 0, a negative size, a hash of another
    length, a node level beyond a 64-level tree — are refused by the store's CHECK constraints,
    on both backends; the ledger's own rows pass them."""
    from ledger.application import MissionLedger
    from tests.conftest import package_data

    url = str(tmp_path / "ledger.db") if backend == "sqlite" else str(request.getfixturevalue("postgres_url"))
    app = MissionLedger(url, actor="test")
    app.initialise("test/checks")
    app.load_registry(package_data("krabi_laos.csv"), name="krabi_laos.csv")
    assert app.ledger_recorder.log_size() > 60  # the application's rows passed every check
    app.close()
    bad = {
        "ledger_log": "INSERT INTO {t} (position, notification_id, recorded_at, leaf_hash) VALUES (0, 999999, NULL, {h32})",
        "ledger_checkpoints": "INSERT INTO {t} (size, root, note, signed_at) VALUES (-1, {h32}, 'x', '2024-01-01T00:00:00.000000Z')",
        "ledger_nodes": "INSERT INTO {t} (level, idx, hash) VALUES (0, 999999, {h31})",
    }
    more = {"ledger_nodes": "INSERT INTO {t} (level, idx, hash) VALUES (64, 0, {h32})"}
    if backend == "sqlite":
        import sqlite3

        conn = sqlite3.connect(url)
        blob = {"h32": "zeroblob(32)", "h31": "zeroblob(31)"}
        for table, sql in [*bad.items(), *more.items()]:
            with pytest.raises(sqlite3.IntegrityError, match="CHECK constraint failed"):
                conn.execute(sql.format(t=table, **blob))
        conn.close()
        return
    import psycopg

    base, _, schema = url.partition("?schema=")
    blob = {"h32": "decode(repeat('00', 32), 'hex')", "h31": "decode(repeat('00', 31), 'hex')"}
    with psycopg.connect(base, autocommit=True) as conn:
        for table, sql in [*bad.items(), *more.items()]:
            with pytest.raises(psycopg.errors.CheckViolation):
                conn.execute(sql.format(t=f'"{schema}"."{table}"', **blob))


def test_a_postgresql_ledger_with_text_instants_is_converted_to_timestamptz_stamp_for_stamp(postgres_url: str) -> None:
    """A PostgreSQL ledger made when instants were text (format_stamp's UTC ISO form) is opened:
    its instant columns become timestamptz, every stamp reads back exactly as it was written, to
    the microsecond, `verify` finds nothing, and the ledger's clock goes on from its last stamp."""
    from datetime import date

    import psycopg

    from ledger.application import MissionLedger
    from ledger.domain.values import Fields
    from ledger.integrity.audit import LedgerAuditor
    from ledger.integrity.checkpoint import Signer
    from ledger.stamps import format_stamp
    from ledger.store.tables import INSTANT_COLUMNS
    from tests.conftest import package_data

    app = MissionLedger(postgres_url, actor="test")
    app.initialise("test/pg")
    app.load_registry(package_data("krabi_laos.csv"), name="krabi_laos.csv")
    app.load_catalog(package_data("sample_catalog.csv"), name="sample_catalog.csv")
    app.record("6810103", "INF-01", effective_from=date(2024, 10, 1), values=Fields(status="operating", staff=2))
    LedgerAuditor(app.ledger_recorder).sign_checkpoint(Signer.generate("test/pg"), app.clock.now())
    written = [(x.position, x.recorded_at) for x in app.ledger_recorder.select_log(0, 10_000)]
    app.close()
    base, _, schema = postgres_url.partition("?schema=")

    def types() -> dict[tuple[str, str], str]:
        with psycopg.connect(base) as conn:
            rows = conn.execute(
                "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = %s",
                (schema,),
            ).fetchall()
        return {(t, c): kind for t, c, kind in rows if (t, c) in INSTANT_COLUMNS}

    assert set(types().values()) == {"timestamp with time zone"}  # a new ledger's
    # The ledger as an earlier version made it: the same instants, as text.
    with psycopg.connect(base, autocommit=True) as conn:
        for table, column in types():
            conn.execute(
                f'ALTER TABLE "{schema}"."{table}" ALTER COLUMN {column} TYPE text USING '
                f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
            )
        (stored,) = conn.execute(f'SELECT recorded_at FROM "{schema}".ledger_log WHERE position = 1').fetchone()
    assert stored == format_stamp(written[0][1])  # exactly what format_stamp wrote
    assert set(types().values()) == {"text"}

    again = MissionLedger(postgres_url, actor="test")
    assert set(types().values()) == {"timestamp with time zone"}
    assert [(x.position, x.recorded_at) for x in again.ledger_recorder.select_log(0, 10_000)] == written
    assert LedgerAuditor(again.ledger_recorder).verify().problems == []
    again.record("6810103", "INF-02", effective_from=date(2024, 10, 1), values=Fields(status="operating"))
    last = again.ledger_recorder.select_log(len(written), 1)[0].recorded_at
    assert last is not None and last >= written[-1][1]
    again.close()
