"""The PostgreSQL store: eventsourcing's PostgreSQL application recorder (psycopg 3) with the
ledger's log, for a ledger shared by many writers.

eventsourcing serialises inserts with an EXCLUSIVE table lock, so commit order is insert order;
the log is appended under the same lock in the same transaction, so positions are contiguous
even where PostgreSQL's sequence leaves gaps in notification ids.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError, ProgrammingError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg.sql import SQL, Identifier

from ledger.stamps import format_stamp
from ledger.store.contract import Cursor, LedgerLog, Restamp, leaves_of
from ledger.store.credentials import IdempotencyKey
from ledger.store.names import IDEMPOTENCY_TABLE, SESSIONS_TABLE, TOKENS_TABLE
from ledger.store.tables import (
    IMMUTABLE_MESSAGE,
    IMMUTABLE_TABLES,
    INSTANT_COLUMNS,
    log_table_names,
    log_table_statements,
    table_statement,
)
from ledger.store.tail import Tail

# Tries of an insert that failed before anything was sent (no connection, a lock timeout), for at
# most _RETRY_SECONDS: a server that stays away is said (503) rather than waited for, as each try
# may itself wait the pool's connect timeout.
_ATTEMPTS = 10
_RETRY_SECONDS = 3.0


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
    under eventsourcing's table lock; settles the clock (restamp or refuse) before anything is
    written."""

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        schema = datastore.schema

        def q(name: str) -> str:
            return f'"{schema}"."{name}"'

        self.names = log_table_names(q, q(self.events_table_name), "notification_id")
        types = {"integer": "INTEGER", "counter": "BIGINT", "serial": "BIGSERIAL", "text": "TEXT", "bytes": "BYTEA",
                 "instant": "TIMESTAMPTZ"}  # fmt: skip
        self._insert_events_sql = SQL(
            "INSERT INTO {0}.{1} (originator_id, originator_version, topic, state) "
            "SELECT * FROM unnest(%s::{2}[], %s::bigint[], %s::text[], %s::bytea[]) RETURNING notification_id"
        ).format(Identifier(schema), Identifier(self.events_table_name), SQL(datastore.originator_id_type))
        self._insert_batch_sql = SQL(
            "WITH given AS (SELECT * FROM unnest(%s::{2}[], %s::bigint[], %s::text[], %s::bytea[], %s::bigint[], "
            "%s::bytea[]) AS g (originator_id, originator_version, topic, state, position, leaf_hash)), "
            "inserted AS (INSERT INTO {0}.{1} (originator_id, originator_version, topic, state) "
            "SELECT originator_id, originator_version, topic, state FROM given ORDER BY position "
            "RETURNING notification_id, originator_id, originator_version) "
            "INSERT INTO {3} (position, notification_id, recorded_at, leaf_hash) "
            "SELECT g.position, i.notification_id, %s::text::timestamptz, g.leaf_hash "
            "FROM inserted i JOIN given g USING (originator_id, originator_version)"
        ).format(
            Identifier(schema), Identifier(self.events_table_name), SQL(datastore.originator_id_type),
            SQL(self.names["log"]),
        )  # fmt: skip
        self.tokens_ddl = table_statement(types, q, TOKENS_TABLE)
        self.sessions_ddl = table_statement(types, q, SESSIONS_TABLE)
        self.idempotency_ddl = table_statement(types, q, IDEMPOTENCY_TABLE)
        for statement in (
            *log_table_statements(types, q),
            f"CREATE OR REPLACE FUNCTION {q('ledger_refuse_change')}() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION '" + IMMUTABLE_MESSAGE.format(table="%") + "', TG_TABLE_NAME; END $$",
            *(
                f'CREATE OR REPLACE TRIGGER "{table}_immutable" BEFORE UPDATE OR DELETE ON {q(table)} '
                f"FOR EACH ROW EXECUTE FUNCTION {q('ledger_refuse_change')}()"
                for table in (self.events_table_name, *IMMUTABLE_TABLES)
            ),
            # TRUNCATE fires no row trigger: a statement trigger refuses it the same way.
            *(
                f'CREATE OR REPLACE TRIGGER "{table}_no_truncate" BEFORE TRUNCATE ON {q(table)} '
                f"FOR EACH STATEMENT EXECUTE FUNCTION {q('ledger_refuse_change')}()"
                for table in (self.events_table_name, *IMMUTABLE_TABLES)
            ),
        ):
            self.sql_create_statements.append(SQL(statement))  # type: ignore[arg-type]

    def create_table(self) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(SQL("CREATE SCHEMA IF NOT EXISTS {0}").format(Identifier(self.datastore.schema)))
        super().create_table()

    def upgrade(self) -> None:
        """A ledger made before instants were timestamptz kept them as text (format_stamp's UTC
        ISO form, which PostgreSQL reads exactly, to the microsecond): its columns are converted
        once, in one block that looks first — workers opening it together convert it once, and
        an upgraded ledger costs one query per open. ALTER ... TYPE rewrites a table without
        firing the immutability triggers."""
        schema = self.datastore.schema
        steps = "".join(
            "IF (SELECT data_type FROM information_schema.columns WHERE table_schema = "
            f"'{schema}' AND table_name = '{table}' AND column_name = '{column}') = 'text' THEN "
            f'ALTER TABLE "{schema}"."{table}" ALTER COLUMN {column} TYPE timestamptz USING {column}::timestamptz; '
            "END IF; "
            for table, column in INSTANT_COLUMNS
        )
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(SQL(f"DO $$ BEGIN {steps}END $$"))

    def insert_events(
        self,
        stored_events: Sequence[StoredEvent],
        *,
        recorded_at: datetime | None = None,
        restamp: Restamp | None = None,
        idempotency: IdempotencyKey | None = None,
        **kwargs: Any,
    ) -> Sequence[int] | None:
        """insert_events appends in one transaction of its own; whatever fails, the transaction
        rolls back and the error reaches the caller.

        Not eventsourcing's insert: its transaction block catches an error raised inside it and
        leaves the block normally (so the transaction commits what was done before the error),
        and its retry decorator runs the whole insert again after an OperationalError — also one
        raised while committing a transaction the server did commit, which turns a recorded write
        into a reported IntegrityError. Here only a failure before anything was sent to be
        inserted is tried again; after that, the caller learns what happened by reading
        (`stored_events`)."""
        self._check_stream_ids(stored_events)
        if not stored_events:
            return []
        started = time.monotonic()
        for attempt in range(_ATTEMPTS):
            sent = False
            try:
                with self._locked() as (curs, cur):
                    size, events, stamp = self._settle_clock(cur, stored_events, recorded_at, restamp)
                    sent = True
                    ids = self._append(curs, cur, events, stamp, size)
                    self._remember(cur, idempotency, size, len(ids), stamp)
                    return ids
            except (OperationalError, InterfaceError):
                if sent or attempt == _ATTEMPTS - 1 or time.monotonic() - started > _RETRY_SECONDS:
                    raise
                time.sleep(0.2)
        raise AssertionError("unreachable")  # pragma: no cover

    def _append(
        self, curs: Any, cur: Cursor, stored_events: Sequence[StoredEvent], recorded_at: datetime | None, size: int,
        tail: Tail | None = None,
    ) -> list[int]:  # fmt: skip
        # Four plain arrays, sent in binary, rather than eventsourcing's one array of a composite
        # type (which goes as text, each event's bytes hex-escaped inside it, for the server to
        # parse back): that was most of an import's time on PostgreSQL. The notification ids
        # come in insert order (the bigserial's nextval runs row by row, under the table lock).
        curs.execute(
            self._insert_events_sql,
            (
                [e.originator_id for e in stored_events],
                [e.originator_version for e in stored_events],
                [e.topic for e in stored_events],
                [e.state for e in stored_events],
            ),
            binary=True,
        )
        notification_ids = sorted(int(row["notification_id"]) for row in curs.fetchall())
        if len(notification_ids) != len(stored_events):  # pragma: no cover - a driver bug
            raise ProgrammingError(f"got {len(notification_ids)} notification ids for {len(stored_events)} events")
        self._append_to_log(cur, stored_events, notification_ids, recorded_at, size, tail)
        return notification_ids

    def _pipelined(self, raw: Any) -> AbstractContextManager[object]:
        # A batch's chunks then go to the server one after another without the importer waiting
        # for each: it plans the next chunk while the server inserts this one. Left (synced)
        # before the transaction commits; an error any of them met is raised there.
        pipeline: AbstractContextManager[object] = raw.connection.pipeline()
        return pipeline

    def _append_batched(
        self, raw: Any, cur: Cursor, stored_events: Sequence[StoredEvent], recorded_at: datetime, tail: Tail
    ) -> None:
        # The events and their log rows in one statement that answers nothing: each log row takes
        # its event's notification id inside the server (joined on the event's stream and
        # version), so nothing waits for the insert to come back.
        size = tail.size
        leaves = leaves_of(stored_events, size)
        raw.execute(
            self._insert_batch_sql,
            (
                [e.originator_id for e in stored_events],
                [e.originator_version for e in stored_events],
                [e.topic for e in stored_events],
                [e.state for e in stored_events],
                list(range(size + 1, size + 1 + len(leaves))),
                leaves,
                format_stamp(recorded_at),
            ),
            binary=True,
        )
        self._advance(cur, size, leaves, tail)

    def _insert_log_rows(self, cur: Cursor, rows: Sequence[tuple[int, int, str | None, bytes]]) -> None:
        # One statement for the whole chunk: executemany sends a message per row and waits on
        # the server for each batch of them, which made an import on PostgreSQL half as fast.
        if not rows:
            return
        positions, nids, stamps, leaves = (list(column) for column in zip(*rows, strict=True))
        assert isinstance(cur, _Adapter)
        cur.cursor.execute(
            self._sql(
                "INSERT INTO {log} (position, notification_id, recorded_at, leaf_hash) "
                "SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::timestamptz[], %s::bytea[])"
            ),
            (positions, nids, stamps, leaves),
            binary=True,
        )

    def _lock_table(self, curs: Any) -> None:
        super()._lock_table(curs)
        self._notify_channel(curs)

    @contextmanager
    def _locked(self) -> Iterator[tuple[Any, Cursor]]:
        with self.datastore.transaction(commit=True) as curs:
            self._lock_table(curs)
            yield curs, _Adapter(curs)

    def _table_exists(self, cur: Cursor, name: str) -> bool:
        cur.execute("SELECT to_regclass(?)", (f'"{self.datastore.schema}"."{name}"',))
        row = cur.fetchone()
        return row is not None and row[0] is not None

    def _adapt(self, cursor: Any) -> Cursor:
        return _Adapter(cursor)
