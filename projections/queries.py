"""Queries over the views: records as of (known_at, valid_on), a record's history, and what
changed in a window. Each streams its rows; none loads the ledger into memory."""

from __future__ import annotations

import json
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Final

import msgspec
import sqlite_utils

from ledger.domain.events import RECORD_KINDS
from ledger.domain.search import closest, matches
from ledger.domain.thai import thai_sort_key
from ledger.domain.timeline import RECORD_KEYS
from ledger.errors import BadInput, NotFound, Unprocessable
from ledger.stamps import format_stamp, parse_stamp

#: Kinds `changes` lists by default: everything after the first report.


@dataclass(frozen=True)
class Scope:
    """Scope narrows a query to one LAO, one district or one province (or nothing: all)."""

    lao: str | None = None
    district: str | None = None
    province: str | None = None

    def check(self, db: sqlite_utils.Database) -> None:
        """check refuses a code the registry does not know."""
        for column, value, what in (
            ("lao_code", self.lao, "LAO"),
            ("district_code", self.district, "district"),
            ("province_code", self.province, "province"),
        ):
            if (
                value is not None
                and db.execute(f"SELECT 1 FROM laos WHERE {column} = ? LIMIT 1", (value,)).fetchone() is None
            ):
                codes = [str(r[0]) for r in db.execute(f"SELECT DISTINCT {column} FROM laos")]
                near = closest(value, codes)
                hint = f"; did you mean {', '.join(near)}?" if near else ""
                raise NotFound(f"{what} {value} is not in the registry{hint}")
        if sum(v is not None for v in (self.lao, self.district, self.province)) > 1:
            raise Unprocessable("give at most one of --lao, --district, --province")

    def where(self, alias: str = "l") -> tuple[str, list[str]]:
        """where is the SQL condition (on the laos table `alias`) and its parameters."""
        for column, value in (
            ("lao_code", self.lao),
            ("district_code", self.district),
            ("province_code", self.province),
        ):
            if value is not None:
                return f"{alias}.{column} = ?", [value]
        return "1", []


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _decimal(text: str | None) -> Decimal | None:
    return Decimal(text) if text is not None else None


# How a record_versions row's text becomes the typed values of a record's JSON, by key.
_TYPED: Final[dict[str, Callable[[Any], Any]]] = {
    "quantity": _decimal,
    "budget": _decimal,
    "effective_from": _day,
    "valid_from": _day,
    "valid_to": _day,
    "recorded_at": parse_stamp,
}
# The view's column of a key, where it is named otherwise.
_COLUMN_OF: Final = {"recorded_at": "last_recorded_at"}


def _record_json(row: dict[str, Any]) -> dict[str, Any]:
    """A record row in the shape of `show --json` (RECORD_KEYS), with typed values."""
    out = {}
    for key in RECORD_KEYS:
        value = row[_COLUMN_OF.get(key, key)]
        typed = _TYPED.get(key)
        out[key] = typed(value) if typed is not None and value is not None else value
    return out


# as-of selects exactly RECORD_KEYS, in order, then the LAO's name; each row becomes its record
# by zip, after one compiled conversion of the batch (text → Decimal, date, datetime in msgspec's
# C, not fourteen Python calls per row: a province is some 13,000 rows).
_AS_OF_COLUMNS: Final = ", ".join(f"v.{_COLUMN_OF.get(k, k)}" for k in RECORD_KEYS)
_AS_OF_BATCH: Final = 2000
_AsOfRow = tuple[
    str, str, str, int | None, Decimal | None, str | None, Decimal | None, int | None, str | None,
    int, date, date, date | None, datetime, str | None,
]  # fmt: skip
assert len(typing.get_args(_AsOfRow)) == len(RECORD_KEYS) + 1, "as-of's row type follows RECORD_KEYS"


# {join}: for a scope, the scope's LAOs first and their versions through the lao_code index
# (CROSS JOIN keeps that order), so that a province's query reads the province, not the nation.
AS_OF_SQL: Final = """
SELECT {columns}, l.name_th AS lao_name_th
FROM {join}
WHERE {knowledge} AND v.valid_from <= :valid_on AND (v.valid_to IS NULL OR :valid_on < v.valid_to)
  AND {scope}
ORDER BY {order}.lao_code, v.mission_code
"""
KNOWN_AT: Final = "v.recorded_from <= :known_at AND (v.recorded_to IS NULL OR :known_at < v.recorded_to)"
AT_SEQ: Final = "v.seq_from <= :seq AND (v.seq_to IS NULL OR :seq < v.seq_to)"


def as_of_times(
    recorder: Any,
    now: datetime,
    *,
    known_at: datetime | None,
    at_seq: int | None,
    valid_on: date | None,
    names: tuple[str, str] = ("known_at", "at_seq"),
) -> tuple[datetime | None, int | None, date]:
    """as_of_times resolves what an as-of asks, for every face alike: as known at `known_at`
    (default now) or after the ledger's first `at_seq` events, valid on `valid_on` (default: the
    Bangkok date of that knowledge). BadInput for both at once, or a position beyond the ledger;
    `names` are the face's names of the two (`--known-at`, `--at-seq` on the command line)."""
    from ledger.domain.thai import bangkok_date

    if at_seq is not None and known_at is not None:
        raise Unprocessable(f"give one of {names[0]}, {names[1]}", field=names[1])
    if at_seq is None:
        known_at = known_at or now
        return known_at, None, valid_on or bangkok_date(known_at)
    size = recorder.log_size()
    if not 0 <= at_seq <= size:
        raise Unprocessable(f"{names[1]} {at_seq} is beyond the ledger ({size} events)", field=names[1])
    stamp = recorder.select_log(at_seq - 1, 1)[0].recorded_at if at_seq else None
    return None, at_seq, valid_on or bangkok_date(stamp or now)


def as_of(
    db: sqlite_utils.Database,
    *,
    known_at: datetime | None = None,
    at_seq: int | None = None,
    valid_on: date,
    scope: Scope = Scope(),
) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """as_of yields every record as the ledger knew it at `known_at` (or after its first `at_seq`
    events), valid on `valid_on`, in code order: (the record as `show --json` gives it, names)."""
    scope.check(db)
    condition, params = scope.where()
    knowledge = AT_SEQ if at_seq is not None else KNOWN_AT
    join = (
        "laos l CROSS JOIN record_versions v ON v.lao_code = l.lao_code"
        if params
        else "record_versions v JOIN laos l USING (lao_code)"
    )
    sql = AS_OF_SQL.format(
        columns=_AS_OF_COLUMNS,
        join=join,
        knowledge=knowledge,
        scope=condition.replace("?", ":scope"),
        # For a scope, l.lao_code: its LAOs come in code order (the (province_code, lao_code) index)
        # and each LAO's versions in the key's order, so that only each LAO's few rows are sorted.
        order="l" if params else "v",
    )
    args: dict[str, Any] = {"valid_on": valid_on.isoformat()}
    if at_seq is not None:
        args["seq"] = at_seq
    else:
        assert known_at is not None
        args["known_at"] = format_stamp(known_at)
    if params:
        args["scope"] = params[0]
    # The catalog's few hundred names, read once, rather than one lookup per row.
    missions = dict(db.execute("SELECT mission_code, name_th FROM missions").fetchall())
    cursor = db.execute(sql, args)
    while rows := cursor.fetchmany(_AS_OF_BATCH):
        for typed in msgspec.convert(rows, list[_AsOfRow]):
            yield (
                dict(zip(RECORD_KEYS, typed, strict=False)),
                {
                    "lao_name_th": typed[-1],
                    "mission_name_th": missions.get(typed[1]),
                },
            )


@dataclass(frozen=True)
class HistoryEntry:
    """HistoryEntry is one event of a record (or of the registry or catalog), with what it changed."""

    position: int
    recorded_at: datetime
    kind: str
    lao_code: str | None
    mission_code: str | None
    version: int
    actor: str
    source: str
    reason: str | None
    reported_at: datetime | None
    effective_from: date | None
    changes: dict[str, list[Any]]


def _entry(row: dict[str, Any]) -> HistoryEntry:
    return HistoryEntry(
        position=row["position"],
        recorded_at=parse_stamp(row["recorded_at"]),
        kind=row["kind"],
        lao_code=row["lao_code"],
        mission_code=row["mission_code"],
        version=row["version"],
        actor=row["actor"],
        source=row["source"],
        reason=row["reason"],
        reported_at=parse_stamp(row["reported_at"]) if row["reported_at"] else None,
        effective_from=date.fromisoformat(row["effective_from"]) if row["effective_from"] else None,
        changes=json.loads(row["changes"]) if row["changes"] else {},
    )


def history(db: sqlite_utils.Database, lao_code: str, mission_code: str) -> list[HistoryEntry]:
    """history gives every event of one record, oldest first; NotFound if it has none."""
    rows = [
        _entry(r)
        for r in db.query(
            "SELECT * FROM history WHERE lao_code = ? AND mission_code = ? ORDER BY position",
            (lao_code, mission_code),
        )
    ]
    if not rows:
        Scope(lao=lao_code).check(db)
        if db.execute("SELECT 1 FROM missions WHERE mission_code = ?", (mission_code,)).fetchone() is None:
            raise NotFound(f"mission {mission_code} is not in the catalog")
        raise NotFound(f"no record {lao_code}/{mission_code}: it has no history")
    return rows


def changes(
    db: sqlite_utils.Database,
    *,
    since: datetime,
    until: datetime | None = None,
    kinds: tuple[str, ...] = RECORD_KINDS,
    scope: Scope = Scope(),
) -> Iterator[HistoryEntry]:
    """changes yields the record events recorded in [since, until], of the given kinds (every
    kind by default: first reports and voids too), in ledger order: what a provincial office
    reviews after a correction round."""
    unknown = [k for k in kinds if k not in RECORD_KINDS]
    if unknown:
        raise BadInput(f"--kind {unknown[0]!r} is not one of: {', '.join(map(repr, RECORD_KINDS))}")
    if until is not None and until < since:
        raise BadInput("--until is before --since")
    scope.check(db)
    condition, params = scope.where()
    sql = (
        "SELECT h.* FROM history h JOIN laos l USING (lao_code) "
        f"WHERE h.recorded_at >= ? AND h.recorded_at <= ? AND h.kind IN ({', '.join('?' * len(kinds))}) "
        f"AND {condition} ORDER BY h.position"
    )
    upper = format_stamp(until) if until else "9999"
    for row in db.query(sql, [format_stamp(since), upper, *kinds, *params]):
        yield _entry(row)


def after_deadline(deadline: datetime) -> datetime:
    """after_deadline is the first instant that is late: an event recorded at the deadline's last
    microsecond is on time."""
    return deadline + timedelta(microseconds=1)


def late(
    db: sqlite_utils.Database, *, deadline: datetime, scope: Scope = Scope(), until: datetime | None = None
) -> Iterator[HistoryEntry]:
    """late is the one list of what came after a round's deadline: every record event recorded
    after it, of every kind — late first reports, corrections, changes, cancellations,
    reinstatements and voids — in ledger order. `changes --round R --late`, the API's
    `/changes?round=R&late=true` and the dashboard all give this list."""
    return changes(db, since=after_deadline(deadline), until=until, kinds=RECORD_KINDS, scope=scope)


def find_laos(
    db: sqlite_utils.Database, query: str | None = None, *, province: str | None = None, district: str | None = None
) -> list[dict[str, Any]]:
    """find_laos lists the registry's LAOs whose code starts with `query` or whose Thai name holds
    it (spaces and tone marks forgiven, อบต./ทต./… read as the type's name), in Thai dictionary
    order of their names."""
    Scope(district=district, province=province).check(db)
    where, params = Scope(district=district, province=province).where("laos")
    rows = db.execute(
        "SELECT lao_code, lao_type, name_th, district_code, district_th, province_code, province_th "
        f"FROM laos WHERE {where}",
        params,
    ).fetchall()
    columns = ("lao_code", "lao_type", "name_th", "district_code", "district_th", "province_code", "province_th")
    found = [dict(zip(columns, r, strict=True)) for r in rows if query is None or matches(query, r[0], r[2])]
    return sorted(found, key=lambda r: (thai_sort_key(r["name_th"]), r["lao_code"]))


def find_missions(db: sqlite_utils.Database, query: str | None = None) -> list[dict[str, Any]]:
    """find_missions lists the catalog's missions whose code starts with `query` or whose Thai name
    or agency holds it, in Thai dictionary order of their names."""
    columns = ("mission_code", "name_th", "area", "source_agency", "unit", "applies_to")
    rows = db.execute(f"SELECT {', '.join(columns)} FROM missions").fetchall()
    found = [dict(zip(columns, r, strict=True)) for r in rows if query is None or matches(query, r[0], r[1], r[3])]
    return sorted(found, key=lambda r: (thai_sort_key(r["name_th"]), r["mission_code"]))


def compare_scope(
    db: sqlite_utils.Database,
    first: datetime,
    second: datetime,
    *,
    scope: Scope,
    fields: tuple[str, ...],
    with_same: bool = False,
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """compare_scope sets a scope's records as known at `first` (valid on its date) beside those
    known at `second`: a line per record that was added, removed or changed in `fields` (and,
    `with_same`, those that were not), with which fields differ; and how many there were."""
    from ledger.domain.thai import bangkok_date

    def rows_at(at: datetime) -> dict[tuple[str, str], dict[str, Any]]:
        return {
            (r["lao_code"], r["mission_code"]): r | names
            for r, names in as_of(db, known_at=at, valid_on=bangkok_date(at), scope=scope)
        }

    before, after = rows_at(first), rows_at(second)
    lines = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        differs = [k for k in fields if (old or {}).get(k) != (new or {}).get(k)]
        state = "added" if old is None else "removed" if new is None else "changed" if differs else "same"
        if state == "same" and not with_same:
            continue
        shown = new or old or {}
        lines.append(
            {"key": key, "old": old, "new": new, "differs": differs, "state": state, "name": shown.get("lao_name_th")}
        )
    return lines, {"before": len(before), "after": len(after), "shown": len(lines)}


def provinces(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """provinces lists the registry's provinces: code, Thai name and how many LAOs, by code."""
    rows = db.execute(
        "SELECT province_code, province_th, COUNT(*) FROM laos GROUP BY province_code ORDER BY province_code"
    ).fetchall()
    return [{"code": r[0], "name_th": r[1], "laos": r[2]} for r in rows]
