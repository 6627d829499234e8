"""Shared fixtures: real ledgers on both backends, on a clock the test moves.

`ledger` and `empty_ledger` run every test that uses them twice: on a SQLite file and on the
PostgreSQL server (one fresh schema per test) — one conformance suite for both stores. The
PostgreSQL half needs a server: `MISSION_LEDGER_TEST_PG` names it (default the local one); in CI
(`CI` set) or when that variable is set, an unreachable server fails the tests; elsewhere they
are skipped with the reason shown.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from ledger.application import MissionLedger
from ledger.clock import FixedClock
from ledger.domain.thai import BANGKOK

START = datetime(2024, 10, 1, 9, 0, tzinfo=BANGKOK)

# Hypothesis profiles: `dev` (the default) tries a quarter of the examples, for a quick loop;
# `ci` (HYPOTHESIS_PROFILE=ci, set by .ci/run) tries them all.
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "dev")
settings.register_profile("dev", deadline=None)
settings.register_profile("ci", deadline=None, print_blob=True)
settings.load_profile(PROFILE)


def examples(thorough: int) -> int:
    """examples is how many examples a property test tries: `thorough` under the ci profile, a
    quarter of it (at least 5) under dev."""
    return thorough if PROFILE == "ci" else max(5, thorough // 4)


PG_URL = os.environ.get("MISSION_LEDGER_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
_pg_state: dict[str, str | None] = {}


def package_data(name: str) -> bytes:
    return resources.files("ledger").joinpath("data", name).read_bytes()


class StepClock(FixedClock):
    """A fixed clock with a convenience to move it forward."""

    def advance(self, **delta: float) -> datetime:
        self.at = self.at + timedelta(**delta)
        return self.at


def postgres_problem() -> str | None:
    """Why PostgreSQL cannot be used for tests, or None when it can (asked once)."""
    if "problem" not in _pg_state:
        try:
            import psycopg

            with psycopg.connect(PG_URL, connect_timeout=3) as conn:
                conn.execute("SELECT 1")
            _pg_state["problem"] = None
        except Exception as e:  # any failure to reach the server is the reason to report
            _pg_state["problem"] = f"PostgreSQL at {PG_URL} is not reachable: {str(e).strip().splitlines()[0]}"
    return _pg_state["problem"]


def require_postgres() -> None:
    problem = postgres_problem()
    if problem is None:
        return
    if os.environ.get("CI") or os.environ.get("MISSION_LEDGER_TEST_PG"):
        pytest.fail(problem)
    pytest.skip(problem)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A ledger URL on the PostgreSQL server, in a schema of its own, dropped afterwards."""
    require_postgres()
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    yield f"{PG_URL}?schema={schema}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", "postgres"])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where the ledger under test lives: a SQLite file, or a PostgreSQL URL."""
    if request.param == "sqlite":
        return str(tmp_path / "ledger.db")
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def clock() -> StepClock:
    return StepClock(START)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "ledger.db"


def _open(where: str | Path, clock: StepClock) -> MissionLedger:
    app = MissionLedger(where, clock=clock, actor="tester")
    app.initialise("test")
    return app


def _load(app: MissionLedger) -> MissionLedger:
    app.load_registry(package_data("krabi_laos.csv"), name="krabi_laos.csv")
    app.load_catalog(package_data("sample_catalog.csv"), name="sample_catalog.csv")
    return app


@pytest.fixture
def empty_ledger(location: str, clock: StepClock) -> Iterator[MissionLedger]:
    """An initialised ledger with nothing in it, on each backend."""
    app = _open(location, clock)
    yield app
    app.close()


@pytest.fixture
def ledger(empty_ledger: MissionLedger) -> MissionLedger:
    """A ledger with Krabi's registry and the sample catalog loaded, on each backend."""
    return _load(empty_ledger)


@pytest.fixture
def sqlite_ledger(db_path: Path, clock: StepClock) -> Iterator[MissionLedger]:
    """The loaded ledger as a SQLite file at db_path, for tests of the file itself."""
    app = _load(_open(db_path, clock))
    yield app
    app.close()


@pytest.fixture
def ml(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A command-line session on a ledger with Krabi's registry and the sample catalog."""
    from tests.support.cli_session import krabi_session

    return krabi_session(tmp_path)


@pytest.fixture(scope="module")
def private_pg() -> Iterator[Any]:
    """private_pg is a PostgreSQL server of the test's own, to stop and restart (never the
    machine's: that would drop everyone else's connections). Unavailable: a failure in CI."""
    from tests.support.private_postgres import available, private_server

    problem = available()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(problem)
        pytest.skip(problem)
    with private_server() as server:
        yield server
