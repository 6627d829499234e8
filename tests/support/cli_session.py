"""A command-line session on one ledger file, and the checks every CLI test makes of a result."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from cli.main import cli


class Ledger:
    """A CLI session on one ledger file, with the ledger clock set by the environment."""

    def __init__(self, folder: Path) -> None:
        self.db = folder / "krabi.db"
        self.folder = folder
        self.clock = "2024-11-01T09:00:00+07:00"
        self.runner = CliRunner()

    def __call__(self, *args: str, clock: str | None = None) -> Result:
        env = {"MISSION_LEDGER_CLOCK": clock or self.clock, "MISSION_LEDGER_ACTOR": "officer"}
        return self.runner.invoke(cli, ["--db", str(self.db), *args], env=env, catch_exceptions=False)

    def file(self, name: str, content: bytes) -> str:
        path = self.folder / name
        path.write_bytes(content)
        return str(path)


#: A first report of a mission record, for tests that add to it or change the ledger around it.
RECORD = ("record", "6810103", "INF-01", "--status", "operating", "--effective", "2567-10-01")


def krabi_session(tmp_path: Path) -> Ledger:
    """krabi_session is an initialised ledger with Krabi's registry and the sample catalog."""
    from tests.conftest import package_data

    session = Ledger(tmp_path)
    assert session("init").exit_code == 0
    assert session("registry", "load", session.file("krabi_laos.csv", package_data("krabi_laos.csv"))).exit_code == 0
    assert session("catalog", "load", session.file("catalog.csv", package_data("sample_catalog.csv"))).exit_code == 0
    return session


def ok(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return result.output


def fails(result: Result, code: int, message: str) -> None:
    assert result.exit_code == code, (result.exit_code, result.output)
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("Error: ") and message in last, result.output
    assert "Traceback" not in result.output


def record_roads(ml: Ledger) -> None:
    ok(
        ml(
            "record",
            "6810103",
            "INF-01",
            "--status",
            "operating",
            "--effective",
            "2567-01-01",
            "--received-fy",
            "2546",
            "--quantity",
            "12.5",
            "--unit",
            "กิโลเมตร",
            "--budget",
            "1,250,000.50",
        )
    )
