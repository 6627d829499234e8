"""Commands that read many records: as-of, changes, the completeness report, export."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click

from cli.base import Settings, cli, pass_settings
from cli.files import replacing
from cli.options import (
    calendar_option,
    date_callback,
    format_options,
    instant_callback,
    one_format,
    out_options,
    scope_options,
    since_callback,
    sort_option,
)
from cli.output import echo_csv, echo_json, echo_json_lines_as_list, echo_table, t, text_of, voice
from cli.records import print_entries
from ledger.domain.thai import bangkok_date, start_of_day, thai_sort_key


@cli.command("as-of")
@click.option("--known-at", callback=instant_callback, help="As the ledger knew it then (default now).")
@click.option("--valid-on", callback=date_callback, help="Valid on this date (default: known-at's date).")
@click.option("--at-seq", type=click.IntRange(min=0), help="As the ledger stood after its first N events.")
@click.option(
    "--checkpoint",
    "checkpoint_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="As the ledger stood at this checkpoint (checked against the ledger first).",
)
@scope_options
@format_options
@sort_option
@calendar_option
@pass_settings
def as_of_command(
    settings: Settings,
    known_at: datetime | None,
    valid_on: date | None,
    at_seq: int | None,
    checkpoint_file: Path | None,
    lao: str | None,
    district: str | None,
    province: str | None,
    as_json: bool,
    as_csv: bool,
    sort: str,
    calendar: str,
) -> None:
    """Every record as the ledger knew it at a time (or after its first N events), valid on a date.

    Example: mission-ledger as-of --known-at 2567-12-30 --province 81 --csv > krabi-deadline.csv
    """
    from ledger.domain.timeline import RECORD_KEYS
    from projections.queries import Scope, as_of, as_of_times

    one_format(as_json, as_csv)
    if at_seq is not None and (known_at is not None or checkpoint_file is not None):
        raise click.UsageError("--at-seq goes alone: give --known-at, --checkpoint, or both")
    app = settings.open()
    scope = Scope(lao=lao, district=district, province=province)
    rows: Iterator[tuple[dict[str, Any], dict[str, Any]]]
    if checkpoint_file is not None:
        # Computed from the ledger's events, checked against the signed root — not from the
        # views, which anyone holding the file could have edited.
        from ledger.integrity.audit import LedgerAuditor
        from projections.attested import as_of_checkpoint

        checkpoint = LedgerAuditor(app.ledger_recorder).checked_checkpoint(checkpoint_file.read_text(encoding="utf-8"))
        if valid_on is None and known_at is not None:
            valid_on = bangkok_date(known_at)
        elif valid_on is None:
            stamp = app.ledger_recorder.select_log(checkpoint.size - 1, 1)[0].recorded_at if checkpoint.size else None
            valid_on = bangkok_date(stamp) if stamp else bangkok_date(app.clock.now())
        rows = as_of_checkpoint(app.ledger_recorder, checkpoint, valid_on=valid_on, scope=scope, known_at=known_at)
    else:
        projector = settings.views_of(app)
        known_at, at_seq, valid_on = as_of_times(
            app.ledger_recorder, app.clock.now(), known_at=known_at, at_seq=at_seq, valid_on=valid_on,
            names=("--known-at", "--at-seq"),
        )  # fmt: skip
        rows = as_of(projector.db, known_at=known_at, at_seq=at_seq, valid_on=valid_on, scope=scope)
        if not as_json and not as_csv:
            from ledger.rounds import Rounds

            sealed = Rounds(app).seal_at(known_at)
            if sealed is not None:  # as known at a sealed deadline: the seal it can be proven against
                said, (found, seal) = voice(calendar), sealed
                named = said.round(found.name, found.start)
                click.echo(said(f"As sealed for {named}: the first {seal.size} events, root {seal.root}"))
    if sort == "name":
        rows = iter(sorted(rows, key=lambda r: (thai_sort_key(r[1]["lao_name_th"] or ""), r[0]["mission_code"])))
    if as_json:
        echo_json_lines_as_list((r for r, _ in rows))
    elif as_csv:
        echo_csv(RECORD_KEYS, ([r[k] for k in RECORD_KEYS] for r, _ in rows))
    else:
        headers = (
            "lao_code",
            "lao",
            "mission_code",
            "status",
            "received_fy",
            "quantity",
            "unit",
            "budget",
            "valid_from",
            "version",
        )
        echo_table(
            headers,
            [
                (
                    r["lao_code"],
                    names["lao_name_th"],
                    r["mission_code"],
                    r["status"],
                    r["received_fy"],
                    r["quantity"],
                    r["unit"],
                    r["budget"],
                    r["valid_from"],
                    r["version"],
                )
                for r, names in rows
            ],
            calendar=calendar,
        )


@cli.command("changes")
@click.option("--since", callback=since_callback, help="From this time (a date: from its start).")
@click.option("--until", callback=instant_callback, help="Up to this time (default: now).")
@click.option("--kind", "kinds", multiple=True, help="Only these kinds (repeatable; default: every kind).")
@click.option("--round", "round_name", help="The reporting round: from its start (with --late: after its deadline).")
@click.option("--late", is_flag=True, help="With --round: everything recorded after the round's deadline.")
@scope_options
@format_options
@calendar_option
@pass_settings
def changes_command(
    settings: Settings,
    since: datetime | None,
    until: datetime | None,
    kinds: tuple[str, ...],
    round_name: str | None,
    late: bool,
    lao: str | None,
    district: str | None,
    province: str | None,
    as_json: bool,
    as_csv: bool,
    calendar: str,
) -> None:
    """What was recorded, corrected, changed, cancelled, reinstated or voided in a window, with
    before → after.

    A date given to --since means the start of that day (Bangkok time). With --round R --late: the
    round's late list, every event of every kind recorded after its deadline (the dashboard's).

    Example: mission-ledger changes --round fy2568 --late --province 81
    """
    from ledger.domain.events import RECORD_KINDS
    from ledger.rounds import Rounds
    from projections.queries import Scope, after_deadline, changes

    one_format(as_json, as_csv)
    if late and round_name is None:
        raise click.UsageError("--late needs --round: the round whose deadline it is late for")
    if round_name is not None and since is not None:
        raise click.UsageError("give --since or --round, not both")
    app = settings.open()
    if round_name is not None:
        found = Rounds(app).named(round_name)
        since = after_deadline(found.deadline_instant) if late else start_of_day(found.start)
    if since is None:
        raise click.UsageError("give --since TIME, or --round R (--late for after its deadline)")
    entries = changes(
        settings.views_of(app).db,
        since=since,
        until=until,
        kinds=kinds or RECORD_KINDS,
        scope=Scope(lao=lao, district=district, province=province),
    )
    print_entries(entries, as_json=as_json, as_csv=as_csv, calendar=calendar)


@cli.group()
def report() -> None:
    """Reports for provincial offices."""


@report.command("completeness")
@click.option(
    "--known-at",
    callback=instant_callback,
    help="As known then (default: the round's deadline, or now; a date = end of that day).",
)
@click.option(
    "--round-start",
    callback=date_callback,
    help="First day of the reporting round (default: the round's start, else 1 October of the fiscal year).",
)
@scope_options
@format_options
@sort_option
@calendar_option
@pass_settings
def completeness_command(
    settings: Settings,
    known_at: datetime | None,
    round_start: date | None,
    lao: str | None,
    district: str | None,
    province: str | None,
    as_json: bool,
    as_csv: bool,
    sort: str,
    calendar: str,
) -> None:
    """Per LAO: records, incomplete records, last report, and a verdict
    (no_records / incomplete / complete); totals per district and province.

    Example: mission-ledger report completeness --province 81 --known-at 2567-12-30
    """
    from ledger.rounds import Rounds
    from projections.completeness import completeness, province_of_scope, round_known_at
    from projections.queries import Scope

    one_format(as_json, as_csv)
    app = settings.open()
    db = settings.views_of(app).db
    scope = Scope(lao=lao, district=district, province=province)
    # The round that applies (as known then): its deadline is the default time, its start the
    # default round start.
    found = Rounds(app).current(province_of_scope(db, scope), known_at)
    result = completeness(
        db,
        known_at=round_known_at(found, app.clock.now(), known_at),
        round_start=round_start,
        scope=scope,
        sort=sort,
        round=found,
    )
    if as_json:
        echo_json(result.as_json())
        return
    headers = (
        "lao_code",
        "name_th",
        "district_code",
        "records",
        "incomplete_records",
        "last_recorded_at",
        "reported_since_round_start",
        "verdict",
    )
    rows = [
        (
            x.lao_code,
            x.name_th,
            x.district_code,
            x.records,
            x.incomplete_records,
            x.last_recorded_at,
            "yes" if x.reported_since_round_start else "no",
            x.verdict,
        )
        for x in result.laos
    ]
    if as_csv:
        echo_csv(headers, rows)
        return
    when, start = voice(calendar).when(result.known_at), text_of(result.round_start, calendar=calendar)
    if result.round is not None:
        deadline = text_of(result.round.deadline, calendar=calendar)
        named = voice(calendar).round(result.round.name, result.round.start)
        click.echo(t(f"Round {named}: from {start}, deadline {deadline}"))
    click.echo(t(f"Completeness as known at {when} (round started {start})") + "\n")
    echo_table(headers, rows, calendar=calendar)
    click.echo("")
    echo_table(
        ("district", "name", "laos", "complete", "incomplete", "no_records", "records"),
        [
            (d.code, d.name_th, d.laos, d.complete, d.incomplete, d.no_records, d.records)
            for d in (*result.districts, result.province)
        ],
        calendar=calendar,
    )


@cli.command("export")
@click.option("--known-at", callback=instant_callback, help="As the ledger knew it then (default now).")
@click.option("--valid-on", callback=date_callback, help="Valid on this date (default: known-at's date).")
@click.option("--province", "provinces", multiple=True, help="Only this province (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "jsonl"]), default="csv", show_default=True)
@calendar_option
@click.option("--lang", type=click.Choice(["en", "th"]), help="Header language (default: the working language).")
@out_options("Write here (default: standard output).")
@pass_settings
def export_command(
    settings: Settings,
    known_at: datetime | None,
    valid_on: date | None,
    provinces: tuple[str, ...],
    fmt: str,
    calendar: str,
    lang: str | None,
    out: Path | None,
    force: bool,
) -> None:
    """Export the records as the ledger knew them at a time, for Excel or other systems.

    Example: mission-ledger export --known-at 2567-12-30 --province 81 --format xlsx --lang th --out krabi.xlsx
    """
    import itertools
    import sys

    from projections.export import export_rows, write_export
    from projections.queries import Scope, as_of

    if fmt == "xlsx" and out is None:
        raise click.UsageError("--format xlsx needs --out FILE")
    target = settings.output(out, force=force) if out is not None else None
    app = settings.open()
    db = settings.views_of(app).db
    known_at = known_at or app.clock.now()
    valid_on = valid_on or bangkok_date(known_at)
    scopes = [Scope(province=p) for p in provinces] or [Scope()]
    rows = itertools.chain.from_iterable(as_of(db, known_at=known_at, valid_on=valid_on, scope=s) for s in scopes)
    lang = lang or settings.lang
    cells = export_rows(rows, lang=lang)
    origin = app.ledger_recorder.get_meta("origin") or "mission-ledger"
    stamp = voice(calendar).when(known_at)
    # Above an XLSX table: which ledger, as known when (the version column says each record's).
    title = t(f"Ledger {origin}, as known at {stamp}; the version column makes each row conditional on import")
    from ledger.rounds import Rounds

    sealed = Rounds(app).seal_at(known_at)
    if sealed is not None:  # as known at a sealed deadline: the seal it can be proven against
        said, (found, seal) = voice(calendar), sealed
        named = said.round(found.name, found.start)
        title += " · " + said(f"As sealed for {named}: the first {seal.size} events, root {seal.root}")
    if target is None:
        count = write_export(sys.stdout.buffer, cells, fmt=fmt, lang=lang, calendar=calendar)
    else:
        with replacing(target) as f:
            count = write_export(
                f, cells, fmt=fmt, lang=lang, calendar=calendar, title=title if fmt == "xlsx" else None
            )
        when = voice(calendar).when(known_at)
        click.echo(t(f"wrote {out}: {count} records as known at {when}"), err=True)
