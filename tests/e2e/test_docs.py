"""The docs say what the code does: every limit is listed with its value."""

from __future__ import annotations

import os
import re
from decimal import Decimal
from pathlib import Path

from ledger import clock
from ledger.domain import limits

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_every_limit_is_documented_with_its_value() -> None:
    text = (DOCS / "limits.md").read_text(encoding="utf-8")
    bounds = {name: getattr(limits, name) for name in dir(limits) if name.isupper()}
    bounds["CLOCK_LEAD"] = clock.CLOCK_LEAD
    for name, value in bounds.items():
        assert f"`{name}`" in text, f"docs/limits.md does not list {name}"
        if isinstance(value, (int, Decimal)):
            assert f"{value:,}" in text, f"docs/limits.md does not give {name}'s value {value:,}"
        elif hasattr(value, "isoformat"):
            assert value.isoformat() in text, f"docs/limits.md does not give {name}'s value {value}"
    assert "5\nminutes" in text or "5 minutes" in text


def _commands(group: object, prefix: str = "") -> list[str]:
    import click

    assert isinstance(group, click.Group)
    names = []
    for name, command in group.commands.items():
        if command.hidden:
            continue
        if isinstance(command, click.Group):
            names += _commands(command, f"{prefix}{name} ")
        else:
            names.append(f"{prefix}{name}")
    return names


def test_every_command_is_in_the_readme_and_the_design() -> None:
    import re

    from cli.main import cli

    readme = (DOCS.parent / "README.md").read_text(encoding="utf-8")
    design = (DOCS / "design.md").read_text(encoding="utf-8")
    missing = [
        name
        for name in _commands(cli)
        # `mission-ledger [--global VALUE …] NAME`, as the README writes commands
        if not re.search(r"mission-ledger(?: --\S+ \S+)* " + re.escape(name) + r"\b", readme)
    ]
    assert not missing, f"README.md shows no example of: {', '.join(missing)}"
    assert "`mission-ledger --help`" in design


def test_every_command_has_a_help_line_and_an_example() -> None:
    from click.testing import CliRunner

    from cli.main import cli

    for name in _commands(cli):
        result = CliRunner().invoke(cli, [*name.split(), "--help"])
        assert result.exit_code == 0, (name, result.output)
        assert "Example:" in result.output, f"`{name} --help` gives no example"


def test_every_event_kind_is_documented() -> None:
    from typing import get_args

    from ledger.domain.events import LedgerEvent

    text = (DOCS / "events.md").read_text(encoding="utf-8")
    for kind in get_args(LedgerEvent):
        tag = kind.__struct_config__.tag
        assert f"| `{tag}` |" in text, f"docs/events.md does not list the event kind {tag}"


def _readme_block(after: str) -> list[str]:
    """The commands of the first ```sh block after the line that starts with `after`, one per
    entry (continuation lines joined, comments dropped)."""
    text = (DOCS.parent / "README.md").read_text(encoding="utf-8")
    block = text[text.index(after) :].split("```sh\n", 1)[1].split("```", 1)[0]
    commands, pending = [], ""
    for line in block.splitlines():
        line = pending + line
        if line.endswith("\\"):
            pending = line[:-1]
            continue
        pending = ""
        if line.strip() and not line.lstrip().startswith("#"):
            commands.append(line)
    return commands


def _run_readme(commands: list[str], folder: Path) -> list[str]:
    """Runs README commands as a shell would (export, unset, comments), each mission-ledger command
    in the CLI; returns their outputs."""
    import shlex

    from click.testing import CliRunner

    from cli.main import cli

    env: dict[str, str | None] = {"MISSION_LEDGER_CLOCK": None, "MISSION_LEDGER_LANG": None}
    outputs = []
    cwd = Path.cwd()
    os.chdir(folder)
    try:
        for command in commands:
            words = shlex.split(command, comments=True)
            if words[0] == "export":
                name, _, value = words[1].partition("=")
                env[name] = value
                continue
            if words[0] == "unset":
                env[words[1]] = None
                continue
            assert words[0] == "mission-ledger", command
            result = CliRunner().invoke(cli, words[1:], env=env, catch_exceptions=False)
            assert result.exit_code == 0, f"{command}\n{result.output}"
            outputs.append(result.output)
    finally:
        os.chdir(cwd)
    return outputs


def test_the_readmes_using_it_block_works_as_written(tmp_path: Path) -> None:
    import shutil

    shutil.copytree(DOCS.parent / "ledger" / "data", tmp_path / "ledger" / "data")
    outputs = _run_readme(_readme_block("## Using it"), tmp_path)
    deadline, now = outputs[-2], outputs[-1]
    assert '"quantity":"12.5"' in deadline and '"version":2' not in deadline
    assert '"quantity":"13.2"' in now and '"budget":"1500000"' in now


def test_the_readmes_thai_example_works_and_speaks_be(tmp_path: Path) -> None:
    outputs = _run_readme(_readme_block("### ตัวอย่างสำหรับ"), tmp_path)
    text = "".join(outputs[1:])
    assert "2567" in text and not re.search(r"\b2024-12-", text)
    assert (tmp_path / "กระบี่-ณ-วันปิดรับ.xlsx").exists()
