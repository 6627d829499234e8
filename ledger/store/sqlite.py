"""The SQLite store: eventsourcing's SQLite application recorder with the ledger's log.

The default: one file, many readers, one writer at a time (WAL). Positions equal SQLite rowids
when nothing was ever deleted, but the log keeps its own.
"""

from __future__ import annotations

import sqlite3
import threading
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Final
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteDatastore

from ledger.store.contract import Cursor, LedgerLog, Restamp
from ledger.store.credentials import IdempotencyKey
from ledger.store.names import IDEMPOTENCY_TABLE, NODES_TABLE, SESSIONS_TABLE, TOKENS_TABLE
from ledger.store.tables import (
    IMMUTABLE_MESSAGE,
    IMMUTABLE_TABLES,
    log_table_names,
    log_table_statements,
    table_statement,
)
from ledger.store.tail import Tail

#: SQLite's types for the log's portable column types.
# Instants stay text on SQLite (format_stamp: UTC, microseconds, sortable as text).
_TYPES: Final = {
    "integer": "INTEGER",
    "counter": "INTEGER",
    "serial": "INTEGER",
    "text": "TEXT",
    "bytes": "BLOB",
    "instant": "TEXT",
}


class _Adapter:
    """A SQLite cursor seen through the log's Cursor protocol (already `?` and tuples)."""

    def __init__(self, cursor: SQLiteCursor) -> None:
        self.cursor = cursor
        # Plain tuples instead of eventsourcing's sqlite3.Row: the log's reads are positional,
        # and a feed or an audit reads millions of rows.
        cursor.sqlite_cursor.row_factory = None

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.cursor.execute(sql, params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.cursor.executemany(sql, rows)

    def fetchall(self) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = self.cursor.fetchall()
        return rows

    def fetchone(self) -> tuple[Any, ...] | None:
        row: tuple[Any, ...] | None = self.cursor.fetchone()
        return row


class SQLiteLedgerRecorder(LedgerLog, SQLiteApplicationRecorder):
    """SQLiteLedgerRecorder appends each event to the ledger's log in the same transaction.

    `insert_events(events, recorded_at=T, restamp=R)` stamps the events again with R (or, without
    R, refuses with ClockBehind) when T is earlier than the last logged recorded_at; without
    `recorded_at` (eventsourcing's own recorder tests) the log still gets a position and a leaf.
    """

    def __init__(self, datastore: SQLiteDatastore, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name)
        self.names = log_table_names(str, self.events_table_name, "rowid")
        self.tokens_ddl = table_statement(_TYPES, str, TOKENS_TABLE)
        self.sessions_ddl = table_statement(_TYPES, str, SESSIONS_TABLE)
        self.idempotency_ddl = table_statement(_TYPES, str, IDEMPOTENCY_TABLE)
        self._watch: sqlite3.Connection | None = None
        self._watch_lock = threading.Lock()
        self._watched: tuple[int, int] | None = None  # (data_version, size)

    def log_size(self) -> int:
        """log_size is the number of events in the ledger (its last position).

        A request asks it several times (signing in, the views' freshness): `PRAGMA data_version`
        on a connection of its own says in microseconds whether anyone committed since it last
        looked, and only then is the size read again — through eventsourcing's pooled
        transaction that costs several times as much."""
        pool = self.datastore.pool
        if pool.is_sqlite_memory_mode:
            return super().log_size()
        with self._watch_lock:
            if self._watch is None:
                self._watch = sqlite3.connect(pool.db_name, uri=True, isolation_level=None, check_same_thread=False)
                weakref.finalize(self, self._watch.close)
            version = int(self._watch.execute("PRAGMA data_version").fetchone()[0])
            if self._watched is None or self._watched[0] != version:
                row = self._watch.execute(self._sql("SELECT MAX(position) FROM {log}")).fetchone()
                self._watched = (version, int(row[0] or 0) if row else 0)
            return self._watched[1]

    def local_file(self) -> str | None:
        """local_file is the ledger's SQLite file (None for an in-memory ledger)."""
        pool = self.datastore.pool
        return None if pool.is_sqlite_memory_mode else str(pool.db_name)

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            *log_table_statements(
                _TYPES,
                str,
                {NODES_TABLE: " WITHOUT ROWID"},
            ),
            # Defence in depth: facts are never changed or removed (verify does not rely on it).
            *(
                f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{IMMUTABLE_MESSAGE.format(table=table)}'); END"
                for table in (self.events_table_name, *IMMUTABLE_TABLES)
                for op in ("UPDATE", "DELETE")
            ),
        ]

    def _insert_events(
        self,
        c: SQLiteCursor,
        stored_events: Sequence[StoredEvent],
        *,
        recorded_at: datetime | None = None,
        restamp: Restamp | None = None,
        idempotency: IdempotencyKey | None = None,
        **kwargs: Any,
    ) -> Sequence[int] | None:
        self._check_stream_ids(stored_events)
        if not stored_events:
            return []
        cur = _Adapter(c)
        self._take_write_lock(cur)
        size, stored_events, recorded_at = self._settle_clock(cur, stored_events, recorded_at, restamp)
        ids = self._append(c, cur, stored_events, recorded_at, size)
        self._remember(cur, idempotency, size, len(ids), recorded_at)
        return ids

    def _take_write_lock(self, cur: Cursor) -> None:
        # eventsourcing begins a deferred transaction; a statement that writes (here one that
        # changes no row) takes SQLite's write lock, so the log's tail read next is current and
        # stays so until commit.
        cur.execute(self._sql("DELETE FROM {frontier} WHERE idx < 0"))

    def _append(
        self,
        c: SQLiteCursor,
        cur: Cursor,
        stored_events: Sequence[StoredEvent],
        recorded_at: datetime | None,
        size: int,
        tail: Tail | None = None,
    ) -> list[int]:
        # One executemany instead of eventsourcing's execute per event: with the lock held and
        # rows never deleted, SQLite gives each new row MAX(rowid) + 1, so the batch's
        # notification ids are the last len(batch) rowids.
        c.executemany(
            self.insert_events_statement,
            [
                (
                    s.originator_id.hex if isinstance(s.originator_id, UUID) else s.originator_id,
                    s.originator_version,
                    s.topic,
                    s.state,
                )
                for s in stored_events
            ],
        )
        c.execute(self.select_max_notification_id_statement)
        last = int(c.fetchone()[0])
        notification_ids = list(range(last - len(stored_events) + 1, last + 1))
        self._append_to_log(cur, stored_events, notification_ids, recorded_at, size, tail)
        return notification_ids

    @contextmanager
    def _locked(self) -> Iterator[tuple[SQLiteCursor, Cursor]]:
        with self.datastore.transaction(commit=True) as c:
            cur = _Adapter(c)
            self._take_write_lock(cur)
            yield c, cur

    def _table_exists(self, cur: Cursor, name: str) -> bool:
        cur.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,))
        return cur.fetchone() is not None

    def _adapt(self, cursor: Any) -> Cursor:
        return _Adapter(cursor)


__all__ = ["SQLiteDatastore", "SQLiteLedgerRecorder"]
