"""The views over HTTP: as-of, changes, the completeness report, the registry and the catalog, and
the events' schema. Each answers with the JSON of the matching CLI command's `--json`; as-of also
gives CSV (UTF-8 with a BOM, for Excel) when asked with `Accept: text/csv`.

A province officer reads its province (by default, when it names no scope); an LAO clerk its LAO;
admin and auditor anything (ledger.domain.access.readable_scope decides).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any, Final

from litestar import Request, Response, get

from ledger.domain.access import Principal
from ledger.domain.events import RECORD_KINDS, json_schemas
from ledger.domain.search import check_search
from ledger.domain.thai import start_of_day
from ledger.domain.timeline import RECORD_KEYS
from ledger.errors import BadInput, Unprocessable
from projections.completeness import completeness
from projections.documents import plain
from projections.queries import after_deadline, as_of, as_of_times, changes, find_laos, find_missions
from projections.sheets import csv_lines
from service.api.contract import (
    CSV,
    DATE,
    DISTRICT,
    INSTANT,
    JSON,
    KINDS,
    LAO,
    PROVINCE,
    ROUND,
    SEARCH,
    SINCE,
    SIZE,
    Answer,
    declares,
)
from service.api.documents import CompletenessReport, EventSchemas, HistoryEntry, LaoEntry, MissionEntry, RecordDocument
from service.params import day, instant, json_response, scope_for, whole
from service.state import LedgerService


def _csv(headers: tuple[str, ...], rows: Iterator[list[Any]]) -> bytes:
    """A CSV answer (projections.sheets), values in the JSON's plain forms."""
    texts = ([None if v is None else str(plain(v)) for v in row] for row in rows)
    return "".join(csv_lines(headers, texts)).encode("utf-8")


_SCOPE: Final = {"province": PROVINCE, "district": DISTRICT, "lao": LAO}


@get(
    "/as-of",
    sync_to_thread=False,
    opt=declares(
        "as_of",
        Answer(
            200,
            list[RecordDocument],
            media=(JSON, CSV),
            headers=("ETag", "Mission-Ledger-Seal"),
            description="the records (CSV, UTF-8 with a BOM, with `Accept: text/csv`)",
        ),
        errors=(404,),
        params={**_SCOPE, "known_at": INSTANT, "valid_on": DATE, "at_seq": SIZE},
    ),
)
def as_of_scope(
    request: Request[Any, Any, Any],
    ledger: LedgerService,
    principal: Principal,
    known_at: str | None = None,
    valid_on: str | None = None,
    at_seq: str | None = None,
    province: str | None = None,
    district: str | None = None,
    lao: str | None = None,
) -> Response[bytes]:
    """Every record of a scope as known at a time (or after the ledger's first `at_seq` events),
    valid on a date: the list of `as-of --json`, or its CSV with `Accept: text/csv`."""
    views = ledger.views()
    scope = scope_for(principal, views, lao, district, province)
    known, seq, valid = as_of_times(
        ledger.app.ledger_recorder,
        ledger.app.clock.now(),
        known_at=instant("known_at", known_at),
        at_seq=whole("at_seq", at_seq),
        valid_on=day("valid_on", valid_on),
    )
    rows = as_of(views, known_at=known, at_seq=seq, valid_on=valid, scope=scope)
    # As known at a sealed deadline: the answer names the seal it can be proven against.
    sealed = ledger.rounds.seal_at(known)
    headers = (
        {"Mission-Ledger-Seal": f"round={sealed[0].name}; size={sealed[1].size}; root={sealed[1].root}"}
        if sealed
        else {}
    )
    if "text/csv" in request.headers.get("accept", ""):
        body = _csv(RECORD_KEYS, ([r[k] for k in RECORD_KEYS] for r, _ in rows))
        return Response(body, media_type="text/csv; charset=utf-8", headers=headers)
    return json_response([r for r, _ in rows], headers=headers)


@get(
    "/changes",
    sync_to_thread=False,
    opt=declares(
        "changes",
        Answer(200, list[HistoryEntry], headers=("ETag",)),
        errors=(404,),
        params={**_SCOPE, "since": SINCE, "until": INSTANT, "kind": KINDS, "round": ROUND},
    ),
)
def changes_in_window(
    ledger: LedgerService,
    principal: Principal,
    since: str | None = None,
    until: str | None = None,
    kind: list[str] | None = None,
    province: str | None = None,
    district: str | None = None,
    lao: str | None = None,
    round: str | None = None,
    late: bool = False,
) -> Response[bytes]:
    """What was recorded, corrected, changed, cancelled, reinstated or voided in [since, until],
    every kind unless `kind` says: the list of `changes --json` (a date alone given to `since` is
    the start of that day). `round=R&late=true`: the round's late list, everything recorded after
    its deadline — the dashboard's list."""
    views = ledger.views()
    scope = scope_for(principal, views, lao, district, province)
    if late and round is None:
        raise Unprocessable("late needs round: the round whose deadline it is late for", field="late")
    if round is not None and since:
        raise Unprocessable("give since or round, not both", field="round")
    start: datetime | None
    if round is not None:
        found = ledger.rounds.named(round)
        start = after_deadline(found.deadline_instant) if late else start_of_day(found.start)
    else:
        if not since:
            raise Unprocessable("give since, or round (late=true for after its deadline)", field="since")
        start = instant("since", since, day_starts=True)
    assert start is not None
    entries = changes(views, since=start, until=instant("until", until), kinds=tuple(kind or RECORD_KINDS), scope=scope)
    return json_response(list(entries))


@get(
    "/reports/completeness",
    sync_to_thread=False,
    opt=declares(
        "completeness_report",
        Answer(200, CompletenessReport, headers=("ETag",)),
        errors=(404,),
        params={
            "province": PROVINCE,
            "district": DISTRICT,
            "known_at": INSTANT,
            "round_start": DATE,
            "sort": {"type": "string", "enum": ["code", "name"], "default": "code"},
        },
    ),
)
def completeness_report(
    ledger: LedgerService,
    principal: Principal,
    known_at: str | None = None,
    round_start: str | None = None,
    province: str | None = None,
    district: str | None = None,
    sort: str = "code",
) -> Response[bytes]:
    """Per LAO of a province or district: records, incomplete records, last report and a
    verdict, with totals: the document of `report completeness --json`."""
    if sort not in ("code", "name"):
        raise BadInput(f"sort {sort!r}: give code or name", field="sort")
    views = ledger.views()
    scope = scope_for(principal, views, None, district, province)
    report = completeness(
        views,
        known_at=instant("known_at", known_at) or ledger.app.clock.now(),
        round_start=day("round_start", round_start),
        scope=scope,
        sort=sort,
    )
    return json_response(report.as_json())


@get(
    "/laos",
    sync_to_thread=False,
    opt=declares(
        "find_laos",
        Answer(200, list[LaoEntry], headers=("ETag",)),
        params={"q": SEARCH, "province": PROVINCE, "district": DISTRICT},
    ),
)
def laos(
    ledger: LedgerService, principal: Principal, q: str | None = None, province: str | None = None,
    district: str | None = None,
) -> Response[bytes]:  # fmt: skip
    """Find LAOs by code or a fragment of the Thai name: the list of `laos --json` (the registry
    is reference data: every signed-in principal may search it)."""
    return json_response(
        find_laos(ledger.views(), check_search(q), province=province or None, district=district or None)
    )


@get(
    "/missions",
    sync_to_thread=False,
    opt=declares("find_missions", Answer(200, list[MissionEntry], headers=("ETag",)), params={"q": SEARCH}),
)
def missions(ledger: LedgerService, principal: Principal, q: str | None = None) -> Response[bytes]:
    """Find missions by code or a fragment of the Thai name: the list of `missions --json`."""
    return json_response(find_missions(ledger.views(), check_search(q)))


@get("/schema", sync_to_thread=False, opt=declares("event_schemas", Answer(200, EventSchemas, headers=("ETag",))))
def schema(principal: Principal) -> Response[bytes]:
    """The JSON Schema of every event kind's data, with its version: `schema`'s document."""
    return json_response(json_schemas())


ROUTES: Final = [as_of_scope, changes_in_window, completeness_report, laos, missions, schema]
