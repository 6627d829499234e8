"""The view tables of the read side, and how one ledger event changes them.

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

import json
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any, Final

import sqlite_utils
from msgspec import UNSET

from ledger.events import (
    Corrected,
    LaoAmended,
    LaoRegistered,
    LedgerEvent,
    MissionAmended,
    MissionDefined,
    Recorded,
    RecordEvent,
    Voided,
    encode_event,
    kind_of,
)
from ledger.registry import Lao, Mission, fold_lao, fold_mission
from ledger.stores import LoggedEvent, format_stamp
from ledger.timeline import Period, Timeline, Values, apply, changed_fields

SCHEMA_VERSION: Final = "1"

VALUE_COLUMNS: Final = ("status", "received_fy", "quantity", "unit", "budget", "staff", "note")


def create_schema(db: sqlite_utils.Database) -> None:
    """create_schema creates every view table and index that does not exist yet."""
    db.table("_meta").create({"key": str, "value": str}, pk="key", if_not_exists=True)
    value_columns: dict[str, Any] = {
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
    db.table("record_versions").create(
        {
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
            **value_columns,
        },
        not_null={"lao_code", "mission_code", "valid_from", "recorded_from", "seq_from", "version"},
        if_not_exists=True,
    )
    db.table("record_versions").create_index(["lao_code", "mission_code", "seq_to"], if_not_exists=True)
    db.table("record_versions").create_index(["recorded_from", "recorded_to"], if_not_exists=True)
    db.table("records").create(
        {
            "lao_code": str,
            "mission_code": str,
            "version": int,
            "effective_from": str,
            "valid_from": str,
            "valid_to": str,
            "last_recorded_at": str,
            "last_position": int,
            **value_columns,
        },
        pk=("lao_code", "mission_code"),
        if_not_exists=True,
    )
    db.table("history").create(
        {
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
            "event": str,
        },
        pk="position",
        if_not_exists=True,
    )
    db.table("history").create_index(["lao_code", "mission_code", "position"], if_not_exists=True)
    db.table("history").create_index(["recorded_at"], if_not_exists=True)
    db.table("laos").create(
        {
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
        pk="lao_code",
        if_not_exists=True,
    )
    db.table("laos").create_index(["province_code"], if_not_exists=True)
    db.table("laos").create_index(["district_code"], if_not_exists=True)
    db.table("missions").create(
        {
            "mission_code": str,
            "name_th": str,
            "area": str,
            "source_agency": str,
            "unit": str,
            "applies_to": str,
            "defined_at": str,
            "updated_at": str,
        },
        pk="mission_code",
        if_not_exists=True,
    )
    db.create_view(
        "records_named",
        """SELECT r.*, l.name_th AS lao_name_th, l.lao_type, l.district_code, l.district_th,
                  l.province_code, l.province_th, m.name_th AS mission_name_th, m.area
           FROM records r LEFT JOIN laos l USING (lao_code) LEFT JOIN missions m USING (mission_code)""",
        ignore=True,
    )


def _text(value: object) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _period_row(period: Period) -> dict[str, Any]:
    v = period.values
    return {
        "valid_from": period.valid_from.isoformat(),
        "valid_to": period.valid_to.isoformat() if period.valid_to else None,
        "status": v.shown_status,
        "base_status": v.status,
        "cancelled": int(v.cancelled),
        **{n: _text(getattr(v, n)) for n in VALUE_COLUMNS if n != "status"},
    }


def _open_timeline(db: sqlite_utils.Database, lao: str, mission: str) -> Timeline:
    rows = db.execute(
        "SELECT valid_from, valid_to, base_status, cancelled, received_fy, quantity, unit, budget, staff, "
        "note FROM record_versions WHERE lao_code = ? AND mission_code = ? AND seq_to IS NULL "
        "ORDER BY valid_from",
        (lao, mission),
    ).fetchall()
    periods = tuple(
        Period(
            date.fromisoformat(r[0]),
            date.fromisoformat(r[1]) if r[1] else None,
            Values(
                status=r[2],
                cancelled=bool(r[3]),
                received_fy=r[4],
                quantity=Decimal(r[5]) if r[5] is not None else None,
                unit=r[6],
                budget=Decimal(r[7]) if r[7] is not None else None,
                staff=r[8],
                note=r[9],
            ),
        )
        for r in rows
    )
    return Timeline(periods)


def _reference(timeline: Timeline, event: RecordEvent) -> Values | None:
    """The period whose values a person compares before → after for this event."""
    day: date | None = getattr(event, "effective_from", None)
    if isinstance(event, Corrected):
        day = event.period_from
    if day is None or isinstance(event, Voided):
        return timeline.periods[-1].values if timeline.periods else None
    period = timeline.at(day)
    return period.values if period else None


def _changes(before: Timeline, after: Timeline, event: RecordEvent) -> dict[str, list[Any]]:
    old = _reference(before, event)
    new = _reference(after, event) if not isinstance(event, Voided) else None
    if isinstance(event, Recorded):
        old = None
    diff = {k: [_text(b), _text(a)] for k, (b, a) in changed_fields(old, new).items()}
    if "cancelled" in diff:
        del diff["cancelled"]
        diff["status"] = [
            old.shown_status if old else None,
            new.shown_status if new else None,
        ]
    if before.start != after.start:
        diff["effective_from"] = [_text(before.start), _text(after.start)]
    return diff


def apply_event(db: sqlite_utils.Database, logged: LoggedEvent, event: LedgerEvent) -> None:
    """apply_event changes the view tables for one event at its ledger position.

    Must run inside the catch-up transaction; raises ValueError if the event cannot follow what
    the views hold (a views file from another ledger, or a corrupt one).
    """
    stamp = format_stamp(event.recorded_at)
    history: dict[str, Any] = {
        "position": logged.position,
        "recorded_at": stamp,
        "stream_id": logged.stream_id,
        "kind": kind_of(event),
        "lao_code": getattr(event, "lao_code", None),
        "mission_code": getattr(event, "mission_code", None),
        "version": logged.version,
        "actor": event.actor,
        "source": event.source,
        "reason": event.reason,
        "reported_at": format_stamp(event.reported_at) if event.reported_at else None,
        "effective_from": _text(getattr(event, "effective_from", None)),
        "event": encode_event(event).decode(),
    }
    if isinstance(event, RecordEvent):
        history["changes"] = json.dumps(_apply_record_event(db, logged, event, stamp), ensure_ascii=False)
    elif isinstance(event, (LaoRegistered, LaoAmended)):
        history["changes"] = json.dumps(_apply_lao_event(db, event, stamp), ensure_ascii=False)
    elif isinstance(event, (MissionDefined, MissionAmended)):
        history["changes"] = json.dumps(_apply_mission_event(db, event, stamp), ensure_ascii=False)
    db.execute(
        f"INSERT INTO history ({', '.join(history)}) VALUES ({', '.join('?' * len(history))})",
        list(history.values()),
    )


def _apply_record_event(
    db: sqlite_utils.Database, logged: LoggedEvent, event: RecordEvent, stamp: str
) -> dict[str, list[Any]]:
    key = (event.lao_code, event.mission_code)
    before = _open_timeline(db, *key)
    try:
        after = apply(before, event)
    except Exception as e:  # the ledger validated it: failing here means the views are wrong
        raise ValueError(f"event at position {logged.position} does not follow the views: {e}") from e
    db.execute(
        "UPDATE record_versions SET recorded_to = ?, seq_to = ? "
        "WHERE lao_code = ? AND mission_code = ? AND seq_to IS NULL",
        (stamp, logged.position, *key),
    )
    start = after.start.isoformat() if after.start else None
    rows = [
        {
            "lao_code": key[0],
            "mission_code": key[1],
            "recorded_from": stamp,
            "recorded_to": None,
            "seq_from": logged.position,
            "seq_to": None,
            "version": logged.version,
            "effective_from": start,
            "last_recorded_at": stamp,
            **_period_row(p),
        }
        for p in after.periods
    ]
    if rows:
        columns = list(rows[0])
        db.conn.executemany(
            f"INSERT INTO record_versions ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
            [list(r.values()) for r in rows],
        )
        latest = rows[-1]
        current = {
            c: latest[c]
            for c in (
                "lao_code",
                "mission_code",
                "version",
                "effective_from",
                "valid_from",
                "valid_to",
                "last_recorded_at",
                "status",
                "base_status",
                "cancelled",
                "received_fy",
                "quantity",
                "unit",
                "budget",
                "staff",
                "note",
            )
        }
        current["last_position"] = logged.position
        cols = list(current)
        db.execute(
            f"INSERT OR REPLACE INTO records ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
            list(current.values()),
        )
    else:
        db.execute("DELETE FROM records WHERE lao_code = ? AND mission_code = ?", key)
    return _changes(before, after, event)


def _lao_row(db: sqlite_utils.Database, code: str) -> Lao | None:
    row = db.execute(
        "SELECT lao_code, lao_type, name_th, province_code, province_th, district_code, district_th "
        "FROM laos WHERE lao_code = ?",
        (code,),
    ).fetchone()
    return Lao(*row) if row else None


def _apply_lao_event(db: sqlite_utils.Database, event: LaoRegistered | LaoAmended, stamp: str) -> dict[str, list[Any]]:
    old = _lao_row(db, event.lao_code)
    new = fold_lao([event]) if isinstance(event, LaoRegistered) else None
    if isinstance(event, LaoAmended):
        if old is None:
            raise ValueError(f"LAO {event.lao_code} is amended before it is registered")
        new = replace(
            old,
            **{f: getattr(event.set, f) for f in event.set.__struct_fields__ if getattr(event.set, f) is not UNSET},
        )
    assert new is not None
    registered = (
        stamp
        if old is None
        else db.execute("SELECT registered_at FROM laos WHERE lao_code = ?", (event.lao_code,)).fetchone()[0]
    )
    row = {**vars(new), "registered_at": registered, "updated_at": stamp}
    db.execute(
        f"INSERT OR REPLACE INTO laos ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
        list(row.values()),
    )
    return {
        k: [getattr(old, k) if old else None, v] for k, v in vars(new).items() if old is None or getattr(old, k) != v
    }


def _apply_mission_event(
    db: sqlite_utils.Database, event: MissionDefined | MissionAmended, stamp: str
) -> dict[str, list[Any]]:
    found = db.execute(
        "SELECT mission_code, name_th, area, source_agency, unit, applies_to, defined_at FROM missions "
        "WHERE mission_code = ?",
        (event.mission_code,),
    ).fetchone()
    old = None
    if found:
        applies = tuple(t for t in found[5].split("|") if t)
        old = Mission(found[0], found[1], found[2], found[3], found[4], applies)
    if isinstance(event, MissionDefined):
        new = fold_mission([event])
    else:
        if old is None:
            raise ValueError(f"mission {event.mission_code} is amended before it is defined")
        new = replace(
            old,
            **{f: getattr(event.set, f) for f in event.set.__struct_fields__ if getattr(event.set, f) is not UNSET},
        )
    assert new is not None
    row = {
        **vars(new),
        "applies_to": "|".join(new.applies_to),
        "defined_at": found[6] if found else stamp,
        "updated_at": stamp,
    }
    db.execute(
        f"INSERT OR REPLACE INTO missions ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
        list(row.values()),
    )
    return {
        k: [_plain(getattr(old, k)) if old else None, _plain(v)]
        for k, v in vars(new).items()
        if old is None or getattr(old, k) != v
    }


def _plain(value: object) -> Any:
    return list(value) if isinstance(value, tuple) else value


TABLES: Final = ("_meta", "history", "laos", "missions", "record_versions", "records")
