"""The change feed: every ledger event as a CloudEvents 1.0 JSON object, in ledger order.

The feed reads the event store (not the views), so it is exactly the ledger. `sequence` is the
ledger position, zero-padded so that it sorts as text; a consumer that stores the last sequence
it applied and resumes with `after=` that sequence gets every later event exactly once, whatever
filter it uses (filters skip events, never renumber them).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from datetime import time as daytime
from typing import Any, Final

import msgspec
from eventsourcing.persistence import PersistenceError

from ledger.errors import BadInput
from ledger.events import (
    KINDS,
    RECORD_KINDS,
    SCHEMA_VERSIONS,
    LaoAmended,
    LaoRegistered,
    LedgerEvent,
    decode_event,
    kind_of,
)
from ledger.stores import LedgerLog, LoggedEvent
from ledger.thai import BANGKOK, format_instant

SEQUENCE_DIGITS: Final = 12
RECONNECT_SECONDS: Final = 60.0
TYPE_PREFIX: Final = {
    "record": "th.go.dla.mission.",
    "lao": "th.go.dla.registry.",
    "mission": "th.go.dla.catalog.",
    "batch": "th.go.dla.import.",
}


def event_type(kind: str) -> str:
    """event_type is the CloudEvents type of a kind: th.go.dla.mission.corrected, …"""
    if kind in RECORD_KINDS:
        return TYPE_PREFIX["record"] + kind
    if kind.startswith("lao_"):
        return TYPE_PREFIX["lao"] + kind
    return TYPE_PREFIX["batch" if kind.startswith("batch_") else "mission"] + kind


def format_sequence(position: int) -> str:
    """format_sequence zero-pads a position so that sequences sort as text."""
    return f"{position:0{SEQUENCE_DIGITS}d}"


def parse_sequence(text: str) -> int:
    """parse_sequence reads a sequence (padded or not) given to --after."""
    if not text.isdigit():
        raise BadInput(f"--after {text!r} is not a sequence (a number such as 000000000094)")
    return int(text)


def _valid_time(event: LedgerEvent) -> datetime:
    """The valid time an event speaks of: the start of its effective day in Bangkok, or of the
    corrected period; events without one (a void, a catalog change) take their recorded_at."""
    day = getattr(event, "period_from", None) or getattr(event, "effective_from", None)
    if day is None:
        return event.recorded_at
    return datetime.combine(day, daytime(0), BANGKOK)


def _subject(event: LedgerEvent) -> str:
    lao, mission = getattr(event, "lao_code", None), getattr(event, "mission_code", None)
    return "/".join(x for x in (lao, mission) if x) or str(getattr(event, "batch_id", ""))


def cloud_event(logged: LoggedEvent, event: LedgerEvent, source: str, *, raw: bool = False) -> dict[str, Any]:
    """cloud_event is one feed line: a CloudEvents 1.0 object for the event at its position.

    `data` is the event as stored; with raw=True it is the stored bytes themselves (msgspec.Raw),
    which the command line writes out without decoding them again."""
    kind = kind_of(event)
    return {
        "specversion": "1.0",
        "id": logged.leaf_hash.hex(),
        "source": source,
        "type": event_type(kind),
        "subject": _subject(event),
        "time": format_instant(_valid_time(event)),
        "datacontenttype": "application/json",
        "dataschema": f"urn:mission-ledger:schema:{kind}:v{SCHEMA_VERSIONS[kind]}",
        "sequence": format_sequence(logged.position),
        "recordedtime": format_instant(event.recorded_at),
        "data": msgspec.Raw(logged.state) if raw else msgspec.json.decode(logged.state),
    }


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

    def __init__(self, recorder: LedgerLog, *, page: int = 1000) -> None:
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

    def _keeps(self, event: LedgerEvent, where: FeedFilter) -> bool:
        if where.kinds and kind_of(event) not in where.kinds:
            return False
        lao = getattr(event, "lao_code", None)
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
        given = 0
        position = after
        while not stop():
            page = self._next_page(position, follow=follow, stop=stop)
            for logged in page:
                position = logged.position
                event = decode_event(logged.state)
                if self._keeps(event, where):
                    yield cloud_event(logged, event, self.source, raw=raw)
                    given += 1
                    if limit is not None and given >= limit:
                        return
            if len(page) < self.page:
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
