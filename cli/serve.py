"""`serve`: the HTTP API (and the pages to come) over the --db ledger, on uvicorn (DESIGN §10)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from cli.base import Settings, cli, pass_settings
from cli.output import t
from ledger.errors import NotFound


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8080, show_default=True, help="The port (0: any free one)."
)
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True, help="Worker processes.")
@click.option(
    "--key",
    "key_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    envvar="MISSION_LEDGER_KEY",
    help="The signer key for POST /api/v1/checkpoints (from keygen).",
)
@click.option(
    "--witness", "witnesses", multiple=True, metavar="URL",
    help="A witness to cosign every checkpoint the service signs (seals, POST /api/v1/checkpoints). Repeatable.",
)  # fmt: skip
@pass_settings
def serve(
    settings: Settings, host: str, port: int, workers: int, key_file: Path | None, witnesses: tuple[str, ...]
) -> None:
    """Serve the ledger over HTTP: the API under /api/v1 (tokens from `token issue`).

    Every worker keeps the views in step with the ledger; share a PostgreSQL ledger to run
    several workers or hosts. Stop with Ctrl-C.

    Example: mission-ledger --db postgresql://dla@db/ledger serve --host 0.0.0.0 --workers 4
    """
    import uvicorn

    from service.hardening import BoundedHttpProtocol

    if not settings.location.exists():
        raise NotFound(f"no ledger at {settings.location.describe()}: run `mission-ledger init` or give --db")
    # Workers are separate processes: they read their settings from the environment.
    os.environ["MISSION_LEDGER_DB"] = settings.location.url
    os.environ["MISSION_LEDGER_VIEWS"] = str(settings.views)
    if key_file is not None:
        os.environ["MISSION_LEDGER_KEY"] = str(key_file.resolve())
    if witnesses:
        os.environ["MISSION_LEDGER_WITNESSES"] = " ".join(witnesses)
    where = settings.location.describe()
    click.echo(t(f"mission-ledger serving {where} on http://{host}:{port}/ (Ctrl-C stops)"), err=True)
    uvicorn.run(
        "service.app:create_app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        access_log=False,  # the service's own access log names the principal, never a token
        server_header=False,
        http=BoundedHttpProtocol,  # a request head of at most 32 KiB (service.hardening)
    )
