"""A witness service (c2sp.org/tlog-witness): `POST /add-checkpoint` cosigns a log's checkpoint when
it is consistent with the last one this witness cosigned for that log, and remembers it.

The witness keeps, per log origin, the size, root and note it last cosigned, in a SQLite file of
its own. Checking the request's old size against that and storing the new one happen in one
write transaction (BEGIN IMMEDIATE), so two requests at once can never roll the size back (the
race the spec describes); the new state is committed before the cosignature is answered, so a
witness killed mid-request either cosigned and remembers it, or did neither. Every refusal by a
log's valid signature is kept too (`refused`): a checkpoint that does not extend what was cosigned
is evidence of a split view.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from litestar import Litestar, Request, Response, get, post

from ledger.errors import BadInput
from ledger.integrity.checkpoint import Quorum, Verifier, parse_checkpoint, split_note
from ledger.integrity.witness import MAX_REQUEST, Witness, parse_add_checkpoint, witness_verdict
from ledger.stamps import format_stamp

SIZE_TYPE: Final = "text/x.tlog.size"
_SCHEMA: Final = (
    "CREATE TABLE IF NOT EXISTS cosigned (origin TEXT PRIMARY KEY, size INTEGER NOT NULL CHECK (size >= 0), "
    "root BLOB NOT NULL CHECK (length(root) = 32), note TEXT NOT NULL, at TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS refused (id INTEGER PRIMARY KEY, origin TEXT NOT NULL, status INTEGER NOT NULL, "
    "why TEXT NOT NULL, request TEXT NOT NULL, at TEXT NOT NULL)",
)


@dataclass(frozen=True)
class WitnessConfig:
    """WitnessConfig is one witness: its key, the logs it follows (origin → the log's key) and its
    state file."""

    witness: Witness
    logs: dict[str, Verifier | Quorum]
    state: Path


class WitnessState:
    """WitnessState is the witness's memory: what it last cosigned per origin."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")  # a cosignature answered is a state on disk
        for statement in _SCHEMA:
            self.db.execute(statement)

    def decide(self, body: bytes, config: WitnessConfig) -> tuple[int, str]:
        """decide answers one add-checkpoint request: (status, body)."""
        request = parse_add_checkpoint(body)
        now = format_stamp(datetime.now(UTC))  # the ledger's stored form of an instant
        self.db.execute("BEGIN IMMEDIATE")
        try:
            origin = parse_checkpoint(request.note).origin
            row = self.db.execute("SELECT size, root FROM cosigned WHERE origin = ?", (origin,)).fetchone()
            verdict = witness_verdict(request, config.logs, (int(row[0]), bytes(row[1])) if row else None)
            if verdict.status == 200:
                assert verdict.checkpoint is not None
                self.db.execute(
                    "INSERT INTO cosigned (origin, size, root, note, at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (origin) "
                    "DO UPDATE SET size = excluded.size, root = excluded.root, note = excluded.note, at = excluded.at",
                    (origin, verdict.checkpoint.size, verdict.checkpoint.root, request.note, now),
                )
            elif verdict.status not in (403, 404):  # signed by the log: evidence worth keeping
                self.db.execute(
                    "INSERT INTO refused (origin, status, why, request, at) VALUES (?, ?, ?, ?, ?)",
                    (origin, verdict.status, verdict.why, body.decode("utf-8", "replace"), now),
                )
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        if verdict.status == 200:
            text = split_note(request.note)[0]
            return 200, config.witness.cosign(text, int(time.time()))
        if verdict.status == 409 and verdict.size is not None:
            return 409, f"{verdict.size}\n"
        return verdict.status, verdict.why + "\n"


def create_witness_app(config: WitnessConfig) -> Litestar:
    """create_witness_app is the witness's HTTP face: add-checkpoint, and a health check."""
    state = WitnessState(config.state)

    @post("/add-checkpoint", status_code=200)
    async def add_checkpoint(request: Request[Any, Any, Any]) -> Response[bytes]:
        body = await request.body()
        try:
            status, answer = state.decide(body, config)
        except BadInput as e:
            status, answer = 400, f"{e}\n"
        media = SIZE_TYPE if status == 409 and answer.strip().isdigit() else "text/plain; charset=utf-8"
        return Response(answer.encode(), status_code=status, media_type=media)

    @get("/healthz", sync_to_thread=False)
    def healthz() -> Response[bytes]:
        return Response(b"ok\n", media_type="text/plain; charset=utf-8")

    return Litestar(
        route_handlers=[add_checkpoint, healthz], request_max_body_size=MAX_REQUEST, openapi_config=None, debug=False
    )
