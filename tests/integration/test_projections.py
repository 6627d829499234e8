"""The read side: catch-up, rebuild, digest, queries, completeness, and views that do not match."""

from __future__ import annotations

import json
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli.main import cli
from ledger.application import MissionLedger
from ledger.domain.thai import BANGKOK, end_of_day
from ledger.domain.values import Fields
from ledger.errors import BadInput, NotFound
from projections.completeness import completeness
from projections.queries import Scope, as_of, changes, history
from projections.runner import Projector, ViewsMismatch

ROOT = Path(__file__).resolve().parents[2]
DEADLINE = end_of_day(date(2024, 12, 30))


def at(y: int, m: int, d: int, h: int = 10) -> datetime:
    return datetime(y, m, d, h, tzinfo=BANGKOK)


def full(**extra: object) -> Fields:
    values = {"status": "operating", "received_fy": 2560, "quantity": Decimal("1"), "unit": "แห่ง"}
    values.update(extra)
    return Fields(**values)


@pytest.fixture
def krabi_round(ledger: MissionLedger, clock) -> MissionLedger:
    """A reporting round in Krabi: complete, incomplete, silent and late LAOs."""
    clock.at = at(2024, 10, 15)
    ledger.record("2810101", "INF-01", effective_from=date(2020, 10, 1), values=full(unit="กิโลเมตร"))
    clock.at = at(2024, 11, 20)
    ledger.record(
        "6810103", "INF-01", effective_from=date(2002, 10, 1), values=full(quantity=Decimal("12.5"), unit="กิโลเมตร")
    )
    clock.at = at(2024, 12, 2)
    ledger.record(
        "4810102",
        "QOL-03",
        effective_from=date(2022, 10, 1),
        values=Fields(status="operating", quantity=Decimal("1"), unit="แห่ง"),
    )
    clock.at = at(2024, 12, 30, 23)  # late on the deadline day still counts
    ledger.record("6810103", "QOL-01", effective_from=date(2007, 10, 1), values=full())
    clock.at = at(2025, 1, 5)
    ledger.correct("4810102", "QOL-03", set=Fields(received_fy=2566), reason="fiscal year was missing")
    clock.at = at(2025, 1, 10)
    ledger.record("5810109", "INF-04", effective_from=date(2024, 10, 1), values=full(status="not_yet"))
    clock.at = at(2025, 2, 1)
    return ledger


@pytest.fixture
def views(krabi_round: MissionLedger, tmp_path: Path) -> Projector:
    projector = Projector(krabi_round.ledger_recorder, tmp_path / "ledger.views.db")
    projector.catch_up()
    yield projector
    projector.close()


def verdicts(report) -> dict[str, str]:
    return {x.lao_code: x.verdict for x in report.laos}


def test_completeness_as_of_the_deadline_and_as_of_today(views: Projector) -> None:
    by_deadline = completeness(views.db, known_at=DEADLINE, round_start=date(2024, 11, 1), scope=Scope(province="81"))
    v = verdicts(by_deadline)
    assert len(v) == 62
    assert (v["6810103"], v["4810102"], v["5810109"], v["2810101"]) == (
        "complete",
        "incomplete",
        "no_records",
        "complete",
    )
    lines = {x.lao_code: x for x in by_deadline.laos}
    assert lines["4810102"].incomplete_records == 1
    assert lines["6810103"].records == 2 and lines["6810103"].reported_since_round_start
    assert not lines["2810101"].reported_since_round_start  # reported before the round began
    assert lines["6810103"].last_recorded_at == at(2024, 12, 30, 23)
    assert sum(1 for x in v.values() if x == "no_records") == 59
    today = verdicts(completeness(views.db, known_at=at(2025, 2, 1), scope=Scope(province="81")))
    assert (today["4810102"], today["5810109"]) == ("complete", "complete")
    district = next(d for d in by_deadline.districts if d.code == "8101")
    assert (district.complete, district.incomplete, district.no_records) == (2, 1, district.laos - 3)
    assert by_deadline.province.code == "81" and by_deadline.province.laos == 62 and by_deadline.province.complete == 2


def test_completeness_json_shape_through_the_cli(krabi_round: MissionLedger, location: str, tmp_path: Path) -> None:
    krabi_round.close()
    db = [location, "--views", str(tmp_path / "cli.views.db")]
    result = CliRunner().invoke(
        cli,
        ["--db", *db, "report", "completeness", "--province", "81", "--known-at", "2567-12-30", "--json"],
        env={"MISSION_LEDGER_CLOCK": "2025-02-01"},
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert set(doc) >= {"laos", "districts", "province"}
    lao = next(x for x in doc["laos"] if x["lao_code"] == "4810102")
    assert {
        "lao_code",
        "records",
        "incomplete_records",
        "last_recorded_at",
        "reported_since_round_start",
        "verdict",
    } <= set(lao)
    assert lao["verdict"] == "incomplete" and lao["last_recorded_at"] == "2024-12-02T10:00:00+07:00"
    assert doc["province"]["province_code"] == "81"


def test_as_of_at_the_deadline_shows_what_was_known_then(views: Projector) -> None:
    rows = [r for r, _ in as_of(views.db, known_at=DEADLINE, valid_on=date(2024, 12, 30), scope=Scope(province="81"))]
    assert [(r["lao_code"], r["mission_code"]) for r in rows] == [
        ("2810101", "INF-01"),
        ("4810102", "QOL-03"),
        ("6810103", "INF-01"),
        ("6810103", "QOL-01"),
    ]
    qol = rows[1]
    assert qol["received_fy"] is None and qol["version"] == 1
    now = {
        (r["lao_code"], r["mission_code"]): r
        for r, _ in as_of(views.db, known_at=at(2025, 2, 1), valid_on=date(2025, 2, 1))
    }
    assert now[("4810102", "QOL-03")]["received_fy"] == 2566 and ("5810109", "INF-04") in now


def test_as_of_one_lao_and_one_district(views: Projector) -> None:
    one = [
        r["mission_code"]
        for r, _ in as_of(views.db, known_at=at(2025, 2, 1), valid_on=date(2025, 2, 1), scope=Scope(lao="6810103"))
    ]
    assert one == ["INF-01", "QOL-01"]
    district = list(as_of(views.db, known_at=at(2025, 2, 1), valid_on=date(2025, 2, 1), scope=Scope(district="8101")))
    assert len(district) == 5


@pytest.mark.parametrize(
    "scope, message",
    [
        (Scope(lao="9999999"), "LAO 9999999"),
        (Scope(district="8199"), "district 8199"),
        (Scope(province="10"), "province 10"),
    ],
)
def test_unknown_scope_codes_are_refused(views: Projector, scope: Scope, message: str) -> None:
    with pytest.raises(NotFound, match=message):
        list(as_of(views.db, known_at=DEADLINE, valid_on=date(2024, 12, 30), scope=scope))


def test_history_lists_every_event_with_before_and_after(views: Projector) -> None:
    entries = history(views.db, "4810102", "QOL-03")
    assert [e.kind for e in entries] == ["recorded", "corrected"]
    assert entries[1].changes == {"received_fy": [None, 2566]}
    assert entries[1].reason == "fiscal year was missing" and entries[1].actor == "tester"
    with pytest.raises(NotFound, match="no record 4810102/INF-01"):
        history(views.db, "4810102", "INF-01")


def test_changes_in_a_window(views: Projector) -> None:
    # Every kind by default: a late first report is as late as a correction.
    late = list(changes(views.db, since=DEADLINE, scope=Scope(province="81")))
    assert [(e.kind, e.lao_code) for e in late] == [("corrected", "4810102"), ("recorded", "5810109")]
    corrections = list(changes(views.db, since=DEADLINE, kinds=("corrected",)))
    assert [e.kind for e in corrections] == ["corrected"]
    with pytest.raises(BadInput, match="--kind 'edited'"):
        list(changes(views.db, since=DEADLINE, kinds=("edited",)))


def test_rebuild_gives_the_same_digest_as_incremental_catch_up(
    views: Projector, krabi_round: MissionLedger, clock, tmp_path: Path
) -> None:
    clock.advance(days=1)
    krabi_round.cancel("6810103", "QOL-01", effective_from=date(2025, 3, 1), reason="merged")
    views.catch_up()
    incremental = views.digest()
    rebuilt = Projector(krabi_round.ledger_recorder, tmp_path / "other.views.db")
    rebuilt.catch_up()
    assert rebuilt.digest() == incremental
    assert views.rebuild().end == krabi_round.ledger_recorder.log_size()
    assert views.digest() == incremental


def test_views_of_another_ledger_or_ahead_of_the_ledger_are_refused(views: Projector, tmp_path: Path, clock) -> None:
    other = MissionLedger(tmp_path / "other.db", clock=clock)
    other.initialise()
    with pytest.raises(ViewsMismatch, match=r"belongs to another ledger.*project --rebuild"):
        Projector(other.ledger_recorder, views.views_path).catch_up()
    # A ledger with the same id but fewer events (an older backup restored): the views are ahead.
    older = MissionLedger(tmp_path / "older.db", clock=clock)
    older.ledger_recorder.set_meta_once("ledger_id", views.recorder.get_meta("ledger_id") or "")
    with pytest.raises(ViewsMismatch, match="ahead of the ledger"):
        Projector(older.ledger_recorder, views.views_path).catch_up()


def test_every_cli_write_catches_the_views_up(tmp_path: Path) -> None:
    from tests.conftest import package_data

    db = tmp_path / "k.db"
    (tmp_path / "k.csv").write_bytes(package_data("krabi_laos.csv"))
    (tmp_path / "c.csv").write_bytes(package_data("sample_catalog.csv"))
    env = {"MISSION_LEDGER_CLOCK": "2024-11-01"}
    run = CliRunner()
    for args in (
        ["init"],
        ["registry", "load", str(tmp_path / "k.csv")],
        ["catalog", "load", str(tmp_path / "c.csv")],
        ["record", "6810103", "INF-04", "--status", "not_yet", "--effective", "2567-10-01"],
    ):
        assert run.invoke(cli, ["--db", str(db), *args], env=env).exit_code == 0
    views = sqlite3.connect(tmp_path / "k.views.db")
    assert views.execute("SELECT value FROM _meta WHERE key = 'position'").fetchone()[0] == "94"
    assert views.execute("SELECT status FROM records WHERE lao_code = '6810103'").fetchone()[0] == "not_yet"


def test_as_of_cli_json_csv_and_at_seq(krabi_round: MissionLedger, location: str, tmp_path: Path) -> None:
    krabi_round.close()
    db = [location, "--views", str(tmp_path / "cli.views.db")]
    env = {"MISSION_LEDGER_CLOCK": "2025-02-01"}
    run = CliRunner()
    out = run.invoke(cli, ["--db", *db, "as-of", "--known-at", "2567-12-30", "--lao", "6810103", "--json"], env=env)
    assert out.exit_code == 0, out.output
    rows = json.loads(out.output)
    assert [r["mission_code"] for r in rows] == ["INF-01", "QOL-01"]
    assert list(rows[0]) == [
        "lao_code",
        "mission_code",
        "status",
        "received_fy",
        "quantity",
        "unit",
        "budget",
        "staff",
        "note",
        "version",
        "effective_from",
        "valid_from",
        "valid_to",
        "recorded_at",
    ]
    csv_out = run.invoke(cli, ["--db", *db, "as-of", "--known-at", "2567-12-30", "--lao", "6810103", "--csv"], env=env)
    assert csv_out.output.startswith("\ufefflao_code,mission_code,status")
    assert "กิโลเมตร" in csv_out.output
    seq = run.invoke(cli, ["--db", *db, "as-of", "--at-seq", "94", "--json"], env=env)
    assert [r["lao_code"] for r in json.loads(seq.output)] == ["2810101"]
    beyond = run.invoke(cli, ["--db", *db, "as-of", "--at-seq", "5000"], env=env)
    assert beyond.exit_code == 2 and "beyond the ledger" in beyond.output
    bad = run.invoke(cli, ["--db", *db, "as-of", "--district", "9999"], env=env)
    assert bad.exit_code == 3 and "district 9999 is not in the registry" in bad.output
    hist = run.invoke(cli, ["--db", *db, "history", "4810102", "QOL-03"], env=env)
    assert "received_fy: — → 2566" in hist.output
    digest = run.invoke(cli, ["--db", *db, "project", "--digest"], env=env)
    rebuilt = run.invoke(cli, ["--db", *db, "project", "--rebuild", "--digest"], env=env)
    assert digest.output.splitlines()[-1] == rebuilt.output.splitlines()[-1]


def test_thai_names_sort_in_dictionary_order(views: Projector) -> None:
    report = completeness(views.db, known_at=DEADLINE, scope=Scope(district="8101"), sort="name")
    names = [x.name_th for x in report.laos]
    # องค์การ… sorts after เทศบาล… (เ is placed after its consonant ท), and ก before อ.
    assert names.index("เทศบาลเมืองกระบี่") < names.index("องค์การบริหารส่วนจังหวัดกระบี่")


def _documented_sql() -> str:
    text = (ROOT / "docs" / "views.md").read_text()
    return text.split("```sql\n", 1)[1].split("```", 1)[0]


def test_the_documented_as_of_sql_gives_what_as_of_gives(views: Projector) -> None:
    expected = [
        (r["lao_code"], r["mission_code"], r["status"])
        for r, _ in as_of(views.db, known_at=DEADLINE, valid_on=date(2024, 12, 30), scope=Scope(province="81"))
    ]
    plain = sqlite3.connect(views.views_path)
    rows = [(r[0], r[1], r[2]) for r in plain.execute(_documented_sql())]
    assert rows == expected and rows
    shell = shutil.which("sqlite3")
    if shell is None:
        pytest.skip("the sqlite3 shell is not installed; the same SQL ran through Python's sqlite3 above")
    out = subprocess.run(
        [shell, "-csv", str(views.views_path)], input=_documented_sql(), capture_output=True, text=True, check=True
    )
    assert [tuple(line.split(",")[:3]) for line in out.stdout.splitlines()] == expected


@pytest.mark.slow
def test_a_projection_killed_midway_resumes_without_double_applying(tmp_path: Path, clock) -> None:
    """A real process catching up a ledger page by page is killed; the views stay at a page
    boundary, and a second catch-up ends with the same digest as a clean rebuild."""
    db = tmp_path / "big.db"
    app = MissionLedger(db, clock=clock)
    app.initialise()
    header = "lao_code,lao_type,name_th,province_code,province_th,district_code,district_th\n"
    rows = "".join(
        f"6{10 + i // 1000:02d}{i % 1000:04d},sao,อบต.ทดสอบ{i},{10 + i // 1000:02d},จังหวัด,"
        f"{10 + i // 1000:02d}01,อำเภอ\n"
        for i in range(3000)
    )
    app.load_registry((header + rows).encode(), name="synthetic.csv")
    size = app.ledger_recorder.log_size()
    views = tmp_path / "big.views.db"
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "--db", str(db), "project", "--page", "20"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            row = sqlite3.connect(views, timeout=0.1).execute("SELECT value FROM _meta WHERE key='position'").fetchone()
        except sqlite3.Error:
            row = None
        if row and int(row[0]) > 0:
            break
        time.sleep(0.001)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    position = int(sqlite3.connect(views).execute("SELECT value FROM _meta WHERE key='position'").fetchone()[0])
    assert 0 < position < size, f"the kill came too late to test anything ({position} of {size})"
    assert position % 20 == 0  # a page boundary
    applied = sqlite3.connect(views).execute("SELECT COUNT(*), MAX(position) FROM history").fetchone()
    assert applied == (position, position)  # nothing applied without its position, nothing twice
    resumed = Projector(app.ledger_recorder, views)
    assert resumed.catch_up().end == size
    clean = Projector(app.ledger_recorder, tmp_path / "clean.views.db")
    clean.catch_up()
    assert resumed.digest() == clean.digest()


def test_changes_since_a_date_starts_at_the_start_of_that_day(
    krabi_round: MissionLedger, location: str, tmp_path: Path
) -> None:
    krabi_round.close()
    db = ["--db", location, "--views", str(tmp_path / "cli.views.db")]
    run = CliRunner()
    same_day = run.invoke(
        cli, [*db, "changes", "--since", "2568-01-05", "--json"], env={"MISSION_LEDGER_CLOCK": "2025-02-01"}
    )
    # The correction recorded 2568-01-05 10:00, and the first report of 2568-01-10 (every kind).
    assert [e["kind"] for e in json.loads(same_day.output)] == ["corrected", "recorded"]
    later = run.invoke(
        cli, [*db, "changes", "--since", "2568-01-06", "--json"], env={"MISSION_LEDGER_CLOCK": "2025-02-01"}
    )
    assert [e["recorded_at"] for e in json.loads(later.output)] == ["2025-01-10T10:00:00+07:00"]  # only the later


def test_a_rebuild_that_fails_leaves_the_old_views_as_they_were(sqlite_ledger, tmp_path, monkeypatch) -> None:
    """The rebuild writes a new file in bulk and swaps it in only when complete."""
    from projections import writer
    from projections.runner import Projector

    views = tmp_path / "v.db"
    projector = Projector(sqlite_ledger.ledger_recorder, views)
    projector.catch_up()
    before = projector.digest()
    calls = {"n": 0}
    real = writer.PageWriter.apply

    def fail_midway(self, logged, event):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 50:
            raise OSError("disk full")
        return real(self, logged, event)

    monkeypatch.setattr(writer.PageWriter, "apply", fail_midway)
    with pytest.raises(OSError, match="disk full"):
        projector.rebuild()
    monkeypatch.undo()
    assert projector.digest() == before
    assert not list(tmp_path.glob("v.db.rebuilding*"))
    projector.rebuild()
    assert projector.digest() == before
    projector.close()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["record", "correct", "change", "cancel", "reinstate", "void"]),
            st.sampled_from(["6810103", "6810104", "4810102"]),
            st.integers(min_value=0, max_value=4 * 24 * 60),  # minutes after the clock's start
        ),
        max_size=14,
    ),
    st.integers(min_value=0, max_value=4 * 24 * 60),
)
def test_late_is_every_record_event_after_the_deadline_whatever_happened(
    sqlite_ledger: MissionLedger, tmp_path: Path, steps: list[tuple[str, str, int]], deadline_minute: int
) -> None:
    """The one definition of late (issue 24), as a property: for any writes around a deadline,
    `late` lists exactly the record events recorded after the deadline's instant — whichever
    kind, first reports and voids included — in ledger order, and nothing recorded by it."""
    from datetime import timedelta

    from ledger.errors import LedgerError
    from projections.queries import late
    from projections.runner import Projector

    app, start = sqlite_ledger, sqlite_ledger.clock.now()
    for kind, lao, minute in sorted(steps, key=lambda s: s[2]):
        app.clock.at = max(app.clock.now(), start + timedelta(minutes=minute))  # type: ignore[attr-defined]
        fields = Fields(status="operating", staff=minute % 7 + 1)
        try:
            if kind == "record":
                app.record(lao, "QOL-01", effective_from=date(2024, 10, 1), values=fields)
            elif kind in ("correct", "change"):
                getattr(app, kind)(lao, "QOL-01", set=Fields(staff=minute % 7 + 2), reason="r",
                                   **({"effective_from": date(2025, 1, 1)} if kind == "change" else {}))  # fmt: skip
            else:
                getattr(app, kind)(lao, "QOL-01", reason="r",
                                   **({} if kind == "void" else {"effective_from": date(2025, 2, 1)}))  # fmt: skip
        except LedgerError:
            pass  # a write the rules refuse (correcting a record that does not exist) appends nothing
    deadline = start + timedelta(minutes=deadline_minute)
    views = Projector(app.ledger_recorder, tmp_path / f"v{deadline_minute}-{len(steps)}.db")
    views.catch_up()
    expected = [
        logged.position
        for logged in app.ledger_recorder.select_log(0, 10_000)
        if logged.stream_id.startswith("record/") and logged.recorded_at is not None and logged.recorded_at > deadline
    ]
    assert [e.position for e in late(views.db, deadline=deadline)] == expected
    views.close()
