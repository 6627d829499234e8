"""What programs read is ISO 8601 in the Common Era, whatever the language, the calendar or the
locale a person works in (issue 23): a BE year written as ISO ("2567-10-01") is read by every
program and spreadsheet as the year 2567 CE, 543 years off. Every JSON and CSV the command line
prints, and every CSV and JSON-lines export, in a Thai session three ways."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from tests.support.cli_session import krabi_session, ok, record_roads

#: An ISO date or instant whose year is a BE year (2400 and after).
BE_AS_ISO = re.compile(r"\b2[4-9]\d\d-\d\d-\d\d")
THAI_SESSIONS = {
    "--lang th": ({}, ["--lang", "th"]),
    "MISSION_LEDGER_LANG=th": ({"MISSION_LEDGER_LANG": "th"}, []),
    "th_TH locale": ({"LANG": "th_TH.UTF-8", "LC_ALL": "th_TH.UTF-8"}, []),
}
COMMANDS = [
    ("show", "6810103", "INF-01", "--json"),
    ("history", "6810103", "INF-01", "--json"),
    ("history", "6810103", "INF-01", "--csv"),
    ("as-of", "--known-at", "2567-12-30", "--json"),
    ("as-of", "--known-at", "2567-12-30", "--csv"),
    ("changes", "--since", "2567-01-01", "--json"),
    ("changes", "--since", "2567-01-01", "--csv"),
    ("report", "completeness", "--province", "81", "--json"),
    ("report", "completeness", "--province", "81", "--csv"),
    ("round", "list", "--json"),
    ("feed",),
]


@pytest.mark.parametrize("session", THAI_SESSIONS)
def test_every_machine_output_of_a_thai_session_is_iso_ce(tmp_path: Path, session: str) -> None:
    ml = krabi_session(tmp_path)
    record_roads(ml)
    ok(ml("correct", "6810103", "INF-01", "--set", "quantity=13.2", "--reason", "วัดใหม่"))
    ok(ml("round", "open", "fy2568", "--start", "1 ต.ค. 2567", "--deadline", "30 ธ.ค. 2567"))
    env, options = THAI_SESSIONS[session]
    run = CliRunner()
    base = ["--db", str(ml.db), *options]
    clock = {"MISSION_LEDGER_CLOCK": ml.clock, **env}
    outputs = {}
    for command in COMMANDS:
        result = run.invoke(cli, [*base, *command], env=clock)
        assert result.exit_code == 0, (command, result.output)
        outputs[" ".join(command)] = result.output
    for fmt in ("csv", "jsonl"):
        out = tmp_path / f"export.{fmt}"
        result = run.invoke(cli, [*base, "export", "--format", fmt, "--calendar", "be", "--out", str(out)], env=clock)
        assert result.exit_code == 0, result.output
        outputs[f"export {fmt}"] = out.read_text(encoding="utf-8-sig")
    for name, text in outputs.items():
        found = BE_AS_ISO.findall(text)
        assert not found, f"{session}: `{name}` writes BE years as ISO: {found[:3]}"
    # The dates are there, in CE: the record's first day and the round's deadline.
    assert '"effective_from":"2024-01-01"' in outputs["show 6810103 INF-01 --json"]
    assert json.loads(outputs["round list --json"])[0]["deadline"] == "2024-12-30"
    assert "2024-01-01" in outputs["export csv"]
