"""Writers in separate real processes on one ledger file: no update is ever lost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from ledger.application import MissionLedger
from ledger.domain.events import Corrected
from ledger.domain.values import Fields

ROOT = Path(__file__).resolve().parents[2]
RACER = Path(__file__).resolve().parents[1] / "support" / "racer.py"


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    env.pop("MISSION_LEDGER_CLOCK", None)
    return env


def _seed(ledger: MissionLedger) -> None:
    ledger.record(
        "6810103",
        "INF-01",
        effective_from=date(2024, 1, 1),
        values=Fields(status="operating", quantity=Decimal("12.5"), unit="km"),
    )


def test_two_processes_correcting_the_same_record_exactly_one_wins(
    ledger: MissionLedger, location: str, tmp_path: Path
) -> None:
    _seed(ledger)
    ledger.close()
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    racers = [
        subprocess.Popen(
            [sys.executable, str(RACER), location, str(barrier), name, "2", staff],
            env=_env(),
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, staff in (("alice", "3"), ("bob", "4"))
    ]
    results = [(r.wait(timeout=60), r.stderr.read() if r.stderr else "") for r in racers]
    codes = sorted(code for code, _ in results)
    assert codes == [0, 1], results
    loser = next(err for code, err in results if code == 1)
    assert loser.startswith("Conflict: record 6810103/INF-01 was written by someone else"), loser
    reopened = MissionLedger(location)
    events = reopened.record_events("6810103", "INF-01")
    assert len(events) == 2 and isinstance(events[1], Corrected)
    winner = "alice" if results[0][0] == 0 else "bob"
    assert events[1].actor == winner


def test_cli_writers_with_expect_version_one_wins_the_rest_get_a_conflict(
    ledger: MissionLedger, location: str, tmp_path: Path
) -> None:
    _seed(ledger)
    ledger.close()
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cli.main",
                "--db",
                location,
                "--views",
                str(tmp_path / "v.db"),
                "--actor",
                f"w{i}",
                "correct",
                "6810103",
                "INF-01",
                "--set",
                f"staff={i + 1}",
                "--reason",
                "count",
                "--expect-version",
                "1",
            ],
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        for i in range(4)
    ]
    outcomes = [(p.wait(timeout=60), p.stderr.read() if p.stderr else "") for p in procs]
    assert sorted(code for code, _ in outcomes) == [0, 1, 1, 1], outcomes
    for code, err in outcomes:
        if code == 1:
            assert err.startswith("Error: ") and ("version" in err or "someone else" in err), err
            assert err.count("\n") == 1 and "Traceback" not in err
    assert len(MissionLedger(location).record_events("6810103", "INF-01")) == 2


TALLY = Path(__file__).resolve().parents[1] / "support" / "tally_writer.py"


@pytest.mark.slow
def test_eight_writers_every_reported_outcome_is_exact(ledger: MissionLedger, location: str) -> None:
    """Eight processes race on one record: each write reported as done is in the ledger at the
    position it was told, each reported conflict appended nothing, and no writer was refused
    because its clock fell behind the others'."""
    _seed(ledger)
    ledger.close()
    writers = [
        subprocess.Popen(
            [sys.executable, str(TALLY), location, str(n), "25"],
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(1, 9)
    ]
    outcomes = []
    for w in writers:
        out, err = w.communicate(timeout=300)
        assert w.returncode == 0, err
        outcomes += [json.loads(line) for line in out.splitlines()]
    assert len(outcomes) == 8 * 25
    reopened = MissionLedger(location)
    by_staff = {e.set.staff: e for e in reopened.record_events("6810103", "INF-01") if isinstance(e, Corrected)}
    won = [o for o in outcomes if "ok" in o]
    assert won and len(won) < len(outcomes), "some writes win, some meet a conflict"
    assert sorted(by_staff) == sorted(o["staff"] for o in won)
    for o in won:
        (position,) = o["ok"]
        logged = reopened.ledger_recorder.select_log(position - 1, 1)[0]
        assert logged.stream_id == "record/6810103/INF-01"
        assert json.loads(logged.state)["set"]["staff"] == o["staff"]
    for o in outcomes:
        if "conflict" in o:
            assert "version" in o["conflict"] or "someone else" in o["conflict"], o
