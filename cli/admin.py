"""Commands that set a ledger up and look after it: init, the registry and catalog, copy, the
views (project), and the worked example (demo)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from cli.base import Settings, cli, pass_settings
from cli.options import date_callback
from cli.output import t
from ledger.errors import Refused


@cli.command()
@click.option("--origin", help="The ledger's origin name (used in checkpoints and the feed).")
@pass_settings
def init(settings: Settings, origin: str | None) -> None:
    """Create the ledger (a second init changes nothing).

    Example: mission-ledger --db krabi.db init
    """
    created = settings.open(create=True).initialise(origin)
    click.echo(t(f"{'initialised' if created else 'already initialised'}: {settings.location.describe()}"))


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
    click.echo(t(f"{file.name}: {registered} registered, {amended} amended, {unchanged} unchanged"))
    if moved:
        listed = ", ".join(f"{code} ({old} → {new})" for code, old, new in moved)
        click.echo(t(f"{len(moved)} LAOs moved to another province: {listed}"))


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
    click.echo(t(f"{file.name}: {defined} defined, {amended} amended, {unchanged} unchanged"))


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
    root = after.root().hex()
    click.echo(t(f"copied {copied} events to {dst.location.describe()}: origin {origin}, root {root} (unchanged)"))


@cli.command()
@click.option("--rebuild", is_flag=True, help="Drop the views and rebuild them from event 1.")
@click.option("--digest", is_flag=True, help="Print a digest of the view tables (equal views, equal digest).")
@click.option("--page", type=click.IntRange(min=1), hidden=True, help="Events per transaction.")
@pass_settings
def project(settings: Settings, rebuild: bool, digest: bool, page: int | None) -> None:
    """Bring the views up to date with the ledger (they are disposable and rebuildable).

    Example: mission-ledger project --rebuild --digest
    """
    from projections.runner import PAGE, Projector

    app = settings.open()
    projector = Projector(app.ledger_recorder, settings.views, page=page or PAGE)
    try:
        moved = projector.rebuild() if rebuild else projector.catch_up()
        click.echo(t(f"views {settings.views}: {moved.applied} events applied, at position {moved.end}"))
        if digest:
            click.echo(t(f"digest {projector.digest()}"))
    finally:
        projector.close()


@cli.command()
@click.option("--serve", "serve_it", is_flag=True, help="Then serve it over HTTP, with a demo token for each role.")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True, help="The port for --serve.")
@click.pass_context
def demo(ctx: click.Context, serve_it: bool, port: int) -> None:
    """Run a worked example on a fresh ledger: load Krabi's LAOs and the sample catalog,
    record, correct, change and cancel missions, then show what the ledger knew by the
    2567-12-30 deadline and what it knows now.

    It writes mission-ledger-demo.db (replaced on every run), or the --db given, which must
    not hold a ledger already. With --serve it then adds a demo admin, a Krabi officer, an LAO
    clerk, an auditor and an integration, prints a token for each, and serves the ledger, signing
    with a demo key (it seals the round, whose deadline has passed).

    Example: mission-ledger demo --serve
    """
    from cli.demo import add_demo_principals, demo_key, demo_verifier, print_demo_tokens, run_demo

    parent = ctx.parent
    assert parent is not None
    explicit = parent.get_parameter_source("db") not in (None, click.core.ParameterSource.DEFAULT)
    path = Path(parent.params["db"]) if explicit else Path("mission-ledger-demo.db")
    run_demo(path, replace=not explicit)
    if serve_it:
        from cli.serve import serve

        given: Settings = ctx.ensure_object(Settings)
        ctx.obj = Settings(str(path), None, given.actor, given.lang)  # the demo ledger, its own views
        url = f"http://127.0.0.1:{port}"
        print_demo_tokens(url, add_demo_principals(path, link_base=url))
        # A demo key signs: the service seals the round (its deadline has passed) as it starts,
        # so that an auditor can prove the deadline's answers on the proof page.
        key = demo_key(path)
        click.echo(t(f"The service signs with the demo key {key}; its verifier key, for the proof page:"))
        click.echo(f"  {demo_verifier(key)}")
        click.echo(t(f"Prove a report against the round's seal: {url}/proof?round=fy2568&position=95"))
        ctx.invoke(serve, host="127.0.0.1", port=port, workers=1, key_file=key)
