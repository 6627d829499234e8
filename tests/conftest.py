"""Shared fixtures: a real ledger file in a temporary folder, on a clock the test moves."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path

import pytest

from ledger.application import MissionLedger
from ledger.clock import FixedClock
from ledger.thai import BANGKOK

START = datetime(2024, 10, 1, 9, 0, tzinfo=BANGKOK)


def package_data(name: str) -> bytes:
    return resources.files("ledger").joinpath("data", name).read_bytes()


class StepClock(FixedClock):
    """A fixed clock with a convenience to move it forward."""

    def advance(self, **delta: float) -> datetime:
        self.at = self.at + timedelta(**delta)
        return self.at


@pytest.fixture
def clock() -> StepClock:
    return StepClock(START)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "ledger.db"


@pytest.fixture
def empty_ledger(db_path: Path, clock: StepClock) -> Iterator[MissionLedger]:
    app = MissionLedger(db_path, clock=clock, actor="tester")
    app.initialise("test")
    yield app
    app.close()


@pytest.fixture
def ledger(empty_ledger: MissionLedger) -> MissionLedger:
    """A ledger with Krabi's registry and the sample catalog loaded."""
    empty_ledger.load_registry(package_data("krabi_laos.csv"), name="krabi_laos.csv")
    empty_ledger.load_catalog(package_data("sample_catalog.csv"), name="sample_catalog.csv")
    return empty_ledger
