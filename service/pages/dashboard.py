"""The province dashboard (DESIGN §11): completeness of the round as of a chosen time (the
round's deadline by default) per district, with a chart and its table; the LAOs with no records
or incomplete ones; the corrections made since the deadline; the report as an Excel file.
And, for those who read the whole country, the list of provinces."""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import Any, Final
from urllib.parse import quote

from litestar import Request, Response, get
from litestar.response import Template

from ledger.domain.access import permits
from ledger.domain.rounds import Round
from ledger.identity import Session
from projections.completeness import CompletenessReport, completeness, province_of_scope, round_known_at
from projections.queries import Scope, provinces
from projections.queries import late as late_events
from projections.sheets import plain_cell, write_xlsx
from service.auth import requires
from service.pages.web import render, speech_of
from service.params import day, instant
from service.state import LedgerService

#: How many of the reports and corrections since the deadline the dashboard lists (newest first).
LATE_SHOWN: Final = 200


def province_report(
    ledger: LedgerService, province: str, known_at: str | None, round_start: str | None
) -> tuple[CompletenessReport, Round | None, datetime]:
    """province_report is the completeness of a province as of the time asked (the round's
    deadline by default), the round that applied then, and the time."""
    asked, start = instant("known_at", known_at), day("round_start", round_start)
    return scope_report(ledger, Scope(province=province), province, asked, start)


def scope_report(
    ledger: LedgerService, scope: Scope, province: str | None, asked: datetime | None, round_start: date | None
) -> tuple[CompletenessReport, Round | None, datetime]:
    """scope_report is the completeness of a province's scope (itself, or a district of it) as of
    the time asked (the province's round's deadline by default), that round, and the time."""
    found = ledger.rounds.current(province, asked)
    when = round_known_at(found, ledger.app.clock.now(), asked)
    report = completeness(ledger.views(), known_at=when, round_start=round_start, scope=scope, round=found)
    return report, found, when


@get("/province/{province:str}", sync_to_thread=False, guards=[requires("read_province")])
def province_dashboard(
    request: Request[Any, Any, Any],
    province: str,
    ledger: LedgerService,
    session: Session,
    known_at: str | None = None,
    round_start: str | None = None,
) -> Template:
    """A province's dashboard as of a time (default the round's deadline)."""
    report, found, when = province_report(ledger, province, known_at, round_start)
    late: list[Any] = []
    now = ledger.app.clock.now()
    if found is not None and now > found.deadline_instant:
        # The one late list (projections.queries.late): every kind, first reports and voids too.
        late = list(late_events(ledger.views(), deadline=found.deadline_instant, scope=Scope(province=province)))
    late_count = len(late)
    # The page shows the latest LATE_SHOWN, newest first; `changes` (CLI, API) has them all.
    late = late[-LATE_SHOWN:][::-1]
    names = {lao.lao_code: lao.name_th for lao in report.laos}
    chart = {
        "labels": [d.name_th or d.code for d in report.districts],
        "complete": [d.complete for d in report.districts],
        "incomplete": [d.incomplete for d in report.districts],
        "no_records": [d.no_records for d in report.districts],
    }
    return render(
        request,
        "dashboard.html",
        session=session,
        province=province,
        report=report,
        round=found,
        known_at=when,
        asked_known_at=known_at or "",
        asked_round_start=round_start or "",
        chasing=[lao for lao in report.laos if lao.verdict != "complete"],
        late=late,
        late_count=late_count,
        late_shown=LATE_SHOWN,
        may_delegate=permits(session.principal, "delegate", province=province),
        # The seal, when the dashboard is as known at its round's deadline (the default).
        seal=ledger.rounds.seal_of(found.name) if found is not None and when == found.deadline_instant else None,
        names=names,
        chart=chart,
    )


@get("/province/{province:str}/completeness.xlsx", sync_to_thread=False, guards=[requires("read_province")])
def province_export(
    request: Request[Any, Any, Any],
    province: str,
    ledger: LedgerService,
    session: Session,
    known_at: str | None = None,
    round_start: str | None = None,
) -> Response[bytes]:
    """The dashboard's report as an Excel file: one row per LAO, in the person's language (the
    voice's words; the last report a real date cell that Excel shows in BE), a title line saying
    which province as known when."""
    from projections.export import instant_cell

    say = speech_of(request)
    report, _, when = province_report(ledger, province, known_at, round_start)
    rows = [
        [lao.lao_code, lao.name_th, lao.district_code, lao.district_th, lao.records, lao.incomplete_records,
         lao.last_recorded_at, say.word(lao.verdict)]
        for lao in report.laos
    ]  # fmt: skip
    last = 6  # the column of the last report's time

    def cell(sheet: Any, index: int, value: Any) -> Any:
        if index == last and value is not None:
            return instant_cell(sheet, value, say.calendar)
        return plain_cell(sheet, index, value)

    buffer = io.BytesIO()
    header = [say(h) for h in _EXCEL_HEADERS]
    title = say("Completeness of reports, {province}, as known at {time}", province=say.province(province),
                time=say.when(when))  # fmt: skip
    # Registry text is a string cell, never a formula (a name may begin with "=").
    write_xlsx(buffer, header, rows, sheet_name=say("Completeness"), title=title,
               widths=[10, 34, 10, 16, 12, 12, 22, 14], cell=cell)  # fmt: skip
    # The file's name in the person's words (RFC 6266 filename*), and plain ASCII for old browsers.
    name = say("completeness {province} {day}.xlsx", province=say.province(province), day=say.day(when))
    ascii_name = f"completeness-{province}.xlsx"
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
    return Response(
        buffer.getvalue(),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": disposition, "Cache-Control": "no-store"},
    )


#: The Excel download's columns, as catalog messages.
_EXCEL_HEADERS: Final = (
    "LAO code", "LAO name", "District code", "District", "Records", "Incomplete records", "Last report", "Verdict",
)  # fmt: skip


@get("/district/{district:str}", sync_to_thread=False, guards=[requires("read_district")])
def district_page(
    request: Request[Any, Any, Any],
    district: str,
    ledger: LedgerService,
    session: Session,
    known_at: str | None = None,
) -> Template:
    """A district's page — the province dashboard drilled down, and the district officer's own:
    its LAOs' completeness as of a time (the round's deadline by default), those to chase first."""
    views = ledger.views()
    scope = Scope(district=district)
    scope.check(views)
    province = province_of_scope(views, scope)
    report, found, when = scope_report(ledger, scope, province, instant("known_at", known_at), None)
    order = {"no_records": 0, "incomplete": 1, "complete": 2}
    laos = sorted(report.laos, key=lambda lao: (order.get(lao.verdict, 3), lao.lao_code))
    return render(
        request, "district.html", session=session, report=report, round=found, when=when, laos=laos,
        district=report.districts[0] if report.districts else None, province=province, asked_known_at=known_at or "",
    )  # fmt: skip


@get("/nation", sync_to_thread=False, guards=[requires("read_nation")])
def nation(request: Request[Any, Any, Any], ledger: LedgerService, session: Session) -> Template:
    """The provinces of the registry, for those who read the whole country."""
    found = provinces(ledger.views())
    return render(request, "nation.html", session=session, provinces=found, rounds=ledger.rounds.rounds())


ROUTES: Final = [province_dashboard, province_export, district_page, nation]
