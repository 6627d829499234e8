"""The records as of a signed checkpoint, computed from the ledger's events alone.

The views are a cache anyone with the file can edit; a report printed "as of a checkpoint" must
not rest on them. This reads the first `size` events of the log in order, recomputes every leaf
from the event's bytes and the tree's root, and refuses unless that root is the checkpoint's —
so every value it prints is bound by the signature. It folds the records in scope as it goes
(one state per record, never the events), and the registry and catalog as they stood then.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from ledger.domain.catalog import Mission, fold_mission
from ledger.domain.events import LaoAmended, LaoRegistered, MissionAmended, MissionDefined, RecordEvent, decode_event
from ledger.domain.registry import Lao, fold_lao
from ledger.domain.thai import format_instant
from ledger.domain.timeline import RECORD_KEYS, RecordState, RecordView, apply
from ledger.errors import NotFound, Refused
from ledger.integrity.checkpoint import Checkpoint
from ledger.integrity.leaf import event_leaf
from ledger.integrity.merkle import CompactRange
from ledger.stamps import format_stamp
from ledger.store.contract import LedgerLog
from projections.queries import Scope


def _in_scope(lao: Lao, scope: Scope) -> bool:
    if scope.lao is not None:
        return lao.lao_code == scope.lao
    if scope.district is not None:
        return lao.district_code == scope.district
    if scope.province is not None:
        return lao.province_code == scope.province
    return True


def as_of_checkpoint(
    recorder: LedgerLog,
    checkpoint: Checkpoint,
    *,
    valid_on: date,
    scope: Scope | None = None,
    known_at: datetime | None = None,
) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """as_of_checkpoint yields, in code order, every record in scope as the ledger stood at the
    checkpoint, valid on `valid_on` — the rows `as_of` gives at `at_seq=checkpoint.size` — after
    checking that the events read hash to the checkpoint's root (Refused otherwise). With
    `known_at`, as the ledger knew it then, from the checkpoint's events recorded by that time:
    allowed for any time the checkpoint covers whole (no event after it was recorded by then)."""
    scope = scope or Scope()
    cutoff = format_stamp(known_at) if known_at is not None else None
    if known_at is not None and cutoff is not None and checkpoint.size < recorder.log_size():
        (following,) = recorder.audit_rows(checkpoint.size, 1)
        if following[2] <= cutoff:
            raise Refused(
                f"the checkpoint covers the first {checkpoint.size} events; event {checkpoint.size + 1} was "
                f"recorded by {format_instant(known_at)} too, so the checkpoint cannot attest that time"
            )
    if sum(v is not None for v in (scope.lao, scope.district, scope.province)) > 1:
        raise Refused("give at most one of --lao, --district, --province")
    laos: dict[str, Lao] = {}
    missions: dict[str, Mission] = {}
    lao_events: dict[str, list[LaoRegistered | LaoAmended]] = {}
    mission_events: dict[str, list[MissionDefined | MissionAmended]] = {}
    ever_in_scope: set[str] = set()
    states: dict[tuple[str, str], RecordState] = {}
    tree = CompactRange()
    after = 0
    while tree.size < checkpoint.size:
        rows = recorder.audit_rows(after, min(5000, checkpoint.size - tree.size))
        if not rows:
            break
        for position, _, recorded, _, stream, version, topic, state in rows:
            if position != tree.size + 1 or stream is None:
                raise Refused(f"the ledger is missing the event at position {tree.size + 1}: run `verify`")
            tree = tree.append(event_leaf(position, stream, version, topic, bytes(state)))
            after = position
            if cutoff is not None and recorded > cutoff:
                continue  # in the checkpoint, but recorded after the time asked: hashed, not folded
            kind, _, rest = str(stream).partition("/")
            if kind == "record":
                lao_code, _, mission_code = rest.partition("/")
                if lao_code not in ever_in_scope:
                    continue
                event: RecordEvent = decode_event(bytes(state))  # type: ignore[assignment]
                before = states.get((lao_code, mission_code), RecordState())
                states[(lao_code, mission_code)] = RecordState(
                    apply(before.timeline, event), before.version + 1, event.recorded_at
                )
            elif kind == "lao":
                # Registry and catalog entries have a handful of events each: kept, and folded anew.
                lao_events.setdefault(rest, []).append(decode_event(bytes(state)))  # type: ignore[arg-type]
                folded = fold_lao(lao_events[rest])
                if folded is not None:
                    laos[rest] = folded
                    if _in_scope(folded, scope):
                        ever_in_scope.add(rest)
            elif kind == "mission":
                mission_events.setdefault(rest, []).append(decode_event(bytes(state)))  # type: ignore[arg-type]
                found = fold_mission(mission_events[rest])
                if found is not None:
                    missions[rest] = found
    if tree.size != checkpoint.size or tree.root() != checkpoint.root:
        raise Refused(
            f"the ledger's first {checkpoint.size} events do not hash to the checkpoint's root: "
            "nothing is printed as of it; run `verify`"
        )
    for code, what in ((scope.lao, "LAO"), (scope.district, "district"), (scope.province, "province")):
        if code is not None and not any(
            code in (lao.lao_code, lao.district_code, lao.province_code) for lao in laos.values()
        ):
            raise NotFound(f"{what} {code} is not in the registry at the checkpoint")
    for (lao_code, mission_code), record in sorted(states.items()):
        lao = laos.get(lao_code)
        if lao is None or not _in_scope(lao, scope) or not record.timeline.exists:
            continue
        period = record.timeline.at(valid_on)
        start = record.timeline.start
        if period is None or start is None or record.last_recorded_at is None:
            continue
        view = RecordView.of(lao_code, mission_code, record, period)
        mission = missions.get(mission_code)
        yield (
            {key: getattr(view, key) for key in RECORD_KEYS},
            {"lao_name_th": lao.name_th, "mission_name_th": mission.name_th if mission else None},
        )
