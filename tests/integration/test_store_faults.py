"""A store or a views file that runs out of room, and a ledger nobody may write beside: real small
file systems (tmpfs, mounted by the test as root), a real `serve` and the real command line.
A full disk is a 507 that names no path, never a 409 "refused by a rule"; views that cannot catch
up make /healthz say so (503); a read-only ledger is still queried and verified."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from ledger.application import MissionLedger
from ledger.identity import Identity
from tests.support.served import IN_LAO, ROOT, Served, seed

pytestmark = pytest.mark.slow


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Callable[[str, str], Path]]:
    """small_disk(name, size) mounts a tmpfs of that size at tmp_path/name (unmounted after)."""
    mounted: list[Path] = []

    def mount(name: str, size: str) -> Path:
        where = tmp_path / name
        where.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                              capture_output=True, text=True, check=False)  # fmt: skip
        if done.returncode != 0:
            why = f"cannot mount a small file system here ({done.stderr.strip()})"
            if os.environ.get("CI"):
                pytest.fail(why)
            pytest.skip(why)
        mounted.append(where)
        return where

    yield mount
    for where in reversed(mounted):
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(folder: Path) -> None:
    """fill takes every free byte of a file system."""
    subprocess.run(f"dd if=/dev/zero of={folder / 'filler'} bs=4k 2>/dev/null", shell=True, check=False)


@contextmanager
def serving(location: str, folder: Path) -> Iterator[Served]:
    served = Served(location, folder)
    served.tokens = seed(location)
    served.start()
    try:
        yield served
    finally:
        served.stop()


def test_a_full_disk_is_507_and_reads_go_on(small_disk: Callable[[str, str], Path], tmp_path: Path) -> None:
    disk = small_disk("store", "3m")
    with serving(str(disk / "ledger.db"), tmp_path) as served:
        fill(disk)
        before = served.size()
        with served.client("clerk") as http:
            write = http.post(f"/records/{IN_LAO}/INF-01/correct", json={"set": {"staff": "61"}, "reason": "x"})
            read = http.get(f"/records/{IN_LAO}/INF-01")
        assert write.status_code == 507 and "no room left" in write.json()["detail"], write.text
        assert str(disk) not in write.text and read.status_code == 200
        assert served.size() == before
        assert httpx.get(f"{served.url}/healthz").json()["status"] == "ok"
        (disk / "filler").unlink()
        with served.client("clerk") as http:
            again = http.post(f"/records/{IN_LAO}/INF-01/correct", json={"set": {"staff": "61"}, "reason": "x"})
        assert again.status_code == 201


def test_views_that_cannot_catch_up_are_said_by_healthz(small_disk: Callable[[str, str], Path], tmp_path: Path) -> None:
    disk = small_disk("views", "2m")
    location = str(tmp_path / "ledger.db")
    tokens = seed(location)
    served = Served(location, tmp_path, views=disk / "views.db")
    served.tokens = tokens
    served.start()
    try:
        assert httpx.get(f"{served.url}/healthz").json()["views_behind"] == 0
        fill(disk)
        # Another writer (the operator's command line) grows the ledger by a batch.
        app = MissionLedger(location, actor="operator")
        identity = Identity(app)
        for n in range(40):
            identity.add(f"someone{n}", ["auditor"], "x" * 150)
        app.close()
        health = httpx.get(f"{served.url}/healthz")
        assert health.status_code == 503 and health.json()["status"] == "views-behind"
        assert health.json()["views_behind"] > 0
        with served.client("krabi") as http:
            report = http.get("/reports/completeness")
        assert report.status_code in (503, 507) and str(disk) not in report.text, report.text
    finally:
        served.stop()


def test_a_read_only_ledger_is_queried_and_verified(small_disk: Callable[[str, str], Path], tmp_path: Path) -> None:
    disk = small_disk("readonly", "8m")
    location = disk / "ledger.db"
    seed(str(location))
    subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
    # No writable cache either: a home and a cache folder nobody may write.
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HOME": "/proc/nonexistent", "XDG_CACHE_HOME": "/proc/nonexistent"}
    for command in (["report", "completeness", "--province", "81"], ["verify"], ["show", IN_LAO, "INF-01"]):
        done = subprocess.run([sys.executable, "-m", "cli.main", "--lang", "en", "--db", str(location), *command],
                              cwd=ROOT, env=env, capture_output=True, text=True, check=False)  # fmt: skip
        assert done.returncode == 0, (command, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr
        if command[0] == "report":  # the views are kept in the temporary folder, and it says so
            assert "is read-only; the views are kept in" in done.stderr, done.stderr
