"""The HTTP API, tested as its users meet it: a real `mission-ledger serve` process on SQLite and on
PostgreSQL, talked to over HTTP. Every role × every endpoint × in scope and out of it answers the
status DESIGN §10 gives, and a refused request appends nothing."""

from __future__ import annotations

import base64
import io
import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import examples
from tests.support.served import IN_LAO, OUT_LAO, PRINCIPALS, Served, keyed_service

ROLES = (*PRINCIPALS, None, "revoked")


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with keyed_service(request.param, tmp_path_factory.mktemp(f"served-{request.param}")) as server:
        yield server


_staff = itertools.count(100)


def _write(lao: str) -> tuple[str, str, dict[str, Any]]:
    return "POST", f"/records/{lao}/INF-01/correct", {"json": {"set": {"staff": next(_staff)}, "reason": "matrix"}}


def _upload(lao: str) -> dict[str, Any]:
    text = f"lao_code,mission_code,status,effective_from\n{lao},INF-03,operating,2567-10-01\n"
    return {"files": {"file": ("mine.csv", io.BytesIO(text.encode()), "text/csv")}}


# endpoint → (method, path, request options), and the status each principal gets.
A, P, C, AU, FD, FD82 = "boss", "krabi", "clerk", "audit", "feeder", "feeder82"
ENDPOINTS: dict[str, tuple[Any, dict[str | None, int]]] = {
    "record, own LAO": (lambda: ("GET", f"/records/{IN_LAO}/INF-01", {}), {A: 200, P: 200, C: 200, AU: 200}),
    "record, other province": (lambda: ("GET", f"/records/{OUT_LAO}/INF-01", {}), {A: 200, AU: 200}),
    "history, own LAO": (lambda: ("GET", f"/records/{IN_LAO}/INF-01/history", {}), {A: 200, P: 200, C: 200, AU: 200}),
    "history, other province": (lambda: ("GET", f"/records/{OUT_LAO}/INF-01/history", {}), {A: 200, AU: 200}),
    "write, own LAO": (lambda: _write(IN_LAO), {A: 201, P: 201, C: 201}),
    "write, LAO of Krabi not the clerk's": (lambda: _write("6810104"), {A: 201, P: 201}),
    "write, other province": (lambda: _write(OUT_LAO), {A: 201}),
    "as-of, province 81": (lambda: ("GET", "/as-of?province=81", {}), {A: 200, P: 200, AU: 200}),
    "as-of, province 82": (lambda: ("GET", "/as-of?province=82", {}), {A: 200, AU: 200}),
    "as-of, own LAO": (lambda: ("GET", f"/as-of?lao={IN_LAO}", {}), {A: 200, P: 200, C: 200, AU: 200}),
    "as-of, no scope": (lambda: ("GET", "/as-of", {}), {A: 200, P: 200, C: 200, AU: 200}),
    "changes, province 81": (lambda: ("GET", "/changes?since=2567-10-01&province=81", {}), {A: 200, P: 200, AU: 200}),
    "changes, province 82": (lambda: ("GET", "/changes?since=2567-10-01&province=82", {}), {A: 200, AU: 200}),
    "completeness, province 81": (lambda: ("GET", "/reports/completeness?province=81", {}), {A: 200, P: 200, AU: 200}),
    "completeness, district of 82": (lambda: ("GET", "/reports/completeness?district=8201", {}), {A: 200, AU: 200}),
    "feed, province 81": (lambda: ("GET", "/feed?province=81", {}), {A: 200, AU: 200, FD: 200}),
    "feed, province 82": (lambda: ("GET", "/feed?province=82", {}), {A: 200, AU: 200, FD: 200, FD82: 200}),
    "feed, everything": (lambda: ("GET", "/feed", {}), {A: 200, AU: 200, FD: 200, FD82: 200}),
    "checkpoint, latest": (lambda: ("GET", "/checkpoints/latest", {}), {A: 200, AU: 200, FD: 200, FD82: 200}),
    # A hash tile holds hashes, as a proof does; an entry bundle holds events of every province.
    "hash tile": (lambda: ("GET", "/log/tile/0/000.p/1", {}), {A: 200, AU: 200, FD: 200, FD82: 200}),
    "entry bundle": (lambda: ("GET", "/log/tile/entries/000.p/1", {}), {A: 200, AU: 200, FD: 200}),
    # Position 1 (the ledger's start) is of no province: outside integration:82's feed, and its proof too.
    "proof of inclusion": (lambda: ("GET", "/proofs/inclusion/1", {}), {A: 200, AU: 200, FD: 200}),
    "import dry run, own LAO": (lambda: ("POST", "/imports?dry_run=true", _upload(IN_LAO)), {A: 200, P: 200, C: 200}),
    "laos": (lambda: ("GET", "/laos?q=เขาคราม", {}), {A: 200, P: 200, C: 200, AU: 200, FD: 200, FD82: 200}),
    "missions": (lambda: ("GET", "/missions", {}), {A: 200, P: 200, C: 200, AU: 200, FD: 200, FD82: 200}),
    "schema": (lambda: ("GET", "/schema", {}), {A: 200, P: 200, C: 200, AU: 200, FD: 200, FD82: 200}),
}


@pytest.fixture(scope="module")
def signed(served: Served) -> Served:
    """The served ledger with one checkpoint signed (as the admin, with the server's key)."""
    with served.client("boss") as http:
        assert http.post("/checkpoints").status_code == 201
    return served


@pytest.mark.parametrize("who", ROLES, ids=lambda x: str(x))
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_every_role_gets_what_its_scope_allows_and_a_refusal_appends_nothing(
    signed: Served, endpoint: str, who: str | None
) -> None:
    make, allowed = ENDPOINTS[endpoint]
    method, path, options = make()
    expected = allowed.get(who, 403) if who not in (None, "revoked") else 401
    before = signed.size()
    with signed.client(who) as http:
        answer = http.request(method, path, **options)
    assert answer.status_code == expected, f"{who} {method} {path}: {answer.status_code} {answer.text[:300]}"
    if expected >= 400:
        assert answer.headers["content-type"] == "application/problem+json"
        problem = answer.json()
        assert problem["status"] == expected and problem["detail"]
        assert signed.size() == before, "a refused request appended"
    if expected == 401:
        assert answer.headers["www-authenticate"].startswith("Bearer")


def test_a_write_is_recorded_as_the_signed_in_principal_whatever_the_client_says(served: Served) -> None:
    with served.client("krabi") as http:
        answer = http.post(
            f"/records/{IN_LAO}/INF-02/record",
            json={"status": "operating", "effective": "1 ต.ค. 2567", "quantity": "12.50", "unit": "กิโลเมตร"},
            headers={"X-Actor": "someone-else", "X-Forwarded-User": "boss"},
        )
        assert answer.status_code == 201, answer.text
        receipt = answer.json()
        history = http.get(f"/records/{IN_LAO}/INF-02/history").json()
        shown = http.get(f"/records/{IN_LAO}/INF-02").json()
    assert history[-1]["actor"] == "krabi" and history[-1]["source"] == "http"
    assert history[-1]["position"] == receipt["positions"][0] and receipt["version"] == 1
    assert shown["quantity"] == "12.50" and shown["effective_from"] == "2024-10-01"
    # An actor in the body is not a field of any command: refused, naming it.
    with served.client("krabi") as http:
        answer = http.post(
            f"/records/{IN_LAO}/INF-02/correct", json={"set": {"note": "x"}, "reason": "r", "actor": "boss"}
        )
    assert answer.status_code == 400 and "actor" in answer.text


def test_a_stale_if_match_is_412_and_appends_nothing(served: Served) -> None:
    with served.client("clerk") as http:
        current = http.get(f"/records/{IN_LAO}/INF-01")
        version = int(current.headers["etag"].strip('"'))
        before = served.size()
        stale = http.post(
            f"/records/{IN_LAO}/INF-01/change",
            json={"set": {"note": "new"}, "effective": "2568-01-01", "reason": "late"},
            headers={"If-Match": f'"{version - 1}"'},
        )
        assert stale.status_code == 412, stale.text
        assert served.size() == before
        fresh = http.post(
            f"/records/{IN_LAO}/INF-01/change",
            json={"set": {"note": "new"}, "effective": "2568-01-01", "reason": "late"},
            headers={"If-Match": f'"{version}"'},
        )
    assert fresh.status_code == 201, fresh.text
    assert fresh.json()["version"] == version + 1 and fresh.headers["etag"] == f'"{version + 1}"'


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"set": {"quantity": "12,5.0"}, "reason": "r"}, "set.quantity"),
        ({"set": {"colour": "red"}, "reason": "r"}, "set.colour"),
        ({"set": {"quantity": "1"}}, None),  # no reason
        ({"set": {"quantity": "1"}, "reason": "r", "effective": "31/02/2568"}, "effective"),
    ],
)
def test_bad_input_is_a_problem_naming_the_field_and_appends_nothing(
    served: Served, body: dict[str, Any], field: str | None
) -> None:
    before = served.size()
    with served.client("krabi") as http:
        answer = http.post(f"/records/{IN_LAO}/INF-01/correct", json=body)
    assert answer.status_code == 400, answer.text
    problem = answer.json()
    assert problem["type"].endswith("bad-input") or problem["type"].endswith("bad-request")
    if field:
        assert field in problem.get("field", "") or field in problem["detail"]
    assert served.size() == before


def test_every_bad_field_of_a_body_is_named_at_once(served: Served) -> None:
    before = served.size()
    body = {"set": {"quantity": "สิบ", "budget": "-5"}, "effective": "31/02/2568", "reason": "r"}
    with served.client("krabi") as http:
        answer = http.post(f"/records/{IN_LAO}/INF-01/change", json=body)
    assert answer.status_code == 400, answer.text
    problem = answer.json()
    assert {e["field"] for e in problem["errors"]} == {"effective", "set.quantity", "set.budget"}
    assert problem["field"] == problem["errors"][0]["field"]  # the first, as before
    assert served.size() == before


def test_a_decimal_sent_as_a_json_number_is_refused_rather_than_rounded(served: Served) -> None:
    with served.client("krabi") as http:
        answer = http.post(f"/records/{IN_LAO}/INF-01/correct", json={"set": {"budget": 0.1}, "reason": "r"})
    assert answer.status_code == 400 and "string" in answer.json()["detail"]


def test_a_token_revoked_while_in_use_fails_on_the_next_request(served: Served) -> None:
    from ledger.application import MissionLedger
    from ledger.identity import Identity

    app = MissionLedger(served.location, create_tables=False)
    issued = Identity(app).issue("audit", label="short-lived")
    headers = {"Authorization": f"Bearer {issued.token}"}
    assert httpx.get(f"{served.url}/api/v1/laos", headers=headers).status_code == 200
    Identity(app).revoke_token(issued.token_id)
    app.close()
    answer = httpx.get(f"{served.url}/api/v1/laos", headers=headers)
    assert answer.status_code == 401 and "revoked" in answer.json()["detail"]


def test_no_token_or_hash_appears_in_the_ledger_the_feed_or_the_log(served: Served) -> None:
    from ledger.identity import token_hash

    with served.client("audit") as http:
        feed = http.get("/feed?limit=5000").text
        export = http.get("/as-of", headers={"Accept": "text/csv"}).text
    from ledger.application import MissionLedger

    app = MissionLedger(served.location, create_tables=False)
    events = b"".join(e.state for e in app.ledger_recorder.iter_log())
    app.close()
    for token in served.tokens.values():
        secret, hashed = token, token_hash(token).hex()
        for where, text in (("feed", feed), ("export", export), ("log", served.log()), ("events", events.decode())):
            assert secret not in text and secret[4:20] not in text, f"a token is in the {where}"
            assert hashed not in text, f"a token's hash is in the {where}"
    assert "token_issued" in feed  # the fact is there, without the secret


def test_an_upload_by_a_province_officer_dry_run_then_real_and_another_province_refused(served: Served) -> None:
    rows = (
        "lao_code,mission_code,status,effective_from,quantity,unit\n"
        "6810104,INF-03,operating,1/10/2567,3,แห่ง\n"
        "6810105,INF-03,operating,1/10/2567,4,แห่ง\n"
    )
    with served.client("krabi") as http:
        before = served.size()
        dry = http.post("/imports?dry_run=true", files={"file": ("krabi.csv", rows.encode(), "text/csv")})
        assert dry.status_code == 200, dry.text
        assert dry.json()["kinds"] == {"recorded": 2} and len(dry.json()["plans"]) == 2
        assert served.size() == before
        real = http.post("/imports", files={"file": ("krabi.csv", rows.encode(), "text/csv")})
        assert real.status_code == 201, real.text
        assert real.json()["appended"] == 3 and served.size() == before + 3  # two records and the batch
        mixed = rows.replace("6810105", OUT_LAO).replace("INF-03", "INF-04")
        refused = http.post("/imports", files={"file": ("mixed.csv", mixed.encode(), "text/csv")})
    report = refused.json()
    assert refused.status_code == 200 and report["appended"] == 0 and served.size() == before + 3
    assert [e["row"] for e in report["errors"]] == [3] and "may not write" in report["errors"][0]["why"]


def test_an_upload_over_the_limit_is_413(served: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    from ledger.domain.limits import MAX_UPLOAD_BYTES

    big = b"lao_code,mission_code\n" + b"x" * (MAX_UPLOAD_BYTES + 1024)
    with served.client("krabi") as http:
        answer = http.post("/imports?dry_run=true", files={"file": ("big.csv", big, "text/csv")})
    assert answer.status_code == 413


def test_proofs_over_http_check_with_verify_proof(signed: Served, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cli.main import cli

    with signed.client("audit") as http:
        note = http.get("/checkpoints/latest").text
        size = int(note.splitlines()[1])
        proof = http.get(f"/proofs/inclusion/3?size={size}")
        assert proof.status_code == 200, proof.text
    path = tmp_path / "3.proof"
    path.write_text(proof.text, encoding="utf-8")
    result = CliRunner().invoke(cli, ["verify-proof", str(path), "--no-signature"])
    assert result.exit_code == 0, result.output
    doc = json.loads(proof.text)
    state = bytearray(base64.b64decode(doc["event"]["state"]))
    state[-2] ^= 1  # one bit of the event changed: the proof must no longer hold
    doc["event"]["state"] = base64.b64encode(bytes(state)).decode()
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert CliRunner().invoke(cli, ["verify-proof", str(path), "--no-signature"]).exit_code != 0


def test_the_openapi_document_validates_and_lists_every_route(served: Served) -> None:
    from openapi_spec_validator import validate

    doc = httpx.get(f"{served.url}/api/v1/openapi.json").json()
    validate(doc)
    paths = set(doc["paths"])
    for route in (
        "/api/v1/records/{lao}/{mission}",
        "/api/v1/records/{lao}/{mission}/history",
        *(
            f"/api/v1/records/{{lao}}/{{mission}}/{c}"
            for c in ("record", "correct", "change", "cancel", "reinstate", "void")
        ),
        "/api/v1/accounts",
        *(f"/api/v1/accounts/{{name}}/{c}" for c in ("grant", "revoke", "rename", "disable", "link")),
        "/api/v1/as-of",
        "/api/v1/changes",
        "/api/v1/reports/completeness",
        "/api/v1/imports",
        "/api/v1/feed",
        "/api/v1/feed/stream",
        "/api/v1/checkpoints/latest",
        "/api/v1/checkpoints",
        "/api/v1/proofs/inclusion/{seq}",
        "/api/v1/proofs/consistency",
        "/api/v1/laos",
        "/api/v1/missions",
        "/api/v1/schema",
        "/healthz",
    ):
        assert route in paths, f"the OpenAPI document lacks {route}"


def test_healthz_needs_no_token(served: Served) -> None:
    answer = httpx.get(f"{served.url}/healthz")
    assert answer.status_code == 200 and answer.json()["status"] == "ok"


def test_the_access_log_names_the_principal_route_and_status(served: Served) -> None:
    with served.client("clerk") as http:
        http.get(f"/records/{IN_LAO}/INF-01")
    lines = [line for line in served.log().splitlines() if "principal=clerk" in line]
    assert any(f"path=/api/v1/records/{IN_LAO}/INF-01 status=200" in line for line in lines), served.log()[-2000:]


def test_the_readmes_feed_consumer_applies_each_event_once_in_order(served: Served) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    block = readme.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, Any] = {}
    exec(block, namespace)

    class Done(Exception):
        pass

    applied: list[int] = []
    want = min(served.size(), 60)

    def apply(event: dict[str, Any]) -> None:
        applied.append(int(event["sequence"]))
        if len(applied) == want:
            raise Done

    with pytest.raises(Done):
        namespace["follow"](served.url, served.tokens["feeder"], apply)
    assert applied == list(range(1, want + 1))


@settings(max_examples=examples(12), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    limit=st.integers(1, 7),
    where=st.sampled_from(
        [
            {},
            {"lao": IN_LAO},
            {"province": "82"},
            {"type": ["recorded"]},
            {"lao": OUT_LAO, "type": ["recorded", "corrected"]},
        ]
    ),
)
def test_following_next_gives_exactly_the_filtered_events_each_once(
    served: Served, limit: int, where: dict[str, Any]
) -> None:
    with served.client("audit") as http:
        everything = http.get("/feed", params={"after": 0, "limit": 5000, **where}).json()
        seen: list[str] = []
        url = f"/feed?{httpx.QueryParams({'after': 0, 'limit': limit, **where})}"  # then only `next`
        for _ in range(500):
            answer = http.get(url.removeprefix("/api/v1"))
            assert answer.status_code == 200, answer.text
            page = answer.json()
            assert len(page) <= limit
            seen += [e["sequence"] for e in page]
            if not page:
                break
            url = answer.headers["link"].split(">", 1)[0].lstrip("<").removeprefix("/api/v1")
    assert seen == [e["sequence"] for e in everything]  # the filter's events, in order, each once


def test_if_match_compares_strongly_and_takes_lists_and_any(served: Served) -> None:
    with served.client("clerk") as http:
        version = int(http.get(f"/records/{IN_LAO}/INF-01").headers["etag"].strip('"'))
        write = lambda tag, staff: http.post(  # noqa: E731
            f"/records/{IN_LAO}/INF-01/correct",
            json={"set": {"staff": str(staff)}, "reason": "etag"},
            headers={"If-Match": tag},
        )
        before = served.size()
        assert write(f'W/"{version}"', 70).status_code == 412  # a weak tag never matches
        assert write(f'"{version + 5}", "{version + 9}"', 71).status_code == 412
        assert served.size() == before
        assert write(f'"{version + 5}", "{version}"', 72).status_code == 201  # one of the list
        assert write("*", 73).status_code == 201  # any version: the record exists
        created = http.post(
            f"/records/{IN_LAO}/QOL-03/record",
            json={"status": "operating", "effective": "2567-10-01"},
            headers={"If-Match": "*"},
        )
        assert created.status_code == 412 and served.size() == before + 2  # no record yet: * fails


def test_a_method_not_allowed_says_which_are(served: Served) -> None:
    with served.client("clerk") as http:
        answer = http.delete(f"/records/{IN_LAO}/INF-01")
    assert answer.status_code == 405 and set(answer.headers["allow"].replace(" ", "").split(",")) >= {"GET"}


def test_a_proof_between_given_sizes_may_be_kept_and_one_of_the_latest_may_not(signed: Served) -> None:
    """A proof of a given size proves the same hashes forever: a client keeps it a day (private:
    never a shared cache); one of "the latest" checkpoint changes with the ledger and says nothing."""
    with signed.client("audit") as http:
        size = int(http.get("/checkpoints/latest").text.split("\n")[1])
        kept = http.get("/proofs/inclusion/1", params={"size": size})
        assert kept.status_code == 200 and kept.headers["cache-control"] == "private, max-age=86400"
        assert "cache-control" not in http.get("/proofs/inclusion/1").headers
        both = http.get("/proofs/consistency", params={"old": size, "new": size})
        assert both.status_code == 200 and both.headers["cache-control"] == "private, max-age=86400"
        assert "cache-control" not in http.get("/proofs/consistency", params={"old": size}).headers
        # Kept, then asked again with its tag: still the same proof.
        again = http.get("/proofs/inclusion/1", params={"size": size}, headers={"If-None-Match": kept.headers["etag"]})
        assert again.status_code == 304 and again.headers["cache-control"] == "private, max-age=86400"


def test_a_get_answered_before_is_a_304_when_nothing_changed(signed: Served) -> None:
    """Conditional GET (RFC 9110): every complete answer of the API gets a strong ETag, and the same
    request with If-None-Match naming it is 304 without a body — until the answer changes."""
    with signed.client("audit") as http:
        first = http.get("/checkpoints/latest")
        assert first.status_code == 200 and first.headers["etag"].startswith('"')
        tag = first.headers["etag"]
        again = http.get("/checkpoints/latest", headers={"If-None-Match": tag})
        assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == tag
        assert http.get("/checkpoints/latest", headers={"If-None-Match": f'"x", W/{tag}'}).status_code == 304
        assert http.get("/checkpoints/latest", headers={"If-None-Match": '"other"'}).status_code == 200
        report = http.get("/reports/completeness", params={"province": "81", "known_at": "2567-12-30"})
        assert http.get("/reports/completeness", params={"province": "81", "known_at": "2567-12-30"},
                        headers={"If-None-Match": report.headers["etag"]}).status_code == 304  # fmt: skip
    # A record keeps its own tag, its version (what If-Match names on the next write).
    with signed.client("krabi") as http:
        record = http.get(f"/records/{IN_LAO}/INF-01")
        assert record.headers["etag"] == f'"{record.json()["version"]}"'
    # The answer changes: the old tag no longer matches.
    with signed.client("boss") as http:
        with signed.client("krabi") as writer:
            writer.post(f"/records/{IN_LAO}/INF-01/correct", json={"set": {"staff": str(next(_staff))}, "reason": "r"})
        assert http.post("/checkpoints").status_code == 201
        assert http.get("/checkpoints/latest", headers={"If-None-Match": tag}).status_code == 200
