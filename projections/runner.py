"""The catch-up runner: reads the ledger in order from the views' position and applies each event.

Each page of events is applied in one SQLite transaction that also writes the new position (and
the leaf hash of the last applied event), so a crash leaves the views at a page boundary: no
event is ever applied twice or skipped. The views remember which ledger they follow (its id) and
the leaf at their position; a views file from another ledger, or one ahead of its ledger, is
refused with the advice to rebuild.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from ledger.errors import Refused
from ledger.events import decode_event
from ledger.stores import LedgerLog
from projections.views import SCHEMA_VERSION, TABLES, PageWriter, create_schema

PAGE = 2000
LOCK_TIMEOUT = 60.0


class ViewsMismatch(Refused):
    """ViewsMismatch: the views file does not follow this ledger; `project --rebuild` fixes it."""


class ViewsUnavailable(Refused):
    """ViewsUnavailable: the views file cannot be opened or written."""


@dataclass(frozen=True)
class CatchUp:
    """CatchUp says how far the views moved: from position `start` to `end`."""

    start: int
    end: int

    @property
    def applied(self) -> int:
        """applied is the number of events applied."""
        return self.end - self.start


def open_views(path: Path) -> sqlite_utils.Database:
    """open_views opens (creating if need be) the views file with its schema.

    Several processes may catch the same views up at once (each write command does): they wait
    for each other's transactions rather than fail.
    """
    try:
        db = sqlite_utils.Database(sqlite3.connect(path, timeout=LOCK_TIMEOUT))
        _with_retry(lambda: db.execute("PRAGMA journal_mode=WAL"))
        db.execute("PRAGMA synchronous=NORMAL")
        # The indexes of a national ledger outgrow SQLite's 2 MB default page cache; a miss on
        # every insert is what slowed a rebuild down as it grew.
        db.execute("PRAGMA cache_size=-262144")
        # IMMEDIATE: take the write lock first, so that a concurrent creator makes us wait
        # (a deferred transaction that reads, then writes, would fail instead).
        _with_retry(lambda: db.execute("BEGIN IMMEDIATE"))
        try:
            create_schema(db)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
    except sqlite3.Error as e:
        raise ViewsUnavailable(f"cannot open the views file {path}: {e}") from None
    return db


def _with_retry(step: Callable[[], object]) -> None:
    """Run a statement SQLite may answer with 'locked' without waiting (changing the journal
    mode, racing another opener), until it goes through or LOCK_TIMEOUT passes."""
    deadline = time.monotonic() + LOCK_TIMEOUT
    while True:
        try:
            step()
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _meta(db: sqlite_utils.Database, key: str) -> str | None:
    row = db.execute("SELECT value FROM _meta WHERE key = ?", (key,)).fetchone()
    return str(row[0]) if row else None


def _set_meta(db: sqlite_utils.Database, key: str, value: str) -> None:
    db.execute("INSERT OR REPLACE INTO _meta (key, value) VALUES (?, ?)", (key, value))


class Projector:
    """Projector keeps one views file in step with one ledger."""

    def __init__(self, recorder: LedgerLog, views_path: Path, *, page: int = PAGE) -> None:
        self.recorder = recorder
        self.views_path = views_path
        self.page = page
        self.db = open_views(views_path)

    def close(self) -> None:
        """close closes the views file."""
        self.db.close()

    def position(self) -> int:
        """position is the number of ledger events the views hold."""
        return int(_meta(self.db, "position") or 0)

    def check(self) -> None:
        """check refuses views that belong to another ledger or run ahead of this one."""
        ledger_id = self.recorder.get_meta("ledger_id") or ""
        theirs = _meta(self.db, "ledger_id")
        advice = f"run `mission-ledger project --rebuild` (views file {self.views_path})"
        if theirs is not None and theirs != ledger_id:
            raise ViewsMismatch(f"the views file belongs to another ledger: {advice}")
        position = self.position()
        size = self.recorder.log_size()
        if position > size:
            raise ViewsMismatch(
                f"the views are ahead of the ledger ({position} events, the ledger has {size}): {advice}"
            )
        if position:
            leaf = self.recorder.leaf_at(position)
            if leaf is None or leaf.hex() != _meta(self.db, "last_leaf"):
                raise ViewsMismatch(f"the views do not match the ledger at position {position}: {advice}")

    def catch_up(self, *, progress: Callable[[int], None] | None = None) -> CatchUp:
        """catch_up applies every event after the views' position; returns how far it went."""
        self.check()
        start = self.position()
        ledger_id = self.recorder.get_meta("ledger_id") or ""
        try:
            while True:
                # The write lock is taken before the position is read, so that two runners on
                # the same views never apply the same page twice.
                self.db.execute("BEGIN IMMEDIATE")
                try:
                    position = self.position()
                    page = self.recorder.select_log(position, self.page)
                    writer = PageWriter(self.db)
                    events = [decode_event(logged.state) for logged in page]
                    writer.load(events)
                    for logged, event in zip(page, events, strict=True):
                        writer.apply(logged, event)
                    writer.flush()
                    if page:
                        position = page[-1].position
                        _set_meta(self.db, "position", str(position))
                        _set_meta(self.db, "ledger_id", ledger_id)
                        _set_meta(self.db, "schema_version", SCHEMA_VERSION)
                        _set_meta(self.db, "last_leaf", page[-1].leaf_hash.hex())
                except BaseException:
                    self.db.execute("ROLLBACK")
                    raise
                self.db.execute("COMMIT")
                if not page:
                    break
                if progress:
                    progress(len(page))
        except sqlite3.Error as e:
            raise ViewsUnavailable(f"cannot update the views file {self.views_path}: {e}") from None
        return CatchUp(start, position)

    def rebuild(self) -> CatchUp:
        """rebuild drops every view table and applies the whole ledger from event 1."""
        self.db.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.views_path}{suffix}").unlink(missing_ok=True)
        self.db = open_views(self.views_path)
        return self.catch_up()

    def digest(self) -> str:
        """digest is a SHA-256 over every view table's rows in a fixed order: equal views,
        equal digests, whichever way (incremental or rebuilt) they were made."""
        h = hashlib.sha256()
        for table in TABLES:
            columns = [c.name for c in self.db[table].columns]
            h.update(f"{table}:{','.join(columns)}\n".encode())
            order = ", ".join(f'"{c}"' for c in columns)
            for row in self.db.execute(f'SELECT {order} FROM "{table}" ORDER BY {order}'):
                h.update(json.dumps(row, ensure_ascii=False, separators=(",", ":")).encode() + b"\n")
        return h.hexdigest()
