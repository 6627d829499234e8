"""python -m bench --http: the service measured from outside, side by side with the Python API.

- GET a record: p50 / p99 with 50 concurrent clients (keep-alive), beside `show` in-process;
- writes per second through the API (8 concurrent clients) beside the Python API in one process;
- 200 concurrent live-feed (SSE) clients each receiving every event of a 10,000-event import: every
  client must get every event exactly once; the delay from the import's commit to the last event's
  arrival, p50 / p99 over the clients.

The clients run in this process (asyncio, raw sockets for SSE so that the clients cost little), the
server in its own (`mission-ledger serve`, one worker): on a 2-core machine they share the CPU.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.generate import catalog_csv, corrections, laos, records, registry_csv, write_csv

ROOT = Path(__file__).resolve().parent.parent
# A frame's id line follows a newline (the previous frame's blank line, or the stream's opening
# comment). Not `^…$` with re.M: that form scans ten times slower, and 200 clients reading 1.5 GB
# through it in this process measured the regex, not the service.
_ID = re.compile(rb"\nid: (\d+)\r?\n")


def _p(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))] * 1000


def _serve(db: Path, port: int, work: Path, workers: int = 1) -> subprocess.Popen[bytes]:
    log = (work / "serve.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "--db", str(db), "serve", "--port", str(port), "--workers", str(workers)],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), "MISSION_LEDGER_HEARTBEAT": "1"}, stdout=log, stderr=log,
    )  # fmt: skip
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit(f"serve did not start: see {work / 'serve.log'}")


async def _reads(
    url: str, token: str, keys: list[tuple[str, str]], clients: int, each: int, *, path: str | None = None
) -> list[float]:
    """GET records from `clients` keep-alive connections at once, each sending its next request when
    the last answer is in (a closed loop). Raw sockets, so that the load costs this process little:
    an HTTP client library spent more CPU per request than the server."""
    host, port = url.removeprefix("http://").split(":")
    latencies: list[float] = []

    async def client(seed: int) -> None:
        rng = random.Random(seed)
        reader, writer = await asyncio.open_connection(host, int(port))
        for _ in range(each):
            if path is None:
                lao, mission = rng.choice(keys)
            start = time.perf_counter()
            writer.write(
                f"GET {path or f'/api/v1/records/{lao}/{mission}'} HTTP/1.1\r\nHost: {host}\r\n"
                f"Authorization: Bearer {token}\r\n\r\n".encode()
            )
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(head.lower().split(b"content-length: ", 1)[1].split(b"\r\n", 1)[0])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - start)
            assert head.startswith(b"HTTP/1.1 200"), head
        writer.close()

    await asyncio.gather(*(client(i) for i in range(clients)))
    return latencies


async def _pages(url: str, cookies: list[str], paths: list[list[str]], each: int) -> dict[str, list[float]]:
    """Each signed-in person (a session cookie) GETs its pages in turn, `each` times, all at once
    (a closed loop per person); latencies by the page's kind (the path's first segment)."""
    host, port = url.removeprefix("http://").split(":")
    found: dict[str, list[float]] = {}

    async def person(cookie: str, mine: list[str]) -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        for i in range(each):
            path = mine[i % len(mine)]
            start = time.perf_counter()
            writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nCookie: ml_session={cookie}\r\n\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200"), (path, head)
            if b"transfer-encoding: chunked" in head.lower():
                while True:
                    size = int((await reader.readuntil(b"\r\n")).strip(), 16)
                    await reader.readexactly(size + 2)
                    if size == 0:
                        break
            else:
                length = int(head.lower().split(b"content-length: ", 1)[1].split(b"\r\n", 1)[0])
                await reader.readexactly(length)
            found.setdefault(path.split("/")[1], []).append(time.perf_counter() - start)
        writer.close()

    await asyncio.gather(*(person(c, p) for c, p in zip(cookies, paths, strict=True)))
    return found


def _sign_in(url: str, token: str) -> str:
    """_sign_in signs in to the pages as a browser does; returns the session cookie."""
    with httpx.Client(base_url=url) as browser:
        form = browser.get("/signin").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', form)
        assert csrf is not None
        answer = browser.post("/signin", data={"csrf": csrf[1], "token": token})
        assert answer.status_code == 303, answer.text
        return str(browser.cookies["ml_session"])


async def _writes(url: str, token: str, keys: list[tuple[str, str]], clients: int, seconds: float) -> int:
    done = 0
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:

        async def client(i: int) -> None:
            nonlocal done
            n = 0
            end = time.perf_counter() + seconds
            mine = keys[i::clients]
            while time.perf_counter() < end:
                lao, mission = mine[n % len(mine)]
                answer = await http.post(
                    f"/api/v1/records/{lao}/{mission}/correct", json={"set": {"staff": 1000 + n}, "reason": "bench"}
                )
                assert answer.status_code == 201, answer.text
                n += 1
                done += 1

        await asyncio.gather(*(client(i) for i in range(clients)))
    return done


async def _sse_client(
    port: int, token: str, after: int, target: dict[str, int], ready: asyncio.Event, out: list[Any]
) -> None:
    """One live-feed client on a raw socket: reads until the event at target["last"] (known once the
    import committed) has come; keeps every id and when the last one arrived."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
    writer.write(
        (
            f"GET /api/v1/feed/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
            f"Last-Event-ID: {after}\r\nAccept: text/event-stream\r\n\r\n"
        ).encode()
    )
    await writer.drain()
    ids: list[int] = []
    times: list[float] = []
    arrived = 0.0
    ready.set()
    buffer = b""
    while not ("last" in target and ids and ids[-1] >= target["last"]):
        chunk = await reader.read(1 << 20)
        if not chunk:
            break
        buffer += chunk
        cut = buffer.rfind(b"\n\n") + 1  # the last frame's end; its blank line's \n stays for the next
        found = [int(x) for x in _ID.findall(buffer, 0, cut + 1)]
        buffer = buffer[cut:]
        if found:
            ids += found
            arrived = time.perf_counter()
            times.extend([arrived] * len(found))
    out.append((arrived, ids, times))
    writer.close()


def _frame_bytes(app: Any, after: int, count: int) -> int:
    """The bytes of the Server-Sent Events that carry events after+1 … after+count."""
    from projections.feed import Feed
    from service.state import frame_of

    feed = Feed(app.ledger_recorder)
    total, position = 0, after
    while position < after + count:
        page = app.ledger_recorder.select_log(position, min(5000, after + count - position))
        total += sum(len(frame_of(feed, logged).frame) for logged in page)
        position = page[-1].position
    return total


def _raw_floor(clients: int, size: int) -> float:
    """How long `clients` streams of `size` bytes each take through raw asyncio sockets on this
    machine — server and clients in one process, in slices with flow control, nothing parsed: the
    floor under the live feed's figure (seconds)."""
    slice_ = b"x" * (256 * 770)

    async def measure() -> float:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readline()
            sent = 0
            while sent < size:
                writer.write(slice_[: size - sent])
                sent += len(slice_)
                await writer.drain()
            writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]

        async def client() -> None:
            reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
            writer.write(b"go\n")
            while await reader.read(1 << 20):
                pass
            writer.close()

        start = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        seconds = time.perf_counter() - start
        server.close()
        return seconds

    return asyncio.run(measure())


def run(events: int = 50_000) -> None:
    """run builds a ledger of `events` first reports, serves it and prints the figures."""
    from ledger.application import MissionLedger
    from ledger.domain.values import Fields
    from ledger.identity import Identity
    from ledger.imports.batch import import_file
    from projections.runner import Projector

    work = Path(tempfile.mkdtemp(prefix="mission-ledger-http-"))
    nation = laos()
    first = list(records(nation, events))
    random.Random(2567).shuffle(first)
    write_csv(iter(first), work / "first.csv")
    db = work / "nation.db"
    app = MissionLedger(db, actor="bench")
    app.initialise("bench/http")
    app.load_registry(registry_csv(nation), name="registry.csv")
    app.load_catalog(catalog_csv(), name="catalog.csv")
    import_file(app, work / "first.csv", name="first.csv")
    # The nation has about 480,000 records: a larger ledger is a later round correcting them.
    round_no = 0
    while app.ledger_recorder.log_size() < events:
        round_no += 1
        wanted = min(len(first), events - app.ledger_recorder.log_size())
        later_rows = [
            {**row, "quantity": str(int(row["quantity"]) + round_no)} for row in first[:wanted]
        ]  # each row a correction of its record
        write_csv(iter(later_rows), work / f"round{round_no}.csv")
        before = app.ledger_recorder.log_size()
        import_file(app, work / f"round{round_no}.csv", name=f"round{round_no}.csv", skip_invalid=True)
        if app.ledger_recorder.log_size() == before:
            break
    identity = Identity(app)
    identity.add("bench.admin", ["admin"])
    token = identity.issue("bench.admin").token
    # 20 province officers for the pages, and the round their dashboards measure against.
    from ledger.domain.provinces import PROVINCES

    # The synthetic nation numbers its provinces 10–86; an officer's role names a real one.
    provinces = [p for p in sorted({lao.province for lao in nation}) if p in PROVINCES][:20]
    officers = []
    for code in provinces:
        identity.add(f"officer.{code}", [f"province:{code}"])
        officers.append((code, identity.issue(f"officer.{code}").token))
    from datetime import date

    from ledger.rounds import Rounds

    Rounds(app).open("bench", date(2024, 10, 1), date(2099, 12, 30))
    Projector(app.ledger_recorder, db.with_name("nation.views.db")).catch_up()
    size = app.ledger_recorder.log_size()
    keys = [(r["lao_code"], r["mission_code"]) for r in first]
    rng = random.Random(1)
    print(f"mission-ledger service benchmark: {size:,} events; work in {work}", flush=True)

    def say(what: str, figure: str, beside: str = "") -> None:
        print(f"{what:<58} {figure:>18}   {beside}", flush=True)

    inproc = []
    for lao, mission in rng.sample(keys, 500):
        start = time.perf_counter()
        app.show(lao, mission)
        inproc.append(time.perf_counter() - start)
    port = 18000 + os.getpid() % 1000
    server = _serve(db, port, work)
    url = f"http://127.0.0.1:{port}"
    try:
        started = time.perf_counter()
        latencies = asyncio.run(_reads(url, token, rng.sample(keys, 5000), 50, 40))
        rate = len(latencies) / (time.perf_counter() - started)
        say(
            "GET a record, 50 concurrent clients p50 / p99 (ms)",
            "{:.1f} / {:.1f}".format(*_p(latencies)),
            "Python API `show` in-process {:.2f} / {:.2f}; target p99 ≤ 20 ms; ".format(*_p(inproc))
            + f"{rate:,.0f} requests/s on one worker",
        )
        started = time.perf_counter()
        floor = asyncio.run(_reads(url, token, [], 50, 40, path="/healthz"))
        say(
            "GET /healthz, 50 concurrent clients p50 / p99 (ms)",
            "{:.1f} / {:.1f}".format(*_p(floor)),
            f"no sign-in, no record: the stack's floor, {len(floor) / (time.perf_counter() - started):,.0f} "
            "requests/s on one worker",
        )
        latencies = asyncio.run(_reads(url, token, rng.sample(keys, 5000), 1, 500))
        say("GET a record, 1 client at a time p50 / p99 (ms)", "{:.1f} / {:.1f}".format(*_p(latencies)))
        two = _serve(db, port + 1, work, workers=2)
        try:
            latencies = asyncio.run(_reads(f"http://127.0.0.1:{port + 1}", token, rng.sample(keys, 5000), 50, 40))
        finally:
            two.terminate()
            two.wait(10)
        say("GET a record, 50 concurrent clients, 2 workers p50 / p99 (ms)", "{:.1f} / {:.1f}".format(*_p(latencies)))

        # The pages: 20 officers signed in at once, each opening its province's dashboard, one of
        # its LAOs' pages and a record's history, in turn.
        cookies = [_sign_in(url, officer) for _, officer in officers]
        by_province: dict[str, list[tuple[str, str]]] = {}
        for lao, mission in keys:
            by_province.setdefault(lao[1:3], []).append((lao, mission))
        paths = []
        for code, _ in officers:
            mine = rng.sample(by_province.get(code, keys), 3)
            paths.append([f"/province/{code}", f"/lao/{mine[0][0]}", f"/record/{mine[1][0]}/{mine[1][1]}"])
        asyncio.run(_pages(url, cookies, paths, 3))  # each person's first visit: caches warm, not measured
        found = asyncio.run(_pages(url, cookies, paths, 30))
        for kind, label in (("province", "province dashboard"), ("lao", "LAO page"), ("record", "record history")):
            target = "target p99 ≤ 300 ms" if kind == "province" else ""
            say(f"page: {label}, 20 signed-in users p50 / p99 (ms)", "{:.1f} / {:.1f}".format(*_p(found[kind])), target)
        writes = asyncio.run(_writes(url, token, rng.sample(keys, 2000), 8, 10.0))
        start = time.perf_counter()
        n = 0
        for lao, mission in rng.sample(keys, 1000):
            n += 1
            app.correct(lao, mission, set=Fields(staff=10_000 + n), reason="bench")
        python_rate = n / (time.perf_counter() - start)
        say("writes through the API, 8 clients (writes/s)", f"{writes / 10.0:,.0f}", f"Python API {python_rate:,.0f}/s")

        # 200 SSE clients, connected at the ledger's end, then a 10,000-event import.
        after = app.ledger_recorder.log_size()
        later = corrections(first[:10_000], fraction=1.0)  # each row corrects a record: 10,000 events
        csv = work / "later.csv"
        write_csv(iter(later), csv)

        async def sse() -> tuple[float, list[Any]]:
            out: list[Any] = []
            readies = [asyncio.Event() for _ in range(200)]
            target: dict[str, int] = {}
            tasks = [asyncio.create_task(_sse_client(port, token, after, target, r, out)) for r in readies]
            await asyncio.gather(*(r.wait() for r in readies))
            await asyncio.sleep(1.0)
            child = await asyncio.create_subprocess_exec(
                sys.executable, "-c",
                "import sys; from pathlib import Path; from ledger.application import MissionLedger; "
                "from ledger.imports.batch import import_file; "
                "r = import_file(MissionLedger(sys.argv[1]), Path(sys.argv[2]), name='later.csv', skip_invalid=True); "
                "print(r.appended)",
                str(db), str(csv), cwd=ROOT, stdout=asyncio.subprocess.PIPE,
            )  # fmt: skip
            stdout, _ = await child.communicate()
            committed = time.perf_counter()
            target["last"] = after + int(stdout.decode().strip())
            await asyncio.wait_for(asyncio.gather(*tasks), timeout=600)
            return committed, [(int(stdout.decode().strip()), *x) for x in out]

        committed, got = asyncio.run(sse())
        appended = got[0][0]
        complete = sum(ids == list(range(after + 1, after + appended + 1)) for _, _, ids, _ in got)
        delays = [max(0.0, at - committed) for _, at, _, _ in got]
        say(
            f"live feed: 200 SSE clients, an import of {appended:,} events",
            f"{complete} of {len(got)} complete",
            "every event exactly once, in order",
        )
        frame_bytes = _frame_bytes(app, after, appended)
        say(
            "  commit → last event delivered, p50 / p99 over clients (ms)",
            "{:.0f} / {:.0f}".format(*_p(delays)),
            f"target p99 ≤ 1,000 ms; {200 * frame_bytes / 1e9:.2f} GB to deliver; the same bytes through raw "
            f"asyncio sockets in one process, nothing parsed: {_raw_floor(200, frame_bytes) * 1000:,.0f} ms",
        )

        # The everyday case: single writes through the API, one every 50 ms, to the same 200 streams.
        async def trickle() -> tuple[list[float], int]:
            start = app.ledger_recorder.log_size()
            out: list[Any] = []
            readies = [asyncio.Event() for _ in range(200)]
            target: dict[str, int] = {}
            tasks = [asyncio.create_task(_sse_client(port, token, start, target, r, out)) for r in readies]
            await asyncio.gather(*(r.wait() for r in readies))
            await asyncio.sleep(1.0)
            commits: dict[int, float] = {}
            async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}) as http:
                for i, (lao, mission) in enumerate(rng.sample(keys, 50)):
                    answer = await http.post(
                        f"/api/v1/records/{lao}/{mission}/correct", json={"set": {"staff": 20_000 + i}, "reason": "b"}
                    )
                    commits[answer.json()["positions"][0]] = time.perf_counter()
                    await asyncio.sleep(0.05)
            target["last"] = max(commits)
            await asyncio.wait_for(asyncio.gather(*tasks), timeout=120)
            delays = [t - commits[i] for _, ids, times in out for i, t in zip(ids, times, strict=True)]
            whole = sum(ids == sorted(commits) for _, ids, _ in out)
            return delays, whole

        delays, whole = asyncio.run(trickle())
        say(
            "live feed: 200 SSE clients, 50 single writes 50 ms apart",
            f"{whole} of 200 complete",
            "each write's response → its event at each client, p50 / p99 (ms): {:.0f} / {:.0f}".format(*_p(delays)),
        )
    finally:
        server.terminate()
        server.wait(10)
        app.close()
