"""The import command: a file of mission records as one batch, with a dry run and an error file."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import click

from cli.base import Settings, cli, pass_settings
from cli.options import date_callback


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
