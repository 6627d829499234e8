"""The msgspec mapper: ledger events to eventsourcing's StoredEvent and back, exactly.

eventsourcing's default mapper reads `vars(event)` and a schemaless JSON transcoder; msgspec
Structs have no `__dict__`, and schemaless JSON turns Decimals and datetimes into strings.
This mapper encodes the typed event with msgspec and decodes into the tagged union, so every
value comes back with its type. The stored topic is the event's kind (`corrected`, …), which
lets eventsourcing's topic filter select kinds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec
from eventsourcing.persistence import Mapper, MapperDeserialisationError, StoredEvent, Transcoder

from ledger.domain.events import Event, decode_event, encode_event, kind_of


@dataclass(frozen=True, slots=True)
class Envelope:
    """Envelope places an event in its stream: eventsourcing's originator id and version."""

    originator_id: str
    originator_version: int
    event: Event


class MsgspecMapper(Mapper[str]):
    """MsgspecMapper maps Envelopes to StoredEvents (state = msgspec JSON of the event)."""

    def __init__(self) -> None:
        super().__init__(transcoder=_NoTranscoder())

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        envelope: Envelope = domain_event
        return StoredEvent(
            originator_id=envelope.originator_id,
            originator_version=envelope.originator_version,
            topic=kind_of(envelope.event),
            state=encode_event(envelope.event),
        )

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        try:
            event = decode_event(stored_event.state)
        except msgspec.DecodeError as e:
            raise MapperDeserialisationError(
                f"stored event {stored_event.originator_id} v{stored_event.originator_version} does not decode: {e}"
            ) from e
        return Envelope(str(stored_event.originator_id), stored_event.originator_version, event)


class _NoTranscoder(Transcoder):
    """Placeholder: this mapper encodes with msgspec and never calls a transcoder."""

    def encode(self, obj: Any) -> bytes:  # pragma: no cover - never called
        raise NotImplementedError

    def decode(self, data: bytes) -> Any:  # pragma: no cover - never called
        raise NotImplementedError
