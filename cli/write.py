"""Commands that append events: init, registry and catalog loads, the six record commands, demo."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import click

from cli.base import (
    Settings,
    checked,
    cli,
    date_callback,
    field_option,
    fields_of,
    instant_callback,
    pass_settings,
    say,
    sets_callback,
    write_options,
)
from ledger.domain.values import Fields, parse_status
from ledger.errors import Refused


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
@click.option("--effective", "effective", callback=date_callback, help="Date from which changes hold (default today).")
@pass_settings
def registry_load(settings: Settings, file: Path, effective: date | None) -> None:
    """Load LAOs from a CSV file (columns of krabi_laos.csv, or DLA's open-data headers).

    Reloading the same file appends nothing; a changed file appends one amendment per LAO.

    Example: mission-ledger registry load krabi_laos.csv
    """
    with settings.writing() as app:
        receipt, unchanged, moved = app.load_registry(file.read_bytes(), name=file.name, effective_from=effective)
    registered = receipt.kinds.count("lao_registered")
    amended = receipt.kinds.count("lao_amended")
    click.echo(f"{file.name}: {registered} registered, {amended} amended, {unchanged} unchanged")
    if moved:
        click.echo(
            f"{len(moved)} LAOs moved to another province: "
            + ", ".join(f"{code} ({old} → {new})" for code, old, new in moved)
        )


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
    with settings.writing() as app:
        receipt, unchanged = app.load_catalog(file.read_bytes(), name=file.name)
    defined = receipt.kinds.count("mission_defined")
    amended = receipt.kinds.count("mission_amended")
    click.echo(f"{file.name}: {defined} defined, {amended} amended, {unchanged} unchanged")


@cli.command()
@click.argument("lao")
@click.argument("mission")
@click.option(
    "--status",
    required=True,
    callback=lambda c, p, v: checked(parse_status, v),
    help="operating or not_yet.",
)
@click.option("--effective", required=True, callback=date_callback, help="First day the values hold (CE or BE).")
@field_option("received_fy", "Fiscal year received (BE).")
@field_option("quantity", "Quantity (exact decimal); needs --unit.")
@field_option("unit", "Unit of the quantity.")
@field_option("budget", "Budget in THB (exact decimal).")
@field_option("staff", "Persons transferred.")
@field_option("note", "A note.")
@click.option("--reason", help="Why (optional for a first report).")
@click.option("--reported-at", callback=instant_callback, help="When the source system says the LAO reported it.")
@pass_settings
def record(
    settings: Settings,
    /,
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
    with settings.writing() as app:
        receipt = app.record(
            lao, mission, effective_from=effective, values=fields, reason=reason, reported_at=reported_at
        )
    say("recorded", lao, mission, receipt)


@cli.command()
@click.argument("lao")
@click.argument("mission")
@click.option(
    "--set",
    "sets",
    multiple=True,
    callback=sets_callback,
    metavar="FIELD=VALUE",
    help="A field's right value (empty VALUE clears it); also effective_from=DATE.",
)
@click.option("--reason", help="Why the earlier report was wrong (required).")
@click.option("--period-from", callback=date_callback, help="Correct only from this date …")
@click.option("--period-to", callback=date_callback, help="… up to (not including) this date.")
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
    with settings.writing() as app:
        receipt = app.correct(
            lao,
            mission,
            set=fields_of(sets),
            reason=reason,
            effective_from=sets.get("effective_from"),
            period_from=period_from,
            period_to=period_to,
            expect_version=expect_version,
            reported_at=reported_at,
        )
    say("corrected", lao, mission, receipt)


@cli.command()
@click.argument("lao")
@click.argument("mission")
@click.option(
    "--set",
    "sets",
    multiple=True,
    callback=sets_callback,
    metavar="FIELD=VALUE",
    help="A field's new value from --effective on (empty VALUE clears it).",
)
@click.option("--effective", required=True, callback=date_callback, help="First day of the new values.")
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
    with settings.writing() as app:
        receipt = app.change(
            lao,
            mission,
            set=fields_of(sets),
            effective_from=effective,
            reason=reason,
            expect_version=expect_version,
            reported_at=reported_at,
        )
    say("changed", lao, mission, receipt)


@cli.command()
@click.argument("lao")
@click.argument("mission")
@click.option("--effective", required=True, callback=date_callback, help="First day the mission is cancelled.")
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
    with settings.writing() as app:
        receipt = app.cancel(
            lao,
            mission,
            effective_from=effective,
            reason=reason,
            expect_version=expect_version,
            reported_at=reported_at,
        )
    say("cancelled", lao, mission, receipt)


@cli.command()
@click.argument("lao")
@click.argument("mission")
@click.option("--effective", required=True, callback=date_callback, help="First day the mission holds again.")
@click.option("--reason", help="Why the cancellation is reversed (required).")
@click.option(
    "--status",
    callback=lambda c, p, v: checked(parse_status, v),
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
    with settings.writing() as app:
        receipt = app.reinstate(
            lao,
            mission,
            effective_from=effective,
            reason=reason,
            status=status,
            expect_version=expect_version,
            reported_at=reported_at,
        )
    say("reinstated", lao, mission, receipt)


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
    with settings.writing() as app:
        receipt = app.void(lao, mission, reason=reason, expect_version=expect_version, reported_at=reported_at)
    say("voided", lao, mission, receipt)


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


@cli.command()
@click.option("--from", "source", required=True, help="The ledger to copy: a SQLite path or postgresql:// URL.")
@click.option("--to", "target", required=True, help="An empty ledger to copy into (created if need be).")
def copy(source: str, target: str) -> None:
    """Copy a ledger to another store with every event, position and leaf unchanged (the Merkle
    root after equals the root before): SQLite to PostgreSQL and back.

    Example: mission-ledger copy --from krabi.db --to postgresql://dla@db.example/ledger
    """
    from ledger.application import MissionLedger
    from ledger.errors import NotFound
    from ledger.store.location import StoreLocation

    src_location = StoreLocation(source)
    if not src_location.exists():
        raise NotFound(f"no ledger at {src_location.describe()}")
    src = MissionLedger(src_location, create_tables=False)
    dst = MissionLedger(StoreLocation(target))
    copied = dst.copy_from(src)
    before, after = src.ledger_recorder.tree(), dst.ledger_recorder.tree()
    if (before.size, before.root()) != (after.size, after.root()):  # pragma: no cover - a store bug
        raise Refused(f"the copy's root {after.root().hex()} differs from the source's {before.root().hex()}")
    origin = dst.ledger_recorder.get_meta("origin")
    click.echo(
        f"copied {copied} events to {dst.location.describe()}: origin {origin}, root {after.root().hex()} (unchanged)"
    )


@cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--as",
    "mode",
    type=click.Choice(["corrections", "changes"]),
    default="corrections",
    show_default=True,
    help="Differences are corrections of earlier reports, or changes from --effective on.",
)
@click.option(
    "--effective",
    callback=date_callback,
    help="Day changes and cancellations hold from (default today); first day of new records without one.",
)
@click.option("--encoding", help="The CSV's encoding (default: UTF-8, with or without BOM, or Thai cp874).")
@click.option("--dry-run", is_flag=True, help="Show what would be appended; append nothing.")
@click.option("--verbose", "-v", is_flag=True, help="With --dry-run: every planned event with before → after.")
@click.option("--skip-invalid", is_flag=True, help="Append the good rows and report the bad ones.")
@click.option(
    "--errors",
    "errors_file",
    type=click.Path(path_type=Path),
    help="Write the bad rows, with why, as a CSV the LAO can fix (an existing file: with --force).",
)
@click.option("--force", is_flag=True, help="Replace the --errors file if it exists.")
@click.option("--snapshot", is_flag=True, help="The file is complete for its LAOs: list their records it lacks.")
@click.option("--cancel-missing", is_flag=True, help="With --snapshot: cancel the records the file lacks.")
@pass_settings
def import_command(
    settings: Settings,
    file: Path,
    mode: str,
    effective: date | None,
    encoding: str | None,
    dry_run: bool,
    verbose: bool,
    skip_invalid: bool,
    errors_file: Path | None,
    force: bool,
    snapshot: bool,
    cancel_missing: bool,
) -> None:
    """Import a CSV, XLSX or JSON-lines file of mission records (one row per record) as one batch.

    Only what differs from the ledger is appended; importing the same file again appends nothing.

    Example: mission-ledger import krabi-2567.xlsx --dry-run --verbose
    """
    import sys

    from cli.output import text_of
    from ledger.errors import BadInput
    from ledger.imports.batch import import_file

    if cancel_missing and not snapshot:
        raise click.UsageError("--cancel-missing goes with --snapshot")
    errors_target = (
        settings.output(errors_file, force=force, option="--errors", inputs=(file,)) if errors_file else None
    )
    options: dict[str, Any] = {
        "name": file.name,
        "encoding": encoding,
        "mode": mode,
        "effective": effective,
        "dry_run": dry_run,
        "skip_invalid": skip_invalid,
        "snapshot": snapshot,
        "cancel_missing": cancel_missing,
        "keep_plans": dry_run and verbose,
    }
    with settings.writing() as app:
        # A bar on a terminal for line-based files (their rows can be counted cheaply); quiet otherwise.
        if sys.stderr.isatty() and file.suffix.lower() != ".xlsx":
            with file.open("rb") as f:
                lines = sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
            rows = lines if file.suffix.lower() in (".jsonl", ".ndjson", ".json") else lines - 1  # CSV: a header
            with click.progressbar(length=max(1, rows), label=f"importing {file.name}", file=sys.stderr) as bar:
                report = import_file(app, file, progress=bar.update, **options)
        else:
            report = import_file(app, file, **options)
    if report.already_imported_at is not None:
        click.echo(
            f"{file.name}: already imported (batch {report.batch_id}, "
            f"{text_of(report.already_imported_at)}); nothing appended"
        )
        return
    if report.unknown_columns:
        click.echo(f"Warning: {file.name}: columns not read: {', '.join(report.unknown_columns)}", err=True)
    for error in report.errors:
        click.echo(f"{file.name}, {error}", err=True)
    if errors_target is not None and report.errors:
        _write_errors(errors_target, report)
    kinds = ", ".join(f"{n} {k}" for k, n in sorted(report.kinds.items())) or "nothing"
    if report.missing:
        click.echo(f"{len(report.missing)} records of these LAOs are not in the file: {', '.join(report.missing)}")
    if report.errors and not skip_invalid:
        raise BadInput(
            f"{file.name}: {report.invalid_rows} of {report.rows} rows are invalid; nothing appended "
            "(fix them, or give --skip-invalid)"
        )
    if dry_run:
        click.echo(f"{file.name}: {report.rows} rows; would append {kinds} (dry run: nothing appended)")
        if verbose:
            for plan in report.plans:
                order = ("status", "received_fy", "quantity", "unit", "budget", "staff", "note")
                change = "; ".join(
                    f"{k}: {text_of(plan.before.get(k))} → {text_of(plan.values[k])}"
                    for k in order
                    if k in plan.values and (plan.values[k] is not None or plan.before.get(k) is not None)
                )
                if plan.kind == "corrected" and plan.effective_from:
                    change = "; ".join(
                        x
                        for x in (
                            change,
                            f"effective_from: {text_of(plan.before.get('effective_from'))} "
                            f"→ {text_of(plan.effective_from)}",
                        )
                        if x
                    )
                click.echo(f"  row {plan.row}: {plan.kind} {plan.lao_code}/{plan.mission_code} {change}".rstrip())
        return
    skipped = f"; {report.invalid_rows} invalid rows skipped" if report.errors else ""
    if not report.appended:
        click.echo(f"{file.name}: {report.rows} rows; the ledger already holds these values: nothing appended{skipped}")
        return
    click.echo(f"{file.name}: {report.rows} rows; appended {kinds} as batch {report.batch_id}{skipped}")


def _write_errors(path: Path, report: Any) -> None:
    """The bad rows as the file had them, each with what is wrong: fix the cells, delete the two
    error columns, import again."""
    import csv

    by_row: dict[int, list[Any]] = {}
    for e in report.errors:
        by_row.setdefault(e.row, []).append(e)
    columns = list(dict.fromkeys(k for errors in by_row.values() for e in errors for k in e.cells))
    import io

    from cli.files import replacing
    from ledger.imports.columns import neutralise

    with replacing(path) as raw, io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["row", *columns, "error_column", "error_why"])
        for row, errors in sorted(by_row.items()):
            cells: dict[str, str] = next((e.cells for e in errors if e.cells), {})
            writer.writerow(
                [
                    row,
                    *(neutralise(cells.get(c, "")) for c in columns),
                    "; ".join(e.column for e in errors),
                    neutralise("; ".join(e.why for e in errors)),
                ]
            )
    click.echo(f"wrote {path}", err=True)
