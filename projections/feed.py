"""The change feed: every ledger event as a CloudEvents 1.0 JSON object, in ledger order.

The feed reads the event store (not the views), so it is exactly the ledger. `sequence` is the
ledger position, zero-padded so that it sorts as text; a consumer that stores the last sequence
it applied and resumes with `after=` that sequence gets every later event exactly once, whatever
filter it uses (filters skip events, never renumber them).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from datetime import time as daytime
from typing import Any, Final

import msgspec
from eventsourcing.persistence import PersistenceError

from ledger.domain.events import (
    ACCESS_EVENT_TYPES,
    KINDS,
    RECORD_KINDS,
    SCHEMA_VERSIONS,
    LaoAmended,
    LaoRegistered,
    decode_event,
)
from ledger.domain.thai import BANGKOK, format_instant
from ledger.errors import BadInput, Refused
from ledger.store.contract import LedgerLog, LoggedEvent

SEQUENCE_DIGITS: Final = 12
ACCESS_KINDS: Final = frozenset(str(cls.__struct_config__.tag) for cls in ACCESS_EVENT_TYPES)
RECONNECT_SECONDS: Final = 60.0
TYPE_PREFIX: Final = {
    "record": "th.go.dla.mission.",
    "lao": "th.go.dla.registry.",
    "mission": "th.go.dla.catalog.",
    "batch": "th.go.dla.import.",
    "principal": "th.go.dla.access.",
    "round": "th.go.dla.round.",
}


def event_type(kind: str) -> str:
    """event_type is the CloudEvents type of a kind: th.go.dla.mission.corrected, …"""
    if kind in RECORD_KINDS:
        return TYPE_PREFIX["record"] + kind
    if kind.startswith("lao_"):
        return TYPE_PREFIX["lao"] + kind
    if kind in ACCESS_KINDS:
        return TYPE_PREFIX["principal"] + kind
    if kind.startswith("round_"):
        return TYPE_PREFIX["round"] + kind
    return TYPE_PREFIX["batch" if kind.startswith("batch_") else "mission"] + kind


def format_sequence(position: int) -> str:
    """format_sequence zero-pads a position so that sequences sort as text."""
    return f"{position:0{SEQUENCE_DIGITS}d}"


def parse_sequence(text: str) -> int:
    """parse_sequence reads a sequence (padded or not) given to --after: ASCII digits, at most
    20 of them (a padded sequence has 12)."""
    if not (text.isascii() and text.isdigit() and len(text) <= 20):
        raise BadInput(f"--after {text[:40]!r} is not a sequence (a number such as 000000000094)")
    return int(text)


class FeedHead(msgspec.Struct, frozen=True):
    """FeedHead is what a feed line needs of an event, decoded without the rest of it (the
    values, the reasons): the feed reads every event, and decoding all of each cost most of it."""

    kind: str
    recorded_at: datetime
    lao_code: str | None = None
    mission_code: str | None = None
    batch_id: str | None = None
    name: str | None = None
    effective_from: date | None = None
    period_from: date | None = None


_head_decoder: Final = msgspec.json.Decoder(FeedHead)


def feed_head(state: bytes) -> FeedHead:
    """feed_head decodes the parts of a stored event that a feed line names."""
    return _head_decoder.decode(state)


def _valid_time(head: FeedHead) -> datetime:
    """The valid time an event speaks of: the start of its effective day in Bangkok, or of the
    corrected period; events without one (a void, a catalog change) take their recorded_at."""
    day = head.period_from or head.effective_from
    if day is None:
        return head.recorded_at
    return _day_start(day)


@functools.lru_cache(maxsize=4096)
def _day_start(day: date) -> datetime:
    return datetime.combine(day, daytime(0), BANGKOK)


@functools.lru_cache(maxsize=4096)
def _instant(at: datetime) -> str:
    return format_instant(at)


def _subject(head: FeedHead) -> str:
    if head.lao_code and head.mission_code:
        return f"{head.lao_code}/{head.mission_code}"
    return head.lao_code or head.mission_code or head.batch_id or head.name or ""


class CloudEvent(msgspec.Struct, frozen=True):
    """CloudEvent is one feed line, the fields in the order they are written."""

    specversion: str
    id: str
    source: str
    type: str
    subject: str
    time: str
    datacontenttype: str
    dataschema: str
    sequence: str
    recordedtime: str
    data: msgspec.Raw


def _cloud_event(logged: LoggedEvent, head: FeedHead, source: str) -> CloudEvent:
    kind = head.kind
    return CloudEvent(
        "1.0",
        logged.leaf_hash.hex(),
        source,
        event_type(kind),
        _subject(head),
        _instant(_valid_time(head)),
        "application/json",
        f"urn:mission-ledger:schema:{kind}:v{SCHEMA_VERSIONS[kind]}",
        format_sequence(logged.position),
        _instant(head.recorded_at),
        msgspec.Raw(logged.state),
    )


def cloud_event(logged: LoggedEvent, head: FeedHead, source: str, *, raw: bool = False) -> dict[str, Any]:
    """cloud_event is one feed line: a CloudEvents 1.0 object for the event at its position.

    `data` is the event as stored; with raw=True it is the stored bytes themselves (msgspec.Raw),
    which a writer puts out without decoding them again."""
    line = msgspec.structs.asdict(_cloud_event(logged, head, source))
    if not raw:
        line["data"] = msgspec.json.decode(logged.state)
    return line


@dataclass(frozen=True)
class FeedFilter:
    """FeedFilter keeps the events of one province, one LAO or some kinds (None: all)."""

    province: str | None = None
    lao: str | None = None
    kinds: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Accept a kind or its CloudEvents type (th.go.dla.mission.corrected).
        object.__setattr__(self, "kinds", tuple(k.rsplit(".", 1)[-1] for k in self.kinds))
        for kind in self.kinds:
            if kind not in KINDS:
                raise BadInput(f"--type {kind!r} is not a kind ({', '.join(KINDS)})")


class Feed:
    """Feed reads one ledger's events as CloudEvents, from a position, optionally following."""

    def __init__(self, recorder: LedgerLog, *, page: int = 5000) -> None:
        self.recorder = recorder
        self.page = page
        self.source = recorder.get_meta("origin") or "mission-ledger"
        self._provinces: dict[str, str] = {}

    def _province_of(self, lao_code: str) -> str | None:
        if lao_code not in self._provinces:
            # An LAO's province comes from the registry; read once per LAO.
            for stored in self.recorder.select_events(f"lao/{lao_code}"):  # type: ignore[attr-defined]
                event = decode_event(stored.state)
                if isinstance(event, LaoRegistered):
                    self._provinces[lao_code] = event.province_code
                elif isinstance(event, LaoAmended) and isinstance(event.set.province_code, str):
                    self._provinces[lao_code] = event.set.province_code
        return self._provinces.get(lao_code)

    def _keeps(self, head: FeedHead, where: FeedFilter) -> bool:
        if where.kinds and head.kind not in where.kinds:
            return False
        lao = head.lao_code
        if where.lao is not None and lao != where.lao:
            return False
        return where.province is None or (lao is not None and self._province_of(lao) == where.province)

    def events(
        self,
        *,
        after: int = 0,
        limit: int | None = None,
        where: FeedFilter = FeedFilter(),
        follow: bool = False,
        poll: float = 0.2,
        stop: Callable[[], bool] = lambda: False,
        raw: bool = False,
    ) -> Iterator[dict[str, Any]]:
        """events yields the feed after position `after`: at most `limit` events (that pass the
        filter); with `follow`, waits for new events (polling every `poll` seconds) until `stop()`."""
        for page in self._pages(after, limit, where, follow, poll, stop):
            for line in page:
                out = msgspec.structs.asdict(line)
                if not raw:
                    out["data"] = msgspec.json.decode(line.data)
                yield out

    def lines(
        self,
        *,
        after: int = 0,
        limit: int | None = None,
        where: FeedFilter = FeedFilter(),
        follow: bool = False,
        poll: float = 0.2,
        stop: Callable[[], bool] = lambda: False,
    ) -> Iterator[bytes]:
        """lines is the feed as a writer puts it out: JSON lines, one block per page read (the
        same objects as `events(raw=True)`); an empty block means the feed has caught up."""
        encoder = msgspec.json.Encoder()
        for page in self._pages(after, limit, where, follow, poll, stop):
            yield encoder.encode_lines(page)

    def keeps(self, head: FeedHead, where: FeedFilter) -> bool:
        """keeps says whether the filter keeps an event (by its head)."""
        return where == FeedFilter() or self._keeps(head, where)

    def cloud_event(self, logged: LoggedEvent, head: FeedHead) -> CloudEvent:
        """cloud_event is the feed line of one logged event."""
        return _cloud_event(logged, head, self.source)

    def lines_of(self, logged: list[LoggedEvent], where: FeedFilter = FeedFilter()) -> list[CloudEvent]:
        """page is the feed lines of these logged events that pass the filter (a live stream
        reads the events once per worker and filters them per consumer)."""
        everything = where == FeedFilter()
        lines = []
        for event in logged:
            head = feed_head(event.state)
            if everything or self._keeps(head, where):
                lines.append(_cloud_event(event, head, self.source))
        return lines

    def _pages(
        self,
        after: int,
        limit: int | None,
        where: FeedFilter,
        follow: bool,
        poll: float,
        stop: Callable[[], bool],
    ) -> Iterator[list[CloudEvent]]:
        size = self.recorder.log_size()
        if after > size:
            # A cursor from another ledger (or a rebuilt one) would otherwise wait forever, silent.
            raise Refused(
                f"--after {after}: the ledger has {size} events; this sequence is not one of this ledger's "
                "(resume from a sequence it gave you, or from 0)"
            )
        given = 0
        position = after
        everything = where == FeedFilter()
        while not stop():
            page = self._next_page(position, follow=follow, stop=stop)
            lines: list[CloudEvent] = []
            for logged in page:
                head = feed_head(logged.state)
                if everything or self._keeps(head, where):
                    lines.append(_cloud_event(logged, head, self.source))
                    if limit is not None and given + len(lines) >= limit:
                        yield lines
                        return
            if page:
                position = page[-1].position
            given += len(lines)
            if lines:
                yield lines
            if len(page) < self.page:
                yield []  # caught up: a writer flushes now
                if not follow:
                    return
                time.sleep(poll)

    def _next_page(self, position: int, *, follow: bool, stop: Callable[[], bool]) -> list[LoggedEvent]:
        """Read the next page; while following, ride out a store that goes away for a while (a
        PostgreSQL restart) by reconnecting, for up to RECONNECT_SECONDS."""
        deadline = time.monotonic() + RECONNECT_SECONDS
        while True:
            try:
                return self.recorder.select_log(position, self.page)
            except PersistenceError:
                if not follow or time.monotonic() > deadline or stop():
                    raise
                time.sleep(0.5)


def iter_feed(recorder: LedgerLog, after: int = 0, **options: Any) -> Iterator[dict[str, Any]]:
    """iter_feed is the consumer's entry point: the feed of `recorder` after sequence `after`."""
    return Feed(recorder).events(after=after, **options)
