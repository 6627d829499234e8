"""The completeness report: which LAOs have not completed their records, as of a time.

Per LAO in scope (every registered LAO, including those that recorded nothing): how many records
exist as known at T (valid on T's date), how many of them miss a required field, when it last
reported, whether it reported anything since the round started, and a verdict. Totals follow
per district and for the whole scope.

Required fields (docs/design.md §2): status, received_fy, and quantity with its unit. A cancelled record
counts as a record but not as incomplete: a cancellation is a complete report.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlite_utils

from ledger.domain.events import RECORD_KINDS
from ledger.domain.rounds import Round
from ledger.domain.thai import bangkok_date, thai_sort_key
from ledger.stamps import format_stamp, parse_stamp
from projections.queries import KNOWN_AT, Scope


@dataclass(frozen=True)
class LaoCompleteness:
    """LaoCompleteness is one LAO's line of the report."""

    lao_code: str
    name_th: str
    lao_type: str
    district_code: str
    district_th: str
    province_code: str
    records: int
    incomplete_records: int
    last_recorded_at: datetime | None
    reported_since_round_start: bool
    verdict: str


@dataclass
class Totals:
    """Totals counts LAOs by verdict and their records, for a district or the whole scope."""

    code: str | None
    name_th: str | None
    laos: int = 0
    complete: int = 0
    incomplete: int = 0
    no_records: int = 0
    records: int = 0
    incomplete_records: int = 0
    reported_since_round_start: int = 0

    def add(self, lao: LaoCompleteness) -> None:
        """add counts one LAO's line."""
        self.laos += 1
        setattr(self, lao.verdict, getattr(self, lao.verdict) + 1)
        self.records += lao.records
        self.incomplete_records += lao.incomplete_records
        self.reported_since_round_start += int(lao.reported_since_round_start)


@dataclass
class CompletenessReport:
    """CompletenessReport is the whole report: LAO lines, district totals, scope totals."""

    known_at: datetime
    valid_on: date
    round_start: date
    laos: list[LaoCompleteness] = field(default_factory=list)
    districts: list[Totals] = field(default_factory=list)
    province: Totals = field(default_factory=lambda: Totals(None, None))
    #: The reporting round measured against, when one was opened (`round open`).
    round: Round | None = None

    def as_json(self) -> dict[str, Any]:
        """as_json is the `--json` document: {"laos": [...], "districts": [...], "province": {...}}."""
        from dataclasses import asdict

        def totals(t: Totals, key: str) -> dict[str, Any]:
            d = asdict(t)
            d[f"{key}_code"] = d.pop("code")
            d[f"{key}_th"] = d.pop("name_th")
            return d

        found: dict[str, Any] = {
            "known_at": self.known_at,
            "valid_on": self.valid_on,
            "round_start": self.round_start,
        }
        if self.round is not None:
            found["round"] = {
                "name": self.round.name,
                "start": self.round.start,
                "deadline": self.round.deadline,
                "province_code": self.round.province_code,
            }
        return found | {
            "laos": [asdict(x) for x in self.laos],
            "districts": [totals(d, "district") for d in self.districts],
            "province": totals(self.province, "province"),
        }


def _lines(
    db: sqlite_utils.Database, scope: Scope, known_at: datetime, valid_on: date, round_start: datetime
) -> Iterator[LaoCompleteness]:
    condition, params = scope.where()
    kinds = ", ".join(f"'{k}'" for k in RECORD_KINDS)
    # The scope's LAOs first, then their versions and history through the lao_code indexes
    # (CROSS JOIN keeps that order): the report's cost follows the province, not the nation.
    sql = f"""
    WITH scoped AS (
        SELECT l.lao_code FROM laos l WHERE {condition.replace("?", ":scope")}
    ), present AS (
        SELECT v.lao_code,
               COUNT(*) AS records,
               SUM(CASE WHEN v.cancelled = 0 AND (v.base_status IS NULL OR v.received_fy IS NULL
                        OR v.quantity IS NULL OR v.unit IS NULL) THEN 1 ELSE 0 END) AS incomplete
        FROM scoped s CROSS JOIN record_versions v ON v.lao_code = s.lao_code
        WHERE {KNOWN_AT} AND v.valid_from <= :valid_on AND (v.valid_to IS NULL OR :valid_on < v.valid_to)
        GROUP BY v.lao_code
    ), reports AS (
        SELECT h.lao_code, MAX(h.recorded_at) AS last_recorded_at
        FROM scoped s CROSS JOIN history h ON h.lao_code = s.lao_code
        WHERE h.kind IN ({kinds}) AND h.recorded_at <= :known_at
        GROUP BY h.lao_code
    )
    SELECT l.lao_code, l.name_th, l.lao_type, l.district_code, l.district_th, l.province_code,
           COALESCE(p.records, 0) AS records, COALESCE(p.incomplete, 0) AS incomplete,
           r.last_recorded_at, COALESCE(r.last_recorded_at >= :round_start, 0) AS since_round
    FROM scoped s JOIN laos l USING (lao_code) LEFT JOIN present p USING (lao_code) LEFT JOIN reports r USING (lao_code)
    ORDER BY l.lao_code
    """
    args: dict[str, Any] = {
        "known_at": format_stamp(known_at),
        "valid_on": valid_on.isoformat(),
        "round_start": format_stamp(round_start),
    }
    if params:
        args["scope"] = params[0]
    for row in db.query(sql, args):
        records, incomplete = row["records"], row["incomplete"]
        verdict = "no_records" if records == 0 else "incomplete" if incomplete else "complete"
        yield LaoCompleteness(
            lao_code=row["lao_code"],
            name_th=row["name_th"],
            lao_type=row["lao_type"],
            district_code=row["district_code"],
            district_th=row["district_th"],
            province_code=row["province_code"],
            records=records,
            incomplete_records=incomplete,
            last_recorded_at=parse_stamp(row["last_recorded_at"]) if row["last_recorded_at"] else None,
            reported_since_round_start=bool(row["since_round"]),
            verdict=verdict,
        )


def completeness(
    db: sqlite_utils.Database,
    *,
    known_at: datetime,
    round_start: date | None = None,
    scope: Scope | None = None,
    sort: str = "code",
    round: Round | None = None,
) -> CompletenessReport:
    """completeness builds the report as known at `known_at` (valid on its Bangkok date).

    The round starts at `round_start` (start of that day, Bangkok), by default the start of
    `round` (the reporting round that applies, ledger.rounds), else 1 October of the fiscal
    year that contains known_at.
    """
    scope = scope or Scope()
    scope.check(db)
    valid_on = bangkok_date(known_at)
    if round_start is None and round is not None:
        round_start = round.start
    if round_start is None:
        round_start = date(valid_on.year if valid_on.month >= 10 else valid_on.year - 1, 10, 1)
    from ledger.domain.thai import BANGKOK

    start_instant = datetime(round_start.year, round_start.month, round_start.day, tzinfo=BANGKOK)
    report = CompletenessReport(known_at=known_at, valid_on=valid_on, round_start=round_start, round=round)
    districts: dict[str, Totals] = {}
    provinces: set[str] = set()
    for line in _lines(db, scope, known_at, valid_on, start_instant):
        report.laos.append(line)
        districts.setdefault(line.district_code, Totals(line.district_code, line.district_th)).add(line)
        report.province.add(line)
        provinces.add(line.province_code)
    if sort == "name":
        report.laos.sort(key=lambda x: thai_sort_key(x.name_th))
    report.districts = [districts[k] for k in sorted(districts)]
    if len(provinces) == 1:
        (code,) = provinces
        report.province.code = code
        row = db.execute("SELECT province_th FROM laos WHERE province_code = ? LIMIT 1", (code,)).fetchone()
        report.province.name_th = row[0] if row else None
    return report


def province_of_scope(db: sqlite_utils.Database, scope: Scope) -> str | None:
    """province_of_scope is the province a scope lies in (None: the whole country): the round
    that applies to it is that province's."""
    if scope.province:
        return scope.province
    column, code = ("lao_code", scope.lao) if scope.lao else ("district_code", scope.district)
    if not code:
        return None
    row = db.execute(f"SELECT province_code FROM laos WHERE {column} = ? LIMIT 1", (code,)).fetchone()
    return str(row[0]) if row else None


def round_known_at(found: Round | None, now: datetime, known_at: datetime | None) -> datetime:
    """round_known_at is the time a report is known at when none is asked: the round's deadline
    (the end of that day), or now while the deadline is still ahead (or when no round applies)."""
    if known_at is not None:
        return known_at
    if found is None:
        return now
    return min(now, found.deadline_instant)
