"""The commands of the write side, their semantics, and every refusal (which appends nothing)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from ledger.application import MissionLedger
from ledger.domain.events import Cancelled, Changed, Corrected, Recorded, Voided, decode_event
from ledger.domain.values import Fields
from ledger.errors import Backdating, BadInput, Conflict, LedgerError, NotFound, Refused

ROAD = ("6810103", "INF-01")


def roads(ledger: MissionLedger, **values: object) -> None:
    fields = {"status": "operating", "received_fy": 2546, "quantity": Decimal("12.5"), "unit": "กิโลเมตร"}
    fields.update(values)
    ledger.record(*ROAD, effective_from=date(2024, 1, 1), values=Fields(**fields))


def test_record_then_show(ledger: MissionLedger) -> None:
    roads(ledger, budget=Decimal("1250000.50"))
    view = ledger.show(*ROAD)
    assert (view.status, view.quantity, view.unit, view.budget, view.version) == (
        "operating",
        Decimal("12.5"),
        "กิโลเมตร",
        Decimal("1250000.50"),
        1,
    )
    assert view.effective_from == view.valid_from == date(2024, 1, 1) and view.valid_to is None
    (event,) = ledger.record_events(*ROAD)
    assert isinstance(event, Recorded) and event.actor == "tester" and event.source == "cli"


def test_correction_rewrites_the_past_but_not_what_was_known(ledger: MissionLedger, clock) -> None:
    roads(ledger)
    before = clock.now()
    clock.advance(days=3)
    ledger.correct(*ROAD, set=Fields(quantity=Decimal("13.2")), reason="re-measured")
    assert ledger.show(*ROAD, valid_on=date(2024, 2, 1)).quantity == Decimal("13.2")
    assert ledger.show(*ROAD, known_at=before, valid_on=date(2024, 2, 1)).quantity == Decimal("12.5")


def test_change_holds_from_its_date_only(ledger: MissionLedger, clock) -> None:
    roads(ledger)
    clock.advance(days=1)
    ledger.change(*ROAD, set=Fields(quantity=Decimal("20")), effective_from=date(2024, 6, 1), reason="extended")
    assert ledger.show(*ROAD, valid_on=date(2024, 5, 31)).quantity == Decimal("12.5")
    after = ledger.show(*ROAD, valid_on=date(2024, 6, 1))
    assert after.quantity == Decimal("20") and after.valid_from == date(2024, 6, 1)
    assert ledger.show(*ROAD, valid_on=date(2024, 5, 31)).valid_to == date(2024, 6, 1)


def test_cancel_and_reinstate_restore_the_earlier_status(ledger: MissionLedger, clock) -> None:
    roads(ledger, status="not_yet")
    ledger.cancel(*ROAD, effective_from=date(2024, 3, 1), reason="handed back")
    assert ledger.show(*ROAD, valid_on=date(2024, 3, 1)).status == "cancelled"
    assert ledger.show(*ROAD, valid_on=date(2024, 2, 29)).status == "not_yet"
    ledger.reinstate(*ROAD, effective_from=date(2024, 5, 1), reason="taken back")
    assert ledger.show(*ROAD, valid_on=date(2024, 5, 1)).status == "not_yet"
    assert ledger.show(*ROAD, valid_on=date(2024, 4, 1)).status == "cancelled"
    ledger.cancel(*ROAD, effective_from=date(2024, 7, 1), reason="again")
    ledger.reinstate(*ROAD, effective_from=date(2024, 8, 1), reason="running now", status="operating")
    assert ledger.show(*ROAD, valid_on=date(2024, 8, 1)).status == "operating"


def test_correcting_the_first_day(ledger: MissionLedger) -> None:
    roads(ledger)
    ledger.correct(*ROAD, set=Fields(), effective_from=date(2023, 10, 1), reason="received earlier")
    assert ledger.show(*ROAD, valid_on=date(2023, 10, 1)).effective_from == date(2023, 10, 1)


def test_void_removes_the_record_from_every_valid_time_from_then_on(ledger: MissionLedger, clock) -> None:
    roads(ledger)
    before = clock.now()
    clock.advance(hours=1)
    ledger.void(*ROAD, reason="entered for the wrong LAO")
    with pytest.raises(NotFound, match="was voided"):
        ledger.show(*ROAD)
    assert ledger.show(*ROAD, known_at=before).status == "operating"
    # A voided record may be recorded anew; its stream continues.
    roads(ledger)
    assert ledger.show(*ROAD).version == 3


def test_known_at_a_date_includes_that_whole_day_in_bangkok(ledger: MissionLedger, clock) -> None:
    clock.at = datetime(2024, 12, 30, 16, 59, tzinfo=UTC)  # 23:59 in Bangkok
    roads(ledger)
    from ledger.domain.thai import parse_instant

    assert ledger.show(*ROAD, known_at=parse_instant("2567-12-30"), valid_on=date(2024, 6, 1)).version == 1
    with pytest.raises(NotFound):
        ledger.show(*ROAD, known_at=parse_instant("2567-12-29"), valid_on=date(2024, 6, 1))


# --- every refusal says what was wrong and appends nothing ---------------------------------------


def refusals(ledger: MissionLedger) -> list[tuple[str, Callable[[], object], type[LedgerError], str]]:
    q = Decimal
    return [
        (
            "unknown LAO",
            lambda: ledger.record(
                "9999999", "INF-01", effective_from=date(2024, 1, 1), values=Fields(status="operating")
            ),
            NotFound,
            "LAO 9999999 is not in the registry",
        ),
        (
            "unknown mission",
            lambda: ledger.record(
                "6810103", "NOPE", effective_from=date(2024, 1, 1), values=Fields(status="operating")
            ),
            NotFound,
            "mission NOPE is not in the catalog",
        ),
        (
            "mission not for this LAO type",
            lambda: ledger.record(
                "2810101", "QOL-01", effective_from=date(2024, 1, 1), values=Fields(status="operating")
            ),
            Refused,
            "does not apply to LAO 2810101",
        ),
        ("malformed LAO code", lambda: ledger.show("68101", "INF-01"), BadInput, "not a 7-digit"),
        ("recorded twice", lambda: roads(ledger), Refused, "already recorded"),
        (
            "correction changing nothing",
            lambda: ledger.correct(*ROAD, set=Fields(quantity=q("12.50")), reason="x"),
            Refused,
            "changes nothing",
        ),
        (
            "correction without reason",
            lambda: ledger.correct(*ROAD, set=Fields(quantity=q("1")), reason=" "),
            BadInput,
            "needs a reason",
        ),
        (
            "correction without fields",
            lambda: ledger.correct(*ROAD, set=Fields(), reason="x"),
            BadInput,
            "--set",
        ),
        (
            "change before the record starts",
            lambda: ledger.change(*ROAD, set=Fields(staff=2), effective_from=date(2023, 12, 31), reason="x"),
            Refused,
            "before the record starts",
        ),
        (
            "change without reason",
            lambda: ledger.change(*ROAD, set=Fields(staff=2), effective_from=date(2024, 2, 1), reason=None),
            BadInput,
            "needs a reason",
        ),
        (
            "negative budget",
            lambda: ledger.correct(*ROAD, set=Fields(budget=q("-5")), reason="x"),
            BadInput,
            "-5 is not a budget",
        ),
        (
            "budget below a satang",
            lambda: ledger.correct(*ROAD, set=Fields(budget=q("1.005")), reason="x"),
            BadInput,
            "at most 2 decimals",
        ),
        (
            "quantity without unit",
            lambda: ledger.correct(*ROAD, set=Fields(unit=None), reason="x"),
            BadInput,
            "has no unit",
        ),
        (
            "CE fiscal year",
            lambda: ledger.correct(*ROAD, set=Fields(received_fy=2024), reason="x"),
            BadInput,
            "did you mean 2567",
        ),
        (
            "reinstate what is not cancelled",
            lambda: ledger.reinstate(*ROAD, effective_from=date(2024, 2, 1), reason="x"),
            Refused,
            "is not cancelled",
        ),
        (
            "stale expected version",
            lambda: ledger.correct(*ROAD, set=Fields(staff=1), reason="x", expect_version=0),
            Conflict,
            "at version 1, not 0",
        ),
        (
            "absent record",
            lambda: ledger.cancel("6810103", "INF-02", effective_from=date(2024, 2, 1), reason="x"),
            NotFound,
            "no record 6810103/INF-02",
        ),
    ]


@pytest.mark.parametrize("case", range(17))
def test_each_refusal_names_the_problem_and_appends_nothing(ledger: MissionLedger, case: int) -> None:
    roads(ledger)
    cases = refusals(ledger)
    assert len(cases) == 17  # keep the parametrize range in step with the list
    name, command, kind, message = cases[case]
    size = ledger.ledger_recorder.log_size()
    with pytest.raises(kind, match=message):
        command()
    assert ledger.ledger_recorder.log_size() == size, name


def test_cancelling_a_cancelled_record_is_refused(ledger: MissionLedger) -> None:
    roads(ledger)
    ledger.cancel(*ROAD, effective_from=date(2024, 2, 1), reason="x")
    size = ledger.ledger_recorder.log_size()
    with pytest.raises(Refused, match="already cancelled on 2024-03-01"):
        ledger.cancel(*ROAD, effective_from=date(2024, 3, 1), reason="again")
    assert ledger.ledger_recorder.log_size() == size


def test_a_clock_set_in_the_past_is_refused(ledger: MissionLedger, clock) -> None:
    roads(ledger)
    size = ledger.ledger_recorder.log_size()
    clock.advance(seconds=-1)
    with pytest.raises(Backdating, match="backdating is refused"):
        ledger.correct(*ROAD, set=Fields(staff=3), reason="x")
    assert ledger.ledger_recorder.log_size() == size


def test_the_store_itself_refuses_backdating_inside_the_transaction(ledger: MissionLedger, clock) -> None:
    # Bypass the application's early check: the recorder is the guarantee.
    from ledger.store.contract import ClockBehind
    from ledger.store.mapper import Envelope

    roads(ledger)
    late = Corrected(
        lao_code=ROAD[0],
        mission_code=ROAD[1],
        set=Fields(staff=1),
        reason="x",
        recorded_at=clock.now() - timedelta(days=1),
        actor="a",
        source="cli",
    )
    with pytest.raises(ClockBehind):
        ledger.save(Envelope("record/6810103/INF-01", 2, late), recorded_at=late.recorded_at)
    assert len(ledger.record_events(*ROAD)) == 1


def test_events_carry_actor_source_reason_and_reported_at(ledger: MissionLedger) -> None:
    roads(ledger)
    reported = datetime(2024, 9, 30, 8, tzinfo=UTC)
    ledger.cancel(*ROAD, effective_from=date(2024, 5, 1), reason="handed back", reported_at=reported)
    event = ledger.record_events(*ROAD)[-1]
    assert isinstance(event, Cancelled)
    assert (event.actor, event.source, event.reason, event.reported_at) == (
        "tester",
        "cli",
        "handed back",
        reported,
    )


def test_a_batch_shares_one_recorded_at(empty_ledger: MissionLedger) -> None:
    from tests.conftest import package_data

    receipt, _, _ = empty_ledger.load_registry(package_data("krabi_laos.csv"), name="krabi")
    rows = list(empty_ledger.ledger_recorder.iter_log())
    assert len(rows) == receipt.count == 62
    assert {r.recorded_at for r in rows} == {receipt.recorded_at}
    assert [r.position for r in rows] == list(range(1, 63))


def test_positions_are_contiguous_and_recorded_at_never_decreases(ledger: MissionLedger, clock) -> None:
    roads(ledger)
    for day in range(1, 6):
        clock.advance(hours=5)
        ledger.change(*ROAD, set=Fields(staff=day), effective_from=date(2024, 2, day), reason="x")
    rows = list(ledger.ledger_recorder.iter_log(page=7))
    assert [r.position for r in rows] == list(range(1, len(rows) + 1))
    stamps = [r.recorded_at for r in rows]
    assert stamps == sorted(stamps)
    assert isinstance(ledger.record_events(*ROAD)[-1], Changed)


def test_void_needs_a_reason(ledger: MissionLedger) -> None:
    roads(ledger)
    with pytest.raises(BadInput, match="void needs a reason"):
        ledger.void(*ROAD, reason="")
    assert not any(isinstance(e, Voided) for e in ledger.record_events(*ROAD))


class _Moving:
    """A clock that moves on its own (as the machine's does), starting a second behind `at`."""

    fixed = False

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


def test_a_write_behind_another_writers_clock_is_stamped_under_the_lock(ledger: MissionLedger, clock) -> None:
    roads(ledger)
    last = ledger.ledger_recorder.last_recorded_at()
    assert last is not None
    moving = MissionLedger(ledger.location, clock=_Moving(last - timedelta(seconds=1)), actor="slow")  # type: ignore[arg-type]
    receipt = moving.correct(*ROAD, set=Fields(staff=9), reason="count")
    assert receipt.recorded_at == last
    assert moving.record_events(*ROAD)[-1].recorded_at == last


@pytest.mark.parametrize("lost", ["acknowledgement", "retried commit"])
def test_a_committed_write_whose_outcome_was_lost_reports_success(ledger: MissionLedger, lost: str) -> None:
    """The store committed, then the writer heard an error (the connection dropped before the
    acknowledgement; or a driver retried a commit that had gone through): the write is in the
    ledger, so it is reported done, with its position — not as a conflict to retry."""
    from eventsourcing.persistence import IntegrityError, OperationalError

    roads(ledger)
    recorder = ledger.ledger_recorder
    real = recorder.insert_events

    def insert_then_lose(stored_events, **kwargs):  # type: ignore[no-untyped-def]
        real(stored_events, **kwargs)
        if lost == "retried commit":
            real(stored_events, **kwargs)  # the same events again: the store's key refuses them
        raise OperationalError("server closed the connection unexpectedly")

    recorder.insert_events = insert_then_lose  # type: ignore[method-assign]
    size = recorder.log_size()
    try:
        receipt = ledger.correct(*ROAD, set=Fields(staff=4), reason="count")
    except IntegrityError:  # pragma: no cover - only if the store accepted a duplicate
        raise
    finally:
        del recorder.insert_events
    assert receipt.positions == (size + 1,)
    assert recorder.log_size() == size + 1
    assert ledger.show(*ROAD).staff == 4


def test_a_write_that_did_not_commit_appends_nothing_and_says_so(ledger: MissionLedger) -> None:
    from eventsourcing.persistence import OperationalError

    from ledger.errors import StoreUnavailable

    roads(ledger)
    recorder = ledger.ledger_recorder

    def fail(stored_events, **kwargs):  # type: ignore[no-untyped-def]
        raise OperationalError("could not serialize access")

    recorder.insert_events = fail  # type: ignore[method-assign]
    size = recorder.log_size()
    try:
        with pytest.raises(StoreUnavailable, match="could not serialize access"):
            ledger.correct(*ROAD, set=Fields(staff=4), reason="count")
    finally:
        del recorder.insert_events
    assert recorder.log_size() == size


def test_a_clock_set_ahead_of_the_machine_is_refused_for_writing(ledger: MissionLedger, clock) -> None:
    roads(ledger)
    size = ledger.ledger_recorder.log_size()
    clock.at = datetime(2099, 1, 1, tzinfo=UTC)
    with pytest.raises(Refused, match="ahead of this machine's"):
        ledger.correct(*ROAD, set=Fields(staff=3), reason="x")
    clock.at = datetime.now(UTC) + timedelta(minutes=2)  # a little ahead is a clock, not a poison
    ledger.correct(*ROAD, set=Fields(staff=3), reason="x")
    assert ledger.ledger_recorder.log_size() == size + 1


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"status": "cancelled"}, "set only by a cancellation"),
        ({"status": "ดำเนินการ"}, "is not one of: operating, not_yet"),
        ({"status": "operating", "staff": True}, "staff True is not a whole number"),
        ({"status": "operating", "quantity": 1.5, "unit": "แห่ง"}, "quantity 1.5 is not a decimal number"),
        ({"status": "operating", "note": 7}, "note 7 is not text"),
    ],
)
def test_values_given_in_python_are_checked_as_the_stored_event_will_be(
    ledger: MissionLedger, values: dict[str, object], message: str
) -> None:
    """msgspec builds Fields without checking them: what the event's schema would refuse to decode
    must be refused before it is appended, or every later read of the ledger would fail on it."""
    size = ledger.ledger_recorder.log_size()
    with pytest.raises(BadInput, match=message):
        ledger.record(*ROAD, effective_from=date(2024, 1, 1), values=Fields(**values))  # type: ignore[arg-type]
    roads(ledger)
    with pytest.raises(BadInput, match=message):
        ledger.correct(*ROAD, set=Fields(**{k: v for k, v in values.items()}), reason="check")  # type: ignore[arg-type]
    assert ledger.ledger_recorder.log_size() == size + 1
    [appended] = [decode_event(e.state) for e in ledger.ledger_recorder.iter_log(after=size)]
    assert isinstance(appended, Recorded) and ledger.show(*ROAD).status == "operating"
