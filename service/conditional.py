"""Conditional GET (RFC 9110 §13.1.2, §15.4.5) for the API's answers: every complete `200` answer of a
GET without an entity tag of its own gets a strong one — a digest of its bytes — and a request whose
`If-None-Match` names it is answered `304 Not Modified`, without the body. A checkpoint, a proof of a
signed size, a report as of a past time: an integration that polls asks again for nothing.

A record's answer keeps its own tag, its version, which `If-Match` on the next write names: it is
not rewritten here (see docs/api.md). Streams (the live feed) and large answers pass through as
they are."""

from __future__ import annotations

import hashlib
from typing import Any, Final

from litestar.types import ASGIApp, Receive, Scope, Send

#: The largest answer given a digest tag (bytes); larger ones pass through untouched.
MAX_TAGGED: Final = 8 * 1024 * 1024
#: The headers a 304 repeats from the 200 it stands for (RFC 9110 §15.4.5).
_KEPT: Final = (b"etag", b"cache-control", b"content-location", b"date", b"expires", b"vary")


def entity_tag(body: bytes) -> bytes:
    """entity_tag is a strong entity tag of a body: the first 32 hex digits of its SHA-256, quoted."""
    return b'"' + hashlib.sha256(body).hexdigest()[:32].encode() + b'"'


def none_match(header: bytes, tag: bytes) -> bool:
    """none_match says whether If-None-Match names `tag`: `*`, or a list of tags compared weakly
    (RFC 9110 §13.1.2: `W/"x"` matches `"x"`)."""
    text = header.strip()
    if text == b"*":
        return True
    return any(t.strip().removeprefix(b"W/") == tag for t in text.split(b","))


def conditional(app: ASGIApp) -> ASGIApp:
    """conditional wraps the application with conditional GET for /api/v1 (streams aside)."""

    async def handle(scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if (
            str(scope["type"]) != "http"
            or scope.get("method") not in ("GET", "HEAD")
            or not path.startswith("/api/v1/")
            or path.startswith("/api/v1/feed/stream")
        ):
            await app(scope, receive, send)
            return
        sent: Any = scope.get("headers", [])
        asked = next((bytes(v) for n, v in sent if bytes(n).lower() == b"if-none-match"), None)
        forward: Any = send  # ASGI messages are plain dicts here
        started: list[Any] = []
        chunks: list[bytes] = []
        passing = [False]

        async def sending(message: Any) -> None:  # an ASGI message (Litestar's TypedDicts)
            if passing[0]:
                await forward(message)
                return
            if message["type"] == "http.response.start":
                given = {bytes(n).lower(): bytes(v) for n, v in message.get("headers") or []}
                length = given.get(b"content-length")
                tagged = message["status"] == 200 and b"etag" not in given
                if not tagged or length is None or int(length) > MAX_TAGGED:
                    passing[0] = True
                    await forward(message)
                    return
                started.append(message)
                return
            chunks.append(bytes(message.get("body", b"")))
            if message.get("more_body"):
                return
            body = b"".join(chunks)
            tag = entity_tag(body)
            start = started[0]
            headers: list[Any] = [*(start.get("headers") or []), (b"etag", tag)]
            if asked is not None and none_match(asked, tag):
                kept = [(n, v) for n, v in headers if bytes(n).lower() in _KEPT]
                await forward({"type": "http.response.start", "status": 304, "headers": kept})
                await forward({"type": "http.response.body", "body": b""})
                return
            await forward({**start, "headers": headers})
            await forward({"type": "http.response.body", "body": body})

        await app(scope, receive, sending)

    return handle
