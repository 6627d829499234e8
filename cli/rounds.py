"""Commands for reporting rounds: a round is data, opened once, so that which deadline applied is
itself answerable as of any time (`report completeness` and the dashboard default to it)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import click

from cli.base import Settings, cli, pass_settings
from cli.options import date_callback, instant_callback
from cli.output import echo_json, echo_table, voice
from ledger.errors import BadInput


@cli.group("round")
def round_group() -> None:
    """Reporting rounds: their start and deadline, nationwide or for a province."""


@round_group.command("open")
@click.argument("name")
@click.option("--start", required=True, callback=date_callback, help="First day of the round (CE or BE).")
@click.option("--deadline", required=True, callback=date_callback, help="Last day to report (CE or BE).")
@click.option("--province", help="Only this province (default: nationwide).")
@click.option("--reason", help="Why (e.g. the DLA letter that set the deadline).")
@pass_settings
def round_open(
    settings: Settings, name: str, start: date, deadline: date, province: str | None, reason: str | None
) -> None:
    """Open a reporting round (admin).

    Example: mission-ledger round open fy2568 --start 2567-10-01 --deadline 2567-12-30
    """
    from ledger.rounds import Rounds

    with settings.writing() as app:
        receipt = Rounds(app).open(name, start, deadline, province, reason)
    from ledger.domain.rounds import check_province_code

    said = voice(settings.calendar)
    where = said.province(check_province_code(province) if province else None)
    first, last, named = said.day(start), said.day(deadline), said.round(name, start)
    click.echo(said(f"round {named} opened ({where}, {first} to {last}) at position {receipt.positions[0]}"))


@round_group.command("list")
@click.option("--known-at", callback=instant_callback, help="The rounds as known at this time.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_settings
def round_list(settings: Settings, known_at: datetime | None, as_json: bool) -> None:
    """List the reporting rounds (as known now, or at --known-at), oldest start first.

    Example: mission-ledger round list --known-at 2567-12-30
    """
    from ledger.rounds import Rounds

    found = Rounds(settings.open()).rounds(known_at)
    rows = [
        {
            "name": r.name,
            "start": r.start,
            "deadline": r.deadline,
            "province_code": r.province_code,
            "opened_at": r.opened_at,
            "opened_by": r.opened_by,
        }
        for r in found
    ]
    if as_json:
        echo_json(rows)
        return
    named = voice(settings.calendar).round
    echo_table(
        ("round", "start", "deadline", "province", "opened_at"),
        [(named(r.name, r.start), r.start, r.deadline, r.province_code, r.opened_at) for r in found],
        calendar=settings.calendar,
    )


@round_group.command("seal")
@click.argument("name")
@click.option(
    "--key",
    "key_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    envvar="MISSION_LEDGER_KEY",
    required=True,
    help="The signer key file (from keygen); or MISSION_LEDGER_KEY.",
)
@pass_settings
def round_seal(settings: Settings, name: str, key_file: Path) -> None:
    """Seal a round whose deadline has passed: sign a checkpoint of exactly the events recorded
    by the deadline and keep it as the round's seal. A served ledger seals its rounds itself;
    sealing twice changes nothing.

    Example: mission-ledger round seal fy2568 --key krabi-ppao.key
    """
    from ledger.integrity.checkpoint import parse_signer
    from ledger.rounds import Rounds

    try:
        signer = parse_signer(key_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise BadInput(f"cannot read key {key_file}: {e}") from e
    with settings.writing() as app:
        rounds = Rounds(app)
        found = rounds.named(name)
        seal = rounds.seal(name, signer)
    said = voice()
    click.echo(
        said(
            f"round {said.round(found.name, found.start)} sealed: the {seal.size} events recorded by "
            f"{said.when(found.deadline_instant)}, root {seal.root}"
        )
    )
    click.echo(seal.checkpoint, nl=False)
