"""The witness (c2sp.org/tlog-witness), in the same program: `witness serve` cosigns the checkpoints
of the logs it follows, each only if it extends what it cosigned before."""

from __future__ import annotations

from pathlib import Path

import click

from cli.base import cli
from cli.output import t
from ledger.errors import BadInput


@cli.group()
def witness() -> None:
    """A witness that cosigns logs' checkpoints (c2sp.org/tlog-witness)."""


def _log_key(text: str) -> tuple[str, str]:
    origin, sep, key = text.partition("=")
    if not sep or not origin or not key:
        raise BadInput(f"--log {text!r}: give ORIGIN=KEY (the log's verifier key, or the file holding it)")
    path = Path(key)
    if path.is_file():
        key = path.read_text(encoding="utf-8")
    return origin, key


@witness.command("serve")
@click.option(
    "--key", "key_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
    help="The witness's key file (from `keygen --witness`).",
)  # fmt: skip
@click.option(
    "--log", "logs", multiple=True, required=True, metavar="ORIGIN=KEY",
    help="A log this witness follows: its origin and verifier key (or key file). Repeatable.",
)  # fmt: skip
@click.option(
    "--state", type=click.Path(dir_okay=False, path_type=Path), default=Path("witness.db"),
    help="The witness's own SQLite file (default: witness.db here): what it last cosigned for each log, "
    "and what it refused.",
)  # fmt: skip
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8088, show_default=True, help="The port.")
def witness_serve(key_file: Path, logs: tuple[str, ...], state: Path, host: str, port: int) -> None:
    """Serve POST /add-checkpoint: cosign a followed log's checkpoint when its signature verifies
    and it extends the last one this witness cosigned (a consistency proof from that size); refuse,
    and keep the request, when it does not. Stop with Ctrl-C.

    Example: mission-ledger witness serve --key krabi-witness.key --log dla.go.th/missions=dla.pub
    """
    import uvicorn

    from ledger.integrity.checkpoint import parse_verifier
    from ledger.integrity.witness import parse_witness
    from service.witness import WitnessConfig, create_witness_app

    me = parse_witness(key_file.read_text(encoding="utf-8"))
    followed = {}
    for text in logs:
        origin, key = _log_key(text)
        followed[origin] = parse_verifier(key)
    if not state.parent.resolve().is_dir():
        raise BadInput(f"--state {state}: folder {state.parent} does not exist")
    app = create_witness_app(WitnessConfig(me, dict(followed), state))
    names = ", ".join(sorted(followed))
    click.echo(t(f"witness {me.name} ({me.key.format()}) following {names} on http://{host}:{port}/"), err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False, server_header=False)
