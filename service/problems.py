"""Errors as RFC 9457 problem documents (`application/problem+json`), with DESIGN §10's status codes.

Each LedgerError kind has one status; the document names the field that was wrong when there was
one. An unforeseen error is a 500 whose detail says nothing of the server's insides (the access
log and the server's log keep the traceback).
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any, Final

import msgspec
import psycopg
from eventsourcing.persistence import InterfaceError, OperationalError
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from ledger.errors import (
    BadInput,
    Conflict,
    Forbidden,
    LedgerError,
    NotFound,
    Refused,
    StaleVersion,
    StoreUnavailable,
    Unauthenticated,
    Unprocessable,
)
from service.hardening import escaped

PROBLEM: Final = "application/problem+json"
#: (status, problem type slug, title) of each error kind, most specific first.
_KINDS: Final[tuple[tuple[type[LedgerError], int, str, str], ...]] = (
    (Unauthenticated, 401, "unauthenticated", "Not signed in"),
    (Forbidden, 403, "forbidden", "Outside your role or scope"),
    (StaleVersion, 412, "stale-version", "The record changed since that version"),
    (Conflict, 409, "conflict", "Someone else wrote first"),
    (Refused, 409, "refused", "Refused by a rule of the ledger"),
    (Unprocessable, 422, "unprocessable", "Cannot be taken as sent"),
    (BadInput, 400, "bad-input", "Bad input"),
    (NotFound, 404, "not-found", "Not found"),
    (StoreUnavailable, 503, "store-unavailable", "The ledger's store is unavailable"),
)
HTTP_TITLES: Final = {
    400: "Bad request",
    404: "Not found",
    405: "Method not allowed",
    413: "Upload too large",
    415: "Unsupported media type",
    422: "Cannot be taken as sent",
    431: "Request header fields too large",
}
log = logging.getLogger("mission_ledger.service")


def problem(status: int, kind: str, title: str, detail: str, instance: str, **extra: Any) -> Response[bytes]:
    """problem is one problem document response."""
    body = {
        "type": f"urn:mission-ledger:problem:{kind}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
        **{k: v for k, v in extra.items() if v is not None},
    }
    headers = {"WWW-Authenticate": 'Bearer realm="mission-ledger"'} if status == 401 else {}
    return Response(msgspec.json.encode(body), status_code=status, media_type=PROBLEM, headers=headers)


def store_fault(error: BaseException) -> int | None:
    """store_fault is the status of an error the store caused: 507 when its disk is full, 503
    when it did not answer (down, restarting, out of connections); None for any other error."""
    chain: list[BaseException] = []
    found: BaseException | None = error
    while found is not None and found not in chain and len(chain) < 10:
        chain.append(found)
        found = found.__cause__ or found.__context__
    for e in chain:
        text = str(e).lower()
        if "disk is full" in text or "no space left" in text or type(e).__name__ == "DiskFull":
            return 507
    unavailable = (
        StoreUnavailable, OperationalError, InterfaceError, sqlite3.OperationalError, psycopg.OperationalError,
        psycopg.InterfaceError, ConnectionError, TimeoutError,
    )  # fmt: skip
    if any(isinstance(e, unavailable) or type(e).__name__ == "PoolTimeout" for e in chain):
        return 503
    return None


def fault_detail(status: int, method: str) -> str:
    """fault_detail says a store fault without naming the store (no path, host, user or database)."""
    if status == 507:
        return "the ledger's store has no room left; nothing more can be recorded until the operator frees space"
    if method in ("POST", "PUT", "PATCH", "DELETE"):
        return (
            "the ledger's store did not answer: whether the write was recorded is unknown; send it again with "
            "the same Idempotency-Key (it then answers the first write's outcome), or read the record first"
        )
    return "the ledger's store did not answer; try again in a few seconds"


def _fault(request: Request[Any, Any, Any], error: BaseException, status: int) -> Response[bytes]:
    log.warning(
        "store fault on %s %s: %s", request.method, escaped(request.url.path), escaped(str(error), 500, blanks=True)
    )
    title = "Insufficient storage" if status == 507 else "The ledger's store is unavailable"
    response = problem(status, "store-full" if status == 507 else "store-unavailable", title,
                       fault_detail(status, request.method), request.url.path)  # fmt: skip
    response.headers["Retry-After"] = "5"
    return response


def ledger_error(request: Request[Any, Any, Any], error: LedgerError) -> Response[bytes]:
    """ledger_error says a foreseeable error of the ledger in its status."""
    fault = store_fault(error)
    if fault is not None:
        return _fault(request, error, fault)
    # Every input refused at once (a body with three bad fields): `errors`, as for Litestar's own.
    errors = [{"field": e.field, "message": str(e)} for e in (error, *error.also)] if error.also else None
    for kind, status, slug, title in _KINDS:
        if isinstance(error, kind):
            return problem(status, slug, title, str(error), request.url.path, field=error.field, errors=errors)
    return problem(409, "refused", "Refused", str(error), request.url.path, field=error.field)


def http_error(request: Request[Any, Any, Any], error: HTTPException) -> Response[bytes]:
    """http_error says Litestar's own refusals (no route, wrong method, a body too large, a
    parameter of the wrong type) as problem documents too."""
    status = error.status_code
    errors = None
    detail = error.detail
    if isinstance(error, ValidationException) and isinstance(error.extra, list):
        errors = [
            {"field": e.get("key"), "source": e.get("source"), "message": e.get("message")}
            for e in error.extra
            if isinstance(e, dict)
        ]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors) or detail
        if "got `float`" in detail:
            # A JSON number with a fraction may already have been rounded by the sender's floats.
            detail += ' (send a decimal as a string, e.g. "12.50", so that it stays exact)'
    if status == 413:
        detail = "the upload is larger than the service accepts (see docs/limits.md)"
    title = HTTP_TITLES.get(status, "Error")
    slug = title.lower().replace(" ", "-")
    response = problem(status, slug, title, detail, request.url.path, errors=errors)
    allow = (error.headers or {}).get("allow") or (error.headers or {}).get("Allow")
    if status == 405 and allow:
        response.headers["Allow"] = allow  # RFC 9110 §15.5.6: the methods the resource has
    return response


def unforeseen(request: Request[Any, Any, Any], error: Exception) -> Response[bytes]:
    """unforeseen: an outage of the store (503, 507), or a bug nobody foresaw (500); logged
    whole, said in one line that names nothing of the server's insides."""
    fault = store_fault(error)
    if fault is not None:
        return _fault(request, error, fault)
    log.exception("unforeseen error on %s %s", request.method, request.url.path)
    return problem(500, "internal", "Internal error", "the service failed; its log says why", request.url.path)
