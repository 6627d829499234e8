"""The views follow a large import as it is appended (projections.follow), in a real process of
their own: they commit only after the ledger has, roll back with it, stand down rather than ever
fail or slow the import, and always end equal to views rebuilt from the ledger."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.generate import catalog_csv, laos, records, registry_csv, write_csv
from ledger.application import MissionLedger
from ledger.clock import FixedClock
from ledger.imports.batch import import_file
from projections.follow import FOLLOW_FROM, FollowingViews, views_following
from projections.runner import Projector, check_views
from tests.conftest import START, StepClock, examples, package_data
from tests.support.cli_session import Ledger, ok

ROOT = Path(__file__).resolve().parents[2]
HEADER = "lao_code,mission_code,status,received_fy,quantity,unit,budget,staff,note,effective_from\n"


@pytest.fixture(scope="module")
def nation(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ledger of the nation's 7,848 LAOs and 250 missions, its views current (copied per test)."""
    folder = tmp_path_factory.mktemp("nation")
    app = MissionLedger(folder / "l.db", clock=FixedClock(datetime(2024, 10, 1, 2, tzinfo=UTC)), actor="officer")
    app.initialise("test/nation")
    app.load_registry(registry_csv(laos()), name="registry.csv")
    app.load_catalog(catalog_csv(), name="catalog.csv")
    views = Projector(app.ledger_recorder, folder / "l.views.db")
    views.catch_up()
    views.close()
    app.close()
    return folder


def copy_of(nation: Path, to: Path) -> tuple[Path, Path]:
    for name in ("l.db", "l.views.db"):
        # SQLite's backup: the ledger's last writes may still lie in its WAL.
        source, copy = sqlite3.connect(nation / name), sqlite3.connect(to / name)
        source.backup(copy)
        source.close(), copy.close()
    return to / "l.db", to / "l.views.db"


def first_reports(path: Path, rows: int) -> Path:
    write_csv(records(laos(), rows), path)
    return path


def opened(db: Path) -> MissionLedger:
    return MissionLedger(db, clock=FixedClock(datetime(2024, 11, 1, 2, tzinfo=UTC)), actor="officer")


def views_agree(app: MissionLedger, views: Path) -> None:
    """The views hold the whole ledger, and say what views rebuilt from it say."""
    end, differences = check_views(app.ledger_recorder, views)
    assert end == app.ledger_recorder.log_size() and differences == []


def test_a_large_import_is_in_the_views_when_it_returns(nation: Path, tmp_path: Path) -> None:
    db, views = copy_of(nation, tmp_path)
    app = opened(db)
    with views_following(app.ledger_recorder, views) as follower:
        report = import_file(app, first_reports(tmp_path / "f.csv", FOLLOW_FROM + 1), name="f.csv", follower=follower)
    assert report.appended == FOLLOW_FROM + 2 and not report.errors
    # Committed by the views process, after the ledger: nothing left for a catch-up to do.
    assert follower is not None and follower.outcome == {"position": app.ledger_recorder.log_size()}
    projector = Projector(app.ledger_recorder, views)
    assert projector.position() == app.ledger_recorder.log_size()
    assert projector.catch_up().applied == 0
    projector.close()
    views_agree(app, views)


def test_a_small_import_starts_no_process(nation: Path, tmp_path: Path) -> None:
    db, views = copy_of(nation, tmp_path)
    app = opened(db)
    with views_following(app.ledger_recorder, views) as follower:
        import_file(app, first_reports(tmp_path / "f.csv", 50), name="f.csv", follower=follower)
    assert follower is not None and follower.process is None and follower.outcome is None
    views_agree(app, views)


def test_an_import_rolled_back_leaves_the_views_as_they_were(nation: Path, tmp_path: Path) -> None:
    db, views = copy_of(nation, tmp_path)
    app = opened(db)
    before = Projector(app.ledger_recorder, views)
    digest, size = before.digest(), app.ledger_recorder.log_size()
    path = first_reports(tmp_path / "f.csv", 3_000)
    with path.open("a", encoding="utf-8") as f:
        f.write("6810103,M001,operating,2560,1,แห่ง,,,,not a date\n")  # one bad row, at the end
    with views_following(app.ledger_recorder, views, follow_from=1) as follower:
        report = import_file(app, path, name="f.csv", follower=follower)
    assert report.errors and report.appended == 0
    assert follower is not None and follower.process is not None and follower.process.returncode == 0
    assert follower.outcome == {"stood_down": "the batch was abandoned"}
    assert app.ledger_recorder.log_size() == size and before.digest() == digest and before.position() == size
    before.close()


def test_views_behind_the_batch_stand_down_and_are_caught_up_after(nation: Path, tmp_path: Path) -> None:
    db, views = copy_of(nation, tmp_path)
    app = opened(db)
    earlier = tmp_path / "earlier.csv"
    write_csv(iter(list(records(laos(), 3_000))[-10:]), earlier)
    assert import_file(app, earlier, name="earlier.csv").appended == 11  # the views have not seen it
    follower = FollowingViews(views, app.ledger_recorder.get_meta("ledger_id") or "", follow_from=1)
    with follower:
        report = import_file(app, first_reports(tmp_path / "f.csv", 2_500), name="f.csv", follower=follower)
    assert report.appended == 2_501
    assert follower.process is not None
    assert follower.outcome is not None and "the views are at" in follower.outcome["stood_down"]
    views_agree(app, views)


def test_views_of_another_ledger_are_not_followed_and_the_import_goes_on(nation: Path, tmp_path: Path) -> None:
    db, _ = copy_of(nation, tmp_path)
    other = MissionLedger(tmp_path / "other.db", clock=StepClock(START))
    other.initialise("test/other")
    other.load_catalog(package_data("sample_catalog.csv"), name="c")
    theirs = Projector(other.ledger_recorder, tmp_path / "other.views.db")
    assert theirs.catch_up().applied
    theirs.close()
    app = opened(db)
    with views_following(app.ledger_recorder, tmp_path / "other.views.db") as follower:
        report = import_file(app, first_reports(tmp_path / "f.csv", 100), name="f.csv", follower=follower)
    assert follower is None and report.appended == 101


def test_a_reader_never_waits_for_the_views_an_import_is_writing(nation: Path, tmp_path: Path) -> None:
    db, views = copy_of(nation, tmp_path)
    app = opened(db)
    size = app.ledger_recorder.log_size()
    seen: list[object] = []

    def midway(rows: int) -> None:
        if seen or app.ledger_recorder.log_size() != size:
            return
        if not _views_locked(views):  # the views process has not taken the first chunk yet
            return
        answers: list[object] = []

        def read() -> None:  # another connection, as another process's query would be
            reader = Projector(opened(db).ledger_recorder, views)
            answers.extend([reader.catch_up(), reader.position()])
            reader.close()

        thread = threading.Thread(target=read)
        thread.start()
        thread.join(timeout=20)
        seen.extend([thread.is_alive(), *answers])

    path = first_reports(tmp_path / "f.csv", 12_000)
    with views_following(app.ledger_recorder, views, follow_from=1) as follower:
        report = import_file(app, path, name="f.csv", follower=follower, progress=midway)
    assert report.appended == 12_001
    assert seen, "the views process never held the views while the import ran"
    still_waiting, caught_up, position = seen
    assert still_waiting is False and position == size  # answered at once, with what is committed
    assert caught_up.applied == 0  # type: ignore[attr-defined]
    assert follower is not None and follower.outcome == {"position": size + 12_001}
    views_agree(app, views)


def _views_locked(views: Path) -> bool:
    probe = sqlite3.connect(views, timeout=0)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError:
        return True
    finally:
        probe.close()


IMPORTER = """
import sys
from datetime import UTC, datetime
from pathlib import Path
from ledger.application import MissionLedger
from ledger.clock import FixedClock
from ledger.imports.batch import import_file
from projections.follow import views_following
db, views, path = sys.argv[1:4]
app = MissionLedger(db, clock=FixedClock(datetime(2024, 11, 1, 2, tzinfo=UTC)), actor="officer")
with views_following(app.ledger_recorder, Path(views), follow_from=1) as follower:
    report = import_file(app, Path(path), name="f.csv", follower=follower)
print(report.appended, follower.outcome["stood_down"] if "stood_down" in follower.outcome else "followed", flush=True)
"""


def _followers_of(views: Path) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"projections.follow" in command and str(views).encode() in command:
            found.append(int(entry.name))
    return found


def _start_importer(db: Path, views: Path, path: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", IMPORTER, str(db), str(views), str(path)], env=env, stdout=subprocess.PIPE, text=True
    )


def _wait_for(condition: object, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"{what} did not happen"
        time.sleep(0.02)


def test_an_importer_killed_mid_import_leaves_ledger_and_views_as_they_were(nation: Path, tmp_path: Path) -> None:
    db, views = copy_of(nation, tmp_path)
    app = opened(db)
    size, digest = app.ledger_recorder.log_size(), Projector(app.ledger_recorder, views).digest()
    importer = _start_importer(db, views, first_reports(tmp_path / "f.csv", 60_000))
    _wait_for(lambda: _views_locked(views) and bool(_followers_of(views)), "the views process taking the views")
    found = _followers_of(views)
    assert len(found) == 1, found  # one views process per import
    importer.send_signal(signal.SIGKILL)
    importer.wait()
    # Its input ended without a commit: it rolls back and goes, leaving no process behind.
    _wait_for(lambda: not _followers_of(views), "the orphaned views process ending")
    assert app.ledger_recorder.log_size() == size
    after = Projector(app.ledger_recorder, views)
    assert after.digest() == digest and after.position() == size
    after.close()
    views_agree(app, views)


def test_a_views_process_killed_mid_import_costs_the_import_nothing(nation: Path, tmp_path: Path) -> None:
    db, views = copy_of(nation, tmp_path)
    importer = _start_importer(db, views, first_reports(tmp_path / "f.csv", 30_000))
    _wait_for(lambda: bool(_followers_of(views)), "the views process starting")
    for pid in _followers_of(views):
        os.kill(pid, signal.SIGKILL)
    out, _ = importer.communicate(timeout=300)
    assert importer.returncode == 0
    appended, outcome = out.split(maxsplit=1)
    assert appended == "30001" and outcome.strip() != "followed"
    app = opened(db)
    assert app.ledger_recorder.log_size() == 8098 + 30_001
    views_agree(app, views)  # the ordinary catch-up did the views' work


def test_the_cli_import_leaves_its_views_current(nation: Path, tmp_path: Path) -> None:
    copy_of(nation, tmp_path)
    shutil.move(tmp_path / "l.db", tmp_path / "krabi.db")
    shutil.move(tmp_path / "l.views.db", tmp_path / "krabi.views.db")
    session = Ledger(tmp_path)
    path = first_reports(tmp_path / "first.csv", FOLLOW_FROM + 10)
    ok(session("import", str(path)))
    app = opened(tmp_path / "krabi.db")
    views = Projector(app.ledger_recorder, tmp_path / "krabi.views.db")
    assert views.position() == app.ledger_recorder.log_size() == 8098 + FOLLOW_FROM + 11
    views.close()
    views_agree(app, tmp_path / "krabi.views.db")
    # And what a person asks next answers from them.
    with path.open(encoding="utf-8") as f:
        first = next(csv.DictReader(f))
    shown = json.loads(ok(session("show", first["lao_code"], first["mission_code"], "--json")))
    assert (shown["status"], shown["budget"], shown["version"]) == (first["status"], first["budget"], 1), shown


KEYS = [("6810103", "INF-01"), ("6810103", "QOL-01"), ("4810102", "QOL-03"), ("5810109", "INF-04")]
values = st.fixed_dictionaries(
    {
        "status": st.sampled_from(["operating", "not_yet", "cancelled"]),
        "received_fy": st.integers(2540, 2569),
        "quantity": st.one_of(st.none(), st.decimals(0, 999, places=2)),
        "budget": st.one_of(st.none(), st.decimals(0, 10**7, places=2)),
        "effective": st.sampled_from(["2020-10-01", "2023-10-01", "2024-01-01"]),
    }
)
imports = st.lists(
    st.tuples(
        st.dictionaries(st.sampled_from(KEYS), values, min_size=1),
        st.sampled_from(["corrections", "changes"]),
        st.sampled_from([date(2024, 1, 1), date(2024, 10, 2)]),
    ),
    min_size=1,
    max_size=3,
)


@settings(
    max_examples=examples(12),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batches=imports)
def test_followed_views_equal_rebuilt_views_after_any_imports(tmp_path_factory, batches) -> None:  # type: ignore[no-untyped-def]
    """Corrections, changes and cancellations, in any order: the views the import's process
    wrote are row for row the views rebuilt from the ledger."""
    folder = tmp_path_factory.mktemp("f")
    clock = StepClock(START)
    app = MissionLedger(folder / "l.db", clock=clock)
    app.initialise()
    app.load_registry(package_data("krabi_laos.csv"), name="k")
    app.load_catalog(package_data("sample_catalog.csv"), name="c")
    views = folder / "l.views.db"
    for number, (rows, mode, effective) in enumerate(batches):
        body = "".join(
            f"{lao},{m},{v['status']},{v['received_fy']},{'-' if v['quantity'] is None else v['quantity']},แห่ง,"
            f"{'-' if v['budget'] is None else v['budget']},,,{v['effective']}\n"
            for (lao, m), v in rows.items()
        )
        clock.advance(days=1)
        with views_following(app.ledger_recorder, views, follow_from=1) as follower:
            report = import_file(
                app, (HEADER + body).encode(), name=f"{number}.csv", mode=mode, effective=effective, follower=follower
            )
        assert follower is not None
        if report.appended:
            assert follower.outcome == {"position": app.ledger_recorder.log_size()}, (report.errors, follower.outcome)
        views_agree(app, views)
    app.close()


def test_followed_views_on_postgres(postgres_url: str, tmp_path: Path) -> None:
    app = MissionLedger(postgres_url, clock=StepClock(START), actor="officer")
    app.initialise("test/pg")
    app.load_registry(package_data("krabi_laos.csv"), name="k")
    app.load_catalog(package_data("sample_catalog.csv"), name="c")
    views = tmp_path / "pg.views.db"
    body = "".join(
        f"{lao},{m},operating,2560,{i % 7},แห่ง,,,,2020-10-01\n"
        for i, (lao, m) in enumerate((lao, f"INF-0{n}") for lao in ("6810103", "6810104", "4810102") for n in (1, 2, 3))
    )
    with views_following(app.ledger_recorder, views, follow_from=1) as follower:
        report = import_file(app, (HEADER + body).encode(), name="pg.csv", follower=follower)
    assert report.appended == 10 and follower is not None
    assert follower.outcome == {"position": app.ledger_recorder.log_size()}
    views_agree(app, views)
    app.close()
