"""Signing in: the bearer token of a request names its principal; nothing else a client sends
does. The access log line of each request names the principal, never the token."""

from __future__ import annotations

import logging
import time
from typing import Any, Final

from litestar import Request
from litestar.datastructures import State
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from ledger.domain.access import Principal
from service.state import LedgerService

access_log: Final = logging.getLogger("mission_ledger.access")


def ledger_of(state: State) -> LedgerService:
    """ledger_of is the worker's LedgerService (a dependency of every handler)."""
    service: LedgerService = state.ledger
    return service


def signed_in(request: Request[Any, Any, Any], ledger: LedgerService) -> Principal:
    """signed_in is the principal of the request's `Authorization: Bearer <token>`; 401 else."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    principal = ledger.identity.sign_in(token if scheme.lower() == "bearer" else None)
    request.scope.setdefault("state", {})["principal"] = principal.name
    return principal


def access_logging(app: ASGIApp) -> ASGIApp:
    """access_logging wraps the application: one line per request with the principal, the
    method, the route, the status and the duration. Never a header, a body or a query string."""

    async def logged(scope: Scope, receive: Receive, send: Send) -> None:
        if str(scope["type"]) != "http":
            await app(scope, receive, send)
            return
        start = time.perf_counter()
        status = [0]

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await app(scope, receive, sending)
        finally:
            state = scope.get("state") or {}
            access_log.info(
                "principal=%s method=%s path=%s status=%d ms=%.1f",
                state.get("principal", "-"),
                scope.get("method", "-"),
                scope.get("path", "-"),
                status[0],
                (time.perf_counter() - start) * 1000,
            )

    return logged
