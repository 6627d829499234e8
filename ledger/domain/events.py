"""The ledger's events: one tagged union of frozen msgspec Structs (docs/design.md §3).

Every event is forever. The rules that keep old bytes decoding (msgspec's schema evolution):
a new field always has a default; a field's type and a tag never change; a removed kind stays
in the union. `tests/fixtures/events-v1.jsonl` holds bytes of every kind as first released,
and a test decodes them.

The encoded form of an event is msgspec JSON: Decimals as strings, dates as ISO, datetimes as
RFC 3339. Decoding into these typed Structs restores every value exactly (a Decimal stays a
Decimal, a datetime keeps its offset), which a schemaless JSON transcoder cannot do.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Final, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from ledger.domain.values import Fields, Status

#: A timezone-aware instant; naive datetimes are refused when decoding.
Instant = Annotated[datetime, Meta(tz=True)]

LaoType = Literal["pao", "city_municipality", "town_municipality", "subdistrict_municipality", "sao", "special"]
LAO_TYPES: Final = (
    "pao",
    "city_municipality",
    "town_municipality",
    "subdistrict_municipality",
    "sao",
    "special",
)


class Event(msgspec.Struct, frozen=True, kw_only=True, tag_field="kind"):
    """Event holds what every fact carries: when the ledger learnt it, from whom, and why."""

    recorded_at: Instant
    actor: str
    source: str
    reason: str | None = None
    reported_at: Instant | None = None


# --- mission records -------------------------------------------------------------------------


class RecordEvent(Event, frozen=True, kw_only=True):
    """RecordEvent is an event of one mission record, identified by (lao_code, mission_code)."""

    lao_code: str
    mission_code: str


class Recorded(RecordEvent, frozen=True, kw_only=True, tag="recorded"):
    """Recorded is the first report of a mission record; its values hold from effective_from."""

    effective_from: date
    values: Fields


class Corrected(RecordEvent, frozen=True, kw_only=True, tag="corrected"):
    """Corrected says an earlier report was wrong: `set` replaces fields over the whole
    timeline, or over [period_from, period_to) when given; `effective_from`, when given,
    corrects the record's first valid day."""

    set: Fields = Fields()
    effective_from: date | None = None
    period_from: date | None = None
    period_to: date | None = None


class Changed(RecordEvent, frozen=True, kw_only=True, tag="changed"):
    """Changed says circumstances changed in reality: `set` holds from effective_from on."""

    effective_from: date
    set: Fields


class Cancelled(RecordEvent, frozen=True, kw_only=True, tag="cancelled"):
    """Cancelled makes the record's status `cancelled` from effective_from on."""

    effective_from: date


class Reinstated(RecordEvent, frozen=True, kw_only=True, tag="reinstated"):
    """Reinstated reverses a cancellation from effective_from on, restoring the status held
    before it, or `status` when given."""

    effective_from: date
    status: Status | None = None


class Voided(RecordEvent, frozen=True, kw_only=True, tag="voided"):
    """Voided says the record was entered in error: it exists at no valid time from now on."""


# --- registry of LAOs --------------------------------------------------------------------------


class LaoFields(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """LaoFields is a partial set of an LAO's registry values (UNSET = unchanged)."""

    lao_type: LaoType | UnsetType = UNSET
    name_th: str | UnsetType = UNSET
    province_code: str | UnsetType = UNSET
    province_th: str | UnsetType = UNSET
    district_code: str | UnsetType = UNSET
    district_th: str | UnsetType = UNSET


class LaoRegistered(Event, frozen=True, kw_only=True, tag="lao_registered"):
    """LaoRegistered enters an LAO in the registry, valid from effective_from."""

    lao_code: str
    lao_type: LaoType
    name_th: str
    province_code: str
    province_th: str
    district_code: str
    district_th: str
    effective_from: date


class LaoAmended(Event, frozen=True, kw_only=True, tag="lao_amended"):
    """LaoAmended records a change of an LAO's type, name or place (e.g. an SAO upgraded to a
    sub-district municipality), valid from effective_from."""

    lao_code: str
    set: LaoFields
    effective_from: date


# --- catalog of missions -----------------------------------------------------------------------


class MissionFields(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """MissionFields is a partial set of a catalog entry's values (UNSET = unchanged)."""

    name_th: str | UnsetType = UNSET
    area: str | UnsetType = UNSET
    source_agency: str | UnsetType = UNSET
    unit: str | UnsetType | None = UNSET
    applies_to: tuple[LaoType, ...] | UnsetType = UNSET


class MissionDefined(Event, frozen=True, kw_only=True, tag="mission_defined"):
    """MissionDefined adds a mission to the catalog; empty applies_to means every LAO type."""

    mission_code: str
    name_th: str
    area: str
    source_agency: str
    unit: str | None = None
    applies_to: tuple[LaoType, ...] = ()


class MissionAmended(Event, frozen=True, kw_only=True, tag="mission_amended"):
    """MissionAmended changes a catalog entry's values."""

    mission_code: str
    set: MissionFields


# --- import batches ---------------------------------------------------------------------------------


class BatchImported(Event, frozen=True, kw_only=True, tag="batch_imported"):
    """BatchImported records an import file as a fact: which file (name and SHA-256), how many
    rows it had and how many were invalid, and how many events of each kind it appended (in the
    same transaction, with the same recorded_at and source `import:<batch_id>`)."""

    batch_id: str
    file_name: str
    sha256: str
    mode: str
    rows: int
    invalid_rows: int = 0
    appended: dict[str, int] = {}


# --- principals, roles and tokens (DESIGN §10) ---------------------------------------------------
#
# Who could do what, and when, is history like everything else: an auditor asks "who could
# write for this LAO on the deadline" as of any time. A token's secret, and any hash of it, never
# appears here (they live in the store's token table); an event names a token by its public id.


class PrincipalAdded(Event, frozen=True, kw_only=True, tag="principal_added"):
    """PrincipalAdded enters a person or program that may sign in, with its first roles."""

    name: str
    roles: tuple[str, ...] = ()
    display_name: str | None = None


class PrincipalRenamed(Event, frozen=True, kw_only=True, tag="principal_renamed"):
    """PrincipalRenamed changes the name people read for a principal (a clerk who married, a
    typo); the principal's own name — the actor of its writes — never changes."""

    name: str
    display_name: str | None = None


class RoleGranted(Event, frozen=True, kw_only=True, tag="role_granted"):
    """RoleGranted gives a principal one more role (`province:81`, `lao:6810103`, `auditor`, …)."""

    name: str
    role: str


class RoleRevoked(Event, frozen=True, kw_only=True, tag="role_revoked"):
    """RoleRevoked takes a role away from a principal, from now on."""

    name: str
    role: str


class TokenIssued(Event, frozen=True, kw_only=True, tag="token_issued"):
    """TokenIssued says a token was handed to a principal: its public id, until when it holds,
    and a label saying what it is for. Never the token, never its hash."""

    name: str
    token_id: str
    expires_at: Instant
    label: str | None = None


class LinkIssued(Event, frozen=True, kw_only=True, tag="link_issued"):
    """LinkIssued says a one-time sign-in link was handed to a principal (`token issue --link`):
    a token the pages exchange once for a session, revoking it as they do. Never the token."""

    name: str
    token_id: str
    expires_at: Instant
    label: str | None = None


class TokenRevoked(Event, frozen=True, kw_only=True, tag="token_revoked"):
    """TokenRevoked ends a token before it expires: the next request with it is refused."""

    name: str
    token_id: str


# --- reporting rounds ------------------------------------------------------------------------


class RoundOpened(Event, frozen=True, kw_only=True, tag="round_opened"):
    """RoundOpened starts a reporting round: from `start` the LAOs report, by the end of
    `deadline` (Bangkok) they should have; nationwide, or for one province. The latest round
    known at a time is the one the completeness report and the dashboard measure against."""

    name: str
    start: date
    deadline: date
    province_code: str | None = None


class RoundSealed(Event, frozen=True, kw_only=True, tag="round_sealed"):
    """RoundSealed keeps a round's seal: a checkpoint, signed once the deadline had passed, of
    exactly the events recorded by the deadline (the first `size` of the log). What DLA allocates
    from is the ledger as it stood then, and anyone can prove an answer against this checkpoint."""

    name: str
    size: int
    root: str  # the Merkle root of the first `size` events, hex
    checkpoint: str  # the signed note (C2SP), as `checkpoint` and `verify` read it


LedgerEvent = (
    Recorded
    | Corrected
    | Changed
    | Cancelled
    | Reinstated
    | Voided
    | LaoRegistered
    | LaoAmended
    | MissionDefined
    | MissionAmended
    | BatchImported
    | PrincipalAdded
    | PrincipalRenamed
    | RoleGranted
    | RoleRevoked
    | TokenIssued
    | TokenRevoked
    | LinkIssued
    | RoundOpened
    | RoundSealed
)
RECORD_EVENT_TYPES: Final = (Recorded, Corrected, Changed, Cancelled, Reinstated, Voided)
#: The kinds that say who may do what (their stream is `principal/<name>`).
ACCESS_EVENT_TYPES: Final = (
    PrincipalAdded, PrincipalRenamed, RoleGranted, RoleRevoked, TokenIssued, TokenRevoked, LinkIssued
)  # fmt: skip
EVENT_TYPES: Final = (
    *RECORD_EVENT_TYPES,
    LaoRegistered,
    LaoAmended,
    MissionDefined,
    MissionAmended,
    BatchImported,
    *ACCESS_EVENT_TYPES,
    RoundOpened,
    RoundSealed,
)
KINDS: Final = {str(cls.__struct_config__.tag): cls for cls in EVENT_TYPES}
RECORD_KINDS: Final = tuple(str(cls.__struct_config__.tag) for cls in RECORD_EVENT_TYPES)
#: The kinds of record event that change what an earlier report said (all but `recorded`).
CHANGE_KINDS: Final = ("corrected", "changed", "cancelled", "reinstated", "voided")

#: The schema version of each kind's data. A kind's version goes up when it gains a field (old
#: events still decode: the field has a default); the tag and the fields' types never change.
SCHEMA_VERSIONS: Final = dict.fromkeys(KINDS, 1)

_encoder: Final = msgspec.json.Encoder(decimal_format="string")
_decoder: Final[msgspec.json.Decoder[LedgerEvent]] = msgspec.json.Decoder(LedgerEvent)


def kind_of(event: Event) -> str:
    """kind_of is the event's stable tag (`recorded`, `corrected`, …)."""
    tag = event.__struct_config__.tag
    assert isinstance(tag, str)  # every concrete kind has a string tag; a type invariant
    return tag


def encode_event(event: Event) -> bytes:
    """encode_event gives the stored bytes of an event (msgspec JSON, keys in field order)."""
    return _encoder.encode(event)


def decode_event(data: bytes) -> LedgerEvent:
    """decode_event restores an event exactly from its stored bytes."""
    return _decoder.decode(data)


def json_schemas() -> dict[str, object]:
    """json_schemas is the JSON Schema (2020-12) of every kind's data, generated from the Structs,
    with each kind's schema version."""
    schemas, components = msgspec.json.schema_components(EVENT_TYPES, ref_template="#/$defs/{name}")
    kinds = {
        kind: {"version": SCHEMA_VERSIONS[kind], "schema": _strict(schema)}
        for kind, schema in zip(KINDS, schemas, strict=True)
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "mission-ledger event data",
        "kinds": kinds,
        "$defs": {name: _strict(schema) for name, schema in components.items()},
    }


#: An exact decimal as the ledger writes it: `"12.5"`, `"-3"`, `"1250000.50"` (no grouping, no exponent).
DECIMAL_PATTERN: Final = r"^-?[0-9]+(\.[0-9]+)?$"


def _strict(schema: Any) -> Any:
    """_strict makes a generated schema as strict as the ledger: a decimal is a pattern (`format:
    decimal` is no JSON Schema format, so validators let `"abc"` through), and an object has no
    properties but its own (`additionalProperties: false`)."""
    if isinstance(schema, list):
        return [_strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    found = {k: _strict(v) for k, v in schema.items()}
    if found.get("format") == "decimal":
        del found["format"]
        found["pattern"] = DECIMAL_PATTERN
    if found.get("type") == "object" and "properties" in found:
        found.setdefault("additionalProperties", False)
    return found


def record_id(lao_code: str, mission_code: str) -> str:
    """record_id is the event-store id of a mission record's stream."""
    return f"record/{lao_code}/{mission_code}"


def lao_id(lao_code: str) -> str:
    """lao_id is the event-store id of an LAO's registry stream."""
    return f"lao/{lao_code}"


def mission_id(mission_code: str) -> str:
    """mission_id is the event-store id of a catalog entry's stream."""
    return f"mission/{mission_code}"


def stream_id(event: LedgerEvent) -> str:
    """stream_id is the id of the stream an event belongs to."""
    if isinstance(event, RecordEvent):
        return record_id(event.lao_code, event.mission_code)
    if isinstance(event, (LaoRegistered, LaoAmended)):
        return lao_id(event.lao_code)
    if isinstance(event, BatchImported):
        return batch_id(event.batch_id)
    if isinstance(event, ACCESS_EVENT_TYPES):
        return principal_id(event.name)
    if isinstance(event, (RoundOpened, RoundSealed)):
        return round_id(event.name)
    return mission_id(event.mission_code)


def batch_id(batch: str) -> str:
    """batch_id is the event-store id of an import batch's stream."""
    return f"batch/{batch}"


def principal_id(name: str) -> str:
    """principal_id is the event-store id of a principal's stream (its roles and tokens)."""
    return f"principal/{name}"


def round_id(name: str) -> str:
    """round_id is the event-store id of a reporting round's stream."""
    return f"round/{name}"
