"""Delegated accounts over HTTP (issue 24): a province officer — or an admin — adds the accounts of
her LAOs' clerks and her districts' officers, grants and revokes their roles, hands each a
one-time sign-in link, and disables them. The application decides every permission
(`ledger.identity.Identity`, acting as the signed-in principal); this module only reads bodies and
writes answers. Every change is an event whose actor is the officer."""

from __future__ import annotations

from typing import Any, Final

import msgspec
from litestar import Request, Response, get, post

from ledger.domain.access import Principal
from ledger.errors import BadInput
from ledger.identity import Identity
from projections.documents import plain
from service.hardening import json_body
from service.params import json_response
from service.state import LedgerService


class NewAccount(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """NewAccount is a POST /accounts body."""

    name: str
    roles: list[str]
    display_name: str | None = None


class RoleChange(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """RoleChange is a POST /accounts/{name}/grant or /revoke body."""

    role: str


class Renaming(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Renaming is a POST /accounts/{name}/rename body."""

    display_name: str | None = None


class Closing(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Closing is a POST /accounts/{name}/disable body."""

    reason: str | None = None


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


@get("/accounts", sync_to_thread=False)
def list_accounts(ledger: LedgerService, principal: Principal, province: str | None = None) -> Response[bytes]:
    """The accounts of a province's LAO clerks and district officers (default: the officer's)."""
    if province is None:
        provinces = principal.provinces()
        if len(provinces) != 1:
            raise BadInput("give the province whose accounts to list", field="province")
        province = next(iter(provinces))
    found = Identity(ledger.as_principal(principal)).accounts_of(province)
    return json_response([account_document(a) for a in found])


@post("/accounts", status_code=201)
async def add_account(request: Request[Any, Any, Any], ledger: LedgerService, principal: Principal) -> Response[bytes]:
    """Add an account with its roles: 201; 403 beyond the officer's province or for a role only
    an admin grants."""
    body = json_body(request.headers.get("content-type"), await request.body(), NewAccount)
    identity = Identity(ledger.as_principal(principal))
    identity.add(body.name, body.roles, body.display_name)
    return json_response(account_document(identity.principal(body.name)), status=201)


@post("/accounts/{name:str}/{change:str}", status_code=200)
async def change_account(
    name: str, change: str, request: Request[Any, Any, Any], ledger: LedgerService, principal: Principal
) -> Response[bytes]:
    """Change an account: `grant` or `revoke` a role ({"role": …}), `rename` it ({"display_name":
    …}: the name people read), `disable` it ({"reason": …}:
    every role and token revoked, its sessions ended), or issue its one-time sign-in `link`
    (answered once: the link is never shown again)."""
    identity = Identity(ledger.as_principal(principal))
    body = await request.body()
    content_type = request.headers.get("content-type")
    if change in ("grant", "revoke"):
        role = json_body(content_type, body, RoleChange).role
        identity.grant(name, role) if change == "grant" else identity.revoke(name, role)
    elif change == "rename":
        identity.rename(name, json_body(content_type, body, Renaming).display_name)
    elif change == "disable":
        reason = json_body(content_type, body, Closing).reason if body else None
        identity.disable(name, reason)
    elif change == "link":
        issued = identity.issue(name, one_time=True, label="sign-in link")
        base = str(request.base_url).rstrip("/")
        document = {"name": name, "token_id": issued.token_id, "expires_at": issued.expires_at}
        # Shown once: never cached, never stored anywhere but in the answer.
        return json_response(
            {**plain(document), "link": f"{base}/signin#link={issued.token}"},
            status=201,
            headers={"Cache-Control": "no-store"},
        )
    else:
        raise BadInput(
            f"{change!r} is not a change of an account (grant, revoke, rename, disable, link)", field="change"
        )
    return json_response(account_document(identity.principal(name)))


ROUTES: Final = [list_accounts, add_account, change_account]
