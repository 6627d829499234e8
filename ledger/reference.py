"""The registry of LAOs and the catalog of missions, as the application reads and loads them:
an entry by its code (NotFound naming the closest codes), and loads from CSV files that register
new entries and amend changed ones in one append.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from ledger.appending import Receipt
from ledger.domain.access import Operation
from ledger.domain.catalog import Mission, fold_mission, parse_catalog, plan_catalog
from ledger.domain.events import LedgerEvent, lao_id, mission_id, stream_id
from ledger.domain.registry import Lao, fold_lao, parse_registry, plan_registry, read_csv_text
from ledger.domain.search import closest
from ledger.domain.thai import bangkok_date
from ledger.errors import NotFound
from ledger.store.contract import LedgerLog
from ledger.store.mapper import Envelope


class ReferenceData:
    """ReferenceData reads and loads the registry and the catalog (a mixin of MissionLedger)."""

    ledger_recorder: LedgerLog

    if TYPE_CHECKING:  # what it uses of the application it is part of

        def stream(self, sid: str) -> list[LedgerEvent]: ...

        def authorize(self, operation: Operation, *, province: str | None = None, lao: str | None = None) -> None: ...

        def append(self, decide: Any, *, conflict: str, idempotency: Any = None) -> Receipt: ...

        def meta(self, now: datetime, reason: str | None, reported_at: datetime | None = None) -> dict[str, Any]: ...

    def lao(self, lao_code: str, on: date | None = None) -> Lao:
        """lao returns an LAO's registry entry, or raises NotFound naming the closest codes."""
        found = fold_lao(self.stream(lao_id(lao_code)), on)  # type: ignore[arg-type]
        if found is None:
            raise NotFound(f"LAO {lao_code} is not in the registry{self._suggest('lao', lao_code)}")
        return found

    def mission(self, mission_code: str) -> Mission:
        """mission returns a catalog entry, or raises NotFound naming the closest codes."""
        found = fold_mission(self.stream(mission_id(mission_code)))  # type: ignore[arg-type]
        if found is None:
            raise NotFound(f"mission {mission_code} is not in the catalog{self._suggest('mission', mission_code)}")
        return found

    def _suggest(self, kind: str, code: str) -> str:
        """The closest codes of the registry (kind `lao`) or catalog (`mission`), with their names:
        "; did you mean 6810103 องค์การบริหารส่วนตำบลเขาคราม?" — or how to load it when it is empty."""
        codes = [sid.split("/", 1)[1] for sid in self.ledger_recorder.stream_ids(f"{kind}/")]
        if not codes:
            what = "registry load" if kind == "lao" else "catalog load"
            return f" (it is empty: load it with `{what}`)"
        near = closest(code, codes)
        if not near:
            return ""
        named = []
        for other in near:
            entry = self._lao_or_none(other) if kind == "lao" else self._mission_or_none(other)
            named.append(f"{other} {entry.name_th}" if entry else other)
        return f"; did you mean {', '.join(named)}?"

    def load_registry(
        self, data: bytes, *, name: str, effective_from: date | None = None
    ) -> tuple[Receipt, int, list[tuple[str, str, str]]]:
        """load_registry registers new LAOs and amends changed ones from a CSV file; returns
        the receipt, the number of LAOs already up to date, and the LAOs the file moves to
        another province (code, from, to) — rare and weighty (every scope and report of both
        provinces changes), so the summary names each."""
        self.authorize("load_registry")
        loaded = parse_registry(read_csv_text(data, name=name), name=name)
        moved: list[tuple[str, str, str]] = []

        def decide(now: datetime) -> list[Envelope]:
            current = {e.lao_code: e for e in (self._lao_or_none(lao.lao_code) for lao in loaded) if e}
            moved[:] = [
                (lao.lao_code, current[lao.lao_code].province_code, lao.province_code)
                for lao in loaded
                if lao.lao_code in current and current[lao.lao_code].province_code != lao.province_code
            ]
            events = plan_registry(
                loaded,
                current,
                effective_from=effective_from or bangkok_date(now),
                meta=self.meta(now, f"registry load {name}"),
            )
            return self._envelopes(events)

        receipt = self.append(decide, conflict="another registry load ran at the same time; retry")
        return receipt, len(loaded) - receipt.count, moved

    def load_catalog(self, data: bytes, *, name: str) -> tuple[Receipt, int]:
        """load_catalog defines new missions and amends changed ones from a CSV file."""
        self.authorize("load_catalog")
        loaded = parse_catalog(read_csv_text(data, name=name), name=name)

        def decide(now: datetime) -> list[Envelope]:
            current = {m.mission_code: m for m in (self._mission_or_none(x.mission_code) for x in loaded) if m}
            events = plan_catalog(loaded, current, meta=self.meta(now, f"catalog load {name}"))
            return self._envelopes(events)

        receipt = self.append(decide, conflict="another catalog load ran at the same time; retry")
        return receipt, len(loaded) - receipt.count

    def _lao_or_none(self, code: str) -> Lao | None:
        return fold_lao(self.stream(lao_id(code)))  # type: ignore[arg-type]

    def _mission_or_none(self, code: str) -> Mission | None:
        return fold_mission(self.stream(mission_id(code)))  # type: ignore[arg-type]

    def _envelopes(self, events: Iterable[LedgerEvent]) -> list[Envelope]:
        """Number new events of possibly many streams after each stream's current version."""
        versions: dict[str, int] = {}
        out = []
        for event in events:
            sid = stream_id(event)
            if sid not in versions:
                versions[sid] = len(self.ledger_recorder.select_events(sid))  # type: ignore[attr-defined]
            versions[sid] += 1
            out.append(Envelope(sid, versions[sid], event))
        return out
