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
import os
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from ledger.errors import Refused
from ledger.store.contract import LedgerLog
from projections.bulk import Reader, first_reports
from projections.schema import SCHEMA_VERSION, TABLES, create_schema, has_schema
from projections.writer import write_page

#: Events per transaction. Records lie in key order, so a page's events dirty pages all over the
#: file, and each commit writes every dirty page to the journal: 20,000 events a commit wrote a
#: 100,000-event catch-up's journal in 0.7 s, 2,000 in 3.2 s.
PAGE = 20_000
#: Events per transaction when views are built from scratch (`rebuild`, verify's fresh copy).
BULK_PAGE = 20_000
#: The columns that name a row of each view table, in messages about a row that differs.
_ROW_KEYS = {
    "_meta": ("key",),
    "history": ("position",),
    "laos": ("lao_code",),
    "missions": ("mission_code",),
    "records": ("lao_code", "mission_code"),
    "record_versions": ("lao_code", "mission_code", "seq_from", "valid_from"),
}
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


def open_views(path: Path, *, bulk: bool = False) -> sqlite_utils.Database:
    """open_views opens (creating if need be) the views file with its schema.

    Several processes may catch the same views up at once (each write command does): they wait
    for each other's transactions rather than fail. `bulk` is for a file being built from scratch
    that nobody else opens and that is thrown away if the build fails: no journal, no syncs.
    """
    try:
        db = sqlite_utils.Database(sqlite3.connect(path, timeout=LOCK_TIMEOUT))
        if bulk:
            db.execute("PRAGMA journal_mode=OFF")
            db.execute("PRAGMA synchronous=OFF")
        else:
            _with_retry(lambda: db.execute("PRAGMA journal_mode=WAL"))
            db.execute("PRAGMA synchronous=NORMAL")
        # The indexes of a national ledger outgrow SQLite's 2 MB default page cache; a miss on
        # every insert is what slowed a rebuild down as it grew.
        db.execute("PRAGMA cache_size=-262144")
        if not bulk and has_schema(db):
            # A reader must not queue for the write lock behind a views writer holding it for a
            # whole import (projections.follow) only to find the schema there.
            return db
        # IMMEDIATE: take the write lock first, so that a concurrent creator makes us wait
        # (a deferred transaction that reads, then writes, would fail instead).
        _with_retry(lambda: db.execute("BEGIN IMMEDIATE"))
        try:
            create_schema(db, indexes=not bulk)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
    except sqlite3.Error as e:
        raise ViewsUnavailable(f"cannot open the views file {path}: {e}") from e
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


def check_views(recorder: LedgerLog, views_path: Path) -> tuple[int, list[str]]:
    """check_views brings the views file up to date, rebuilds a fresh copy from the ledger to the
    same position in a scratch file, and compares the two; returns the position and what
    differs (nothing: the views say what the ledger says)."""
    import tempfile

    live = Projector(recorder, views_path)
    try:
        end = live.catch_up().end
        with tempfile.TemporaryDirectory(prefix="mission-ledger-verify-") as scratch:
            fresh = Projector(recorder, Path(scratch) / "fresh.views.db", page=BULK_PAGE, bulk=True)
            try:
                fresh.fill(until=end)
                fresh.finish()
                return end, live.differences(fresh)
            finally:
                fresh.close()
    finally:
        live.close()


def views_meta(db: sqlite_utils.Database, key: str) -> str | None:
    """views_meta is one of the views' settings (_meta: position, ledger_id, last_leaf, schema_version)."""
    row = db.execute("SELECT value FROM _meta WHERE key = ?", (key,)).fetchone()
    return str(row[0]) if row else None


def mark(db: sqlite_utils.Database, position: int, leaf: bytes, ledger_id: str) -> None:
    """mark writes the views' position and what they follow (the ledger, the leaf there, the
    layout), in the transaction that brought them there."""
    _set_meta(db, "position", str(position))
    _set_meta(db, "ledger_id", ledger_id)
    _set_meta(db, "schema_version", SCHEMA_VERSION)
    _set_meta(db, "last_leaf", leaf.hex())


def _set_meta(db: sqlite_utils.Database, key: str, value: str) -> None:
    db.execute("INSERT OR REPLACE INTO _meta (key, value) VALUES (?, ?)", (key, value))


class Projector:
    """Projector keeps one views file in step with one ledger."""

    def __init__(self, recorder: LedgerLog, views_path: Path, *, page: int = PAGE, bulk: bool = False) -> None:
        self.recorder = recorder
        self.views_path = views_path
        self.page = page
        self.db = open_views(views_path, bulk=bulk)

    def close(self) -> None:
        """close closes the views file."""
        self.db.close()

    def finish(self) -> None:
        """finish gives views built in bulk their secondary indexes."""
        create_schema(self.db)

    def position(self) -> int:
        """position is the number of ledger events the views hold."""
        return int(views_meta(self.db, "position") or 0)

    def check(self) -> None:
        """check refuses views that belong to another ledger or run ahead of this one."""
        ledger_id = self.recorder.get_meta("ledger_id") or ""
        theirs = views_meta(self.db, "ledger_id")
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
            if leaf is None or leaf.hex() != views_meta(self.db, "last_leaf"):
                raise ViewsMismatch(f"the views do not match the ledger at position {position}: {advice}")

    def fill(self, *, until: int | None = None) -> CatchUp:
        """fill builds these views — new, empty, opened in bulk — from the ledger up to position
        `until` (its end): the lone first reports set-wise where the ledger is a SQLite file here
        (projections.bulk), every other event as a catch-up applies it."""
        end = self.recorder.log_size() if until is None else until
        if self.position():  # not new: the set-wise step writes into empty tables only
            return self.catch_up(until=end)
        with first_reports(self.views_path, self.recorder, end) as read:
            moved = self.catch_up(until=end, read=read)
            if read is not None and moved.end < end:
                # The ledger's last events were lone first reports: the views hold them already.
                leaf = self.recorder.leaf_at(end)
                assert leaf is not None  # end is within the log (the set-wise step read it)
                self.db.execute("BEGIN IMMEDIATE")
                mark(self.db, end, leaf, self.recorder.get_meta("ledger_id") or "")
                self.db.execute("COMMIT")
        return CatchUp(0, end)

    def catch_up(
        self,
        *,
        progress: Callable[[int], None] | None = None,
        until: int | None = None,
        read: Reader | None = None,
    ) -> CatchUp:
        """catch_up applies every event after the views' position (up to position `until`, when
        given; those `read` gives, when given, instead of every event); returns how far it went."""
        self.check()
        layout = views_meta(self.db, "schema_version")
        if self.position() and layout != SCHEMA_VERSION:
            # Views of another layout (an older release) are rebuilt: they are disposable.
            return self.rebuild()
        start = self.position()
        if start and start == self.recorder.log_size():
            # Current: no write lock wanted. A reader must not queue behind a views writer
            # that holds the lock for a whole import (projections.follow) to learn nothing is new.
            return CatchUp(start, start)
        ledger_id = self.recorder.get_meta("ledger_id") or ""
        try:
            while True:
                # The write lock is taken before the position is read, so that two runners on
                # the same views never apply the same page twice.
                self.db.execute("BEGIN IMMEDIATE")
                try:
                    position = self.position()
                    limit = self.page if until is None else min(self.page, until - position)
                    page = (read or self.recorder.select_log)(position, limit) if limit > 0 else []
                    write_page(self.db, page)
                    if page:
                        position = page[-1].position
                        mark(self.db, position, page[-1].leaf_hash, ledger_id)
                except BaseException:
                    self.db.execute("ROLLBACK")
                    raise
                self.db.execute("COMMIT")
                if not page:
                    break
                if progress:
                    progress(len(page))
        except sqlite3.Error as e:
            raise ViewsUnavailable(f"cannot update the views file {self.views_path}: {e}") from e
        return CatchUp(start, position)

    def rebuild(self) -> CatchUp:
        """rebuild applies the whole ledger from event 1 to a new views file beside the old one —
        in bulk: no journal, large pages, since a failed build is simply thrown away — and puts it
        in the old one's place when it is complete. A reader sees the old views or the new ones."""
        building = self.views_path.with_name(f"{self.views_path.name}.rebuilding")
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{building}{suffix}").unlink(missing_ok=True)
        fresh = Projector(self.recorder, building, page=max(self.page, BULK_PAGE), bulk=True)
        try:
            moved = fresh.fill()
            fresh.finish()
            fresh.db.execute("PRAGMA journal_mode=WAL")
        except BaseException:
            fresh.close()
            building.unlink(missing_ok=True)
            raise
        fresh.close()
        self.db.close()
        # The old file's journal must go with it: SQLite would replay a stale WAL into the new file.
        for suffix in ("-wal", "-shm"):
            Path(f"{self.views_path}{suffix}").unlink(missing_ok=True)
        os.replace(building, self.views_path)
        self.db = open_views(self.views_path)
        return CatchUp(0, moved.end)

    def differences(self, fresh: Projector, *, most: int = 5) -> list[str]:
        """differences compares these views with `fresh` ones (rebuilt from the ledger to the
        same position): the schema (tables, views, indexes, triggers) and every row of every
        table. Each finding names the table and a row that only one side has."""
        found: list[str] = []

        def schema(db: sqlite_utils.Database) -> set[tuple[str, str, str]]:
            return {
                (str(t), str(n), str(q))
                for t, n, q in db.execute("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL")
            }

        mine, theirs = schema(self.db), schema(fresh.db)
        for kind, name, _ in sorted(mine - theirs):
            found.append(f"{kind} {name} is not what the ledger's views define")
        for kind, name, _ in sorted(theirs - mine):
            if (kind, name) not in {(k, n) for k, n, _ in mine}:
                found.append(f"{kind} {name} is missing")
        if found:
            return found[:most]
        self.db.execute("ATTACH DATABASE ? AS fresh", (str(fresh.views_path),))
        try:
            for table in TABLES:
                for first, second, what in (
                    ("main", "fresh", "a row the ledger does not give"),
                    ("fresh", "main", "a row the ledger gives is missing"),
                ):
                    sql = f'SELECT * FROM {first}."{table}" EXCEPT SELECT * FROM {second}."{table}"'
                    count = self.db.execute(f"SELECT COUNT(*) FROM ({sql})").fetchone()[0]
                    if count:
                        found.append(
                            f"table {table}: {count} rows differ; {what}: {self._describe(table, first, second, sql)}"
                        )
        finally:
            self.db.execute("DETACH DATABASE fresh")
        return found[:most]

    def _describe(self, table: str, first: str, second: str, sql: str) -> str:
        """One differing row: its key, and each value beside the other side's (the ledger's)."""
        cursor = self.db.execute(sql + " LIMIT 1")
        columns = [c[0] for c in cursor.description]
        row = dict(zip(columns, cursor.fetchone(), strict=True))
        key = [c for c in _ROW_KEYS.get(table, columns[:2]) if c in row]
        where = " AND ".join(f'"{c}" IS ?' for c in key)
        other_cursor = self.db.execute(f'SELECT * FROM {second}."{table}" WHERE {where} LIMIT 1', [row[c] for c in key])
        other = other_cursor.fetchone()
        named = ", ".join(f"{c}={row[c]!r}" for c in key)
        if other is None:
            return named
        theirs = dict(zip([c[0] for c in other_cursor.description], other, strict=True))
        mine, ledger = (row, theirs) if first == "main" else (theirs, row)
        changed = "; ".join(
            f"{c} {mine[c]!r} where the ledger gives {ledger[c]!r}" for c in columns if mine[c] != ledger.get(c)
        )
        return f"{named}: {changed}" if changed else named

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
