"""The log as C2SP tiles: served by `serve` under /api/v1/log, written by `tiles export`, read back
by `verify --tiles` — and by Go's golang.org/x/mod/sumdb/tlog, the oracle, through the tiles
alone. The ledger has more than two full tiles of leaves, so that level-1 tiles exist too."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from cli.tiles import mirror_reader
from ledger.application import MissionLedger
from ledger.domain.values import Fields
from ledger.errors import Refused
from ledger.identity import Identity
from ledger.integrity.audit import LedgerAuditor
from ledger.integrity.checkpoint import Signer
from ledger.integrity.tiles import Tile, check_tiles
from tests.conftest import package_data
from tests.support.served import Served

ROOT = Path(__file__).resolve().parents[2]
ORACLE = ROOT / "tests" / "oracles" / "tiles.go"
#: Debian's golang-go and golang-golang-x-mod-dev (tests/browser-deps.sh installs them).
GOPATH = "/usr/share/gocode"


@dataclass
class Log:
    served: Served
    signer: Signer
    folder: Path
    old_size: int
    size: int

    def run(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cli.main", "--db", self.served.location, *args],
            cwd=self.folder, env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip


def root_at(log: Log, size: int) -> bytes:
    app = MissionLedger(log.served.location, create_tables=False)
    try:
        return LedgerAuditor(app.ledger_recorder).root_at(size)
    finally:
        app.close()


def _records(app: MissionLedger, laos: list[str], missions: list[str], start: int, count: int) -> None:
    pairs = [(lao, mission) for mission in missions for lao in laos][start : start + count]
    for lao, mission in pairs:
        app.record(lao, mission, effective_from=date(2024, 10, 1), values=Fields(status="operating", staff=1))


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Log]:
    folder = tmp_path_factory.mktemp("tiles")
    location = str(folder / "ledger.db")
    app = MissionLedger(location, actor="seed")
    app.initialise("test.example/tiles")
    app.load_registry(package_data("krabi_laos.csv"), name="krabi_laos.csv")
    app.load_catalog(package_data("sample_catalog.csv"), name="sample_catalog.csv")
    laos = [row["lao_code"] for row in csv.DictReader(io.StringIO(package_data("krabi_laos.csv").decode()))]
    catalog = csv.DictReader(io.StringIO(package_data("sample_catalog.csv").decode()))
    missions = [row["mission_code"] for row in catalog if not row["applies_to"]]  # for every type of LAO
    signer = Signer.generate("test.example/tiles")
    _records(app, laos, missions, 0, 300)
    auditor = LedgerAuditor(app.ledger_recorder)
    old = auditor.sign_checkpoint(signer, app.clock.now())
    _records(app, laos, missions, 300, 330)
    auditor.sign_checkpoint(signer, app.clock.now())
    identity = Identity(app)
    identity.add("audit", ["auditor"])
    identity.add("feeder82", ["integration:82"])
    tokens = {"audit": identity.issue("audit").token, "feeder82": identity.issue("feeder82").token}
    size = app.ledger_recorder.log_size() - 4  # the principals and tokens came after the checkpoint
    app.close()
    (folder / "log.pub").write_text(signer.verifier().format(), encoding="utf-8")
    served = Served(location, folder)
    served.tokens = tokens
    served.start()
    try:
        yield Log(served, signer, folder, int(old.split("\n")[1]), size)
    finally:
        served.stop()


def test_tiles_whose_leaves_give_another_root_fail(log: Log) -> None:
    mirror = log.folder / "rooted"
    assert log.run("tiles", "export", str(mirror)).returncode == 0
    read = mirror_reader(str(mirror))
    assert check_tiles(read, log.size, root_at(log, log.size)) > 0
    with pytest.raises(Refused, match="give root"):
        check_tiles(read, log.size, bytes(32))


def test_go_reads_the_served_tiles_and_checks_inclusion_and_consistency(log: Log) -> None:
    if shutil.which("go") is None or not Path(GOPATH, "src/golang.org/x/mod/sumdb/tlog").is_dir():
        pytest.fail("Go and golang.org/x/mod are needed: sh tests/browser-deps.sh installs Debian's")
    leaves = [0, 1, 255, 256, 511, log.size - 1]
    answer = subprocess.run(
        ["go", "run", str(ORACLE), f"{log.served.url}/api/v1/log", log.signer.verifier().format(),
         *map(str, leaves), f"old={log.old_size}", "old=1", f"old={log.size}"],
        env={**os.environ, "GO111MODULE": "off", "GOPATH": GOPATH, "GOCACHE": str(log.folder / "gocache"),
             "MISSION_LEDGER_TOKEN": log.served.tokens["audit"]},
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert answer.returncode == 0, answer.stderr
    said = [json.loads(line) for line in answer.stdout.splitlines()]
    head, *rest = said
    assert head["size"] == log.size and head["origin"] == "test.example/tiles"
    app = MissionLedger(log.served.location, create_tables=False)
    try:
        auditor = LedgerAuditor(app.ledger_recorder)
        assert head["root"] == auditor.root_at(log.size).hex()
        included = [r for r in rest if "leaf" in r]
        # Each entry Go hashed is the event at that leaf's position (leaf i is position i + 1).
        assert [(r["leaf"], r["position"]) for r in included] == [(i, str(i + 1)) for i in leaves]
        old = {r["old"]: r["root"] for r in rest if "old" in r}
        assert old == {n: auditor.root_at(n).hex() for n in (log.old_size, 1, log.size)}
    finally:
        app.close()


def test_a_mirror_exported_to_a_folder_verifies_and_grows(log: Log) -> None:
    mirror = log.folder / "mirror"
    exported = log.run("tiles", "export", str(mirror))
    assert exported.returncode == 0, exported.stderr
    assert (mirror / "tile/0/000").stat().st_size == 8192
    assert (mirror / "tile/1/000.p/2").stat().st_size == 64
    checked = log.run("verify", "--tiles", str(mirror), "--key", str(log.folder / "log.pub"))
    assert checked.returncode == 0, checked.stderr
    assert f"at size {log.size}" in checked.stdout and "signature verified" in checked.stdout
    again = log.run("tiles", "export", str(mirror))
    assert again.returncode == 0 and "0 tiles written" in again.stdout


@pytest.mark.parametrize(
    "damage",
    [
        lambda size: Tile(0, 1),  # a changed leaf hash: the events no longer hash to it
        lambda size: Tile(None, size // 256, size % 256),  # a changed event, in the last (partial) bundle
        lambda size: Tile(1, 0, size // 256),  # a level-1 tile no longer holding the roots below it
    ],
    ids=["leaf hash", "event", "level-1 hash"],
)
def test_a_damaged_mirror_fails_naming_what_is_wrong(log: Log, damage: Callable[[int], Tile]) -> None:
    named = damage(log.size).path()
    mirror = log.folder / f"damaged-{named.replace('/', '-')}"
    assert log.run("tiles", "export", str(mirror)).returncode == 0
    path = mirror / named
    data = bytearray(path.read_bytes())
    data[-1] ^= 1
    path.write_bytes(bytes(data))
    checked = log.run("verify", "--tiles", str(mirror), "--key", str(log.folder / "log.pub"))
    assert checked.returncode == 1
    assert named in checked.stderr and "Traceback" not in checked.stderr


def test_a_mirror_missing_a_tile_or_signed_by_another_key_fails(log: Log) -> None:
    mirror = log.folder / "partial"
    assert log.run("tiles", "export", str(mirror)).returncode == 0
    other = log.folder / "other.pub"
    other.write_text(Signer.generate("test.example/tiles").verifier().format(), encoding="utf-8")
    forged = log.run("verify", "--tiles", str(mirror), "--key", str(other))
    assert forged.returncode == 1 and "signature" in forged.stderr
    unsigned = log.run("verify", "--tiles", str(mirror))
    assert unsigned.returncode == 1 and "NOT checked" in unsigned.stderr
    (mirror / "tile/entries/001").unlink()
    missing = log.run("verify", "--tiles", str(mirror), "--key", str(log.folder / "log.pub"))
    assert missing.returncode == 1 and "tile/entries/001 is missing" in missing.stderr


def test_verify_reads_a_mirror_over_http_with_the_token_it_is_given(log: Log) -> None:
    url = f"{log.served.url}/api/v1/log"
    checked = log.run("verify", "--tiles", url, "--key", str(log.folder / "log.pub"),
                      env={"MISSION_LEDGER_TOKEN": log.served.tokens["audit"]})  # fmt: skip
    assert checked.returncode == 0, checked.stderr
    assert log.served.tokens["audit"] not in checked.stdout + checked.stderr
    refused = log.run("verify", "--tiles", url, "--key", str(log.folder / "log.pub"))
    assert refused.returncode == 1 and "401" in refused.stderr


def test_entry_bundles_are_the_whole_feed_and_hash_tiles_are_proofs(log: Log) -> None:
    with log.served.client("feeder82") as http:  # an integration of one province
        assert http.get("/log/tile/0/000").status_code == 200
        assert http.get("/log/tile/entries/000").status_code == 403
    with log.served.client("audit") as http:
        full = http.get("/log/tile/0/000")
        assert full.headers["content-type"] == "application/octet-stream" and len(full.content) == 8192
        assert "immutable" in full.headers["cache-control"]
        assert http.get("/log/checkpoint").headers["cache-control"] == "private, max-age=5"
        for name in ("0/999", "9/000", "0/0", "0/000.p/0", "entries/x001/000", "0/000.p/256", "01/000"):
            assert http.get(f"/log/tile/{name}").status_code == 404, name


def test_an_export_never_writes_into_a_folder_of_other_files(log: Log) -> None:
    before = sorted(p.name for p in log.folder.iterdir())
    refused = log.run("tiles", "export", str(log.folder))  # the ledger's own folder
    assert refused.returncode == 1 and "give an empty or new folder" in refused.stderr
    assert sorted(p.name for p in log.folder.iterdir()) == before
    a_file = log.run("tiles", "export", str(log.folder / "log.pub"))
    assert a_file.returncode == 2 and "Traceback" not in a_file.stderr


def test_an_export_never_writes_through_a_link_in_the_folder(log: Log, tmp_path: Path) -> None:
    mirror, elsewhere = log.folder / "linked", tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert log.run("tiles", "export", str(mirror)).returncode == 0
    shutil.rmtree(mirror / "tile" / "entries")
    (mirror / "tile" / "entries").symlink_to(elsewhere)  # a link left in the published folder
    refused = log.run("tiles", "export", str(mirror))
    assert refused.returncode == 1 and "link" in refused.stderr and "Traceback" not in refused.stderr
    assert list(elsewhere.iterdir()) == []
