"""The LAO page (DESIGN §11): its mission records as of now, and the forms that record, correct,
change, cancel and reinstate them. Each form shows what will change before it is sent (a preview
decided by the ledger's own rules, appending nothing), requires a reason, takes dates as
day/month/BE year, and ends on a printable receipt: position, time, leaf hash.

A refused form is shown again with the message beside the field, and nothing is appended.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Final

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template

from ledger.application import MissionLedger, Preview
from ledger.domain.access import authorize, permits
from ledger.domain.catalog import AREAS, applies
from ledger.domain.commands import CommandText, command_arguments
from ledger.domain.registry import Lao
from ledger.domain.thai import bangkok_date
from ledger.domain.timeline import RecordView, changed_fields
from ledger.domain.values import FIELD_NAMES
from ledger.errors import BadInput, LedgerError, NotFound, Refused
from ledger.identity import Session
from projections.queries import Scope, as_of, find_missions
from service.pages.web import render
from service.params import province_lookup
from service.state import LedgerService

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
#: The commands a page offers (void is for the operator's CLI: it erases a record from views).
PAGE_COMMANDS: Final = ("record", "correct", "change", "cancel", "reinstate")
#: The value fields a form shows, by command.
_VALUE_FIELDS: Final = {
    "record": FIELD_NAMES,
    "correct": FIELD_NAMES,
    "change": FIELD_NAMES,
    "cancel": (),
    "reinstate": ("status",),
}


def _lao_and_rights(ledger: LedgerService, session: Session, lao: str) -> tuple[Lao, bool]:
    """The LAO's registry entry and whether the person may write its records; 403 when they may
    not even read them (404 for an LAO the registry does not know)."""
    views = ledger.views()
    where = province_lookup(views)
    province = where("lao", lao)
    if province is None:
        Scope(lao=lao).check(views)  # NotFound with a suggestion
    principal = session.principal
    authorize(principal, "read_record", lao=lao, province=province, district=where("lao-district", lao))
    return ledger.app.lao(lao), permits(principal, "write_record", lao=lao, province=province)


def _records(ledger: LedgerService, lao: str) -> list[dict[str, Any]]:
    now = ledger.app.clock.now()
    rows = as_of(ledger.views(), known_at=now, valid_on=bangkok_date(now), scope=Scope(lao=lao))
    return [record | names for record, names in rows]


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _current(app: MissionLedger, lao: str, mission: str) -> RecordView | None:
    try:
        return app.show(lao, mission)
    except NotFound:
        return None


def _form_values(app: MissionLedger, lao: str, command: str, mission: str | None) -> dict[str, str]:
    """The form's starting values: a record's current values, for the commands that change it."""
    values = {"command": command, "mission": mission or ""}
    if mission and command != "record":
        view = _current(app, lao, mission)
        if view is not None:
            for name in FIELD_NAMES:
                values[name] = _text(getattr(view, name))
            values["version"] = str(view.version)
    return values


def _body(command: str, form: dict[str, str], current: RecordView | None) -> CommandText:
    """The command's text from a form: for a correction or change, only the fields the person
    altered are set (an untouched field stays as it is)."""
    given = {k: v.strip() for k, v in form.items() if isinstance(v, str)}
    effective = given.get("effective") or None
    reason = given.get("reason") or None
    if command == "record":
        return CommandText(
            status=given.get("status") or None,
            effective=effective,
            received_fy=given.get("received_fy") or None,
            quantity=given.get("quantity") or None,
            unit=given.get("unit") or None,
            budget=given.get("budget") or None,
            staff=given.get("staff") or None,
            note=given.get("note") or None,
            reason=reason,
        )
    if command in ("correct", "change"):
        changes: dict[str, str | int | float | None] = {}
        for name in FIELD_NAMES:
            if name not in given:
                continue
            before = _text(getattr(current, name)) if current is not None else ""
            if given[name] != before:
                changes[name] = given[name] or None
        if command == "correct":
            # A correction's new first day is set like a field (the API's set.effective_from).
            if effective:
                changes["effective_from"] = effective
            return CommandText(set=changes or None, reason=reason)
        return CommandText(set=changes or None, effective=effective, reason=reason)
    if command == "reinstate":
        return CommandText(effective=effective, status=given.get("status") or None, reason=reason)
    return CommandText(effective=effective, reason=reason)


_FIELD_OF: Final = {"effective": "effective", "effective_from": "effective", "command": "command"}


def _errors_of(error: LedgerError) -> dict[str, str]:
    """Each refusal beside its field (every field refused at once, the first for each): the
    message without the `field: ` prefix the API puts first (beside the field, its label says it)."""
    found: dict[str, str] = {}
    for each in (error, *error.also):
        message = str(each)
        if each.field and message.startswith(f"{each.field}: "):
            message = message[len(each.field) + 2 :]
        found.setdefault(_field_of(each), message)
    return found


def _field_of(error: LedgerError) -> str:
    """The form field an error is about (shown beside it), or "" for the form as a whole."""
    field = error.field or ""
    if field.startswith("set."):
        field = field[4:]
    if field in FIELD_NAMES or field in ("reason", "mission", "effective", "status"):
        return field
    if field in _FIELD_OF:
        return _FIELD_OF[field]
    text = str(error)
    for name in ("reason", "effective", *FIELD_NAMES):
        if text.startswith(f"{name}:") or text.startswith(f"--{name}") or f"needs {name}" in text:
            return name
    if "effective_from" in text:
        return "effective"
    return ""


def _decide(
    ledger: LedgerService, session: Session, lao: str, form: dict[str, str], *, write: bool
) -> tuple[str, str, Any]:
    """Decide a form: (command, mission, the receipt or the preview); LedgerError when refused."""
    command = form.get("command", "")
    if command not in PAGE_COMMANDS:
        raise BadInput(f"command {command!r}: choose one of {', '.join(PAGE_COMMANDS)}", field="command")
    mission = (form.get("mission") or "").strip()
    if not mission:
        raise BadInput("choose a mission", field="mission")
    if not (form.get("reason") or "").strip():
        raise BadInput("write the reason (it stays in the record's history)", field="reason")
    app = ledger.as_principal(session.principal)
    current = _current(app, lao, mission) if command != "record" else None
    arguments = command_arguments(command, _body(command, form, current))
    version = (form.get("version") or "").strip()
    # ASCII digits only: "²" is a digit to str.isdigit and no number to int().
    digits = version.isascii() and version.isdigit() and len(version) <= 18
    expect = int(version) if digits and command != "record" else None
    if write:
        return command, mission, app.command(command, lao, mission, expect_version=expect, **arguments)
    return command, mission, app.preview(command, lao, mission, expect_version=expect, **arguments)


def effective_day(event: Any) -> date | None:
    """effective_day is the day an event's values hold from (None: a correction of the whole record)."""
    return getattr(event, "effective_from", None) or getattr(event, "period_from", None)


def _preview_rows(preview: Preview) -> list[dict[str, Any]]:
    """Each field before → after, on the day the event takes effect (today for a correction
    of the whole record)."""
    event = preview.event
    day = effective_day(event) or date.today()
    before_period = preview.state.timeline.at(day) if preview.state.timeline.exists else None
    after_period = preview.after.at(day)
    before = before_period.values if before_period else None
    after = after_period.values if after_period else None
    changed = changed_fields(before, after)
    rows = []
    for name in FIELD_NAMES:
        old = (getattr(before, name) if name != "status" else before.shown_status) if before else None
        new = (getattr(after, name) if name != "status" else after.shown_status) if after else None
        rows.append({"field": name, "before": old, "after": new, "changed": name in changed})
    return rows


def _page(
    request: Request[Any, Any, Any],
    ledger: LedgerService,
    session: Session,
    rights: tuple[Lao, bool],
    values: dict[str, str],
    *,
    errors: dict[str, str] | None = None,
    preview: Preview | None = None,
    status: int = 200,
    fragment: bool = False,
) -> Template:
    registry, may_write = rights
    records = _records(ledger, registry.lao_code)
    recorded = {r["mission_code"] for r in records}
    # The catalog's rule (a mission that names no LAO type is for every type), not a copy of it.
    catalog = find_missions(ledger.views())
    missions = [m for m in catalog if applies((m["applies_to"] or "").split("|"), registry.lao_type)]
    command = values.get("command", "")
    # The chooser: to record, every mission that applies (those reported marked, and not to be
    # chosen again); to amend, the LAO's records. Grouped by area, in the catalog's order of areas.
    offered = missions if command == "record" else [m for m in catalog if m["mission_code"] in recorded]
    groups = [
        (area, [m for m in offered if m["area"] == area]) for area in AREAS if any(m["area"] == area for m in offered)
    ]
    return render(
        request,
        "_write_form.html" if fragment else "lao.html",
        session=session,
        status=status,
        lao=registry,
        records=records,
        may_write=may_write,
        missions=missions,
        mission_groups=groups,
        recorded=recorded,
        commands=PAGE_COMMANDS,
        value_fields=_VALUE_FIELDS.get(values.get("command", ""), ()),
        values=values,
        errors=errors or {},
        preview=_preview_rows(preview) if preview else None,
        preview_kind=preview.event.__struct_config__.tag if preview else None,
        preview_version=preview.state.version + 1 if preview else None,
        preview_from=effective_day(preview.event) if preview else None,
    )


@get("/lao/{lao:str}", sync_to_thread=False)
def lao_page(
    request: Request[Any, Any, Any],
    lao: str,
    ledger: LedgerService,
    session: Session,
    command: str | None = None,
    mission: str | None = None,
) -> Template:
    """An LAO's records as of now, and (for those who may write them) the forms."""
    if command is not None and command not in PAGE_COMMANDS:
        raise BadInput(f"command {command!r}: choose one of {', '.join(PAGE_COMMANDS)}", field="command")
    rights = _lao_and_rights(ledger, session, lao)
    chosen = command or ("correct" if mission else "record")
    errors = {}
    if mission:
        # A mission the catalog does not have is refused beside the chooser, and no form is titled
        # with it.
        try:
            ledger.app.mission(mission)
        except (NotFound, BadInput) as e:
            errors["mission"], mission = str(e), None
    values = _form_values(ledger.app, lao, chosen, mission)
    fragment = bool(request.headers.get("hx-request")) and request.headers.get("hx-target") == "write-form"
    status = 404 if errors else 200
    return _page(request, ledger, session, rights, values, errors=errors, status=status, fragment=fragment)


@post("/lao/{lao:str}/preview", sync_to_thread=False, status_code=200)
def lao_preview(
    request: Request[Any, Any, Any], lao: str, data: Form, ledger: LedgerService, session: Session
) -> Template:
    """What the form would change, decided by the ledger's rules; nothing is appended."""
    rights = _lao_and_rights(ledger, session, lao)
    values = {k: v for k, v in data.items() if k != "csrf"}
    fragment = bool(request.headers.get("hx-request"))
    try:
        _, _, preview = _decide(ledger, session, lao, data, write=False)
    except (BadInput, NotFound, Refused) as e:
        return _page(request, ledger, session, rights, values, errors=_errors_of(e), status=422, fragment=fragment)
    return _page(request, ledger, session, rights, values, preview=preview, fragment=fragment)


@post("/lao/{lao:str}/write", sync_to_thread=False, status_code=303)
def lao_write(request: Request[Any, Any, Any], lao: str, data: Form, ledger: LedgerService, session: Session) -> Any:
    """Append the form's command as the signed-in person; then its receipt."""
    rights = _lao_and_rights(ledger, session, lao)
    values = {k: v for k, v in data.items() if k != "csrf"}
    try:
        _, _, receipt = _decide(ledger, session, lao, data, write=True)
    except (BadInput, NotFound, Refused) as e:
        return _page(request, ledger, session, rights, values, errors=_errors_of(e), status=422)
    return Redirect(f"/receipt/{receipt.positions[-1]}", status_code=303)


@get("/receipt/{position:int}", sync_to_thread=False)
def receipt_page(request: Request[Any, Any, Any], position: int, ledger: LedgerService, session: Session) -> Template:
    """A printable receipt of one write: what, for whom, by whom, when, its position and leaf hash."""
    from ledger.domain.events import RecordEvent, decode_event

    size = ledger.app.ledger_recorder.log_size()
    if not 1 <= position <= size:
        raise NotFound(f"no event at position {position} (the ledger has {size})")
    logged = ledger.app.ledger_recorder.select_log(position - 1, 1)[0]
    event = decode_event(logged.state)
    if not isinstance(event, RecordEvent):
        raise NotFound(f"the event at position {position} is not a write on a mission record")
    registry, _ = _lao_and_rights(ledger, session, event.lao_code)
    # What was saved, every field as the record stood right after this write, on the day it holds
    # from (a void: the record then exists at no time, and nothing is shown).
    day = effective_day(event)
    try:
        saved = ledger.app.show(
            event.lao_code,
            event.mission_code,
            known_at=event.recorded_at,
            valid_on=day or bangkok_date(event.recorded_at),
        )
    except NotFound:
        saved = None
    return render(
        request,
        "receipt.html",
        session=session,
        logged=logged,
        event=event,
        kind=event.__struct_config__.tag,
        effective=day,
        saved=[(name, getattr(saved, name)) for name in FIELD_NAMES] if saved else [],
        lao=registry,
        mission=ledger.app.mission(event.mission_code),
    )


ROUTES: Final = [lao_page, lao_preview, lao_write, receipt_page]
