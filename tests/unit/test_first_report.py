"""A record's first report — most of a national ledger's events — is written to the views by a
short path that does not fold; it must write exactly what the fold writes."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime
from decimal import Decimal

import sqlite_utils
from hypothesis import given, settings
from hypothesis import strategies as st
from msgspec import UNSET

from ledger.domain.events import Recorded, encode_event
from ledger.domain.values import Fields
from ledger.stamps import format_stamp
from ledger.store.contract import LoggedEvent
from projections.schema import TABLES, create_schema
from projections.writer import _JSON, PageWriter
from tests.conftest import examples


def maybe(values: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    return st.one_of(st.just(UNSET), st.none(), values)


decimals = st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=0, max_value=10**9)
first_reports = st.builds(
    Recorded,
    lao_code=st.sampled_from(["6810103", "6810201"]),
    mission_code=st.sampled_from(["INF-01", "QOL-02"]),
    effective_from=st.dates(date(1990, 1, 1), date(2030, 12, 31)),
    values=st.builds(
        Fields,
        status=st.sampled_from(["operating", "not_yet"]),
        received_fy=maybe(st.integers(2500, 2570)),
        quantity=maybe(decimals),
        unit=st.one_of(st.just(UNSET), st.just("แห่ง")),
        budget=maybe(decimals),
        staff=maybe(st.integers(0, 500)),
        note=maybe(st.text(max_size=5)),
    ),
    recorded_at=st.just(datetime(2024, 11, 1, 2, tzinfo=UTC)),
    actor=st.just("clerk"),
    source=st.just("cli"),
    reason=st.none(),
).filter(lambda e: e.values.quantity in (UNSET, None) or e.values.unit not in (UNSET, None))  # as the ledger keeps them


def written(events: list[Recorded], *, short: bool) -> dict[str, list[tuple[object, ...]]]:
    db = sqlite_utils.Database(sqlite3.connect(":memory:"))
    create_schema(db)
    writer = PageWriter(db)
    writer.load(events)
    for position, event in enumerate(events, start=1):
        logged = LoggedEvent(
            position, f"record/{event.lao_code}/{event.mission_code}", 1, "recorded", encode_event(event),
            event.recorded_at, b"\0" * 32,
        )  # fmt: skip
        if short:
            writer.apply(logged, event)
        else:  # the fold's way, as every other event goes
            stamp = format_stamp(event.recorded_at)
            changes = writer._by_fold(logged, event, stamp)
            writer.history.append((position, stamp, logged.stream_id, "recorded", event.lao_code,
                                   event.mission_code, 1, event.actor, event.source, event.reason, None,
                                   event.effective_from.isoformat(), _JSON.encode(changes).decode()))  # fmt: skip
    writer.flush()
    return {table: sorted(db.execute(f'SELECT * FROM "{table}"').fetchall(), key=repr) for table in TABLES}


@settings(max_examples=examples(200))
@given(st.lists(first_reports, min_size=1, max_size=4, unique_by=lambda e: (e.lao_code, e.mission_code)))
def test_a_first_report_is_written_as_the_fold_writes_it(events: list[Recorded]) -> None:
    assert written(events, short=True) == written(events, short=False)


def test_the_short_path_keeps_exact_decimals_and_leaves_unset_fields_empty() -> None:
    event = Recorded(
        lao_code="6810103", mission_code="INF-01", effective_from=date(2024, 10, 1),
        values=Fields(status="operating", quantity=Decimal("12.50"), unit="km"),
        recorded_at=datetime(2024, 11, 1, 2, tzinfo=UTC), actor="clerk", source="cli", reason=None,
    )  # fmt: skip
    rows = written([event], short=True)
    (version,) = rows["record_versions"]
    assert "12.50" in version and "km" in version
    (entry,) = rows["history"]
    assert entry[12] == '{"status":[null,"operating"],"quantity":[null,"12.50"],"unit":[null,"km"],' \
        '"effective_from":[null,"2024-10-01"]}'  # fmt: skip
