"""What every page shares: who is signed in (a server-side session named by an HttpOnly cookie),
the CSRF check on every form, the language (Thai unless the person switched), dates in BE with
Thai month names, numbers grouped, and pages for errors instead of problem documents.

The session cookie is `__Host-ml_session`: HttpOnly, SameSite=Lax, Secure, Path=/, no Domain —
so no other site or subdomain can set or read it — except over plain HTTP on the loopback (a
person trying the service on their own machine), where it is `ml_session` without Secure. The
session itself lives in the ledger's store (hashed), so every worker knows it and signing out ends
it. Every POST carries the session's CSRF secret (a form field or htmx's X-CSRF-Token header),
checked by one guard for all pages before the body of a request without a session is read at
all; the sign-in form, before any session, carries a pre-session secret of its own cookie.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from pathlib import Path
from typing import Any, Final, Literal
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.response import Redirect, Template

from ledger.errors import BadInput, Forbidden, FormExpired, LedgerError, NotFound, Unauthenticated
from ledger.i18n.voice import Voice
from ledger.identity import Session
from service.hardening import escaped
from service.state import LedgerService

SESSION_COOKIE: Final = "ml_session"
#: The sign-in form's CSRF secret, before there is a session.
PRESESSION_COOKIE: Final = "ml_presession"
#: Host names that are this machine: plain HTTP there is a person trying the service locally.
_LOOPBACK: Final = ("localhost", "::1", "[::1]")
LANG_COOKIE: Final = "ml_lang"
DIGITS_COOKIE: Final = "ml_digits"
LANGUAGES: Final = ("th", "en")
#: Where a request keeps the session read for it (ASGI scope state).
_SESSION_READ: Final = "mission_ledger.session"
TEMPLATES: Final = Path(__file__).parent.parent / "templates"
STATIC: Final = Path(__file__).parent.parent / "static"
#: The English label (a catalog message) of each record field the pages show.
FIELD_LABELS: Final = {
    "status": "Status",
    "received_fy": "Fiscal year received (BE)",
    "quantity": "Quantity",
    "unit": "Unit",
    "budget": "Budget (baht)",
    "staff": "Staff",
    "note": "Note",
    "effective_from": "Effective from",
    "period_from": "Period from",
    "period_to": "Period to",
    "valid_from": "Valid from",
}


def language_of(request: Request[Any, Any, Any]) -> str:
    """language_of is the page language: the person's switch (a cookie), Thai by default."""
    lang = request.cookies.get(LANG_COOKIE, "th")
    return lang if lang in LANGUAGES else "th"


def speech_of(request: Request[Any, Any, Any]) -> Voice:
    """speech_of is the request's voice (ledger.i18n.voice): the language and digits from the
    person's cookies; years BE on every page, in either language (the ledger's readers count
    in BE)."""
    return Voice(language_of(request), "be", request.cookies.get(DIGITS_COOKIE) == "thai")


def environment() -> Environment:
    """environment is the pages' Jinja2 environment: HTML escaped everywhere."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["quote"] = quote
    env.globals["FIELD_LABELS"] = FIELD_LABELS
    return env


def plain_loopback(connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    """plain_loopback: the request came over plain HTTP to this machine's own address, where a
    browser keeps no Secure cookie that it would not send back either."""
    host = (connection.url.hostname or "").lower()
    return connection.url.scheme == "http" and (host in _LOOPBACK or host.startswith("127."))


def cookie_name(connection: ASGIConnection[Any, Any, Any, Any], base: str) -> str:
    """cookie_name is a secret cookie's name: `__Host-` prefixed (the browser then insists on
    Secure, Path=/ and no Domain), except over plain HTTP on the loopback."""
    return base if plain_loopback(connection) else f"__Host-{base}"


def set_secret_cookie(
    connection: ASGIConnection[Any, Any, Any, Any],
    response: Response[Any],
    base: str,
    value: str,
    *,
    samesite: Literal["lax", "strict"],
    max_age: int | None = None,
) -> None:
    """set_secret_cookie sets a session or pre-session cookie: HttpOnly, Path=/, Secure unless
    plain HTTP on the loopback."""
    response.set_cookie(
        cookie_name(connection, base), value, httponly=True, samesite=samesite, path="/",
        secure=not plain_loopback(connection), max_age=max_age,
    )  # fmt: skip


def drop_secret_cookie(connection: ASGIConnection[Any, Any, Any, Any], response: Response[Any], base: str) -> None:
    """drop_secret_cookie tells the browser to forget a secret cookie (with the attributes it was
    set with: a browser ignores a `__Host-` cookie's deletion that is not Secure)."""
    set_secret_cookie(connection, response, base, "", samesite="strict", max_age=0)


def session_of(request: Request[Any, Any, Any], ledger: LedgerService) -> Session | None:
    """session_of is the request's open session, or None (no cookie, ended, or unknown). Read
    from the store once per request: the CSRF guard, the handler and an error page share it."""
    state = request.scope.setdefault("state", {})
    if _SESSION_READ not in state:
        secret = request.cookies.get(cookie_name(request, SESSION_COOKIE))
        found = None
        if secret:
            try:
                found = ledger.identity.session(secret)
            except Unauthenticated:
                found = None
        state[_SESSION_READ] = found
    found_session: Session | None = state[_SESSION_READ]
    return found_session


def page_session(request: Request[Any, Any, Any], ledger: LedgerService) -> Session:
    """page_session is the signed-in session of a page (a dependency); without one the person
    is sent to the sign-in page, and brought back after."""
    found = session_of(request, ledger)
    if found is None:
        raise Unauthenticated("not signed in")
    request.scope.setdefault("state", {})["principal"] = found.principal.name
    return found


async def csrf_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """csrf_guard refuses a page's POST whose CSRF secret is not the session's (or, signing in,
    the pre-session cookie's): a form another site made the browser send does nothing. A POST
    that has neither is refused before its body is read."""
    if connection.scope.get("method") != "POST":
        return
    request: Request[Any, Any, Any] = connection  # type: ignore[assignment]
    ledger: LedgerService = request.app.state.ledger
    found = session_of(request, ledger)
    if found is not None:
        expected: str | None = found.csrf
    elif request.url.path == "/signin":
        expected = request.cookies.get(cookie_name(request, PRESESSION_COOKIE))
    else:
        raise Unauthenticated("not signed in")
    if not expected:
        raise FormExpired("the form has expired or came from another site: reload the page and send it again")
    sent = request.headers.get("x-csrf-token")
    if sent is None:
        form = await request.form()
        value = form.get("csrf")
        sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise FormExpired("the form has expired or came from another site: reload the page and send it again")


def safe_next(target: str | None) -> str:
    """safe_next is where to go after signing in or switching language: a path of this site
    only (never `//host` or a scheme), else the home page."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def render(
    request: Request[Any, Any, Any],
    template: str,
    *,
    session: Session | None = None,
    status: int = 200,
    **context: Any,
) -> Template:
    """render answers with a page (or, for htmx, the fragment template) in the person's language."""
    say = speech_of(request)
    presession = None
    if session is None:
        presession = request.cookies.get(cookie_name(request, PRESESSION_COOKIE)) or secrets.token_urlsafe(32)
    response = Template(
        template_name=template,
        context={
            "_": say,
            "say": say,
            "lang": say.lang,
            "session": session,
            "principal": session.principal if session else None,
            "csrf": session.csrf if session else presession,
            "path": request.url.path,
            "query": request.url.query,
            **context,
        },
        status_code=status,
        media_type="text/html",
        headers={"Cache-Control": "no-store", "Content-Language": say.lang},
    )
    if presession is not None and cookie_name(request, PRESESSION_COOKIE) not in request.cookies:
        set_secret_cookie(request, response, PRESESSION_COOKIE, presession, samesite="strict")
    return response


def page_error(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    """page_error shows an error as a page in the person's language (401: the sign-in page)."""
    if isinstance(error, Unauthenticated):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.headers.get("hx-request"):
            return Response(b"", status_code=401, headers={"HX-Redirect": "/signin"})
        return Redirect(f"/signin?next={quote(target)}", status_code=303)
    from litestar.exceptions import HTTPException

    from service.problems import HTTP_TITLES, fault_detail, store_fault

    status, title = 500, "Something went wrong"
    detail = "The service could not answer; the error was logged."
    fault = store_fault(error)
    if fault is not None:
        # The store did not answer: say so without naming it, and ask it nothing more.
        logging.getLogger("mission_ledger.service").warning(
            "store fault on %s: %s", escaped(request.url.path), escaped(str(error), 500, blanks=True)
        )
        title = "Insufficient storage" if fault == 507 else "The ledger's store is unavailable"
        page = render(request, "error.html", status=fault, title=title, detail=fault_detail(fault, request.method))
        page.headers["Retry-After"] = "5"
        return page
    if isinstance(error, LedgerError):
        kinds = (
            (Forbidden, 403, "Outside your role or scope"),
            (NotFound, 404, "Not found"),
            (BadInput, 400, "Bad input"),
        )
        status, title = next(
            ((s, t) for k, s, t in kinds if isinstance(error, k)), (409, "Refused by a rule of the ledger")
        )
        detail = str(error)
    elif isinstance(error, HTTPException):
        status, title, detail = error.status_code, HTTP_TITLES.get(error.status_code, "Bad request"), ""
    else:
        logging.getLogger("mission_ledger.service").error(
            "unforeseen error on %s", escaped(request.url.path), exc_info=error
        )
    ledger: LedgerService = request.app.state.ledger
    return render(request, "error.html", session=session_of(request, ledger), status=status, title=title, detail=detail)
