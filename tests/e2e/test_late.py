"""One definition of late (issue 24): every record event recorded after the round's deadline, of
every kind — a late first report and a void as much as a correction. The command line, the API and
the province dashboard give the same list, on both backends, from a real `serve`."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from ledger.application import MissionLedger
from ledger.clock import FixedClock
from ledger.domain.events import RoundSealed
from ledger.domain.thai import end_of_day
from ledger.domain.values import Fields
from ledger.identity import Identity
from ledger.integrity.checkpoint import Signer
from ledger.rounds import Rounds
from tests.conftest import package_data
from tests.support.served import Served, ledger_location, sign_in

DEADLINE = date(2024, 12, 30)


def _seal_within(location: str, *, seconds: float) -> RoundSealed:
    give_up = time.monotonic() + seconds
    while True:
        app = MissionLedger(location, create_tables=False)
        try:
            found = Rounds(app).seal_of("fy2568")
        finally:
            app.close()
        if found is not None:
            return found
        assert time.monotonic() < give_up, "the service did not seal the round"
        time.sleep(0.2)


def _a_round_with_late_work(location: str) -> tuple[str, list[int]]:
    """A Krabi round: reports before the deadline and one at its last microsecond (on time), then
    one of every kind after it. Returns an officer's token and the late positions."""
    clock = FixedClock(datetime(2024, 12, 1, 3, tzinfo=UTC))
    app = MissionLedger(location, clock=clock, actor="seed")
    app.initialise("test/late")
    app.load_registry(package_data("krabi_laos.csv"), name="krabi_laos.csv")
    app.load_catalog(package_data("sample_catalog.csv"), name="sample_catalog.csv")
    Rounds(app).open("fy2568", date(2024, 10, 1), DEADLINE)
    operating = Fields(status="operating", received_fy=2546, quantity=Decimal("2"), unit="แห่ง")
    for lao, mission in (("6810103", "INF-01"), ("6810103", "QOL-01"), ("6810104", "INF-01")):
        app.record(lao, mission, effective_from=date(2024, 10, 1), values=operating)
    clock.at = end_of_day(DEADLINE)  # the deadline's last microsecond: on time
    app.record("4810102", "QOL-03", effective_from=date(2024, 10, 1), values=operating)
    clock.at = end_of_day(DEADLINE) + timedelta(days=6)
    size = app.ledger_recorder.log_size()
    app.record("5810109", "INF-04", effective_from=date(2024, 10, 1), values=operating)  # a late first report
    app.correct("6810103", "INF-01", set=Fields(quantity=Decimal("3")), reason="วัดใหม่")
    app.change("6810103", "QOL-01", set=Fields(staff=4), effective_from=date(2025, 1, 1), reason="เพิ่มครู")
    app.cancel("6810103", "QOL-01", effective_from=date(2025, 2, 1), reason="ยุบรวม")
    app.reinstate("6810103", "QOL-01", effective_from=date(2025, 3, 1), reason="เปิดใหม่")
    app.void("6810104", "INF-01", reason="บันทึกผิด อปท.")
    late = list(range(size + 1, app.ledger_recorder.log_size() + 1))
    identity = Identity(app)
    identity.add("krabi", ["province:81"])
    token = identity.issue("krabi", expires_at=datetime.now(UTC) + timedelta(days=1)).token
    app.close()
    return token, late


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_the_command_line_the_api_and_the_dashboard_give_one_late_list(backend: str, tmp_path: Path) -> None:
    with ledger_location(backend, tmp_path) as location:
        token, late = _a_round_with_late_work(location)
        assert len(late) == 6
        # The command line.
        asked = ["--db", location, "--views", str(tmp_path / "cli.views.db")]
        result = CliRunner().invoke(
            cli, [*asked, "changes", "--round", "fy2568", "--late", "--province", "81", "--json"]
        )
        assert result.exit_code == 0, result.output
        by_cli = [e["position"] for e in json.loads(result.output)]
        kinds = {e["kind"] for e in json.loads(result.output)}
        key = tmp_path / "server.key"
        key.write_text(Signer.generate("test-late").format(), encoding="utf-8")
        served = Served(location, tmp_path, env={"MISSION_LEDGER_KEY": str(key)})
        served.tokens = {"krabi": token}
        served.start()
        try:
            # The service seals the round whose deadline passed while nobody served it, on start:
            # the events recorded by the deadline, not the late ones.
            seal = _seal_within(location, seconds=20)
            assert seal.size == late[0] - 1
            # An answer as known at the deadline names the seal it can be proven against.
            with served.client("krabi") as http:
                at_deadline = http.get("/as-of", params={"known_at": "2567-12-30", "province": "81"})
                later = http.get("/as-of", params={"known_at": "2568-01-30", "province": "81"})
            assert at_deadline.headers["mission-ledger-seal"] == f"round=fy2568; size={seal.size}; root={seal.root}"
            assert "mission-ledger-seal" not in later.headers
            said = CliRunner().invoke(cli, [*asked, "as-of", "--known-at", "2567-12-30", "--province", "81"])
            assert (
                f"As sealed for fiscal year 2025 (fy2568): the first {seal.size} events, root {seal.root}"
                in said.output
            )
            # The API.
            with served.client("krabi") as http:
                answer = http.get("/changes", params={"round": "fy2568", "late": "true", "province": "81"})
            assert answer.status_code == 200, answer.text
            by_api = [e["position"] for e in answer.json()]
            # The dashboard (newest first; each row links to its receipt by position).
            page = sign_in(served, token).get("/province/81")
            assert page.status_code == 200
            table = page.text.split('aria-labelledby="late"', 1)[1].split("</table>", 1)[0]
            by_page = sorted(int(p) for p in re.findall(r'class="position">(\d+)<', table))
        finally:
            served.stop()
    assert by_cli == by_api == by_page == late
    assert kinds == {"recorded", "corrected", "changed", "cancelled", "reinstated", "voided"}


def test_late_needs_a_round_and_a_round_must_exist(tmp_path: Path) -> None:
    _a_round_with_late_work(str(tmp_path / "ledger.db"))
    asked = ["--db", str(tmp_path / "ledger.db")]
    alone = CliRunner().invoke(cli, [*asked, "changes", "--late"])
    assert alone.exit_code == 2 and "--late needs --round" in alone.output
    unknown = CliRunner().invoke(cli, [*asked, "changes", "--round", "fy2599", "--late"])
    assert unknown.exit_code == 3 and "'fy2599' is not a reporting round (fy2568)" in unknown.output
