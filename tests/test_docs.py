"""The docs say what the code does: every limit is listed with its value."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from ledger import clock
from ledger.domain import limits

DOCS = Path(__file__).resolve().parent.parent / "docs"


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
