"""Event stores: eventsourcing's recorders, extended with the ledger's log.

The ledger's log gives every stored event a *position* (1, 2, 3, … with no gaps: the ledger
order that feeds, projections and the Merkle tree use), its RFC 9162 leaf hash and its
recorded_at, written in the same transaction as the event itself. The recorder, not the
application, refuses an event stamped earlier than the last one (backdating), because only
inside the write transaction is "the last one" certain.

Each backend is one recorder class over eventsourcing's own; the application picks one with
`store_environment`.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eventsourcing.persistence import PersistenceError, StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteDatastore

from ledger.errors import BadInput, Refused, StoreUnavailable
from ledger.integrity.log import event_leaf
from ledger.integrity.merkle import CompactRange

LOG_TABLE = "ledger_log"
FRONTIER_TABLE = "ledger_frontier"
META_TABLE = "ledger_meta"
CHECKPOINT_TABLE = "ledger_checkpoints"
# Tables whose rows are facts: the store refuses to change or remove them (defence in depth;
# `verify` still catches a tamperer who drops these triggers).
IMMUTABLE_TABLES = ("stored_events", LOG_TABLE, CHECKPOINT_TABLE)


class ClockBehind(Refused):
    """ClockBehind is raised inside the write transaction when an event is stamped earlier
    than the last event in the ledger."""

    def __init__(self, stamped: datetime, last: datetime) -> None:
        super().__init__(
            f"the ledger clock ({format_stamp(stamped)}) is earlier than the last recorded "
            f"event ({format_stamp(last)}): backdating is refused"
        )
        self.stamped = stamped
        self.last = last


def _as_bytes(value: Any) -> bytes | None:
    if value is None or isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    return bytes(value)


def format_stamp(instant: datetime) -> str:
    """format_stamp is the stored form of a recorded_at: UTC, microseconds, sortable as text."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_stamp(text: str) -> datetime:
    """parse_stamp reads a stored recorded_at."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


@dataclass(frozen=True)
class LoggedEvent:
    """LoggedEvent is a stored event at its ledger position."""

    position: int
    stream_id: str
    version: int
    topic: str
    state: bytes
    recorded_at: datetime | None
    leaf_hash: bytes


class SQLiteLedgerRecorder(SQLiteApplicationRecorder):
    """SQLiteLedgerRecorder is eventsourcing's SQLite application recorder that also appends
    each event to the ledger's log (position, leaf hash, recorded_at) in the same transaction.

    `insert_events(events, recorded_at=T)` refuses with ClockBehind when T is earlier than the
    last logged recorded_at; without `recorded_at` (eventsourcing's own recorder tests) the
    log still gets a position and a leaf.
    """

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            f"CREATE TABLE IF NOT EXISTS {LOG_TABLE} ("
            "position INTEGER PRIMARY KEY, "
            "notification_id INTEGER NOT NULL UNIQUE, "
            "recorded_at TEXT, "
            "leaf_hash BLOB NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {FRONTIER_TABLE} (idx INTEGER PRIMARY KEY, hash BLOB NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {META_TABLE} (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {CHECKPOINT_TABLE} ("
            "id INTEGER PRIMARY KEY, size INTEGER NOT NULL, root BLOB NOT NULL, note TEXT NOT NULL, "
            "signed_at TEXT NOT NULL)",
            *(
                f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'mission-ledger: {table} rows are never changed or removed'); END"
                for table in (self.events_table_name, LOG_TABLE, CHECKPOINT_TABLE)
                for op in ("UPDATE", "DELETE")
            ),
        ]

    def _insert_events(
        self,
        c: SQLiteCursor,
        stored_events: Sequence[StoredEvent],
        *,
        recorded_at: datetime | None = None,
        **kwargs: Any,
    ) -> Sequence[int] | None:
        # Writing first takes SQLite's write lock, so the log's tail read below is current.
        notification_ids = super()._insert_events(c, stored_events, **kwargs)
        if not stored_events:
            return notification_ids
        assert notification_ids is not None  # the application recorder always returns ids
        c.execute(f"SELECT position, recorded_at FROM {LOG_TABLE} ORDER BY position DESC LIMIT 1")
        row = c.fetchone()
        size = row[0] if row else 0
        if recorded_at is not None and row is not None and row[1] is not None:
            last = parse_stamp(row[1])
            if recorded_at < last:
                raise ClockBehind(recorded_at, last)
        stamp = format_stamp(recorded_at) if recorded_at is not None else None
        frontier = self._frontier(c, size)
        rows = []
        for offset, (event, nid) in enumerate(zip(stored_events, notification_ids, strict=True)):
            position = size + offset + 1
            leaf = event_leaf(position, str(event.originator_id), event.originator_version, event.topic, event.state)
            frontier = frontier.append(leaf)
            rows.append((position, nid, stamp, leaf))
        c.executemany(f"INSERT INTO {LOG_TABLE} VALUES (?,?,?,?)", rows)
        c.execute(f"DELETE FROM {FRONTIER_TABLE}")
        c.executemany(f"INSERT INTO {FRONTIER_TABLE} VALUES (?,?)", list(enumerate(frontier.hashes)))
        return notification_ids

    def _frontier(self, c: SQLiteCursor, size: int) -> CompactRange:
        c.execute(f"SELECT hash FROM {FRONTIER_TABLE} ORDER BY idx")
        return CompactRange(size, tuple(bytes(r[0]) for r in c.fetchall()))

    # --- reading the log -------------------------------------------------------------------

    def tree(self) -> CompactRange:
        """tree is the Merkle frontier of the whole log, as stored."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT MAX(position) FROM {LOG_TABLE}")
            return self._frontier(c, c.fetchone()[0] or 0)

    def log_size(self) -> int:
        """log_size is the number of events in the ledger (its last position)."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT MAX(position) FROM {LOG_TABLE}")
            return int(c.fetchone()[0] or 0)

    def leaf_at(self, position: int) -> bytes | None:
        """leaf_at is the stored leaf hash at a position, or None beyond the log."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT leaf_hash FROM {LOG_TABLE} WHERE position = ?", (position,))
            row = c.fetchone()
            return bytes(row[0]) if row else None

    def last_recorded_at(self) -> datetime | None:
        """last_recorded_at is the ledger clock's high-water mark: the newest recorded_at."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT recorded_at FROM {LOG_TABLE} WHERE recorded_at IS NOT NULL ORDER BY position DESC LIMIT 1"
            )
            row = c.fetchone()
            return parse_stamp(row[0]) if row else None

    def select_log(self, after: int = 0, limit: int = 1000) -> list[LoggedEvent]:
        """select_log returns up to `limit` events after position `after`, in ledger order."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT l.position, e.originator_id, e.originator_version, e.topic, e.state, "
                f"l.recorded_at, l.leaf_hash FROM {LOG_TABLE} l JOIN {self.events_table_name} e "
                "ON e.rowid = l.notification_id WHERE l.position > ? ORDER BY l.position LIMIT ?",
                (after, limit),
            )
            return [
                LoggedEvent(r[0], r[1], r[2], r[3], bytes(r[4]), parse_stamp(r[5]) if r[5] else None, bytes(r[6]))
                for r in c.fetchall()
            ]

    def iter_log(self, after: int = 0, page: int = 1000) -> Iterator[LoggedEvent]:
        """iter_log streams the log after `after` in pages, never holding it all in memory."""
        while True:
            batch = self.select_log(after, page)
            yield from batch
            if len(batch) < page:
                return
            after = batch[-1].position

    def leaves(self, start: int, end: int) -> list[bytes]:
        """leaves returns the stored leaf hashes of positions start+1 … end (leaf indexes start … end-1)."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT leaf_hash FROM {LOG_TABLE} WHERE position > ? AND position <= ? ORDER BY position",
                (start, end),
            )
            return [bytes(r[0]) for r in c.fetchall()]

    def audit_rows(self, after: int = 0, limit: int = 5000) -> list[tuple[Any, ...]]:
        """audit_rows returns the log with whatever event each entry points to (or NULLs):
        position, notification_id, recorded_at, leaf_hash, stream id, version, topic, state."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT l.position, l.notification_id, l.recorded_at, l.leaf_hash, e.originator_id, "
                f"e.originator_version, e.topic, e.state FROM {LOG_TABLE} l LEFT JOIN "
                f"{self.events_table_name} e ON e.rowid = l.notification_id WHERE l.position > ? "
                "ORDER BY l.position LIMIT ?",
                (after, limit),
            )
            # A tamperer's SQL may leave text where bytes were: read it as the bytes it spells.
            return [(*r[:7], _as_bytes(r[7])) for r in c.fetchall()]

    def unlogged_events(self) -> list[tuple[int, str, int]]:
        """unlogged_events lists stored events that have no place in the log (rowid, stream, version)."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT e.rowid, e.originator_id, e.originator_version FROM {self.events_table_name} e "
                f"LEFT JOIN {LOG_TABLE} l ON l.notification_id = e.rowid WHERE l.position IS NULL "
                "ORDER BY e.rowid"
            )
            return [(r[0], r[1], r[2]) for r in c.fetchall()]

    def record_checkpoint(self, size: int, root: bytes, note: str, signed_at: datetime) -> None:
        """record_checkpoint appends a signed checkpoint to the ledger's checkpoint history."""
        with self.datastore.transaction(commit=True) as c:
            c.execute(
                f"INSERT INTO {CHECKPOINT_TABLE} (size, root, note, signed_at) VALUES (?, ?, ?, ?)",
                (size, root, note, format_stamp(signed_at)),
            )

    def checkpoints(self) -> list[tuple[int, bytes, str]]:
        """checkpoints lists the recorded checkpoints (size, root, note), oldest first."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT size, root, note FROM {CHECKPOINT_TABLE} ORDER BY id")
            return [(r[0], bytes(r[1]), r[2]) for r in c.fetchall()]

    # --- ledger metadata -------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        """get_meta reads one ledger setting (origin, ledger id, …)."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT value FROM {META_TABLE} WHERE key = ?", (key,))
            row = c.fetchone()
            return row[0] if row else None

    def set_meta_once(self, key: str, value: str) -> str:
        """set_meta_once stores a setting unless it is already set; returns the stored value."""
        with self.datastore.transaction(commit=True) as c:
            c.execute(f"INSERT OR IGNORE INTO {META_TABLE} VALUES (?, ?)", (key, value))
            c.execute(f"SELECT value FROM {META_TABLE} WHERE key = ?", (key,))
            return str(c.fetchone()[0])


@dataclass(frozen=True)
class StoreLocation:
    """StoreLocation says where a ledger lives: a SQLite file path (or a postgresql:// URL)."""

    url: str

    @property
    def is_postgres(self) -> bool:
        """is_postgres is true for a postgresql:// URL."""
        return self.url.startswith(("postgresql://", "postgres://"))

    @property
    def path(self) -> Path:
        """path is the SQLite file of the ledger."""
        return Path(self.url)

    def views_path(self) -> Path:
        """views_path is the default views file beside the ledger: name.views.db."""
        if self.is_postgres:
            return Path("mission-ledger.views.db")
        p = self.path
        return p.with_name(f"{p.stem}.views.db")

    def exists(self) -> bool:
        """exists is true when a ledger was initialised here."""
        if self.is_postgres:
            return True
        if not self.path.is_file():
            return False
        try:
            con = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
            try:
                row = con.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (META_TABLE,)).fetchone()
            finally:
                con.close()
        except sqlite3.DatabaseError as e:
            raise StoreUnavailable(f"{self.path} is not a mission-ledger file: {e}") from None
        return row is not None

    def describe(self) -> str:
        """describe names the store for messages (never with a password)."""
        return str(self.path)


def store_environment(location: StoreLocation) -> dict[str, str]:
    """store_environment is the eventsourcing environment that opens `location`."""
    if location.is_postgres:
        raise BadInput("PostgreSQL ledgers are not supported yet (see issue 7); give a file path")
    parent = location.path.parent
    if not parent.exists():
        raise StoreUnavailable(f"cannot open ledger {location.path}: folder {parent} does not exist")
    return {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": os.fspath(location.path),
        "SQLITE_LOCK_TIMEOUT": "30",
        "ORIGINATOR_ID_TYPE": "text",
        "APPLICATION_RECORDER_TOPIC": "ledger.stores:SQLiteLedgerRecorder",
    }


def translate_store_error(error: PersistenceError, location: StoreLocation) -> StoreUnavailable:
    """translate_store_error turns a storage failure into one line naming the store."""
    return StoreUnavailable(f"ledger {location.describe()}: {error}")


__all__ = [  # SQLiteDatastore: the datastore this module's recorder takes
    "ClockBehind",
    "LoggedEvent",
    "SQLiteDatastore",
    "SQLiteLedgerRecorder",
    "StoreLocation",
    "format_stamp",
    "parse_stamp",
    "store_environment",
]
