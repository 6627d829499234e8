"""Pages that read history: a record's timeline (who, when, why, before → after) beside the
record as known at the deadline and as known now; and any scope as known at two times, side by
side, differences marked."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from litestar import Request, get
from litestar.response import Template

from ledger.domain.timeline import RECORD_KEYS
from ledger.errors import BadInput, NotFound
from ledger.identity import Session
from projections.completeness import province_of_scope
from projections.queries import compare_scope, history
from service.pages.lao import _lao_and_rights
from service.pages.web import render
from service.params import instant, scope_for
from service.state import LedgerService

#: The fields compared between two times (a record's values and its place in time).
COMPARED: Final = ("status", "received_fy", "quantity", "unit", "budget", "staff", "note", "effective_from")


def _shown(app: Any, lao: str, mission: str, known_at: datetime) -> Any:
    try:
        return app.show(lao, mission, known_at=known_at)
    except NotFound:
        return None


@get("/record/{lao:str}/{mission:str}", sync_to_thread=False)
def record_history(
    request: Request[Any, Any, Any], lao: str, mission: str, ledger: LedgerService, session: Session
) -> Template:
    """A record's timeline and its deadline-versus-now comparison."""
    registry, may_write = _lao_and_rights(ledger, session, lao)
    entries = history(ledger.views(), lao, mission)
    now = ledger.app.clock.now()
    found = ledger.rounds.current(registry.province_code)
    at_deadline = _shown(ledger.app, lao, mission, found.deadline_instant) if found else None
    known_now = _shown(ledger.app, lao, mission, now)
    rows = [
        {
            "field": name,
            "deadline": getattr(at_deadline, name) if at_deadline else None,
            "now": getattr(known_now, name) if known_now else None,
        }
        for name in COMPARED
    ]
    for row in rows:
        row["differs"] = row["deadline"] != row["now"]
    late = [e for e in entries if found is not None and e.recorded_at > found.deadline_instant]
    return render(
        request,
        "history.html",
        session=session,
        lao=registry,
        mission=ledger.app.mission(mission),
        entries=entries,
        round=found,
        seal=ledger.rounds.seal_of(found.name) if found else None,
        rows=rows,
        at_deadline=at_deadline,
        known_now=known_now,
        late=late,
        may_write=may_write,
    )


@get("/compare", sync_to_thread=False)
def compare(
    request: Request[Any, Any, Any],
    ledger: LedgerService,
    session: Session,
    province: str | None = None,
    district: str | None = None,
    lao: str | None = None,
    t1: str | None = None,
    t2: str | None = None,
    all: bool = False,
) -> Template:
    """A scope as known at T1 beside T2 (default: the round's deadline and now)."""
    views = ledger.views()
    scope = scope_for(session.principal, views, lao, district, province)
    found = ledger.rounds.current(province_of_scope(views, scope))
    now = ledger.app.clock.now()
    first = instant("t1", t1) or (min(found.deadline_instant, now) if found else now)
    second = instant("t2", t2) or now
    if second < first:
        raise BadInput("t2 is before t1: give the earlier time first", field="t2")

    lines, counts = compare_scope(views, first, second, scope=scope, fields=COMPARED, with_same=all)
    return render(
        request,
        "compare.html",
        session=session,
        scope=scope,
        t1=first,
        t2=second,
        asked={
            "t1": t1 or "",
            "t2": t2 or "",
            "province": scope.province or "",
            "district": scope.district or "",
            "lao": scope.lao or "",
        },
        lines=lines,
        counts=counts,
        compared=COMPARED,
        show_all=all,
        keys=RECORD_KEYS,
    )


ROUTES: Final = [record_history, compare]
