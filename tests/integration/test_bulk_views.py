"""A rebuild writes the rows of records only ever reported once in SQL, from the ledger's stored
JSON (projections.bulk), and every other event as a catch-up does: the views it builds must be
row for row those an event-by-event catch-up builds, whatever the values say."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from msgspec import UNSET

from ledger.application import MissionLedger
from ledger.domain.values import Fields
from ledger.errors import LedgerError
from projections.bulk import first_reports
from projections.runner import Projector, open_views
from tests.conftest import START, StepClock, examples, package_data

LAOS = ["6810103", "6810104", "6810105", "4810102"]
MISSIONS = ["INF-01", "INF-02", "QOL-01", "QOL-03"]
decimals = st.one_of(
    st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=0, max_value=10**9),
    st.sampled_from([Decimal("0.10"), Decimal("1E+2"), Decimal("12.500"), Decimal("0")]),
)
notes = st.one_of(
    st.text(max_size=12),
    st.sampled_from(['ถนน "ลาดยาง"', "a\\b", "บรรทัด\nใหม่", "tab\there", "é ✓ 🚧", "</script>"]),
)


def maybe(values: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    return st.one_of(st.just(UNSET), st.none(), values)


reports = st.fixed_dictionaries(
    {
        "status": st.sampled_from(["operating", "not_yet", "cancelled"]),
        "received_fy": maybe(st.integers(2500, 2568)),
        "quantity": maybe(decimals),
        "budget": maybe(decimals),
        "staff": maybe(st.integers(0, 500)),
        "note": maybe(notes),
        "effective": st.dates(date(2000, 1, 1), date(2024, 9, 30)),
        "reported": st.booleans(),
        "then": st.sampled_from(["nothing", "nothing", "correct", "void and report again"]),
    }
)


def build(app: MissionLedger, folder: Path) -> tuple[Projector, Projector]:
    incremental = Projector(app.ledger_recorder, folder / "incremental.views.db")
    incremental.catch_up()
    rebuilt = Projector(app.ledger_recorder, folder / "rebuilt.views.db")
    rebuilt.rebuild()
    return incremental, rebuilt


@settings(
    max_examples=examples(40),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.dictionaries(st.tuples(st.sampled_from(LAOS), st.sampled_from(MISSIONS)), reports, min_size=1, max_size=8))
def test_a_rebuild_gives_the_views_a_catch_up_gives(tmp_path_factory, records) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("bulk")
    clock = StepClock(START)
    app = MissionLedger(folder / "l.db", clock=clock, actor="clerk")
    app.initialise()
    app.load_registry(package_data("krabi_laos.csv"), name="k")
    app.load_catalog(package_data("sample_catalog.csv"), name="c")
    for (lao, mission), r in records.items():
        values = Fields(
            status=r["status"], received_fy=r["received_fy"], quantity=r["quantity"],
            unit="แห่ง" if r["quantity"] not in (UNSET, None) else UNSET, budget=r["budget"], staff=r["staff"],
            note=r["note"],
        )  # fmt: skip
        reported = clock.now() - timedelta(days=3, microseconds=7) if r["reported"] else None
        try:
            app.record(lao, mission, effective_from=r["effective"], values=values, reported_at=reported)
        except LedgerError:
            continue  # a value the ledger refuses (a note it will not keep): nothing to view
        clock.advance(minutes=1)
        if r["then"] == "correct":
            app.correct(lao, mission, set=Fields(staff=7), reason="counted again")
        elif r["then"] == "void and report again":
            app.void(lao, mission, reason="entered in error")
            clock.advance(minutes=1)
            app.record(lao, mission, effective_from=r["effective"], values=Fields(status="operating"))
    incremental, rebuilt = build(app, folder)
    assert rebuilt.position() == incremental.position() == app.ledger_recorder.log_size()
    assert rebuilt.differences(incremental) == [] and rebuilt.digest() == incremental.digest()
    incremental.close(), rebuilt.close()
    app.close()


def test_lone_first_reports_are_written_set_wise_and_the_rest_left_to_the_catch_up(tmp_path: Path) -> None:
    clock = StepClock(START)
    app = MissionLedger(tmp_path / "l.db", clock=clock, actor="clerk")
    app.initialise()
    app.load_registry(package_data("krabi_laos.csv"), name="k")
    app.load_catalog(package_data("sample_catalog.csv"), name="c")
    first = app.ledger_recorder.log_size()
    app.record("6810103", "INF-01", effective_from=date(2020, 10, 1), values=Fields(status="operating"))
    app.record("6810104", "INF-01", effective_from=date(2020, 10, 1), values=Fields(status="operating", note='a "b"'))
    app.record("6810105", "INF-01", effective_from=date(2020, 10, 1), values=Fields(status="not_yet"),
               reported_at=datetime(2024, 9, 30, 3, tzinfo=UTC))  # fmt: skip
    app.record("4810102", "INF-01", effective_from=date(2020, 10, 1), values=Fields(status="operating"))
    app.correct("4810102", "INF-01", set=Fields(staff=3), reason="counted")
    views = open_views(tmp_path / "v.db", bulk=True)
    end = app.ledger_recorder.log_size()
    with first_reports(tmp_path / "v.db", app.ledger_recorder, end) as read:
        assert read is not None
        written = [r[0] for r in views.execute("SELECT position FROM history ORDER BY position")]
        left = [e.position for e in read(0, 1_000)]
    # Only 6810103's report: the others have a quote in a note, a reported_at, a correction.
    assert written == [first + 1]
    assert left == [p for p in range(1, end + 1) if p != first + 1]
    views.close()
    app.close()


def test_a_postgres_ledger_is_rebuilt_event_by_event(postgres_url: str, tmp_path: Path) -> None:
    app = MissionLedger(postgres_url, clock=StepClock(START), actor="clerk")
    app.initialise()
    app.load_registry(package_data("krabi_laos.csv"), name="k")
    app.load_catalog(package_data("sample_catalog.csv"), name="c")
    app.record("6810103", "INF-01", effective_from=date(2020, 10, 1), values=Fields(status="operating"))
    assert app.ledger_recorder.local_file() is None
    incremental, rebuilt = build(app, tmp_path)
    assert rebuilt.differences(incremental) == [] and rebuilt.position() == app.ledger_recorder.log_size()
    incremental.close(), rebuilt.close()
    app.close()


def test_views_whose_last_events_were_lone_first_reports_end_at_the_ledgers_end(tmp_path: Path) -> None:
    app = MissionLedger(tmp_path / "l.db", clock=StepClock(START), actor="clerk")
    app.initialise()
    app.load_registry(package_data("krabi_laos.csv"), name="k")
    app.load_catalog(package_data("sample_catalog.csv"), name="c")
    for lao in LAOS:
        app.record(lao, "QOL-01", effective_from=date(2020, 10, 1), values=Fields(status="operating"))
    incremental, rebuilt = build(app, tmp_path)
    end = app.ledger_recorder.log_size()
    leaf = app.ledger_recorder.leaf_at(end)
    assert leaf is not None
    meta = dict(sqlite3.connect(tmp_path / "rebuilt.views.db").execute("SELECT key, value FROM _meta").fetchall())
    assert (meta["position"], meta["last_leaf"]) == (str(end), leaf.hex())
    assert rebuilt.catch_up().applied == 0 and rebuilt.differences(incremental) == []
    incremental.close(), rebuilt.close()
    app.close()
