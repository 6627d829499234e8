"""Signing in: the bearer token of a request names its principal; nothing else a client sends
does. The guard signs the request in before anything of its body is read, so that a request
nobody signed answers 401 having cost the worker its head alone."""

from __future__ import annotations

from typing import Any, Final

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Guard

from ledger.domain.access import Operation, Principal, authorize
from service.state import LedgerService

#: Where a request keeps the principal its token signed in (ASGI scope state).
_PRINCIPAL: Final = "mission_ledger.principal"


def ledger_of(state: State) -> LedgerService:
    """ledger_of is the worker's LedgerService (a dependency of every handler)."""
    service: LedgerService = state.ledger
    return service


async def bearer_guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """bearer_guard signs in the request's `Authorization: Bearer <token>` (401 else), before the
    body is read. A sign-in link's token is no bearer token: it signs in once, on the pages."""
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    ledger: LedgerService = connection.app.state.ledger
    principal = ledger.identity.sign_in(token if scheme.lower() == "bearer" else None)
    state: dict[str, Any] = connection.scope.setdefault("state", {})
    state[_PRINCIPAL] = principal
    state["principal"] = principal.name


def signed_in(request: Request[Any, Any, Any], ledger: LedgerService) -> Principal:
    """signed_in is the principal bearer_guard signed in (a dependency of every API handler).

    It names `ledger` to come after it: Litestar resolves dependencies that depend on nothing
    else together, in a task group of their own — a hand-off that cost every request more than
    both dependencies."""
    principal: Principal = request.scope["state"][_PRINCIPAL]
    return principal


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    """principal_of is who a request acts for: the bearer token's principal (API), or the page
    session's (pages; Unauthenticated sends the person to sign in)."""
    state = connection.scope.setdefault("state", {})
    found: Principal | None = state.get(_PRINCIPAL)
    if found is not None:
        return found
    from service.pages.web import page_session

    return page_session(connection, connection.app.state.ledger).principal  # type: ignore[arg-type]


def requires(operation: Operation) -> Guard:
    """requires is the guard of a route that does `operation`: the application's one rule
    (ledger.domain.access.authorize) decides, on the scope the route's path names — an LAO
    (`lao`, whose province and district the registry gives), a district or a province."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
        principal = principal_of(connection)
        lao = connection.path_params.get("lao")
        district = connection.path_params.get("district")
        province = connection.path_params.get("province")
        if (lao is not None or district is not None) and province is None:
            from service.params import province_lookup

            where = province_lookup(connection.app.state.ledger.views())
            if lao is not None:
                province, district = where("lao", lao), where("lao-district", lao)
            elif district is not None:
                province = where("district", district)
        authorize(principal, operation, province=province, lao=lao, district=district)

    return guard
