"""Witnesses, as they run: `witness serve` (a real process with its own SQLite file), `checkpoint
--witness` gathering its cosignature, verify and verify-proof holding checkpoints to a policy — and
a log forked by its operator (two stores grown from one prefix, both signed with the log's key),
whose second branch the witness refuses. Go's crypto/ed25519 checks the cosignatures."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx
import pytest

from ledger.application import MissionLedger
from ledger.domain.values import Fields
from ledger.integrity.checkpoint import parse_checkpoint
from ledger.integrity.witness import AddCheckpoint, Witness, parse_witness_key
from tests.conftest import package_data
from tests.support.served import free_port

ROOT = Path(__file__).resolve().parents[2]
ORIGIN = "test.example/witnessed"
LAOS = ("6810103", "6810104", "6810202", "6810203", "6810204")


def run(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args], cwd=folder, env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def grow(location: Path, missions: list[str], start: int, count: int) -> None:
    app = MissionLedger(location, actor="clerk")
    try:
        pairs = [(lao, m) for m in missions for lao in LAOS][start : start + count]
        for lao, mission in pairs:
            app.record(lao, mission, effective_from=date(2024, 10, 1), values=Fields(status="operating", staff=start))
    finally:
        app.close()


@dataclass
class WitnessProcess:
    folder: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> WitnessProcess:
        self.port = self.port or free_port()
        log = (self.folder / "witness.log").open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "witness", "serve", "--key", "w1.key", "--log", f"{ORIGIN}=log.pub",
             "--state", "witness.db", "--port", str(self.port)],
            cwd=self.folder, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=log, stderr=log,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError((self.folder / "witness.log").read_text())

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stored(self) -> tuple[int, bytes] | None:
        with sqlite3.connect(self.folder / "witness.db") as db:
            row = db.execute("SELECT size, root FROM cosigned WHERE origin = ?", (ORIGIN,)).fetchone()
        return (int(row[0]), bytes(row[1])) if row else None


@dataclass
class Setup:
    folder: Path
    ledger: Path
    missions: list[str]
    witness: WitnessProcess


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    import csv
    import io

    ledger = tmp_path / "ledger.db"
    app = MissionLedger(ledger, actor="seed")
    app.initialise(ORIGIN)
    app.load_registry(package_data("krabi_laos.csv"), name="krabi_laos.csv")
    app.load_catalog(package_data("sample_catalog.csv"), name="sample_catalog.csv")
    app.close()
    catalog = csv.DictReader(io.StringIO(package_data("sample_catalog.csv").decode()))
    missions = [row["mission_code"] for row in catalog if not row["applies_to"]]
    assert run(tmp_path, "keygen", "log", "--name", ORIGIN).returncode == 0
    assert run(tmp_path, "keygen", "w1", "--name", "witness.example/krabi", "--witness").returncode == 0
    witness = WitnessProcess(tmp_path).start()
    try:
        yield Setup(tmp_path, ledger, missions, witness)
    finally:
        witness.kill()


def checkpoint(s: Setup, out: str, ledger: Path | None = None) -> subprocess.CompletedProcess[str]:
    return run(s.folder, "--db", str(ledger or s.ledger), "checkpoint", "--key", "log.key", "--witness", s.witness.url,
               "--out", out)  # fmt: skip


def test_a_checkpoint_is_cosigned_and_verify_holds_it_to_the_policy(setup: Setup) -> None:
    s = setup
    grow(s.ledger, s.missions, 0, 20)
    first = checkpoint(s, "c1")
    assert first.returncode == 0, first.stderr
    note = (s.folder / "c1").read_text()
    assert "— witness.example/krabi " in note
    grow(s.ledger, s.missions, 20, 30)
    second = checkpoint(s, "c2")  # the witness is at c1's size: a 409, then the proof from there
    assert second.returncode == 0, second.stderr
    assert s.witness.stored() == (parse_checkpoint((s.folder / "c2").read_text()).size,
                                  parse_checkpoint((s.folder / "c2").read_text()).root)  # fmt: skip
    ok = run(s.folder, "--db", str(s.ledger), "verify", "--checkpoint", "c1", "--checkpoint", "c2", "--key", "log.pub",
             "--witness-key", "w1.pub", "--no-views")  # fmt: skip
    assert ok.returncode == 0 and "cosigned by witness.example/krabi" in ok.stdout, ok.stderr
    assert (
        run(s.folder, "--db", str(s.ledger), "prove", "inclusion", "3", "--checkpoint", "c2", "--out", "p").returncode
        == 0
    )
    proved = run(s.folder, "verify-proof", "p", "--key", "log.pub", "--witness-key", "w1.pub")
    assert proved.returncode == 0 and "cosigned by witness.example/krabi" in proved.stdout, proved.stderr
    assert run(s.folder, "keygen", "w2", "--name", "witness.example/other", "--witness").returncode == 0
    short = run(s.folder, "verify-proof", "p", "--key", "log.pub", "--witness-key", "w1.pub", "--witness-key", "w2.pub")
    assert short.returncode == 1 and "cosigned by 1 of the 2 witnesses" in short.stderr
    one_of_two = run(s.folder, "verify-proof", "p", "--key", "log.pub", "--witness-key", "w1.pub",
                     "--witness-key", "w2.pub", "--min-witnesses", "1")  # fmt: skip
    assert one_of_two.returncode == 0, one_of_two.stderr


def test_a_forked_log_is_cosigned_on_one_branch_and_refused_on_the_other(setup: Setup) -> None:
    s = setup
    grow(s.ledger, s.missions, 0, 20)
    assert checkpoint(s, "c0").returncode == 0
    # The operator keeps two stores grown from one prefix, and signs both with the log's key.
    other = s.folder / "other.db"
    app = MissionLedger(s.ledger)
    app.close()
    shutil.copy(s.ledger, other)
    grow(s.ledger, s.missions, 20, 10)
    grow(other, s.missions, 40, 10)  # other records at the same positions
    shown = checkpoint(s, "a")
    assert shown.returncode == 0, shown.stderr
    forked = checkpoint(s, "b", other)
    assert forked.returncode == 1
    assert "refused with 409" in forked.stderr and "second root" in forked.stderr
    grow(other, s.missions, 60, 5)  # a larger branch: it cannot prove it extends what was cosigned
    larger = checkpoint(s, "b2", other)
    assert larger.returncode == 1 and "refused with 422" in larger.stderr
    a = parse_checkpoint((s.folder / "a").read_text())
    assert s.witness.stored() == (a.size, a.root)  # never moved to the other branch
    with sqlite3.connect(s.folder / "witness.db") as db:
        kept = [row[0] for row in db.execute("SELECT status FROM refused ORDER BY id")]
    assert 409 in kept and 422 in kept  # the other branch's requests are kept: evidence of the split view
    # Both branches carry the log's valid signature: only the witness tells them apart…
    assert "— witness.example/krabi " not in (s.folder / "b").read_text()
    # …and anyone holding two of their checkpoints can write the evidence, which anyone can check.
    for db, first, second in ((s.ledger, "a", "b"), (other, "a", "b2")):
        shown = run(s.folder, "--db", str(db), "prove", "consistency", "--old", first, "--new", second,
                    "--out", f"fork-{second}", "--force")  # fmt: skip
        assert shown.returncode == 1 and "fork" in shown.stderr, shown.stderr
        checked = run(s.folder, "verify-proof", f"fork-{second}", "--key", "log.pub")
        assert checked.returncode == 0 and "signed two histories" in checked.stdout, checked.stderr
    evidence = json.loads((s.folder / "fork-b2").read_text())
    evidence["prefix_root"] = evidence["first"].split("\n")[2]  # claim the larger tree begins as the smaller
    (s.folder / "forged").write_text(json.dumps(evidence))
    forged = run(s.folder, "verify-proof", "forged", "--key", "log.pub")
    assert forged.returncode == 1 and "Traceback" not in forged.stderr
    consistent = run(
        s.folder, "--db", str(s.ledger), "prove", "consistency", "--old", "c0", "--new", "a", "--out", "ok"
    )
    assert consistent.returncode == 0 and json.loads((s.folder / "ok").read_text())["format"].endswith(
        "consistency-proof/v1"
    )


def test_concurrent_requests_never_roll_the_witness_back(setup: Setup) -> None:
    s = setup
    notes = []
    from ledger.integrity.audit import LedgerAuditor
    from ledger.integrity.checkpoint import parse_signer

    signer = parse_signer((s.folder / "log.key").read_text())
    for n in range(8):
        grow(s.ledger, s.missions, n * 5, 5)
        app = MissionLedger(s.ledger)
        try:
            notes.append(LedgerAuditor(app.ledger_recorder).sign_checkpoint(signer, app.clock.now()))
        finally:
            app.close()
    bodies = [AddCheckpoint(0, (), note).body() for note in notes]
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda b: httpx.post(f"{s.witness.url}/add-checkpoint", content=b, timeout=30), bodies))
    statuses = sorted(a.status_code for a in answers)
    assert statuses.count(200) == 1 and statuses.count(409) == 7
    winner = next(n for n, a in zip(notes, answers, strict=True) if a.status_code == 200)
    stored = s.witness.stored()
    assert stored is not None and stored[0] == parse_checkpoint(winner).size
    assert {a.text for a in answers if a.status_code == 409} == {f"{stored[0]}\n"}
    assert all(a.headers["content-type"].startswith("text/x.tlog.size") for a in answers if a.status_code == 409)


def test_a_witness_killed_mid_request_keeps_what_it_answered(setup: Setup) -> None:
    import threading

    from ledger.integrity.audit import LedgerAuditor
    from ledger.integrity.checkpoint import parse_signer
    from ledger.integrity.cosigning import gather

    s = setup
    signer = parse_signer((s.folder / "log.key").read_text())
    notes = []
    for n in range(40):
        grow(s.ledger, s.missions, n, 1)
        app = MissionLedger(s.ledger)
        try:
            notes.append(LedgerAuditor(app.ledger_recorder).sign_checkpoint(signer, app.clock.now()))
        finally:
            app.close()
    app = MissionLedger(s.ledger)
    auditor = LedgerAuditor(app.ledger_recorder)
    answered: list[int] = []

    def cosign_all() -> None:  # the log asking, checkpoint after checkpoint, as fast as it can
        for note in notes:
            if gather(note, [s.witness.url], auditor.subtree).lines:
                answered.append(parse_checkpoint(note).size)

    try:
        for pause in (0.02, 0.05, 0.11):
            asking = threading.Thread(target=cosign_all)
            asking.start()
            time.sleep(pause)
            s.witness.kill()  # mid-stream: before, inside or after one request's write
            asking.join(60)
            stored = s.witness.stored()
            # What it answered, it remembers (or a later one it wrote just before dying), and what it
            # remembers is a checkpoint of this log.
            if answered:
                assert stored is not None and stored[0] >= max(answered)
            if stored is not None:
                assert stored[1] == auditor.root_at(stored[0])
            s.witness.start()
        cosign_all()  # restarted, it goes on from whatever it remembers, to the last
        assert s.witness.stored() == (parse_checkpoint(notes[-1]).size, parse_checkpoint(notes[-1]).root)
    finally:
        app.close()


def test_go_checks_the_cosignature_with_crypto_ed25519(setup: Setup) -> None:
    if shutil.which("go") is None:
        pytest.fail("Go is needed: sh tests/browser-deps.sh installs Debian's golang-go")
    s = setup
    grow(s.ledger, s.missions, 0, 10)
    assert checkpoint(s, "c").returncode == 0
    note = (s.folder / "c").read_text()
    key = (s.folder / "w1.pub").read_text().strip()
    env = {**os.environ, "GO111MODULE": "off", "GOCACHE": str(s.folder / "gocache")}
    oracle = str(ROOT / "tests" / "oracles" / "cosignature.go")
    checked = subprocess.run(["go", "run", oracle, key], input=note, env=env, capture_output=True, text=True,
                             timeout=300, check=False)  # fmt: skip
    assert checked.returncode == 0, checked.stderr
    assert int(checked.stdout) == parse_witness_key(key).cosigned_at(note)
    tampered = note.replace(note.split("\n")[1], str(int(note.split("\n")[1]) + 1), 1)
    refused = subprocess.run(["go", "run", oracle, key], input=tampered, env=env, capture_output=True, text=True,
                             timeout=300, check=False)  # fmt: skip
    assert refused.returncode == 1 and "does not verify" in refused.stderr
    assert json.loads(json.dumps(note))  # the note is text, as written


def test_the_service_gets_its_checkpoints_and_seals_cosigned(setup: Setup) -> None:
    from ledger.identity import Identity
    from tests.support.served import Served

    s = setup
    grow(s.ledger, s.missions, 0, 10)
    app = MissionLedger(s.ledger, actor="seed")
    identity = Identity(app)
    identity.add("boss", ["admin"])
    token = identity.issue("boss").token
    app.close()
    served = Served(str(s.ledger), s.folder, env={"MISSION_LEDGER_KEY": str(s.folder / "log.key"),
                                                  "MISSION_LEDGER_WITNESSES": s.witness.url})  # fmt: skip
    served.tokens = {"boss": token}
    served.start()
    try:
        with served.client("boss") as http:
            answer = http.post("/checkpoints")
        assert answer.status_code == 201, answer.text
        assert "— witness.example/krabi " in answer.text
        assert s.witness.stored() == (parse_checkpoint(answer.text).size, parse_checkpoint(answer.text).root)
        # A client asks for a proof against a checkpoint its witnesses cosigned, and is told who did.
        key = (s.folder / "w1.pub").read_text().strip()
        with served.client("boss") as http:
            proof = http.get("/proofs/inclusion/3", params={"witness": key})
            assert proof.status_code == 200, proof.text
            assert [c["name"] for c in proof.json()["cosigned_by"]] == ["witness.example/krabi"]
            # Against a checkpoint of that tree (the service may also have signed one on its schedule).
            proven = parse_checkpoint(proof.json()["checkpoint"])
            assert (proven.size, proven.root) == (
                parse_checkpoint(answer.text).size,
                parse_checkpoint(answer.text).root,
            )
            stranger = Witness.generate("witness.example/other").key.format()
            assert http.get("/proofs/inclusion/3", params={"witness": stranger}).status_code == 404
            both = http.get("/proofs/inclusion/3", params={"witness": [key, stranger], "min_witnesses": "1"})
            assert both.status_code == 200 and len(both.json()["cosigned_by"]) == 1
            assert http.get("/proofs/inclusion/3", params={"witness": key, "size": "5"}).status_code == 422
        (s.folder / "api.proof").write_text(proof.text)
        checked = run(s.folder, "verify-proof", "api.proof", "--key", "log.pub", "--witness-key", "w1.pub")
        assert checked.returncode == 0 and "cosigned by witness.example/krabi" in checked.stdout
    finally:
        served.stop()


def test_a_rounds_seal_carries_the_witness_cosignature(tmp_path: Path) -> None:
    """A round's seal — what DLA allocates from — is signed after the deadline and carries the
    witness's cosignature in the ledger itself (`round_sealed`)."""
    from datetime import UTC, datetime

    from ledger.clock import FixedClock
    from ledger.integrity.checkpoint import parse_signer
    from ledger.rounds import Rounds

    clock = FixedClock(datetime(2024, 10, 1, 2, tzinfo=UTC))
    app = MissionLedger(tmp_path / "ledger.db", clock=clock, actor="seed")
    try:
        app.initialise(ORIGIN)
        app.load_registry(package_data("krabi_laos.csv"), name="krabi_laos.csv")
        app.load_catalog(package_data("sample_catalog.csv"), name="sample_catalog.csv")
        rounds = Rounds(app)
        rounds.open("fy2568", date(2024, 10, 1), date(2024, 12, 30))
        clock.at = datetime(2024, 11, 1, 2, tzinfo=UTC)
        app.record(LAOS[0], "INF-03", effective_from=date(2024, 10, 1), values=Fields(status="operating"))
        assert run(tmp_path, "keygen", "log", "--name", ORIGIN).returncode == 0
        assert run(tmp_path, "keygen", "w1", "--name", "witness.example/krabi", "--witness").returncode == 0
        witness = WitnessProcess(tmp_path).start()
        try:
            clock.at = datetime(2025, 1, 5, 2, tzinfo=UTC)
            said: list[str] = []
            sealed = rounds.seal("fy2568", parse_signer((tmp_path / "log.key").read_text()),
                                 witnesses=[witness.url], said=said.append)  # fmt: skip
        finally:
            witness.kill()
        assert said == [] and "— witness.example/krabi " in sealed.checkpoint
        assert parse_witness_key((tmp_path / "w1.pub").read_text()).cosigned_at(sealed.checkpoint) > 0
        assert witness.stored() == (sealed.size, bytes.fromhex(sealed.root))
    finally:
        app.close()


def test_the_service_signs_for_its_witnesses_while_the_log_grows(setup: Setup) -> None:
    from service.state import LedgerService, ServiceConfig

    s = setup
    grow(s.ledger, s.missions, 0, 5)
    service = LedgerService(ServiceConfig(db=str(s.ledger), views=str(s.folder / "views.db"),
                                          key=str(s.folder / "log.key"), witnesses=(s.witness.url,)))  # fmt: skip
    try:
        assert service.cosign_due(0.0)  # the log grew since its latest checkpoint (none): one is signed
        latest = max(service.app.ledger_recorder.checkpoints(), key=lambda c: c[0])
        assert "— witness.example/krabi " in latest[2] and s.witness.stored() == (latest[0], latest[1])
        assert not service.cosign_due(0.0)  # nothing new since
        grow(s.ledger, s.missions, 5, 3)
        assert not service.cosign_due(3600.0)  # grown, but it signed less than an hour ago
        assert service.cosign_due(0.0)
    finally:
        service.close()


def test_the_witness_bounds_and_refuses_what_is_not_a_request(setup: Setup) -> None:
    s = setup
    url = f"{s.witness.url}/add-checkpoint"
    assert httpx.post(url, content=b"old 0\n\n" + b"x" * 20_000, timeout=30).status_code == 413  # read no further
    garbage = httpx.post(url, content=b"\xff\xfe not a request", timeout=30)
    assert garbage.status_code == 400 and "Traceback" not in garbage.text
    from ledger.integrity.checkpoint import Checkpoint, Signer

    stranger = Signer.generate("example.org/other").sign(Checkpoint("example.org/other", 1, bytes(32)).text())
    assert httpx.post(url, content=AddCheckpoint(0, (), stranger).body(), timeout=30).status_code == 404
    unsigned = Signer.generate(ORIGIN).sign(Checkpoint(ORIGIN, 1, bytes(32)).text())  # the origin, not its key
    assert httpx.post(url, content=AddCheckpoint(0, (), unsigned).body(), timeout=30).status_code == 403
    assert httpx.get(url, timeout=30).status_code == 405
    assert s.witness.stored() is None  # none of it moved the witness
