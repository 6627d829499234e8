"""Commands on mission records: the six that append (made from one table) and the two that read
one record (`show`, `history`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import click

from cli.base import Settings, cli, pass_settings
from cli.options import (
    F,
    calendar_option,
    date_callback,
    date_text_callback,
    field_option,
    format_options,
    instant_callback,
    one_format,
    reported_at_option,
    sets_callback,
    status_callback,
    write_options,
)
from cli.output import echo_csv, echo_fields, echo_json, echo_json_lines_as_list, echo_table, t, text_of, voice, w

if TYPE_CHECKING:
    from ledger.application import Receipt
    from projections.queries import HistoryEntry


def _effective(help: str) -> Callable[[F], F]:
    return click.option("--effective", required=True, callback=date_text_callback, help=help)


def _reason(help: str) -> Callable[[F], F]:
    return click.option("--reason", help=help)


def _sets(help: str) -> Callable[[F], F]:
    return click.option("--set", "sets", multiple=True, callback=sets_callback, metavar="FIELD=VALUE", help=help)


def _record_values(f: F) -> F:
    f = click.option("--status", required=True, callback=status_callback, help="operating or not_yet.")(f)
    for name, help in (
        ("note", "A note."),
        ("staff", "Persons transferred."),
        ("budget", "Budget in THB (exact decimal)."),
        ("unit", "Unit of the quantity."),
        ("quantity", "Quantity (exact decimal); needs --unit."),
        ("received_fy", "Fiscal year received (BE)."),
    ):
        f = field_option(name, help)(f)
    return f


@dataclass(frozen=True)
class RecordCommandFace:
    """RecordCommandFace is how one record command of ledger.application.RECORD_COMMANDS shows
    on the command line: its help (with an example), its options, and the verb it reports."""

    help: str
    verb: str
    options: tuple[Callable[[Any], Any], ...]


FACES: dict[str, RecordCommandFace] = {
    "record": RecordCommandFace(
        """Record a mission record: an LAO's first report of a mission.

        Example: mission-ledger record 6810103 INF-01 --status operating --effective 2567-10-01
        --received-fy 2545 --quantity 12.5 --unit กิโลเมตร
        """,
        "recorded",
        (
            _effective("First day the values hold (CE or BE)."),
            _record_values,
            _reason("Why (optional for a first report)."),
            reported_at_option,
        ),
    ),
    "correct": RecordCommandFace(
        """Correct an earlier report that was wrong (over the record's whole timeline).

        Example: mission-ledger correct 6810103 INF-01 --set quantity=13.2 --reason "วัดใหม่"
        """,
        "corrected",
        (
            _sets("A field's right value (empty VALUE clears it); also effective_from=DATE."),
            _reason("Why the earlier report was wrong (required)."),
            click.option("--period-from", callback=date_text_callback, help="Correct only from this date …"),
            click.option("--period-to", callback=date_text_callback, help="… up to (not including) this date."),
            write_options,
        ),
    ),
    "change": RecordCommandFace(
        """Record that circumstances changed from a date on.

        Example: mission-ledger change 6810103 INF-01 --set quantity=15 --effective 2568-01-01
        --reason "รับโอนถนนเพิ่ม"
        """,
        "changed",
        (
            _sets("A field's new value from --effective on (empty VALUE clears it)."),
            _effective("First day of the new values."),
            _reason("What changed in reality (required)."),
            write_options,
        ),
    ),
    "cancel": RecordCommandFace(
        """Record a cancellation from a date on.

        Example: mission-ledger cancel 6810103 QOL-01 --effective 2568-05-16 --reason "ยุบรวมศูนย์"
        """,
        "cancelled",
        (_effective("First day the mission is cancelled."), _reason("Why it was cancelled (required)."), write_options),
    ),
    "reinstate": RecordCommandFace(
        """Reverse a cancellation from a date on.

        Example: mission-ledger reinstate 6810103 QOL-01 --effective 2568-06-01 --reason "เปิดใหม่"
        """,
        "reinstated",
        (
            _effective("First day the mission holds again."),
            _reason("Why the cancellation is reversed (required)."),
            click.option(
                "--status",
                callback=status_callback,
                help="Status after reinstatement (default: as before the cancellation).",
            ),
            write_options,
        ),
    ),
    "void": RecordCommandFace(
        """Void a record entered in error: it then exists at no valid time.

        Example: mission-ledger void 6810103 ART-02 --reason "บันทึกผิด อปท."
        """,
        "voided",
        (_reason("Why the record was entered in error (required)."), write_options),
    ),
}


def _arguments(name: str, options: dict[str, Any]) -> dict[str, Any]:
    """The application's arguments for a record command: the options' text (each checked by its
    option's callback) through the translation every face shares."""
    from ledger.domain.commands import CommandText, command_arguments

    expect = options.pop("expect_version", None)
    sets = options.pop("sets", None)
    text = CommandText(set=dict(sets) if sets else None, **{k: v for k, v in options.items() if v is not None})
    return {**command_arguments(name, text), **({"expect_version": expect} if expect is not None else {})}


def say(verb: str, lao: str, mission: str, receipt: Receipt, *, calendar: str | None = None) -> None:
    """say reports what a command appended: the record, its last position and its time."""
    when = voice(calendar).when(receipt.recorded_at)
    click.echo(t(f"{verb} {lao}/{mission} at position {receipt.positions[-1]} ({when})"))


def _record_command(name: str, face: RecordCommandFace) -> click.Command:
    def run(settings: Settings, /, lao: str, mission: str, **options: Any) -> None:
        arguments = _arguments(name, options)
        with settings.writing() as app:
            receipt = app.command(name, lao, mission, **arguments)
        say(face.verb, lao, mission, receipt, calendar=settings.calendar)

    run.__doc__ = face.help
    command: Callable[..., None] = pass_settings(run)
    for option in reversed(face.options):
        command = option(command)
    command = click.argument("mission")(command)
    command = click.argument("lao")(command)
    return cli.command(name)(command)


for _name, _face in FACES.items():
    _record_command(_name, _face)


@cli.command()
@click.argument("lao")
@click.argument("mission")
@click.option(
    "--known-at",
    callback=instant_callback,
    help="As the ledger knew it then (default now; a date = end of that day).",
)
@click.option("--valid-on", callback=date_callback, help="The state holding on this date (default: known-at's date).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@calendar_option
@pass_settings
def show(
    settings: Settings,
    lao: str,
    mission: str,
    known_at: datetime | None,
    valid_on: date | None,
    as_json: bool,
    calendar: str,
) -> None:
    """Show a mission record as known at a time, valid on a date.

    Example: mission-ledger show 6810103 INF-01 --known-at 2567-12-30
    """
    view = settings.open().show(lao, mission, known_at=known_at, valid_on=valid_on)
    if as_json:
        echo_json(view)
        return
    from ledger.domain.timeline import RECORD_KEYS

    echo_fields([(k, getattr(view, k)) for k in RECORD_KEYS], calendar=calendar)


@cli.command("history")
@click.argument("lao")
@click.argument("mission")
@format_options
@calendar_option
@pass_settings
def history_command(settings: Settings, lao: str, mission: str, as_json: bool, as_csv: bool, calendar: str) -> None:
    """Every event of a mission record, oldest first, with what it changed (before → after).

    Example: mission-ledger history 6810103 INF-01
    """
    from ledger.domain.values import parse_lao_code, parse_mission_code
    from projections.queries import history

    one_format(as_json, as_csv)
    app = settings.open()
    entries = history(settings.views_of(app).db, parse_lao_code(lao), parse_mission_code(mission))
    print_entries(entries, as_json=as_json, as_csv=as_csv, calendar=calendar)


def _changes_text(changes: dict[str, list[Any]], calendar: str | None) -> str:
    """What an event changed, field by field: for a person (calendar given) in her words, for a
    program (None) as the values are (ISO CE dates)."""

    def shown(key: str, value: Any) -> str:
        if calendar is None:
            return "—" if value is None else str(value)
        # The views keep dates as ISO text: read back as dates, they print in the chosen calendar.
        if key == "effective_from" and isinstance(value, str):
            value = date.fromisoformat(value)
        return text_of(value, calendar=calendar, field=key)

    return "; ".join(f"{w(k)}: {shown(k, b)} → {shown(k, a)}" for k, (b, a) in changes.items())


_ENTRY_HEADERS = (
    "position",
    "recorded_at",
    "kind",
    "lao_code",
    "mission_code",
    "version",
    "actor",
    "source",
    "reason",
    "effective_from",
    "changes",
)


def print_entries(entries: Iterable[HistoryEntry], *, as_json: bool, as_csv: bool, calendar: str) -> None:
    """print_entries prints history entries as JSON, CSV or a table (history, changes)."""
    if as_json:
        echo_json_lines_as_list(entries)
        return
    # CSV is for programs and spreadsheets: its dates ISO CE, whatever the calendar people read.
    shown = None if as_csv else calendar
    rows = ((*(getattr(e, h) for h in _ENTRY_HEADERS[:-1]), _changes_text(e.changes, shown)) for e in entries)
    if as_csv:
        echo_csv(_ENTRY_HEADERS, rows)
    else:
        echo_table(_ENTRY_HEADERS, list(rows), calendar=calendar)
