"""The PostgreSQL store: eventsourcing's PostgreSQL application recorder (psycopg 3) with the
ledger's log, for a ledger shared by many writers.

eventsourcing serialises inserts with an EXCLUSIVE table lock, so commit order is insert order;
the log is appended under the same lock in the same transaction, so positions are contiguous
even where PostgreSQL's sequence leaves gaps in notification ids.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import psycopg
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg.sql import SQL, Identifier

from ledger.errors import StoreUnavailable
from ledger.stores import (
    CHECKPOINT_TABLE,
    FRONTIER_TABLE,
    IMMUTABLE_MESSAGE,
    LOG_TABLE,
    META_TABLE,
    NODES_TABLE,
    Cursor,
    LedgerLog,
    StoreLocation,
    translate_store_error,
)


class _Adapter:
    """A psycopg cursor seen through the log's Cursor protocol: `?` becomes `%s`, dict rows tuples."""

    def __init__(self, cursor: Any) -> None:
        self.cursor = cursor

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.cursor.execute(sql.replace("?", "%s"), params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self.cursor.executemany(sql.replace("?", "%s"), rows)

    def fetchall(self) -> list[tuple[Any, ...]]:
        return [tuple(r.values()) if isinstance(r, dict) else tuple(r) for r in self.cursor.fetchall()]

    def fetchone(self) -> tuple[Any, ...] | None:
        row = self.cursor.fetchone()
        if row is None:
            return None
        return tuple(row.values()) if isinstance(row, dict) else tuple(row)


class PostgresLedgerRecorder(LedgerLog, PostgresApplicationRecorder):
    """PostgresLedgerRecorder appends each event to the ledger's log in the insert transaction,
    under eventsourcing's table lock; refuses backdating before anything is written."""

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        schema = datastore.schema

        def q(name: str) -> str:
            return f'"{schema}"."{name}"'

        self.names = {
            "events": q(self.events_table_name),
            "nid": "notification_id",
            "log": q(LOG_TABLE),
            "frontier": q(FRONTIER_TABLE),
            "meta": q(META_TABLE),
            "checkpoints": q(CHECKPOINT_TABLE),
            "nodes": q(NODES_TABLE),
        }
        for statement in (
            f"CREATE TABLE IF NOT EXISTS {q(LOG_TABLE)} (position BIGINT PRIMARY KEY, "
            "notification_id BIGINT NOT NULL UNIQUE, recorded_at TEXT, leaf_hash BYTEA NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {q(FRONTIER_TABLE)} (idx INTEGER PRIMARY KEY, hash BYTEA NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {q(META_TABLE)} (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {q(CHECKPOINT_TABLE)} (id BIGSERIAL PRIMARY KEY, size BIGINT NOT NULL, "
            "root BYTEA NOT NULL, note TEXT NOT NULL, signed_at TEXT NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {q(NODES_TABLE)} (level INTEGER NOT NULL, idx BIGINT NOT NULL, "
            "hash BYTEA NOT NULL, PRIMARY KEY (level, idx))",
            f"CREATE OR REPLACE FUNCTION {q('ledger_refuse_change')}() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION '" + IMMUTABLE_MESSAGE.format(table="%") + "', TG_TABLE_NAME; END $$",
            *(
                f'CREATE OR REPLACE TRIGGER "{table}_immutable" BEFORE UPDATE OR DELETE ON {q(table)} '
                f"FOR EACH ROW EXECUTE FUNCTION {q('ledger_refuse_change')}()"
                for table in (self.events_table_name, LOG_TABLE, CHECKPOINT_TABLE, NODES_TABLE)
            ),
        ):
            self.sql_create_statements.append(SQL(statement))  # type: ignore[arg-type]

    def create_table(self) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(SQL("CREATE SCHEMA IF NOT EXISTS {0}").format(Identifier(self.datastore.schema)))
        super().create_table()

    def _insert_stored_events(
        self,
        curs: Any,
        stored_events: Sequence[StoredEvent],
        *,
        recorded_at: datetime | None = None,
        **kwargs: Any,
    ) -> None:
        # Everything that can refuse runs before the insert: eventsourcing commits the
        # transaction after this hook unless the database itself raised.
        self._check_stream_ids(stored_events)
        self._lock_table(curs)
        self._check_clock(_Adapter(curs), recorded_at)
        super()._insert_stored_events(curs, stored_events, **kwargs)

    def _fetch_ids_after_insert_events(
        self,
        curs: Any,
        stored_events: Sequence[StoredEvent],
        *,
        recorded_at: datetime | None = None,
        **kwargs: Any,
    ) -> Sequence[int] | None:
        notification_ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        if stored_events and notification_ids:
            cur = _Adapter(curs)
            cur.execute(self._sql("SELECT COALESCE(MAX(position), 0) FROM {log}"))
            row = cur.fetchone()
            self._append_to_log(cur, stored_events, notification_ids, recorded_at, int(row[0]) if row else 0)
        return notification_ids

    @contextmanager
    def batch(self, recorded_at: datetime) -> Iterator[Callable[[Sequence[StoredEvent]], Sequence[int]]]:
        with self.datastore.transaction(commit=True) as curs:

            def insert(stored_events: Sequence[StoredEvent]) -> Sequence[int]:
                if not stored_events:
                    return []
                self._insert_stored_events(curs, stored_events, recorded_at=recorded_at)
                return self._fetch_ids_after_insert_events(curs, stored_events, recorded_at=recorded_at) or []

            yield insert

    def _table_exists(self, cur: Cursor, name: str) -> bool:
        cur.execute("SELECT to_regclass(?)", (f'"{self.datastore.schema}"."{name}"',))
        row = cur.fetchone()
        return row is not None and row[0] is not None

    @contextmanager
    def _reading(self) -> Iterator[Cursor]:
        with self.datastore.transaction(commit=False) as curs:
            yield _Adapter(curs)

    @contextmanager
    def _writing(self) -> Iterator[Cursor]:
        with self.datastore.transaction(commit=True) as curs:
            yield _Adapter(curs)


def postgres_ledger_exists(location: StoreLocation) -> bool:
    """postgres_ledger_exists is true when the URL's database holds an initialised ledger;
    an unreachable server, a wrong password or a missing database is one clear error."""
    settings = location.postgres_settings()
    schema = settings.get("POSTGRES_SCHEMA", "public") or "public"
    try:
        with psycopg.connect(
            dbname=settings["POSTGRES_DBNAME"],
            host=settings["POSTGRES_HOST"],
            port=int(settings["POSTGRES_PORT"]),
            user=settings["POSTGRES_USER"],
            password=settings["POSTGRES_PASSWORD"] or None,
            connect_timeout=int(float(settings["POSTGRES_CONNECT_TIMEOUT"])),
        ) as conn:
            row = conn.execute("SELECT to_regclass(%s)", (f'"{schema}"."{META_TABLE}"',)).fetchone()
    except psycopg.Error as e:
        raise translate_store_error(e, location) from None
    except ValueError as e:
        raise StoreUnavailable(f"ledger {location.describe()}: {e}") from None
    return row is not None and row[0] is not None
