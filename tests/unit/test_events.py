"""Events round-trip exactly: through msgspec, through the mapper, through the real store;
and the bytes of every kind as first released still decode."""

from __future__ import annotations

import json
from datetime import UTC, date, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import JSONTranscoder
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.domain.events import EVENT_TYPES, KINDS, LedgerEvent, decode_event, encode_event, json_schemas, kind_of
from ledger.domain.values import Fields
from ledger.store.mapper import Envelope, MsgspecMapper
from tests.conftest import examples

#: Bytes of every kind as first released: v1 (the first release), v2 (principals and tokens),
#: v3 (reporting rounds, sign-in links).
FIXTURES = sorted((Path(__file__).resolve().parents[1] / "fixtures").glob("events-v*.jsonl"))

aware_datetimes = st.datetimes(
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=7)), timezone(timedelta(hours=-3))])
)
decimals = st.decimals(allow_nan=False, allow_infinity=False, places=3, min_value=-(10**12), max_value=10**12)
texts = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20)

st.register_type_strategy(Decimal, decimals)


def events_of(cls: type) -> st.SearchStrategy[LedgerEvent]:
    return st.builds(
        cls,
        recorded_at=aware_datetimes,
        reported_at=st.one_of(st.none(), aware_datetimes),
        actor=texts,
        source=texts,
        reason=st.one_of(st.none(), texts),
        **({"expires_at": aware_datetimes} if "expires_at" in cls.__struct_fields__ else {}),
    )


any_event = st.one_of(*[events_of(cls) for cls in EVENT_TYPES])


@settings(max_examples=examples(300))
@given(any_event)
def test_every_event_round_trips_exactly_through_msgspec(event: LedgerEvent) -> None:
    back = decode_event(encode_event(event))
    assert back == event
    assert type(back) is type(event)
    # Equality of datetimes ignores the offset; an auditor would not: it must survive too.
    assert back.recorded_at.utcoffset() == event.recorded_at.utcoffset()


@settings(max_examples=examples(100))
@given(any_event, st.integers(1, 10**6))
def test_the_mapper_restores_types_and_stream_position(event: LedgerEvent, version: int) -> None:
    mapper = MsgspecMapper()
    stored = mapper.to_stored_event(Envelope("record/1234567/X", version, event))
    assert stored.topic == kind_of(event)
    back = mapper.to_domain_event(stored)
    assert back == Envelope("record/1234567/X", version, event)


def test_decimals_and_datetimes_come_back_typed_from_a_real_store(ledger) -> None:
    ledger.record(
        "6810103",
        "INF-01",
        effective_from=date(2024, 1, 1),
        values=Fields(status="operating", quantity=Decimal("12.50"), unit="km", budget=Decimal("1250000.50")),
    )
    (event,) = ledger.record_events("6810103", "INF-01")
    assert isinstance(event.values.budget, Decimal) and str(event.values.budget) == "1250000.50"
    assert isinstance(event.values.quantity, Decimal) and str(event.values.quantity) == "12.50"
    assert event.recorded_at.tzinfo is not None


def test_a_schemaless_transcoder_loses_the_types_this_mapper_keeps() -> None:
    # Why the ledger has its own mapper: plain JSON gives back strings where Decimals were.
    plain = JSONTranscoder()
    with pytest.raises(TypeError):
        plain.encode({"budget": Decimal("1.50")})
    import msgspec

    naive = msgspec.json.decode(msgspec.json.encode({"budget": Decimal("1.50")}))
    assert naive == {"budget": "1.50"}


def test_released_event_bytes_still_decode() -> None:
    lines = [line for fixture in FIXTURES for line in fixture.read_bytes().splitlines()]
    kinds = set()
    for line in lines:
        event = decode_event(line)
        kinds.add(kind_of(event))
        # Re-encoding gives the same bytes: the stored form of a kind never drifts.
        assert encode_event(event) == line
    assert kinds == set(KINDS), f"fixture lacks kinds: {set(KINDS) - kinds}"


def test_stored_state_is_json_an_auditor_can_read(ledger) -> None:
    rows = ledger.ledger_recorder.select_log(0, 1)
    doc = json.loads(rows[0].state)
    assert doc["kind"] == "lao_registered" and doc["name_th"] == "องค์การบริหารส่วนจังหวัดกระบี่"


def test_stored_event_ids_are_readable_stream_names(ledger) -> None:
    rows = ledger.ledger_recorder.select_log(0, 100)
    assert rows[0].stream_id == "lao/2810101"
    assert any(r.stream_id.startswith("mission/") for r in rows)


def test_the_published_schema_accepts_every_released_event_and_rejects_what_the_ledger_rejects() -> None:
    """The JSON Schema `schema` prints is as strict as the ledger (issue 25): every event of the
    fixtures validates against its kind's schema; an event with a decimal that is no number, an
    impossible date or a field the kind does not have does not."""
    import jsonschema

    document = json_schemas()

    def validator(kind: str) -> Any:
        schema = {**document["kinds"][kind]["schema"], "$defs": document["$defs"]}  # type: ignore[index]
        return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)

    lines = [json.loads(line) for fixture in FIXTURES for line in fixture.read_bytes().splitlines()]
    for event in lines:
        errors = list(validator(event["kind"]).iter_errors(event))
        assert not errors, (event["kind"], [e.message for e in errors])
    recorded = next(e for e in lines if e["kind"] == "recorded")
    for mutated in (
        {**recorded, "values": {**recorded["values"], "quantity": "abc"}},
        {**recorded, "values": {**recorded["values"], "budget": "1,250,000"}},
        {**recorded, "effective_from": "2024-13-01"},
        {**recorded, "surprise": 1},
    ):
        assert list(validator("recorded").iter_errors(mutated)), mutated
