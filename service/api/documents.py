"""The API's documents as types: what each operation takes and answers, written as msgspec Structs
so that the OpenAPI document declares them (service.api.contract) and a test can decode every
real answer with them, strictly.

They describe the JSON the handlers already make (projections.documents.plain: decimals as exact
strings, dates ISO CE, instants RFC 3339 with the Bangkok offset, absent values null); the
handlers still encode each answer once, from the projections' own values. The bounds of the
values taken are the ledger's own (ledger.domain.limits), so that a client that keeps to the
schema is never refused for the form of what it sent — only by a rule of the ledger (409), or
because the record or LAO is not there (404).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Final, Literal

import msgspec
from msgspec import Meta

from ledger.domain.limits import (
    MAX_NOTE_CHARS,
    MAX_REASON_CHARS,
    MAX_STAFF,
    MAX_UNIT_CHARS,
)
from ledger.domain.provinces import PROVINCES

# --- values ------------------------------------------------------------------------------------

#: A 7-digit DLA LAO code (Thai digits are read too).
LAO_PATTERN: Final = "^[0-9๐-๙]{7}$"
#: A mission code of the catalog.
MISSION_PATTERN: Final = "^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$"
#: A date as programs write it: ISO 8601, the year CE (1900–2099) or BE (2443–2642, read as BE).
#: People's forms (30/12/2567, 30 ธ.ค. 2567) are read too; see docs/api.md.
DATE_PATTERN: Final = (
    r"^(19[0-9]{2}|20[0-9]{2}|24[4-9][0-9]|25[0-9]{2}|26[0-3][0-9]|264[0-2])-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])$"
)
#: An instant: a date (the end of that day in Bangkok; the start, for `since`) or an RFC 3339 time.
INSTANT_PATTERN: Final = (
    r"^(19[0-9]{2}|20[0-9]{2}|25[0-9]{2})-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])"
    r"(T([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?(Z|[+-](0[0-9]|1[0-3]):[0-5][0-9]))?$"
)
#: A day a record can hold from (ledger.domain.limits: 1957 to ten years ahead), CE or BE.
EFFECTIVE_PATTERN: Final = (
    r"^(19[6-9][0-9]|20[0-2][0-9]|250[3-9]|25[1-6][0-9]|257[0-2])-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])$"
)
#: When the source system says an LAO reported: 1990 to the day before (the ledger's clock).
REPORTED_PATTERN: Final = r"^(199[0-9]|200[0-9]|201[0-9]|202[0-4])-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])$"
#: A quantity: 0 to 10,000,000 with at most 4 decimals, as an exact string.
QUANTITY_PATTERN: Final = r"^((0|[1-9][0-9]{0,6})(\.[0-9]{1,4})?)?$"
#: A budget in THB: 0 to 100,000,000,000 with at most 2 decimals (satang), as an exact string.
BUDGET_PATTERN: Final = r"^((0|[1-9][0-9]{0,10})(\.[0-9]{1,2})?)?$"
#: One line of text: no control characters, no marks that reorder how text shows.
#: The characters a line of text may not hold: control characters, marks that reorder text.
_CONTROLS: Final = "\\u0000-\\u001f\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069"
_LINE: Final = f"[^{_CONTROLS}]"
LINE_PATTERN: Final = f"^{_LINE}*$"

Instant = Annotated[
    str, Meta(description="RFC 3339, with the Bangkok offset (+07:00)", examples=["2024-12-30T10:00:00+07:00"])
]
Day = Annotated[str, Meta(description="ISO 8601 date, CE", examples=["2024-10-01"])]
Decimal = Annotated[str, Meta(pattern=r"^-?[0-9]+(\.[0-9]+)?$", description="an exact decimal, as a string")]
Status = Literal["operating", "not_yet", "cancelled"]
Kind = Literal["recorded", "corrected", "changed", "cancelled", "reinstated", "voided"]
Line = Annotated[str, Meta(pattern=LINE_PATTERN)]


class FieldProblem(msgspec.Struct, kw_only=True):
    """FieldProblem is one refused input of a request that had several."""

    field: str | None
    message: str | None
    source: str | None = None


class Problem(msgspec.Struct, kw_only=True):
    """Problem is an RFC 9457 problem document: what was wrong, and the field when one was."""

    type: str
    title: str
    status: int
    detail: str
    #: The path asked (left out when the path itself is what was wrong: a control character).
    instance: str | msgspec.UnsetType = msgspec.UNSET
    field: str | None = None
    errors: list[FieldProblem] | None = None


# --- records -------------------------------------------------------------------------------------


class RecordDocument(msgspec.Struct, kw_only=True):
    """RecordDocument is a mission record as known at a time, valid on a date: `show --json`."""

    lao_code: str
    mission_code: str
    status: Status
    received_fy: int | None
    quantity: Decimal | None
    unit: str | None
    budget: Decimal | None
    staff: int | None
    note: str | None
    version: Annotated[int, Meta(ge=1)]
    effective_from: Day
    valid_from: Day
    valid_to: Day | None
    recorded_at: Instant


class HistoryEntry(msgspec.Struct, kw_only=True):
    """HistoryEntry is one event of a record with what it changed, each field's [before, after]:
    a line of `history --json` and of `changes --json`."""

    position: Annotated[int, Meta(ge=1)]
    recorded_at: Instant
    kind: Kind
    lao_code: str
    mission_code: str
    version: Annotated[int, Meta(ge=1)]
    actor: str
    source: str
    reason: str | None
    reported_at: Instant | None
    effective_from: Day | None
    changes: dict[
        str,
        Annotated[
            list[Any], Meta(min_length=2, max_length=2, description="[before, after]", extra_json_schema={"items": {}})
        ],
    ]


class WriteReceipt(msgspec.Struct, kw_only=True):
    """WriteReceipt says what a write appended: positions, the record's new version, the time,
    and each event's leaf hash (what an inclusion proof of it proves)."""

    lao_code: str
    mission_code: str
    kind: Kind
    positions: list[int]
    version: int
    recorded_at: Instant
    leaf_hashes: list[Annotated[str, Meta(pattern="^[0-9a-f]{64}$")]]


def _command_body(name: str, fields: dict[str, Any], required: tuple[str, ...] = ()) -> type[msgspec.Struct]:
    """A record command's body: exactly the fields it takes (ledger.domain.commands.TAKES)."""
    given = [(k, v) if k in required else (k, v, None) for k, v in fields.items()]
    given.sort(key=lambda f: len(f) == 3)  # required fields first, as a Struct wants them
    return msgspec.defstruct(name, given, kw_only=True, forbid_unknown_fields=True)


#: A reason: one line with something in it besides blanks.
_REASON_PATTERN: Final = f"^{_LINE}*[^\\s{_CONTROLS}]{_LINE}*$"
_Reason = Annotated[str, Meta(min_length=1, max_length=MAX_REASON_CHARS, pattern=_REASON_PATTERN, description="why")]
_Reported = Annotated[str, Meta(pattern=REPORTED_PATTERN, description="when the source system says the LAO reported")]
_Effective = Annotated[
    str, Meta(pattern=EFFECTIVE_PATTERN, description="the day the values hold from (a year ≥ 2443 is BE)")
]
_Period = Annotated[str, Meta(pattern=DATE_PATTERN)]
# A number may come as a JSON number or as its text; "" (like null) clears the field.
_FiscalYear = (
    Annotated[int, Meta(ge=2500, le=2569, description="a fiscal year, BE")]
    | Annotated[str, Meta(pattern="^(25[0-6][0-9])?$")]
)
_Quantity = Annotated[str, Meta(pattern=QUANTITY_PATTERN)] | Annotated[int, Meta(ge=0, le=10_000_000)]
_Budget = Annotated[str, Meta(pattern=BUDGET_PATTERN)] | Annotated[int, Meta(ge=0, le=100_000_000_000)]
_Staff = Annotated[int, Meta(ge=0, le=MAX_STAFF)] | Annotated[str, Meta(pattern="^([0-9]{1,5}|100000)?$")]
_Unit = Annotated[str, Meta(max_length=MAX_UNIT_CHARS, pattern=LINE_PATTERN)]
_Note = Annotated[str, Meta(max_length=MAX_NOTE_CHARS, pattern=LINE_PATTERN)]
_NewStatus = Literal["operating", "not_yet"]


class FieldChanges(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """FieldChanges is `set` of a correction or a change: each field given takes that value
    (null clears it); at least one."""

    status: _NewStatus | msgspec.UnsetType = msgspec.UNSET  # a status is never cleared
    received_fy: _FiscalYear | None = None
    quantity: _Quantity | None = None
    unit: _Unit | None = None
    budget: _Budget | None = None
    staff: _Staff | None = None
    note: _Note | None = None


class Correction(FieldChanges, kw_only=True, forbid_unknown_fields=True):
    """Correction is `set` of a correction: also the day the record holds from."""

    effective_from: _Effective | msgspec.UnsetType = msgspec.UNSET


_COMMON: Final = {"reason": _Reason, "reported_at": _Reported | None}
COMMAND_BODIES: Final[dict[str, type[msgspec.Struct]]] = {
    "record": _command_body(
        "RecordBody",
        {
            "status": _NewStatus,
            "effective": _Effective,
            "received_fy": _FiscalYear | None,
            "quantity": _Quantity | None,
            "unit": _Unit | None,
            "budget": _Budget | None,
            "staff": _Staff | None,
            "note": _Note | None,
            "reason": _Reason | None,
            "reported_at": _Reported | None,
        },
        required=("status", "effective"),
    ),
    "correct": _command_body(
        "CorrectBody",
        {
            "set": Annotated[Correction, Meta(extra_json_schema={"minProperties": 1})],
            "period_from": _Period | None,
            "period_to": _Period | None,
            **_COMMON,
        },
        required=("set", "reason"),
    ),
    "change": _command_body(
        "ChangeBody",
        {
            "set": Annotated[FieldChanges, Meta(extra_json_schema={"minProperties": 1})],
            "effective": _Effective,
            **_COMMON,
        },
        required=("set", "effective", "reason"),
    ),
    "cancel": _command_body("CancelBody", {"effective": _Effective, **_COMMON}, required=("effective", "reason")),
    "reinstate": _command_body(
        "ReinstateBody",
        {"effective": _Effective, "status": _NewStatus | None, **_COMMON},
        required=("effective", "reason"),
    ),
    "void": _command_body("VoidBody", dict(_COMMON), required=("reason",)),
}


# --- views ---------------------------------------------------------------------------------------


class LaoCompleteness(msgspec.Struct, kw_only=True):
    """LaoCompleteness is one LAO's line of the completeness report."""

    lao_code: str
    name_th: str
    lao_type: str
    district_code: str
    district_th: str
    province_code: str
    records: int
    incomplete_records: int
    last_recorded_at: Instant | None
    reported_since_round_start: bool
    verdict: Literal["complete", "incomplete", "no_records"]


class _Totals(msgspec.Struct, kw_only=True):
    laos: int
    complete: int
    incomplete: int
    no_records: int
    records: int
    incomplete_records: int
    reported_since_round_start: int


class DistrictTotals(_Totals, kw_only=True):
    """DistrictTotals counts a district's LAOs by verdict, and their records."""

    district_code: str | None
    district_th: str | None


class ScopeTotals(_Totals, kw_only=True):
    """ScopeTotals counts the whole scope's LAOs by verdict, and their records."""

    province_code: str | None
    province_th: str | None


class RoundOfReport(msgspec.Struct, kw_only=True):
    """RoundOfReport is the round a report counts from."""

    name: str
    start: Day
    deadline: Day
    province_code: str | None


class CompletenessReport(msgspec.Struct, kw_only=True):
    """CompletenessReport is `report completeness --json`: a line per LAO, district totals, and
    the scope's."""

    known_at: Instant
    valid_on: Day
    round_start: Day
    laos: list[LaoCompleteness]
    districts: list[DistrictTotals]
    province: ScopeTotals
    round: RoundOfReport | None = None


class LaoEntry(msgspec.Struct, kw_only=True):
    """LaoEntry is an LAO of the registry (`laos --json`)."""

    lao_code: str
    lao_type: str
    name_th: str
    district_code: str
    district_th: str
    province_code: str
    province_th: str


class MissionEntry(msgspec.Struct, kw_only=True):
    """MissionEntry is a mission of the catalog (`missions --json`); applies_to lists LAO types."""

    mission_code: str
    name_th: str
    area: str
    source_agency: str
    unit: str | None
    applies_to: str


class EventSchemas(msgspec.Struct, kw_only=True):
    """EventSchemas is the JSON Schema (2020-12) of every event kind's data, with its version."""

    title: str
    kinds: dict[str, dict[str, Any]]
    schema: str = msgspec.field(name="$schema")
    defs: dict[str, Any] = msgspec.field(name="$defs")


# --- feed and proofs -----------------------------------------------------------------------------


class CloudEvent(msgspec.Struct, kw_only=True):
    """CloudEvent is one event of the feed (CloudEvents 1.0, JSON): `sequence` is its ledger
    position, zero-padded to 12 digits; `data` the event's data as `schema` gives it."""

    specversion: Literal["1.0"]
    id: Annotated[str, Meta(pattern="^[0-9a-f]{64}$")]
    source: str
    type: str
    time: Instant
    datacontenttype: Literal["application/json"]
    dataschema: str
    sequence: Annotated[str, Meta(pattern="^[0-9]{12,}$")]
    recordedtime: Instant
    data: dict[str, Any]
    subject: str | None = None


class StoredEvent(msgspec.Struct, kw_only=True):
    """StoredEvent is an event as the store keeps it: its stream, version, kind and bytes (base64)."""

    stream_id: str
    version: int
    type: str
    state: str


class InclusionProof(msgspec.Struct, kw_only=True):
    """InclusionProof proves an event is in the log of a signed checkpoint (RFC 9162 §2.1.3)."""

    format: Literal["mission-ledger/inclusion-proof/v1"]
    checkpoint: str
    position: int
    event: StoredEvent
    proof: list[str]
    #: With `witness` asked: the witnesses whose cosignature on the checkpoint verifies, and when.
    cosigned_by: list[Cosigner] | msgspec.UnsetType = msgspec.UNSET


class Cosigner(msgspec.Struct, kw_only=True):
    """Cosigner is a witness that cosigned a checkpoint (c2sp.org/tlog-cosignature), and when."""

    name: str
    time: datetime


class ConsistencyProof(msgspec.Struct, kw_only=True):
    """ConsistencyProof proves the old checkpoint's log is a prefix of the new's (RFC 9162 §2.1.4)."""

    format: Literal["mission-ledger/consistency-proof/v1"]
    old: str
    new: str
    proof: list[str]


# --- imports -------------------------------------------------------------------------------------


class RowError(msgspec.Struct, kw_only=True):
    """RowError is one thing wrong with one row of an upload (the column, the value, why)."""

    row: int
    column: str
    value: str | None
    why: str


class FieldChange(msgspec.Struct, kw_only=True):
    """FieldChange is one field a planned row would change."""

    field: str
    before: Any
    after: Any


class RowPlan(msgspec.Struct, kw_only=True):
    """RowPlan is what a row of a dry run would append."""

    row: int
    kind: Kind
    lao_code: str
    mission_code: str
    effective_from: Day | None
    changes: list[FieldChange]


class RepeatedRow(msgspec.Struct, kw_only=True):
    row: int
    same_as_row: int


class SkippedRow(msgspec.Struct, kw_only=True):
    row: int
    why: str


class ReadAs(msgspec.Struct, kw_only=True):
    row: int
    written: str
    read_as: str


class ImportReport(msgspec.Struct, kw_only=True):
    """ImportReport says what an upload held and what it appended (or, for a dry run, would)."""

    dry_run: bool
    batch_id: str
    sha256: Annotated[str, Meta(pattern="^[0-9a-f]{64}$")]
    file_name: str
    rows: int
    invalid_rows: int
    errors: list[RowError]
    repeated: list[RepeatedRow]
    unknown_columns: list[str]
    kinds: dict[str, int]
    plans: list[RowPlan]
    missing: list[str]
    skipped: list[SkippedRow]
    untouched: int
    read_as: list[ReadAs]
    conflicts: int
    already_imported_at: Instant | None
    recorded_at: Instant | None
    appended: int


class Upload(msgspec.Struct, kw_only=True):
    """Upload is the multipart form of an import: the file, CSV, XLSX or JSON lines."""

    file: Annotated[bytes, Meta(extra_json_schema={"format": "binary", "contentMediaType": "application/octet-stream"})]


# --- accounts ------------------------------------------------------------------------------------


class TokenSummary(msgspec.Struct, kw_only=True):
    """TokenSummary is a token of an account, never its secret: its id, expiry, revocation, and
    whether it is a one-time sign-in link."""

    token_id: str
    expires_at: Instant | None
    revoked_at: Instant | None
    link: bool


class Account(msgspec.Struct, kw_only=True):
    """Account is a delegated account as the API answers it: never a token, never a hash."""

    name: str
    display_name: str | None
    roles: list[str]
    tokens: list[TokenSummary]


class SignInLink(msgspec.Struct, kw_only=True):
    """SignInLink is a one-time sign-in link, answered once and never again."""

    name: str
    token_id: str
    expires_at: Instant
    link: str


#: An account's name (ledger.domain.access.check_principal_name).
NAME_PATTERN: Final = "^[a-z0-9][a-z0-9._@-]{0,63}$"
# The patterns of a name and a role are declared, not enforced by the decoder: the application
# refuses what they leave out in its own words (check_principal_name, parse_role), as the CLI does.
_Name = Annotated[str, Meta(extra_json_schema={"pattern": NAME_PATTERN}, description="an account name")]
#: A role: admin, auditor, an integration (of a province), a province's officer, an LAO's clerk, a
#: district's officer — of one of the 77 provinces. An officer delegates the last two only (403 else).
_PROVINCES: Final = "|".join(sorted(PROVINCES))
_Role = Annotated[
    str,
    Meta(
        extra_json_schema={
            "pattern": f"^(admin|auditor|integration(:({_PROVINCES}))?|province:({_PROVINCES})"
            f"|lao:[0-9]({_PROVINCES})[0-9]{{4}}|district:({_PROVINCES})[0-9]{{2}})$"
        },
        description="admin, auditor, integration[:PP], province:PP, lao:CODE or district:CODE",
    ),
]


class NewAccount(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """NewAccount is a POST /accounts body."""

    name: _Name
    roles: Annotated[list[_Role], Meta(min_length=1, max_length=8)]
    display_name: Annotated[str, Meta(min_length=1, max_length=200, pattern=LINE_PATTERN)] | None = None


class RoleChange(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """RoleChange is a POST /accounts/{name}/grant or /revoke body."""

    role: _Role


class Renaming(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Renaming is a POST /accounts/{name}/rename body (null: no name shown)."""

    display_name: Annotated[str, Meta(min_length=1, max_length=200, pattern=LINE_PATTERN)] | None = None


class Closing(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Closing is a POST /accounts/{name}/disable body."""

    reason: Annotated[str, Meta(max_length=MAX_REASON_CHARS, pattern=LINE_PATTERN)] | None = None


class Health(msgspec.Struct, kw_only=True):
    """Health says whether the service answers from its ledger, and how far its views lag."""

    status: Literal["ok", "views-behind"]
    events: int
    views_position: int
    views_behind: int
