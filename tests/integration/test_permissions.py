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


def test_a_province_officer_keeps_her_clerks_accounts_and_nothing_more(ledger: MissionLedger) -> None:
    """Delegated accounts (issue 24): a province officer adds her LAOs' clerks and her districts'
    officers, hands them one-time sign-in links, takes roles away and disables them — and every
    way beyond that is refused: another province, admin or auditor, an account not hers, a
    long-lived token, and any of it for a district officer or a clerk."""
    from ledger.errors import Unauthenticated

    people = Identity(ledger.acting_as(principal("province:81")))
    people.add("clerk.new", ["lao:6810104"], "เจ้าหน้าที่ อบต.อ่าวนาง")
    people.add("amphoe.new", ["district:8101"])
    people.grant("clerk.new", "lao:6810105")
    people.revoke("clerk.new", "lao:6810105")
    people.rename("clerk.new", "นางสาวสมใจ ใจดี")
    assert Identity(ledger).principal("clerk.new").display_name == "นางสาวสมใจ ใจดี"
    link = people.issue("clerk.new", one_time=True)
    refusals = {
        "another province's LAO": lambda: people.add("x1", ["lao:6820101"]),
        "an admin": lambda: people.add("x2", ["admin"]),
        "an auditor": lambda: people.add("x3", ["auditor"]),
        "a province officer": lambda: people.add("x4", ["province:81"]),
        "an integration": lambda: people.add("x5", ["integration:81"]),
        "mixed provinces": lambda: people.add("x6", ["lao:6810104", "lao:6820101"]),
        "no role": lambda: people.add("x7", []),
        "her clerk into Phang Nga": lambda: people.grant("clerk.new", "lao:6820101"),
        "her clerk made admin": lambda: people.grant("clerk.new", "admin"),
        "someone else's account": lambda: people.grant("victim", "lao:6810104"),
        "a long-lived token": lambda: people.issue("clerk.new"),
        "a link for an auditor": lambda: people.issue("victim", one_time=True),
        "disabling an auditor": lambda: people.disable("victim"),
        "renaming an auditor": lambda: people.rename("victim", "x"),
    }
    for what, attempt in refusals.items():
        with pytest.raises(Forbidden):
            attempt()
            pytest.fail(f"a province officer could add {what}")
    for role in ("district:8101", "lao:6810103", "auditor"):
        with pytest.raises(Forbidden):
            Identity(ledger.acting_as(principal(role))).add("x8", ["lao:6810104"])
    # Disabled: no role, no token; the link no longer signs anyone in.
    people.disable("clerk.new")
    closed = Identity(ledger).principal("clerk.new")
    assert not closed.roles and all(t.revoked_at is not None for t in closed.tokens.values())
    with pytest.raises(Unauthenticated):
        Identity(ledger).start_session(link.token)
    # Every change is an event with its actor: the officer's name.
    assert {e.actor for e in ledger.stream("principal/clerk.new")} == {"someone"}


def test_an_account_takes_a_role_of_everywhere_beside_one_of_a_province(ledger: MissionLedger) -> None:
    """`integration` and `integration:62` on one account (Schemathesis found that adding them
    together was a 500: roles were sorted by (kind, scope), and None does not compare with "62");
    disabling it revokes each, in the order the roles are written."""
    identity = Identity(ledger)
    identity.add("wide", ["integration:62", "admin", "integration", "auditor", "province:22"])
    assert sorted(str(r) for r in identity.principal("wide").roles) == [
        "admin", "auditor", "integration", "integration:62", "province:22",
    ]  # fmt: skip
    identity.disable("wide", "closed")
    assert identity.principal("wide").roles == frozenset()
