"""Principals, roles and tokens as the operator manages them: every change is an event, so who could
do what is answerable as of any time; the rules of who may do what, as pure functions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ledger.domain.access import Role, fold_principal, parse_role, permits, readable_scope
from ledger.domain.events import PrincipalAdded, RoleGranted
from ledger.errors import BadInput, Forbidden
from tests.support.cli_session import krabi_session


def test_who_could_write_for_an_lao_on_the_deadline_is_answered_as_of_then(tmp_path: Path) -> None:
    ml = krabi_session(tmp_path)
    assert ml("principal", "add", "krabi.officer", "--role", "province:81").exit_code == 0
    assert ml("principal", "add", "somchai", "--role", "lao:6810104").exit_code == 0
    later = "2025-01-08T09:00:00+07:00"
    # After the deadline somchai is moved to เขาคราม, and the officer loses the province.
    assert ml("principal", "grant", "somchai", "lao:6810103", clock=later).exit_code == 0
    assert ml("principal", "revoke", "krabi.officer", "province:81", clock=later).exit_code == 0

    def writers(at: str) -> list[str]:
        result = ml("principal", "list", "--known-at", at, "--can-write", "6810103", "--json", clock=later)
        assert result.exit_code == 0, result.output
        return [p["name"] for p in json.loads(result.output)]

    assert writers("2567-12-30") == ["krabi.officer"]
    assert writers("2568-01-09") == ["somchai"]


def test_a_token_is_shown_once_and_only_its_id_is_listed(tmp_path: Path) -> None:
    ml = krabi_session(tmp_path)
    ml("principal", "add", "audit", "--role", "auditor")
    issued = ml("token", "issue", "audit", "--label", "ตรวจสอบ")
    assert issued.exit_code == 0
    token = issued.output.strip().splitlines()[-1]
    assert token.startswith("mlt_") and len(token) == 47
    listed = ml("token", "list", "--json").output
    assert token not in listed and json.loads(listed)[0]["label"] == "ตรวจสอบ"
    token_id = json.loads(listed)[0]["token_id"]
    assert ml("token", "revoke", token_id).exit_code == 0
    again = ml("token", "revoke", token_id)
    assert again.exit_code == 1 and "revoked already" in again.output
    assert json.loads(ml("token", "list", "--json").output)[0]["active"] is False


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("principal", "add", "Somchai Jaidee"), "principal name"),
        (("principal", "add", "x", "--role", "province:8"), "role 'province:8'"),
        (("principal", "add", "x", "--role", "lao:123"), "role 'lao:123'"),
        (("principal", "grant", "nobody", "auditor"), "no principal 'nobody'"),
        (("token", "issue", "nobody"), "no principal 'nobody'"),
        (("token", "revoke", "0123456789ab"), "no token"),
    ],
)
def test_bad_principal_commands_are_one_line_and_append_nothing(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    ml = krabi_session(tmp_path)
    from ledger.application import MissionLedger

    before = MissionLedger(ml.db).ledger_recorder.log_size()
    result = ml(*args)
    assert result.exit_code != 0 and message in result.output and "Traceback" not in result.output
    assert MissionLedger(ml.db).ledger_recorder.log_size() == before


def test_roles_parse_in_their_forms_and_thai_digits() -> None:
    assert parse_role("province:81") == Role("province", "81")
    assert parse_role("lao:๖๘๑๐๑๐๓") == Role("lao", "6810103")
    assert str(parse_role(" integration:82 ")) == "integration:82"
    with pytest.raises(BadInput):
        parse_role("superuser")


#: Where the registry puts the tests' LAOs and districts.
WHERE = {
    "lao": {"6810103": "81", "6810201": "81", "6820101": "82"},
    "lao-district": {"6810103": "8101", "6810201": "8102", "6820101": "8201"},
    "district": {"8101": "81", "8102": "81", "8201": "82"},
}


def test_a_district_officer_reads_her_districts_laos_and_writes_nothing() -> None:
    from datetime import UTC, datetime

    t = datetime(2025, 1, 1, tzinfo=UTC)
    officer = fold_principal(
        [PrincipalAdded(name="d", roles=("district:8101",), recorded_at=t, actor="a", source="cli")]
    )
    assert officer is not None

    def province_of(kind: str, code: str) -> str | None:
        return WHERE[kind].get(code)

    # Her district by default; an LAO of it; nothing else — not her province, not another district.
    assert readable_scope(officer, lao=None, district=None, province=None, province_of=province_of) == (
        None,
        "8101",
        None,
    )
    assert readable_scope(officer, lao="6810103", district=None, province=None, province_of=province_of)[0] == "6810103"
    for scope in ({"lao": "6810201"}, {"district": "8102"}, {"province": "81"}, {"lao": "6820101"}):
        with pytest.raises(Forbidden):
            readable_scope(
                officer, **{"lao": None, "district": None, "province": None, **scope}, province_of=province_of
            )
    assert permits(officer, "read_record", lao="6810103", province="81", district="8101")
    assert not permits(officer, "write_record", lao="6810103", province="81", district="8101")
    assert not permits(officer, "import")
    with pytest.raises(BadInput, match="DDDD"):
        parse_role("district:81")


def test_a_province_officer_reads_its_province_by_default_and_nothing_else() -> None:
    from datetime import UTC, datetime

    t = datetime(2025, 1, 1, tzinfo=UTC)
    officer = fold_principal([PrincipalAdded(name="o", roles=("province:81",), recorded_at=t, actor="a", source="cli")])
    assert officer is not None

    def province_of(kind: str, code: str) -> str | None:
        return WHERE[kind].get(code)

    assert readable_scope(officer, lao=None, district=None, province=None, province_of=province_of) == (
        None,
        None,
        "81",
    )
    assert readable_scope(officer, lao="6810103", district=None, province=None, province_of=province_of)[0] == "6810103"
    for scope in ({"lao": "6820101"}, {"district": "8201"}, {"province": "82"}):
        with pytest.raises(Forbidden):
            readable_scope(
                officer, **{"lao": None, "district": None, "province": None, **scope}, province_of=province_of
            )
    # A second grant makes "no scope" ambiguous: it must be named.
    both = fold_principal(
        [
            PrincipalAdded(name="o", roles=("province:81",), recorded_at=t, actor="a", source="cli"),
            RoleGranted(name="o", role="province:82", recorded_at=t, actor="a", source="cli"),
        ]
    )
    assert both is not None
    with pytest.raises(Forbidden, match="give a scope"):
        readable_scope(both, lao=None, district=None, province=None, province_of=province_of)


def test_an_officer_working_in_thai_reads_thai(tmp_path: Path) -> None:
    from cli.main import cli

    ml = krabi_session(tmp_path)

    def thai(*args: str) -> str:
        env = {"MISSION_LEDGER_CLOCK": ml.clock}
        return ml.runner.invoke(cli, ["--lang", "th", "--db", str(ml.db), *args], env=env).output

    assert "เพิ่มผู้ใช้ krabi.officer แล้ว" in thai("principal", "add", "krabi.officer", "--role", "province:81")
    assert "ให้สิทธิ์ เจ้าหน้าที่องค์การบริหารส่วนตำบลเขาคราม (6810103) แก่ krabi.officer แล้ว" in thai(
        "principal", "grant", "krabi.officer", "lao:6810103"
    )
    assert "มีสิทธิ์ province:81 อยู่แล้ว" in thai("principal", "grant", "krabi.officer", "province:81")
    assert "แสดงครั้งเดียว" in thai("token", "issue", "krabi.officer")
