"""A real `mission-ledger serve` process on a free port, and the ledger it serves: Krabi's LAOs
(province 81), two LAOs of Phang Nga (province 82), the sample catalog, a few records, and one
principal of every role with its token."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import httpx

from ledger.application import MissionLedger
from ledger.domain.values import Fields
from ledger.identity import Identity
from tests.conftest import package_data

ROOT = Path(__file__).resolve().parents[2]
#: Two LAOs of another province, for everything a Krabi officer must not reach.
PHANG_NGA = (
    "lao_code,lao_type,name_th,province_code,province_th,district_code,district_th\n"
    "6820101,sao,องค์การบริหารส่วนตำบลทดสอบหนึ่ง,82,พังงา,8201,เมืองพังงา\n"
    "6820102,sao,องค์การบริหารส่วนตำบลทดสอบสอง,82,พังงา,8201,เมืองพังงา\n"
).encode()
#: name → roles: one principal of each role the service knows.
PRINCIPALS = {
    "boss": ["admin"],
    "krabi": ["province:81"],
    "clerk": ["lao:6810103"],
    "audit": ["auditor"],
    "feeder": ["integration"],
    "feeder82": ["integration:82"],
}
IN_LAO, OUT_LAO = "6810103", "6820101"  # the clerk's LAO (in Krabi), an LAO of Phang Nga


@contextmanager
def ledger_location(backend: str, folder: Path) -> Iterator[str]:
    """ledger_location is where a served test ledger lives: a SQLite file in `folder`, or a
    schema of its own on the PostgreSQL server, dropped afterwards."""
    if backend == "sqlite":
        yield str(folder / "ledger.db")
        return
    from tests.conftest import PG_URL, require_postgres

    require_postgres()
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    try:
        yield f"{PG_URL}?schema={schema}"
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def seed(location: str) -> dict[str, str]:
    """seed fills a new ledger and returns a token for each principal (and a revoked one)."""
    app = MissionLedger(location, actor="seed")
    app.initialise("test/served")
    app.load_registry(package_data("krabi_laos.csv"), name="krabi_laos.csv")
    app.load_registry(PHANG_NGA, name="phang_nga.csv")
    app.load_catalog(package_data("sample_catalog.csv"), name="sample_catalog.csv")
    for lao in (IN_LAO, "6810104", OUT_LAO):
        app.record(lao, "INF-01", effective_from=date(2024, 10, 1), values=Fields(status="operating", staff=1))
    identity = Identity(app)
    tokens = {}
    for name, roles in PRINCIPALS.items():
        identity.add(name, roles)
        tokens[name] = identity.issue(name, label="test").token
    identity.add("gone", ["admin"])
    revoked = identity.issue("gone")
    identity.revoke_token(revoked.token_id)
    tokens["revoked"] = revoked.token
    app.close()
    return tokens


@dataclass
class Served:
    """Served is one running `serve` process over a ledger, with its base URL and tokens."""

    location: str
    folder: Path
    workers: int = 1
    env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    tokens: dict[str, str] = field(default_factory=dict)
    #: The checkout whose `serve` runs (another one to measure an older version beside this).
    root: Path = ROOT
    #: The views file (default: views.db in the folder).
    views: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, port: int | None = None) -> Served:
        self.port = port or free_port()
        log = (self.folder / f"serve-{self.port}.log").open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "--db", self.location, "--views", str(self.views or self.folder / "views.db"),
             "serve", "--port", str(self.port), "--workers", str(self.workers)],
            cwd=self.root, env={**os.environ, "PYTHONPATH": str(self.root), **self.env}, stdout=log, stderr=log,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"serve exited with {self.process.returncode}: {self.log()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError(f"serve did not answer in 30 s: {self.log()}")

    def log(self) -> str:
        return "".join(p.read_text(errors="replace") for p in self.folder.glob("serve-*.log"))

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def client(self, who: str | None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        return httpx.Client(base_url=f"{self.url}/api/v1", headers=headers, timeout=30)

    def size(self) -> int:
        app = MissionLedger(self.location, create_tables=False)
        try:
            return app.ledger_recorder.log_size()
        finally:
            app.close()


# --- the pages, as a browser without JavaScript asks for them ----------------------------------


def browser(served: Served, host: str | None = None) -> httpx.Client:
    headers = {"Host": host} if host else {}
    return httpx.Client(base_url=served.url, timeout=30, follow_redirects=False, headers=headers)


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None, page[:500]
    return found[1]


def sign_in(served: Served, token: str, client: httpx.Client | None = None) -> httpx.Client:
    client = client or browser(served)
    answer = client.post("/signin", data={"csrf": csrf_of(client.get("/signin").text), "token": token})
    assert answer.status_code == 303, answer.text[:500]
    return client


@contextmanager
def keyed_service(backend: str, folder: Path) -> Iterator[Served]:
    """keyed_service is a running `serve` over a seeded ledger on `backend`, with a signing key
    (for POST /api/v1/checkpoints)."""
    from ledger.integrity.checkpoint import Signer

    with ledger_location(backend, folder) as location:
        key = folder / "server.key"
        key.write_text(Signer.generate("test/served").format(), encoding="utf-8")
        server = Served(location, folder, env={"MISSION_LEDGER_KEY": str(key)})
        server.tokens = seed(location)
        server.start()
        try:
            yield server
        finally:
            server.stop()
