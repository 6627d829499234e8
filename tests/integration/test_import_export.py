"""Import files as batches, export point-in-time views: every format, each mode, idempotency,
dry runs, every bad input, a process killed mid-import, and import-then-as-of as a property."""

from __future__ import annotations

import io
import json
import signal
import subprocess
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli.main import cli
from ledger.application import MissionLedger
from ledger.domain.events import BatchImported, Cancelled, Changed, Corrected, Recorded
from ledger.domain.values import Fields
from ledger.errors import BadInput
from ledger.imports.batch import import_file
from tests.conftest import examples

ROOT = Path(__file__).resolve().parents[2]
HEADER = "lao_code,mission_code,status,received_fy,quantity,unit,budget,staff,note,effective_from\n"
ROWS = (
    '6810103,INF-01,operating,2546,12.5,กิโลเมตร,"1,250,000.50",3,ถนนลาดยาง,2545-10-01\n'
    "6810103,QOL-01,ดำเนินการ,๒๕๕๑,2,ศูนย์,,6,,2007-10-01\n"
    "4810102,QOL-03,not_yet,2566,1,แห่ง,,,,2022-10-01\n"
)


def csv_bytes(rows: str = ROWS, header: str = HEADER, encoding: str = "utf-8") -> bytes:
    return (header + rows).encode(encoding)


def kinds(ledger: MissionLedger, lao: str, mission: str) -> list[str]:
    return [type(e).__name__ for e in ledger.record_events(lao, mission)]


def test_a_new_file_records_every_row_in_one_batch(ledger: MissionLedger) -> None:
    report = import_file(ledger, csv_bytes(), name="krabi.csv")
    assert (report.rows, report.appended, dict(report.kinds)) == (3, 4, {"recorded": 3})
    view = ledger.show("6810103", "INF-01")
    assert (view.budget, view.quantity, view.note, view.effective_from) == (
        Decimal("1250000.50"),
        Decimal("12.5"),
        "ถนนลาดยาง",
        date(2002, 10, 1),
    )
    assert ledger.show("6810103", "QOL-01").received_fy == 2551  # Thai digits
    events = [e for e in ledger.ledger_recorder.iter_log(after=93)]
    assert len({e.recorded_at for e in events}) == 1  # one transaction, one recorded_at
    batch = ledger.stream(f"batch/{report.batch_id}")[0]
    assert isinstance(batch, BatchImported) and batch.sha256 == report.sha256 and batch.appended == {"recorded": 3}
    assert batch.file_name == "krabi.csv" and batch.rows == 3
    assert {ledger.record_events("6810103", "INF-01")[0].source} == {f"import:{report.batch_id}"}


def test_the_same_file_again_appends_nothing_and_says_so(ledger: MissionLedger) -> None:
    import_file(ledger, csv_bytes(), name="krabi.csv")
    size = ledger.ledger_recorder.log_size()
    again = import_file(ledger, csv_bytes(), name="renamed.csv")
    assert again.already_imported_at is not None and ledger.ledger_recorder.log_size() == size


def test_differences_become_corrections_or_changes(ledger: MissionLedger, clock) -> None:
    import_file(ledger, csv_bytes(), name="a.csv")
    clock.advance(days=1)
    fixed = ROWS.replace("12.5,กิโลเมตร", "13.2,กิโลเมตร")
    report = import_file(ledger, csv_bytes(fixed), name="b.csv")
    assert dict(report.kinds) == {"corrected": 1}
    event = ledger.record_events("6810103", "INF-01")[-1]
    assert isinstance(event, Corrected) and event.set == Fields(quantity=Decimal("13.2"))
    clock.advance(days=1)
    grown = fixed.replace("13.2,กิโลเมตร", "15,กิโลเมตร")
    with pytest.raises(BadInput, match="--effective"):
        import_file(ledger, csv_bytes(grown), name="c.csv", mode="changes")
    report = import_file(ledger, csv_bytes(grown), name="c.csv", mode="changes", effective=date(2025, 1, 1))
    event = ledger.record_events("6810103", "INF-01")[-1]
    assert isinstance(event, Changed) and event.effective_from == date(2025, 1, 1)
    assert ledger.show("6810103", "INF-01", valid_on=date(2024, 12, 31)).quantity == Decimal("13.2")


def test_a_row_marked_cancelled_cancels(ledger: MissionLedger, clock) -> None:
    import_file(ledger, csv_bytes(), name="a.csv")
    clock.advance(days=1)
    report = import_file(ledger, csv_bytes(ROWS.replace("not_yet", "ยกเลิก")), name="b.csv", effective=date(2024, 11, 1))
    assert dict(report.kinds) == {"cancelled": 1}
    assert isinstance(ledger.record_events("4810102", "QOL-03")[-1], Cancelled)


def test_snapshot_lists_and_on_request_cancels_missing_records(ledger: MissionLedger, clock) -> None:
    import_file(ledger, csv_bytes(), name="a.csv")
    clock.advance(days=1)
    partial = ROWS.splitlines(keepends=True)[0]
    listed = import_file(ledger, csv_bytes(partial), name="b.csv", snapshot=True, dry_run=True)
    assert listed.missing == ["6810103/QOL-01"]
    done = import_file(ledger, csv_bytes(partial), name="b.csv", snapshot=True, cancel_missing=True)
    assert dict(done.kinds) == {"cancelled": 1}
    assert ledger.show("6810103", "QOL-01").status == "cancelled"
    assert ledger.show("4810102", "QOL-03").status == "not_yet"  # another LAO: not in the snapshot's scope


def test_dry_run_plans_and_appends_nothing(ledger: MissionLedger) -> None:
    size = ledger.ledger_recorder.log_size()
    report = import_file(ledger, csv_bytes(), name="a.csv", dry_run=True)
    assert dict(report.kinds) == {"recorded": 3} and ledger.ledger_recorder.log_size() == size


@pytest.mark.parametrize(
    "content, message",
    [
        (csv_bytes("6810103,INF-01,operating,2546,-1,km,,,,2545-10-01\n"), "row 2, column quantity"),
        (csv_bytes("6810103,INF-01,operating,2024,1,km,,,,2545-10-01\n"), "did you mean 2567"),
        (csv_bytes('6810103,INF-01,operating,2546,1,km,"1,25,000",,,2545-10-01\n'), "column budget"),
        (csv_bytes("6810103,INF-01,operating,2546,1,km,,,,30 ฟฟ. 2567\n"), "is not a Thai month"),
        (csv_bytes("9999999,INF-01,operating,2546,1,km,,,,2545-10-01\n"), "LAO 9999999 is not in the registry"),
        (csv_bytes("6810103,INF-01,operating,2546,1,,,,,2545-10-01\n"), "has no unit"),
        (csv_bytes(ROWS + "6810103,INF-01,operating,2546,2,km,,,,2545-10-01\n"), "on row 2 too, with other values"),
    ],
)
def test_bad_rows_name_row_column_value_and_why_and_nothing_is_appended(
    ledger: MissionLedger, content: bytes, message: str
) -> None:
    size = ledger.ledger_recorder.log_size()
    report = import_file(ledger, content, name="bad.csv")
    assert any(message in str(e) for e in report.errors), report.errors
    assert ledger.ledger_recorder.log_size() == size


def test_skip_invalid_appends_the_good_rows(ledger: MissionLedger) -> None:
    content = csv_bytes(ROWS + "6810103,INF-04,operating,2546,-1,แห่ง,,,,2545-10-01\n")
    report = import_file(ledger, content, name="mixed.csv", skip_invalid=True)
    assert report.invalid_rows == 1 and dict(report.kinds) == {"recorded": 3}
    assert ledger.stream(f"batch/{report.batch_id}")[0].invalid_rows == 1


@pytest.mark.parametrize(
    "content, name, message",
    [
        (b"", "empty.csv", "empty"),
        (HEADER.encode(), "header-only.csv", "no rows"),
        (b"colour,size\nred,1\n", "nothing.csv", "matches no lao_code or mission_code"),
        (b"PK\x03\x04 this is not a workbook", "broken.xlsx", "not a readable XLSX"),
        (b"\x81\x8d\x8f\x90 lao_code,mission_code\n", "binary.csv", "cannot read this file as text: tried UTF-8"),
        (b'{"lao_code": "6810103"\n', "broken.jsonl", "line 1: not JSON"),
    ],
)
def test_unreadable_files_are_one_clear_error(ledger: MissionLedger, content: bytes, name: str, message: str) -> None:
    with pytest.raises(BadInput, match=message):
        import_file(ledger, content, name=name)


def test_cp874_thai_headers_and_xlsx_and_jsonl(ledger: MissionLedger, clock) -> None:
    thai = "รหัส อปท.,รหัสภารกิจ,สถานะ,ปีงบประมาณที่รับโอน,จำนวน,หน่วยนับ,วันที่มีผล\n6810103,INF-01,ดำเนินการ,2546,12.5,กิโลเมตร,2545-10-01\n"
    report = import_file(ledger, thai.encode("cp874"), name="tis620.csv")
    assert dict(report.kinds) == {"recorded": 1} and ledger.show("6810103", "INF-01").unit == "กิโลเมตร"
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["lao_code", "mission_code", "status", "quantity", "unit", "effective_from"])
    sheet.append(["6810103", "QOL-01", "operating", 2, "ศูนย์", date(2007, 10, 1)])
    buffer = io.BytesIO()
    book.save(buffer)
    clock.advance(days=1)
    assert dict(import_file(ledger, buffer.getvalue(), name="k.xlsx").kinds) == {"recorded": 1}
    assert ledger.show("6810103", "QOL-01").effective_from == date(2007, 10, 1)
    lines = json.dumps(
        {"lao_code": "4810102", "mission_code": "QOL-03", "status": "not_yet", "effective_from": "2022-10-01"}
    )
    clock.advance(days=1)
    assert dict(import_file(ledger, lines.encode(), name="k.jsonl").kinds) == {"recorded": 1}


@pytest.mark.parametrize(
    "fmt, lang, calendar", [("csv", "en", "ce"), ("csv", "th", "be"), ("xlsx", "th", "be"), ("jsonl", "en", "ce")]
)
def test_export_then_import_appends_nothing(
    ledger: MissionLedger, location: str, tmp_path: Path, clock, fmt: str, lang: str, calendar: str
) -> None:
    import_file(ledger, csv_bytes(), name="a.csv")
    clock.advance(days=1)
    ledger.cancel("4810102", "QOL-03", effective_from=date(2024, 10, 1), reason="handed back")
    ledger.close()
    out = tmp_path / f"export.{fmt}"
    run = CliRunner()
    db = ["--db", location, "--views", str(tmp_path / "v.db")]
    result = run.invoke(
        cli,
        [*db, "export", "--province", "81", "--format", fmt, "--lang", lang, "--calendar", calendar, "--out", str(out)],
        env={"MISSION_LEDGER_CLOCK": "2024-10-03"},
    )
    assert result.exit_code == 0, result.output
    if fmt == "csv":
        assert out.read_bytes().startswith(b"\xef\xbb\xbf")
        assert ("ชื่อ อปท." if lang == "th" else "lao_name_th") in out.read_text(encoding="utf-8-sig")
    again = run.invoke(cli, [*db, "import", str(out)], env={"MISSION_LEDGER_CLOCK": "2024-10-04"})
    assert again.exit_code == 0, again.output
    assert "nothing appended" in again.output
    assert MissionLedger(location).ledger_recorder.log_size() == 93 + 3 + 1 + 1  # records, batch, cancel


def test_cli_dry_run_verbose_and_errors_file(sqlite_ledger: MissionLedger, db_path: Path, tmp_path: Path) -> None:
    sqlite_ledger.close()
    good = tmp_path / "good.csv"
    good.write_bytes(csv_bytes())
    run = CliRunner()
    out = run.invoke(cli, ["--db", str(db_path), "import", str(good), "--dry-run", "--verbose"])
    assert out.exit_code == 0 and "would append 3 recorded" in out.output
    assert "LAO 6810103 องค์การบริหารส่วนตำบลเขาคราม" in out.output
    assert "row 2: recorded INF-01 — status: — → operating" in out.output
    bad = tmp_path / "bad.csv"
    bad.write_bytes(
        csv_bytes("6810103,INF-01,operating,2546,-1,km,,,,2545-10-01,red\n", header=HEADER.replace("\n", ",colour\n"))
    )
    errors = tmp_path / "fix-me.csv"
    out = run.invoke(cli, ["--db", str(db_path), "import", str(bad), "--errors", str(errors)])
    assert out.exit_code == 2 and "row 2, column quantity" in out.output and "nothing appended" in out.output
    assert "columns not read: colour" in out.output
    fix = errors.read_text(encoding="utf-8-sig").splitlines()
    assert (
        fix[0].startswith("row,lao_code,mission_code")
        and fix[1].startswith("2,6810103,INF-01")
        and "not a quantity" in fix[1]
    )


@pytest.mark.slow
def test_a_killed_import_leaves_nothing_and_a_rerun_gives_a_clean_runs_events(
    sqlite_ledger: MissionLedger, db_path: Path, tmp_path: Path
) -> None:
    """A real `mission-ledger import` process is killed (SIGKILL) while it works: the ledger holds
    no part of the batch, and importing again gives the events one clean run gives."""
    from tests.conftest import package_data

    sqlite_ledger.close()
    laos = [line.split(",")[0] for line in package_data("krabi_laos.csv").decode().splitlines()[1:] if ",sao," in line]
    missions = [
        "INF-01",
        "INF-02",
        "INF-03",
        "INF-04",
        "INF-05",
        "INF-06",
        "INF-07",
        "INF-08",
        "QOL-01",
        "QOL-02",
        "QOL-03",
        "QOL-05",
        "QOL-06",
        "QOL-07",
        "ORD-01",
        "ORD-02",
        "PIC-01",
        "PIC-02",
        "NRE-01",
        "ART-01",
    ]
    rows = "".join(f"{lao},{m},operating,2560,1,แห่ง,,,,2560-10-01\n" for lao in laos for m in missions)
    big = tmp_path / "big.csv"
    big.write_bytes(csv_bytes(rows))
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "MISSION_LEDGER_CLOCK": "2024-11-01"}
    for delay in (0.8, 1.2, 1.6):
        proc = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "--db", str(db_path), "import", str(big)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if MissionLedger(db_path).ledger_recorder.log_size() != 93:
            break  # it finished before the kill: the last delay was too long
        assert MissionLedger(db_path).ledger_recorder.log_size() == 93, "a partial batch is in the ledger"
    size_after_kill = MissionLedger(db_path).ledger_recorder.log_size()
    assert size_after_kill in (93, 93 + len(laos) * len(missions) + 1)
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "--db", str(db_path), "import", str(big)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    ledger = MissionLedger(db_path)
    assert ledger.ledger_recorder.log_size() == 93 + len(laos) * len(missions) + 1
    kinds_seen = {type(e).__name__ for e in (ledger.record_events(laos[0], m)[0] for m in missions)}
    assert kinds_seen == {"Recorded"}
    assert [e for e in ledger.ledger_recorder.iter_log(after=93) if e.topic == "batch_imported"][
        -1
    ].position == ledger.ledger_recorder.log_size()


# --- property: import, then as-of gives the file's values ------------------------------------------

KEYS = [("6810103", "INF-01"), ("6810103", "QOL-01"), ("4810102", "QOL-03"), ("5810109", "INF-04")]
values = st.fixed_dictionaries(
    {
        "status": st.sampled_from(["operating", "not_yet"]),
        "received_fy": st.integers(2540, 2569),
        "quantity": st.decimals(0, 999, places=2),
        "unit": st.sampled_from(["แห่ง", "กิโลเมตร"]),
        "budget": st.one_of(st.none(), st.decimals(0, 10**7, places=2)),
        "staff": st.one_of(st.none(), st.integers(0, 50)),
    }
)


@settings(
    max_examples=examples(25),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    before=st.dictionaries(st.sampled_from(KEYS), values),
    file=st.dictionaries(st.sampled_from(KEYS), values, min_size=1),
    mode=st.sampled_from(["corrections", "changes"]),
)
def test_import_then_as_of_equals_the_file_for_every_row(tmp_path_factory, before, file, mode) -> None:
    from tests.conftest import START, StepClock, package_data

    clock = StepClock(START)
    ledger = MissionLedger(tmp_path_factory.mktemp("p") / "l.db", clock=clock)
    ledger.initialise()
    ledger.load_registry(package_data("krabi_laos.csv"), name="k")
    ledger.load_catalog(package_data("sample_catalog.csv"), name="c")

    def text(rows: dict) -> bytes:
        body = "".join(
            # "-" clears a field (a blank cell would leave it as it is).
            f"{lao},{m},{v['status']},{v['received_fy']},{v['quantity']},{v['unit']},{'-' if v['budget'] is None else v['budget']},"
            f"{'-' if v['staff'] is None else v['staff']},,2024-01-01\n"
            for (lao, m), v in rows.items()
        )
        return csv_bytes(body)

    if before:
        import_file(ledger, text(before), name="before.csv")
    clock.advance(days=1)
    report = import_file(ledger, text(file), name="file.csv", mode=mode, effective=date(2024, 10, 2))
    assert not report.errors, report.errors
    for (lao, mission), v in file.items():
        got = ledger.show(lao, mission, valid_on=date(2024, 10, 2))
        assert (got.status, got.received_fy, got.quantity, got.unit, got.budget, got.staff) == (
            v["status"],
            v["received_fy"],
            v["quantity"],
            v["unit"],
            v["budget"],
            v["staff"],
        )
    _ = (Recorded,)


def test_a_progress_bar_on_a_terminal_and_quiet_otherwise(
    sqlite_ledger: MissionLedger, db_path: Path, tmp_path: Path
) -> None:
    import shutil

    sqlite_ledger.close()
    rows = "".join(f"{lao},INF-03,operating,2560,1,แห่ง,,,,2560-10-01\n" for lao in ("6810103", "6810104", "6810105"))
    path = tmp_path / "small.csv"
    path.write_bytes(csv_bytes(rows))
    quiet = CliRunner().invoke(cli, ["--db", str(db_path), "import", str(path), "--dry-run"])
    assert quiet.exit_code == 0 and "importing" not in quiet.output
    script = shutil.which("script")
    if script is None:
        pytest.skip("util-linux `script` is not here to give the import a terminal")
    command = f"{sys.executable} -m cli.main --db {db_path} import {path} --dry-run"
    shown = subprocess.run(
        [script, "-q", "-c", command, "/dev/null"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "TERM": "xterm"},
        check=False,
    )
    assert "importing small.csv" in shown.stdout and "100%" in shown.stdout, shown.stdout
