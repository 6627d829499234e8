"""The change feed: strict CloudEvents, resumable without gaps or repeats, schemas, and a consumer
killed at random while two writer processes append."""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest
from click.testing import CliRunner

from cli.main import cli
from ledger.application import MissionLedger
from ledger.domain.events import KINDS, Corrected, decode_event, json_schemas
from ledger.domain.values import Fields
from projections.feed import Feed, FeedFilter, iter_feed

ROOT = Path(__file__).resolve().parents[2]
REQUIRED = ("id", "source", "specversion", "type")
RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")


def check_cloudevent(line: dict) -> None:
    """A strict CloudEvents 1.0 (JSON format) check, from the specification's text."""
    for name in REQUIRED:
        assert isinstance(line.get(name), str) and line[name], f"required attribute {name} missing or empty"
    assert line["specversion"] == "1.0"
    for name, value in line.items():
        assert re.fullmatch(r"[a-z0-9]{1,20}", name), f"attribute name {name!r} is not [a-z0-9]{{1,20}}"
        if name != "data":
            assert isinstance(value, str) and value, f"attribute {name} must be a non-empty string here"
    assert RFC3339.fullmatch(line["time"]) and RFC3339.fullmatch(line["recordedtime"])
    assert line["datacontenttype"] == "application/json"
    assert re.fullmatch(r"\d{12}", line["sequence"])
    assert isinstance(line["data"], dict)


@pytest.fixture
def busy(ledger: MissionLedger, clock) -> MissionLedger:
    clock.advance(days=1)
    ledger.record(
        "6810103", "INF-01", effective_from=date(2024, 1, 1), values=Fields(status="operating", budget=Decimal("5"))
    )
    clock.advance(days=1)
    ledger.correct("6810103", "INF-01", set=Fields(budget=Decimal("7.50")), reason="x")
    ledger.record("2810101", "QOL-03", effective_from=date(2024, 1, 1), values=Fields(status="not_yet"))
    clock.advance(days=1)
    ledger.cancel("6810103", "INF-01", effective_from=date(2024, 6, 1), reason="y")
    ledger.void("2810101", "QOL-03", reason="z")
    return ledger


def test_every_line_is_a_strict_cloudevent_in_ledger_order(busy: MissionLedger) -> None:
    lines = list(iter_feed(busy.ledger_recorder))
    assert [int(x["sequence"]) for x in lines] == list(range(1, busy.ledger_recorder.log_size() + 1))
    for line in lines:
        check_cloudevent(line)
    assert len({x["id"] for x in lines}) == len(lines)
    last = lines[-1]
    assert last["type"] == "th.go.dla.mission.voided" and last["subject"] == "2810101/QOL-03"
    assert lines[0]["type"] == "th.go.dla.registry.lao_registered" and lines[0]["subject"] == "2810101"
    correction = next(x for x in lines if x["type"].endswith(".corrected"))
    assert correction["data"]["set"] == {"budget": "7.50"}
    cancel = next(x for x in lines if x["type"].endswith(".cancelled"))
    assert cancel["time"] == "2024-06-01T00:00:00+07:00"


def test_filters_never_renumber_and_resume_works_from_a_filtered_sequence(busy: MissionLedger) -> None:
    feed = Feed(busy.ledger_recorder)
    everything = list(feed.events())
    khao_kram = list(feed.events(where=FeedFilter(lao="6810103")))
    assert [x["sequence"] for x in khao_kram] == [
        x["sequence"] for x in everything if x["subject"].startswith("6810103")
    ]
    first = list(feed.events(where=FeedFilter(kinds=("th.go.dla.mission.corrected", "cancelled"))))
    assert [x["type"].rsplit(".", 1)[1] for x in first] == ["corrected", "cancelled"]
    after = int(khao_kram[1]["sequence"])
    rest = list(feed.events(after=after, where=FeedFilter(lao="6810103")))
    assert rest == khao_kram[2:]
    krabi = list(feed.events(where=FeedFilter(province="81", kinds=("recorded",))))
    assert len(krabi) == 2
    assert list(feed.events(where=FeedFilter(province="10"))) == []
    assert len(list(feed.events(limit=3))) == 3


def test_feed_cli_bad_input(busy: MissionLedger, location: str) -> None:
    busy.close()
    run = CliRunner()
    bad = run.invoke(cli, ["--db", location, "feed", "--type", "edited"])
    assert bad.exit_code == 2 and "--type 'edited' is not a kind" in bad.output
    bad = run.invoke(cli, ["--db", location, "feed", "--after", "soon"])
    assert bad.exit_code == 2 and "--after 'soon' is not a sequence" in bad.output


def test_schema_lists_every_kind_with_a_version_and_is_generated() -> None:
    result = CliRunner().invoke(cli, ["schema"])
    doc = json.loads(result.output)
    assert set(doc["kinds"]) == set(KINDS)
    for kind, entry in doc["kinds"].items():
        assert entry["version"] >= 1
        name = entry["schema"]["$ref"].rsplit("/", 1)[1]
        definition = doc["$defs"][name]
        assert definition["properties"]["kind"] == {"enum": [kind]}
        assert "recorded_at" in definition["required"]
    assert doc == json.loads(json.dumps(json_schemas()))


def test_an_old_event_decodes_after_its_type_gains_an_optional_field() -> None:
    # The evolution rule (docs/events.md): a new field has a default. Here `corrected` v2 gains one.
    class CorrectedV2(Corrected, frozen=True, kw_only=True, tag="corrected"):
        reviewed_by: str | None = None

    old = next(
        line
        for line in (ROOT / "tests/fixtures/events-v1.jsonl").read_bytes().splitlines()
        if b'"kind":"corrected"' in line
    )
    upgraded = msgspec.json.decode(old, type=CorrectedV2)
    assert upgraded.reviewed_by is None and upgraded.set == decode_event(old).set


def test_the_documented_consumer_applies_each_change_once(
    busy: MissionLedger, location: str, tmp_path: Path, clock
) -> None:
    text = (ROOT / "docs/feed.md").read_text()
    namespace: dict = {}
    exec(text.split("```python\n", 1)[1].split("```", 1)[0], namespace)
    consume = namespace["consume"]
    budget_db = str(tmp_path / "budget.db")
    size = busy.ledger_recorder.log_size()
    assert consume(location, budget_db) == size
    assert consume(location, budget_db) == 0  # resumed: nothing twice
    clock.advance(days=1)
    busy.correct("6810103", "INF-01", set=Fields(budget=Decimal("9")), reason="again")
    assert consume(location, budget_db) == 1
    import sqlite3

    assert sqlite3.connect(budget_db).execute("SELECT thb FROM budget WHERE record = '6810103/INF-01'").fetchone() == (
        "9",
    )


def _env() -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("MISSION_LEDGER_CLOCK", None)
    return env


@pytest.mark.slow
def test_follow_stops_cleanly_on_sigterm_and_sigint(busy: MissionLedger, location: str) -> None:
    busy.close()
    for sig in (signal.SIGTERM, signal.SIGINT):
        proc = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "--db", location, "feed", "--follow"],
            cwd=ROOT,
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert json.loads(first)["sequence"] == "000000000001"
        time.sleep(0.3)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=10)
        assert proc.returncode == 0, err
        assert b"Traceback" not in err


@pytest.mark.slow
def test_a_consumer_killed_at_random_points_ends_with_every_event_exactly_once(
    ledger: MissionLedger, location: str
) -> None:
    """Two writer processes append while a `feed --follow` process is killed (SIGKILL) at random
    points and resumed from the last complete line it printed."""
    ledger.record("6810103", "INF-01", effective_from=date(2024, 1, 1), values=Fields(status="operating"))
    ledger.close()
    rng = random.Random(9162)
    writers = [
        subprocess.Popen(
            [sys.executable, str(ROOT / "tests/support/writer.py"), location, str(n), "20"],
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(2)
    ]
    seen: list[dict] = []
    deadline = time.monotonic() + 120
    kills = 0
    while time.monotonic() < deadline:
        after = seen[-1]["sequence"] if seen else "0"
        consumer = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "--db", location, "feed", "--follow", "--after", after],
            cwd=ROOT,
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.2, 0.8))
        consumer.kill()
        kills += 1
        data, _ = consumer.communicate()
        complete = data.split(b"\n")[:-1]  # a line cut by the kill has no newline yet: not applied
        seen += [json.loads(line) for line in complete]
        if all(w.poll() is not None for w in writers):
            size = MissionLedger(location).ledger_recorder.log_size()
            if seen and int(seen[-1]["sequence"]) == size and kills >= 3:
                break
    for w in writers:
        _, err = w.communicate(timeout=60)
        assert w.returncode == 0, err
    size = MissionLedger(location).ledger_recorder.log_size()
    assert [int(x["sequence"]) for x in seen] == list(range(1, size + 1)), "gap or repeat in the feed"
    assert len({x["id"] for x in seen}) == size and kills >= 3
    _ = datetime  # the feed's times are checked in the strict test above
