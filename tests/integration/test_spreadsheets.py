"""Spreadsheets that never undo anyone's work (issue 22): an exported file knows the version of
each record it was based on, so importing any old export reverts nothing; a row a person edited
on a record that moved on since is a conflict; a blank cell leaves its field as it is; totals and
signature lines are skipped. As an officer works: the real command line, real files."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli.main import cli
from ledger.application import MissionLedger
from ledger.domain.thai import BANGKOK
from ledger.domain.values import Fields
from tests.conftest import START, StepClock, examples, package_data

RECORDS = {
    ("6810103", "INF-01"): Fields(
        status="operating", received_fy=2546, quantity=Decimal("12.5"), unit="กิโลเมตร", staff=3
    ),
    ("6810103", "QOL-01"): Fields(
        status="operating", received_fy=2551, quantity=Decimal("2"), unit="ศูนย์", budget=Decimal("500000")
    ),
    ("6810104", "INF-01"): Fields(
        status="not_yet", received_fy=2566, quantity=Decimal("1"), unit="แห่ง", note="รอส่งมอบ"
    ),
}


class Office:
    """A province office's ledger on disk, worked through the command line on a ledger clock."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.db = folder / "krabi.db"
        self.day = date(2024, 12, 20)
        app = MissionLedger(self.db, clock=StepClock(datetime(2024, 12, 1, 3, tzinfo=BANGKOK)), actor="seed")
        app.initialise()
        app.load_registry(package_data("krabi_laos.csv"), name="k")
        app.load_catalog(package_data("sample_catalog.csv"), name="c")
        for (lao, mission), values in RECORDS.items():
            app.record(lao, mission, effective_from=date(2024, 10, 1), values=values)
        app.close()
        self.files = 0

    def run(self, *args: str, actor: str = "officer") -> Result:
        self.day = date.fromordinal(self.day.toordinal() + 1)
        env = {"MISSION_LEDGER_CLOCK": f"{self.day.isoformat()}T10:00:00+07:00"}
        return CliRunner().invoke(
            cli, ["--lang", "en", "--actor", actor, "--db", str(self.db), "--views", str(self.folder / "v.db"), *args],
            env=env,
        )  # fmt: skip

    def export(self, fmt: str = "csv", *options: str) -> Path:
        self.files += 1
        out = self.folder / f"export-{self.files}.{fmt}"
        result = self.run("export", "--province", "81", "--format", fmt, "--out", str(out), *options)
        assert result.exit_code == 0, result.output
        return out

    def size(self) -> int:
        app = MissionLedger(self.db, create_tables=False)
        try:
            return app.ledger_recorder.log_size()
        finally:
            app.close()

    def show(self, lao: str, mission: str) -> Any:
        app = MissionLedger(self.db, create_tables=False)
        try:
            return app.show(lao, mission)
        finally:
            app.close()


def edit(path: Path, lao: str, mission: str, **cells: str) -> Path:
    """edit changes cells of one record's row in a CSV export, as a person does in Excel."""
    text = path.read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0]
    for row in rows[1:]:
        if row[header.index("lao_code")] == lao and row[header.index("mission_code")] == mission:
            for name, value in cells.items():
                row[header.index(name)] = value
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    edited = path.with_name(f"edited-{path.name}")
    edited.write_text(out.getvalue(), encoding="utf-8-sig")
    return edited


@pytest.fixture
def office(tmp_path: Path) -> Office:
    return Office(tmp_path)


@pytest.mark.parametrize(
    "fmt, options", [("csv", ()), ("csv", ("--lang", "th", "--calendar", "be")), ("xlsx", ("--lang", "th"))]
)
def test_an_export_imported_back_appends_nothing_at_the_deadline_or_now(
    office: Office, fmt: str, options: tuple[str, ...]
) -> None:
    deadline = office.export(fmt, *options)
    assert office.run("correct", "6810103", "INF-01", "--set", "quantity=13.2", "--reason", "GIS").exit_code == 0
    assert office.run("cancel", "6810104", "INF-01", "--effective", "2024-12-01", "--reason", "คืน").exit_code == 0
    now = office.export(fmt, *options)
    size = office.size()
    for path in (now, deadline):
        result = office.run("import", str(path))
        assert result.exit_code == 0 and "nothing appended" in result.output, result.output
    assert office.size() == size
    assert str(office.show("6810103", "INF-01").quantity) == "13.2"
    assert office.show("6810104", "INF-01").status == "cancelled"


def test_an_edited_row_on_a_record_that_moved_on_is_a_conflict(office: Office) -> None:
    deadline = office.export()
    assert office.run("correct", "6810103", "INF-01", "--set", "quantity=13.2", "--reason", "GIS",
                      actor="somchai").exit_code == 0  # fmt: skip
    # The officer edits the old sheet: another field of the same record, and an untouched record.
    old = edit(deadline, "6810103", "INF-01", staff="4")
    size = office.size()
    result = office.run("import", str(old), "--errors", str(office.folder / "fix.csv"))
    assert result.exit_code == 2 and "nothing appended" in result.output
    assert "conflict: record 6810103/INF-01 changed since version 1 (now version 2)" in result.output
    assert "somchai corrected (quantity)" in result.output
    assert office.size() == size and office.show("6810103", "INF-01").staff == 3
    fix = (office.folder / "fix.csv").read_text(encoding="utf-8-sig")
    assert "conflict" in fix and "6810103" in fix
    # Applied anyway, on purpose: only the officer's edit, with her reason; the GIS figure stays.
    result = office.run("import", str(old), "--override-conflicts", "ยืนยันจำนวนบุคลากรตามคำสั่ง")
    assert result.exit_code == 0, result.output
    view = office.show("6810103", "INF-01")
    assert (view.staff, str(view.quantity)) == (4, "13.2")
    app = MissionLedger(office.db, create_tables=False)
    assert app.record_events("6810103", "INF-01")[-1].reason == "ยืนยันจำนวนบุคลากรตามคำสั่ง"
    app.close()


def test_an_old_status_never_reinstates_a_record_cancelled_since(office: Office) -> None:
    deadline = office.export()
    assert office.run("cancel", "6810104", "INF-01", "--effective", "2024-12-01", "--reason", "คืน").exit_code == 0
    size = office.size()
    assert office.run("import", str(deadline)).exit_code == 0  # untouched: nothing
    assert office.size() == size and office.show("6810104", "INF-01").status == "cancelled"
    # A person who edits the old row's note is told the record was cancelled since.
    result = office.run("import", str(edit(deadline, "6810104", "INF-01", note="ส่งมอบแล้ว")))
    assert result.exit_code == 2 and "cancelled" in result.output and office.size() == size


def test_blank_cells_keep_values_and_a_mark_clears(office: Office) -> None:
    sheet = office.folder / "staff.csv"
    sheet.write_text(
        "รหัส อปท.,รหัสภารกิจ,สถานะ,จำนวน,หน่วยนับ,งบประมาณ (บาท),จำนวนบุคลากร (คน),หมายเหตุ\n"
        "6810103,INF-01,,,,,5,\n"
        "6810103,QOL-01,,,,-,,\n"
        "6810104,INF-01,,,,,,ล้างค่า\n",
        encoding="utf-8",
    )
    before = {key: office.show(*key) for key in RECORDS}
    result = office.run("import", str(sheet))
    assert result.exit_code == 0, result.output
    after = {key: office.show(*key) for key in RECORDS}
    assert after[("6810103", "INF-01")].staff == 5 and after[("6810103", "QOL-01")].budget is None
    assert after[("6810104", "INF-01")].note is None
    for key in RECORDS:  # every other field as it was
        for name in ("status", "received_fy", "quantity", "unit"):
            assert getattr(after[key], name) == getattr(before[key], name), (key, name)
    assert after[("6810103", "QOL-01")].staff == before[("6810103", "QOL-01")].staff
    # A mark in a field that may not be empty is refused, saying so.
    status = office.folder / "status.csv"
    status.write_text("lao_code,mission_code,status\n6810103,INF-01,-\n", encoding="utf-8")
    result = office.run("import", str(status))
    assert result.exit_code == 2 and "status cannot be cleared" in result.output
    # --blank-clears: the file is a complete snapshot, a blank cell clears.
    snapshot = office.folder / "snapshot.csv"
    snapshot.write_text("lao_code,mission_code,status,staff,note\n6810103,INF-01,operating,,\n", encoding="utf-8")
    assert office.run("import", str(snapshot), "--blank-clears").exit_code == 0
    assert office.show("6810103", "INF-01").staff is None


def test_totals_and_signature_lines_are_skipped_and_said(office: Office) -> None:
    sheet = office.folder / "with-totals.csv"
    sheet.write_text(
        "lao_code,mission_code,status,staff\n"
        "6810103,INF-01,operating,7\n"
        "รวม,,,7\n"
        ",,,\n"
        "(ลงชื่อ) นายสมชาย ใจดี ผู้รายงาน,,,\n",
        encoding="utf-8",
    )
    result = office.run("import", str(sheet))
    assert result.exit_code == 0, result.output
    assert "row 3 is not a record (a totals row): skipped" in result.output
    assert "row 5 is not a record (no LAO code and no mission code" in result.output
    assert office.show("6810103", "INF-01").staff == 7


def test_a_mission_code_in_lower_case_or_with_a_space_is_read_as_the_catalogs(office: Office) -> None:
    sheet = office.folder / "codes.csv"
    sheet.write_text("lao_code,mission_code,staff\n6810103,inf 01,8\n6810103,qol_01,9\n", encoding="utf-8")
    result = office.run("import", str(sheet))
    assert result.exit_code == 0, result.output
    assert "row 2: inf01 read as INF-01" in result.output and "row 3: qol_01 read as QOL-01" in result.output
    assert office.show("6810103", "INF-01").staff == 8 and office.show("6810103", "QOL-01").staff == 9


def test_a_version_the_record_never_had_is_refused(office: Office) -> None:
    sheet = office.export()
    result = office.run("import", str(edit(sheet, "6810103", "INF-01", version="9", staff="1")))
    assert result.exit_code == 2 and "has 1 versions, not 9" in result.output


def test_errors_come_in_the_sheets_order_and_a_fixed_error_file_imports_clean(office: Office) -> None:
    sheet = office.folder / "bad.csv"
    sheet.write_text(
        "lao_code,mission_code,status,staff\n"
        "6810103,INF-01,operating,-1\n"
        ",INF-02,operating,1\n"
        "6810104,INF-01,operating,x\n",
        encoding="utf-8",
    )
    errors = office.folder / "fix.csv"
    result = office.run("import", str(sheet), "--errors", str(errors))
    assert result.exit_code == 2
    shown = [line for line in result.output.splitlines() if line.startswith("bad.csv, row")]
    assert [line.split(",")[1].strip() for line in shown] == ["row 2", "row 3", "row 4"]
    assert "lao_code is empty" in result.output
    # The officer fixes the cells in the error file and imports it as it is: no warning about its columns.
    rows = list(csv.reader(io.StringIO(errors.read_text(encoding="utf-8-sig"))))
    header = rows[0]
    fixed = {"2": {"staff": "1"}, "3": {"lao_code": "6810103"}, "4": {"staff": "2"}}
    for row in rows[1:]:
        for name, value in fixed[row[0]].items():
            row[header.index(name)] = value
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    errors.write_text(out.getvalue(), encoding="utf-8-sig")
    again = office.run("import", str(errors), "--effective", "2024-10-01")
    assert again.exit_code == 0, again.output
    assert "columns not read" not in again.output


# --- properties ----------------------------------------------------------------------------------

FIELDS = {
    "staff": st.integers(0, 60).map(str),
    "quantity": st.decimals(0, 999, places=1).map(str),
    "unit": st.sampled_from(["แห่ง", "กิโลเมตร"]),  # a quantity needs its unit: never cleared here
    "note": st.sampled_from(["ถนน", "=1+1", "ล้างค่า", "—", "-"]),  # the marks clear it
}
edits = st.dictionaries(
    st.sampled_from(list(RECORDS)), st.dictionaries(st.sampled_from(list(FIELDS)), st.just(""), min_size=1), max_size=3
)


@st.composite
def edited_cells(draw: Any) -> dict[tuple[str, str], dict[str, str]]:
    chosen = draw(edits)
    return {key: {name: draw(FIELDS[name]) for name in cells} for key, cells in chosen.items()}


@settings(
    max_examples=examples(15),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(first=edited_cells(), second=edited_cells())
def test_importing_an_edited_export_changes_exactly_the_edited_cells_and_an_older_one_nothing(
    tmp_path_factory: pytest.TempPathFactory, first: dict[Any, dict[str, str]], second: dict[Any, dict[str, str]]
) -> None:
    office = Office(tmp_path_factory.mktemp("office"))
    exports = [office.export()]
    for cells in (first, second):
        sheet = exports[-1]
        for (lao, mission), changed in cells.items():
            sheet = edit(sheet, lao, mission, **changed)
        before = {key: office.show(*key) for key in RECORDS}
        result = office.run("import", str(sheet))
        assert result.exit_code == 0, result.output
        after = {key: office.show(*key) for key in RECORDS}
        for key in RECORDS:
            for name in ("status", "received_fy", "quantity", "unit", "budget", "staff", "note"):
                was, now = getattr(before[key], name), getattr(after[key], name)
                typed = cells.get(key, {}).get(name)
                if typed is None:
                    assert now == was, (key, name, was, now)
                elif typed in ("ล้างค่า", "—", "-"):
                    assert now is None, (key, name, now)
                elif name == "quantity":
                    assert now == Decimal(typed), (key, name, typed, now)
                else:
                    assert str(now) == typed, (key, name, typed, now)
        exports.append(office.export())
    # Every older export, imported now, changes nothing of the current state.
    current = {key: office.show(*key) for key in RECORDS}
    for sheet in exports:
        result = office.run("import", str(sheet))
        assert result.exit_code == 0, result.output
        assert {key: office.show(*key) for key in RECORDS} == current
    _ = START


def test_the_dry_run_plan_speaks_thai_in_the_sheets_words_even_beside_bad_rows(office: Office) -> None:
    sheet = office.folder / "plan.csv"
    sheet.write_text(
        "รหัส อปท.,รหัสภารกิจ,สถานะ,งบประมาณ (บาท),วันที่มีผล\n"
        '6810103,QOL-01,ยังไม่ได้ดำเนินการ,"1,250,000.50",\n'
        "6810104,INF-01,,,\n"
        "6810103,INF-01,,ไม่ทราบ,\n"
        "6810105,INF-01,ดำเนินการ,,1/10/2567\n",
        encoding="utf-8",
    )
    size = office.size()
    result = CliRunner().invoke(
        cli, ["--lang", "th", "--db", str(office.db), "--views", str(office.folder / "v.db"), "import", str(sheet),
              "--dry-run"],
        env={"MISSION_LEDGER_CLOCK": "2024-12-25T10:00:00+07:00"},
    )  # fmt: skip
    out = result.output
    assert result.exit_code == 2  # row 4 is bad: nothing would be imported, but the plan is shown
    assert "อปท. 6810103 องค์การบริหารส่วนตำบลเขาคราม" in out
    assert "แถวที่ 2: แก้ไขข้อมูลผิด QOL-01 — สถานะ: ดำเนินการ → ยังไม่ได้ดำเนินการ; งบประมาณ (บาท): 500,000 → 1,250,000.50" in out
    assert "อปท. 6810105 องค์การบริหารส่วนตำบลคลองประสงค์" in out
    assert "แถวที่ 5: บันทึก INF-01 — สถานะ: — → ดำเนินการ; วันที่มีผล: 1 ต.ค. 2567" in out
    assert "1 แถวไม่มีการเปลี่ยนแปลง" in out
    assert office.size() == size


def test_a_thai_error_file_speaks_thai_keeps_dates_as_typed_and_imports_back(office: Office) -> None:
    sheet = office.folder / "thai.csv"
    sheet.write_text(
        "รหัส อปท.,รหัสภารกิจ,สถานะ,จำนวนบุคลากร (คน),วันที่มีผล\n6810105,INF-01,ดำเนินการ,สาม,1/10/2567\n",
        encoding="utf-8",
    )
    errors = office.folder / "แก้ไข.csv"
    args = ["--lang", "th", "--db", str(office.db), "--views", str(office.folder / "v.db"), "import"]
    env = {"MISSION_LEDGER_CLOCK": "2024-12-25T10:00:00+07:00"}
    result = CliRunner().invoke(cli, [*args, str(sheet), "--errors", str(errors)], env=env)
    assert result.exit_code == 2
    text = errors.read_text(encoding="utf-8-sig")
    header = text.splitlines()[0].split(",")
    assert header[0] == "แถว" and header[-2:] == ["คอลัมน์ที่ผิด", "เหตุผล"]
    assert "1/10/2567" in text and "2024-10-01" not in text  # the date as she typed it
    assert "ไม่ใช่" in text  # why, in Thai
    rows = list(csv.reader(io.StringIO(text)))
    rows[1][header.index("จำนวนบุคลากร (คน)")] = "3"
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    errors.write_text(out.getvalue(), encoding="utf-8-sig")
    again = CliRunner().invoke(cli, [*args, str(errors), "--errors", str(office.folder / "next.csv")], env=env)
    assert again.exit_code == 0, again.output
    assert "คอลัมน์ที่ไม่ได้อ่าน" not in again.output
    assert office.show("6810105", "INF-01").staff == 3


def test_an_lao_written_by_its_name_is_read_as_the_one_it_fits(office: Office) -> None:
    sheet = office.folder / "names.csv"
    sheet.write_text(
        "ชื่อ อปท.,รหัสภารกิจ,จำนวนบุคลากร (คน)\nอบต. เขาคราม,INF-01,11\nองค์การบริหารส่วนตำบลเขาคราม,QOL-01,12\n",
        encoding="utf-8",
    )
    result = office.run("import", str(sheet))
    assert result.exit_code == 0, result.output
    assert "row 2: อบต. เขาคราม read as 6810103 องค์การบริหารส่วนตำบลเขาคราม" in result.output
    assert office.show("6810103", "INF-01").staff == 11 and office.show("6810103", "QOL-01").staff == 12
    # A name that fits several, or none, is an error that lists them.
    several = office.folder / "several.csv"
    several.write_text("lao_code,mission_code,staff\nเทศบาลตำบล,INF-01,1\nอบต.ไม่มีจริง,INF-01,1\n", encoding="utf-8")
    result = office.run("import", str(several))
    assert result.exit_code == 2
    assert "เทศบาลตำบล fits several LAOs (" in result.output and ": write the code" in result.output
    assert "no LAO in the registry is named อบต.ไม่มีจริง" in result.output


def resave(path: Path, folder: Path) -> Path:
    """resave opens a file in LibreOffice Calc and saves it again in its own format, as an
    officer's office program does (Debian's libreoffice-calc-nogui, headless)."""
    import shutil
    import subprocess

    soffice = shutil.which("soffice")
    assert soffice, "LibreOffice is not installed: run tests/browser-deps.sh"
    folder.mkdir(exist_ok=True)
    if path.suffix == ".csv":
        options = ["--infilter=CSV:44,34,76,1", "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76,1"]
    else:
        options = ["--convert-to", "xlsx"]
    profile = f"-env:UserInstallation=file://{folder / 'profile'}"
    done = subprocess.run([soffice, profile, "--headless", *options, "--outdir", str(folder), str(path)],
                          capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    out = folder / path.name
    assert done.returncode == 0 and out.exists(), done.stderr
    return out


@pytest.mark.slow
def test_exports_re_saved_by_libreoffice_import_back_without_undoing_anything(office: Office) -> None:
    deadline = [office.export("csv", "--lang", "th", "--calendar", "be"), office.export("xlsx", "--lang", "th")]
    assert office.run("correct", "6810103", "INF-01", "--set", "quantity=13.2", "--reason", "GIS").exit_code == 0
    assert office.run("cancel", "6810104", "INF-01", "--effective", "2024-12-01", "--reason", "คืน").exit_code == 0
    now = [office.export("csv", "--lang", "th", "--calendar", "be"), office.export("xlsx", "--lang", "th")]
    size = office.size()
    for i, path in enumerate([*deadline, *now]):
        again = resave(path, office.folder / f"resaved-{i}")
        assert again.read_bytes() != path.read_bytes()  # LibreOffice wrote it anew
        result = office.run("import", str(again))
        assert result.exit_code == 0 and "nothing appended" in result.output, (path.name, result.output)
    assert office.size() == size
    assert office.show("6810104", "INF-01").status == "cancelled"
