"""The log as C2SP tiles on disk: `tiles export DIR` writes what the service serves under
/api/v1/log, so that a province can publish the log on any web server; `verify --tiles` reads a
mirror (a folder, or a URL prefix) back and checks it."""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Final

import click

from cli.base import Settings, cli, pass_settings
from cli.files import replacing
from cli.output import t
from ledger.errors import BadInput, Refused

#: What one read of a mirror's checkpoint may bring: a few lines.
_MOST_CHECKPOINT: Final = 64 * 1024
_TIMEOUT: Final = 30.0


@cli.group()
def tiles() -> None:
    """The log as C2SP tiles (c2sp.org/tlog-tiles), for mirrors."""


@tiles.command("export")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--checkpoint",
    "checkpoint_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The checkpoint to export up to (default: the latest the ledger recorded).",
)
@pass_settings
def export_tiles(settings: Settings, folder: Path, checkpoint_file: Path | None) -> None:
    """Write the log's tiles, entry bundles and checkpoint into FOLDER, as static files any web
    server can serve. Exporting again into the same folder after a later checkpoint writes only
    what is new.

    Example: mission-ledger tiles export /var/www/ledger
    """
    from ledger.integrity.audit import LedgerAuditor
    from ledger.integrity.tiles import read_tile, tiles_for

    target = folder.resolve()
    if target.exists() and any(target.iterdir()) and not (target / "checkpoint").is_file():
        raise Refused(f"{folder} holds files and no exported checkpoint: give an empty or new folder")
    for protected, what in settings.protected_files():
        if protected.resolve().is_relative_to(target):
            raise Refused(f"{folder} holds {what}: give a folder of its own")
    app = settings.open()
    recorder = app.ledger_recorder
    auditor = LedgerAuditor(recorder)
    if checkpoint_file is not None:
        note = checkpoint_file.read_text(encoding="utf-8")
    else:
        recorded = auditor.checkpoints_newest_first()
        if not recorded:
            raise Refused("the ledger has no checkpoint yet: run `mission-ledger checkpoint --key KEY` first")
        note = recorded[0]
    checkpoint = auditor.checked_checkpoint(note)  # one of this ledger's, or refused
    target.mkdir(parents=True, exist_ok=True)
    written = kept = 0
    for tile in tiles_for(checkpoint.size):
        path = target / tile.path()
        if path.is_file():  # written whole (replacing) by an earlier export: a tile never changes
            kept += 1
            continue
        _folders_inside(target, path.parent, folder)
        data = read_tile(recorder, tile)
        if data is None:
            raise Refused(f"the ledger does not hold {tile.path()} (a ledger older than its stored nodes: run `init`)")
        with replacing(path) as f:
            f.write(data)
        written += 1
    # The checkpoint last: a reader of the folder never finds one whose tiles are not there yet.
    with replacing(target / "checkpoint") as f:
        f.write(note.encode("utf-8"))
    click.echo(
        t(
            f"exported the checkpoint of {checkpoint.size} events to {folder}: {written} tiles written, "
            f"{kept} there already"
        )
    )


def _folders_inside(target: Path, folder: Path, named: Path) -> None:
    """Make `folder` (under `target`) one level at a time, refusing a link on the way: a file an
    earlier export left, or someone put there, never leads a write outside the folder."""
    current = target
    for part in folder.relative_to(target).parts:
        current = current / part
        if current.is_symlink() or (current.exists() and not current.is_dir()):
            raise Refused(f"{named}: {current.relative_to(target)} is a link or a file: refusing to write through it")
        current.mkdir(exist_ok=True)


def mirror_reader(source: str) -> Callable[[str], bytes | None]:
    """mirror_reader reads a mirror's files by name (`checkpoint`, `tile/…`): from a folder, or over
    HTTP from a URL prefix (this service's is …/api/v1/log; the token in MISSION_LEDGER_TOKEN, if
    set, is sent and never shown). None for a file the mirror does not have."""
    from ledger.integrity.tiles import HASH_BYTES, MAX_ENTRY, WIDTH

    def limit(name: str) -> int:
        """The most a file of the mirror can hold: a tile 256 hashes, an entry bundle 256 entries of
        at most 64 KiB, each after its 2-byte length."""
        if name == "checkpoint":
            return _MOST_CHECKPOINT
        return WIDTH * (2 + MAX_ENTRY) if "entries" in name else WIDTH * HASH_BYTES

    if source.startswith(("http://", "https://")):
        token = os.environ.get("MISSION_LEDGER_TOKEN")
        prefix = source.rstrip("/")

        def fetch(name: str) -> bytes | None:
            request = urllib.request.Request(f"{prefix}/{name}", headers={"User-Agent": "mission-ledger"})
            if token:
                request.add_header("Authorization", f"Bearer {token}")
            try:
                with urllib.request.urlopen(request, timeout=_TIMEOUT) as answer:
                    data: bytes = answer.read(limit(name) + 1)
            except urllib.error.HTTPError as e:
                if e.code == 404:
                    return None
                raise Refused(f"{prefix}/{name}: the mirror answered {e.code} {e.reason}") from e
            except (urllib.error.URLError, OSError) as e:
                raise BadInput(f"cannot reach the mirror {prefix}: {getattr(e, 'reason', e)}") from e
            if len(data) > limit(name):
                raise Refused(f"{prefix}/{name} is larger than any such file can be ({limit(name)} bytes)")
            return data

        return fetch
    root = Path(source).resolve()
    if not root.is_dir():
        raise BadInput(f"--tiles {source}: no such folder (or give an http(s) URL)")

    def read(name: str) -> bytes | None:
        path = (root / name).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            return None
        if path.stat().st_size > limit(name):
            raise Refused(f"{path} is larger than any such file can be ({limit(name)} bytes)")
        return path.read_bytes()

    return read
