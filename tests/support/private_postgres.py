"""A PostgreSQL server of the test's own: its own data folder, port and password authentication.

The machine's server trusts every local connection, so a wrong password cannot be tried on it,
and restarting it would drop a developer's other connections. This one is made with initdb in a
temporary folder, started with pg_ctl on a free port, and stopped and removed afterwards. As
root it runs as the `postgres` user (PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PASSWORD = "s3cret-test-password"


@dataclass(frozen=True)
class PrivateServer:
    """PrivateServer is a running server: connect as `postgres` with PASSWORD on 127.0.0.1:port."""

    port: int
    folder: Path

    def url(self, *, password: str | None = PASSWORD, database: str = "postgres", schema: str | None = None) -> str:
        auth = f"postgres:{password}@" if password is not None else "postgres@"
        query = f"?schema={schema}" if schema else ""
        return f"postgresql://{auth}127.0.0.1:{self.port}/{database}{query}"

    def restart(self) -> None:
        """restart stops the server (dropping every connection) and starts it again."""
        self.stop()
        self.start()

    def stop(self) -> None:
        """stop stops the server at once, dropping every connection."""
        _run(str(_bin("pg_ctl")), "-D", str(self.folder / "data"), "-m", "immediate", "-w", "stop")

    def start(self) -> None:
        """start starts the stopped server again."""
        _start(self.folder, self.port)


def _bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


def available() -> str | None:
    """available is None when a private server can be started here, else why not."""
    if not (_bin("initdb") and _bin("pg_ctl")):
        return "initdb and pg_ctl are not installed"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(*args: str) -> None:
    command = list(args)
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    subprocess.run(command, check=True, capture_output=True, timeout=120)


def _start(folder: Path, port: int) -> None:
    # The server's output goes to a log file: a pipe it inherited would keep this call waiting.
    _run(
        str(_bin("pg_ctl")),
        "-D",
        str(folder / "data"),
        "-w",
        "-l",
        str(folder / "log"),
        "-o",
        f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off",
        "start",
    )


@contextmanager
def private_server() -> Iterator[PrivateServer]:
    """private_server starts a password-protected server and stops it when the block ends."""
    folder = Path(tempfile.mkdtemp(prefix="ml-pg-"))
    try:
        pwfile = folder / "pw"
        pwfile.write_text(PASSWORD + "\n")
        if os.geteuid() == 0:
            shutil.chown(folder, "postgres")
            shutil.chown(pwfile, "postgres")
        data, port = folder / "data", _free_port()
        _run(str(_bin("initdb")), "-D", str(data), "-U", "postgres", "--auth=scram-sha-256", f"--pwfile={pwfile}")
        _start(folder, port)
        try:
            yield PrivateServer(port, folder)
        finally:
            _run(str(_bin("pg_ctl")), "-D", str(data), "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
