"""Reporting rounds are data: opened once by an event, so which deadline applied is answerable as
of any time; the completeness report defaults to the round's start and deadline. And sign-in
links, issued from the command line."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from ledger.domain.events import RoundOpened
from ledger.domain.rounds import fold_rounds, round_for
from tests.support.cli_session import krabi_session


def _opened(name: str, start: date, deadline: date, province: str | None, at: str) -> RoundOpened:
    return RoundOpened(name=name, start=start, deadline=deadline, province_code=province,
                       recorded_at=datetime.fromisoformat(at), actor="admin", source="cli")  # fmt: skip


def test_the_latest_round_for_a_province_wins_and_is_read_as_of_a_time() -> None:
    events = [
        _opened("2567", date(2023, 10, 1), date(2024, 12, 30), None, "2023-09-20T10:00+07:00"),
        _opened("2568", date(2024, 10, 1), date(2025, 12, 30), None, "2024-09-20T10:00+07:00"),
        # Krabi's own round, opened later, with a later deadline, wins for Krabi only.
        _opened("2568-krabi", date(2024, 10, 1), date(2026, 1, 15), "81", "2025-12-01T10:00+07:00"),
    ]
    now = fold_rounds(events)
    assert round_for(now, "81").name == "2568-krabi"  # type: ignore[union-attr]
    assert round_for(now, "82").name == "2568"  # type: ignore[union-attr]
    assert round_for(now, None).name == "2568"  # type: ignore[union-attr]
    before_extension = fold_rounds(events, datetime.fromisoformat("2025-11-30T10:00+07:00"))
    assert round_for(before_extension, "81").deadline == date(2025, 12, 30)  # type: ignore[union-attr]
    assert round_for(fold_rounds(events, datetime.fromisoformat("2023-01-01T00:00+07:00")), "81") is None


def test_round_open_and_the_completeness_report_that_defaults_to_it(tmp_path: Path) -> None:
    ml = krabi_session(tmp_path)
    opened = ml("round", "open", "fy2568", "--start", "1/10/2567", "--deadline", "30 ธ.ค. 2567",
                "--province", "๘๑", clock="2024-11-01T10:00+07:00")  # fmt: skip
    assert opened.exit_code == 0, opened.output
    assert "round fiscal year 2025 (fy2568) opened (Krabi province, 1 Oct 2024 to 30 Dec 2024)" in opened.output
    rounds = json.loads(ml("round", "list", "--json").output)
    assert [(r["name"], r["start"], r["deadline"], r["province_code"]) for r in rounds] == [
        ("fy2568", "2024-10-01", "2024-12-30", "81")
    ]
    ml(
        "record",
        "6810103",
        "INF-01",
        "--status",
        "operating",
        "--effective",
        "2002-10-01",
        clock="2024-11-20T10:00+07:00",
    )
    ml(
        "record",
        "6810104",
        "INF-01",
        "--status",
        "operating",
        "--effective",
        "2002-10-01",
        clock="2025-01-05T10:00+07:00",
    )
    report = json.loads(
        ml("report", "completeness", "--province", "81", "--json", clock="2025-02-01T10:00+07:00").output
    )
    # As of the deadline by default: the late report of 6810104 is not counted.
    assert report["known_at"].startswith("2024-12-30T23:59:59")
    assert report["round"] == {"name": "fy2568", "start": "2024-10-01", "deadline": "2024-12-30", "province_code": "81"}
    assert report["province"]["no_records"] == 61
    later = json.loads(ml("report", "completeness", "--province", "81", "--json", "--known-at", "2568-01-31",
                          clock="2025-02-01T10:00+07:00").output)  # fmt: skip
    assert later["province"]["no_records"] == 60
    # Before the round was opened, no round applied: the fiscal year's 1 October is the start.
    early = json.loads(ml("report", "completeness", "--province", "81", "--json", "--known-at", "2567-10-15",
                          clock="2025-02-01T10:00+07:00").output)  # fmt: skip
    assert "round" not in early and early["round_start"] == "2024-10-01"
    shown = ml("--lang", "th", "report", "completeness", "--province", "81", clock="2025-02-01T10:00+07:00")
    assert "รอบปีงบประมาณ 2568: ตั้งแต่ 1 ต.ค. 2567 ครบกำหนด 30 ธ.ค. 2567" in shown.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("round", "open", "fy 2568", "--start", "2567-10-01", "--deadline", "2567-12-30"), "round name"),
        (("round", "open", "r", "--start", "2567-10-01", "--deadline", "2567-09-30"), "before the start"),
        (("round", "open", "r", "--start", "2567-10-01", "--deadline", "2567-12-30", "--province", "8"), "province"),
        (("round", "open", "r", "--start", "2567-13-01", "--deadline", "2567-12-30"), "2567-13-01"),
    ],
)
def test_bad_round_commands_are_one_line_and_append_nothing(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    from ledger.application import MissionLedger

    ml = krabi_session(tmp_path)
    before = MissionLedger(ml.db).ledger_recorder.log_size()
    result = ml(*args)
    assert result.exit_code != 0 and message in result.output and "Traceback" not in result.output
    assert MissionLedger(ml.db).ledger_recorder.log_size() == before


def test_a_round_is_opened_once(tmp_path: Path) -> None:
    ml = krabi_session(tmp_path)
    assert ml("round", "open", "r", "--start", "2567-10-01", "--deadline", "2567-12-30").exit_code == 0
    again = ml("round", "open", "r", "--start", "2567-10-01", "--deadline", "2568-01-15")
    assert again.exit_code == 1 and "exists already" in again.output


def test_token_issue_link_prints_a_one_time_link_with_the_token_in_its_fragment(tmp_path: Path) -> None:
    ml = krabi_session(tmp_path)
    ml("principal", "add", "somchai", "--role", "lao:6810103")
    issued = ml("token", "issue", "somchai", "--link", "https://ledger.example.go.th/")
    assert issued.exit_code == 0, issued.output
    link = issued.output.strip().splitlines()[-1]
    assert link.startswith("https://ledger.example.go.th/signin#link=mlt_") and len(link.split("=", 1)[1]) == 47
    assert "once" in issued.output
    bad = ml("token", "issue", "somchai", "--link", "ledger.example.go.th")
    assert bad.exit_code != 0 and "--link" in bad.output


# --- the deadline seal ---------------------------------------------------------------------------


def test_a_round_is_sealed_once_at_exactly_what_was_recorded_by_its_deadline(ledger, clock) -> None:  # type: ignore[no-untyped-def]
    import threading

    from ledger.application import MissionLedger
    from ledger.domain.thai import end_of_day
    from ledger.domain.values import Fields
    from ledger.errors import Refused
    from ledger.integrity.audit import LedgerAuditor
    from ledger.integrity.checkpoint import Signer, parse_checkpoint
    from ledger.rounds import Rounds

    signer = Signer.generate("krabi-ppao")
    deadline = date(2024, 12, 30)
    rounds = Rounds(ledger)
    rounds.open("fy2568", date(2024, 10, 1), deadline)
    ledger.record("6810103", "INF-01", effective_from=date(2024, 10, 1), values=Fields(status="operating"))
    with pytest.raises(Refused, match="has not passed"):
        rounds.seal("fy2568", signer)
    clock.at = end_of_day(deadline)  # the last microsecond: on time
    ledger.record("6810104", "INF-01", effective_from=date(2024, 10, 1), values=Fields(status="operating"))
    on_time = ledger.ledger_recorder.log_size()
    clock.advance(days=3)
    ledger.record("6810105", "INF-01", effective_from=date(2024, 10, 1), values=Fields(status="operating"))
    # Two processes seal at once (a served ledger's workers): one seal stands.
    other = MissionLedger(ledger.location, clock=clock)
    seals: list[object] = []
    threads = [
        threading.Thread(target=lambda a=a: seals.append(Rounds(a).seal("fy2568", signer))) for a in (ledger, other)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    other.close()
    assert len(seals) == 2 and seals[0] == seals[1]
    seal = rounds.seal_of("fy2568")
    assert seal is not None and seal.size == on_time  # not the late report after it
    checkpoint = parse_checkpoint(seal.checkpoint)
    signer.verifier().check(seal.checkpoint)  # raises unless this key signed it
    assert checkpoint.size == on_time
    assert checkpoint.root == LedgerAuditor(ledger.ledger_recorder).root_at(on_time) == bytes.fromhex(seal.root)
    # The seal attests any time it covers whole: as known at the deadline (both reports), before
    # the last on-time one (one report); not after the late report, which the seal does not hold.
    from projections.attested import as_of_checkpoint

    def known(at: datetime) -> list[str]:
        rows = as_of_checkpoint(ledger.ledger_recorder, checkpoint, valid_on=deadline, known_at=at)
        return [r["lao_code"] for r, _ in rows]

    assert known(end_of_day(deadline)) == ["6810103", "6810104"]
    assert known(end_of_day(deadline) - timedelta(seconds=1)) == ["6810103"]
    with pytest.raises(Refused, match="cannot attest"):
        known(end_of_day(deadline) + timedelta(days=4))
    # Sealing again changes nothing: no new event.
    size = ledger.ledger_recorder.log_size()
    assert rounds.seal("fy2568", signer) == seal and ledger.ledger_recorder.log_size() == size
    assert sum(isinstance(e, type(seal)) for e in ledger.stream("round/fy2568")) == 1
