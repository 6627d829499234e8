"""The pages' trust rules over plain HTTP, against a real `serve` process on both backends: who a
session is comes from the store, never from what the browser sends; every form needs its CSRF
secret; a sign-in link works once (also when two browsers race with it); signing out, revoking
the token or a role ends what the session may do at once; no redirect leaves the site; nothing
secret reaches the access log; text from the ledger is escaped."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import date

import httpx
import pytest

from ledger.application import MissionLedger
from ledger.identity import Identity
from ledger.rounds import Rounds
from tests.support.served import IN_LAO, ROOT, Served, ledger_location, seed

pytestmark = pytest.mark.slow


class Pages:
    def __init__(self, served: Served) -> None:
        self.served = served

    def browser(self) -> httpx.Client:
        return httpx.Client(base_url=self.served.url, timeout=30, follow_redirects=False)

    def sign_in(self, token: str, client: httpx.Client | None = None) -> httpx.Client:
        client = client or self.browser()
        form = client.get("/signin")
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert csrf is not None
        answer = client.post("/signin", data={"csrf": csrf[1], "token": token, "next": "/"})
        assert answer.status_code == 303, answer.text
        return client

    def csrf(self, client: httpx.Client, path: str) -> str:
        found = re.search(r'name="csrf" value="([^"]+)"', client.get(path).text)
        assert found is not None
        return found[1]

    def issue(self, name: str, *, link: bool = False) -> tuple[str, str]:
        app = MissionLedger(self.served.location, actor="test")
        try:
            issued = Identity(app).issue(name, one_time=link)
            return issued.token, issued.token_id
        finally:
            app.close()

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cli.main", "--db", self.served.location, *args],
            cwd=ROOT, capture_output=True, text=True, check=False,
        )  # fmt: skip


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def pages(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pages]:
    folder = tmp_path_factory.mktemp(f"pages-{request.param}")
    with ledger_location(request.param, folder) as location:
        tokens = seed(location)
        app = MissionLedger(location, actor="seed")
        Rounds(app).open("r1", date(2024, 10, 1), date(2099, 12, 30))
        app.close()
        served = Served(location, folder, workers=2 if request.param == "postgres" else 1).start()
        served.tokens = tokens
        yield Pages(served)
        served.stop()


def write_form(pages: Pages, client: httpx.Client, csrf: str | None, lao: str = IN_LAO) -> httpx.Response:
    data = {"command": "correct", "mission": "INF-01", "staff": "9", "reason": "ทดสอบ"}
    if csrf is not None:
        data["csrf"] = csrf
    return client.post(f"/lao/{lao}/write", data=data)


def test_a_form_without_its_csrf_secret_does_nothing(pages: Pages) -> None:
    clerk = pages.sign_in(pages.served.tokens["clerk"])
    size = pages.served.size()
    assert write_form(pages, clerk, None).status_code == 403
    assert write_form(pages, clerk, "forged-" + "x" * 40).status_code == 403
    # Another person's CSRF secret does not fit this session.
    other = pages.sign_in(pages.served.tokens["krabi"])
    assert write_form(pages, clerk, pages.csrf(other, "/province/81")).status_code == 403
    # Sign-out, too, needs the secret (a cross-site page cannot sign anyone out).
    assert clerk.post("/signout").status_code == 403
    assert pages.served.size() == size
    answer = write_form(pages, clerk, pages.csrf(clerk, f"/lao/{IN_LAO}"))
    assert answer.status_code == 303 and answer.headers["location"].startswith("/receipt/")
    assert pages.served.size() == size + 1


def test_signing_in_needs_the_pre_session_secret(pages: Pages) -> None:
    client = pages.browser()
    # A sign-in form posted from elsewhere (no pre-session cookie) is refused.
    answer = client.post("/signin", data={"csrf": "x" * 43, "token": pages.served.tokens["clerk"]})
    assert answer.status_code == 403 and "ml_session" not in answer.cookies


def test_the_session_cookie_is_httponly_samesite_and_holds_no_token(pages: Pages) -> None:
    client = pages.browser()
    form = client.get("/signin")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf is not None
    token = pages.served.tokens["clerk"]
    answer = client.post("/signin", data={"csrf": csrf[1], "token": token})
    cookie = next(v for k, v in answer.headers.multi_items() if k == "set-cookie" and v.startswith("ml_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax") and "Path=/" in cookie
    assert token not in cookie
    assert answer.headers["location"] == f"/lao/{IN_LAO}"
    page = client.get(f"/lao/{IN_LAO}")
    assert page.status_code == 200
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"


def test_a_sign_in_link_works_once_even_when_two_browsers_race(pages: Pages) -> None:
    token, token_id = pages.issue("krabi", link=True)
    results: list[int] = []

    def exchange() -> None:
        client = pages.browser()
        form = client.get("/signin")
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert csrf is not None
        barrier.wait()
        results.append(client.post("/signin", data={"csrf": csrf[1], "token": token}).status_code)

    barrier = threading.Barrier(4)
    threads = [threading.Thread(target=exchange) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [303, 401, 401, 401], results
    listed = pages.cli("token", "list", "krabi", "--json")
    assert f'"token_id":"{token_id}"' in listed.stdout
    # The link's token is revoked, by its holder, with the reason, in the ledger.
    history = MissionLedger(pages.served.location, create_tables=False)
    events = history.stream("principal/krabi")
    history.close()
    revoked = [e for e in events if getattr(e, "token_id", None) == token_id and e.reason]
    assert revoked and revoked[0].reason == "sign-in link used" and revoked[0].actor == "krabi"
    # The link cannot be used as a bearer token on the API either.
    api = httpx.get(f"{pages.served.url}/api/v1/reports/completeness", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 401


def test_signing_out_ends_the_session_for_every_worker(pages: Pages) -> None:
    client = pages.sign_in(pages.served.tokens["krabi"])
    stolen = client.cookies.get("ml_session")
    assert client.get("/province/81").status_code == 200
    assert client.post("/signout", data={"csrf": pages.csrf(client, "/province/81")}).status_code == 303
    replay = pages.browser()
    replay.cookies.set("ml_session", stolen or "")
    for _ in range(4):  # every worker answers the same
        answer = replay.get("/province/81")
        assert answer.status_code == 303 and answer.headers["location"].startswith("/signin")


def test_revoking_the_token_or_a_role_bites_the_open_session_at_once(pages: Pages) -> None:
    token, token_id = pages.issue("krabi")
    client = pages.sign_in(token)
    assert client.get("/province/81").status_code == 200
    assert pages.cli("token", "revoke", token_id).returncode == 0
    assert client.get("/province/81").status_code == 303
    # A role taken away: the same session is refused the province on its next request.
    pages.cli("principal", "add", "temp.officer", "--role", "province:81")
    token, _ = pages.issue("temp.officer")
    client = pages.sign_in(token)
    assert client.get("/province/81").status_code == 200
    assert pages.cli("principal", "revoke", "temp.officer", "province:81").returncode == 0
    assert client.get("/province/81").status_code == 403


def test_no_redirect_leaves_the_site(pages: Pages) -> None:
    client = pages.browser()
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)", "evil"):
        answer = client.get("/lang/en", params={"next": target})
        assert answer.headers["location"] == "/", target
    signed = pages.browser()
    form = signed.get("/signin")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf is not None
    answer = signed.post(
        "/signin", data={"csrf": csrf[1], "token": pages.served.tokens["clerk"], "next": "//evil.example"}
    )
    assert answer.headers["location"] == f"/lao/{IN_LAO}"


def test_nothing_secret_reaches_the_access_log(pages: Pages) -> None:
    token, _ = pages.issue("clerk", link=True)
    client = pages.sign_in(token)
    session = client.cookies.get("ml_session") or ""
    csrf = pages.csrf(client, f"/lao/{IN_LAO}")
    log = pages.served.log()
    for secret in (token, session, csrf, pages.served.tokens["clerk"]):
        assert secret and secret not in log
    assert "principal=clerk method=GET path=/lao/" in log


def test_text_from_the_ledger_is_escaped_in_the_pages(pages: Pages) -> None:
    clerk = pages.sign_in(pages.served.tokens["clerk"])
    data = {"command": "correct", "mission": "INF-01", "note": "<script>alert(1)</script>", "reason": '"><img src=x onerror=alert(1)>',
            "csrf": pages.csrf(clerk, f"/lao/{IN_LAO}")}  # fmt: skip
    assert clerk.post(f"/lao/{IN_LAO}/write", data=data).status_code == 303
    history = clerk.get(f"/record/{IN_LAO}/INF-01").text
    assert "<script>alert(1)</script>" not in history and "&lt;script&gt;alert(1)&lt;/script&gt;" in history
    assert "<img src=x" not in history


def test_pages_answer_in_thai_and_the_api_is_untouched(pages: Pages) -> None:
    client = pages.browser()
    signin = client.get("/signin")
    assert signin.headers["content-type"].startswith("text/html") and '<html lang="th">' in signin.text
    assert client.get("/province/81").headers["location"].startswith("/signin?next=/province/81")
    # The API still speaks problem documents, with no cookie involved.
    api = httpx.get(f"{pages.served.url}/api/v1/reports/completeness")
    assert api.status_code == 401 and api.headers["content-type"].startswith("application/problem+json")
    # The static assets come from the service itself, with their licences.
    for path in (
        "/static/vendor/htmx-2.0.11.min.js",
        "/static/vendor/htmx.LICENSE",
        "/static/fonts/sarabun-thai-400-normal.woff2",
    ):
        assert client.get(path).status_code == 200, path
    assert client.get("/static/../pyproject.toml").status_code == 404


def test_a_clerk_is_offered_every_mission_the_catalogs_rule_gives_her_lao(pages: Pages) -> None:
    from ledger.domain.catalog import parse_catalog
    from ledger.domain.registry import read_csv_text
    from tests.conftest import package_data

    catalog = parse_catalog(read_csv_text(package_data("sample_catalog.csv"), name="c"), name="c")
    clerk = pages.sign_in(pages.served.tokens["clerk"])
    page = clerk.get(f"/lao/{IN_LAO}", params={"command": "record"}).text
    offered = set(re.findall(r'<option value="([A-Z]+-[0-9]+)">', page))
    reported = set(re.findall(r'<option value="([A-Z]+-[0-9]+)" disabled>', page))
    # อบต. (sao): the missions for sao, and every mission that names no type; those reported are
    # shown, marked, and cannot be chosen to record again.
    due = {m.mission_code for m in catalog if m.applies("sao")} - {"INF-01"}
    assert offered == due, (sorted(due - offered), sorted(offered - due))
    assert reported == {"INF-01"}
    # Grouped by the catalog's areas, in Thai.
    assert '<optgroup label="ด้านโครงสร้างพื้นฐาน">' in page
    assert any(not m.applies_to for m in catalog if m.mission_code in offered)


def test_a_district_officer_reads_and_chases_her_districts_laos_and_nothing_more(pages: Pages) -> None:
    """district:DDDD (issue 24): the district's local-government officer reads its LAOs' records
    and its completeness — her home is the district's page — and writes nothing, reads no other
    district and not the whole province; her own scope is the API's default."""
    from ledger.errors import BadInput, NotFound

    app = MissionLedger(pages.served.location, actor="test")
    identity = Identity(app)
    name = f"amphoe.{id(pages)}"
    identity.add(name, ["district:8101"], "ท้องถิ่นอำเภอเมืองกระบี่")
    token = identity.issue(name).token
    with pytest.raises(NotFound):  # a role names only places the registry has
        identity.grant(name, "lao:6810199")
    with pytest.raises(BadInput, match="no province"):
        identity.grant(name, "district:9901")
    app.close()
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=f"{pages.served.url}/api/v1", headers=headers, timeout=30) as api:
        assert api.get(f"/records/{IN_LAO}/INF-01").status_code == 200  # 6810103, district 8101
        assert api.get("/records/6820101/INF-01").status_code == 403  # Phang Nga
        wrote = api.post(f"/records/{IN_LAO}/INF-01/correct", json={"set": {"staff": "9"}, "reason": "x"})
        assert wrote.status_code == 403
        mine = api.get("/reports/completeness")  # her district by default
        assert mine.status_code == 200, mine.text
        assert {x["district_code"] for x in mine.json()["laos"]} == {"8101"}
        assert api.get("/reports/completeness", params={"province": "81"}).status_code == 403
        assert api.get("/reports/completeness", params={"district": "8102"}).status_code == 403
    person = pages.sign_in(token)
    home = person.get("/")
    assert home.status_code in (302, 303) and home.headers["location"] == "/district/8101"
    page = person.get("/district/8101")
    assert page.status_code == 200 and "อำเภอเมืองกระบี่" in page.text and "จังหวัดกระบี่" in page.text
    assert f'href="/lao/{IN_LAO}"' in page.text
    assert person.get("/district/8102").status_code == 403
    assert person.get("/province/81").status_code == 403
    assert person.get(f"/lao/{IN_LAO}").status_code == 200
    assert person.get("/lao/6810202").status_code == 403  # an LAO of district 8102


def test_a_province_officer_keeps_her_clerks_accounts_through_the_api(pages: Pages) -> None:
    """POST /api/v1/accounts and its changes (issue 24): the officer adds a clerk of her province
    and hands a one-time link (shown once, never cached); everything beyond her province, an admin's
    role or another's account is 403 and appends nothing; a clerk manages no one."""
    served = pages.served
    name = f"aonang.{served.port}"
    with served.client("krabi") as api:
        added = api.post("/accounts", json={"name": name, "roles": ["lao:6810104"], "display_name": "เจ้าหน้าที่"})
        assert added.status_code == 201, added.text
        assert added.json()["roles"] == ["lao:6810104"]
        size = served.size()
        for body in ({"name": "x1", "roles": ["lao:6820101"]}, {"name": "x2", "roles": ["admin"]},
                     {"name": "x3", "roles": ["auditor"]}, {"name": "x4", "roles": ["province:81"]}):  # fmt: skip
            assert api.post("/accounts", json=body).status_code == 403, body
        assert api.post(f"/accounts/{name}/grant", json={"role": "admin"}).status_code == 403
        # A name or a role of the wrong form is refused in the application's words, naming the field.
        wrong = api.post("/accounts", json={"name": "Somchai K", "roles": ["lao:6810104"]})
        assert wrong.status_code == 400 and "principal name 'Somchai K' must be" in wrong.json()["detail"]
        wrong = api.post(f"/accounts/{name}/grant", json={"role": "chief"})
        assert wrong.status_code == 400 and "chief" in wrong.json()["detail"] and "regex" not in wrong.json()["detail"]
        assert api.post("/accounts/boss/disable").status_code == 403  # the admin's own account
        assert api.post("/accounts/clerk/grant", json={"role": "lao:6810105"}).status_code == 200
        assert served.size() == size + 1  # only the grant to a clerk of her province
        renamed = api.post(f"/accounts/{name}/rename", json={"display_name": "นางสาวสมใจ ใจดี"})
        assert renamed.status_code == 200 and renamed.json()["display_name"] == "นางสาวสมใจ ใจดี"
        assert api.post("/accounts/boss/rename", json={"display_name": "x"}).status_code == 403
        link = api.post(f"/accounts/{name}/link")
        assert link.status_code == 201 and link.headers["cache-control"] == "no-store"
        assert link.json()["link"].startswith(f"{served.url}/signin#link=mlt_")
        listed = api.get("/accounts").json()
        assert name in {a["name"] for a in listed} and "boss" not in {a["name"] for a in listed}
        assert api.get("/accounts", params={"province": "82"}).status_code == 403
    with served.client("clerk") as api:
        assert api.post("/accounts", json={"name": "x5", "roles": ["lao:6810103"]}).status_code == 403
    # Closed, the account's link signs no one in.
    token = link.json()["link"].split("#link=", 1)[1]
    with served.client("krabi") as api:
        closed = api.post(f"/accounts/{name}/disable", json={"reason": "ย้ายงาน"})
        assert closed.status_code == 200 and closed.json()["roles"] == []
    person = pages.browser()
    answer = person.post("/signin", data={"csrf": pages.csrf(person, "/signin"), "token": token})
    assert answer.status_code != 303, answer.headers
