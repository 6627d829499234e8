"""The command line: every command, its exit codes and its one-line messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from tests.support.cli_session import Ledger, fails, ok, record_roads


def test_init_twice_changes_nothing(ml: Ledger) -> None:
    assert "already initialised" in ok(ml("init"))


def test_registry_and_catalog_reload_append_nothing(ml: Ledger) -> None:
    out = ok(ml("registry", "load", str(ml.folder / "krabi_laos.csv")))
    assert "0 registered, 0 amended, 62 unchanged" in out
    assert "0 defined, 0 amended, 31 unchanged" in ok(ml("catalog", "load", str(ml.folder / "catalog.csv")))


def test_record_and_show_json_has_the_design_keys(ml: Ledger) -> None:
    record_roads(ml)
    doc = json.loads(ok(ml("show", "6810103", "INF-01", "--json")))
    assert list(doc) == [
        "lao_code",
        "mission_code",
        "status",
        "received_fy",
        "quantity",
        "unit",
        "budget",
        "staff",
        "note",
        "version",
        "effective_from",
        "valid_from",
        "valid_to",
        "recorded_at",
    ]
    assert doc["quantity"] == "12.5" and doc["budget"] == "1250000.50" and doc["unit"] == "กิโลเมตร"
    assert doc["effective_from"] == "2024-01-01" and doc["valid_to"] is None and doc["staff"] is None
    assert doc["recorded_at"] == "2024-11-01T09:00:00+07:00"


def test_show_for_people_and_in_be(ml: Ledger) -> None:
    record_roads(ml)
    out = ok(ml("show", "6810103", "INF-01", "--calendar", "be"))
    assert "effective_from  1 Jan 2567 BE" in out and "budget          1,250,000.50" in out
    assert "recorded_at     1 Nov 2567 BE 09:00" in out  # Bangkok time, to the minute


def test_correct_change_cancel_reinstate_void_through_the_cli(ml: Ledger) -> None:
    record_roads(ml)
    out = ok(
        ml(
            "correct",
            "6810103",
            "INF-01",
            "--set",
            "quantity=13.2",
            "--set",
            "note=วัดใหม่",
            "--reason",
            "re-measured",
            clock="2024-11-02",
        )
    )
    assert out.startswith("corrected 6810103/INF-01 at position")
    ok(
        ml(
            "change",
            "6810103",
            "INF-01",
            "--set",
            "budget=1500000",
            "--effective",
            "2568-01-01",
            "--reason",
            "allocation",
            clock="2024-11-03",
        )
    )
    ok(
        ml(
            "cancel",
            "6810103",
            "INF-01",
            "--effective",
            "2568-03-01",
            "--reason",
            "handed back",
            clock="2024-11-04",
        )
    )
    ok(
        ml(
            "reinstate",
            "6810103",
            "INF-01",
            "--effective",
            "2568-04-01",
            "--reason",
            "back",
            clock="2024-11-05",
        )
    )
    doc = json.loads(ok(ml("show", "6810103", "INF-01", "--json", "--valid-on", "2568-03-15", clock="2024-11-05")))
    assert doc["status"] == "cancelled" and doc["budget"] == "1500000" and doc["note"] == "วัดใหม่"
    past = json.loads(
        ok(
            ml(
                "show",
                "6810103",
                "INF-01",
                "--json",
                "--known-at",
                "2024-11-01",
                "--valid-on",
                "2568-03-15",
                clock="2024-11-05",
            )
        )
    )
    assert past["status"] == "operating" and past["quantity"] == "12.5" and past["version"] == 1
    ok(ml("void", "6810103", "INF-01", "--reason", "wrong LAO", clock="2024-11-06"))
    fails(ml("show", "6810103", "INF-01", clock="2024-11-06"), 3, "was voided")


def test_correcting_the_first_day_with_set_effective_from(ml: Ledger) -> None:
    record_roads(ml)
    ok(ml("correct", "6810103", "INF-01", "--set", "effective_from=2566-10-01", "--reason", "earlier"))
    doc = json.loads(ok(ml("show", "6810103", "INF-01", "--json")))
    assert doc["effective_from"] == "2023-10-01"


@pytest.mark.parametrize(
    "args, code, message",
    [
        (("show", "6810103", "INF-01"), 3, "no record 6810103/INF-01"),
        (("show", "9999999", "INF-01"), 3, "LAO 9999999 is not in the registry"),
        (
            ("record", "9999999", "INF-01", "--status", "operating", "--effective", "2567-01-01"),
            3,
            "LAO 9999999",
        ),
        (
            ("record", "6810103", "NOPE", "--status", "operating", "--effective", "2567-01-01"),
            3,
            "mission NOPE",
        ),
        (
            (
                "record",
                "6810103",
                "INF-01",
                "--status",
                "operating",
                "--effective",
                "2567-01-01",
                "--budget",
                "-5",
            ),
            2,
            "-5 is not a budget",
        ),
        (
            (
                "record",
                "6810103",
                "INF-01",
                "--status",
                "operating",
                "--effective",
                "2567-01-01",
                "--quantity",
                "3",
            ),
            2,
            "has no unit",
        ),
        (
            ("record", "6810103", "INF-01", "--status", "operating", "--effective", "05/13/2567"),
            2,
            "not a valid date",
        ),
        (
            ("record", "6810103", "INF-01", "--status", "cancelled", "--effective", "2567-01-01"),
            2,
            "use `cancel`",
        ),
        (
            ("record", "6810103", "INF-01", "--status", "operating", "--effective", "2567-02-30"),
            2,
            "not a valid date",
        ),
        (("show", "6810103", "INF-01", "--known-at", "soon"), 2, "not a date"),
    ],
)
def test_bad_input_on_an_empty_record(ml: Ledger, args: tuple[str, ...], code: int, message: str) -> None:
    fails(ml(*args), code, message)


@pytest.mark.parametrize(
    "args, code, message",
    [
        (("correct", "6810103", "INF-01", "--set", "quantity=12.5", "--reason", "x"), 1, "changes nothing"),
        (("correct", "6810103", "INF-01", "--set", "quantity=14"), 2, "correct needs a reason"),
        (
            ("correct", "6810103", "INF-01", "--set", "colour=red", "--reason", "x"),
            2,
            "'colour' is not a field",
        ),
        (("correct", "6810103", "INF-01", "--set", "quantity", "--reason", "x"), 2, "is not FIELD=VALUE"),
        (
            ("correct", "6810103", "INF-01", "--set", "staff=2", "--reason", "x", "--expect-version", "7"),
            1,
            "at version 1, not 7",
        ),
        (
            ("change", "6810103", "INF-01", "--set", "staff=2", "--effective", "2566-01-01", "--reason", "x"),
            1,
            "before the record starts",
        ),
        (("cancel", "6810103", "INF-01", "--effective", "2567-06-01"), 2, "cancel needs a reason"),
        (
            ("reinstate", "6810103", "INF-01", "--effective", "2567-06-01", "--reason", "x"),
            1,
            "is not cancelled",
        ),
        (
            ("record", "6810103", "INF-01", "--status", "operating", "--effective", "2567-01-01"),
            1,
            "already recorded",
        ),
        (("void", "6810103", "INF-02", "--reason", "x"), 3, "no record 6810103/INF-02"),
    ],
)
def test_refusals_on_a_recorded_record_change_nothing(
    ml: Ledger, args: tuple[str, ...], code: int, message: str
) -> None:
    record_roads(ml)
    before = ok(ml("show", "6810103", "INF-01", "--json"))
    fails(ml(*args), code, message)
    assert ok(ml("show", "6810103", "INF-01", "--json")) == before


def test_cancelling_twice_and_a_clock_in_the_past(ml: Ledger) -> None:
    record_roads(ml)
    ok(ml("cancel", "6810103", "INF-01", "--effective", "2567-06-01", "--reason", "x"))
    fails(
        ml("cancel", "6810103", "INF-01", "--effective", "2567-07-01", "--reason", "x"),
        1,
        "already cancelled",
    )
    fails(
        ml("correct", "6810103", "INF-01", "--set", "staff=2", "--reason", "x", clock="2024-10-01"),
        1,
        "backdating is refused",
    )
    fails(
        ml("correct", "6810103", "INF-01", "--set", "staff=2", "--reason", "x", clock="next week"),
        2,
        "MISSION_LEDGER_CLOCK",
    )


def test_no_ledger_at_the_path(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--db", str(tmp_path / "none.db"), "show", "6810103", "INF-01"])
    fails(result, 3, "no ledger at")
    assert not (tmp_path / "none.db").exists()


def test_registry_load_of_a_bad_file_says_where(ml: Ledger) -> None:
    bad = ml.file(
        "bad.csv",
        "lao_code,lao_type,name_th,province_code,province_th,district_code,district_th\n"
        "6810103,sao,x,81,กระบี่,81,เมือง\n".encode(),
    )
    fails(ml("registry", "load", bad), 2, "bad.csv, row 2: district_code '81' is not 4 digits")


def test_demo_runs_on_a_fresh_ledger_and_shows_the_deadline_view(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    for _ in range(2):  # repeatable: the demo file is replaced on every run
        result = runner.invoke(cli, ["demo"], catch_exceptions=False)
        assert result.exit_code == 0, result.output
    out = result.output
    before, after = out.split("What the ledger knows now:")
    assert "6810103  INF-01   operating  2546         12.5" in before
    assert "6810103  INF-01   operating  2546         13.2" in after
    assert "5810109  INF-04   cancelled" in after and "5810109  INF-04   not_yet" in before
    explicit = runner.invoke(cli, ["--db", "mine.db", "demo"])
    assert explicit.exit_code == 0
    again = runner.invoke(cli, ["--db", "mine.db", "demo"])
    fails(again, 1, "already holds a ledger")
