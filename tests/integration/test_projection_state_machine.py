"""Random commands at random clock steps; after each step the bitemporal view table, queried with
SQL at many (known_at, valid_on), equals the naive fold of docs/design.md §4, and the incrementally
caught-up views have the digest of a full rebuild (projections.bulk's set-wise first reports
included)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import invariant

from projections.queries import Scope, as_of
from projections.runner import Projector
from tests.conftest import examples
from tests.integration.test_ledger_state_machine import KEYS, SAMPLE_DAYS, LedgerMachine

pytestmark = pytest.mark.slow  # random command sequences against a model: the thorough check


class ProjectionMachine(LedgerMachine):
    def __init__(self) -> None:
        super().__init__()
        self.views = Projector(self.app.ledger_recorder, self.folder / "l.views.db")
        self.views.catch_up()

    def teardown(self) -> None:
        self.views.close()
        super().teardown()

    @invariant()
    def sql_as_of_equals_the_naive_fold(self) -> None:
        self.views.catch_up()
        events = {key: self.app.record_events(*key) for key in KEYS}
        moments = sorted({e.recorded_at for es in events.values() for e in es} | {self.clock.now()})
        moments += [m - timedelta(microseconds=1) for m in moments]
        for known_at in moments:
            folds = {key: self.app.state(*key, known_at) for key in KEYS}
            for valid_on in SAMPLE_DAYS[::2]:
                sql = {
                    (r["lao_code"], r["mission_code"]): r
                    for r, _ in as_of(self.views.db, known_at=known_at, valid_on=valid_on, scope=Scope())
                }
                for key in KEYS:
                    period = folds[key].timeline.at(valid_on)
                    row = sql.get(key)
                    if period is None:
                        assert row is None, (key, known_at, valid_on, row)
                        continue
                    assert row is not None, (key, known_at, valid_on, period)
                    v = period.values
                    assert (
                        row["status"],
                        row["received_fy"],
                        row["quantity"],
                        row["unit"],
                        row["budget"],
                        row["staff"],
                        row["note"],
                        row["valid_from"],
                        row["valid_to"],
                        row["version"],
                        row["effective_from"],
                    ) == (
                        v.shown_status,
                        v.received_fy,
                        v.quantity,
                        v.unit,
                        v.budget,
                        v.staff,
                        v.note,
                        period.valid_from,
                        period.valid_to,
                        folds[key].version,
                        folds[key].timeline.start,
                    )

    @invariant()
    def incremental_views_equal_a_rebuild(self) -> None:
        self.views.catch_up()
        fresh = Projector(self.app.ledger_recorder, self.folder / f"rebuild-{self.app.ledger_recorder.log_size()}.db")
        try:
            fresh.rebuild()  # as `project --rebuild` builds them: lone first reports set-wise in SQL
            assert fresh.digest() == self.views.digest()
        finally:
            fresh.close()


ProjectionMachine.TestCase.settings = settings(
    max_examples=examples(30),
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
test_views_agree_with_the_fold_and_with_a_rebuild = ProjectionMachine.TestCase


class PostgresProjectionMachine(ProjectionMachine):
    """The same machine on the PostgreSQL store: one schema per run, dropped after it."""

    def make_location(self) -> str:
        import uuid

        from tests.conftest import PG_URL, require_postgres

        require_postgres()
        self.schema = f"sm_{uuid.uuid4().hex[:12]}"
        return f"{PG_URL}?schema={self.schema}"

    def teardown(self) -> None:
        super().teardown()
        import psycopg

        from tests.conftest import PG_URL

        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')


PostgresProjectionMachine.TestCase.settings = settings(
    max_examples=examples(10),
    stateful_step_count=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
test_views_agree_on_postgres_too = PostgresProjectionMachine.TestCase
