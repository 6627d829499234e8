"""The log as C2SP tiles (c2sp.org/tlog-tiles) under /api/v1/log: the latest signed checkpoint and
every tile and entry bundle, so that anyone who may read proofs can mirror the log and compute
any proof without asking the service for one (Go's sumdb/tlog reads them as they are).

Hash tiles hold hashes only: readable by whoever may read proofs. Entry bundles hold the events
themselves: they are the whole log's feed, readable by whoever follows the whole feed. A tile, full
or partial, never changes once the log holds it: it may be kept forever.
"""

from __future__ import annotations

from typing import Final

from litestar import Response, get

from ledger.domain.access import Principal, authorize
from ledger.errors import BadInput, NotFound
from ledger.integrity.tiles import parse_tile_path, read_tile
from service.api.contract import Answer, declares
from service.auth import requires
from service.proofs import checkpoint_of_size
from service.state import LedgerService

OCTETS: Final = "application/octet-stream"
#: The tiles' names: a level (or `entries`), the index in 3-digit elements, a partial width.
TILE_PATH: Final = {
    "type": "string",
    "maxLength": 64,
    "pattern": "^[0-9a-z./]*$",
    "description": "`<L>/<N>[.p/<W>]` or `entries/<N>[.p/<W>]` as c2sp.org/tlog-tiles names them (`0/x001/234`, "
    "`1/004.p/17`, `entries/000.p/101`); a name that is not a tile's is 404",
}


@get(
    "/log/checkpoint",
    sync_to_thread=False,
    guards=[requires("read_proofs")],
    opt=declares(
        "log_checkpoint",
        Answer(
            200,
            media=("text/plain; charset=utf-8",),
            headers=("ETag", "Cache-Control"),
            description="the latest signed checkpoint, whose size the tiles are read up to",
        ),
        errors=(404,),
    ),
)
def log_checkpoint(ledger: LedgerService) -> Response[bytes]:
    """The log's latest signed checkpoint (tlog-tiles `<prefix>/checkpoint`): it changes as the
    log grows, so it is kept a few seconds at most."""
    note = checkpoint_of_size(ledger, None, "size")
    return Response(note.encode(), media_type="text/plain", headers={"Cache-Control": "private, max-age=5"})


@get(
    "/log/tile/{name:path}",
    sync_to_thread=False,
    guards=[requires("read_proofs")],
    opt=declares(
        "log_tile",
        Answer(
            200,
            media=(OCTETS,),
            headers=("ETag", "Cache-Control"),
            description="256 hashes (8,192 bytes), or the partial tile's width of them; an entry bundle: "
            "each event's canonical leaf bytes after its length (big-endian uint16)",
        ),
        errors=(404,),
        params={"name": TILE_PATH},
    ),
)
def log_tile(name: str, ledger: LedgerService, principal: Principal) -> Response[bytes]:
    """A hash tile `tile/<L>/<N>[.p/<W>]` or an entry bundle `tile/entries/<N>[.p/<W>]`."""
    try:
        tile = parse_tile_path("tile" + name)
    except BadInput as e:
        raise NotFound(str(e)) from e
    if tile.level is None:  # the events themselves: the whole log's feed
        authorize(principal, "read_feed", province=None)
    data = read_tile(ledger.app.ledger_recorder, tile)
    if data is None:
        raise NotFound(
            f"{tile.path()}: the log does not hold it (it has {ledger.app.ledger_recorder.log_size()} events)"
        )
    return Response(data, media_type=OCTETS, headers={"Cache-Control": "private, max-age=31536000, immutable"})


ROUTES: Final = [log_checkpoint, log_tile]
