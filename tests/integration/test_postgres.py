"""What only PostgreSQL has: a shared server with connection failures, copying ledgers between
stores, and many writer processes at once."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from ledger.application import MissionLedger
from ledger.domain.events import Corrected
from ledger.domain.values import Fields
from ledger.store.location import StoreLocation
from projections.runner import Projector

ROOT = Path(__file__).resolve().parents[2]


def fails(result, code: int, message: str) -> None:
    assert result.exit_code == code, result.output
    assert message in result.output and "Traceback" not in result.output, result.output


@pytest.mark.parametrize(
    "url, message",
    [
        ("postgresql://postgres@127.0.0.1:1/test", "ledger postgresql://postgres@127.0.0.1:1/test:"),
        ("postgresql://nobody:s3cret@127.0.0.1:5432/test", "nobody"),
        ("postgresql://postgres@127.0.0.1:5432/no_such_database", "no_such_database"),
        ("postgresql://postgres@127.0.0.1:5432/test?pool=3", "unknown setting 'pool'"),
    ],
)
def test_connection_problems_are_one_clear_line_without_the_password(postgres_url: str, url: str, message: str) -> None:
    result = CliRunner().invoke(cli, ["--db", url, "show", "6810103", "INF-01"])
    assert result.exit_code in (1, 2), result.output
    assert message in result.output and "s3cret" not in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_init_twice_changes_nothing_and_describe_hides_the_password(postgres_url: str) -> None:
    run = CliRunner()
    assert "initialised" in run.invoke(cli, ["--db", postgres_url, "init"]).output
    assert "already initialised" in run.invoke(cli, ["--db", postgres_url, "init"]).output
    location = StoreLocation(postgres_url.replace("postgres@", "postgres:hunter2@"))
    assert "hunter2" not in location.describe()


def test_copy_sqlite_to_postgres_and_back_keeps_every_event_and_the_root(
    ledger_on_sqlite, postgres_url: str, tmp_path: Path
) -> None:
    source, db_path = ledger_on_sqlite
    before = source.ledger_recorder.tree()
    source.close()
    run = CliRunner()
    out = run.invoke(cli, ["copy", "--from", str(db_path), "--to", postgres_url])
    assert out.exit_code == 0, out.output
    assert f"root {before.root().hex()} (unchanged)" in out.output
    back = tmp_path / "back.db"
    out = run.invoke(cli, ["copy", "--from", postgres_url, "--to", str(back)])
    assert out.exit_code == 0, out.output
    original, returned = MissionLedger(db_path), MissionLedger(back)
    assert [
        (e.position, e.stream_id, e.version, e.state, e.recorded_at, e.leaf_hash)
        for e in original.ledger_recorder.iter_log()
    ] == [
        (e.position, e.stream_id, e.version, e.state, e.recorded_at, e.leaf_hash)
        for e in returned.ledger_recorder.iter_log()
    ]
    assert returned.ledger_recorder.get_meta("ledger_id") == original.ledger_recorder.get_meta("ledger_id")
    assert returned.ledger_recorder.checkpoints() == original.ledger_recorder.checkpoints()
    again = run.invoke(cli, ["copy", "--from", str(db_path), "--to", postgres_url])
    fails(again, 1, "already holds events")


def test_copy_carries_the_origin_or_refuses_a_target_named_otherwise(
    ledger_on_sqlite, postgres_url: str, tmp_path: Path
) -> None:
    """The README's old steps — `init --origin X`, then `copy` — made a copy whose checkpoints all
    failed while copy said "unchanged". The copy keeps the source's origin, so every checkpoint
    and proof of the source checks against it; a target initialised under another name is refused."""
    from ledger.integrity.audit import LedgerAuditor

    source, db_path = ledger_on_sqlite
    origin = source.ledger_recorder.get_meta("origin")
    note = source.ledger_recorder.checkpoints()[-1][2]
    source.close()
    run = CliRunner()
    named = run.invoke(cli, ["--db", postgres_url, "init", "--origin", "dla.go.th/missions"])
    assert named.exit_code == 0, named.output
    refused = run.invoke(cli, ["copy", "--from", str(db_path), "--to", postgres_url])
    fails(refused, 1, "was initialised with origin 'dla.go.th/missions'")
    assert MissionLedger(postgres_url).ledger_recorder.log_size() == 0
    fresh = tmp_path / "copy.db"
    out = run.invoke(cli, ["copy", "--from", str(db_path), "--to", str(fresh)])
    assert out.exit_code == 0 and f"origin {origin}," in out.output, out.output
    copy = MissionLedger(fresh)
    LedgerAuditor(copy.ledger_recorder).checked_checkpoint(note)  # the source's checkpoint holds


@pytest.fixture
def ledger_on_sqlite(sqlite_ledger: MissionLedger, db_path: Path, clock):
    from ledger.integrity.audit import LedgerAuditor
    from ledger.integrity.checkpoint import Signer

    sqlite_ledger.record("6810103", "INF-01", effective_from=date(2024, 1, 1), values=Fields(status="operating"))
    clock.advance(days=1)
    sqlite_ledger.correct("6810103", "INF-01", set=Fields(staff=3), reason="counted")
    LedgerAuditor(sqlite_ledger.ledger_recorder).sign_checkpoint(Signer.generate("k"), clock.now())
    return sqlite_ledger, db_path


def test_province_views_sync_from_a_central_ledger(postgres_url: str, clock, tmp_path: Path) -> None:
    from tests.conftest import package_data

    central = MissionLedger(postgres_url, clock=clock)
    central.initialise()
    central.load_registry(package_data("krabi_laos.csv"), name="k")
    central.load_catalog(package_data("sample_catalog.csv"), name="c")
    run = CliRunner()
    views = str(tmp_path / "krabi.views.db")
    out = run.invoke(cli, ["--db", postgres_url, "--views", views, "project"])
    assert out.exit_code == 0 and "93 events applied" in out.output
    clock.advance(hours=1)
    central.record("6810103", "INF-01", effective_from=date(2024, 1, 1), values=Fields(status="operating"))
    out = run.invoke(cli, ["--db", postgres_url, "--views", views, "project"])
    assert "1 events applied, at position 94" in out.output
    projector = Projector(central.ledger_recorder, Path(views))
    rebuilt = Projector(central.ledger_recorder, tmp_path / "fresh.views.db")
    rebuilt.catch_up()
    assert projector.digest() == rebuilt.digest()


@pytest.mark.slow
def test_four_writer_processes_on_postgres(postgres_url: str, clock, tmp_path: Path) -> None:
    """4 processes record and correct the same and different records at once: no lost update,
    positions contiguous, recorded_at of each record non-decreasing, the Merkle log consistent."""
    from tests.conftest import package_data

    central = MissionLedger(postgres_url, clock=clock)
    central.initialise()
    central.load_registry(package_data("krabi_laos.csv"), name="k")
    central.load_catalog(package_data("sample_catalog.csv"), name="c")
    central.record("6810103", "INF-01", effective_from=date(2024, 1, 1), values=Fields(status="operating"))
    central.close()
    script = ROOT / "tests" / "support" / "writer.py"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("MISSION_LEDGER_CLOCK", None)
    follower = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "--db", postgres_url, "feed", "--follow"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), postgres_url, str(n), "25"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(4)
    ]
    outcomes = [p.communicate(timeout=180) for p in procs]
    assert all(p.returncode == 0 for p in procs), outcomes
    wins = sum(int(out.split()[0]) for out, _ in outcomes)
    conflicts = sum(int(out.split()[1]) for out, _ in outcomes)
    ledger = MissionLedger(postgres_url)
    shared = ledger.record_events("6810103", "INF-01")
    corrections = [e for e in shared if isinstance(e, Corrected)]
    assert len(corrections) == wins  # every accepted write is there: nothing lost
    assert wins + conflicts == 4 * 25 and wins > 0
    rows = list(ledger.ledger_recorder.iter_log())
    assert [r.position for r in rows] == list(range(1, len(rows) + 1))
    for stream in {r.stream_id for r in rows}:
        stamps = [r.recorded_at for r in rows if r.stream_id == stream]
        assert stamps == sorted(stamps)
    from ledger.integrity.audit import LedgerAuditor

    report = LedgerAuditor(ledger.ledger_recorder).verify()
    assert report.ok, report.problems
    assert ledger.ledger_recorder.log_size() == 94 + wins + 4 * 25
    # The follower, reading while the four wrote, saw every event exactly once, in order.
    import json
    import signal

    assert follower.stdout is not None
    seen = [json.loads(follower.stdout.readline())["sequence"] for _ in range(len(rows))]
    follower.send_signal(signal.SIGTERM)
    rest, err = follower.communicate(timeout=20)
    assert follower.returncode == 0 and rest == b"", err
    assert seen == [f"{p:012d}" for p in range(1, len(rows) + 1)]


@pytest.mark.slow
def test_follow_rides_out_a_server_restart_and_an_import_is_never_half_applied(
    private_pg, clock, tmp_path: Path
) -> None:
    """Restarts a PostgreSQL server of the test's own (never the machine's: that would drop
    everyone else's connections)."""
    import json
    import signal

    from tests.conftest import package_data

    postgres_url = private_pg.url(schema="restart")
    central = MissionLedger(postgres_url, clock=clock)
    central.initialise()
    central.load_registry(package_data("krabi_laos.csv"), name="k")
    central.load_catalog(package_data("sample_catalog.csv"), name="c")
    central.close()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("MISSION_LEDGER_CLOCK", None)
    follower = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "--db", postgres_url, "feed", "--follow"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert follower.stdout is not None
    lines = [follower.stdout.readline() for _ in range(93)]
    assert json.loads(lines[-1])["sequence"] == "000000000093"
    private_pg.restart()
    after = MissionLedger(postgres_url)
    after.record("6810103", "INF-01", effective_from=date(2024, 1, 1), values=Fields(status="operating"))
    line = follower.stdout.readline()
    assert json.loads(line)["sequence"] == "000000000094"
    follower.send_signal(signal.SIGTERM)
    _, err = follower.communicate(timeout=20)
    assert follower.returncode == 0 and b"Traceback" not in err, err
    # A command whose server goes away says so in one line, and leaves no half-applied batch.
    csv = tmp_path / "batch.csv"
    csv.write_text(
        "lao_code,mission_code,status,effective_from\n"
        + "".join(f"{code},INF-03,operating,2024-01-01\n" for code in ("6810103", "6810104", "6810105"))
    )
    result = CliRunner().invoke(cli, ["--db", "postgresql://postgres@127.0.0.1:1/test", "import", str(csv)])
    assert result.exit_code == 1 and "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
    assert MissionLedger(postgres_url).ledger_recorder.log_size() == 94


def test_a_wrong_password_says_the_servers_reason_at_once(private_pg) -> None:
    started = time.monotonic()
    result = CliRunner().invoke(cli, ["--db", private_pg.url(password="wrong-one"), "init"])
    assert time.monotonic() - started < 3
    assert result.exit_code == 1, result.output
    assert "password authentication failed" in result.output, result.output
    assert "wrong-one" not in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_the_password_may_come_from_pgpassword_or_pgpass_instead_of_the_url(private_pg, tmp_path: Path) -> None:
    from tests.support.private_postgres import PASSWORD

    bare = private_pg.url(password=None)
    run = CliRunner()
    refused = run.invoke(cli, ["--db", bare, "init"], env={"PGPASSWORD": "", "HOME": str(tmp_path)})
    assert refused.exit_code == 1 and "password" in refused.output, refused.output
    through_env = run.invoke(cli, ["--db", bare, "init"], env={"PGPASSWORD": PASSWORD, "HOME": str(tmp_path)})
    assert through_env.exit_code == 0, through_env.output
    pgpass = tmp_path / ".pgpass"
    pgpass.write_text(f"127.0.0.1:{private_pg.port}:*:postgres:{PASSWORD}\n")
    pgpass.chmod(0o600)
    through_file = run.invoke(cli, ["--db", bare, "init"], env={"PGPASSWORD": "", "HOME": str(tmp_path)})
    assert through_file.exit_code == 0 and "already initialised" in through_file.output, through_file.output
    assert PASSWORD not in through_env.output + through_file.output


@pytest.mark.parametrize(
    "url, message",
    [
        ("postgresql://postgres@127.0.0.1:5432/no_such_database", 'database "no_such_database" does not exist'),
        ("postgresql://postgres@127.0.0.1:5432/test?pool_size=abc", "pool_size='abc' is not a whole number"),
        ("postgresql://postgres@127.0.0.1:5432/test?schema=a;drop", "is not a schema name"),
        ("postgresql://postgres@127.0.0.1:port/test", "the port is not a number"),
    ],
)
def test_init_on_a_bad_url_is_one_line_at_once(postgres_url: str, url: str, message: str) -> None:
    started = time.monotonic()
    result = CliRunner().invoke(cli, ["--db", url, "init"])
    assert time.monotonic() - started < 3
    assert result.exit_code in (1, 2) and message in result.output, result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1


def test_two_postgres_ledgers_get_different_default_views_files(postgres_url: str) -> None:
    other = postgres_url.rsplit("=", 1)[0] + "=" + postgres_url.rsplit("=", 1)[1] + "_b"
    import psycopg

    from tests.conftest import PG_URL

    try:
        for url in (postgres_url, other):
            assert CliRunner().invoke(cli, ["--db", url, "init"]).exit_code == 0
        first, second = StoreLocation(postgres_url).views_path(), StoreLocation(other).views_path()
        assert first != second
        ids = [MissionLedger(u).ledger_recorder.get_meta("ledger_id") or "" for u in (postgres_url, other)]
        assert ids[0][:8] in first.name and ids[1][:8] in second.name
        assert first.name.startswith("test-t_") and first.suffixes[-2:] == [".views", ".db"]
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{other.rsplit("=", 1)[1]}" CASCADE')
