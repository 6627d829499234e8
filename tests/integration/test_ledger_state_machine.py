"""Random commands on a real ledger file, checked against an independent day-by-day model.

After every step, for every record, at every moment the ledger recorded something (and now),
on a spread of valid days: the ledger's `show` equals the model; and every command the model
says must be refused is refused, every other one accepted.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from msgspec import UNSET

from ledger.application import MissionLedger
from ledger.domain.events import Cancelled, Changed, Corrected, Recorded, RecordEvent, Reinstated, Voided
from ledger.domain.values import Fields
from ledger.errors import LedgerError, NotFound
from tests.conftest import START, StepClock, examples, package_data
from tests.support.day_oracle import DAYS, Rejected, state_at, step

pytestmark = pytest.mark.slow  # random command sequences against a model: the thorough check

KEYS = [("6810103", "INF-01"), ("4810102", "QOL-03")]
keys = st.sampled_from(KEYS)
days = st.sampled_from(DAYS[10:-10])
statuses = st.sampled_from(["operating", "not_yet"])


def _maybe(strategy: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    return st.one_of(st.just(UNSET), strategy)


field_sets = st.builds(
    Fields,
    status=_maybe(statuses),
    # Up to the fiscal year after the clock's (START is in FY 2568): a later one is refused as not yet begun.
    received_fy=_maybe(st.one_of(st.none(), st.integers(2540, 2569))),
    quantity=_maybe(st.one_of(st.none(), st.decimals(0, 500, places=1))),
    unit=_maybe(st.one_of(st.none(), st.sampled_from(["กิโลเมตร", "แห่ง"]))),
    budget=_maybe(st.one_of(st.none(), st.decimals(0, 10**7, places=2))),
    staff=_maybe(st.one_of(st.none(), st.integers(0, 30))),
    note=_maybe(st.one_of(st.none(), st.sampled_from(["ถนนลาดยาง", "ok"]))),
)
SAMPLE_DAYS = [*DAYS[::6], DAYS[-1]]


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp())
        self.clock = StepClock(START)
        self.app = MissionLedger(self.make_location(), clock=self.clock, actor="hypothesis")
        self.app.initialise()
        self.app.load_registry(package_data("krabi_laos.csv"), name="krabi")
        self.app.load_catalog(package_data("sample_catalog.csv"), name="catalog")
        self.days = {k: {d: None for d in DAYS} for k in KEYS}

    def make_location(self) -> str:
        """Where this run's ledger lives (a SQLite file here; subclasses use other stores)."""
        return str(self.folder / "l.db")

    def teardown(self) -> None:
        self.app.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def meta(self, reason: str | None = "because") -> dict[str, object]:
        return {"recorded_at": self.clock.now(), "actor": "hypothesis", "source": "cli", "reason": reason}

    def attempt(self, key: tuple[str, str], event: RecordEvent, command) -> None:
        try:
            after = step(self.days[key], event)
            if isinstance(event, (Corrected, Changed)) and after == self.days[key]:
                raise Rejected("changes nothing")
        except Rejected as why:
            before = self.app.ledger_recorder.log_size()
            try:
                command()
            except LedgerError:
                assert self.app.ledger_recorder.log_size() == before
                return
            raise AssertionError(f"the ledger accepted what it must refuse ({why}): {event}") from None
        command()
        self.days[key] = after

    @rule(minutes=st.integers(0, 3 * 24 * 60))
    def advance_clock(self, minutes: int) -> None:
        self.clock.advance(minutes=minutes)

    @rule(key=keys, day=days, values=field_sets, status=statuses)
    def record(self, key, day: date, values: Fields, status: str) -> None:
        import msgspec

        values = msgspec.structs.replace(values, status=status)
        event = Recorded(lao_code=key[0], mission_code=key[1], effective_from=day, values=values, **self.meta(None))
        self.attempt(key, event, lambda: self.app.record(*key, effective_from=day, values=values))

    @rule(
        key=keys,
        fields=field_sets,
        start=st.one_of(st.none(), days),
        period=st.one_of(st.none(), st.tuples(days, st.one_of(st.none(), days))),
    )
    def correct(self, key, fields: Fields, start: date | None, period) -> None:
        if fields.is_empty() and start is None:
            return
        period_from, period_to = period if period else (None, None)
        if period_to is not None and period_from is not None and period_to <= period_from:
            return
        event = Corrected(
            lao_code=key[0],
            mission_code=key[1],
            set=fields,
            effective_from=start,
            period_from=period_from,
            period_to=period_to,
            **self.meta(),
        )
        self.attempt(
            key,
            event,
            lambda: self.app.correct(
                *key,
                set=fields,
                reason="because",
                effective_from=start,
                period_from=period_from,
                period_to=period_to,
            ),
        )

    @rule(key=keys, fields=field_sets, day=days)
    def change(self, key, fields: Fields, day: date) -> None:
        if fields.is_empty():
            return
        event = Changed(lao_code=key[0], mission_code=key[1], set=fields, effective_from=day, **self.meta())
        self.attempt(key, event, lambda: self.app.change(*key, set=fields, effective_from=day, reason="because"))

    @rule(key=keys, day=days)
    def cancel(self, key, day: date) -> None:
        event = Cancelled(lao_code=key[0], mission_code=key[1], effective_from=day, **self.meta())
        self.attempt(key, event, lambda: self.app.cancel(*key, effective_from=day, reason="because"))

    @rule(key=keys, day=days, status=st.one_of(st.none(), statuses))
    def reinstate(self, key, day: date, status) -> None:
        event = Reinstated(lao_code=key[0], mission_code=key[1], effective_from=day, status=status, **self.meta())
        self.attempt(key, event, lambda: self.app.reinstate(*key, effective_from=day, reason="because", status=status))

    @rule(key=keys)
    def void(self, key) -> None:
        event = Voided(lao_code=key[0], mission_code=key[1], **self.meta())
        self.attempt(key, event, lambda: self.app.void(*key, reason="because"))

    @invariant()
    def show_agrees_with_the_model_at_every_known_at_and_valid_on(self) -> None:
        for key in KEYS:
            events = self.app.record_events(*key)
            moments = sorted({e.recorded_at for e in events} | {self.clock.now()})
            moments += [m - timedelta(microseconds=1) for m in moments]
            for known_at in moments:
                state = self.app.state(*key, known_at)
                assert state.version == sum(1 for e in events if e.recorded_at <= known_at)
                for valid_on in SAMPLE_DAYS:
                    expected = state_at(events, known_at, valid_on)
                    period = state.timeline.at(valid_on)
                    if expected is None:
                        assert period is None, (key, known_at, valid_on, period)
                        continue
                    assert period is not None, (key, known_at, valid_on, expected)
                    got = period.values
                    assert (
                        got.shown_status,
                        got.received_fy,
                        got.quantity,
                        got.unit,
                        got.budget,
                        got.staff,
                        got.note,
                    ) == (
                        "cancelled" if expected.cancelled else expected.status,
                        expected.received_fy,
                        expected.quantity,
                        expected.unit,
                        expected.budget,
                        expected.staff,
                        expected.note,
                    )
                # `show` is the same fold seen through the command line's view of it.
                valid_on = SAMPLE_DAYS[len(SAMPLE_DAYS) // 2]
                try:
                    view = self.app.show(*key, known_at=known_at, valid_on=valid_on)
                except NotFound:
                    assert state.timeline.at(valid_on) is None
                else:
                    assert view.version == state.version
                    assert view.status == state.timeline.at(valid_on).values.shown_status


LedgerMachine.TestCase.settings = settings(
    max_examples=examples(40),
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
test_ledger_agrees_with_the_day_model = LedgerMachine.TestCase
