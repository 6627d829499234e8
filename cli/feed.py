"""Commands for integrations: the change feed and the JSON Schemas of its events."""

from __future__ import annotations

import click

from cli.base import Settings, cli, pass_settings


@cli.command()
@click.option("--after", default="0", help="Resume after this sequence (the last one you applied).")
@click.option("--limit", type=click.IntRange(min=1), help="Stop after N events.")
@click.option("--follow", is_flag=True, help="Keep waiting for new events until interrupted.")
@click.option("--province", help="Only events of LAOs in this province.")
@click.option("--lao", help="Only events of this LAO.")
@click.option(
    "--type", "kinds", multiple=True, help="Only this kind (repeatable): corrected, th.go.dla.mission.cancelled, …"
)
@pass_settings
def feed(
    settings: Settings,
    after: str,
    limit: int | None,
    follow: bool,
    province: str | None,
    lao: str | None,
    kinds: tuple[str, ...],
) -> None:
    """Print ledger events as CloudEvents 1.0 JSON, one per line, in ledger order.

    Store the `sequence` of the last line you applied; resume with --after it. No event is
    skipped or repeated, also while other processes write.

    Example: mission-ledger feed --after 000000000094 --province 81 --follow
    """
    import signal
    import sys

    from projections.feed import Feed, FeedFilter, parse_sequence

    where = FeedFilter(province=province, lao=lao, kinds=kinds)
    app = settings.open()
    stopping = {"now": False}

    def stop(signum: int, frame: object) -> None:
        stopping["now"] = True

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, stop)
    out = sys.stdout.buffer
    try:
        # A block of lines per page read; flushed when the feed has caught up (an empty block).
        for block in Feed(app.ledger_recorder).lines(
            after=parse_sequence(after), limit=limit, where=where, follow=follow, stop=lambda: stopping["now"]
        ):
            if block:
                out.write(block)
            else:
                out.flush()
        out.flush()
    except BrokenPipeError:  # the reader went away (`| head`): nothing more to say
        sys.stderr.close()


@cli.command()
def schema() -> None:
    """Print the JSON Schema of every event kind's data (generated from the event types), with
    each kind's schema version.

    Example: mission-ledger schema > mission-ledger.schema.json
    """
    import json

    from ledger.domain.events import json_schemas

    click.echo(json.dumps(json_schemas(), ensure_ascii=False, indent=1))
