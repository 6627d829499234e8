"""The import command: a file of mission records as one batch, with a dry run and an error file."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from cli.base import Settings, cli, pass_settings
from cli.files import is_error_file, replacing
from cli.options import date_callback
from cli.output import t, text_of, voice, w
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
@click.option(
    "--blank-clears",
    is_flag=True,
    help="A blank cell clears its field (a complete snapshot); by default it leaves the field as it is.",
)
@click.option(
    "--override-conflicts",
    "override",
    metavar="REASON",
    help="Apply the edits of rows whose record changed since their version anyway, with this reason.",
)
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
    blank_clears: bool,
    override: str | None,
) -> None:
    """Import a CSV, XLSX or JSON-lines file of mission records (one row per record) as one batch.

    Only what differs from the ledger is appended; importing the same file again appends nothing.
    A blank cell leaves its field as it is; `-`, `—` or `ล้างค่า` clears it. A row with the export's
    version column whose record changed since is a conflict, unless it is as exported (then it
    appends nothing): importing an old export never undoes later work.

    Example: mission-ledger import krabi-2567.xlsx --dry-run --verbose
    """
    if cancel_missing and not snapshot:
        raise click.UsageError("--cancel-missing goes with --snapshot")
    errors_target = None
    if errors_file is not None:
        errors_target = settings.output(errors_file, force=force, option="--errors", inputs=(file,), ours=is_error_file)
    with settings.writing() as app, settings.following(app, when=not dry_run) as follower:
        report: ImportReport = _import(
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
            keep_plans=dry_run,
            blank_clears=blank_clears,
            override_conflicts=override,
            follower=follower,
        )
        names = _lao_names(app, {p.lao_code for p in report.plans})
    if errors_target is not None and report.errors:
        header, rows = report.error_table()
        if settings.lang == "th":  # its own columns in her language; the sheet's columns as she wrote them
            thai = {"row": "แถว", "error_column": "คอลัมน์ที่ผิด", "error_why": "เหตุผล"}
            header = [thai.get(h, h) if i in (0, len(header) - 2, len(header) - 1) else h for i, h in enumerate(header)]
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
        names=names,
    )


def _lao_names(app: MissionLedger, codes: set[str]) -> dict[str, str]:
    """The registry's Thai name of each LAO a plan names (for the plan, names beside codes)."""
    from ledger.errors import NotFound

    names = {}
    for code in sorted(codes)[:SHOWN_PLANS]:
        try:
            names[code] = app.lao(code).name_th
        except NotFound:
            continue
    return names


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
#: How many rows' plans a dry run prints (every one with --verbose).
SHOWN_PLANS = 200


def _say(
    report: ImportReport,
    *,
    dry_run: bool,
    verbose: bool,
    skip_invalid: bool,
    errors_file: Path | None,
    calendar: str,
    names: dict[str, str] | None = None,
) -> None:
    """What the import found and did: warnings and bad rows on stderr, the outcome on stdout. A
    dry run prints each row's plan first, grouped by LAO, in the sheet's own column names and
    the reader's words and calendar — the good rows' plan even when some rows are bad."""
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
    for row, typed, code in report.read_as:
        click.echo(f"{warning}: {t(f'{name}, row {row}: {typed} read as {code}')}", err=True)
    for row, why in report.skipped:
        click.echo(f"{warning}: {t(f'{name}, row {row} is not a record ({why}): skipped')}", err=True)
    if report.untouched:
        click.echo(t(f"{name}: {report.untouched} rows are as exported from records changed since: left as they are"))
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
    said = voice()
    kinds = ", ".join(said.events(k, n) for k, n in sorted(report.kinds.items())) or w("nothing")
    if dry_run:
        _say_plan(report, verbose=verbose, calendar=calendar, names=names or {})
    if report.errors and not skip_invalid:
        raise BadInput(
            f"{name}: {report.invalid_rows} of {report.rows} rows are invalid; nothing appended "
            "(fix them, or give --skip-invalid)"
        )
    if dry_run:
        click.echo(t(f"{name}: {report.rows} rows; would append {kinds} (dry run: nothing appended)"))
        return
    skipped = f"; {report.invalid_rows} invalid rows skipped" if report.errors else ""
    if not report.appended:
        click.echo(t(f"{name}: {report.rows} rows; the ledger already holds these values: nothing appended{skipped}"))
        return
    click.echo(t(f"{name}: {report.rows} rows; appended {kinds} as batch {report.batch_id}{skipped}"))


def _say_plan(report: ImportReport, *, verbose: bool, calendar: str, names: dict[str, str]) -> None:
    """Each row's plan, grouped by LAO (its name beside its code), field by field as the sheet
    names its columns, values in the reader's words: dates in her calendar, amounts grouped,
    statuses in words; then how many rows change nothing."""
    from ledger.domain.values import FIELD_NAMES

    planned = sorted(report.plans, key=lambda p: (p.lao_code, p.row))
    shown = planned if verbose else planned[:SHOWN_PLANS]
    lao = None
    for plan in shown:
        if plan.lao_code != lao:
            lao = plan.lao_code
            click.echo(f"{t('LAO')} {lao} {names.get(lao, '')}".rstrip())
        said = [
            f"{_header(report, k)}: {_word(k, b, calendar)} → {_word(k, a, calendar)}"
            for k, b, a in plan.changes()
            if k in (*FIELD_NAMES, "effective_from")
        ]
        if plan.effective_from is not None and plan.kind != "corrected":  # from when it holds
            header = _header(report, "effective_from")
            said.append(f"{header}: {_word('', plan.effective_from, calendar)}")
        changes = "; ".join(said)
        click.echo(
            f"  {t(f'row {plan.row}')}: {w(plan.kind)} {plan.mission_code}" + (f" — {changes}" if changes else "")
        )
    if len(planned) > len(shown):
        click.echo(t(f"… and {len(planned) - len(shown):,} more rows (--verbose shows every one)"))
    changing = len({p.row for p in report.plans})
    unchanged = report.rows - report.invalid_rows - changing - len(report.skipped) - len(report.repeated)
    if unchanged > 0:
        click.echo(t(f"{unchanged:,} rows change nothing"))


def _header(report: ImportReport, field: str) -> str:
    """A field as the sheet names it when the sheet names it in Thai (the officer's own words),
    else in the reader's language (a sheet's English key is no word to a Thai reader)."""
    header = report.headers.get(field)
    if header is not None and any("\u0e00" <= ch <= "\u0e7f" for ch in header):
        return header
    return w(field)


def _word(field: str, value: Any, calendar: str) -> str:
    """One value of a plan in the reader's words (ledger.i18n.voice)."""
    return voice(calendar).value(field, value)


def write_csv_file(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    """write_csv_file writes a CSV for Excel (projections.sheets: UTF-8 with BOM, no cell a live
    formula), whole or not at all."""
    from projections.sheets import write_csv

    with replacing(path) as raw:
        write_csv(raw, header, rows)
    click.echo(t(f"wrote {path}"), err=True)
