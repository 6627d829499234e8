"""A province's accounts (issue 24): the officer adds her LAOs' clerks and her districts' officers,
hands each a one-time sign-in link — shown once, printable, with a QR code — and disables them.
The application decides every permission (`ledger.identity.Identity`, acting as the officer)."""

from __future__ import annotations

from typing import Annotated, Any, Final
from urllib.parse import quote

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template

from ledger.errors import BadInput, NotFound, Refused
from ledger.identity import Identity, Session
from projections.queries import find_laos
from service.auth import requires
from service.pages.letter import qr_svg
from service.pages.web import render
from service.state import LedgerService

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


def _page(
    request: Request[Any, Any, Any], ledger: LedgerService, session: Session, province: str, **context: Any
) -> Template:
    identity = Identity(ledger.as_principal(session.principal))
    accounts = identity.accounts_of(province)
    laos = find_laos(ledger.views(), province=province)
    districts = sorted({(lao["district_code"], lao["district_th"]) for lao in laos})
    names = {lao["lao_code"]: lao["name_th"] for lao in laos}
    return render(
        request, "accounts.html", session=session, province=province, accounts=accounts, laos=laos,
        districts=districts, names=names, values=context.pop("values", {}), errors=context.pop("errors", {}),
        **context,
    )  # fmt: skip


@get("/province/{province:str}/accounts", sync_to_thread=False, guards=[requires("delegate")])
def accounts_page(
    request: Request[Any, Any, Any], province: str, ledger: LedgerService, session: Session, done: str | None = None
) -> Template:
    """The accounts the province office keeps, and the form that adds one."""
    return _page(request, ledger, session, province, done=done)


@post("/province/{province:str}/accounts", sync_to_thread=False, status_code=303, guards=[requires("delegate")])
def add_account(
    request: Request[Any, Any, Any], province: str, data: Form, ledger: LedgerService, session: Session
) -> Any:
    """Add a clerk's or a district officer's account; refused beside its field."""
    values = {k: v.strip() for k, v in data.items() if k != "csrf"}
    identity = Identity(ledger.as_principal(session.principal))
    try:
        identity.add(values.get("name", ""), [values.get("role", "")], values.get("display_name") or None)
    except (BadInput, NotFound, Refused) as e:
        field = "role" if "role" in str(e) or isinstance(e, NotFound) else "name"
        return _page(request, ledger, session, province, values=values, errors={field: str(e)}, status=422)
    return Redirect(f"/province/{province}/accounts?done={quote(values['name'])}", status_code=303)


@post("/province/{province:str}/accounts/{name:str}/link", sync_to_thread=False, guards=[requires("delegate")])
def account_link(request: Request[Any, Any, Any], province: str, name: str, ledger: LedgerService,
                 session: Session) -> Template:  # fmt: skip
    """A one-time sign-in link for an account: shown this once (never stored, never cached),
    printable, with its QR code."""
    issued = Identity(ledger.as_principal(session.principal)).issue(name, one_time=True, label="sign-in link")
    link = f"{str(request.base_url).rstrip('/')}/signin#link={issued.token}"
    return render(request, "account_link.html", session=session, province=province, name=name, link=link,
                  qr=qr_svg(link), expires=issued.expires_at)  # fmt: skip


@post("/province/{province:str}/accounts/{name:str}/disable", sync_to_thread=False, status_code=303,
      guards=[requires("delegate")])  # fmt: skip
def disable_account(province: str, name: str, data: Form, ledger: LedgerService, session: Session) -> Redirect:
    """Close an account: its roles and tokens revoked, its sessions ended."""
    Identity(ledger.as_principal(session.principal)).disable(name, data.get("reason") or None)
    return Redirect(f"/province/{province}/accounts?done={quote(name)}", status_code=303)


@post("/province/{province:str}/accounts/{name:str}/rename", sync_to_thread=False, status_code=303,
      guards=[requires("delegate")])  # fmt: skip
def rename_account(province: str, name: str, data: Form, ledger: LedgerService, session: Session) -> Redirect:
    """Change the name people read for an account (its own name never changes)."""
    Identity(ledger.as_principal(session.principal)).rename(name, (data.get("display_name") or "").strip() or None)
    return Redirect(f"/province/{province}/accounts?done={quote(name)}", status_code=303)


ROUTES: Final = [accounts_page, add_account, account_link, disable_account, rename_account]
