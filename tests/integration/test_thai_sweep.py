"""Issue 23's Thai sweep: a Thai officer works through every command of the command line — and
opens every file it writes for her — and meets no English word and no year of the Common Era
(codes, typed names and text, paths and the product's name aside)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from tests.support.cli_session import krabi_session
from tests.support.thai_sweep import ce_years, english_words

#: Names the officer typed (principals, labels, the ledger's origin): hers, not the program's.
TYPED = ("somchai", "krabi.officer", "auditor1", "ledger.krabi.go.th", "krabi")


class ThaiOfficer:
    """A Thai session on one ledger: every command with MISSION_LEDGER_LANG=th, outputs kept."""

    def __init__(self, tmp_path: Path) -> None:
        self.ml = krabi_session(tmp_path)
        self.folder = tmp_path
        self.outputs: dict[str, str] = {}

    def __call__(self, *args: str, code: int = 0, clock: str | None = None) -> str:
        env = {
            "MISSION_LEDGER_CLOCK": clock or "2024-12-20T10:10:00+07:00",
            "MISSION_LEDGER_ACTOR": "somchai",
            "MISSION_LEDGER_LANG": "th",
            "MISSION_LEDGER_ORIGIN": "ledger.krabi.go.th",
        }
        result = CliRunner().invoke(cli, ["--db", str(self.ml.db), *args], env=env, catch_exceptions=False)
        assert result.exit_code == code, (args, result.output)
        shown = result.output
        if args[:2] == ("token", "issue"):  # its last line is the token: a secret to copy, no words
            shown = shown.rstrip("\n").rsplit("\n", 1)[0]
        self.outputs[" ".join(args)] = shown
        return result.output

    def file(self, name: str, text: str) -> str:
        path = self.folder / name
        path.write_text(text, encoding="utf-8")
        return str(path)


def _officer_works(tmp_path: Path) -> ThaiOfficer:
    me = ThaiOfficer(tmp_path)
    rec = ("6810103", "INF-01")
    me(
        "record",
        *rec,
        "--status",
        "operating",
        "--effective",
        "1/10/2567",
        "--received-fy",
        "2546",
        "--quantity",
        "12.5",
        "--unit",
        "กิโลเมตร",
        "--budget",
        "1250000.50",
        clock="2024-11-01T09:00:00+07:00",
    )
    me(
        "record",
        "6810103",
        "INF-02",
        "--status",
        "not_yet",
        "--effective",
        "1/10/2567",
        clock="2024-11-01T09:00:00+07:00",
    )
    me("correct", *rec, "--set", "quantity=13.2", "--reason", "วัดใหม่")
    me("change", *rec, "--set", "budget=1500000", "--effective", "1 ม.ค. 2568", "--reason", "งบเพิ่ม")
    me("cancel", "6810103", "INF-02", "--effective", "1/3/2568", "--reason", "ส่งคืน")
    me("reinstate", "6810103", "INF-02", "--effective", "1/4/2568", "--reason", "รับคืน")
    me("show", *rec)
    me("history", *rec)
    me("as-of", "--province", "81")
    me("as-of", "--known-at", "30/12/2567", "--province", "81")
    me("changes", "--since", "1/1/2567")
    me("missions", "ถนน")
    me("laos", "เหนือคลอง")
    me("round", "open", "fy2568", "--start", "1 ต.ค. 2567", "--deadline", "30 ธ.ค. 2567")
    me("round", "list")
    me("report", "completeness", "--province", "81")
    # An import: a plan first, then a file with a bad row (and its error file), then a good one.
    good = me.file(
        "good.csv",
        "lao_code,mission_code,status,effective_from,quantity,unit\n6810104,INF-01,operating,1/10/2567,3,กิโลเมตร\n",
    )
    me("import", good, "--dry-run")
    # Her own sheet, in her own words: the Thai headers of the export, a Thai status.
    bad = me.file("bad.csv", "รหัส อปท.,รหัสภารกิจ,สถานะ,วันที่มีผล\n6810104,INF-01,ดำเนินการ,31/02/2567\n")
    me("import", bad, "--errors", str(tmp_path / "errors.csv"), code=2)
    me("import", good)
    me("history", "6810104", "INF-01")
    me("export", "--format", "xlsx", "--out", str(tmp_path / "export.xlsx"))
    # People and their keys.
    me("principal", "add", "krabi.officer", "--role", "province:81", "--display-name", "สำนักงานจังหวัด")
    me("principal", "add", "auditor1", "--role", "auditor")
    me("principal", "grant", "krabi.officer", "lao:6810103")
    me("principal", "revoke", "krabi.officer", "lao:6810103")
    me("principal", "list")
    me("token", "issue", "krabi.officer", "--expires", "31/3/2568")
    me("token", "list")
    me("session", "list")
    me("keygen", str(tmp_path / "krabi"))
    me("checkpoint", "--key", str(tmp_path / "krabi.key"), "--out", str(tmp_path / "krabi.checkpoint"))
    me("verify", "--key", str(tmp_path / "krabi.pub"))
    me(
        "prove",
        "inclusion",
        "3",
        "--checkpoint",
        str(tmp_path / "krabi.checkpoint"),
        "--out",
        str(tmp_path / "3.proof"),
    )
    me("verify-proof", str(tmp_path / "3.proof"), "--key", str(tmp_path / "krabi.pub"))
    me("project")
    # Foreseeable mistakes: one Thai line each.
    me("record", "6810199", "INF-01", "--status", "operating", "--effective", "1/10/2567", code=3)
    me("record", *rec, "--status", "operating", "--effective", "1/10/2567", code=1)
    me("show", *rec, "--known-at", "31/02/2567", code=2)
    me("principal", "add", "x1", "--role", "mayor", code=2)
    me("changes", "--since", "1/1/2567", "--kind", "lost", code=2)
    me("verify", code=1)  # no key given: the signatures are not checked, and it says so
    return me


@pytest.fixture(scope="module")
def officer(tmp_path_factory: pytest.TempPathFactory) -> ThaiOfficer:
    return _officer_works(tmp_path_factory.mktemp("thai"))


def test_every_command_speaks_thai_to_a_thai_officer(officer: ThaiOfficer) -> None:
    found = {
        command: english_words(text, allowed=TYPED)
        for command, text in officer.outputs.items()
        if english_words(text, allowed=TYPED)
    }
    assert not found, "English in Thai output:\n" + "\n".join(
        f"{c}: {words}\n    {officer.outputs[c]!r}" for c, words in found.items()
    )


def _files_she_opens(officer: ThaiOfficer) -> dict[str, str]:
    """The text of every file the commands wrote for her to open: the XLSX export (every string
    cell and the number formats that show its dates) and the import's error file."""
    import openpyxl

    book = openpyxl.load_workbook(officer.folder / "export.xlsx")
    cells = [c for row in book.active.iter_rows() for c in row if c.value is not None]  # type: ignore[union-attr]
    shown = [str(c.value) for c in cells if isinstance(c.value, str)]
    # A date cell shows BE through Excel's Thai Buddhist calendar ([$-107041E]), never CE.
    formats = {c.number_format for c in cells if c.is_date}
    assert formats and all(f.startswith("[$-107041E]") for f in formats), formats
    return {
        "export.xlsx": "\n".join([str(book.sheetnames), *shown]),
        "errors.csv": (officer.folder / "errors.csv").read_text(encoding="utf-8-sig"),
    }


def test_every_file_she_opens_is_in_thai(officer: ThaiOfficer) -> None:
    files = _files_she_opens(officer)
    # Column keys she imports back (lao_code …) are the export's own Thai headers; the error
    # file repeats her rows as typed.
    found = {name: english_words(text, allowed=TYPED) for name, text in files.items()}
    assert not any(found.values()), found
    assert not any(ce_years(text) for text in files.values()), files


def test_no_command_shows_a_thai_officer_a_ce_year(officer: ThaiOfficer) -> None:
    found = {c: ce_years(text) for c, text in officer.outputs.items() if ce_years(text)}
    assert not found, "CE years in Thai output:\n" + "\n".join(
        f"{c}: {years}\n    {officer.outputs[c]!r}" for c, years in found.items()
    )


# What `--help` may name that has no Thai word: formats, protocols, programs, the environment's
# names and the placeholders a person replaces.
HELP_ALLOWED = (
    "SQLite", "PostgreSQL", "postgresql", "CloudEvents", "JSON Schema", "JSONL", "JSON", "CSV", "XLSX",
    "Excel", "BOM", "UTF-8", "UTF-16", "cp874", "HTTP", "API", "URL", "SHA-256", "Ed25519", "C2SP",
    "signed note", "Ctrl-C", "POST", "PGPASSWORD", "MISSION_LEDGER_KEY", "NAME", "PATH", "POSITION",
    "VALUE", "N", "PP", "CODE",
)  # fmt: skip


def _commands(group: object, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    import click

    assert isinstance(group, click.Group)
    found = [path]
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found += _commands(command, (*path, name))
        else:
            found.append((*path, name))
    return found


def _read(help_text: str) -> str:
    """What a person reads in a command's help: not the usage or an example (commands to type),
    nor a command's name in a list, an option's choices or its default (values to type)."""
    kept = []
    help_text = re.sub(r"-\n\s+", "-", help_text)  # an option the lines broke at its hyphen
    for paragraph in help_text.split("\n\n"):
        lines = paragraph.splitlines()
        if lines and lines[0].strip().startswith(("วิธีใช้:", "ตัวอย่าง:")):
            continue
        for line in lines:
            stripped = line.strip()
            if line.startswith("  ") and not line.startswith("   ") and stripped[:1].islower():
                line = stripped.split(None, 1)[1] if " " in stripped else ""
            kept.append(line)
    text = re.sub(r"\[[\w|-]+\]", " ", "\n".join(kept))  # an option's choices: [th|en]
    return re.sub(r"\[ค่าเริ่มต้น:[^\]]*\]", " ", text)  # its default


def test_every_commands_help_is_in_thai_for_a_thai_officer() -> None:
    """Every command's and option's help, from the same catalog: what is left in English is a
    command or option to type, an example, or the name of a format or program."""
    runner = CliRunner()
    found = {}
    for path in _commands(cli):
        result = runner.invoke(cli, [*path, "--help"], env={"MISSION_LEDGER_LANG": "th"}, prog_name="mission-ledger")
        assert result.exit_code == 0, result.output
        lines = result.output.splitlines()
        assert lines[0].startswith("วิธีใช้: mission-ledger"), lines[0]  # the usage: what to type
        words = english_words(_read(result.output), allowed=HELP_ALLOWED)
        if words:
            found[" ".join(path) or "mission-ledger"] = words
    assert not found, "\n".join(f"{c}: {w}" for c, w in found.items())


def test_the_demo_servers_banner_speaks_thai(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`demo --serve` runs a server, so its banner is tested here, as it is printed: each demo
    person's roles in words, the tokens and links as codes to copy."""
    from cli.demo import print_demo_tokens

    monkeypatch.setenv("MISSION_LEDGER_LANG", "th")
    url = "http://127.0.0.1:8080"
    print_demo_tokens(url, [("krabi.officer", ["province:81"], "mlt_AbC", f"{url}/signin#link=mlt_dEf")])
    shown = capsys.readouterr().out
    assert "เจ้าหน้าที่จังหวัดกระบี่" in shown
    # The last line is a command to type (curl with its header), not words.
    words = english_words(shown.rsplit("\n  curl", 1)[0], allowed=(*TYPED, "mlt_AbC"))
    assert not words, (words, shown)
