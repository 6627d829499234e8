"""python -m bench.stall [--root DIR] [--import-mb N]: what one hostile or heavy request does to
everyone else. A real `serve` (one worker, SQLite) answers a signed-in reader in a loop while
each attack runs; the reader's p50 / p99 / max latency is printed beside the quiet baseline,
with what the attack itself was answered and how long that took.

--root runs the `serve` of another checkout (to print the figures of an older version beside
these). Never part of the test suite's timings: tests/e2e/test_service_attack.py asserts a generous
bound with smaller attacks.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def raw_request(
    port: int, head: bytes, body: bytes | Callable[[socket.socket], None] = b"", timeout: float = 120
) -> str:
    """raw_request sends bytes as they are (no client library would send these) and returns the
    status line, or what happened to the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        note = ""
        try:
            s.sendall(head)
            if callable(body):
                body(s)
            elif body:
                view = memoryview(body)
                for at in range(0, len(view), 1 << 20):
                    s.sendall(view[at : at + (1 << 20)])
        except OSError as e:  # the server answered and closed before the rest was sent
            note = f" (closed while sending: {type(e).__name__})"
        try:
            answer = s.recv(200)
        except OSError as e:
            return f"connection closed ({type(e).__name__}){note}"
    return (answer.split(b"\r\n", 1)[0].decode("latin-1") or "connection closed") + note


def reader_latencies(url: str, token: str, stop: threading.Event, out: list[float]) -> None:
    """One signed-in reader asking for a record again and again until `stop`."""
    import httpx

    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as http:
        while not stop.is_set():
            start = time.perf_counter()
            http.get("/api/v1/records/6810103/INF-01")
            out.append((time.perf_counter() - start) * 1000)
            time.sleep(0.01)


def during(url: str, token: str, attack: Callable[[], str], readers: int = 4) -> tuple[str, float, list[float]]:
    """during runs `attack` while `readers` readers read; returns its answer, its seconds, and
    the readers' latencies (ms)."""
    stop = threading.Event()
    samples: list[float] = []
    threads = [threading.Thread(target=reader_latencies, args=(url, token, stop, samples)) for _ in range(readers)]
    for t in threads:
        t.start()
    time.sleep(0.3)
    start = time.perf_counter()
    try:
        answer = attack()
    finally:
        took = time.perf_counter() - start
        time.sleep(0.3)
        stop.set()
        for t in threads:
            t.join()
    return answer, took, samples


def summary(samples: list[float]) -> tuple[float, float, float]:
    """p50, p99 and max of latencies."""
    ordered = sorted(samples) or [0.0]
    return (
        statistics.median(ordered),
        ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
        ordered[-1],
    )


def attacks(port: int, clerk: str, officer: str, import_mb: int) -> dict[str, Callable[[], str]]:
    """Each attack of issue 28, as a function returning what the server answered."""
    big = 40 * 1024 * 1024
    host = f"Host: 127.0.0.1:{port}\r\n".encode()

    def form_body(s: socket.socket) -> None:
        chunk = b"csrf=" + b"x" * (1 << 20)
        sent = 0
        while sent < big:
            s.sendall(chunk)
            sent += len(chunk)

    def signout() -> str:
        head = (b"POST /signout HTTP/1.1\r\n" + host + b"Content-Type: application/x-www-form-urlencoded\r\n"
                b"Content-Length: %d\r\n\r\n" % big)  # fmt: skip
        return raw_request(port, head, form_body)

    def deep_json() -> str:
        body = b'{"set":' + b"[" * 50_000 + b"]" * 50_000 + b"}"
        head = (b"POST /api/v1/records/6810103/INF-01/correct HTTP/1.1\r\n" + host +
                b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body))  # fmt: skip
        return raw_request(port, head, body)

    def huge_header() -> str:
        value = b"a" * (50 * 1024 * 1024)

        def send(s: socket.socket) -> None:
            s.sendall(b"X-Filler: ")
            for at in range(0, len(value), 1 << 20):
                s.sendall(value[at : at + (1 << 20)])
            s.sendall(b"\r\n\r\n")

        return raw_request(port, b"GET /healthz HTTP/1.1\r\n" + host, send)

    def officer_import() -> str:
        import httpx

        line = b"6810103,INF-01,operating,2567,1,km,100,1\n"
        rows = b"lao_code,mission_code,status,received_fy,quantity,unit,budget,staff\n" + line * (
            import_mb * 1024 * 1024 // len(line)
        )
        with httpx.Client(headers={"Authorization": f"Bearer {officer}"}, timeout=600) as http:
            answer = http.post(
                f"http://127.0.0.1:{port}/api/v1/imports?dry_run=true",
                files={"file": ("big.csv", rows, "text/csv")},
            )
        return f"HTTP {answer.status_code}"

    return {
        "anonymous POST /signout, 40 MB form": signout,
        "anonymous write, JSON 50,000 deep": deep_json,
        "a 50 MB request header": huge_header,
        f"officer's import dry run, {import_mb} MB CSV": officer_import,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout whose `serve` is measured")
    parser.add_argument("--import-mb", type=int, default=60)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from tests.support.served import Served, seed

    with tempfile.TemporaryDirectory() as folder:
        location = str(Path(folder) / "ledger.db")
        tokens = seed(location)
        served = Served(location, Path(folder), root=args.root.resolve())
        served.start()
        try:
            rows = measure(served, tokens, args.import_mb)
        finally:
            served.stop()
    print(f"serve of {args.root}")
    print(f"{'while':45} {'answer':42} {'took s':>7}   reader p50 / p99 / max (ms)")
    for name, answer, took, (p50, p99, top) in rows:
        print(f"{name:45} {answer[:42]:42} {took:7.2f}   {p50:7.1f} / {p99:7.1f} / {top:7.1f}")


def measure(served: Any, tokens: dict[str, str], import_mb: int) -> list[tuple[str, str, float, tuple[float, ...]]]:
    """measure runs the quiet baseline and each attack; a row per run."""
    rows = []
    answer, took, quiet = during(served.url, tokens["clerk"], lambda: (time.sleep(2), "-")[1])
    rows.append(("quiet (no attack)", answer, took, summary(quiet)))
    for name, attack in attacks(served.port, tokens["clerk"], tokens["krabi"], import_mb).items():
        answer, took, samples = during(served.url, tokens["clerk"], attack)
        rows.append((name, answer, took, summary(samples)))
    return rows


if __name__ == "__main__":
    main()
