"""python -m bench [--events N] [--quick]: measure mission-ledger at national scale and print the
figures side by side with their baselines; writes BENCHMARKS.md with the machine and versions.

Never part of the test suite: timings belong here, not in tests.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any, Final

from bench.generate import catalog_csv, corrections, laos, records, registry_csv, write_csv

ROOT = Path(__file__).resolve().parent.parent
EACH_ROWS = 50_000
PG_ROWS = 200_000
Row = tuple[str, str, str]


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return p50 * 1000, p99 * 1000


def child(code: str, *args: str) -> dict[str, Any]:
    """Run a measurement in a fresh process (so its peak RSS is its own); it prints JSON."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"benchmark child failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


IMPORT_CHILD = """
import json, resource, sys, time
from datetime import datetime, timezone
from pathlib import Path
from ledger.application import MissionLedger
from ledger.imports.batch import import_file
from ledger.clock import FixedClock
location, path, when = sys.argv[1], sys.argv[2], sys.argv[3]
app = MissionLedger(location, clock=FixedClock(datetime.fromisoformat(when)))
start = time.perf_counter()
report = import_file(app, Path(path), name=Path(path).name)
elapsed = time.perf_counter() - start
assert not report.errors, report.errors[:3]
# VmHWM is this program's own peak: ru_maxrss would also count the benchmark's memory, which
# Linux carries over into a child through fork and exec.
try:
    peak_kb = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
except (OSError, StopIteration):
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": elapsed, "events": report.appended, "rss_mb": peak_kb / 1024}))
"""

WAITS_CHILD = """
import json, sys, time
from datetime import datetime
from pathlib import Path
from ledger.application import MissionLedger
from ledger.imports.batch import import_file
from ledger.clock import FixedClock
from projections.follow import views_following
from projections.runner import Projector
location, path, when = sys.argv[1], sys.argv[2], sys.argv[3]
app = MissionLedger(location, clock=FixedClock(datetime.fromisoformat(when)))
views = Path(location).with_name("waits.views.db")
Projector(app.ledger_recorder, views).catch_up().end  # the registry and catalog: views current before
start = time.perf_counter()
# As the CLI's `import` does: the views follow the batch in a process of their own (projections.follow).
with views_following(app.ledger_recorder, views) as follower:
    report = import_file(app, Path(path), name=Path(path).name, follower=follower)
imported = time.perf_counter()
projector = Projector(app.ledger_recorder, views)
moved = projector.catch_up()
elapsed = time.perf_counter() - start
assert not report.errors, report.errors[:3]
assert follower is not None and follower.outcome == {"position": moved.end}, follower and follower.outcome
print(json.dumps({"seconds": elapsed, "import": imported - start, "events": report.appended}))
"""

PLAIN_CHILD = """
import json, sys, time, csv
from decimal import Decimal
import msgspec
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import Transcoder

class MissionRecord(Aggregate):
    @event("Recorded")
    def __init__(self, lao_code: str, mission_code: str, status: str, received_fy: int, quantity: Decimal,
                 unit: str, budget: Decimal, staff: int, effective_from: str):
        self.values = (lao_code, mission_code, status, received_fy, quantity, unit, budget, staff, effective_from)

class MsgspecTranscoder(Transcoder):
    # The same serialiser the ledger uses (msgspec JSON), not eventsourcing's default JSON transcoder.
    def __init__(self):
        self.encoder, self.decoder = msgspec.json.Encoder(decimal_format="string"), msgspec.json.Decoder()
    def encode(self, obj):
        return self.encoder.encode(obj)
    def decode(self, data):
        return self.decoder.decode(data)

class Plain(Application):
    def construct_transcoder(self):
        return MsgspecTranscoder()

db, path, mode = sys.argv[1], sys.argv[2], sys.argv[3]
app = Plain(env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": db})
def make(r):
    return MissionRecord(r["lao_code"], r["mission_code"], r["status"], int(r["received_fy"]), Decimal(r["quantity"]),
                         r["unit"], Decimal(r["budget"]), int(r["staff"]), r["effective_from"])
start = time.perf_counter()
count = 0
with open(path, encoding="utf-8") as f:
    reader = csv.DictReader(f)
    if mode == "each":
        for r in reader:
            app.save(make(r))
            count += 1
    else:
        # Chunked as the import is (2,000 records a save), rows read, parsed and saved inside the
        # timer as the import's are: the strong baseline of the same work.
        chunk = []
        for r in reader:
            chunk.append(make(r))
            if len(chunk) == 2000:
                app.save(*chunk)
                count += len(chunk)
                chunk = []
        if chunk:
            app.save(*chunk)
            count += len(chunk)
print(json.dumps({"seconds": time.perf_counter() - start, "events": count}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--events", type=int, default=200_000, help="first reports to import (default 200,000)")
    parser.add_argument("--quick", action="store_true", help="a small run (under a minute): 8,000 events")
    parser.add_argument(
        "--postgres", default=os.environ.get("MISSION_LEDGER_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
    )
    parser.add_argument(
        "--out", type=Path, help="write the report here (default: BENCHMARKS.md; a --quick run writes none)"
    )
    parser.add_argument(
        "--http", action="store_true", help="measure the service (`serve`) from outside, beside the Python API"
    )
    parser.add_argument("--rss-rows", type=int, help="only measure the peak RSS of importing this many rows")
    parser.add_argument("--figures", type=Path, help=argparse.SUPPRESS)  # JSON of the key figures (for --scaling)
    parser.add_argument(
        "--scaling",
        metavar="N,N,…",
        help="run at each size (e.g. 100000,200000,1000000) and print the key figures side by side, with the "
        "per-event cost at the largest size over the smallest",
    )
    args = parser.parse_args()
    if args.http:
        from bench.http import run

        run(args.events if args.events != 200_000 else 50_000)
        return
    if args.scaling:
        scaling([int(x) for x in args.scaling.split(",")], args.postgres)
        return
    if args.rss_rows:
        measure_import_rss(args.rss_rows)
        return
    n = 8_000 if args.quick else args.events
    later_rows = 2_000 if args.quick else 10_000

    from ledger.application import MissionLedger
    from ledger.clock import FixedClock
    from ledger.domain.values import Fields
    from ledger.integrity.audit import LedgerAuditor
    from ledger.integrity.checkpoint import Signer
    from projections.completeness import completeness
    from projections.feed import Feed
    from projections.queries import Scope, as_of, history
    from projections.runner import Projector

    work = Path(tempfile.mkdtemp(prefix="mission-ledger-bench-"))
    results: list[tuple[str, str, str]] = []

    figures: dict[str, float] = {"events": 0.0}

    def say(what: str, figure: str, baseline: str = "") -> None:
        results.append((what, figure, baseline))
        print(f"{what:<52} {figure:>22}   {baseline}", flush=True)

    nation = laos()
    # A nation holds about 474,500 records at scale 1; larger runs give each LAO more missions.
    first = list(records(nation, n, scale=max(1.0, n / 474_500 + 0.01)))
    # Reports arrive interleaved across LAOs and missions, not LAO by LAO (a grouped file hid a
    # cost that grew with the square of the ledger).
    random.Random(2567).shuffle(first)
    n = len(first)
    data_csv = work / "first.csv"
    write_csv(iter(first), data_csv)
    print(f"mission-ledger benchmark: {n:,} first reports, {len(nation):,} LAOs, 250 missions; work in {work}")

    # --- 1. import, side by side ---------------------------------------------------------------
    db = work / "nation.db"
    clock = FixedClock(datetime(2024, 10, 1, 2, tzinfo=UTC))
    app = MissionLedger(db, clock=clock, actor="bench")
    app.initialise("bench/nation")
    app.load_registry(registry_csv(nation), name="registry.csv")
    app.load_catalog(catalog_csv(), name="catalog.csv")
    app.close()
    when = datetime(2024, 11, 1, 2, tzinfo=UTC).isoformat()
    ours = child(IMPORT_CHILD, str(db), str(data_csv), when)
    ours_rate = ours["events"] / ours["seconds"]
    # One save per record runs at about 1,700 events/s: past 50,000 rows it is measured on the
    # first 50,000 (its rate does not improve with size), so that a national run fits in minutes.
    each_csv = data_csv
    if n > EACH_ROWS:
        each_csv = work / "first-each.csv"
        write_csv(iter(first[:EACH_ROWS]), each_csv)
    plain_each = child(PLAIN_CHILD, str(work / "plain-each.db"), str(each_csv), "each")
    plain_batch = child(PLAIN_CHILD, str(work / "plain-batch.db"), str(data_csv), "batch")
    app = MissionLedger(db, clock=clock)
    stored = [(e.stream_id, e.version, e.topic, e.state) for e in app.ledger_recorder.iter_log(page=10_000)]
    raw = sqlite3.connect(work / "raw.db")
    raw.execute(
        "CREATE TABLE stored_events (originator_id TEXT, originator_version INTEGER, topic TEXT, state BLOB, "
        "PRIMARY KEY (originator_id, originator_version))"
    )
    raw_seconds, _ = timed(
        lambda: (raw.executemany("INSERT INTO stored_events VALUES (?,?,?,?)", stored), raw.commit())
    )
    raw_rate = len(stored) / raw_seconds
    each_rate = plain_each["events"] / plain_each["seconds"]
    batch_rate = plain_batch["events"] / plain_batch["seconds"]
    each_note = f" on {EACH_ROWS:,} rows" if n > EACH_ROWS else ""
    say(
        f"import {n:,} rows (events/s, with Merkle leaves)",
        f"{ours_rate:,.0f}",
        f"plain eventsourcing: per-record save{each_note} {each_rate:,.0f} ({ours_rate / each_rate:.2f}x), "
        f"batched save of 2,000 with msgspec {batch_rate:,.0f} ({ours_rate / batch_rate:.2f}x); "
        f"raw executemany {raw_rate:,.0f} ({ours_rate / raw_rate:.2f}x)",
    )
    figures["import events/s"] = ours_rate
    figures["batched baseline events/s"] = batch_rate
    # The import a user waits for: `import` until its views answer (the CLI catches them up before
    # it returns), on a ledger of its own whose views were current before.
    waits_db = work / "waits.db"
    waits = MissionLedger(waits_db, clock=FixedClock(datetime(2024, 10, 1, 2, tzinfo=UTC)), actor="bench")
    waits.initialise("bench/waits")
    waits.load_registry(registry_csv(nation), name="registry.csv")
    waits.load_catalog(catalog_csv(), name="catalog.csv")
    waits.close()
    waited = child(WAITS_CHILD, str(waits_db), str(data_csv), when)
    waits_rate = waited["events"] / waited["seconds"]
    say(
        f"import {n:,} rows until its views answer (events/s)",
        f"{waits_rate:,.0f}",
        f"plain eventsourcing batched {batch_rate:,.0f} ({waits_rate / batch_rate:.2f}x; target ≥ 1.0x); "
        f"the import, its views following it, {waited['import']:.1f} s; "
        f"the catch-up after it {waited['seconds'] - waited['import']:.2f} s",
    )
    figures["import + views events/s"] = waits_rate
    figures["import + views / baseline"] = waits_rate / batch_rate
    say(f"peak RSS importing {n:,} rows (MB)", f"{ours['rss_mb']:,.0f}", "target ≤ 300 MB at 1,000,000 rows")
    figures["import peak RSS MB"] = ours["rss_mb"]

    # --- 2. projections ---------------------------------------------------------------------
    size = app.ledger_recorder.log_size()
    projector = Projector(app.ledger_recorder, work / "nation.views.db")
    seconds, _ = timed(projector.rebuild)
    say(f"projection rebuild of {size:,} events (events/s)", f"{size / seconds:,.0f}", "target ≥ 50,000")
    figures["events"] = float(size)
    figures["rebuild events/s"] = size / seconds
    later = corrections(first[: min(n, later_rows)], fraction=1.0)
    write_csv(iter(later), work / "later.csv")
    clock.at = datetime(2025, 1, 5, 2, tzinfo=UTC)
    app.close()
    child(IMPORT_CHILD, str(db), str(work / "later.csv"), clock.at.isoformat())
    app = MissionLedger(db, clock=clock)
    projector = Projector(app.ledger_recorder, work / "nation.views.db")
    seconds, moved = timed(projector.catch_up)
    figures["catch-up events/s"] = moved.applied / seconds
    say(
        f"incremental catch-up after a {moved.applied:,}-event import (s)",
        f"{seconds:.2f}",
        f"{moved.applied / seconds:,.0f} events/s",
    )

    # --- 3. queries ----------------------------------------------------------------------------
    rng = random.Random(1)
    sample = rng.sample(first, min(200, n))
    now = datetime(2025, 2, 1, tzinfo=UTC)
    total = app.ledger_recorder.log_size()
    lat = [timed(lambda r=r: app.show(r["lao_code"], r["mission_code"], known_at=now))[0] for r in sample]
    figures["show p99 ms"] = percentiles(lat)[1]
    say(
        f"show one record p50 / p99 (ms) at {total:,} events",
        "{:.2f} / {:.2f}".format(*percentiles(lat)),
        "target p99 ≤ 2 ms",
    )
    db_views = projector.db
    codes = rng.sample(sorted({r["lao_code"] for r in first}), min(100, len({r["lao_code"] for r in first})))
    lat = [
        timed(lambda c=c: list(as_of(db_views, known_at=now, valid_on=now.date(), scope=Scope(lao=c))))[0]
        for c in codes
    ]
    figures["as-of LAO p99 ms"] = percentiles(lat)[1]
    say("as-of one LAO p50 / p99 (ms)", "{:.2f} / {:.2f}".format(*percentiles(lat)), "target p99 ≤ 10 ms")
    provinces = sorted({lao.province for lao in nation})[:20]
    lat = [
        timed(lambda p=p: list(as_of(db_views, known_at=now, valid_on=now.date(), scope=Scope(province=p))))[0]
        for p in provinces
    ]
    figures["as-of province p99 ms"] = percentiles(lat)[1]
    say("as-of one province p50 / p99 (ms)", "{:.2f} / {:.2f}".format(*percentiles(lat)), "target p99 ≤ 100 ms")
    lat = [timed(lambda: sum(1 for _ in as_of(db_views, known_at=now, valid_on=now.date())))[0] for _ in range(3)]
    say("as-of the nation p50 / p99 (ms)", "{:.0f} / {:.0f}".format(*percentiles(lat)), f"{total:,} events")
    key = (first[0]["lao_code"], first[0]["mission_code"])
    for i in range(49):
        clock.at += timedelta(minutes=1)
        app.change(*key, set=Fields(staff=i), effective_from=date(2025, 1, 1) + timedelta(days=i), reason="bench")
    projector.catch_up()
    lat = [timed(lambda: history(db_views, *key))[0] for _ in range(50)]
    say("history of a record with 50 events p50 / p99 (ms)", "{:.2f} / {:.2f}".format(*percentiles(lat)))
    lat = [timed(lambda p=p: completeness(db_views, known_at=now, scope=Scope(province=p)))[0] for p in provinces[:10]]
    figures["completeness province p99 ms"] = percentiles(lat)[1]
    say(
        "completeness report for a province p50 / p99 (ms)",
        "{:.1f} / {:.1f}".format(*percentiles(lat)),
        "target p99 ≤ 100 ms",
    )
    lat = [timed(lambda: completeness(db_views, known_at=now, scope=Scope()))[0] for _ in range(3)]
    figures["completeness nation p99 ms"] = percentiles(lat)[1]
    say(
        "completeness report for the nation p50 / p99 (ms)", "{:.0f} / {:.0f}".format(*percentiles(lat)), "target ≤ 2 s"
    )

    # --- 4. verify and proofs ------------------------------------------------------------------
    auditor = LedgerAuditor(app.ledger_recorder)
    note = auditor.sign_checkpoint(Signer.generate("bench"), clock.now())
    total = app.ledger_recorder.log_size()
    seconds, report = timed(lambda: auditor.verify([note]))
    assert report.ok, report.problems[:3]
    say(
        f"verify {total:,} events (events/s)", f"{total / seconds:,.0f}", f"{seconds:.1f} s; target 1,000,000 in ≤ 15 s"
    )
    figures["verify events/s"] = total / seconds
    lat = [timed(lambda p=p: auditor.inclusion_proof(p, note))[0] for p in rng.sample(range(1, total + 1), 50)]
    say(f"inclusion proof p50 / p99 (ms) in {total:,} events", "{:.2f} / {:.2f}".format(*percentiles(lat)))
    old_notes = []
    for size in sorted(rng.sample(range(1, total), 10)):
        old_notes.append(_note_at(auditor, size, note))
    lat = [timed(lambda o=o: auditor.consistency_proof(o, note))[0] for o in old_notes]
    say("consistency proof p50 / p99 (ms)", "{:.2f} / {:.2f}".format(*percentiles(lat)))

    # --- 5. feed -------------------------------------------------------------------------------
    import msgspec

    count = app.ledger_recorder.log_size()
    app.close()
    seconds = feed_cli(str(db))
    figures["feed events/s"] = count / seconds
    say(
        f"feed {count:,} events to /dev/null (events/s)",
        f"{count / seconds:,.0f}",
        f"the `feed` command in its own process, start-up included ({seconds:.1f} s); target ≥ 200,000",
    )
    encoder = msgspec.json.Encoder()
    app = MissionLedger(db, clock=clock)
    with open(os.devnull, "wb") as sink:
        seconds, count = timed(
            lambda: sum(sink.write(encoder.encode(x) + b"\n") > 0 for x in Feed(app.ledger_recorder).events(raw=True))
        )
    say("feed through the Python API (`iter_feed`, dicts) (events/s)", f"{count / seconds:,.0f}")
    app.close()

    # --- 7. PostgreSQL ---------------------------------------------------------------------------
    try:
        import uuid

        import psycopg

        with psycopg.connect(args.postgres, connect_timeout=3):
            pass
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        url = f"{args.postgres}?schema={schema}"
        pg = MissionLedger(url, clock=FixedClock(datetime(2024, 10, 1, 2, tzinfo=UTC)))
        pg.initialise("bench/pg")
        pg.load_registry(registry_csv(nation), name="registry.csv")
        pg.load_catalog(catalog_csv(), name="catalog.csv")
        pg.close()
        pg_csv = data_csv
        if n > PG_ROWS:  # the same first rows as SQLite's, fewer of them: PostgreSQL appends at a few thousand/s
            pg_csv = work / "first-pg.csv"
            write_csv(iter(first[:PG_ROWS]), pg_csv)
        pg_import = child(IMPORT_CHILD, url, str(pg_csv), when)
        pg_rate = pg_import["events"] / pg_import["seconds"]
        say(
            f"PostgreSQL: import {min(n, PG_ROWS):,} rows (events/s)",
            f"{pg_rate:,.0f}",
            f"SQLite {ours_rate:,.0f} at {n:,} rows ({pg_rate / ours_rate:.2f}x; target ≥ 0.8x)",
        )
        figures["PostgreSQL import / SQLite"] = pg_rate / ours_rate
        pg = MissionLedger(url)
        count = pg.ledger_recorder.log_size()
        pg.close()
        seconds = feed_cli(url)
        say(f"PostgreSQL: feed {count:,} events, `feed` command (events/s)", f"{count / seconds:,.0f}")
        with psycopg.connect(args.postgres, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    except Exception as e:  # no server: the figures are left out, and the report says so
        say("PostgreSQL", "not measured", f"{type(e).__name__}: {str(e).splitlines()[0][:80]}")

    if args.figures:
        args.figures.write_text(json.dumps(figures), encoding="utf-8")
    # A quick run is a smoke test: it must not replace the report of a full one.
    out = args.out or (None if args.quick or args.figures else ROOT / "BENCHMARKS.md")
    if out is not None:
        write_report(out, n, results)


#: The figures --scaling compares: (name, higher is better).
SCALING: Final = (
    ("import events/s", True),
    ("batched baseline events/s", True),
    ("import + views events/s", True),
    ("import + views / baseline", True),
    ("rebuild events/s", True),
    ("catch-up events/s", True),
    ("show p99 ms", False),
    ("as-of LAO p99 ms", False),
    ("as-of province p99 ms", False),
    ("completeness province p99 ms", False),
    ("completeness nation p99 ms", False),
    ("feed events/s", True),
    ("verify events/s", True),
    ("import peak RSS MB", False),
    ("PostgreSQL import / SQLite", True),
)


def scaling(sizes: list[int], postgres: str) -> None:
    """Run the benchmark at each size in a process of its own and print the key figures side by
    side; the last column is the cost per event at the largest size over the smallest (1.00: linear;
    for latencies, the ratio of the latencies)."""
    found: dict[int, dict[str, float]] = {}
    for n in sizes:
        with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
            path = Path(f.name)
        print(f"\n=== {n:,} events ===", flush=True)
        subprocess.run(
            [sys.executable, "-m", "bench", "--events", str(n), "--figures", str(path), "--postgres", postgres],
            check=True,
            cwd=ROOT,
        )
        found[n] = json.loads(path.read_text(encoding="utf-8"))
        path.unlink()
    small, large = sizes[0], sizes[-1]
    header = f"{'figure':<32}" + "".join(f"{n:>14,}" for n in sizes) + f"{'cost ' + str(large // small) + 'x':>12}"
    print("\n" + header)
    for name, higher in SCALING:
        values = [found[n].get(name, float("nan")) for n in sizes]
        first, last = values[0], values[-1]
        ratio = first / last if higher else last / first
        shown = "".join(f"{v:>14,.2f}" if abs(v) < 10 else f"{v:>14,.1f}" for v in values)
        print(f"{name:<32}{shown}{ratio:>12.2f}")


def feed_cli(location: str) -> float:
    """Run `mission-ledger feed` over the whole ledger into /dev/null; its wall time."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with open(os.devnull, "wb") as sink:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "cli.main", "--db", location, "feed"], stdout=sink, env=env, check=True)
        return time.perf_counter() - start


def _note_at(auditor: Any, size: int, signed: str) -> str:
    """A checkpoint of the first `size` events, signed by a throwaway key (what matters is the size
    and root a consistency proof starts from)."""
    from ledger.integrity.checkpoint import Checkpoint, Signer

    checkpoint = Checkpoint(auditor.origin(), size, auditor.root_at(size))
    return Signer.generate("bench-old").sign(checkpoint.text())


def measure_import_rss(rows: int) -> None:
    """Import `rows` first reports (all in one file, one batch) into a fresh ledger in a child
    process and print its peak RSS."""
    from ledger.application import MissionLedger
    from ledger.clock import FixedClock

    work = Path(tempfile.mkdtemp(prefix="mission-ledger-rss-"))
    nation = laos()
    path = work / "rows.csv"
    written = write_csv(records(nation, rows, scale=rows / 474_500 + 0.01), path)
    app = MissionLedger(work / "l.db", clock=FixedClock(datetime(2024, 10, 1, 2, tzinfo=UTC)))
    app.initialise("bench/rss")
    app.load_registry(registry_csv(nation), name="registry.csv")
    app.load_catalog(catalog_csv(), name="catalog.csv")
    app.close()
    result = child(IMPORT_CHILD, str(work / "l.db"), str(path), datetime(2024, 11, 1, 2, tzinfo=UTC).isoformat())
    print(
        f"import of {written:,} rows ({path.stat().st_size / 1e6:,.0f} MB CSV): {result['events']:,} events in "
        f"{result['seconds']:,.0f} s ({result['events'] / result['seconds']:,.0f} events/s), "
        f"peak RSS {result['rss_mb']:,.0f} MB"
    )


def write_report(path: Path, n: int, results: list[tuple[str, str, str]]) -> None:
    versions = ", ".join(f"{p} {metadata.version(p)}" for p in ("eventsourcing", "msgspec", "sqlite-utils", "psycopg"))
    lines = [
        "# Benchmarks",
        "",
        f"Printed by `python -m bench --events {n}` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
        "",
        f"- machine: {platform.machine()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}",
        f"- Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}; {versions}",
        "",
        "| measurement | figure | baseline / target |",
        "|---|---:|---|",
        *(f"| {a} | {b} | {c} |" for a, b, c in results),
        "",
    ]
    notes = ROOT / "bench" / "NOTES.md"
    if notes.exists():
        lines += [notes.read_text(encoding="utf-8")]
    path.write_text("\n".join(lines), encoding="utf-8")
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
