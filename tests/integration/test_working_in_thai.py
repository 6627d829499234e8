"""Working the way Thai officers work: their dates, BE where they work in Thai, their reference
data, their spreadsheets — through the command line, as they use it."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from cli.main import cli
from tests.support.cli_session import Ledger, ok, record_roads

CE_YEAR = re.compile(r"\b20[0-9]{2}-[01][0-9]-[0-3][0-9]")  # an ISO date with a CE year


def thai(ml: Ledger, *args: str, env: dict[str, str] | None = None) -> str:
    result = CliRunner().invoke(
        cli,
        ["--db", str(ml.db), *args],
        env={
            "MISSION_LEDGER_CLOCK": ml.clock,
            "MISSION_LEDGER_ACTOR": "officer",
            **(env or {"MISSION_LEDGER_LANG": "th"}),
        },
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize(
    "date_text", ["1/10/2567", "๑/๑๐/๒๕๖๗", "1 ต.ค. 2567", "1 ตุลาคม 2567", "1.10.2567", "2567-10-01", "2024-10-01"]
)
def test_an_effective_date_in_every_form_officers_write(ml: Ledger, date_text: str) -> None:
    ok(ml("record", "6810103", "INF-01", "--status", "operating", "--effective", date_text))
    assert '"effective_from":"2024-10-01"' in ok(ml("show", "6810103", "INF-01", "--json"))


@pytest.mark.parametrize(
    "env", [{"MISSION_LEDGER_LANG": "th"}, {"LANG": "th_TH.UTF-8"}, {"LC_ALL": "th_TH.UTF-8", "LANG": "C"}]
)
def test_who_works_in_thai_reads_be_dates_in_every_command(ml: Ledger, env: dict[str, str]) -> None:
    record_roads(ml)
    ok(ml("change", "6810103", "INF-01", "--set", "budget=1500000", "--effective", "1 ม.ค. 2568", "--reason", "งบเพิ่ม"))
    ok(ml("correct", "6810103", "INF-01", "--set", "effective_from=1/12/2566", "--reason", "วันเริ่มผิด"))
    outputs = {
        "show": thai(ml, "show", "6810103", "INF-01", env=env),
        "history": thai(ml, "history", "6810103", "INF-01", env=env),
        "as-of": thai(ml, "as-of", "--province", "81", env=env),
        "changes": thai(ml, "changes", "--since", "1/1/2566", env=env),
        "record": thai(ml, "cancel", "6810103", "INF-01", "--effective", "1/3/2568", "--reason", "ส่งคืน", env=env),
    }
    for command, text in outputs.items():
        assert not CE_YEAR.search(text), f"{command} prints a CE date under Thai: {CE_YEAR.search(text)}"
        assert re.search(r"\d{1,2} [ก-๛.]+ 25[67][0-9]", text), f"{command} prints no Thai BE date:\n{text}"
    assert "วันที่มีผล: 1 ม.ค. 2567 → 1 ธ.ค. 2566" in outputs["history"]


def test_english_stays_ce_and_calendar_overrides_the_default(ml: Ledger) -> None:
    record_roads(ml)
    assert "1 Jan 2024" in ok(ml("show", "6810103", "INF-01"))
    assert "1 Jan 2567 BE" in ok(ml("show", "6810103", "INF-01", "--calendar", "be"))
    assert "1 ม.ค. 2567" in thai(ml, "show", "6810103", "INF-01")
    assert "1 ม.ค. ค.ศ. 2024" in thai(ml, "show", "6810103", "INF-01", "--calendar", "ce")


# --- their reference data ----------------------------------------------------------------------------

AREAS_IN_THAI = [
    ("ด้านโครงสร้างพื้นฐาน", "infrastructure"),
    ("ด้านงานส่งเสริมคุณภาพชีวิต", "quality_of_life"),
    ("ด้านการจัดระเบียบชุมชน/สังคมและการรักษาความสงบเรียบร้อย", "order_and_safety"),
    ("ด้านการวางแผน การส่งเสริมการลงทุน พาณิชยกรรมและการท่องเที่ยว", "planning_investment_commerce_tourism"),
    ("ด้านการบริหารจัดการและการอนุรักษ์ทรัพยากรธรรมชาติและสิ่งแวดล้อม", "natural_resources_environment"),
    ("ด้านศิลปะ วัฒนธรรม จารีตประเพณี และภูมิปัญญาท้องถิ่น", "arts_culture_local_wisdom"),
    ("โครงสร้างพื้นฐาน", "infrastructure"),
    ("คุณภาพชีวิต", "quality_of_life"),
    ("การท่องเที่ยว", "planning_investment_commerce_tourism"),
    ("ท่องเที่ยว", "planning_investment_commerce_tourism"),
    ("สิ่งแวดล้อม", "natural_resources_environment"),
    ("ศิลปวัฒนธรรม", "arts_culture_local_wisdom"),
    ("ด้านที่ 3", "order_and_safety"),
    ("quality_of_life", "quality_of_life"),
]


@pytest.mark.parametrize("written, code", AREAS_IN_THAI)
def test_catalog_load_reads_areas_by_their_thai_names_and_short_forms(ml: Ledger, written: str, code: str) -> None:
    catalog = f"mission_code,name_th,area,source_agency,unit,applies_to\nTH-01,ภารกิจทดสอบ,{written},กรมทดสอบ,แห่ง,\n"
    ok(ml("catalog", "load", ml.file("thai.csv", catalog.encode())))
    assert f'"area":"{code}"' in ok(ml("missions", "TH-01", "--json"))


def test_an_area_that_is_none_of_the_six_is_named(ml: Ledger) -> None:
    from tests.support.cli_session import fails

    catalog = "mission_code,name_th,area,source_agency,unit,applies_to\nTH-01,ภารกิจทดสอบ,กีฬา,กรมทดสอบ,แห่ง,\n"
    fails(ml("catalog", "load", ml.file("bad.csv", catalog.encode())), 2, "area 'กีฬา' is not one of the six areas")


@pytest.mark.parametrize(
    "query, expected",
    [
        ("อบต. คลองท่อม", ["6810408", "6810403"]),  # ใต้ before เหนือ: Thai dictionary order
        ("อบต.คลองทอม", ["6810408", "6810403"]),  # tone marks forgiven
        ("ทต.คลองท่อมใต้", ["5810401"]),
        ("เขาคราม", ["6810103"]),
        ("681010", ["6810103", "6810104", "6810105", "6810106", "6810107", "6810108"]),  # codes by their start
    ],
)
def test_laos_are_found_by_a_fragment_of_their_thai_name(ml: Ledger, query: str, expected: list[str]) -> None:
    import json

    found = [r["lao_code"] for r in json.loads(ok(ml("laos", query, "--json")))]
    assert sorted(found) == sorted(expected) if query.isdigit() else found == expected


def test_laos_in_a_province_or_district_and_missions_by_name(ml: Ledger) -> None:
    import json

    assert len(json.loads(ok(ml("laos", "--province", "81", "--json")))) == 62
    in_district = json.loads(ok(ml("laos", "--district", "8104", "--json")))
    assert in_district and {r["district_code"] for r in in_district} == {"8104"}
    names = [r["name_th"] for r in in_district]
    from ledger.domain.thai import thai_sort_key

    assert names == sorted(names, key=thai_sort_key)
    found = json.loads(ok(ml("missions", "ศูนย์พัฒนาเด็ก", "--json")))
    assert [r["mission_code"] for r in found] == ["QOL-01", "QOL-02"]
    assert "2 ภารกิจ" in thai(ml, "missions", "ศูนย์พัฒนาเด็ก")


@pytest.mark.parametrize(
    "args, suggestion",
    [
        (("show", "6810130", "INF-01"), "did you mean 6810103 องค์การบริหารส่วนตำบลเขาคราม"),
        (("show", "6810103", "INF-10"), "did you mean INF-01 ถนนทางหลวงชนบท"),
        (("record", "6810103", "IFN-01", "--status", "operating", "--effective", "1/10/2567"), "did you mean INF-01"),
        (("as-of", "--province", "18"), "did you mean 81?"),
        (("laos", "--district", "8014"), "did you mean 8104"),
    ],
)
def test_an_unknown_code_answers_with_the_closest_ones(ml: Ledger, args: tuple[str, ...], suggestion: str) -> None:
    from tests.support.cli_session import fails

    fails(ml(*args), 3, suggestion)


# --- their spreadsheets --------------------------------------------------------------------------


def test_xlsx_export_has_numbers_dates_thai_headers_and_a_frozen_header(ml: Ledger) -> None:
    from datetime import date, datetime

    import openpyxl

    record_roads(ml)
    ok(ml("correct", "6810103", "INF-01", "--set", "staff=3", "--reason", "นับใหม่"))
    out = ml.folder / "krabi.xlsx"
    thai(ml, "export", "--format", "xlsx", "--out", str(out))
    sheet = openpyxl.load_workbook(out).active
    assert sheet.title == "ภารกิจ" and sheet.freeze_panes == "A3"  # the title line and the header stay in view
    title = sheet["A1"].value
    assert title.startswith("บัญชี ") and "ตามที่ทราบ ณ" in title and "256" in title  # which ledger, when (BE)
    header = [c.value for c in sheet[2]]
    assert header[:4] == ["รหัส อปท.", "ชื่อ อปท.", "รหัสภารกิจ", "ชื่อภารกิจ"] and "ฉบับที่" in header
    # Wide enough for every value: no #### for a date, an amount or a Thai name.
    assert sheet.column_dimensions["B"].width >= 30 and sheet.column_dimensions["A"].width >= 10
    row = {h: c for h, c in zip(header, sheet[3], strict=True)}
    assert row["รหัส อปท."].value == "6810103" and row["รหัส อปท."].data_type == "s"
    assert row["สถานะ"].value == "ดำเนินการ"
    assert row["จำนวน"].value == 12.5 and row["จำนวน"].data_type == "n"
    assert row["งบประมาณ (บาท)"].value == 1250000.5 and row["งบประมาณ (บาท)"].number_format == "#,##0.00"
    assert row["ปีงบประมาณที่รับโอน"].value == 2546 and row["จำนวนบุคลากร (คน)"].value == 3
    assert row["วันที่มีผล"].is_date and row["วันที่มีผล"].value.date() == date(2024, 1, 1)
    assert "107041E" in row["วันที่มีผล"].number_format  # shown in BE (Excel's Thai Buddhist calendar)
    assert isinstance(row["บันทึกเมื่อ"].value, datetime)
    before = ledger_size(ml)
    assert "nothing appended" in ok(ml("import", str(out)))  # and it reads back as the same records
    assert ledger_size(ml) == before


def ledger_size(ml: Ledger) -> int:
    from ledger.application import MissionLedger

    app = MissionLedger(ml.db)
    try:
        return app.ledger_recorder.log_size()
    finally:
        app.close()


HEADER_TH = "รหัส อปท.,รหัสภารกิจ,สถานะ,ปีงบประมาณที่รับโอน,จำนวน,หน่วยนับ,วันที่มีผล\n"
ROW_TH = "6810103,INF-01,ดำเนินการ,2546,12.5,กิโลเมตร,1 ต.ค. 2545\n"


def test_an_officers_csv_with_title_rows_above_the_header(ml: Ledger) -> None:
    content = "แบบรายงานภารกิจถ่ายโอน ปีงบประมาณ 2568,,,,,,\nอบต.เขาคราม อ.เมืองกระบี่,,,,,,\n,,,,,,\n" + HEADER_TH + ROW_TH
    out = ok(ml("import", ml.file("report.csv", content.encode("utf-8-sig"))))
    assert "appended 1 recorded" in out
    assert '"effective_from":"2002-10-01"' in ok(ml("show", "6810103", "INF-01", "--json"))


def test_excels_unicode_text_utf16_with_tabs(ml: Ledger) -> None:
    content = (HEADER_TH + ROW_TH).replace(",", "\t").encode("utf-16")
    assert "appended 1 recorded" in ok(ml("import", ml.file("unicode.txt", content)))


def test_an_undecodable_file_says_what_was_tried_in_plain_words(ml: Ledger) -> None:
    from tests.support.cli_session import fails

    fails(ml("import", ml.file("odd.csv", b"\x81\x8d\x8f\x90,\x81\n")), 2, 'tried UTF-8 (Excel\'s "CSV UTF-8")')


def test_xlsx_sheet_by_name_or_number_with_a_title_row(ml: Ledger) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = "คำอธิบาย"
    book.active.append(["กรอกข้อมูลในแผ่นงาน 'ข้อมูล'"])
    data = book.create_sheet("ข้อมูล")
    data.append(["รายงานภารกิจถ่ายโอน อบต.เขาคราม"])
    data.append(HEADER_TH.strip().split(","))
    data.append(ROW_TH.strip().split(","))
    path = ml.folder / "book.xlsx"
    book.save(path)
    from tests.support.cli_session import fails

    fails(ml("import", str(path), "--sheet", "ไม่มี"), 2, "no sheet 'ไม่มี'; the workbook has 1 'คำอธิบาย', 2 'ข้อมูล'")
    assert "would append 1 recorded" in ok(ml("import", str(path), "--sheet", "2", "--dry-run"))
    assert "appended 1 recorded" in ok(ml("import", str(path), "--sheet", "ข้อมูล"))


def test_a_row_repeated_word_for_word_is_read_once_and_warned(ml: Ledger) -> None:
    result = ml("import", ml.file("twice.csv", (HEADER_TH + ROW_TH + ROW_TH).encode()))
    assert result.exit_code == 0, result.output
    assert "row 3 repeats row 2 word for word: read once" in result.output
    assert "appended 1 recorded" in result.output


def test_the_error_file_is_replaced_by_the_next_import_and_removed_when_clean(ml: Ledger) -> None:
    errors = ml.folder / "fix-me.csv"
    bad = ml.file("r.csv", (HEADER_TH + ROW_TH.replace("12.5", "-1")).encode())
    assert ml("import", bad, "--errors", str(errors)).exit_code == 2 and errors.exists()
    assert ml("import", bad, "--errors", str(errors)).exit_code == 2  # its own error file: replaced
    good = ml.file("r.csv", (HEADER_TH + ROW_TH).encode())
    out = ok(ml("import", good, "--errors", str(errors)))
    assert "removed" in out and not errors.exists()
    mine = ml.folder / "mine.csv"
    mine.write_text("my own notes\n")
    from tests.support.cli_session import fails

    fails(ml("import", bad, "--errors", str(mine)), 1, "exists already")
    assert mine.read_text() == "my own notes\n"


def test_three_thousand_bad_rows_print_a_summary_and_the_first_twenty(ml: Ledger) -> None:
    rows = "".join(f"6810103,X-{i},ดำเนินการ,2546,-1,กม.,1/10/2567\n" for i in range(3000))
    errors = ml.folder / "fix-me.csv"
    result = ml("import", ml.file("many.csv", (HEADER_TH + rows).encode()), "--errors", str(errors))
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert sum(1 for line in lines if line.startswith("many.csv, row ")) == 20
    assert "more problems in 3,000 bad rows in all (all of them are in" in result.output
    assert len(lines) < 30
    assert errors.read_text(encoding="utf-8-sig").count("\n") == 3001


# --- the command line itself --------------------------------------------------------------------------


def test_the_top_level_help_shows_every_summary_whole() -> None:
    result = CliRunner().invoke(cli, ["--help"], terminal_width=80)
    commands = result.output.split("Commands:")[1]
    assert "..." not in commands and "…" not in commands
    assert all(len(line) <= 80 for line in commands.splitlines())


@pytest.mark.parametrize(
    "args, message",
    [
        (["record"], "Missing argument 'LAO'"),
        (["show", "6810103", "INF-01", "--bogus"], "No such option '--bogus'"),
        (["--lang", "xx", "show", "1", "2"], "'xx' is not one of"),
        (["bogus"], "No such command 'bogus'"),
    ],
)
def test_a_usage_error_is_one_line_with_the_usage(args: list[str], message: str) -> None:
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "cli.main", *args], capture_output=True, text=True, check=False)
    assert result.returncode == 2
    assert result.stdout == "" and result.stderr.count("\n") == 1, result.stderr
    assert (
        result.stderr.startswith("Error: ") and message in result.stderr and "(usage: 'mission-ledger" in result.stderr
    )


# --- their language -----------------------------------------------------------------------------------

# What may stay in Latin letters in Thai output: codes, options, commands, file names, status codes.
_NOT_ENGLISH = re.compile(
    r"\(วิธีใช้: [^)]*\)|(?:/[^\s/]+)+/?|--[\w-]+|`[^`]*`|\bmission-ledger\b|[\w.-]+\.(?:csv|xlsx|db|jsonl)\b|\b[A-Z]{2,}[\w-]*|"
    r"\b(?:operating|not_yet|correct|change|period_to|period_from|effective_from)\b|'[^']*'|\([A-Z]+\)"
)
ENGLISH_WORD = re.compile(r"[A-Za-z]{3,}")


def english_left(text: str) -> list[str]:
    return ENGLISH_WORD.findall(_NOT_ENGLISH.sub(" ", text))


def thai_result(ml: Ledger, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        cli,
        ["--db", str(ml.db), "--lang", "th", *args],
        env={"MISSION_LEDGER_CLOCK": ml.clock, "MISSION_LEDGER_ACTOR": "เจ้าหน้าที่"},
        catch_exceptions=False,
        prog_name="mission-ledger",
    )
    return result.exit_code, result.output


THAI_SESSION = [
    (
        "record",
        "6810103",
        "INF-01",
        "--status",
        "ดำเนินการ",
        "--effective",
        "1/10/2545",
        "--received-fy",
        "2546",
        "--quantity",
        "12.5",
        "--unit",
        "กิโลเมตร",
        "--budget",
        "1,250,000.50",
    ),
    ("correct", "6810103", "INF-01", "--set", "quantity=13.2", "--reason", "วัดใหม่"),
    ("change", "6810103", "INF-01", "--set", "budget=1500000", "--effective", "1 ม.ค. 2568", "--reason", "งบเพิ่ม"),
    ("show", "6810103", "INF-01"),
    ("history", "6810103", "INF-01"),
    ("as-of", "--province", "81"),
    ("changes", "--since", "1/1/2567"),
    ("report", "completeness", "--province", "81"),
    ("cancel", "6810103", "INF-01", "--effective", "1/3/2568", "--reason", "ส่งคืน"),
]
THAI_REFUSALS = [
    ("show", "6810130", "INF-01"),
    ("show", "6810103", "INF-10"),
    ("record", "6810103", "INF-01", "--status", "ดำเนินการ", "--effective", "1/10/2567"),
    ("record", "6810104", "INF-02", "--status", "ดำเนินการ", "--effective", "30/02/2567"),
    ("record", "6810104", "INF-02", "--status", "ดำเนินการ", "--effective", "1/10/2567", "--quantity", "-1"),
    ("record", "6810104", "INF-02", "--status", "เสร็จแล้ว", "--effective", "1/10/2567"),
    ("record", "6810104", "INF-02", "--status", "ดำเนินการ", "--effective", "1/10/2567", "--received-fy", "2024"),
    ("correct", "6810103", "INF-01", "--set", "quantity=13.2"),
    ("correct", "6810103", "INF-01", "--set", "quantity=1", "--reason", "ซ้ำ"),
    ("reinstate", "6810104", "INF-03", "--effective", "1/3/2568", "--reason", "คืน"),
    ("as-of", "--province", "18"),
    ("record",),
    ("show", "6810103", "INF-01", "--bogus"),
]


def test_who_works_in_thai_reads_thai_messages_headers_and_words(ml: Ledger) -> None:
    for args in THAI_SESSION:
        code, output = thai_result(ml, *args)
        assert code == 0, output
        assert not english_left(output), f"{args[0]}: English left: {english_left(output)}\n{output}"


@pytest.mark.parametrize("args", THAI_REFUSALS, ids=lambda a: " ".join(a)[:40])
def test_a_refusal_in_thai_is_one_thai_line(ml: Ledger, args: tuple[str, ...]) -> None:
    ok(ml("record", "6810103", "INF-01", "--status", "operating", "--effective", "1/10/2545", "--quantity", "1",
          "--unit", "km"))  # fmt: skip
    code, output = thai_result(ml, *args)
    assert code != 0
    assert output.startswith("ข้อผิดพลาด: ") and output.count("\n") == 1, output
    assert not english_left(output), f"English left: {english_left(output)}\n{output}"


def test_an_import_in_thai_reports_and_writes_its_error_file_in_thai(ml: Ledger) -> None:
    errors = ml.folder / "แก้ไข.csv"
    content = (HEADER_TH + ROW_TH + ROW_TH.replace("INF-01", "INF-02").replace("12.5", "-1")).encode()
    code, output = thai_result(ml, "import", ml.file("รายงาน.csv", content), "--errors", str(errors))
    assert code == 2
    assert not english_left(output), f"English left: {english_left(output)}\n{output}"
    written = errors.read_text(encoding="utf-8-sig")
    assert "ไม่ใช่จำนวน (ต้องเป็น 0 ขึ้นไป)" in written


def test_every_command_speaks_thai_to_who_works_in_thai(ml: Ledger) -> None:
    """The human output of each command (JSON, CSV data and the feed are for machines)."""
    record_roads(ml)
    keys = ml.folder / "keys"
    keys.mkdir()
    commands = [
        ("init",),
        ("registry", "load", str(ml.folder / "krabi_laos.csv")),
        ("catalog", "load", str(ml.folder / "catalog.csv")),
        ("laos", "เขาคราม"),
        ("missions", "ถนน"),
        ("project",),
        ("keygen", str(keys / "krabi-ppao")),
        ("checkpoint", "--key", str(keys / "krabi-ppao.key"), "--out", str(ml.folder / "cp")),
        ("prove", "inclusion", "94", "--checkpoint", str(ml.folder / "cp"), "--out", str(ml.folder / "p.proof")),
        ("verify", "--checkpoint", str(ml.folder / "cp"), "--key", str(keys / "krabi-ppao.pub")),
        ("verify-proof", str(ml.folder / "p.proof"), "--key", str(keys / "krabi-ppao.pub")),
        ("export", "--format", "xlsx", "--out", str(ml.folder / "x.xlsx")),
        ("import", str(ml.folder / "x.xlsx"), "--dry-run"),
    ]
    for args in commands:
        code, output = thai_result(ml, *args)
        assert code == 0, (args, output)
        # A key (name+id+base64) and a hash (hex) are codes, printed as they are.
        text = re.sub(r"\S+\+[0-9a-f]{8}\+\S+|\b[0-9a-f]{64}\b", " ", output)
        assert not english_left(text), f"{args[0]}: English left: {english_left(text)}\n{output}"


def test_the_demo_tells_its_story_in_thai(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import os

    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        result = CliRunner().invoke(cli, ["--lang", "th", "demo"], catch_exceptions=False, prog_name="mission-ledger")
    finally:
        os.chdir(cwd)
    assert result.exit_code == 0
    story = "\n".join(line for line in result.output.splitlines() if not line.strip().startswith("mission-ledger"))
    assert not english_left(story), english_left(story)
