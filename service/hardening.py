"""What every request meets before the application does, so that no client — signed in or not —
can make a worker parse or hold more than a small bound, and every answer carries the headers
that apply to it.

- `BoundedHttpProtocol` (uvicorn's httptools protocol): a request head (request line and
  headers) of at most MAX_HEAD_BYTES in at most MAX_HEADERS fields, else 431 and the connection
  is closed before the head is parsed further (a 50 MB header used to hold the worker seconds).
- `guarded` (ASGI middleware): a path with a NUL or another control character is refused before
  routing (the static files router failed on `%00` with a 500); every response, error pages
  too, gets nosniff, a Referrer-Policy and a Content-Security-Policy: a page's (this service's
  own scripts, styles and fonts, framed by nobody), or for anything else one that loads nothing;
  one access log line per request, with every character a log reader could mistake for a line
  break or a terminal command escaped.

The body of a request is bounded per route (Litestar's request_max_body_size, checked against
Content-Length before a byte is read and while it streams); a JSON body's nesting is bounded
before it is parsed (`json_body`).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any, Final, TypeVar

import msgspec
from litestar.exceptions import HTTPException
from litestar.types import ASGIApp, HTTPResponseBodyEvent, HTTPResponseStartEvent, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from ledger.errors import BadInput

#: The request line and headers of one request, in bytes.
MAX_HEAD_BYTES: Final = 32 * 1024
#: Header fields in one request.
MAX_HEADERS: Final = 100
#: The body of a request to any route that does not say otherwise (a form, a JSON write).
FORM_BYTES: Final = 64 * 1024
#: How deep a JSON body may nest (a write body nests two deep).
MAX_JSON_DEPTH: Final = 32
#: The headers every response carries.
SECURITY_HEADERS: Final = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
)
#: Every page may load scripts, styles, fonts and data from this service only (no inline script,
#: no CDN), be framed by nobody, and send its forms nowhere else.
PAGE_POLICY: Final = (
    b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    b"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
#: The policy of a response that is not a page: it loads nothing, and nothing frames it.
NOTHING_POLICY: Final = b"default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

T = TypeVar("T")
access_log: Final = logging.getLogger("mission_ledger.access")
_UNSAFE: Final = re.compile(r"[\x00-\x20\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\"\\]")
_UNSAFE_BUT_BLANKS: Final = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\"\\]")


class BoundedHttpProtocol(HttpToolsProtocol):
    """BoundedHttpProtocol is uvicorn's httptools protocol with a bounded request head."""

    def connection_made(self, transport: Any) -> None:
        self._head_bytes = 0
        self._head_fields = 0
        self._in_head = True
        super().connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self._in_head:
            self._head_bytes += len(data)
        super().data_received(data)
        if self._in_head and (self._head_bytes > MAX_HEAD_BYTES or self._head_fields > MAX_HEADERS):
            self._refuse_head()

    def on_message_begin(self) -> None:
        self._in_head = True
        self._head_fields = 0
        super().on_message_begin()

    def on_header(self, name: bytes, value: bytes) -> None:
        self._head_fields += 1
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._head_bytes = 0
        super().on_headers_complete()

    def _refuse_head(self) -> None:
        if self.transport.is_closing():
            return
        message = b"request head too large: at most 32 KiB in at most 100 header fields"
        self.transport.write(
            b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: text/plain; charset=utf-8\r\n"
            b"x-content-type-options: nosniff\r\nconnection: close\r\ncontent-length: %d\r\n\r\n%s"
            % (len(message), message)
        )
        self.transport.close()
        self._in_head = False


def escaped(text: str, limit: int = 300, *, blanks: bool = False) -> str:
    """escaped is text as a log line may carry it: control characters, blanks (unless `blanks`:
    a message, not a field of the access log), quotes and the marks that reorder text shown as
    escapes, so one request is one line that says what it was."""

    def escape(found: re.Match[str]) -> str:
        code = ord(found.group())
        return f"\\x{code:02x}" if code < 256 else f"\\u{code:04x}"

    return (_UNSAFE_BUT_BLANKS if blanks else _UNSAFE).sub(escape, text[:limit]) + ("…" if len(text) > limit else "")


def _bad_path(path: str) -> bool:
    return any(ord(c) < 32 or 127 <= ord(c) < 160 for c in path)


async def _refuse_path(send: Callable[[Message], Awaitable[None]]) -> None:
    body = (
        b'{"type":"urn:mission-ledger:problem:bad-request","title":"Bad request","status":400,'
        b'"detail":"the path holds a control character"}'
    )
    start: HTTPResponseStartEvent = {
        "type": "http.response.start",
        "status": 400,
        "headers": [(b"content-type", b"application/problem+json"), (b"content-length", b"%d" % len(body))],
    }
    end: HTTPResponseBodyEvent = {"type": "http.response.body", "body": body, "more_body": False}
    await send(start)
    await send(end)


def guarded(app: ASGIApp) -> ASGIApp:
    """guarded wraps the application: refuses control characters in the path, adds the security
    headers to every response, and writes the access log line (the principal, the method, the
    path escaped, the status, the duration: never a header, a body or a query string)."""

    async def handle(scope: Scope, receive: Receive, send: Send) -> None:
        if str(scope["type"]) != "http":
            await app(scope, receive, send)
            return
        start = time.perf_counter()
        status = [0]

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                headers = list(message.get("headers") or [])
                present = {bytes(name).lower() for name, _ in headers}
                headers += [(n, v) for n, v in SECURITY_HEADERS if n not in present]
                if b"content-security-policy" not in present:
                    kind = next((bytes(v) for n, v in headers if bytes(n).lower() == b"content-type"), b"")
                    policy = PAGE_POLICY if kind.startswith(b"text/html") else NOTHING_POLICY
                    headers.append((b"content-security-policy", policy))
                message = {**message, "headers": headers}
            await send(message)

        try:
            if _bad_path(str(scope.get("path", ""))):
                await _refuse_path(sending)
            else:
                await app(scope, receive, sending)
        finally:
            state = scope.get("state") or {}
            access_log.info(
                "principal=%s method=%s path=%s status=%d ms=%.1f",
                state.get("principal", "-"),
                escaped(str(scope.get("method", "-")), 16),
                escaped(str(scope.get("path", "-"))),
                status[0],
                (time.perf_counter() - start) * 1000,
            )

    return handle


_STRINGS: Final = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_JSON_TYPES: Final = re.compile(r"application/(?:[a-z0-9.+-]+\+)?json\s*(?:;.*)?", re.IGNORECASE)


def json_depth(body: bytes) -> int:
    """json_depth is how deep a JSON text nests (strings skipped), found without parsing it."""
    brackets = _STRINGS.sub(b"", body).translate(None, delete=bytes(set(range(256)) - set(b"[]{}")))
    depth = deepest = 0
    for c in brackets:
        depth += 1 if c in b"[{" else -1
        deepest = max(deepest, depth)
    return deepest


def json_body(content_type: str | None, body: bytes, kind: type[T]) -> T:
    """json_body decodes a request's JSON body as `kind`: only as application/json (415 else),
    nesting at most MAX_JSON_DEPTH (checked before parsing), every error a BadInput naming the
    field it found wrong."""
    if not content_type or not _JSON_TYPES.fullmatch(content_type.strip()):
        raise HTTPException(status_code=415, detail="send the body as application/json")
    if json_depth(body) > MAX_JSON_DEPTH:
        raise BadInput(f"the JSON body nests deeper than {MAX_JSON_DEPTH} levels")
    try:
        return msgspec.json.decode(body, type=kind)
    except msgspec.ValidationError as e:
        found = re.search(r"at `\$\.?([^`]*)`", str(e))
        hint = ' (send a decimal as a string, e.g. "12.50", so that it stays exact)' if "got `float`" in str(e) else ""
        raise BadInput(f"the body: {e}{hint}", field=found[1] if found else None) from e
    except msgspec.DecodeError as e:
        raise BadInput(f"the body is not JSON: {e}") from e
