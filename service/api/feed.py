"""The change feed over HTTP: pages of CloudEvents (`application/cloudevents-batch+json`) and a
live stream of Server-Sent Events whose `id:` is the ledger sequence.

A stream resumes exactly after `Last-Event-ID` (or `after`), whichever worker serves it: the
sequence is the ledger position, the same in every worker and every process, and filters skip
events without renumbering them — so a consumer never sees an event twice nor misses one.
Heartbeat comments keep proxies from closing an idle stream.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any, Final
from urllib.parse import urlencode

import msgspec
from litestar import Request, Response, get
from litestar.response import Stream

from ledger.domain.access import Principal, authorize
from ledger.domain.provinces import parse_province_code
from ledger.domain.values import parse_lao_code
from ledger.errors import BadInput, Refused, Unprocessable
from projections.feed import FeedFilter, parse_sequence
from service.api.contract import EVENTS, KINDS, LAO, PROVINCE, SEQUENCE, Answer, declares
from service.api.documents import CloudEvent
from service.params import whole
from service.state import LedgerService, frame_of

BATCH: Final = "application/cloudevents-batch+json"
MAX_LIMIT: Final = 5000
#: Frames a live stream writes at once (about 200 KB of a large import).
FRAMES_PER_WRITE: Final = 256
_encoder: Final = msgspec.json.Encoder()


def feed_filter(
    principal: Principal, ledger: LedgerService, province: str | None, lao: str | None, types: list[str] | None
) -> FeedFilter:
    """feed_filter is the filter a consumer asked, within what its roles let it follow: admin,
    auditor and a national integration follow everything; `integration:PP` only province PP."""
    province = parse_province_code(province)
    if province and lao:
        raise Unprocessable("give one of province, lao", field="lao")
    _, provinces = principal.feed_scope()
    if provinces is not None and len(provinces) == 1 and not (province or lao):
        province = next(iter(provinces))  # an integration of one province follows that one
    where = province or None
    if lao:
        lao = parse_lao_code(lao)
        where = ledger.app.lao(lao).province_code  # NotFound, naming the closest codes
    authorize(principal, "read_feed", province=where)
    return FeedFilter(province=province or None, lao=lao or None, kinds=tuple(types or ()))


def _after(ledger: LedgerService, text: str | None, name: str) -> int:
    if text is None or text == "":
        return 0
    try:
        position = parse_sequence(text.strip())
    except BadInput as e:
        raise BadInput(f"{name} {text[:40]!r} is not a sequence (a number such as 000000000094)", field=name) from e
    size = ledger.app.ledger_recorder.log_size()
    if position > size:
        raise Refused(
            f"{name} {position}: the ledger has {size} events; this sequence is not one of this ledger's "
            "(resume from a sequence it gave you, or from 0)",
            field=name,
        )
    return position


_FILTER: Final = {"province": PROVINCE, "lao": LAO, "type": KINDS | {"description": "CloudEvents types to keep"}}


@get(
    "/feed",
    sync_to_thread=False,
    opt=declares(
        "feed_page",
        Answer(
            200,
            list[CloudEvent],
            media=(BATCH,),
            headers=("Link", "Cache-Control", "ETag"),
            description="at most `limit` events after `after`, in ledger order; Link's next resumes",
        ),
        errors=(409,),
        params={
            **_FILTER,
            "after": SEQUENCE,
            "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 1000},
        },
    ),
)
def feed_page(
    ledger: LedgerService,
    principal: Principal,
    after: str | None = None,
    limit: str | None = None,
    province: str | None = None,
    lao: str | None = None,
    type: list[str] | None = None,
) -> Response[bytes]:
    """The feed after sequence `after`: at most `limit` CloudEvents, in ledger order. The `Link`
    header's `next` resumes after the last event read (also when the filter kept none)."""
    limit_of = whole("limit", limit, least=1) or 1000
    if limit_of > MAX_LIMIT:
        raise BadInput(f"limit {limit_of}: give 1 to {MAX_LIMIT}", field="limit")
    where = feed_filter(principal, ledger, province, lao, type)
    position = _after(ledger, after, "after")
    feed = ledger.tail.feed
    lines: list[Any] = []
    # Read pages until `limit` lines or the end: a narrow filter may keep few events of a page.
    while len(lines) < limit_of:
        logged = ledger.app.ledger_recorder.select_log(position, MAX_LIMIT)
        if not logged:
            break
        kept = feed.lines_of(logged, where)
        room = limit_of - len(lines)
        if len(kept) > room:
            lines += kept[:room]
            position = int(lines[-1].sequence)
            break
        lines += kept
        position = logged[-1].position
    # The next page keeps every parameter of this one (the filter, the limit), only `after` moves on.
    query = [("after", str(position)), ("limit", str(limit_of))]
    query += [(k, v) for k, v in (("province", province), ("lao", lao)) if v]
    query += [("type", t) for t in type or ()]
    headers = {"Link": f'</api/v1/feed?{urlencode(query)}>; rel="next"', "Cache-Control": "no-store"}
    return Response(_encoder.encode(lines), media_type=BATCH, headers=headers)


@get(
    "/feed/stream",
    sync_to_thread=False,
    opt=declares(
        "feed_stream",
        Answer(
            200,
            media=(EVENTS,),
            headers=("Cache-Control",),
            description="Server-Sent Events, without end: `id:` the sequence, `event:` the type, "
            "`data:` the CloudEvent",
        ),
        errors=(409,),
        params={**_FILTER, "after": SEQUENCE},
        headers={
            "Last-Event-ID": SEQUENCE | {"description": "resume after this sequence (what the last frame's id said)"}
        },
    ),
)
def feed_stream(
    request: Request[Any, Any, Any],
    ledger: LedgerService,
    principal: Principal,
    after: str | None = None,
    province: str | None = None,
    lao: str | None = None,
    type: list[str] | None = None,
) -> Stream:
    """The live feed as Server-Sent Events: `id:` is the sequence, `event:` the CloudEvents type,
    `data:` the CloudEvent. Resumes after `Last-Event-ID` (or `after`); waits for new events."""
    where = feed_filter(principal, ledger, province, lao, type)
    resume = request.headers.get("last-event-id")
    start = _after(ledger, resume, "Last-Event-ID") if resume else _after(ledger, after, "after")
    ledger.tail.start()

    async def frames() -> AsyncIterator[bytes]:
        feed = ledger.tail.feed  # the worker's: the LAOs' provinces are read once for every stream
        everything = where == FeedFilter()
        position = start
        tail = ledger.tail
        yield b": mission-ledger feed\nretry: 2000\n\n"
        while True:
            grew = tail.grew  # taken before looking, so that no growth in between is missed
            kept = tail.after(position)
            if kept is None:  # further behind than the tail keeps: read the store
                kept = [frame_of(feed, logged) for logged in ledger.app.ledger_recorder.select_log(position, 1000)]
            if kept:
                # One write per slice of frames, encoded once by the tail for every stream; each
                # write waits for the client to take the last (flow control), so that 200 streams of
                # a large import hold a slice each in memory, not the whole page each.
                for first in range(0, len(kept), FRAMES_PER_WRITE):
                    part = kept[first : first + FRAMES_PER_WRITE]
                    chunk = b"".join(f.frame for f in part if everything or feed.keeps(f.head, where))
                    position = part[-1].position
                    if chunk:
                        yield chunk
                await asyncio.sleep(0)  # let other streams and requests run between pages
                continue
            try:
                await asyncio.wait_for(grew.wait(), timeout=ledger.config.heartbeat)
            except TimeoutError:
                yield b": keep-alive\n\n"

    return Stream(
        frames(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


ROUTES: Final = [feed_page, feed_stream]
