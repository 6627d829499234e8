"""The API's contract: each operation declares, beside its handler, what it takes and answers
(`declares(...)`, kept in the handler's `opt`), and `completed` writes that into the OpenAPI
document Litestar generates — the bodies as the types of service.api.documents (their JSON Schema
by msgspec), the media types, the headers, the parameters' bounds, and a problem document
(RFC 9457, `application/problem+json`) on every error status.

Why not Litestar's own response types: the handlers encode each answer once, from the
projections' values (a national as-of is 100,000s of rows), and answer bytes; declaring the
types here keeps that and still tells a client exactly what it gets. tests/e2e/test_contract.py
holds both to it: Schemathesis against a real server, and a client generated from the document.
"""

from __future__ import annotations

import copy
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import msgspec
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.routes import HTTPRoute

from ledger.domain.limits import MAX_SEARCH_CHARS
from service.api import documents as d

if TYPE_CHECKING:
    from litestar import Litestar, Request

JSON: Final = "application/json"
PROBLEM: Final = "application/problem+json"
BATCH: Final = "application/cloudevents-batch+json"
NOTE: Final = "text/plain; charset=utf-8"
CSV: Final = "text/csv; charset=utf-8"
EVENTS: Final = "text/event-stream"
MULTIPART: Final = "multipart/form-data"

#: Every operation under /api/v1 may answer these: a parameter that does not parse (400), no or
#: a bad token (401), outside the principal's roles (403), an LAO, district, record or checkpoint
#: that is not there (404), values that parse but cannot be taken together (422), a bug (500), the
#: store not answering (503, with Retry-After).
ALWAYS: Final = (400, 401, 403, 404, 422, 500, 503)
#: What a write may answer besides: a body too large (413), not JSON (415), the disk full (507).
WRITES: Final = (413, 415, 507)

_STATUS_TEXT: Final = {
    200: "OK",
    201: "Created",
    304: "Not modified: the ETag sent in If-None-Match is still the answer's",
    400: "Bad input: a parameter, header or body field that does not parse (`field` names it; `errors` lists each)",
    401: "Not signed in: no token, or an unknown, expired or revoked one",
    403: "Outside the principal's roles or scope",
    404: "Not found (the LAO, mission, record or checkpoint)",
    409: "Refused by a rule of the ledger, or someone else wrote first",
    412: "If-Match names a version the record is no longer at: nothing was appended",
    413: "The body is larger than the operation accepts (docs/limits.md)",
    415: "The body is not of the media type the operation takes",
    422: "Well-formed values that cannot be taken as sent: not together (two scopes), a file of a kind not read, "
    "an Idempotency-Key used before with another request",
    500: "The service failed; its log says why",
    503: "The store did not answer; try again after Retry-After seconds",
    507: "The store has no room left; nothing was recorded",
}

#: The response headers the operations name, with what each says.
HEADERS: Final[dict[str, dict[str, Any]]] = {
    "ETag": {
        "description": "a strong entity tag: a record's version (for If-Match), else a digest of the body "
        "(for If-None-Match)",
        "schema": {"type": "string"},
    },
    "Location": {"description": "the record written", "schema": {"type": "string"}},
    "Link": {
        "description": 'the next page: `<…?after=N&…>; rel="next"`, keeping every filter',
        "schema": {"type": "string"},
    },
    "Cache-Control": {
        "description": "no-store on the feed and on a sign-in link; `private, max-age=86400` on a proof between "
        "given sizes (it proves the same hashes forever)",
        "schema": {"type": "string"},
    },
    "Idempotent-Replay": {
        "description": "`true`: this answers an earlier write with the same Idempotency-Key; nothing more was appended",
        "schema": {"type": "string", "enum": ["true"]},
    },
    "Mission-Ledger-Seal": {
        "description": "the round's seal an answer as known at a sealed deadline can be proven against: "
        "`round=R; size=N; root=B64`",
        "schema": {"type": "string"},
    },
    "Retry-After": {"description": "seconds to wait before trying again", "schema": {"type": "string"}},
    "WWW-Authenticate": {"description": 'Bearer realm="mission-ledger"', "schema": {"type": "string"}},
}


@dataclass(frozen=True)
class Answer:
    """Answer is one success an operation can give: its status, body type (None: no body),
    media types and headers."""

    status: int
    body: Any = None
    media: tuple[str, ...] = (JSON,)
    headers: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class Contract:
    """Contract is what one operation takes and answers (see `declares`)."""

    operation: str
    answers: tuple[Answer, ...]
    errors: tuple[int, ...]
    body: Any = None
    body_media: str = JSON
    body_required: bool = True
    params: Mapping[str, dict[str, Any]] = field(default_factory=dict)
    headers: Mapping[str, dict[str, Any]] = field(default_factory=dict)
    always: tuple[int, ...] = ALWAYS


def declares(
    operation: str,
    *answers: Answer,
    errors: tuple[int, ...] = (),
    body: Any = None,
    body_media: str = JSON,
    body_required: bool = True,
    params: Mapping[str, dict[str, Any]] | None = None,
    headers: Mapping[str, dict[str, Any]] | None = None,
    always: tuple[int, ...] = ALWAYS,
) -> dict[str, Any]:
    """declares is a route's `opt`: its operation id, its answers, the error statuses it gives
    beyond ALWAYS, its request body, and the schemas of its parameters (by name; replacing the
    loose ones Litestar reads off the signature) and of the request headers it reads."""
    found = Contract(operation, answers, errors, body, body_media, body_required, params or {}, headers or {}, always)
    return {"contract": found}


# --- parameters ----------------------------------------------------------------------------------


def text(pattern: str, description: str, *examples: str) -> dict[str, Any]:
    """text is a string parameter's schema."""
    found: dict[str, Any] = {"type": "string", "pattern": pattern, "description": description}
    if examples:
        found["examples"] = list(examples)
    return found


LAO: Final = text(d.LAO_PATTERN, "a 7-digit DLA LAO code", "6810103")
MISSION: Final = text(d.MISSION_PATTERN, "a mission code of the catalog", "INF-01")
PROVINCE: Final = text("^[0-9]{2}$", "a 2-digit province code", "81")
DISTRICT: Final = text("^[0-9]{4}$", "a 4-digit district code", "8101")
DATE: Final = text(
    d.DATE_PATTERN, "a date, ISO 8601 (a year ≥ 2443 is BE); 30/12/2567 and 30 ธ.ค. 2567 are read too", "2024-12-30"
)
INSTANT: Final = text(
    d.INSTANT_PATTERN, "an RFC 3339 time, or a date (the end of that day in Bangkok)", "2024-12-30T23:59:59+07:00"
)
SINCE: Final = text(d.INSTANT_PATTERN, "an RFC 3339 time, or a date (the start of that day in Bangkok)", "2024-10-01")
ROUND: Final = text("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", "a round's name", "fy2568")
SEQUENCE: Final = text("^[0-9]{1,12}$", "a ledger sequence (position) the feed gave; 0 for the start", "000000000094")
KINDS: Final = {"type": "array", "items": {"type": "string", "enum": list(msgspec.json.schema(d.Kind)["enum"])}}
POSITION: Final = {"type": "integer", "minimum": 1, "maximum": 1 << 53}
SIZE: Final = {"type": "integer", "minimum": 0, "maximum": 1 << 53}
SEARCH: Final = {"type": "string", "maxLength": MAX_SEARCH_CHARS, "description": "a code or a fragment of a Thai name"}


def completed(document: dict[str, Any], app: Litestar) -> dict[str, Any]:
    """completed is Litestar's OpenAPI document with every route's contract written in: the
    schemas of its bodies (under components), its answers, its problems and its parameters.
    A route under /api/v1 without a contract is a bug, refused here (at the first request for
    the document; the test suite asks for it)."""
    found = copy.deepcopy(document)
    contracts: list[tuple[str, str, Contract]] = []
    summaries: dict[tuple[str, str], str] = {}
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            for method in handler.http_methods:
                contract = handler.opt.get("contract")
                operation = found["paths"].get(route.path_format, {}).get(method.lower())
                if operation is None:
                    continue  # not in the document (the pages, the static files)
                if contract is None:
                    if route.path_format.startswith("/api/"):
                        raise RuntimeError(f"{method} {route.path_format} declares no contract")
                    continue
                contracts.append((route.path_format, method.lower(), contract))
                summaries[(route.path_format, method.lower())] = _summary(handler.fn.__doc__ or "")
    bodies = {t for _, _, c in contracts for a in c.answers if a.body is not None for t in _alternatives(a.body)}
    bodies |= {c.body for _, _, c in contracts if c.body is not None} | {d.Problem}
    named = sorted(bodies, key=lambda t: str(t))
    schemas, components = msgspec.json.schema_components(named, ref_template="#/components/schemas/{name}")
    found.setdefault("components", {}).setdefault("schemas", {}).update(components)
    schema_of = dict(zip(named, schemas, strict=True))
    problem = schema_of[d.Problem]
    for path, verb, contract in contracts:
        operation = found["paths"][path][verb]
        operation["operationId"] = contract.operation
        operation["summary"] = summaries[(path, verb)] or contract.operation
        operation["responses"] = _responses(contract, schema_of, problem)
        for parameter in operation.get("parameters", []):
            if parameter["name"] in contract.params:
                given = dict(contract.params[parameter["name"]])
                description = given.pop("description", None)
                if parameter["in"] == "query" and "pattern" in given:
                    # An empty text parameter is one not given: the pattern, or nothing.
                    given = {"anyOf": [given, {"type": "string", "maxLength": 0}]}
                parameter["schema"] = given
                if description:
                    parameter["description"] = description
        headers = dict(contract.headers)
        if verb == "get" and not any(a.media == (EVENTS,) for a in contract.answers):
            # service.conditional: every complete answer of a GET has an ETag, and If-None-Match naming it is a 304.
            headers["If-None-Match"] = {
                "type": "string",
                "description": "ETags seen before: 304 when the answer's is one of them",
            }
            operation["responses"]["304"] = {"description": _STATUS_TEXT[304], "headers": {"ETag": HEADERS["ETag"]}}
        for name, schema in headers.items():
            given = dict(schema)
            description = given.pop("description", None)
            operation.setdefault("parameters", []).append(
                {"name": name, "in": "header", "required": False, "schema": given, "description": description or name}
            )
        if contract.body is not None:
            body_schema = schema_of[contract.body]
            content: dict[str, Any] = {"schema": body_schema}
            if contract.body_media == MULTIPART:
                content["encoding"] = {"file": {"contentType": "text/csv, application/json, application/octet-stream"}}
            operation["requestBody"] = {"required": contract.body_required, "content": {contract.body_media: content}}
    return found


def _alternatives(body: Any) -> tuple[Any, ...]:
    """_alternatives are the types of a body: one, or each of a union (`Health | Problem`)."""
    return typing.get_args(body) if isinstance(body, types.UnionType) else (body,)


def _schema(body: Any, schema_of: dict[Any, Any]) -> dict[str, Any]:
    found = [schema_of[t] for t in _alternatives(body)]
    return found[0] if len(found) == 1 else {"anyOf": found}


def _summary(doc: str) -> str:
    """_summary is the first sentence of a handler's docstring, on one line."""
    text = " ".join(doc.split())
    end = text.find(". ")
    return text[: end + 1] if end > 0 else text


def _responses(contract: Contract, schema_of: dict[Any, Any], problem: dict[str, Any]) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for answer in contract.answers:
        found: dict[str, Any] = {"description": answer.description or _STATUS_TEXT.get(answer.status, "")}
        if answer.media and answer.status != 304:
            schema = _schema(answer.body, schema_of) if answer.body is not None else {"type": "string"}
            found["content"] = {media: {"schema": schema} for media in answer.media}
        if answer.headers:
            found["headers"] = {h: HEADERS[h] for h in answer.headers}
        answers[str(answer.status)] = found
    for status in sorted({*contract.always, *contract.errors}):
        found = {"description": _STATUS_TEXT[status], "content": {PROBLEM: {"schema": problem}}}
        if status in (503, 507):
            found["headers"] = {"Retry-After": HEADERS["Retry-After"]}
        if status == 401:
            found["headers"] = {"WWW-Authenticate": HEADERS["WWW-Authenticate"]}
        answers[str(status)] = found
    return answers


class ContractDocument(JsonRenderPlugin):
    """ContractDocument serves /api/v1/openapi.json: Litestar's document, completed once."""

    def __init__(self) -> None:
        super().__init__()
        self._completed: bytes | None = None

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        if self._completed is None:
            self._completed = msgspec.json.encode(completed(openapi_schema, request.app))
        return self._completed
