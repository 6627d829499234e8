"""The store contract: what every backend keeps, whatever database it runs on.

A store is eventsourcing's application recorder extended with the ledger's *log*: every stored
event gets a position (1, 2, 3, … with no gaps: the ledger order that feeds, projections and
the Merkle tree use), its RFC 9162 leaf hash and its recorded_at, written in the same
transaction as the event. The recorder, not the application, settles an event's recorded_at
against the last one (restamping a moving clock, refusing a fixed one: backdating), because only
inside the write transaction is "the last one" certain.

`LedgerLog` holds everything the backends share, written once in portable SQL (`?` parameters;
`{events}`, `{nid}` and the log's table names filled in per backend), and the log's tables
declared once (`ledger.store.tables`). Each backend is one module implementing the same ladder:
`ledger.store.sqlite`, `ledger.store.postgres`. This module names neither.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from eventsourcing.persistence import StoredEvent

from ledger.errors import BadInput, Refused
from ledger.integrity.leaf import event_leaf
from ledger.integrity.merkle import CompactRange, completed_nodes
from ledger.stamps import as_bytes, format_stamp, read_stamp, stamp_text
from ledger.store.credentials import Credentials
from ledger.store.names import NODES_TABLE
from ledger.store.tail import Tail


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


class Follower(Protocol):
    """Follower is told, as a batch appends, what it appends — `appended`: these events lie at
    positions first, first + 1, … (not committed yet) — and how the batch ends: `committed`, or
    `abandoned` (rolled back). The read side follows a large import this way instead of reading
    it back after the commit. It decides nothing of the write, and must never fail the batch."""

    def appended(self, first: int, recorded_at: datetime, stored_events: Sequence[StoredEvent]) -> None: ...
    def committed(self) -> None: ...
    def abandoned(self) -> None: ...


def logged_event(row: Sequence[Any]) -> LoggedEvent:
    """logged_event reads a row of (position, stream id, version, topic, state, recorded_at, leaf
    hash): the columns come typed from both stores; only a tampered blob needs as_bytes."""
    state, leaf = row[4], row[6]
    return LoggedEvent(
        row[0],
        str(row[1]),
        row[2],
        row[3],
        state if type(state) is bytes else as_bytes(state) or b"",
        read_stamp(row[5]),
        leaf if type(leaf) is bytes else bytes(leaf),
    )


def leaves_of(stored_events: Sequence[StoredEvent], size: int) -> list[bytes]:
    """The leaf hashes of events appended to a log of `size` (positions size + 1, …)."""
    return [
        event_leaf(position, str(e.originator_id), e.originator_version, e.topic, e.state)
        for position, e in enumerate(stored_events, start=size + 1)
    ]


#: Given the last recorded_at in the log (later than the events' own), a Restamp returns a
#: new instant (no earlier) and the same events stamped with it.
Restamp = Callable[[datetime], tuple[datetime, Sequence[StoredEvent]]]


class Cursor(Protocol):
    """Cursor is the part of a DB-API cursor the log needs, with `?` parameters and tuple rows."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None: ...
    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...
    def fetchall(self) -> list[tuple[Any, ...]]: ...
    def fetchone(self) -> tuple[Any, ...] | None: ...


class LedgerLog(Credentials, ABC):
    """LedgerLog is the ledger's log over an eventsourcing application recorder: appending
    (called by each backend inside its insert transaction) and every read of the log. A backend
    that leaves one of its abstract methods out cannot be made."""

    #: The SQL name of the events table, of its notification id column, and of the log tables.
    names: dict[str, str]
    #: The application this recorder serves, kept alive as long as the recorder is in use.
    owner: object | None = None
    #: eventsourcing's insert, which each backend extends (declared here for the type checker
    #: only: an assignment would shadow the backend's in the method order).
    insert_events: Callable[..., Sequence[int] | None]
    _nodes_ready: bool | None = None

    #: eventsourcing's datastore of the backend (its `transaction(commit=…)` gives a cursor).
    datastore: Any

    @abstractmethod
    def _adapt(self, cursor: Any) -> Cursor:
        """The backend's cursor seen through the log's Cursor protocol."""

    @contextmanager
    def _reading(self) -> Iterator[Cursor]:
        """A cursor in a read transaction."""
        with self.datastore.transaction(commit=False) as cursor:
            yield self._adapt(cursor)

    @contextmanager
    def _writing(self) -> Iterator[Cursor]:
        """A cursor in a write transaction, committed on success."""
        with self.datastore.transaction(commit=True) as cursor:
            yield self._adapt(cursor)

    @abstractmethod
    def _locked(self) -> AbstractContextManager[tuple[Any, Cursor]]:
        """A write transaction holding the store's write lock: the backend's own cursor and the
        log's; committed when the block ends normally, rolled back when it raises."""

    @abstractmethod
    def _append(
        self, raw: Any, cur: Cursor, stored_events: Sequence[StoredEvent], recorded_at: datetime | None, size: int,
        tail: Tail | None = None,
    ) -> list[int]:  # fmt: skip
        """Insert the events and append them to the log (size events long; a batch's `tail`),
        under the lock; returns their notification ids."""

    @contextmanager
    def batch(
        self, stamp: Callable[[datetime | None], datetime], *, follower: Follower | None = None
    ) -> Iterator[tuple[datetime, Callable[[Sequence[StoredEvent]], None]]]:
        """batch opens one write transaction, takes the write lock, and asks `stamp` for the
        batch's recorded_at given the last one in the log (so no other writer can record a
        later time before the batch commits); it yields that instant and an insert function
        through which many inserts append events (each with the log, like insert_events). It
        commits when the block ends normally and rolls back when it raises. A large import
        streams through it in chunks with bounded memory. A `follower` is told each insert's
        events at their positions, then whether the batch committed."""
        try:
            with self._locked() as (raw, cur):
                recorded_at = stamp(self._last_stamp(cur))
                size, _, _ = self._settle_clock(cur, [], recorded_at, None)
                # The lock is held to the end: the tail is read once (ledger.store.tail).
                self._has_nodes(cur)  # asked now, remembered: nothing in the batch waits for an answer
                tail = Tail.read(size, self._frontier(cur, size), lambda *at: self._stored_nodes(cur, *at))

                def insert(stored_events: Sequence[StoredEvent]) -> None:
                    self._check_stream_ids(stored_events)
                    if stored_events:
                        first = tail.size + 1
                        self._append_batched(raw, cur, stored_events, recorded_at, tail)
                        if follower is not None:
                            follower.appended(first, recorded_at, stored_events)

                with self._pipelined(raw):
                    yield recorded_at, insert
        except BaseException:
            if follower is not None:
                follower.abandoned()
            raise
        if follower is not None:
            follower.committed()

    def _pipelined(self, raw: Any) -> AbstractContextManager[object]:
        """A batch's statements after the tail is read need no answer: a backend that can send
        them without waiting for each (PostgreSQL's pipeline) does so here."""
        return nullcontext()

    def _append_batched(
        self, raw: Any, cur: Cursor, stored_events: Sequence[StoredEvent], recorded_at: datetime, tail: Tail
    ) -> None:
        """Append a batch's chunk at the tail it keeps (by default as a single write appends)."""
        self._append(raw, cur, stored_events, recorded_at, tail.size, tail)

    def _last_stamp(self, cur: Cursor) -> datetime | None:
        cur.execute(
            self._sql("SELECT recorded_at FROM {log} WHERE recorded_at IS NOT NULL ORDER BY position DESC LIMIT 1")
        )
        row = cur.fetchone()
        return read_stamp(row[0]) if row else None

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
        size, last = (int(row[0]), read_stamp(row[1])) if row else (0, None)
        if recorded_at is not None and last is not None and recorded_at < last:
            if restamp is None:
                raise ClockBehind(recorded_at, last)
            recorded_at, stored_events = restamp(last)
            if recorded_at < last:
                raise ClockBehind(recorded_at, last)
        return size, stored_events, recorded_at

    def _append_to_log(
        self,
        cur: Cursor,
        stored_events: Sequence[StoredEvent],
        notification_ids: Sequence[int],
        recorded_at: datetime | None,
        size: int,
        tail: Tail | None = None,
    ) -> None:
        """Give each new event its position, leaf and recorded_at, and move the frontier on."""
        stamp = format_stamp(recorded_at) if recorded_at is not None else None
        leaves = leaves_of(stored_events, size)
        rows = [
            (position, nid, stamp, leaf)
            for position, (nid, leaf) in enumerate(zip(notification_ids, leaves, strict=True), start=size + 1)
        ]
        self._insert_log_rows(cur, rows)
        self._advance(cur, size, leaves, tail)

    def _advance(self, cur: Cursor, size: int, leaves: list[bytes], tail: Tail | None) -> None:
        """Move the stored frontier past `leaves` and store the nodes they complete."""
        stored = lambda level, lo, hi: self._stored_nodes(cur, level, lo, hi)  # noqa: E731
        with_nodes = self._has_nodes(cur)
        if tail is None:
            frontier = self._frontier(cur, size).extend(leaves)
            made = completed_nodes(size, leaves, stored) if with_nodes else []
        else:
            made = tail.advance(leaves, stored, nodes=with_nodes)
            frontier = tail.frontier
        cur.execute(self._sql("DELETE FROM {frontier}"))
        cur.executemany(self._sql("INSERT INTO {frontier} (idx, hash) VALUES (?, ?)"), list(enumerate(frontier.hashes)))
        if made:
            cur.executemany(self._sql("INSERT INTO {nodes} (level, idx, hash) VALUES (?, ?, ?)"), made)

    def _insert_log_rows(self, cur: Cursor, rows: Sequence[tuple[int, int, str | None, bytes]]) -> None:
        """Insert the log's rows (position, notification id, recorded_at, leaf hash)."""
        cur.executemany(
            self._sql("INSERT INTO {log} (position, notification_id, recorded_at, leaf_hash) VALUES (?, ?, ?, ?)"), rows
        )

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

    def local_file(self) -> str | None:
        """local_file is the SQLite file of this ledger, to attach (projections.bulk); None: no such file."""
        return None

    def upgrade(self) -> None:
        """upgrade brings the tables of a ledger an earlier version made to this version's form
        (PostgreSQL: instants as timestamptz); nothing to do on SQLite."""

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
            return [logged_event(r) for r in cur.fetchall()]

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
            return [(r[0], r[1], stamp_text(r[2]), *r[3:7], as_bytes(r[7])) for r in cur.fetchall()]

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
