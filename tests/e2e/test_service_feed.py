"""The live feed under load, with real processes: two writer processes append while curl clients,
killed with SIGKILL at random moments, resume with Last-Event-ID from the last event they wrote
down — served by two workers over one PostgreSQL ledger (and one over SQLite). Every position is
seen exactly once, in order."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.served import ROOT, Served, ledger_location, seed

pytestmark = pytest.mark.slow


@pytest.fixture(params=["sqlite", "postgres"])
def busy(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Served]:
    workers = 1 if request.param == "sqlite" else 2  # two workers behind one PostgreSQL ledger
    with ledger_location(request.param, tmp_path) as location:
        served = Served(location, tmp_path, workers=workers, env={"MISSION_LEDGER_HEARTBEAT": "0.5"})
        served.tokens = seed(location)
        served.start()
        yield served
        served.stop()


def complete_events(text: str) -> list[tuple[int, str]]:
    """The events a killed client had written down whole: (sequence, type); a torn last one is not."""
    out = []
    text = text.replace("\r\n", "\n")  # SSE lines may end in CRLF (Litestar's do)
    for block in text.split("\n\n")[:-1]:  # the part after the last blank line may be torn
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":"))
        if "id" in fields:
            out.append((int(fields["id"]), fields.get("event", "")))
    return out


def follow_with_kills(
    served: Served, query: str, until: int, rng: random.Random, folder: Path, after: int = 0
) -> list[int]:
    """Run curl on the stream after sequence `after`, kill it at a random moment, resume after the
    last whole event it wrote down, until the sequence `until` has been seen (or 120 s pass)."""
    seen: list[int] = []
    last = after
    deadline = time.monotonic() + 120
    round_ = 0
    while (not seen or seen[-1] < until) and time.monotonic() < deadline:
        round_ += 1
        out = folder / f"curl-{uuid.uuid4().hex[:8]}-{round_}.txt"
        with out.open("wb") as sink:
            curl = subprocess.Popen(
                ["curl", "-s", "-N", "-H", f"Authorization: Bearer {served.tokens['audit']}",
                 "-H", f"Last-Event-ID: {last}", f"{served.url}/api/v1/feed/stream{query}"],
                stdout=sink,
            )  # fmt: skip
            time.sleep(rng.uniform(0.05, 0.6))
            curl.send_signal(signal.SIGKILL)
            curl.wait()
        got = complete_events(out.read_bytes().decode("utf-8", errors="replace"))
        seen += [position for position, _ in got]
        if got:
            last = got[-1][0]
    return seen


def test_killed_clients_resume_and_see_every_position_exactly_once(busy: Served, tmp_path: Path) -> None:
    start = busy.size()
    writers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.support.feed_writer", busy.location, lao, "120"],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        for lao in ("6810104", "6820102")
    ]
    rng = random.Random(9162)
    everything: list[int] = []
    try:
        # While the writers append: follow, kill, resume, until they are done and all is seen.
        for _ in range(100):
            if all(w.poll() is not None for w in writers) and everything and everything[-1] >= busy.size():
                break
            everything += follow_with_kills(
                busy, "", busy.size(), rng, tmp_path, after=everything[-1] if everything else 0
            )
    finally:
        for w in writers:
            w.wait(60)
    assert all(w.returncode == 0 for w in writers)
    final = busy.size()
    assert final == start + 240
    assert everything == list(range(1, final + 1)), "a position was skipped or repeated"

    # A filtered stream: exactly the events of province 82, each once, in order.
    with httpx.Client(
        base_url=f"{busy.url}/api/v1", headers={"Authorization": f"Bearer {busy.tokens['audit']}"}
    ) as http:
        expected = [int(e["sequence"]) for e in http.get("/feed?province=82&limit=5000").json()]
    province = follow_with_kills(busy, "?province=82", expected[-1], rng, tmp_path)
    assert province == expected


def test_the_stream_says_it_is_alive_while_nothing_happens(busy: Served) -> None:
    headers = {"Authorization": f"Bearer {busy.tokens['feeder']}", "Last-Event-ID": str(busy.size())}
    comments = 0
    with httpx.stream("GET", f"{busy.url}/api/v1/feed/stream", headers=headers, timeout=10) as answer:
        assert answer.headers["content-type"].startswith("text/event-stream")
        start = time.monotonic()
        for line in answer.iter_lines():
            comments += line.startswith(": keep-alive")
            if comments >= 2 or time.monotonic() - start > 5:
                break
    assert comments >= 2
