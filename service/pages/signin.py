"""Signing in and out, and the language switch.

A person signs in with a one-time link (`token issue NAME --link URL`: the token rides in the
link's #fragment, which the browser never sends; the page's script puts it in the form) or by
pasting a token. Either way the form POSTs it once and gets a session cookie; a link's token is
revoked in the same step. Signing out deletes the session from the store.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template

from ledger.domain.access import Principal
from ledger.errors import Unauthenticated
from service.pages.web import (
    DIGITS_COOKIE,
    LANG_COOKIE,
    LANGUAGES,
    PRESESSION_COOKIE,
    SESSION_COOKIE,
    drop_secret_cookie,
    render,
    safe_next,
    session_of,
    set_secret_cookie,
)
from service.state import LedgerService

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
_YEAR: Final = 365 * 24 * 3600


def home_of(principal: Principal) -> str:
    """home_of is where a principal starts: its province's dashboard, its district's page, its
    LAO's page, or (for the whole country) the list of provinces."""
    if principal.provinces():
        return f"/province/{min(principal.provinces())}"
    if principal.districts():
        return f"/district/{min(principal.districts())}"
    if principal.laos():
        return f"/lao/{min(principal.laos())}"
    if principal.reads_everything:
        return "/nation"
    return "/proof"


@get("/", sync_to_thread=False)
def home(request: Request[Any, Any, Any], ledger: LedgerService) -> Redirect:
    """The home page: the signed-in person's own dashboard, or the sign-in page."""
    found = session_of(request, ledger)
    return Redirect(home_of(found.principal) if found else "/signin", status_code=303)


@get("/signin", sync_to_thread=False)
def signin_page(request: Request[Any, Any, Any], ledger: LedgerService, next: str | None = None) -> Template:
    """The sign-in page: paste a token, or open a sign-in link (its script fills the form). A
    person signed in already is told who, and signing in switches to the new token's person."""
    found = session_of(request, ledger)
    return render(request, "signin.html", session=found, next=safe_next(next), error=None)


@post("/signin", sync_to_thread=False, status_code=303)
def signin(request: Request[Any, Any, Any], data: Form, ledger: LedgerService) -> Any:
    """Exchange a token (or a link's one-time token) for a session cookie."""
    target = safe_next(data.get("next"))
    before = session_of(request, ledger)
    try:
        session = ledger.identity.start_session(data.get("token", "").strip() or None)
    except Unauthenticated as e:
        return render(request, "signin.html", session=before, next=target, error=str(e), status=401)
    if before is not None:  # switching person: the old session ends here
        ledger.identity.end_session(before.secret)
    response = Redirect(target if target != "/" else home_of(session.principal), status_code=303)
    max_age = int((session.expires_at - ledger.app.clock.now()).total_seconds())
    set_secret_cookie(request, response, SESSION_COOKIE, session.secret, samesite="lax", max_age=max_age)
    drop_secret_cookie(request, response, PRESESSION_COOKIE)
    return response


@post("/signout", sync_to_thread=False, status_code=303)
def signout(request: Request[Any, Any, Any], ledger: LedgerService) -> Redirect:
    """End the session: the store forgets it, so the cookie signs nobody in any more."""
    found = session_of(request, ledger)
    if found is not None:
        ledger.identity.end_session(found.secret)
    response = Redirect("/signin", status_code=303)
    drop_secret_cookie(request, response, SESSION_COOKIE)
    return response


@get("/lang/{lang:str}", sync_to_thread=False)
def switch_language(lang: str, next: str | None = None, digits: str | None = None) -> Redirect:
    """Switch the pages' language (th, en), and Thai digits on or off; back to the page."""
    response = Redirect(safe_next(next), status_code=303)
    if lang in LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, samesite="lax", path="/", max_age=_YEAR)
    if digits in ("thai", "arabic"):
        response.set_cookie(DIGITS_COOKIE, digits, samesite="lax", path="/", max_age=_YEAR)
    return response


ROUTES: Final = [home, signin_page, signin, signout, switch_language]
