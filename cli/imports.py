"""The import command: a file of mission records as one batch, with a dry run and an error file."""

from __future__ import annotations

import csv
import io
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from cli.base import Settings, cli, pass_settings
from cli.files import is_error_file, replacing
from cli.options import date_callback
from cli.output import t, text_of, w
from ledger.errors import BadInput

if TYPE_CHECKING:
    from ledger.application import MissionLedger
    from ledger.imports.batch import ImportReport


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
@click.option(
    "--encoding", help="The CSV's encoding (default: UTF-8 with or without BOM, UTF-16 with BOM, or Thai cp874)."
)
@click.option("--sheet", help="The XLSX sheet to read: its name, or its number from 1 (default: the first).")
@click.option("--dry-run", is_flag=True, help="Show what would be appended; append nothing.")
@click.option("--verbose", "-v", is_flag=True, help="With --dry-run: every planned event with before → after.")
@click.option("--skip-invalid", is_flag=True, help="Append the good rows and report the bad ones.")
@click.option(
    "--errors",
    "errors_file",
    type=click.Path(path_type=Path),
    help="Write the bad rows, with why, as a CSV the LAO can fix; removed when the file imports clean.",
)
@click.option("--force", is_flag=True, help="Replace the --errors file even if it is not an earlier error file.")
@click.option("--snapshot", is_flag=True, help="The file is complete for its LAOs: list their records it lacks.")
@click.option("--cancel-missing", is_flag=True, help="With --snapshot: cancel the records the file lacks.")
@pass_settings
def import_command(
    settings: Settings,
    file: Path,
    mode: str,
    effective: date | None,
    encoding: str | None,
    sheet: str | None,
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
    if cancel_missing and not snapshot:
        raise click.UsageError("--cancel-missing goes with --snapshot")
    errors_target = None
    if errors_file is not None:
        errors_target = settings.output(errors_file, force=force, option="--errors", inputs=(file,), ours=is_error_file)
    with settings.writing() as app:
        report = _import(
            app,
            file,
            name=file.name,
            encoding=encoding,
            sheet=sheet,
            mode=mode,
            effective=effective,
            dry_run=dry_run,
            skip_invalid=skip_invalid,
            snapshot=snapshot,
            cancel_missing=cancel_missing,
            keep_plans=dry_run and verbose,
        )
    if errors_target is not None and report.errors:
        header, rows = report.error_table()
        write_csv_file(errors_target, header, [[*row[:-2], w(row[-2]), t(row[-1])] for row in rows])
    elif errors_target is not None and errors_target.exists() and is_error_file(errors_target):
        # The file imports clean now: yesterday's list of what to fix would mislead.
        errors_target.unlink()
        click.echo(t(f"removed {errors_file}: no bad rows now"), err=True)
    _say(
        report,
        dry_run=dry_run,
        verbose=verbose,
        skip_invalid=skip_invalid,
        errors_file=errors_file,
        calendar=settings.calendar,
    )


def _import(app: MissionLedger, file: Path, **options: Any) -> ImportReport:
    """import_file, with a progress bar on a terminal for line-based files (whose rows can be
    counted cheaply)."""
    from ledger.imports.batch import import_file

    if not sys.stderr.isatty() or file.suffix.lower() == ".xlsx":
        return import_file(app, file, **options)
    with file.open("rb") as f:
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
    rows = lines if file.suffix.lower() in (".jsonl", ".ndjson", ".json") else lines - 1  # CSV: a header
    with click.progressbar(length=max(1, rows), label=f"importing {file.name}", file=sys.stderr) as bar:
        return import_file(app, file, progress=bar.update, **options)


#: How many bad rows an import prints; the error file has them all.
SHOWN_ERRORS = 20


def _say(
    report: ImportReport,
    *,
    dry_run: bool,
    verbose: bool,
    skip_invalid: bool,
    errors_file: Path | None,
    calendar: str,
) -> None:
    """What the import found and did: warnings and bad rows on stderr, the outcome on stdout."""
    name = report.file_name
    if report.already_imported_at is not None:
        when = text_of(report.already_imported_at, calendar=calendar)
        click.echo(t(f"{name}: already imported (batch {report.batch_id}, {when}); nothing appended"))
        return
    warning = t("Warning")
    if report.unknown_columns:
        click.echo(f"{warning}: {t(f'{name}: columns not read: ' + ', '.join(report.unknown_columns))}", err=True)
    for row, first in report.repeated:
        click.echo(f"{warning}: {t(f'{name}, row {row} repeats row {first} word for word: read once')}", err=True)
    for error in report.errors[:SHOWN_ERRORS]:
        click.echo(f"{name}, {t(str(error))}", err=True)
    if len(report.errors) > SHOWN_ERRORS:
        where = f"all of them are in {errors_file}" if errors_file else "give --errors FILE to have them all"
        more = f"{len(report.errors) - SHOWN_ERRORS:,}"
        click.echo(
            t(f"{name}: … and {more} more problems in {report.invalid_rows:,} bad rows in all ({where})"), err=True
        )
    if report.missing:
        missing = ", ".join(report.missing)
        click.echo(t(f"{len(report.missing)} records of these LAOs are not in the file: {missing}"))
    if report.errors and not skip_invalid:
        raise BadInput(
            f"{name}: {report.invalid_rows} of {report.rows} rows are invalid; nothing appended "
            "(fix them, or give --skip-invalid)"
        )
    kinds = ", ".join(f"{n} {w(k)}" for k, n in sorted(report.kinds.items())) or w("nothing")
    if dry_run:
        click.echo(t(f"{name}: {report.rows} rows; would append {kinds} (dry run: nothing appended)"))
        for plan in report.plans if verbose else ():
            change = "; ".join(
                f"{k}: {text_of(b, calendar=calendar)} → {text_of(a, calendar=calendar)}" for k, b, a in plan.changes()
            )
            click.echo(f"  row {plan.row}: {plan.kind} {plan.lao_code}/{plan.mission_code} {change}".rstrip())
        return
    skipped = f"; {report.invalid_rows} invalid rows skipped" if report.errors else ""
    if not report.appended:
        click.echo(t(f"{name}: {report.rows} rows; the ledger already holds these values: nothing appended{skipped}"))
        return
    click.echo(t(f"{name}: {report.rows} rows; appended {kinds} as batch {report.batch_id}{skipped}"))


def write_csv_file(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    """write_csv_file writes a CSV for Excel (UTF-8 with BOM), no cell a live formula, whole or
    not at all."""
    from ledger.imports.columns import neutralise

    with replacing(path) as raw, io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for row in rows:
            writer.writerow([neutralise(c) if isinstance(c, str) else c for c in row])
    click.echo(t(f"wrote {path}"), err=True)
