"""Event stores: the contract every backend keeps, and where a ledger lives.

A store is eventsourcing's application recorder extended with the ledger's *log*: every stored
event gets a position (1, 2, 3, … with no gaps: the ledger order that feeds, projections and
the Merkle tree use), its RFC 9162 leaf hash and its recorded_at, written in the same
transaction as the event. The recorder, not the application, refuses an event stamped earlier
than the last one (backdating), because only inside the write transaction is "the last one"
certain.

`LedgerLog` holds everything the backends share, written once in portable SQL (`?` parameters;
`{events}`, `{nid}` and the log's table names filled in per backend). Each backend is one
file implementing the same ladder: `ledger.sqlite_store`, `ledger.postgres_store`.
"""

from __future__ import annotations

import functools
import os
import re
import sqlite3
from abc import abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from eventsourcing.persistence import PersistenceError, StoredEvent

from ledger.errors import BadInput, Refused, StoreUnavailable
from ledger.integrity.log import event_leaf
from ledger.integrity.merkle import CompactRange, completed_nodes

LOG_TABLE = "ledger_log"
FRONTIER_TABLE = "ledger_frontier"
META_TABLE = "ledger_meta"
CHECKPOINT_TABLE = "ledger_checkpoints"
#: Roots of complete aligned blocks of the Merkle tree (see merkle.completed_nodes).
NODES_TABLE = "ledger_nodes"
IMMUTABLE_MESSAGE = "mission-ledger: {table} rows are never changed or removed"


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


# Remembered: a batch stamps thousands of events with one instant, and every read formats or
# parses the same few stamps again and again.
@functools.lru_cache(maxsize=4096)
def format_stamp(instant: datetime) -> str:
    """format_stamp is the stored form of a recorded_at: UTC, microseconds, sortable as text."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@functools.lru_cache(maxsize=4096)
def parse_stamp(text: str) -> datetime:
    """parse_stamp reads a stored recorded_at."""
    if len(text) != 27 or text[-1] != "Z":
        raise ValueError(f"{text!r} is not a stored recorded_at")
    # fromisoformat is several times faster than strptime, and this runs for every event read.
    return datetime.fromisoformat(text[:-1]).replace(tzinfo=UTC)


def as_bytes(value: Any) -> bytes | None:
    """as_bytes reads a stored blob; a tamperer's SQL may have left text, read as the bytes it spells."""
    if value is None or isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    return bytes(value)


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    """LoggedEvent is a stored event at its ledger position."""

    position: int
    stream_id: str
    version: int
    topic: str
    state: bytes
    recorded_at: datetime | None
    leaf_hash: bytes


#: Given the last recorded_at in the log (later than the events' own), a Restamp returns a
#: new instant (no earlier) and the same events stamped with it.
Restamp = Callable[[datetime], tuple[datetime, Sequence[StoredEvent]]]


class Cursor(Protocol):
    """Cursor is the part of a DB-API cursor the log needs, with `?` parameters and tuple rows."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None: ...
    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...
    def fetchall(self) -> list[tuple[Any, ...]]: ...
    def fetchone(self) -> tuple[Any, ...] | None: ...


class LedgerLog:
    """LedgerLog is the ledger's log over an eventsourcing application recorder: appending
    (called by each backend inside its insert transaction) and every read of the log."""

    #: The SQL name of the events table, of its notification id column, and of the log tables.
    names: dict[str, str]
    #: The application this recorder serves, kept alive as long as the recorder is in use.
    owner: object | None = None
    #: eventsourcing's insert, which each backend extends (declared here for the type checker
    #: only: an assignment would shadow the backend's in the method order).
    insert_events: Callable[..., Sequence[int] | None]
    _nodes_ready: bool | None = None

    @abstractmethod
    def _reading(self) -> AbstractContextManager[Cursor]:
        """A cursor in a read transaction."""

    @abstractmethod
    def _writing(self) -> AbstractContextManager[Cursor]:
        """A cursor in a write transaction, committed on success."""

    @abstractmethod
    def _locked(self) -> AbstractContextManager[tuple[Any, Cursor]]:
        """A write transaction holding the store's write lock: the backend's own cursor and the
        log's; committed when the block ends normally, rolled back when it raises."""

    @abstractmethod
    def _append(
        self, raw: Any, cur: Cursor, stored_events: Sequence[StoredEvent], recorded_at: datetime | None, size: int
    ) -> list[int]:
        """Insert the events and append them to the log (size events long), under the lock;
        returns their notification ids."""

    @contextmanager
    def batch(
        self, stamp: Callable[[datetime | None], datetime]
    ) -> Iterator[tuple[datetime, Callable[[Sequence[StoredEvent]], Sequence[int]]]]:
        """batch opens one write transaction, takes the write lock, and asks `stamp` for the
        batch's recorded_at given the last one in the log (so no other writer can record a
        later time before the batch commits); it yields that instant and an insert function
        through which many inserts append events (each with the log, like insert_events). It
        commits when the block ends normally and rolls back when it raises. A large import
        streams through it in chunks with bounded memory."""
        with self._locked() as (raw, cur):
            recorded_at = stamp(self._last_stamp(cur))

            def insert(stored_events: Sequence[StoredEvent]) -> Sequence[int]:
                self._check_stream_ids(stored_events)
                if not stored_events:
                    return []
                size, _, _ = self._settle_clock(cur, stored_events, recorded_at, None)
                return self._append(raw, cur, stored_events, recorded_at, size)

            yield recorded_at, insert

    def _last_stamp(self, cur: Cursor) -> datetime | None:
        cur.execute(
            self._sql("SELECT recorded_at FROM {log} WHERE recorded_at IS NOT NULL ORDER BY position DESC LIMIT 1")
        )
        row = cur.fetchone()
        return parse_stamp(row[0]) if row else None

    def _sql(self, text: str) -> str:
        return text.format(**self.names)

    # --- appending, inside the backend's insert transaction -------------------------------------

    def _settle_clock(
        self,
        cur: Cursor,
        stored_events: Sequence[StoredEvent],
        recorded_at: datetime | None,
        restamp: Restamp | None,
    ) -> tuple[int, Sequence[StoredEvent], datetime | None]:
        """Read the log's tail, under the write lock; an event stamped earlier than the last
        one is stamped again by `restamp` (a moving clock: the ledger's time is then the
        later one) or refused with ClockBehind (a fixed clock: backdating). Returns the log's
        size and the events and instant to append."""
        cur.execute(self._sql("SELECT position, recorded_at FROM {log} ORDER BY position DESC LIMIT 1"))
        row = cur.fetchone()
        size, last = (int(row[0]), row[1]) if row else (0, None)
        if recorded_at is not None and last is not None and recorded_at < parse_stamp(last):
            if restamp is None:
                raise ClockBehind(recorded_at, parse_stamp(last))
            recorded_at, stored_events = restamp(parse_stamp(last))
            if recorded_at < parse_stamp(last):
                raise ClockBehind(recorded_at, parse_stamp(last))
        return size, stored_events, recorded_at

    def _append_to_log(
        self,
        cur: Cursor,
        stored_events: Sequence[StoredEvent],
        notification_ids: Sequence[int],
        recorded_at: datetime | None,
        size: int,
    ) -> None:
        """Give each new event its position, leaf and recorded_at, and move the frontier on."""
        stamp = format_stamp(recorded_at) if recorded_at is not None else None
        rows = [
            (position, nid, stamp, event_leaf(position, str(e.originator_id), e.originator_version, e.topic, e.state))
            for position, (e, nid) in enumerate(zip(stored_events, notification_ids, strict=True), start=size + 1)
        ]
        leaves = [row[3] for row in rows]
        frontier = self._frontier(cur, size).extend(leaves)
        cur.executemany(
            self._sql("INSERT INTO {log} (position, notification_id, recorded_at, leaf_hash) VALUES (?, ?, ?, ?)"), rows
        )
        cur.execute(self._sql("DELETE FROM {frontier}"))
        cur.executemany(self._sql("INSERT INTO {frontier} (idx, hash) VALUES (?, ?)"), list(enumerate(frontier.hashes)))
        if self._has_nodes(cur):
            nodes = completed_nodes(size, leaves, lambda level, lo, hi: self._stored_nodes(cur, level, lo, hi))
            if nodes:
                cur.executemany(self._sql("INSERT INTO {nodes} (level, idx, hash) VALUES (?, ?, ?)"), nodes)

    def _has_nodes(self, cur: Cursor) -> bool:
        # A ledger made before the nodes table existed appends without it (proofs then read
        # leaves); `init` on it adds the table.
        if self._nodes_ready is None:
            self._nodes_ready = self._table_exists(cur, NODES_TABLE)
        return self._nodes_ready

    @abstractmethod
    def _table_exists(self, cur: Cursor, name: str) -> bool:
        """Whether the ledger's table `name` exists."""

    def _stored_nodes(self, cur: Cursor, level: int, lo: int, hi: int) -> list[bytes] | None:
        if hi <= lo:
            return []
        if level == 0:
            sql = "SELECT leaf_hash FROM {log} WHERE position > ? AND position <= ? ORDER BY position"
            cur.execute(self._sql(sql), (lo, hi))
        else:
            cur.execute(
                self._sql("SELECT hash FROM {nodes} WHERE level = ? AND idx >= ? AND idx < ? ORDER BY idx"),
                (level, lo, hi),
            )
        hashes = [bytes(r[0]) for r in cur.fetchall()]
        return hashes if len(hashes) == hi - lo else None

    def nodes(self, level: int, lo: int, hi: int) -> list[bytes] | None:
        """nodes returns the stored hashes at `level` (0: leaves) for indexes [lo, hi), or None
        when any of them is not stored."""
        with self._reading() as cur:
            if level and not self._table_exists(cur, NODES_TABLE):
                return None
            return self._stored_nodes(cur, level, lo, hi)

    def all_nodes(self) -> dict[tuple[int, int], bytes]:
        """all_nodes is every stored interior node, by (level, index)."""
        with self._reading() as cur:
            if not self._table_exists(cur, NODES_TABLE):
                return {}
            cur.execute(self._sql("SELECT level, idx, hash FROM {nodes}"))
            return {(int(r[0]), int(r[1])): bytes(r[2]) for r in cur.fetchall()}

    @staticmethod
    def _check_stream_ids(stored_events: Sequence[StoredEvent]) -> None:
        # Checked before anything is written: the canonical bytes put one id on one line.
        for event in stored_events:
            if "\n" in str(event.originator_id) or "\n" in event.topic:
                raise BadInput(f"stream id {event.originator_id!r} or type {event.topic!r} has a newline")

    def _frontier(self, cur: Cursor, size: int) -> CompactRange:
        cur.execute(self._sql("SELECT hash FROM {frontier} ORDER BY idx"))
        return CompactRange(size, tuple(bytes(r[0]) for r in cur.fetchall()))

    # --- reading the log -------------------------------------------------------------------------

    def tree(self) -> CompactRange:
        """tree is the Merkle frontier of the whole log, as stored."""
        with self._reading() as cur:
            cur.execute(self._sql("SELECT MAX(position) FROM {log}"))
            row = cur.fetchone()
            return self._frontier(cur, int(row[0] or 0) if row else 0)

    def log_size(self) -> int:
        """log_size is the number of events in the ledger (its last position)."""
        with self._reading() as cur:
            cur.execute(self._sql("SELECT MAX(position) FROM {log}"))
            row = cur.fetchone()
            return int(row[0] or 0) if row else 0

    def leaf_at(self, position: int) -> bytes | None:
        """leaf_at is the stored leaf hash at a position, or None beyond the log."""
        with self._reading() as cur:
            cur.execute(self._sql("SELECT leaf_hash FROM {log} WHERE position = ?"), (position,))
            row = cur.fetchone()
            return bytes(row[0]) if row else None

    def last_recorded_at(self) -> datetime | None:
        """last_recorded_at is the ledger clock's high-water mark: the newest recorded_at."""
        with self._reading() as cur:
            return self._last_stamp(cur)

    def stored_positions(self, events: Sequence[StoredEvent]) -> tuple[int, ...] | None:
        """stored_positions tells whether exactly these events (stream, version and bytes) are in
        the ledger: their positions when all are, None when any is missing or differs. A writer
        whose outcome was lost (an error after the commit) asks it to learn what happened."""
        positions = []
        with self._reading() as cur:
            for e in events:
                cur.execute(
                    self._sql(
                        "SELECT l.position, e.state FROM {events} e JOIN {log} l ON l.notification_id = e.{nid} "
                        "WHERE e.originator_id = ? AND e.originator_version = ?"
                    ),
                    (str(e.originator_id), e.originator_version),
                )
                row = cur.fetchone()
                if row is None or as_bytes(row[1]) != e.state:
                    return None
                positions.append(int(row[0]))
        return tuple(sorted(positions))

    def positions_of(self, notification_ids: Sequence[int]) -> tuple[int, ...]:
        """positions_of maps the store's notification ids to ledger positions, in order."""
        if not notification_ids:
            return ()
        with self._reading() as cur:
            marks = ", ".join("?" * len(notification_ids))
            cur.execute(
                self._sql(f"SELECT position FROM {{log}} WHERE notification_id IN ({marks}) ORDER BY position"),
                list(notification_ids),
            )
            return tuple(int(r[0]) for r in cur.fetchall())

    def select_log(self, after: int = 0, limit: int = 1000) -> list[LoggedEvent]:
        """select_log returns up to `limit` events after position `after`, in ledger order."""
        with self._reading() as cur:
            cur.execute(
                self._sql(
                    "SELECT l.position, e.originator_id, e.originator_version, e.topic, e.state, l.recorded_at, "
                    "l.leaf_hash FROM {log} l JOIN {events} e ON e.{nid} = l.notification_id "
                    "WHERE l.position > ? ORDER BY l.position LIMIT ?"
                ),
                (after, limit),
            )
            # The columns come typed from both stores; only a tampered blob needs as_bytes.
            return [
                LoggedEvent(
                    r[0],
                    str(r[1]),
                    r[2],
                    r[3],
                    r[4] if type(r[4]) is bytes else as_bytes(r[4]) or b"",
                    parse_stamp(r[5]) if r[5] else None,
                    r[6] if type(r[6]) is bytes else bytes(r[6]),
                )
                for r in cur.fetchall()
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
        with self._reading() as cur:
            cur.execute(
                self._sql("SELECT leaf_hash FROM {log} WHERE position > ? AND position <= ? ORDER BY position"),
                (start, end),
            )
            return [bytes(r[0]) for r in cur.fetchall()]

    def audit_rows(self, after: int = 0, limit: int = 5000) -> list[tuple[Any, ...]]:
        """audit_rows returns the log with whatever event each entry points to (or NULLs):
        position, notification_id, recorded_at, leaf_hash, stream id, version, topic, state."""
        with self._reading() as cur:
            cur.execute(
                self._sql(
                    "SELECT l.position, l.notification_id, l.recorded_at, l.leaf_hash, e.originator_id, "
                    "e.originator_version, e.topic, e.state FROM {log} l LEFT JOIN {events} e "
                    "ON e.{nid} = l.notification_id WHERE l.position > ? ORDER BY l.position LIMIT ?"
                ),
                (after, limit),
            )
            return [(*r[:7], as_bytes(r[7])) for r in cur.fetchall()]

    def unlogged_events(self) -> list[tuple[int, str, int]]:
        """unlogged_events lists stored events that have no place in the log (id, stream, version)."""
        with self._reading() as cur:
            cur.execute(
                self._sql(
                    "SELECT e.{nid}, e.originator_id, e.originator_version FROM {events} e LEFT JOIN {log} l "
                    "ON l.notification_id = e.{nid} WHERE l.position IS NULL ORDER BY e.{nid}"
                )
            )
            return [(int(r[0]), str(r[1]), int(r[2])) for r in cur.fetchall()]

    def select_streams(self, stream_ids: Sequence[str], chunk: int = 500) -> dict[str, list[tuple[int, bytes]]]:
        """select_streams reads many streams at once: {stream id: [(version, stored bytes), …]},
        versions ascending; streams with no events are absent."""
        out: dict[str, list[tuple[int, bytes]]] = {}
        with self._reading() as cur:
            for start in range(0, len(stream_ids), chunk):
                part = list(stream_ids[start : start + chunk])
                marks = ", ".join("?" * len(part))
                cur.execute(
                    self._sql(
                        f"SELECT originator_id, originator_version, state FROM {{events}} "
                        f"WHERE originator_id IN ({marks}) ORDER BY originator_id, originator_version"
                    ),
                    part,
                )
                for sid, version, state in cur.fetchall():
                    out.setdefault(str(sid), []).append((int(version), as_bytes(state) or b""))
        return out

    def stream_ids(self, prefix: str) -> list[str]:
        """stream_ids lists the streams whose id starts with `prefix` (e.g. every record of an LAO)."""
        with self._reading() as cur:
            cur.execute(
                self._sql(
                    "SELECT DISTINCT originator_id FROM {events} WHERE originator_id LIKE ? ORDER BY originator_id"
                ),
                (prefix.replace("%", "") + "%",),
            )
            return [str(r[0]) for r in cur.fetchall()]

    def record_checkpoint(self, size: int, root: bytes, note: str, signed_at: datetime) -> None:
        """record_checkpoint appends a signed checkpoint to the ledger's checkpoint history."""
        with self._writing() as cur:
            cur.execute(
                self._sql("INSERT INTO {checkpoints} (size, root, note, signed_at) VALUES (?, ?, ?, ?)"),
                (size, root, note, format_stamp(signed_at)),
            )

    def checkpoints(self) -> list[tuple[int, bytes, str]]:
        """checkpoints lists the recorded checkpoints (size, root, note), oldest first."""
        with self._reading() as cur:
            cur.execute(self._sql("SELECT size, root, note FROM {checkpoints} ORDER BY id"))
            return [(int(r[0]), bytes(r[1]), r[2]) for r in cur.fetchall()]

    def get_meta(self, key: str) -> str | None:
        """get_meta reads one ledger setting (origin, ledger id, …)."""
        with self._reading() as cur:
            cur.execute(self._sql("SELECT value FROM {meta} WHERE key = ?"), (key,))
            row = cur.fetchone()
            return str(row[0]) if row else None

    def set_meta_once(self, key: str, value: str) -> str:
        """set_meta_once stores a setting unless it is already set; returns the stored value."""
        with self._writing() as cur:
            cur.execute(
                self._sql("INSERT INTO {meta} (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING"), (key, value)
            )
            cur.execute(self._sql("SELECT value FROM {meta} WHERE key = ?"), (key,))
            row = cur.fetchone()
            assert row is not None  # just written or already there
            return str(row[0])


# --- where a ledger lives --------------------------------------------------------------------------


#: The first bytes of every SQLite 3 database file.
SQLITE_HEADER = b"SQLite format 3\x00"
#: PostgreSQL settings a URL may carry, with eventsourcing's names and how each is checked.
_PG_SETTINGS: dict[str, tuple[str, str]] = {
    "schema": ("POSTGRES_SCHEMA", "identifier"),
    "pool_size": ("POSTGRES_POOL_SIZE", "count"),
    "max_overflow": ("POSTGRES_MAX_OVERFLOW", "count"),
    "connect_timeout": ("POSTGRES_CONNECT_TIMEOUT", "seconds"),
    "lock_timeout": ("POSTGRES_LOCK_TIMEOUT", "seconds"),
    "idle_in_transaction_timeout": ("POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT", "seconds"),
}
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


@dataclass(frozen=True)
class StoreLocation:
    """StoreLocation says where a ledger lives: a SQLite file path or a postgresql:// URL.

    A URL may carry eventsourcing's PostgreSQL settings as query parameters: `schema`,
    `pool_size`, `max_overflow`, `connect_timeout`, `lock_timeout`, `idle_in_transaction_timeout`.
    Anything else — an empty name, another database's URL — is refused when the location is made.
    """

    url: str

    def __post_init__(self) -> None:
        if not self.url.strip():
            raise BadInput("--db is empty: give the ledger's SQLite file or a postgresql:// URL")
        scheme, sep, _ = self.url.partition("://")
        if sep and not self.is_postgres and re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", scheme):
            raise BadInput(f"--db {scheme}://…: a ledger is a SQLite file or a postgresql:// URL, not {scheme}")

    @property
    def is_postgres(self) -> bool:
        """is_postgres is true for a postgresql:// URL."""
        return self.url.startswith(("postgresql://", "postgres://"))

    @property
    def path(self) -> Path:
        """path is the SQLite file of the ledger."""
        return Path(self.url)

    @property
    def read_only(self) -> bool:
        """read_only is true for a SQLite ledger this process may read but not write (an
        auditor's copy): its file, or the folder SQLite keeps its journal files in, is not
        writable."""
        if self.is_postgres or not self.path.is_file():
            return False
        return not (os.access(self.path, os.W_OK) and os.access(self.path.parent, os.W_OK))

    def sqlite_uri(self, *, read_only: bool = False) -> str:
        """sqlite_uri is the URI SQLite opens the ledger by. Read-only where asked or where the
        ledger is read-only; `immutable` besides where SQLite could not keep the shared-memory
        file a WAL reader needs (a read-only folder without one): nobody can be writing there."""
        uri = f"file:{quote(str(self.path.resolve()))}"
        if not (read_only or self.read_only):
            return uri
        folder_writable = os.access(self.path.parent, os.W_OK)
        has_wal = Path(f"{self.path}-shm").exists() and Path(f"{self.path}-wal").exists()
        return uri + ("?mode=ro" if folder_writable or has_wal else "?mode=ro&immutable=1")

    def views_path(self) -> Path:
        """views_path is the default views file: beside a SQLite ledger, NAME.views.db; for a
        PostgreSQL ledger, in the current folder, named after the database, schema and ledger
        id, so that two ledgers never share one views file."""
        if self.is_postgres:
            from ledger.postgres_store import postgres_ledger_id

            settings = self.postgres_settings()
            name = "-".join(
                part
                for part in (
                    settings["POSTGRES_DBNAME"],
                    settings.get("POSTGRES_SCHEMA"),
                    (postgres_ledger_id(self) or "")[:8],
                )
                if part
            )
            return Path(f"{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}.views.db")
        p = self.path
        return p.with_name(f"{p.stem}.views.db")

    def describe(self) -> str:
        """describe names the store for messages, never with a password."""
        if not self.is_postgres:
            return str(self.path)
        parts = urlsplit(self.url)
        host = parts.hostname or "localhost"
        user = f"{unquote(parts.username)}@" if parts.username else ""
        _, _, port = parts.netloc.rpartition("@")[2].partition(":")
        port = f":{port}" if port else ""
        schema = dict(parse_qsl(parts.query)).get("schema")
        return f"postgresql://{user}{host}{port}{parts.path}" + (f" (schema {schema})" if schema else "")

    def exists(self) -> bool:
        """exists is true when a ledger was initialised here; false where one can be made. A
        folder, a file that is not SQLite, a views file, a server that refuses (with its
        reason) is one clear error."""
        if self.is_postgres:
            from ledger.postgres_store import postgres_ledger_exists

            return postgres_ledger_exists(self)
        if self.path.is_dir():
            raise BadInput(f"--db {self.path} is a folder; give the ledger's file (e.g. {self.path / 'ledger.db'})")
        if not self.path.is_file():
            return False
        try:
            with self.path.open("rb") as f:
                header = f.read(len(SQLITE_HEADER))
        except OSError as e:
            raise StoreUnavailable(f"cannot read {self.path}: {e.strerror}") from e
        if not header:
            return False  # an empty file: SQLite makes a database of it
        if header != SQLITE_HEADER:
            raise BadInput(f"{self.path} is not a mission-ledger file (not a SQLite database); give the ledger's file")
        try:
            con = sqlite3.connect(self.sqlite_uri(read_only=True), uri=True)
            try:
                tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            finally:
                con.close()
        except sqlite3.DatabaseError as e:
            raise StoreUnavailable(f"{self.path} is not a mission-ledger file: {e}") from e
        if META_TABLE not in tables and "_meta" in tables and "record_versions" in tables:
            raise BadInput(
                f"{self.path} is a views file, not a ledger: give the ledger with --db (and this with --views)"
            )
        if META_TABLE not in tables and tables:
            raise BadInput(f"{self.path} is a SQLite database but not a mission-ledger file")
        return META_TABLE in tables

    def postgres_settings(self) -> dict[str, str]:
        """postgres_settings maps the URL onto eventsourcing's POSTGRES_* settings; the password
        comes from the URL, else PGPASSWORD, else (left empty) libpq's ~/.pgpass."""
        parts = urlsplit(self.url)
        if not parts.path.strip("/"):
            raise BadInput(f"{self.describe()}: the URL names no database (postgresql://user@host:port/dbname)")
        try:
            port = parts.port
        except ValueError:
            raise BadInput(f"{self.describe()}: the port is not a number") from None
        settings = {
            "POSTGRES_DBNAME": unquote(parts.path.lstrip("/")),
            "POSTGRES_HOST": parts.hostname or "localhost",
            "POSTGRES_PORT": str(port or 5432),
            "POSTGRES_USER": unquote(parts.username or os.environ.get("PGUSER", "postgres")),
            "POSTGRES_PASSWORD": unquote(parts.password or os.environ.get("PGPASSWORD", "")),
            "POSTGRES_CONNECT_TIMEOUT": "5",
            "POSTGRES_LOCK_TIMEOUT": "30",
            "POSTGRES_POOL_SIZE": "2",
            "POSTGRES_MAX_OVERFLOW": "4",
        }
        for key, value in parse_qsl(parts.query, keep_blank_values=True):
            if key not in _PG_SETTINGS:
                raise BadInput(f"{self.describe()}: unknown setting {key!r} (known: {', '.join(_PG_SETTINGS)})")
            name, kind = _PG_SETTINGS[key]
            if kind == "identifier" and not _IDENTIFIER.fullmatch(value):
                raise BadInput(f"{self.describe()}: {key}={value!r} is not a schema name (letters, digits, _)")
            if kind == "count" and not (value.isascii() and value.isdigit() and int(value) <= 1000):
                raise BadInput(f"{self.describe()}: {key}={value!r} is not a whole number (0–1000)")
            if kind == "seconds" and not re.fullmatch(r"\d{1,6}(\.\d+)?", value):
                raise BadInput(f"{self.describe()}: {key}={value!r} is not a number of seconds")
            settings[name] = value
        return settings


def store_environment(location: StoreLocation) -> dict[str, str]:
    """store_environment is the eventsourcing environment that opens `location`."""
    if location.is_postgres:
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "ORIGINATOR_ID_TYPE": "text",
            "APPLICATION_RECORDER_TOPIC": "ledger.postgres_store:PostgresLedgerRecorder",
            **location.postgres_settings(),
        }
    parent = location.path.parent
    if not parent.exists():
        raise StoreUnavailable(f"cannot open ledger {location.path}: folder {parent} does not exist")
    return {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": location.sqlite_uri() if location.read_only else os.fspath(location.path),
        "SQLITE_LOCK_TIMEOUT": "30",
        "ORIGINATOR_ID_TYPE": "text",
        "APPLICATION_RECORDER_TOPIC": "ledger.sqlite_store:SQLiteLedgerRecorder",
    }


def translate_store_error(error: Exception, location: StoreLocation) -> StoreUnavailable:
    """translate_store_error turns a storage failure into one line naming the store (no password)."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    password = urlsplit(location.url).password if location.is_postgres else None
    if password:
        text = text.replace(password, "***")
    return StoreUnavailable(f"ledger {location.describe()}: {text}")


__all__ = [
    "ClockBehind",
    "Cursor",
    "LedgerLog",
    "LoggedEvent",
    "PersistenceError",
    "StoreLocation",
    "format_stamp",
    "parse_stamp",
    "store_environment",
]
