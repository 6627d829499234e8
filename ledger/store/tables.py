"""The log's tables beside eventsourcing's events table, declared once for every backend, and the
statements that make them (each backend maps the portable column types onto its own).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final

from ledger.store.names import (
    CHECKPOINT_TABLE,
    FRONTIER_TABLE,
    IDEMPOTENCY_TABLE,
    LOG_TABLE,
    META_TABLE,
    NODES_TABLE,
    SESSIONS_TABLE,
    TOKENS_TABLE,
)

IMMUTABLE_MESSAGE = "mission-ledger: {table} rows are never changed or removed"
#: The log's tables beside eventsourcing's events table, once for every backend: each column is
#: (name, portable type, constraint); a backend maps the portable types onto its own
#: (`log_table_statements`). Facts — the log, the nodes, the checkpoints, and the events
#: themselves — are never changed or removed (IMMUTABLE_TABLES, guarded by triggers). CHECK
#: constraints keep positions, sizes and hashes in their shape, so that a row written past the
#: application (by hand, by another program) cannot hold what no ledger writes.
LOG_TABLES: Final[tuple[tuple[str, tuple[tuple[str, str, str], ...], str], ...]] = (
    (
        LOG_TABLE,
        (
            ("position", "counter", 'PRIMARY KEY CHECK ("position" >= 1)'),
            ("notification_id", "counter", "NOT NULL UNIQUE"),
            ("recorded_at", "instant", ""),
            ("leaf_hash", "bytes", "NOT NULL CHECK (length(leaf_hash) = 32)"),
        ),
        "",
    ),
    (FRONTIER_TABLE, (("idx", "integer", "PRIMARY KEY"), ("hash", "bytes", "NOT NULL")), ""),
    (META_TABLE, (("key", "text", "PRIMARY KEY"), ("value", "text", "NOT NULL")), ""),
    (
        CHECKPOINT_TABLE,
        (
            ("id", "serial", "PRIMARY KEY"),
            ("size", "counter", "NOT NULL CHECK (size >= 0)"),
            ("root", "bytes", "NOT NULL CHECK (length(root) = 32)"),
            ("note", "text", "NOT NULL"),
            ("signed_at", "instant", "NOT NULL"),
        ),
        "",
    ),
    (
        NODES_TABLE,
        (
            ("level", "integer", "NOT NULL CHECK (level >= 0 AND level < 64)"),
            ("idx", "counter", "NOT NULL CHECK (idx >= 0)"),
            ("hash", "bytes", "NOT NULL CHECK (length(hash) = 32)"),
        ),
        "PRIMARY KEY (level, idx)",
    ),
    (
        TOKENS_TABLE,
        (("token_hash", "bytes", "PRIMARY KEY"), ("token_id", "text", "NOT NULL UNIQUE"), ("name", "text", "NOT NULL")),
        "",
    ),
    (
        SESSIONS_TABLE,
        (
            ("session_hash", "bytes", "PRIMARY KEY"),
            ("name", "text", "NOT NULL"),
            ("token_id", "text", "NOT NULL"),
            ("csrf", "text", "NOT NULL"),
            ("started_at", "instant", "NOT NULL"),
            ("expires_at", "instant", "NOT NULL"),
        ),
        "",
    ),
    (
        IDEMPOTENCY_TABLE,
        (
            ("key_hash", "bytes", "PRIMARY KEY"),
            ("fingerprint", "bytes", "NOT NULL"),
            ("first_position", "counter", "NOT NULL"),
            ("last_position", "counter", "NOT NULL"),
            ("recorded_at", "instant", "NOT NULL"),
        ),
        "",
    ),
)
IMMUTABLE_TABLES: Final = (LOG_TABLE, CHECKPOINT_TABLE, NODES_TABLE)
#: The columns that hold an instant (portable type `instant`: timestamptz on PostgreSQL, text on SQLite).
INSTANT_COLUMNS: Final = tuple(
    (table, column) for table, columns, _ in LOG_TABLES for column, kind, _ in columns if kind == "instant"
)


def log_table_names(name: Callable[[str], str], events: str, notification_id: str) -> dict[str, str]:
    """log_table_names fills the SQL of LedgerLog for one backend: how it names a table, its
    events table, and the events' notification id column."""
    return {
        "events": events,
        "nid": notification_id,
        "log": name(LOG_TABLE),
        "frontier": name(FRONTIER_TABLE),
        "meta": name(META_TABLE),
        "checkpoints": name(CHECKPOINT_TABLE),
        "nodes": name(NODES_TABLE),
        "tokens": name(TOKENS_TABLE),
        "sessions": name(SESSIONS_TABLE),
        "idempotency": name(IDEMPOTENCY_TABLE),
    }


def log_table_statements(
    types: Mapping[str, str], name: Callable[[str], str], options: Mapping[str, str] | None = None
) -> list[str]:
    """log_table_statements is the DDL of LOG_TABLES for one backend: its SQL type for each
    portable type (integer, counter, serial, text, bytes, instant), how it names a table, and any
    options after a table's definition (SQLite's WITHOUT ROWID)."""
    statements = []
    for table, columns, constraint in LOG_TABLES:
        parts = [" ".join(x for x in (column, types[kind], extra) if x) for column, kind, extra in columns]
        if constraint:
            parts.append(constraint)
        suffix = (options or {}).get(table, "")
        statements.append(f"CREATE TABLE IF NOT EXISTS {name(table)} ({', '.join(parts)}){suffix}")
    return statements


def table_statement(types: Mapping[str, str], name: Callable[[str], str], table: str) -> str:
    """table_statement is the DDL of one table of LOG_TABLES alone: a ledger made before tokens
    (or sessions) existed gets the table at its first `token issue` (or sign-in)."""
    (statement,) = [s for s in log_table_statements(types, name) if f" {name(table)} (" in s]
    return statement
