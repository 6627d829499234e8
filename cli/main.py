"""The `mission-ledger` command line (DESIGN §9): each command is a thin layer over one
library call. Errors become one line on stderr and the exit code of their kind:
1 refused or failed check, 2 bad usage or input, 3 not found."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import click

from cli.output import echo_fields, echo_json
from ledger.application import MissionLedger, Receipt, default_actor
from ledger.clock import clock_from_environment
from ledger.errors import BadInput, LedgerError, NotFound
from ledger.stores import StoreLocation
from ledger.thai import format_instant, parse_date, parse_instant
from ledger.values import FIELD_NAMES, Fields, parse_field, parse_status

F = TypeVar("F", bound=Callable[..., Any])


class LedgerGroup(click.Group):
    """LedgerGroup turns every foreseeable error into one line and its exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LedgerError as e:
            click.echo(f"Error: {e}", err=True)
            ctx.exit(e.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(130)


class Settings:
    """Settings holds the global options; `open()` opens the ledger they name."""

    def __init__(self, db: str, views: str | None, actor: str | None) -> None:
        self.location = StoreLocation(db)
        self.views = Path(views) if views else self.location.views_path()
        self.actor = actor or default_actor()

    def open(self, *, create: bool = False, clock_env: dict[str, str] | None = None) -> MissionLedger:
        """open opens the ledger; unless `create`, it must have been initialised."""
        if not create and not self.location.exists():
            raise NotFound(f"no ledger at {self.location.describe()}: run `mission-ledger init` or give --db")
        clock = clock_from_environment(clock_env if clock_env is not None else dict(os.environ))
        return MissionLedger(self.location, clock=clock, actor=self.actor)


pass_settings = click.make_pass_decorator(Settings)


@click.group(cls=LedgerGroup)
@click.option(
    "--db",
    envvar="MISSION_LEDGER_DB",
    default="mission-ledger.db",
    show_default=True,
    help="The ledger: a SQLite file path (or a postgresql:// URL).",
)
@click.option("--views", default=None, help="The views file (default: beside the ledger, NAME.views.db).")
@click.option(
    "--actor", envvar="MISSION_LEDGER_ACTOR", default=None, help="Who is writing (default: the OS user)."
)
@click.version_option(package_name="mission-ledger")
@click.pass_context
def cli(ctx: click.Context, db: str, views: str | None, actor: str | None) -> None:
    """mission-ledger: an audit ledger of the missions transferred to Thai local administrative
    organizations. Every record, correction, change and cancellation is an immutable event."""
    ctx.obj = Settings(db, views, actor)


# --- option parsing helpers -----------------------------------------------------------------


def _date(ctx: click.Context, param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return parse_date(value, what=f"--{param.name.replace('_', '-')}" if param.name else "date")
    except BadInput as e:
        raise click.BadParameter(str(e)) from None


def _instant(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_instant(value, what=f"--{param.name.replace('_', '-')}" if param.name else "time")
    except BadInput as e:
        raise click.BadParameter(str(e)) from None


def _checked(parse: Callable[[str], Any], value: str | None) -> Any:
    """Run a ledger parser inside a click callback, as a click error (exit 2, with usage)."""
    if value is None:
        return None
    try:
        return parse(value)
    except BadInput as e:
        raise click.BadParameter(str(e)) from None


def _sets(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in values:
        name, eq, text = item.partition("=")
        name = name.strip()
        if not eq:
            raise click.BadParameter(f"{item!r} is not FIELD=VALUE")
        if name in out:
            raise click.BadParameter(f"{name} is set twice")
        if name == "effective_from" and ctx.info_name == "correct":
            try:
                out[name] = parse_date(text, what="effective_from")
            except BadInput as e:
                raise click.BadParameter(str(e)) from None
            continue
        if name == "status" and text.strip() in ("cancelled", "ยกเลิก"):
            raise click.BadParameter("status 'cancelled' is set only by a cancellation: use `cancel`")
        try:
            out[name] = parse_field(name, text)
        except BadInput as e:
            raise click.BadParameter(str(e)) from None
    return out


def _fields(values: dict[str, Any]) -> Fields:
    return Fields(**{k: v for k, v in values.items() if k in FIELD_NAMES})


def _field_option(name: str, help: str) -> Callable[[F], F]:
    def parse(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
        if value is None:
            return None
        try:
            return parse_field(name, value)
        except BadInput as e:
            raise click.BadParameter(str(e)) from None

    return click.option(f"--{name.replace('_', '-')}", name, callback=parse, help=help)


def write_options(f: F) -> F:
    """write_options adds the options every correcting command shares."""
    f = click.option(
        "--reported-at", callback=_instant, help="When the source system says the LAO reported it."
    )(f)
    f = click.option(
        "--expect-version",
        type=click.IntRange(min=0),
        help="Refuse unless the record is at this version (optimistic concurrency).",
    )(f)
    return f


def _say(verb: str, lao: str, mission: str, receipt: Receipt) -> None:
    when = format_instant(receipt.recorded_at) if receipt.recorded_at else "—"
    click.echo(f"{verb} {lao}/{mission} at position {receipt.positions[-1]} ({when})")


# --- commands ---------------------------------------------------------------------------------


@cli.command()
@click.option("--origin", help="The ledger's origin name (used in checkpoints and the feed).")
@pass_settings
def init(settings: Settings, origin: str | None) -> None:
    """Create the ledger (a second init changes nothing).

    Example: mission-ledger --db krabi.db init
    """
    created = settings.open(create=True).initialise(origin)
    click.echo(f"{'initialised' if created else 'already initialised'}: {settings.location.describe()}")


@cli.group()
def registry() -> None:
    """The registry of LAOs."""


@registry.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--effective", "effective", callback=_date, help="Date from which changes hold (default today)."
)
@pass_settings
def registry_load(settings: Settings, file: Path, effective: date | None) -> None:
    """Load LAOs from a CSV file (columns of krabi_laos.csv, or DLA's open-data headers).

    Reloading the same file appends nothing; a changed file appends one amendment per LAO.

    Example: mission-ledger registry load krabi_laos.csv
    """
    receipt, unchanged = settings.open().load_registry(
        file.read_bytes(), name=file.name, effective_from=effective
    )
    registered = receipt.kinds.count("lao_registered")
    amended = receipt.kinds.count("lao_amended")
    click.echo(f"{file.name}: {registered} registered, {amended} amended, {unchanged} unchanged")


@cli.group()
def catalog() -> None:
    """The catalog of missions."""


@catalog.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_settings
def catalog_load(settings: Settings, file: Path) -> None:
    """Load missions from a CSV file: mission_code, name_th, area, source_agency, unit,
    applies_to (LAO types separated by '|', empty = all).

    Example: mission-ledger catalog load catalog.csv
    """
    receipt, unchanged = settings.open().load_catalog(file.read_bytes(), name=file.name)
    defined = receipt.kinds.count("mission_defined")
    amended = receipt.kinds.count("mission_amended")
    click.echo(f"{file.name}: {defined} defined, {amended} amended, {unchanged} unchanged")


@cli.command()
@click.argument("lao")
@click.argument("mission")
@click.option(
    "--status",
    required=True,
    callback=lambda c, p, v: _checked(parse_status, v),
    help="operating or not_yet.",
)
@click.option("--effective", required=True, callback=_date, help="First day the values hold (CE or BE).")
@_field_option("received_fy", "Fiscal year received (BE).")
@_field_option("quantity", "Quantity (exact decimal); needs --unit.")
@_field_option("unit", "Unit of the quantity.")
@_field_option("budget", "Budget in THB (exact decimal).")
@_field_option("staff", "Persons transferred.")
@_field_option("note", "A note.")
@click.option("--reason", help="Why (optional for a first report).")
@click.option("--reported-at", callback=_instant, help="When the source system says the LAO reported it.")
@pass_settings
def record(
    settings: Settings,
    lao: str,
    mission: str,
    status: str,
    effective: date,
    reason: str | None,
    reported_at: datetime | None,
    **values: Any,
) -> None:
    """Record a mission record: an LAO's first report of a mission.

    Example: mission-ledger record 6810103 INF-01 --status operating --effective 2567-10-01
    --received-fy 2545 --quantity 12.5 --unit กิโลเมตร
    """
    fields = Fields(status=status, **{k: v for k, v in values.items() if v is not None})  # type: ignore[arg-type]
    receipt = settings.open().record(
        lao, mission, effective_from=effective, values=fields, reason=reason, reported_at=reported_at
    )
    _say("recorded", lao, mission, receipt)


@cli.command()
@click.argument("lao")
@click.argument("mission")
@click.option(
    "--set",
    "sets",
    multiple=True,
    callback=_sets,
    metavar="FIELD=VALUE",
    help="A field's right value (empty VALUE clears it); also effective_from=DATE.",
)
@click.option("--reason", help="Why the earlier report was wrong (required).")
@click.option("--period-from", callback=_date, help="Correct only from this date …")
@click.option("--period-to", callback=_date, help="… up to (not including) this date.")
@write_options
@pass_settings
def correct(
    settings: Settings,
    lao: str,
    mission: str,
    sets: dict[str, Any],
    reason: str | None,
    period_from: date | None,
    period_to: date | None,
    expect_version: int | None,
    reported_at: datetime | None,
) -> None:
    """Correct an earlier report that was wrong (over the record's whole timeline).

    Example: mission-ledger correct 6810103 INF-01 --set quantity=13.2 --reason "re-measured"
    """
    receipt = settings.open().correct(
        lao,
        mission,
        set=_fields(sets),
        reason=reason,
        effective_from=sets.get("effective_from"),
        period_from=period_from,
        period_to=period_to,
        expect_version=expect_version,
        reported_at=reported_at,
    )
    _say("corrected", lao, mission, receipt)


@cli.command()
@click.argument("lao")
@click.argument("mission")
@click.option(
    "--set",
    "sets",
    multiple=True,
    callback=_sets,
    metavar="FIELD=VALUE",
    help="A field's new value from --effective on (empty VALUE clears it).",
)
@click.option("--effective", required=True, callback=_date, help="First day of the new values.")
@click.option("--reason", help="What changed in reality (required).")
@write_options
@pass_settings
def change(
    settings: Settings,
    lao: str,
    mission: str,
    sets: dict[str, Any],
    effective: date,
    reason: str | None,
    expect_version: int | None,
    reported_at: datetime | None,
) -> None:
    """Record that circumstances changed from a date on.

    Example: mission-ledger change 6810103 INF-01 --set quantity=15 --effective 2568-01-01
    --reason "new road section transferred"
    """
    receipt = settings.open().change(
        lao,
        mission,
        set=_fields(sets),
        effective_from=effective,
        reason=reason,
        expect_version=expect_version,
        reported_at=reported_at,
    )
    _say("changed", lao, mission, receipt)


@cli.command()
@click.argument("lao")
@click.argument("mission")
@click.option("--effective", required=True, callback=_date, help="First day the mission is cancelled.")
@click.option("--reason", help="Why it was cancelled (required).")
@write_options
@pass_settings
def cancel(
    settings: Settings,
    lao: str,
    mission: str,
    effective: date,
    reason: str | None,
    expect_version: int | None,
    reported_at: datetime | None,
) -> None:
    """Record a cancellation from a date on.

    Example: mission-ledger cancel 6810103 QOL-01 --effective 2568-05-16 --reason "centre merged"
    """
    receipt = settings.open().cancel(
        lao,
        mission,
        effective_from=effective,
        reason=reason,
        expect_version=expect_version,
        reported_at=reported_at,
    )
    _say("cancelled", lao, mission, receipt)


@cli.command()
@click.argument("lao")
@click.argument("mission")
@click.option("--effective", required=True, callback=_date, help="First day the mission holds again.")
@click.option("--reason", help="Why the cancellation is reversed (required).")
@click.option(
    "--status",
    callback=lambda c, p, v: _checked(parse_status, v),
    help="Status after reinstatement (default: as before the cancellation).",
)
@write_options
@pass_settings
def reinstate(
    settings: Settings,
    lao: str,
    mission: str,
    effective: date,
    reason: str | None,
    status: Any,
    expect_version: int | None,
    reported_at: datetime | None,
) -> None:
    """Reverse a cancellation from a date on.

    Example: mission-ledger reinstate 6810103 QOL-01 --effective 2568-06-01 --reason "reopened"
    """
    receipt = settings.open().reinstate(
        lao,
        mission,
        effective_from=effective,
        reason=reason,
        status=status,
        expect_version=expect_version,
        reported_at=reported_at,
    )
    _say("reinstated", lao, mission, receipt)


@cli.command()
@click.argument("lao")
@click.argument("mission")
@click.option("--reason", help="Why the record was entered in error (required).")
@write_options
@pass_settings
def void(
    settings: Settings,
    lao: str,
    mission: str,
    reason: str | None,
    expect_version: int | None,
    reported_at: datetime | None,
) -> None:
    """Void a record entered in error: it then exists at no valid time.

    Example: mission-ledger void 6810103 ART-02 --reason "entered for the wrong LAO"
    """
    receipt = settings.open().void(
        lao, mission, reason=reason, expect_version=expect_version, reported_at=reported_at
    )
    _say("voided", lao, mission, receipt)


def calendar_option(f: F) -> F:
    """calendar_option adds --calendar ce|be for printed dates."""
    return click.option(
        "--calendar",
        type=click.Choice(["ce", "be"]),
        default="ce",
        show_default=True,
        help="Print dates in CE or in the Buddhist Era.",
    )(f)


@cli.command()
@click.argument("lao")
@click.argument("mission")
@click.option(
    "--known-at",
    callback=_instant,
    help="As the ledger knew it then (default now; a date = end of that day).",
)
@click.option("--valid-on", callback=_date, help="The state holding on this date (default: known-at's date).")
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
        echo_json(view, calendar=calendar)
        return
    echo_fields([(k, getattr(view, k)) for k in view.__dataclass_fields__], calendar=calendar)


@cli.command()
@click.pass_context
def demo(ctx: click.Context) -> None:
    """Run a worked example on a fresh ledger: load Krabi's LAOs and the sample catalog,
    record, correct, change and cancel missions, then show what the ledger knew by the
    2567-12-30 deadline and what it knows now.

    It writes mission-ledger-demo.db (replaced on every run), or the --db given, which must
    not hold a ledger already.
    """
    from cli.demo import run_demo

    parent = ctx.parent
    assert parent is not None
    explicit = parent.get_parameter_source("db") not in (None, click.core.ParameterSource.DEFAULT)
    path = Path(parent.params["db"]) if explicit else Path("mission-ledger-demo.db")
    run_demo(path, replace=not explicit)


def main() -> None:
    """main is the console script's entry point."""
    cli(prog_name="mission-ledger")


def package_file(name: str) -> bytes:
    """package_file reads a data file shipped with the package (Krabi registry, sample catalog)."""
    return resources.files("ledger").joinpath("data", name).read_bytes()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
