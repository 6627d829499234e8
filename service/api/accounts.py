"""Delegated accounts over HTTP (issue 24): a province officer — or an admin — adds the accounts of
her LAOs' clerks and her districts' officers, grants and revokes their roles, hands each a
one-time sign-in link, and disables them. The application decides every permission
(`ledger.identity.Identity`, acting as the signed-in principal); this module only reads bodies and
writes answers. Every change is an event whose actor is the officer."""

from __future__ import annotations

from typing import Any, Final

from litestar import HttpMethod, Request, Response, get, post, route

from ledger.domain.access import Principal
from ledger.domain.provinces import parse_province_code
from ledger.errors import Unprocessable
from ledger.identity import Identity
from projections.documents import plain
from service.api.contract import PROVINCE, WRITES, Answer, declares
from service.api.documents import NAME_PATTERN, Account, Closing, NewAccount, Renaming, RoleChange, SignInLink
from service.hardening import json_body
from service.params import json_response
from service.state import LedgerService


def account_document(found: Any) -> dict[str, Any]:
    """account_document is an account as the API answers it: never a token, never a hash."""
    return {
        "name": found.name,
        "display_name": found.display_name,
        "roles": sorted(str(r) for r in found.roles),
        "tokens": [
            {"token_id": t.token_id, "expires_at": t.expires_at, "revoked_at": t.revoked_at, "link": t.one_time}
            for t in found.tokens.values()
        ],
    }


_NAME: Final = {"name": {"type": "string", "pattern": NAME_PATTERN, "description": "the account's name"}}


@get(
    "/accounts",
    sync_to_thread=False,
    opt=declares("list_accounts", Answer(200, list[Account], headers=("ETag",)), params={"province": PROVINCE}),
)
def list_accounts(ledger: LedgerService, principal: Principal, province: str | None = None) -> Response[bytes]:
    """The accounts of a province's LAO clerks and district officers (default: the officer's)."""
    province = parse_province_code(province)
    if province is None:
        provinces = principal.provinces()
        if len(provinces) != 1:
            raise Unprocessable("give the province whose accounts to list", field="province")
        province = next(iter(provinces))
    found = Identity(ledger.as_principal(principal)).accounts_of(province)
    return json_response([account_document(a) for a in found])


@post(
    "/accounts",
    status_code=201,
    opt=declares("add_account", Answer(201, Account), errors=(409, *WRITES), body=NewAccount),
)
async def add_account(request: Request[Any, Any, Any], ledger: LedgerService, principal: Principal) -> Response[bytes]:
    """Add an account with its roles: 201; 403 beyond the officer's province or for a role only
    an admin grants."""
    body = json_body(request.headers.get("content-type"), await request.body(), NewAccount)
    identity = Identity(ledger.as_principal(principal))
    identity.add(body.name, body.roles, body.display_name)
    return json_response(account_document(identity.principal(body.name)), status=201)


@route("/accounts", http_method=[HttpMethod.OPTIONS], sync_to_thread=False, include_in_schema=False)
def accounts_options() -> Response[None]:
    """The methods /accounts allows. Said here because Litestar (2.x) answers OPTIONS from the
    first handler registered on a path, and would leave out the second's method."""
    return Response(None, status_code=204, headers={"Allow": "GET, OPTIONS, POST"})


def _identity(ledger: LedgerService, principal: Principal) -> Identity:
    return Identity(ledger.as_principal(principal))


async def _role_change(
    change: str, name: str, request: Request[Any, Any, Any], ledger: LedgerService, principal: Principal
) -> Response[bytes]:
    identity = _identity(ledger, principal)
    role = json_body(request.headers.get("content-type"), await request.body(), RoleChange).role
    identity.grant(name, role) if change == "grant" else identity.revoke(name, role)
    return json_response(account_document(identity.principal(name)))


def _changed(name: str, body: Any) -> dict[str, Any]:
    return declares(f"{name}_account", Answer(200, Account), errors=(404, 409, *WRITES), body=body, params=_NAME)


@post("/accounts/{name:str}/grant", status_code=200, opt=_changed("grant", RoleChange))
async def grant_role(
    name: str, request: Request[Any, Any, Any], ledger: LedgerService, principal: Principal
) -> Response[bytes]:
    """Grant the account a role (`lao:CODE` of the officer's province, or `district:CODE`)."""
    return await _role_change("grant", name, request, ledger, principal)


@post("/accounts/{name:str}/revoke", status_code=200, opt=_changed("revoke", RoleChange))
async def revoke_role(
    name: str, request: Request[Any, Any, Any], ledger: LedgerService, principal: Principal
) -> Response[bytes]:
    """Revoke a role of the account."""
    return await _role_change("revoke", name, request, ledger, principal)


@post("/accounts/{name:str}/rename", status_code=200, opt=_changed("rename", Renaming))
async def rename_account(
    name: str, request: Request[Any, Any, Any], ledger: LedgerService, principal: Principal
) -> Response[bytes]:
    """Rename the account: the name people read (null: none)."""
    identity = _identity(ledger, principal)
    identity.rename(name, json_body(request.headers.get("content-type"), await request.body(), Renaming).display_name)
    return json_response(account_document(identity.principal(name)))


@post(
    "/accounts/{name:str}/disable",
    status_code=200,
    opt=declares(
        "disable_account",
        Answer(200, Account),
        errors=(404, 409, *WRITES),
        body=Closing,
        body_required=False,
        params=_NAME,
    ),
)
async def disable_account(
    name: str, request: Request[Any, Any, Any], ledger: LedgerService, principal: Principal
) -> Response[bytes]:
    """Disable the account: every role and token revoked in one write, its sessions ended."""
    identity = _identity(ledger, principal)
    body = await request.body()
    identity.disable(name, json_body(request.headers.get("content-type"), body, Closing).reason if body else None)
    return json_response(account_document(identity.principal(name)))


@post(
    "/accounts/{name:str}/link",
    status_code=201,
    opt=declares(
        "issue_link",
        Answer(201, SignInLink, headers=("Cache-Control",), description="the link, shown once"),
        errors=(404, 409, *WRITES),
        params=_NAME,
    ),
)
async def issue_link(
    name: str, request: Request[Any, Any, Any], ledger: LedgerService, principal: Principal
) -> Response[bytes]:
    """Issue the account's one-time sign-in link (answered once: the link is never shown again)."""
    issued = _identity(ledger, principal).issue(name, one_time=True, label="sign-in link")
    base = str(request.base_url).rstrip("/")
    document = {"name": name, "token_id": issued.token_id, "expires_at": issued.expires_at}
    # Shown once: never cached, never stored anywhere but in the answer.
    return json_response(
        {**plain(document), "link": f"{base}/signin#link={issued.token}"},
        status=201,
        headers={"Cache-Control": "no-store"},
    )


# The OPTIONS handler first: Litestar keeps the first OPTIONS handler it finds on a path.
ROUTES: Final = [
    accounts_options,
    list_accounts,
    add_account,
    grant_role,
    revoke_role,
    rename_account,
    disable_account,
    issue_link,
]
