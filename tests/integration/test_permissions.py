"""Every operation × every role, against the table of docs/design.md §10 (the table is the data):
the pure rule (`permits`), and the application acting for a principal of each role — so that a
face wired to the application inherits the rule, whichever it is."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from ledger.application import MissionLedger
from ledger.domain.access import OPERATIONS, Principal, Role, parse_role, permits
from ledger.errors import Forbidden
from ledger.identity import Identity
from ledger.rounds import Rounds
from tests.conftest import package_data

DESIGN = Path(__file__).resolve().parents[2] / "docs" / "design.md"
#: The roles of the table's columns, as granted in the tests: their own province is 81 (Krabi),
#: their own LAO 6810103 (in 81); the other scope is province 82 and its LAO 6820101.
ROLES = {"admin": "admin", "province:PP": "province:81", "district:DDDD": "district:8101", "lao:CODE": "lao:6810103",
         "auditor": "auditor", "integration": "integration", "integration:PP": "integration:81"}  # fmt: skip
#: (province, LAO, district): the own LAO is in district 8101 of province 81.
OWN, OTHER = ("81", "6810103", "8101"), ("82", "6820101", "8201")


def table() -> dict[str, dict[str, str]]:
    """The permission table of docs/design.md §10: operation → role → cell."""
    text = DESIGN.read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line.startswith("| ")]
    header = next(line for line in lines if line.startswith("| operation |"))
    roles = [c.strip() for c in header.strip("|").split("|")][1:]
    rows = {}
    for line in lines:
        cells = [c.strip() for c in line.strip("|").split("|")]
        if cells[0] in OPERATIONS:
            rows[cells[0]] = dict(zip(roles, cells[1:], strict=True))
    return rows


def principal(role: str) -> Principal:
    from datetime import datetime

    return Principal(name="someone", added_at=datetime(2024, 1, 1), roles=frozenset({parse_role(role)}))


def test_the_table_names_every_operation_and_every_role() -> None:
    found = table()
    assert sorted(found) == sorted(OPERATIONS)
    assert all(sorted(row) == sorted(ROLES) for row in found.values())
    assert all(cell in ("all", "own", "yes", "—") for row in found.values() for cell in row.values())


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("column", list(ROLES))
def test_the_rule_is_the_table(operation: str, column: str) -> None:
    cell = table()[operation][column]
    who = principal(ROLES[column])
    own = permits(who, operation, province=OWN[0], lao=OWN[1], district=OWN[2])  # type: ignore[arg-type]
    other = permits(who, operation, province=OTHER[0], lao=OTHER[1], district=OTHER[2])  # type: ignore[arg-type]
    expected = {"all": (True, True), "own": (True, False), "yes": (True, True), "—": (False, False)}[cell]
    assert (own, other) == expected, f"{column} {operation}: the table says {cell}"


@pytest.fixture
def ledger(tmp_path: Path) -> MissionLedger:
    from tests.support.served import PHANG_NGA

    app = MissionLedger(tmp_path / "l.db", actor="operator")
    app.initialise()
    app.load_registry(package_data("krabi_laos.csv"), name="k")
    app.load_registry(PHANG_NGA, name="p")
    app.load_catalog(package_data("sample_catalog.csv"), name="c")
    Identity(app).add("victim", ["auditor"])
    app.record("6810103", "INF-01", effective_from=date(2024, 10, 1), values=_values())
    app.record("6820101", "INF-01", effective_from=date(2024, 10, 1), values=_values())
    return app


def _values():  # type: ignore[no-untyped-def]
    from ledger.domain.values import Fields

    return Fields(status="operating", staff=1)


def _application_calls(app: MissionLedger, scope: tuple[str, str, str]) -> dict[str, object]:
    """The application's own doors for each operation it guards, on a scope."""
    province, lao, _ = scope
    return {
        "write_record": lambda: app.correct(lao, "INF-01", set=_staff(), reason="x"),
        "load_registry": lambda: app.load_registry(package_data("krabi_laos.csv"), name="again.csv"),
        "load_catalog": lambda: app.load_catalog(package_data("sample_catalog.csv"), name="again.csv"),
        "open_round": lambda: Rounds(app).open(f"r-{province}-{id(app)}", date(2024, 10, 1), date(2024, 12, 30)),
        "manage_principals": lambda: Identity(app).grant("victim", f"lao:{lao}"),
        "manage_sessions": lambda: Identity(app).sessions(),
    }


_counter = iter(range(10_000))


def _staff():  # type: ignore[no-untyped-def]
    from ledger.domain.values import Fields

    return Fields(staff=next(_counter) + 2)


@pytest.mark.parametrize("column", list(ROLES))
def test_the_application_acting_for_each_role_applies_the_table(ledger: MissionLedger, column: str) -> None:
    rows = table()
    acting = ledger.acting_as(principal(ROLES[column]))
    for scope, which in ((OWN, 0), (OTHER, 1)):
        for operation, call in _application_calls(acting, scope).items():
            cell = rows[operation][column]
            allowed = {"all": (True, True), "own": (True, False), "yes": (True, True), "—": (False, False)}[cell][which]
            try:
                call()  # type: ignore[operator]
                done = True
            except Forbidden:
                done = False
            assert done == allowed, f"{column} {operation} on {scope}: the table says {cell}"
    # In particular: nobody but an admin makes anyone (itself included) an admin.
    if column != "admin":
        with pytest.raises(Forbidden):
            Identity(acting).grant("victim", "admin")
        assert Role("admin") not in Identity(ledger).principal("victim").roles
