"""A rebuild's first reports, set-wise: most records of a national ledger were only ever reported
once, and their rows need no fold — SQLite builds them from the ledger's stored JSON itself.

`first_reports` opens the ledger's file read-only with the views being built attached (a rebuild, or
verify's fresh copy: new files nobody else reads), picks every record whose one event up to the build's end is its
first report, and writes its `history`, `record_versions` and `records` rows in three INSERT …
SELECTs, in each table's key order. What it writes is what `PageWriter._first_report` writes — the
same row from the same event (tests/integration/test_bulk_views.py holds the two ways to one digest).
Every other event — registry and catalog, corrections, changes, a record voided and reported again,
an event with a `reported_at` (stored with an offset the SQL would have to re-format), a value of a
type or text SQLite's JSON could encode differently (control characters) — goes through the
ordinary catch-up, which reads them through the same connection. A ledger that is not a SQLite file
here (PostgreSQL) is built event by event, as before.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

from ledger.store.contract import LedgerLog, LoggedEvent, logged_event
from projections.schema import HISTORY_COLUMNS, RECORD_COLUMNS, VERSION_COLUMNS

#: Reads up to `limit` events after a position (the events the set-wise step left).
Reader = Callable[[int, int], list[LoggedEvent]]

_FIELDS: Final = ("status", "received_fy", "quantity", "unit", "budget", "staff", "note")
#: The stored types of a first report the SQL takes (anything else: the Python path).
_TYPES: Final = {
    "lao_code": ("text",),
    "mission_code": ("text",),
    "actor": ("text",),
    "source": ("text", "null"),
    "reason": ("text", "null"),
    "effective_from": ("text",),
    "status": ("text",),
    "received_fy": ("integer", "null"),
    "quantity": ("text", "null"),
    "unit": ("text", "null"),
    "budget": ("text", "null"),
    "staff": ("integer", "null"),
    "note": ("text", "null"),
}


def _pick(names: dict[str, str]) -> str:
    """The SELECT of every record's lone first report up to :end, with its fields."""
    fields = ",\n".join(
        f"json_extract(j, '$.{'values.' if f in _FIELDS else ''}{f}') AS {f}" for f in (*_TYPES, "reported_at")
    )
    return f"""
        SELECT position, stamp, stream_id, {fields}, instr(j, char(92)) AS escaped
        FROM (
            SELECT l.position AS position, l.recorded_at AS stamp, e.originator_id AS stream_id,
                   CAST(e.state AS TEXT) AS j
            FROM main.{names["log"]} l JOIN main.{names["events"]} e ON e.{names["nid"]} = l.notification_id
            WHERE l.position <= :end AND e.topic = 'recorded' AND e.originator_version = 1
              AND l.recorded_at IS NOT NULL
              AND NOT EXISTS (
                  SELECT 1 FROM main.{names["events"]} x
                  JOIN main.{names["log"]} xl ON xl.notification_id = x.{names["nid"]}
                  WHERE x.originator_id = e.originator_id AND x.originator_version = 2 AND xl.position <= :end
              )
        )
        ORDER BY position"""


def _unfit() -> str:
    """What leaves a picked first report to the Python path (checked on the stored columns: in
    the SELECT, each mention of a field would extract it from the JSON again). A backslash in
    the stored JSON is an escaped character, which SQLite's JSON may write otherwise than
    msgspec does in `changes`."""
    typed = " AND ".join(f"typeof({f}) IN ({', '.join(repr(t) for t in types)})" for f, types in _TYPES.items())
    return f"escaped > 0 OR reported_at IS NOT NULL OR NOT ({typed})"


def _changes() -> str:
    """The `changes` JSON of a first report: each field given, before → after, then its start."""
    given = ", ".join(f"'{f}', CASE WHEN {f} IS NULL THEN NULL ELSE json_array(NULL, {f}) END" for f in _FIELDS)
    # json_patch drops the members whose value is null, as the Python path leaves them out.
    return f"json_patch('{{}}', json_object({given}, 'effective_from', json_array(NULL, effective_from)))"


#: Each view table's columns from a picked first report (as PageWriter._first_report fills them).
_ROWS: Final = {
    "record_versions": {
        **{c: c for c in VERSION_COLUMNS},
        "valid_from": "effective_from",
        "valid_to": "NULL",
        "recorded_from": "stamp",
        "recorded_to": "NULL",
        "seq_from": "position",
        "seq_to": "NULL",
        "version": "1",
        "last_recorded_at": "stamp",
        "base_status": "status",
        "cancelled": "0",
    },
    "records": {
        **{c: c for c in RECORD_COLUMNS},
        "last_position": "seq_from",
    },
    "history": {
        **{c: c for c in HISTORY_COLUMNS},
        "recorded_at": "stamp",
        "kind": "'recorded'",
        "version": "1",
        "reported_at": "NULL",
        "changes": _changes(),
    },
}
#: Where each table's rows come from, in its key's order. records: from record_versions, which
#: holds exactly these records' one version each so far, already in key order (no second sort).
_FROM: Final = {
    "history": "temp.firsts ORDER BY position",
    "record_versions": "temp.firsts ORDER BY lao_code, mission_code",
    "records": "views.record_versions",
}


@contextmanager
def first_reports(views: Path, recorder: LedgerLog, end: int) -> Iterator[Reader | None]:
    """first_reports writes the rows of every lone first report up to position `end` into the
    new views file `views` (nobody else's: no transaction of its own connection may be open), and
    gives the reader of the ledger's other events (None, and nothing written, when the ledger is
    not a SQLite file on this machine)."""
    path = recorder.local_file()
    if path is None or not end:
        yield None
        return
    names = recorder.names
    # The ledger read-only, as the main database of a connection of its own (a URI already, for
    # a ledger opened read-only); the views attached to it.
    ledger = sqlite3.connect(path if path.startswith("file:") else f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    try:
        ledger.execute("ATTACH DATABASE ? AS views", (str(views),))
        # A file built from scratch, thrown away if the build fails (projections.runner's bulk).
        ledger.execute("PRAGMA views.journal_mode=OFF")
        ledger.execute("PRAGMA views.synchronous=OFF")
        # A schema's page cache is its own: the ledger's stream index is probed once per first
        # report, and at SQLite's default 2 MB every probe of a national ledger is a read.
        for schema in ("main", "views", "temp"):
            ledger.execute(f"PRAGMA {schema}.cache_size=-262144")
        with ledger:  # one transaction: committed, or rolled back on any error
            declared = ", ".join(f"{c} {'INTEGER PRIMARY KEY' if c == 'position' else ''}" for c in _COLUMNS)
            ledger.execute(f"CREATE TEMP TABLE firsts ({declared})")
            ledger.execute(f"INSERT INTO temp.firsts {_pick(names)}", {"end": end})
            ledger.execute(f"DELETE FROM temp.firsts WHERE {_unfit()}")
            for table, row in _ROWS.items():
                ledger.execute(
                    f"INSERT INTO views.{table} ({', '.join(row)}) SELECT {', '.join(row.values())} FROM {_FROM[table]}"
                )
        rest = (
            "SELECT l.position, e.originator_id, e.originator_version, e.topic, e.state, l.recorded_at, l.leaf_hash "
            f"FROM main.{names['log']} l JOIN main.{names['events']} e ON e.{names['nid']} = l.notification_id "
            "WHERE l.position > ? AND l.position <= ? "
            "AND NOT EXISTS (SELECT 1 FROM temp.firsts f WHERE f.position = l.position) "
            "ORDER BY l.position LIMIT ?"
        )

        def read(after: int, limit: int) -> list[LoggedEvent]:
            return [logged_event(r) for r in ledger.execute(rest, (after, end, limit)).fetchall()]

        yield read
    finally:
        ledger.close()  # temp.firsts goes with it


_COLUMNS: Final = ("position", "stamp", "stream_id", *_TYPES, "reported_at", "escaped")
