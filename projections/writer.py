"""How one page of ledger events changes the view tables (projections.schema defines them).

The records a page touches are read once, their state kept in memory while the page's events
are applied, and the changes written with a few executemany — instead of several statements per
event. Instants are stored as UTC text and dates as ISO text, so that text comparison is time
order; Decimals as exact text.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any, Final

import msgspec
import sqlite_utils
from msgspec import UNSET

from ledger.domain.catalog import Mission, fold_mission
from ledger.domain.events import (
    Corrected,
    Event,
    LaoAmended,
    LaoRegistered,
    LedgerEvent,
    MissionAmended,
    MissionDefined,
    Recorded,
    RecordEvent,
    Voided,
    decode_event,
    kind_of,
)
from ledger.domain.registry import Lao, fold_lao
from ledger.domain.timeline import Period, Timeline, Values, apply
from ledger.domain.values import FIELD_NAMES
from ledger.errors import LedgerError
from ledger.stamps import format_stamp
from ledger.store.contract import LoggedEvent
from projections.schema import HISTORY_COLUMNS, RECORD_COLUMNS, VERSION_COLUMNS

# Stored text of a value, by its exact type: Decimals and dates as text, the rest as is. A dict
# lookup by type, because a rebuild converts several million values.
_TEXT_OF: Final[dict[type, Any]] = {Decimal: str, date: date.isoformat}


def _text(value: object) -> Any:
    convert = _TEXT_OF.get(type(value))
    return value if convert is None else convert(value)


_VALUES_OF: Final = operator.attrgetter(*FIELD_NAMES[1:])
_FIELDS_OF: Final = operator.attrgetter(*FIELD_NAMES, "cancelled")


def _period_row(period: Period) -> dict[str, Any]:
    v = period.values
    row = {
        "valid_from": period.valid_from.isoformat(),
        "valid_to": period.valid_to.isoformat() if period.valid_to else None,
        "status": v.shown_status,
        "base_status": v.status,
        "cancelled": int(v.cancelled),
    }
    for name, value in zip(FIELD_NAMES[1:], _VALUES_OF(v), strict=True):
        row[name] = _text(value)
    return row


def _opened(key: tuple[str, str], logged: LoggedEvent, stamp: str, start: str | None) -> dict[str, Any]:
    """The columns of a version row an event opens, but its period's: which record, since when it
    is known (and until: not yet), at which position and version."""
    return {
        "lao_code": key[0],
        "mission_code": key[1],
        "recorded_from": stamp,
        "recorded_to": None,
        "seq_from": logged.position,
        "seq_to": None,
        "version": logged.version,
        "effective_from": start,
        "last_recorded_at": stamp,
    }


def _timeline_of(rows: list[tuple[Any, ...]]) -> Timeline:
    """A record's open versions (valid_from, valid_to, base_status, cancelled, …) as a Timeline."""
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
        for r in sorted(rows, key=lambda r: r[0])
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
    old = None if isinstance(event, Recorded) else _reference(before, event)
    new = _reference(after, event) if not isinstance(event, Voided) else None
    # The fields compared as tuples (FIELD_NAMES, then cancelled): this runs once per event.
    olds = _FIELDS_OF(old) if old is not None else (None,) * (len(FIELD_NAMES) + 1)
    news = _FIELDS_OF(new) if new is not None else (None,) * (len(FIELD_NAMES) + 1)
    diff: dict[str, list[Any]] = {}
    if olds != news:
        for name, b, a in zip(FIELD_NAMES, olds, news, strict=False):
            if b != a:
                diff[name] = [_text(b), _text(a)]
        if olds[-1] != news[-1]:
            diff["status"] = [
                old.shown_status if old else None,
                new.shown_status if new else None,
            ]
    if before.start != after.start:
        diff["effective_from"] = [_text(before.start), _text(after.start)]
    return diff


Key = tuple[str, str]
_JSON: Final = msgspec.json.Encoder()


def _insert(verb: str, columns: tuple[str, ...]) -> str:
    return f"{verb} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


class PageWriter:
    """PageWriter applies a page of events to the view tables.

    The records a page touches are read once, their state is kept in memory while the page's
    events are applied, and the changes are written with a few executemany at `flush` — instead
    of several statements per event. Must run inside the catch-up transaction; raises ValueError
    when an event cannot follow what the views hold (a views file from another ledger, or a
    corrupt one).
    """

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db
        self.timelines: dict[Key, Timeline] = {}
        self.stored_open: set[Key] = set()  # records whose open versions are rows in the table
        self.closes: list[tuple[str, int, str, str]] = []
        self.new_rows: list[dict[str, Any]] = []
        self.open_new: dict[Key, list[dict[str, Any]]] = {}
        self.records: dict[Key, dict[str, Any] | None] = {}
        self.history: list[tuple[Any, ...]] = []

    def load(self, events: Sequence[Event], logged: Sequence[LoggedEvent] = ()) -> None:
        """load reads the open versions of every record the page's events touch. A record whose
        first report is the first event of its stream (`logged` says which) has none to read: it
        starts empty — most of a national import, whose probes grew with the views."""
        fresh = {
            (e.lao_code, e.mission_code)
            for e, at in zip(events, logged, strict=False)
            if at.version == 1 and isinstance(e, Recorded)
        } - set(self.timelines)
        for key in fresh:
            self.timelines[key] = Timeline(())
        keys = sorted(
            {(e.lao_code, e.mission_code) for e in events if isinstance(e, RecordEvent)} - set(self.timelines)
        )
        if not keys:
            return
        found: dict[Key, list[tuple[Any, ...]]] = {}
        # Exactly the page's records, through the (lao_code, mission_code, seq_to) index, one probe
        # per record: reading every open version of every LAO the page touches instead grew with the
        # ledger, and a rebuild of interleaved reports grew with its square.
        self.db.execute("CREATE TEMP TABLE IF NOT EXISTS page_keys (lao_code TEXT, mission_code TEXT)")
        self.db.execute("DELETE FROM page_keys")
        self.db.conn.executemany("INSERT INTO page_keys VALUES (?, ?)", keys)
        rows = self.db.execute(
            "SELECT v.lao_code, v.mission_code, v.valid_from, v.valid_to, v.base_status, v.cancelled, "
            "v.received_fy, v.quantity, v.unit, v.budget, v.staff, v.note "
            "FROM page_keys k CROSS JOIN record_versions v "
            "ON v.lao_code = k.lao_code AND v.mission_code = k.mission_code AND v.seq_to IS NULL"
        ).fetchall()
        for r in rows:
            found.setdefault((r[0], r[1]), []).append(tuple(r[2:]))
        for key in keys:
            self.timelines[key] = _timeline_of(found.get(key, []))
            if key in found:
                self.stored_open.add(key)

    def apply(self, logged: LoggedEvent, event: LedgerEvent) -> None:
        """apply changes the page's state for one event at its ledger position."""
        stamp = format_stamp(event.recorded_at)
        if isinstance(event, RecordEvent):
            changes = self._apply_record_event(logged, event, stamp)
        elif isinstance(event, (LaoRegistered, LaoAmended)):
            changes = _apply_lao_event(self.db, event, stamp)
        elif isinstance(event, (MissionDefined, MissionAmended)):
            changes = _apply_mission_event(self.db, event, stamp)
        else:
            changes = None
        self.history.append(
            (
                logged.position,
                stamp,
                logged.stream_id,
                kind_of(event),
                getattr(event, "lao_code", None),
                getattr(event, "mission_code", None),
                logged.version,
                event.actor,
                event.source,
                event.reason,
                format_stamp(event.reported_at) if event.reported_at else None,
                _text(getattr(event, "effective_from", None)),
                _JSON.encode(changes).decode() if changes is not None else None,
            )
        )

    def _apply_record_event(self, logged: LoggedEvent, event: RecordEvent, stamp: str) -> dict[str, list[Any]]:
        key = (event.lao_code, event.mission_code)
        if key not in self.timelines:
            self.load([event])
        if isinstance(event, Recorded) and not self.timelines[key].periods:
            return self._first_report(logged, event, stamp)
        return self._by_fold(logged, event, stamp)

    def _by_fold(self, logged: LoggedEvent, event: RecordEvent, stamp: str) -> dict[str, list[Any]]:
        """Any record event: the record's timeline folded on (ledger.domain.timeline.apply), its
        open versions closed and the new ones opened, before → after compared."""
        key = (event.lao_code, event.mission_code)
        before = self.timelines[key]
        try:
            after = apply(before, event)
        except LedgerError as e:  # the ledger validated it: failing here means the views are wrong
            raise ValueError(f"event at position {logged.position} does not follow the views: {e}") from e
        # What the ledger said until now stops being said from this event on.
        if key in self.stored_open:
            self.closes.append((stamp, logged.position, *key))
            self.stored_open.discard(key)
        for row in self.open_new.pop(key, []):
            row["recorded_to"], row["seq_to"] = stamp, logged.position
        start = after.start.isoformat() if after.start else None
        rows = [{**_opened(key, logged, stamp, start), **_period_row(p)} for p in after.periods]
        self.new_rows += rows
        self.open_new[key] = rows
        self.timelines[key] = after
        self.records[key] = {**rows[-1], "last_position": logged.position} if rows else None
        return _changes(before, after, event)

    def _first_report(self, logged: LoggedEvent, event: Recorded, stamp: str) -> dict[str, list[Any]]:
        """A record's first report (most of a national ledger's events): its one period and its
        changes built straight from the event — what `apply` and `_changes` give from an empty
        timeline (the property tests compare both ways), at a fraction of the cost."""
        key = (event.lao_code, event.mission_code)
        values: list[Any] = [None if v is UNSET else v for v in msgspec.structs.astuple(event.values)]
        status = values[0]
        if status is None:  # the ledger never stores one: fold it the ordinary way, which refuses
            raise ValueError(f"event at position {logged.position} is a first report without a status")
        start = event.effective_from.isoformat()
        # What was said until now (rows of this page: a record voided and reported again).
        for row in self.open_new.pop(key, []):
            row["recorded_to"], row["seq_to"] = stamp, logged.position
        row = {
            **_opened(key, logged, stamp, start),
            "valid_from": start,
            "valid_to": None,
            "status": status,
            "base_status": status,
            "cancelled": 0,
        }
        changes: dict[str, list[Any]] = {}
        for name, value in zip(FIELD_NAMES, values, strict=True):
            text = _text(value)
            if name != "status":
                row[name] = text
            if value is not None:
                changes[name] = [None, text]
        changes["effective_from"] = [None, start]
        self.new_rows.append(row)
        self.open_new[key] = [row]
        self.timelines[key] = Timeline((Period(event.effective_from, None, Values(*values)),))
        self.records[key] = {**row, "last_position": logged.position}
        return changes

    def flush(self) -> None:
        """flush writes the page: closings first (they must not touch the page's new rows)."""
        db = self.db.conn
        db.executemany(
            "UPDATE record_versions SET recorded_to = ?, seq_to = ? "
            "WHERE lao_code = ? AND mission_code = ? AND seq_to IS NULL",
            self.closes,
        )
        db.executemany(
            _insert("INSERT INTO record_versions", VERSION_COLUMNS),
            [[r[c] for c in VERSION_COLUMNS] for r in self.new_rows],
        )
        db.executemany(
            _insert("INSERT OR REPLACE INTO records", RECORD_COLUMNS),
            [[r[c] for c in RECORD_COLUMNS] for r in self.records.values() if r is not None],
        )
        db.executemany(
            "DELETE FROM records WHERE lao_code = ? AND mission_code = ?",
            [key for key, r in self.records.items() if r is None],
        )
        db.executemany(
            _insert("INSERT INTO history", HISTORY_COLUMNS),
            self.history,
        )


def write_page(db: sqlite_utils.Database, page: Sequence[LoggedEvent]) -> None:
    """write_page applies a page of the ledger's events, in ledger order, to the view tables
    (inside the caller's transaction)."""
    events = [decode_event(logged.state) for logged in page]
    writer = PageWriter(db)
    writer.load(events, page)
    for logged, event in zip(page, events, strict=True):
        writer.apply(logged, event)
    writer.flush()


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
