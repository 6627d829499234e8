"""Mission records over HTTP: read one (as `show --json`), its history (as `history --json`), and
the six commands that append (as the CLI's record, correct, change, cancel, reinstate, void).

A write runs as the signed-in principal (actor = its name, source = `http`), through
MissionLedger.command, which decides whether its roles cover the LAO. `If-Match: "<version>"`
makes it conditional: a record at another version answers 412 and appends nothing.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, Final, cast

import msgspec
from litestar import Request, Response, get, post

from ledger.application import RECORD_COMMANDS, MissionLedger
from ledger.domain.access import Principal
from ledger.domain.commands import CommandText, command_arguments
from ledger.errors import BadInput, Conflict, StaleVersion, Unprocessable
from ledger.store.credentials import IdempotencyKey
from projections.documents import plain
from projections.feed import feed_head
from projections.queries import history
from service.api.contract import DATE, INSTANT, LAO, MISSION, WRITES, Answer, declares
from service.api.documents import COMMAND_BODIES, HistoryEntry, Kind, RecordDocument, WriteReceipt
from service.auth import requires
from service.hardening import json_body
from service.params import day, instant, json_response
from service.state import LedgerService

_VERSION: Final = re.compile(r"[0-9]{1,18}")
_IDEMPOTENCY_KEY: Final = re.compile(r"[\x21-\x7e]{1,255}")


def expected_versions(header: str | None) -> tuple[int, ...] | None:
    """expected_versions reads `If-Match` as RFC 9110 §13.1.1 has it: None when absent, () for
    `*` (any current version: the record must exist), else the versions of its strong entity
    tags (`"3"` or `"3", "4"`). A weak tag (`W/"3"`) never matches: If-Match compares strongly. A
    tag is ASCII digits, at most 18 (a version fits a 64-bit integer)."""
    if header is None:
        return None
    text = header.strip()
    if text == "*":
        return ()
    versions = []
    for tag in (t.strip() for t in text.split(",")):
        if tag.startswith("W/"):
            versions.append(-1)  # a weak tag: matches no version
            continue
        value = tag.strip('"') if tag.startswith('"') and tag.endswith('"') and len(tag) >= 2 else tag
        if not _VERSION.fullmatch(value):
            raise BadInput(f'If-Match {header[:40]!r} is not a record version such as "3"', field="If-Match")
        versions.append(int(value))
    return tuple(versions)


def _expected(app: MissionLedger, lao: str, mission: str, versions: tuple[int, ...] | None) -> int | None:
    """The version a write is conditional on (MissionLedger.command's expect_version): the one
    the record is at when If-Match lists it (or is `*` and the record exists); 412 else."""
    if versions is None:
        return None
    if len(versions) == 1 and versions[0] >= 0:
        return versions[0]  # the application says exactly what the record is at instead
    current = app.state(lao, mission).version
    if (not versions and current > 0) or current in versions:
        return current
    listed = (
        "any version (the record does not exist)"
        if not versions
        else ", ".join(f'"{v}"' if v >= 0 else "a weak tag" for v in versions)
    )
    raise StaleVersion(
        f"record {lao}/{mission} is at version {current}, not {listed}: someone changed it since you read it",
        field="If-Match",
    )


_RECORD: Final = {"lao": LAO, "mission": MISSION}


@get(
    "/records/{lao:str}/{mission:str}",
    sync_to_thread=False,
    guards=[requires("read_record")],
    opt=declares(
        "show_record",
        Answer(200, RecordDocument, headers=("ETag",), description="the record; its ETag is its version"),
        errors=(404,),
        params={**_RECORD, "known_at": INSTANT, "valid_on": DATE},
    ),
)
def show_record(
    lao: str,
    mission: str,
    ledger: LedgerService,
    principal: Principal,
    known_at: str | None = None,
    valid_on: str | None = None,
) -> Response[bytes]:
    """A mission record as known at `known_at` (default now), valid on `valid_on`: the object of
    `show --json`. Its ETag is its version, for If-Match on the next write."""
    view = ledger.app.show(lao, mission, known_at=instant("known_at", known_at), valid_on=day("valid_on", valid_on))
    return json_response(view, headers={"ETag": f'"{view.version}"'})


@get(
    "/records/{lao:str}/{mission:str}/history",
    sync_to_thread=False,
    guards=[requires("read_record")],
    opt=declares("record_history", Answer(200, list[HistoryEntry]), errors=(404,), params=_RECORD),
)
def record_history(lao: str, mission: str, ledger: LedgerService, principal: Principal) -> Response[bytes]:
    """Every event of a mission record, oldest first, with before → after: `history --json`."""
    return json_response(history(ledger.views(), lao, mission))


def _receipt(app: MissionLedger, lao: str, mission: str, positions: tuple[int, ...]) -> Response[bytes]:
    logged = [app.ledger_recorder.select_log(p - 1, 1)[0] for p in positions]
    found = WriteReceipt(
        lao_code=lao,
        mission_code=mission,
        kind=cast(Kind, feed_head(logged[-1].state).kind),
        positions=list(positions),
        version=logged[-1].version,
        recorded_at=plain(logged[-1].recorded_at),
        leaf_hashes=[x.leaf_hash.hex() for x in logged],
    )
    return json_response(
        msgspec.structs.asdict(found),
        status=201,
        headers={"ETag": f'"{found.version}"', "Location": f"/api/v1/records/{lao}/{mission}"},
    )


def idempotency_of(
    principal: Principal, key: str | None, request: Request[Any, Any, Any], body: bytes
) -> IdempotencyKey | None:
    """idempotency_of reads `Idempotency-Key` (1 to 255 visible ASCII characters; the IETF
    httpapi draft): the key as the store keeps it, for this principal, with the fingerprint of
    the request it came with (method, path, If-Match, body)."""
    if key is None:
        return None
    if not _IDEMPOTENCY_KEY.fullmatch(key):
        raise BadInput("Idempotency-Key must be 1 to 255 visible ASCII characters", field="Idempotency-Key")
    request_of = b"\0".join(
        [request.method.encode(), request.url.path.encode(), (request.headers.get("if-match") or "").encode(), body]
    )
    return IdempotencyKey(
        hashlib.sha256(principal.name.encode() + b"\0" + key.encode()).digest(), hashlib.sha256(request_of).digest()
    )


def _replay(app: MissionLedger, lao: str, mission: str, key: IdempotencyKey) -> Response[bytes] | None:
    """The outcome of the first write with this key, or None when there was none."""
    found = app.ledger_recorder.idempotent_outcome(key.key_hash)
    if found is None:
        return None
    fingerprint, positions = found
    if fingerprint != key.fingerprint:
        raise Unprocessable("this Idempotency-Key came with another request before: use a new key for a new write",
                            field="Idempotency-Key")  # fmt: skip
    response = _receipt(app, lao, mission, positions)
    response.headers["Idempotent-Replay"] = "true"
    return response


async def write_record(
    lao: str, mission: str, command: str, request: Request[Any, Any, Any], ledger: LedgerService, principal: Principal
) -> Response[bytes]:
    """Run one record command as the signed-in principal (see `_write_route`)."""
    versions = expected_versions(request.headers.get("if-match"))  # malformed: a 400 before the body
    body = await request.body()
    key = idempotency_of(principal, request.headers.get("idempotency-key"), request, body)
    app = ledger.as_principal(principal)
    if key is not None:
        replayed = _replay(app, lao, mission, key)
        if replayed is not None:
            return replayed
        app.ledger_recorder.prepare_idempotency()
    arguments = command_arguments(command, json_body(request.headers.get("content-type"), body, CommandText))
    expect = _expected(app, lao, mission, versions)
    try:
        receipt = app.command(command, lao, mission, expect_version=expect, idempotency=key, **arguments)
    except Conflict:
        # The same key sent twice at once: the first write holds the key, this one appended nothing.
        replayed = _replay(app, lao, mission, key) if key is not None else None
        if replayed is None:
            raise
        return replayed
    return _receipt(app, lao, mission, receipt.positions)


#: The request headers a write reads.
_WRITE_HEADERS: Final = {
    "If-Match": {
        "type": "string",
        # RFC 9110's entity tags, and (as the service reads them too) a bare version.
        "pattern": '^(\\*|(W/)?("[0-9]{1,18}"|[0-9]{1,18})( *, *(W/)?("[0-9]{1,18}"|[0-9]{1,18}))*)$',
        "description": 'the record\'s version as read (its ETag, `"3"`): the write appends only if the record is '
        "still at it (412 else); `*`: only if the record exists",
    },
    "Idempotency-Key": {
        "type": "string",
        "pattern": "^[\\x21-\\x7e]{1,255}$",
        "description": "a key of the client's: a retry with the same key and request answers the first write's "
        "receipt (Idempotent-Replay: true) and appends nothing more; with another request, 422",
    },
}
_DOES: Final = {
    "record": "Record a mission the LAO reports for the first time.",
    "correct": "Correct what an earlier report said (for the whole record, or a period of it): the record then "
    "always was so.",
    "change": "Change the record from a day on: it was so until then, and is so from then.",
    "cancel": "Cancel the mission from a day on (the LAO no longer carries it).",
    "reinstate": "Reinstate a cancelled mission from a day on.",
    "void": "Void a record entered in error: it never was.",
}


def _write_route(command: str) -> Any:
    """The POST route of one record command, with the body that command takes."""

    async def handler(
        lao: str, mission: str, request: Request[Any, Any, Any], ledger: LedgerService, principal: Principal
    ) -> Response[bytes]:
        return await write_record(lao, mission, command, request, ledger, principal)

    handler.__doc__ = (
        f"{_DOES[command]} Runs as the signed-in principal: 201 with the receipt; 403 outside its scope; 404 "
        "for an LAO or mission that is not there; 409 refused by a rule; 412 when If-Match names a version the "
        "record is no longer at. With Idempotency-Key, a retry (after a timeout, a 503) answers the first "
        "write's receipt and appends nothing more."
    )
    handler.__name__ = f"{command}_record"
    return post(
        f"/records/{{lao:str}}/{{mission:str}}/{command}",
        status_code=201,
        opt=declares(
            f"{command}_record",
            Answer(
                201, WriteReceipt, headers=("ETag", "Location", "Idempotent-Replay"), description="what was appended"
            ),
            errors=(404, 409, 412, 422, *WRITES),
            body=COMMAND_BODIES[command],
            params=_RECORD,
            headers=_WRITE_HEADERS,
        ),
    )(handler)


ROUTES: Final = [show_record, record_history, *(_write_route(c) for c in RECORD_COMMANDS)]
