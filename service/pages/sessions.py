"""The open page sessions, for the admin: who is signed in, with which token, since and until
when; any of them ended with one button (as `session end` does). Never a secret."""

from __future__ import annotations

from typing import Annotated, Any, Final

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template

from ledger.identity import Identity, Session
from service.pages.web import render
from service.state import LedgerService


@get("/sessions", sync_to_thread=False)
def sessions_page(request: Request[Any, Any, Any], ledger: LedgerService, session: Session,
                  ended: int | None = None) -> Template:  # fmt: skip
    """Every open session, newest first; this one marked."""
    identity = Identity(ledger.as_principal(session.principal))  # the application decides who may
    found = identity.sessions()
    mine = next((s.session_id for s in identity.sessions(session.principal.name)
                 if s.token_id == session.token_id and s.expires_at == session.expires_at), None)  # fmt: skip
    return render(request, "sessions.html", session=session, sessions=found, mine=mine, ended=ended)


@post("/sessions/end", sync_to_thread=False, status_code=303)
def end_session(
    data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
    ledger: LedgerService,
    session: Session,
) -> Redirect:
    """End one session (by its id), or every session of a principal."""
    session_id = (data.get("session_id") or "").strip() or None
    name = (data.get("principal") or "").strip() or None
    identity = Identity(ledger.as_principal(session.principal))
    count = identity.end_sessions(session_id=session_id, name=None if session_id else name)
    return Redirect(f"/sessions?ended={count}", status_code=303)


ROUTES: Final = [sessions_page, end_session]
