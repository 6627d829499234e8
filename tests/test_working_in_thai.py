"""Working the way Thai officers work: their dates, BE where they work in Thai, their reference
data, their spreadsheets — through the command line, as they use it."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from cli.main import cli
from tests.cli_session import Ledger, ok, record_roads

CE_YEAR = re.compile(r"\b20[0-9]{2}-[01][0-9]-[0-3][0-9]")  # an ISO date with a CE year


def thai(ml: Ledger, *args: str, env: dict[str, str] | None = None) -> str:
    result = CliRunner().invoke(
        cli,
        ["--db", str(ml.db), *args],
        env={
            "MISSION_LEDGER_CLOCK": ml.clock,
            "MISSION_LEDGER_ACTOR": "officer",
            **(env or {"MISSION_LEDGER_LANG": "th"}),
        },
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize(
    "date_text", ["1/10/2567", "๑/๑๐/๒๕๖๗", "1 ต.ค. 2567", "1 ตุลาคม 2567", "1.10.2567", "2567-10-01", "2024-10-01"]
)
def test_an_effective_date_in_every_form_officers_write(ml: Ledger, date_text: str) -> None:
    ok(ml("record", "6810103", "INF-01", "--status", "operating", "--effective", date_text))
    assert '"effective_from":"2024-10-01"' in ok(ml("show", "6810103", "INF-01", "--json"))


@pytest.mark.parametrize(
    "env", [{"MISSION_LEDGER_LANG": "th"}, {"LANG": "th_TH.UTF-8"}, {"LC_ALL": "th_TH.UTF-8", "LANG": "C"}]
)
def test_who_works_in_thai_reads_be_dates_in_every_command(ml: Ledger, env: dict[str, str]) -> None:
    record_roads(ml)
    ok(ml("change", "6810103", "INF-01", "--set", "budget=1500000", "--effective", "1 ม.ค. 2568", "--reason", "งบเพิ่ม"))
    ok(ml("correct", "6810103", "INF-01", "--set", "effective_from=1/12/2566", "--reason", "วันเริ่มผิด"))
    outputs = {
        "show": thai(ml, "show", "6810103", "INF-01", env=env),
        "history": thai(ml, "history", "6810103", "INF-01", env=env),
        "as-of": thai(ml, "as-of", "--province", "81", env=env),
        "changes": thai(ml, "changes", "--since", "1/1/2566", env=env),
        "record": thai(ml, "cancel", "6810103", "INF-01", "--effective", "1/3/2568", "--reason", "ส่งคืน", env=env),
    }
    for command, text in outputs.items():
        assert not CE_YEAR.search(text), f"{command} prints a CE date under Thai: {CE_YEAR.search(text)}"
        assert re.search(r"25[67][0-9]-", text), f"{command} prints no BE date:\n{text}"
    assert "effective_from: 2567-01-01 → 2566-12-01" in outputs["history"]


def test_english_stays_ce_and_calendar_overrides_the_default(ml: Ledger) -> None:
    record_roads(ml)
    assert "2024-01-01" in ok(ml("show", "6810103", "INF-01"))
    assert "2567-01-01" in thai(ml, "show", "6810103", "INF-01")
    assert "2024-01-01" in thai(ml, "show", "6810103", "INF-01", "--calendar", "ce")
