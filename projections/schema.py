"""The view tables of the read side: every table's columns, declared once.

Plain SQLite tables any tool can query (documented for auditors in docs/views.md):

- `record_versions` — bitemporal: one row per (record, valid period, knowledge period). The state of
  every record at (T, V) is one predicate: `recorded_from <= T AND (recorded_to IS NULL OR T <
  recorded_to) AND valid_from <= V AND (valid_to IS NULL OR V < valid_to)`; at the ledger's first N
  events: `seq_from <= N AND (seq_to IS NULL OR N < seq_to)`.
- `records` — one row per existing record as now known: the values of its latest period.
- `history` — every event, with the fields it changed as before → after.
- `laos`, `missions` — the registry and catalog as now known (their events are in `history`).

Instants are stored as UTC text `YYYY-MM-DDTHH:MM:SS.ffffffZ` and dates as `YYYY-MM-DD`, so that
text comparison is time order; Decimals as exact text.
"""

from __future__ import annotations

from typing import Any, Final

import sqlite_utils

#: The views' layout; views of another layout are rebuilt at their first catch-up (they are
#: disposable). 2: record_versions clustered by record, covering indexes for the reports.
#: 3: history no longer copies each event (the ledger holds it, at the same position); changes
#: are compact JSON; records are stored in their key's order, like record_versions.
SCHEMA_VERSION: Final = "3"

#: A record's values as the view tables keep them (the order of the tables' columns).
VALUE_TYPES: Final[dict[str, type]] = {
    "status": str,
    "base_status": str,
    "cancelled": int,
    "received_fy": int,
    "quantity": str,
    "unit": str,
    "budget": str,
    "staff": int,
    "note": str,
}
#: Every table's columns and their types, in the tables' column order.
COLUMNS: Final[dict[str, dict[str, type]]] = {
    "_meta": {"key": str, "value": str},
    "record_versions": {
        "lao_code": str,
        "mission_code": str,
        "valid_from": str,
        "valid_to": str,
        "recorded_from": str,
        "recorded_to": str,
        "seq_from": int,
        "seq_to": int,
        "version": int,
        "effective_from": str,
        "last_recorded_at": str,
        **VALUE_TYPES,
    },
    "records": {
        "lao_code": str,
        "mission_code": str,
        "version": int,
        "effective_from": str,
        "valid_from": str,
        "valid_to": str,
        "last_recorded_at": str,
        "last_position": int,
        **VALUE_TYPES,
    },
    "history": {
        "position": int,
        "recorded_at": str,
        "stream_id": str,
        "kind": str,
        "lao_code": str,
        "mission_code": str,
        "version": int,
        "actor": str,
        "source": str,
        "reason": str,
        "reported_at": str,
        "effective_from": str,
        "changes": str,
    },
    "laos": {
        "lao_code": str,
        "lao_type": str,
        "name_th": str,
        "province_code": str,
        "province_th": str,
        "district_code": str,
        "district_th": str,
        "registered_at": str,
        "updated_at": str,
    },
    "missions": {
        "mission_code": str,
        "name_th": str,
        "area": str,
        "source_agency": str,
        "unit": str,
        "applies_to": str,
        "defined_at": str,
        "updated_at": str,
    },
}
TABLES: Final = tuple(sorted(COLUMNS))
VERSION_COLUMNS: Final = tuple(COLUMNS["record_versions"])
RECORD_COLUMNS: Final = tuple(COLUMNS["records"])
HISTORY_COLUMNS: Final = tuple(COLUMNS["history"])

#: Keys, required columns and indexes, by table.
_PRIMARY_KEYS: Final[dict[str, Any]] = {
    "_meta": "key",
    "records": ("lao_code", "mission_code"),
    "history": "position",
    "laos": "lao_code",
    "missions": "mission_code",
}
_NOT_NULL: Final = {
    "record_versions": {"lao_code", "mission_code", "valid_from", "recorded_from", "seq_from", "version"}
}
#: record_versions is stored in its key's order (WITHOUT ROWID): a record's versions, an LAO's
#: records and a province's LAOs lie together on disk, so a province's query reads pages of the
#: province instead of one page per row scattered over the nation's file.
_CLUSTERED: Final = {
    "record_versions": ("lao_code", "mission_code", "seq_from", "valid_from"),
    "records": ("lao_code", "mission_code"),
}
_INDEXES: Final = {
    "history": (["lao_code", "mission_code", "position"], ["recorded_at"], ["lao_code", "kind", "recorded_at"]),
    # With lao_code: a scope's LAOs come in code order, the order of every answer (no sort).
    "laos": (["province_code", "lao_code"], ["district_code", "lao_code"]),
}
_SQL_TYPES: Final = {str: "TEXT", int: "INTEGER"}


def has_schema(db: sqlite_utils.Database) -> bool:
    """has_schema: every view table, index and view is there (a read: no lock taken)."""
    names = {str(name) for (name,) in db.execute("SELECT name FROM sqlite_master")}
    wanted = {*TABLES, "records_named"} | {
        f"idx_{table}_{'_'.join(columns)}" for table, indexes in _INDEXES.items() for columns in indexes
    }
    return wanted <= names


def create_schema(db: sqlite_utils.Database, *, indexes: bool = True) -> None:
    """create_schema creates every view table and index that does not exist yet; without
    `indexes`, the tables alone (a file built from scratch gets its secondary indexes at the end,
    each sorted once, rather than grown one random insert at a time)."""
    for table, key in _CLUSTERED.items():
        definition = ", ".join(
            f"[{c}] {_SQL_TYPES[t]}{' NOT NULL' if c in _NOT_NULL.get(table, ()) else ''}"
            for c, t in COLUMNS[table].items()
        )
        db.execute(f"CREATE TABLE IF NOT EXISTS [{table}] ({definition}, PRIMARY KEY ({', '.join(key)})) WITHOUT ROWID")
    for table in ("_meta", "history", "laos", "missions"):
        db.table(table).create(
            COLUMNS[table],
            pk=_PRIMARY_KEYS.get(table),
            not_null=_NOT_NULL.get(table),
            if_not_exists=True,
        )
        for columns in _INDEXES.get(table, ()) if indexes else ():
            db.table(table).create_index(columns, if_not_exists=True)
    db.create_view(
        "records_named",
        """SELECT r.*, l.name_th AS lao_name_th, l.lao_type, l.district_code, l.district_th,
                  l.province_code, l.province_th, m.name_th AS mission_name_th, m.area
           FROM records r LEFT JOIN laos l USING (lao_code) LEFT JOIN missions m USING (mission_code)""",
        ignore=True,
    )
