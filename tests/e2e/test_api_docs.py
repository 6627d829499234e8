"""docs/api.md is executed: every curl example is sent to a real `serve` process over the demo
ledger, in the document's order, and must get the status, headers and body shown."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.api_examples import DOC, examples, matches, send, text_matches
from tests.support.served import Served

#: The ledger clock of the documented examples: after the demo's last event.
CLOCK = "2025-03-12T10:00:00+07:00"
TOKEN_NAMES = {
    "demo.admin": "ADMIN",
    "krabi.officer": "OFFICER",
    "khaokram.clerk": "CLERK",
    "demo.auditor": "AUDITOR",
    "demo.feed": "FEED",
}


def demo_service(folder: Path) -> Served:
    """The demo ledger with a principal of each role, served on the documented clock."""
    from datetime import datetime

    from cli.demo import add_demo_principals, run_demo
    from ledger.clock import FixedClock
    from ledger.integrity.checkpoint import Signer

    path = folder / "demo.db"
    run_demo(path, replace=True)
    key = folder / "server.key"
    signer = Signer.generate("demo-server")
    key.write_text(signer.format(), encoding="utf-8")
    from ledger.application import MissionLedger
    from ledger.integrity.audit import LedgerAuditor

    app = MissionLedger(str(path))
    LedgerAuditor(app.ledger_recorder).sign_checkpoint(signer, datetime.fromisoformat(CLOCK))
    app.close()
    tokens = add_demo_principals(path, clock=FixedClock(datetime.fromisoformat(CLOCK)))
    # The documented answers name positions: the round is left unsealed (a seal would take one).
    env = {"MISSION_LEDGER_CLOCK": CLOCK, "MISSION_LEDGER_KEY": str(key), "MISSION_LEDGER_SEAL": "off"}
    served = Served(str(path), folder, env=env)
    served.tokens = {TOKEN_NAMES[name]: token for name, _, token, _ in tokens}
    return served


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    served = demo_service(tmp_path_factory.mktemp("api-docs")).start()
    yield served
    served.stop()


def test_every_documented_example_gets_the_answer_shown(demo: Served) -> None:
    text = DOC.read_text(encoding="utf-8")
    found = examples(text)
    assert len(found) >= 20
    for example in found:
        answer = send(example, demo.url, demo.tokens)
        if isinstance(answer, tuple):
            status, headers, body = answer
        else:
            status, headers, body = answer.status_code, dict(answer.headers), answer.text
        where = example.command.splitlines()[0]
        assert status == example.status, f"{where}: {status} {body[:500]}"
        lowered = {k.lower(): v for k, v in headers.items()}
        for name, value in example.headers.items():
            assert lowered.get(name.lower(), "").startswith(value.rstrip("…")), (
                f"{where}: {name}: {lowered.get(name.lower())}"
            )
        try:
            shown = json.loads(example.body)
        except ValueError:
            assert text_matches(example.body, body), f"{where}:\n{body}"
            continue
        assert matches(shown, json.loads(body)), (
            f"{where}:\n{json.dumps(json.loads(body), ensure_ascii=False, indent=2)[:3000]}"
        )


def test_every_route_of_the_service_has_an_example() -> None:
    import re

    text = DOC.read_text(encoding="utf-8")
    commands = " ".join(e.command for e in examples(text))
    for route in (
        r"/healthz", r"/records/\d+/[\w-]+\?", r"/records/\d+/[\w-]+/history", r"/records/\d+/[\w-]+/record",
        r"/records/\d+/[\w-]+/correct", r"/as-of", r"/changes", r"/reports/completeness", r"/imports",
        r"/feed\?", r"/feed/stream", r"-X POST \"\$URL/api/v1/checkpoints\"", r"/checkpoints/latest",
        r"/proofs/inclusion/", r"/proofs/consistency", r"/laos", r"/missions", r"/schema", r"/openapi.json",
    ):  # fmt: skip
        assert re.search(route, commands), f"docs/api.md has no example of {route}"
