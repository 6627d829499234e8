"""The web pages in a real browser (Debian's chromium, Thai fonts), as people use them: a Krabi
officer and an LAO clerk, an auditor checking history and a proof in the browser; every form's
refusals in Thai beside the field; axe-core, keyboard use, and no overflow at 1366×768 and 390 px.

One served demo ledger (the Krabi 2567 round, deadline 30 Dec 2567 BE, with late corrections)
for the module, plus a clerk of an LAO that has not reported and a signed checkpoint."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import WIDTHS, axe_problems, launch, overflow, screenshots_folder
from tests.support.served import Served, free_port

playwright_api = pytest.importorskip("playwright.sync_api", reason="install the test extra: pip install -e '.[test]'")
from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402

pytestmark = pytest.mark.slow
QUIET = "6810104"  # an LAO of Krabi with no record in the demo


class Site:
    """The served demo with its people's tokens, sign-in links and checkpoint key."""

    def __init__(self, served: Served, tokens: dict[str, str], links: dict[str, str], key: str) -> None:
        self.served, self.tokens, self.links, self.key = served, tokens, links, key
        self.witness_key = ""

    @property
    def url(self) -> str:
        return self.served.url

    def size(self) -> int:
        return self.served.size()

    def link(self, name: str) -> str:
        """A fresh one-time sign-in link (each works once)."""
        from ledger.application import MissionLedger
        from ledger.identity import Identity

        app = MissionLedger(self.served.location, actor="test")
        try:
            token = Identity(app).issue(name, one_time=True).token
        finally:
            app.close()
        return f"{self.url}/signin#link={token}"

    def checkpoint(self) -> str:
        from ledger.application import MissionLedger

        app = MissionLedger(self.served.location, create_tables=False)
        try:
            return max(app.ledger_recorder.checkpoints(), key=lambda c: c[0])[2]  # the latest, not the seal
        finally:
            app.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    from cli.demo import add_demo_principals, run_demo
    from ledger.application import MissionLedger
    from ledger.identity import Identity
    from ledger.integrity.audit import LedgerAuditor
    from ledger.integrity.checkpoint import Signer
    from ledger.integrity.witness import Witness, with_cosignatures

    folder = tmp_path_factory.mktemp("pages")
    path = folder / "demo.db"
    run_demo(path, replace=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    people = add_demo_principals(path, link_base=base)
    tokens = {name: token for name, _, token, _ in people}
    links = {name: link for name, _, _, link in people if link}
    app = MissionLedger(str(path), actor="test")
    identity = Identity(app)
    identity.add("khaothong.clerk", [f"lao:{QUIET}"], "เจ้าหน้าที่ อบต.เขาทอง")
    tokens["khaothong.clerk"] = identity.issue("khaothong.clerk").token
    signer = Signer.generate("krabi-ppao")
    from ledger.rounds import Rounds

    Rounds(app).seal("fy2568", signer)  # its deadline (30 Dec 2567) has passed: the round's seal
    # The latest checkpoint, cosigned by Krabi's witness (its cosignature line, as a witness answers).
    witness = Witness.generate("witness.krabi.example")
    LedgerAuditor(app.ledger_recorder).sign_checkpoint(
        signer, datetime.now().astimezone(),
        cosign=lambda note: with_cosignatures(note, [witness.cosign(note.split("\n\n")[0] + "\n", 1_733_300_000)]),
    )  # fmt: skip
    app.close()
    served = Served(str(path), folder).start(port=port)
    site = Site(served, tokens, links, signer.verifier().format())
    site.witness_key = witness.key.format()
    yield site
    served.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_playwright() as p:
        found = launch(p)
        yield found
        found.close()


@pytest.fixture
def person(browser: Any) -> Iterator[Any]:
    """A new browser profile (its own cookies) at desktop size; more pages from it share them."""
    context = browser.new_context(viewport=WIDTHS["desktop"], locale="th-TH")
    yield context
    context.close()


def settled(page: Page) -> None:
    """Wait until htmx has no request, swap or settle under way."""
    page.wait_for_timeout(50)
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-settling, .htmx-swapping')")


def choose(page: Page, label: str, value: str) -> None:
    """Choose in a select that htmx swaps the form on, once the last swap has settled."""
    settled(page)
    page.get_by_label(label, exact=True).select_option(value)
    settled(page)


def sign_in_with_token(page: Page, site: Site, name: str) -> None:
    page.goto(f"{site.url}/signin")
    page.get_by_label("โทเคน").fill(site.tokens[name])
    page.get_by_role("button", name="เข้าสู่ระบบ").click()
    page.wait_for_load_state("load")


def test_a_krabi_officer_and_a_clerk_work_through_the_round(site: Site, person: Any, browser: Any) -> None:
    officer = person.new_page()
    # The officer opens the sign-in link from the DLA's message: the token rides in the fragment.
    officer.goto(site.links["krabi.officer"])
    expect(officer.locator("#link-ready")).to_be_visible()
    officer.get_by_role("button", name="เข้าสู่ระบบ").click()
    expect(officer).to_have_url(re.compile(r"/province/81$"))
    expect(officer.get_by_role("heading", level=1)).to_contain_text("ความครบถ้วนของการรายงาน จังหวัดกระบี่")
    expect(officer.locator("main")).to_contain_text("ข้อมูลที่ทราบ ณ 30 ธ.ค. 2567 23:59 น.")
    cards = officer.locator(".card .n")
    expect(cards.nth(0)).to_have_text("62")
    expect(cards.nth(3)).to_have_text("59")  # no records by the deadline
    chase = officer.locator("table[aria-labelledby=to-chase] tbody tr")
    expect(chase).to_have_count(59)
    late_before = officer.locator("table[aria-labelledby=late] tbody tr").count()
    # Opening the link again fails: it was used.
    again = browser.new_context().new_page()
    again.goto(site.links["krabi.officer"])
    again.get_by_role("button", name="เข้าสู่ระบบ").click()
    expect(again.locator("#signin-error")).to_contain_text("ลิงก์เข้าสู่ระบบนี้ถูกใช้ไปแล้ว")
    again.context.close()

    chase.filter(has_text=QUIET).get_by_role("link").click()
    expect(officer).to_have_url(re.compile(rf"/lao/{QUIET}$"))
    expect(officer.locator("main")).to_contain_text("อปท. นี้ยังไม่ได้บันทึกภารกิจใด")

    # The LAO's clerk records its rural roads through the form, previewing first.
    clerk = browser.new_context(viewport=WIDTHS["desktop"]).new_page()
    sign_in_with_token(clerk, site, "khaothong.clerk")
    expect(clerk).to_have_url(re.compile(rf"/lao/{QUIET}$"))
    choose(clerk, "ภารกิจ", "INF-01")
    expect(clerk.locator("#command-form input[name=mission]")).to_have_value("INF-01")
    clerk.get_by_label("สถานะ").select_option("operating")
    clerk.get_by_label("ปีงบประมาณที่รับโอน (พ.ศ.)").fill("2546")
    clerk.get_by_label("จำนวน", exact=True).fill("8.5")
    clerk.get_by_label("หน่วยนับ").fill("กิโลเมตร")
    clerk.get_by_label("งบประมาณ (บาท)").fill("950000")
    clerk.get_by_label("วันที่มีผล (วัน/เดือน/ปี พ.ศ.)").fill("1/10/2546")
    clerk.get_by_label("เหตุผล (ต้องระบุ)").fill("รายงานตามหนังสือจังหวัด")
    size = site.size()
    clerk.get_by_role("button", name="ดูตัวอย่างการเปลี่ยนแปลง").click()
    preview = clerk.locator("#preview")
    expect(preview).to_contain_text("สิ่งที่จะเปลี่ยน")
    expect(preview.locator("tr.changed")).to_have_count(5)
    expect(preview).to_contain_text("950,000")
    expect(preview).to_contain_text("ดำเนินการ")  # the status in words
    expect(preview.locator("#preview-from")).to_have_text("1 ต.ค. 2546")  # from when, in her words
    assert site.size() == size, "a preview appended"
    clerk.get_by_role("button", name="บันทึกลงสมุดบัญชี").click()
    expect(clerk).to_have_url(re.compile(r"/receipt/\d+$"))
    expect(clerk.locator("main")).to_contain_text("บันทึกแล้ว")
    # The receipt repeats what was saved, every field in her words, and from when it holds.
    saved = clerk.locator("main table").inner_text()
    for shown in ("ดำเนินการ", "2546", "8.5", "กิโลเมตร", "950,000", "รายงานตามหนังสือจังหวัด"):
        assert shown in saved, (shown, saved)
    expect(clerk.locator("#receipt-from")).to_have_text("1 ต.ค. 2546")
    position = int(clerk.locator("#receipt-position").inner_text())
    assert position == size + 1 == site.size()
    # The receipt's leaf hash is the one the ledger holds for that position.
    from ledger.application import MissionLedger

    app = MissionLedger(site.served.location, create_tables=False)
    stored = app.ledger_recorder.select_log(position - 1, 1)[0]
    app.close()
    assert clerk.locator("#receipt-leaf").inner_text() == stored.leaf_hash.hex()
    assert json.loads(stored.state)["actor"] == "khaothong.clerk"
    clerk.context.close()

    # The dashboard changes: a late report since the deadline, and one LAO fewer to chase now.
    officer.goto(f"{site.url}/province/81")
    expect(officer.locator("table[aria-labelledby=late] tbody tr")).to_have_count(late_before + 1)
    expect(officer.locator(f"table[aria-labelledby=late] a[href='/lao/{QUIET}']")).to_have_count(1)
    from ledger.domain.thai import bangkok_date

    today = bangkok_date(datetime.now().astimezone())
    officer.get_by_role("textbox", name="ข้อมูล ณ เวลา").fill(f"{today.day}/{today.month}/{today.year + 543}")
    officer.get_by_role("button", name="แสดง").click()
    expect(officer.locator(".card .n").nth(3)).to_have_text("58")
    # The Excel export answers with a workbook of the same report.
    with officer.expect_download() as download:
        officer.get_by_role("link", name="ดาวน์โหลด Excel").click()
    import openpyxl

    # Named in her words (the day it is as of, in BE), a title line, Thai headers, the last report
    # a date cell that Excel shows in BE.
    assert re.fullmatch(r"ความครบถ้วน จังหวัดกระบี่ \d{1,2} [ก-๛.]+ 25\d\d\.xlsx", download.value.suggested_filename)
    saved = Path(str(download.value.path()) + ".xlsx")
    download.value.save_as(saved)
    book = openpyxl.load_workbook(saved)
    rows = list(book.active.iter_rows(values_only=True))
    assert re.fullmatch(r"ความครบถ้วนของการรายงาน จังหวัดกระบี่ ตามที่ทราบ ณ \d{1,2} [ก-๛.]+ 25\d\d \d\d:\d\d น\.", rows[0][0])
    assert rows[1][:2] == ("รหัส อปท.", "ชื่อ อปท.") and len(rows) == 64
    reported = [row for row in book.active.iter_rows(min_row=3) if row[6].value is not None]
    assert reported and all(r[6].number_format.startswith("[$-107041E]") for r in reported)
    assert {r[7].value for r in book.active.iter_rows(min_row=3)} <= {"ครบถ้วน", "ไม่ครบถ้วน", "ไม่มีข้อมูล"}
    from tests.support.thai_sweep import ce_years, english_words

    cells = "\n".join(str(v) for row in rows for v in row if isinstance(v, str)) + book.sheetnames[0]
    assert english_words(cells) == [] and ce_years(cells) == [], cells


def test_every_form_refuses_bad_input_in_thai_beside_the_field(site: Site, person: Any) -> None:
    page = person.new_page()
    sign_in_with_token(page, site, "khaokram.clerk")
    size = site.size()
    choose(page, "ต้องการทำอะไร", "correct")
    expect(page.locator("#command-form input[name=command]")).to_have_value("correct")
    choose(page, "ภารกิจ", "INF-01")
    expect(page.locator("#command-form input[name=mission]")).to_have_value("INF-01")
    expect(page.locator("#f-quantity")).to_have_value("13.2")
    cases = [
        ({"#f-quantity": "สิบสอง"}, "#err-quantity", "จำนวน"),
        ({"#f-quantity": "12", "#f-effective": "31/02/2567"}, "#err-effective", "2567"),
        ({"#f-quantity": "12", "#f-reason": ""}, "#err-reason", "เหตุผล"),
        ({"#f-budget": "-5"}, "#err-budget", "งบประมาณ"),
    ]
    for fills, error, thai in cases:
        page.goto(f"{site.url}/lao/6810103?command=correct&mission=INF-01")
        page.fill("#f-reason", "ทดสอบ")
        for selector, value in fills.items():
            page.fill(selector, value)
        page.get_by_role("button", name="บันทึกลงสมุดบัญชี").click()
        expect(page.locator(error)).to_be_visible()
        expect(page.locator(error)).to_contain_text(thai)
        field = page.locator(f"#f-{error.removeprefix('#err-')}")
        expect(field).to_have_attribute("aria-invalid", "true")
        assert site.size() == size, f"{fills} appended"
    # Three bad fields at once: all three refused beside their fields, all three in the summary.
    page.goto(f"{site.url}/lao/6810103?command=correct&mission=INF-01")
    page.fill("#f-reason", "ทดสอบ")
    page.fill("#f-quantity", "สิบสอง")
    page.fill("#f-budget", "-5")
    page.fill("#f-effective", "31/02/2567")
    page.get_by_role("button", name="บันทึกลงสมุดบัญชี").click()
    for name in ("quantity", "budget", "effective"):
        expect(page.locator(f"#err-{name}")).to_be_visible()
        expect(page.locator(f"#error-summary a[href='#f-{name}']")).to_have_count(1)
    assert site.size() == size
    # The preview refuses the same way, through htmx, and appends nothing either.
    page.goto(f"{site.url}/lao/6810103?command=correct&mission=INF-01")
    page.fill("#f-reason", "ทดสอบ")
    page.fill("#f-staff", "หนึ่ง")
    page.get_by_role("button", name="ดูตัวอย่างการเปลี่ยนแปลง").click()
    expect(page.locator("#err-staff")).to_contain_text("บุคลากร")
    assert site.size() == size
    # A correction that changes nothing is refused by the ledger's rule, in Thai.
    page.goto(f"{site.url}/lao/6810103?command=correct&mission=INF-01")
    page.fill("#f-reason", "ไม่เปลี่ยนอะไร")
    page.get_by_role("button", name="บันทึกลงสมุดบัญชี").click()
    expect(page.locator("#form-error")).to_be_visible()
    assert site.size() == size


def test_a_refused_save_on_a_phone_opens_at_the_error_summary(
    site: Site, browser: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    context = browser.new_context(viewport=WIDTHS["phone"], locale="th-TH")
    page = context.new_page()
    sign_in_with_token(page, site, "khaokram.clerk")
    size = site.size()
    page.goto(f"{site.url}/lao/6810103?command=correct&mission=INF-01")
    page.fill("#f-quantity", "สิบสอง")
    page.fill("#f-reason", "ทดสอบ")
    page.get_by_role("button", name="บันทึกลงสมุดบัญชี").click()
    summary = page.locator("#error-summary")
    # GOV.UK's pattern: the summary at the top of the form, in view and focused, a link per error.
    expect(summary).to_be_focused()
    expect(summary).to_be_in_viewport()
    expect(summary).to_contain_text("พบปัญหา")
    expect(summary.get_by_role("link")).to_have_count(1)
    expect(summary.get_by_role("link")).to_contain_text("จำนวน")
    folder = screenshots_folder(tmp_path_factory.getbasetemp() / "screenshots")
    page.screenshot(path=str(folder / "error-summary-phone.png"))
    summary.get_by_role("link").first.click()
    expect(page.locator("#f-quantity")).to_be_focused()
    expect(page.locator("#err-quantity")).to_be_visible()  # and each message beside its field
    assert site.size() == size
    context.close()


def test_a_clerk_finds_a_mission_by_typing_part_of_its_name(site: Site, person: Any) -> None:
    page = person.new_page()
    sign_in_with_token(page, site, "khaothong.clerk")
    chooser = page.locator("#choose-mission")
    everything = chooser.locator("option:not([value=''])").count()
    assert chooser.locator("optgroup").count() >= 2  # grouped by area
    page.get_by_label("ค้นหาภารกิจ").fill("ศูนย์ พัฒนา")  # spaces forgiven
    shown = [t.strip() for t in chooser.locator("option:not([hidden]):not([value=''])").all_inner_texts()]
    assert shown and len(shown) < everything
    assert all("ศูนย์พัฒนา" in t for t in shown), shown
    page.get_by_label("ค้นหาภารกิจ").fill("inf-0")  # a code, any case
    shown = chooser.locator("option:not([hidden]):not([value=''])").all_inner_texts()
    assert shown and all(t.strip().startswith("INF-0") for t in shown), shown
    # One not reported yet (an earlier test may have reported INF-01: it is marked, not choosable).
    free = chooser.locator("option:not([hidden]):not([disabled]):not([value=''])").first.get_attribute("value")
    assert free is not None
    choose(page, "ภารกิจ", free)
    expect(page.locator("#command-form input[name=mission]")).to_have_value(free)


def test_the_letter_carries_the_seal_and_its_qr_code_opens_a_proof_the_browser_checks(
    site: Site, person: Any, browser: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from service.pages.letter import qr_svg

    officer = person.new_page()
    sign_in_with_token(officer, site, "krabi.officer")
    officer.get_by_role("link", name="หนังสือแจ้งผู้ว่าราชการจังหวัด (พิมพ์)").click()
    expect(officer).to_have_url(re.compile(r"/province/81/letter$"))
    main = officer.locator("main")
    expect(main).to_contain_text("จังหวัดกระบี่")
    expect(main).to_contain_text("รอบปีงบประมาณ 2568")
    expect(main).to_contain_text("ปิดผนึกแล้ว: 98 เหตุการณ์")  # the demo's events by the deadline
    expect(main).to_contain_text("อำเภอเมืองกระบี่")
    root = officer.locator("#letter-root").inner_text()
    address = officer.locator("#letter-proof").get_attribute("href")
    assert address is not None and "round=fy2568" in address and "position=98" in address
    # The QR code is the printed address (the page as the server sent it).
    assert qr_svg(address) in officer.context.request.get(officer.url).text()
    # Printed: A4, in Thai, page 1 looked at (docs/screenshots/letter-a4.png).
    officer.emulate_media(media="print")
    pdf = officer.pdf(format="A4", print_background=True)
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") >= 2  # the pages and their tree
    folder = screenshots_folder(tmp_path_factory.getbasetemp() / "screenshots")
    (folder.parent / "letter.pdf").write_bytes(pdf)
    officer.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
    officer.screenshot(path=str(folder / "letter-a4.png"))
    # The auditor opens the QR code's address: the page checks the seal in the browser.
    auditor = browser.new_context(viewport=WIDTHS["phone"]).new_page()
    sign_in_with_token(auditor, site, "demo.auditor")
    auditor.goto(address)
    expect(auditor.locator("#seal-root")).to_have_text(root)
    auditor.get_by_role("button", name="ดึงหลักฐานการบรรจุรายการ").click()
    expect(auditor.locator("#proof")).not_to_have_value("")
    auditor.get_by_label("กุญแจสาธารณะของผู้ลงนาม (ชื่อ+รหัส+กุญแจ)").fill(site.key)
    auditor.get_by_role("button", name="ตรวจสอบ", exact=True).click()
    expect(auditor.locator("#verdict")).to_contain_text("พิสูจน์แล้ว")
    auditor.context.close()


def test_an_officer_adds_a_clerk_who_signs_in_with_her_link_and_reports(site: Site, person: Any, browser: Any) -> None:
    """Issue 24's walk: the officer adds a clerk and hands her the printed link; the clerk opens it,
    lands on her LAO and records a mission that applies to every type; the officer closes the
    account and the clerk's next page is the sign-in page."""
    from ledger.domain.catalog import parse_catalog
    from ledger.domain.registry import read_csv_text
    from tests.conftest import package_data

    officer = person.new_page()
    sign_in_with_token(officer, site, "krabi.officer")
    officer.goto(f"{site.url}/province/81")
    officer.get_by_role("link", name="บัญชีผู้ใช้").click()
    officer.get_by_label("ชื่อบัญชี (อักษรอังกฤษพิมพ์เล็ก ตัวเลข . _ -)").fill("nuakhlong.clerk")
    officer.get_by_label("ชื่อของผู้ใช้").fill("เจ้าหน้าที่ อบต.เหนือคลอง")
    officer.get_by_label("บทบาท").select_option("lao:6810802")
    officer.get_by_role("button", name="เพิ่มบัญชี").click()
    expect(officer.locator("#done")).to_contain_text("nuakhlong.clerk")
    officer.get_by_role("button", name="ลิงก์เข้าสู่ระบบของ nuakhlong.clerk").click()
    link = officer.locator("#sign-in-link").inner_text()
    assert link.startswith(f"{site.url}/signin#link=mlt_")
    expect(officer.locator("figure.qr svg")).to_have_count(1)
    clerk = browser.new_context(viewport=WIDTHS["phone"]).new_page()
    clerk.goto(link)
    clerk.get_by_role("button", name="เข้าสู่ระบบ").click()
    expect(clerk).to_have_url(re.compile(r"/lao/6810802$"))
    catalog = parse_catalog(read_csv_text(package_data("sample_catalog.csv"), name="c"), name="c")
    for_all = next(m.mission_code for m in catalog if not m.applies_to)
    choose(clerk, "ภารกิจ", for_all)
    clerk.get_by_label("สถานะ").select_option("operating")
    clerk.get_by_label("วันที่มีผล (วัน/เดือน/ปี พ.ศ.)").fill("1/10/2567")
    clerk.get_by_label("เหตุผล (ต้องระบุ)").fill("รายงานครั้งแรก")
    clerk.get_by_role("button", name="บันทึกลงสมุดบัญชี").click()
    expect(clerk).to_have_url(re.compile(r"/receipt/\d+$"))
    officer.goto(f"{site.url}/province/81/accounts")
    officer.get_by_label("ชื่อใหม่ของ nuakhlong.clerk").fill("นางสาวสมใจ ใจดี")
    officer.locator("tr", has_text="nuakhlong.clerk").get_by_role("button", name="เปลี่ยนชื่อ").click()
    expect(officer.locator("tr", has_text="nuakhlong.clerk")).to_contain_text("นางสาวสมใจ ใจดี")
    officer.get_by_role("button", name="ปิดบัญชีของ nuakhlong.clerk").click()
    expect(officer.locator("#done")).to_contain_text("nuakhlong.clerk")
    clerk.goto(f"{site.url}/lao/6810802")
    expect(clerk).to_have_url(re.compile(r"/signin"))
    clerk.context.close()


def test_an_unknown_mission_is_refused_beside_the_chooser(site: Site, person: Any) -> None:
    page = person.new_page()
    sign_in_with_token(page, site, "khaokram.clerk")
    answer = page.goto(f"{site.url}/lao/6810103?command=correct&mission=INF-99")
    assert answer is not None and answer.status == 404
    expect(page.locator("#err-mission")).to_contain_text("INF-99")
    expect(page.locator("#choose-mission")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("legend")).not_to_contain_text("INF-99")  # no form titled with it
    expect(page.locator(".error-summary")).to_be_focused()


def test_an_auditor_reads_the_history_and_the_deadline_beside_now(site: Site, person: Any) -> None:
    page = person.new_page()
    sign_in_with_token(page, site, "demo.auditor")
    expect(page).to_have_url(re.compile(r"/nation$"))
    page.goto(f"{site.url}/record/6810103/INF-01")
    # The deadline's column names the round's seal, and links to its check.
    expect(page.locator("#seal-line")).to_contain_text("ตามตราของรอบปีงบประมาณ 2568: 98 เหตุการณ์แรก")
    expect(page.locator("#seal-line a")).to_have_attribute("href", "/proof?round=fy2568")
    table = page.locator("#deadline-vs-now")
    quantity = table.locator("tr", has_text="จำนวน").first
    expect(quantity).to_have_class("changed")
    expect(quantity.locator("td").nth(0)).to_have_text("12.5")
    expect(quantity.locator("td").nth(1)).to_contain_text("13.2")
    events = page.locator(".timeline > li")
    assert events.count() >= 3
    expect(page.locator(".timeline > li.late").first).to_contain_text("หลังวันครบกำหนด")
    expect(events.first).to_contain_text("บันทึก")
    # Compare the province at the deadline and now: the corrected record is marked.
    page.goto(f"{site.url}/compare?province=81")
    expect(page.locator("#compare-table")).to_contain_text("INF-01")
    expect(page.locator("#compare-table td.diff").first).to_be_visible()


def _proof_of_event_10(page: Any, site: Site) -> None:
    """An auditor opens the proof page, fetches the proof of event 10 and pastes the latest
    checkpoint and the log's key."""
    sign_in_with_token(page, site, "demo.auditor")
    page.goto(f"{site.url}/proof?position=10")
    page.get_by_role("button", name="ดึงหลักฐานการบรรจุรายการ").click()
    expect(page.locator("#proof")).not_to_have_value("")
    page.get_by_label("จุดตรวจสอบที่ลงนามแล้ว").fill(site.checkpoint())
    page.get_by_label("กุญแจสาธารณะของผู้ลงนาม (ชื่อ+รหัส+กุญแจ)").fill(site.key)


def test_an_auditor_checks_a_proof_in_the_browser_and_a_changed_byte_fails(site: Site, person: Any) -> None:
    page = person.new_page()
    _proof_of_event_10(page, site)
    page.get_by_role("button", name="ตรวจสอบ", exact=True).click()
    verdict = page.locator("#verdict")
    expect(verdict).to_have_class(re.compile("ok"))
    expect(verdict).to_contain_text("พิสูจน์แล้ว: รายการลำดับที่ 10")
    proof = json.loads(page.locator("#proof").input_value())

    def check(doc: dict[str, Any], checkpoint: str, key: str) -> str:
        page.fill("#proof", json.dumps(doc))
        page.fill("#checkpoint", checkpoint)
        page.fill("#key", key)
        page.get_by_role("button", name="ตรวจสอบ", exact=True).click()
        expect(verdict).not_to_have_text("กำลังตรวจสอบ…")
        return verdict.inner_text()

    # One byte of the event changed: the leaf, hence the root, differs.
    state = bytearray(base64.b64decode(proof["event"]["state"]))
    state[len(state) // 2] ^= 0x01
    changed = {**proof, "event": {**proof["event"], "state": base64.b64encode(bytes(state)).decode()}}
    assert "มีการเปลี่ยนแปลงข้อมูล" in check(changed, site.checkpoint(), site.key)
    expect(verdict).to_have_class(re.compile("bad"))
    # One byte of a path hash changed.
    path = bytearray(base64.b64decode(proof["proof"][0]))
    path[0] ^= 1
    bent = {**proof, "proof": [base64.b64encode(bytes(path)).decode(), *proof["proof"][1:]]}
    assert "มีการเปลี่ยนแปลงข้อมูล" in check(bent, site.checkpoint(), site.key)
    # The checkpoint's root changed: its signature no longer verifies.
    note = site.checkpoint()
    lines = note.split("\n")
    root = bytearray(base64.b64decode(lines[2]))
    root[0] ^= 1
    forged = "\n".join([lines[0], lines[1], base64.b64encode(bytes(root)).decode(), *lines[3:]])
    assert "ลายมือชื่อ" in check(proof, forged, site.key)
    # Another key: refused.
    from ledger.integrity.checkpoint import Signer

    other = Signer.generate("krabi-ppao").verifier().format()
    assert "ลายมือชื่อ" in check(proof, note, other)
    # And the true proof passes again.
    assert "พิสูจน์แล้ว" in check(proof, note, site.key)


@pytest.mark.parametrize("width", WIDTHS)
def test_the_proof_page_names_the_witnesses_that_cosigned_at_every_width(
    site: Site, browser: Any, width: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    context = browser.new_context(viewport=WIDTHS[width])
    page = context.new_page()
    _proof_of_event_10(page, site)
    page.get_by_label("กุญแจของพยาน บรรทัดละหนึ่งกุญแจ (ไม่บังคับ)").fill(site.witness_key)
    page.get_by_role("button", name="ตรวจสอบ", exact=True).click()
    verdict = page.locator("#verdict")
    expect(verdict).to_have_class(re.compile("ok"))
    # Who cosigned, and when — Bangkok time, a Buddhist-era year (4 Dec 2024 is 2567).
    expect(page.locator("#cosigners li")).to_have_text(
        re.compile("ลงนามรับรองร่วมโดยพยาน witness.krabi.example เมื่อ .*2567")
    )
    folder = screenshots_folder(tmp_path_factory.getbasetemp() / "screenshots")
    page.screenshot(path=str(folder / f"proof-cosigned-{width}.png"), full_page=True)
    assert overflow(page) <= 0
    # A witness that did not cosign: not proven, whatever the log's signature says.
    from ledger.integrity.witness import Witness

    stranger = Witness.generate("witness.other.example").key.format()
    page.get_by_label("กุญแจของพยาน บรรทัดละหนึ่งกุญแจ (ไม่บังคับ)").fill(f"{site.witness_key}\n{stranger}")
    page.get_by_role("button", name="ตรวจสอบ", exact=True).click()
    expect(verdict).to_have_class(re.compile("bad"))
    expect(verdict).to_contain_text("ไม่ครบตามจำนวนที่ต้องมี")
    page.get_by_label("จำนวนลายเซ็นรับรองร่วมที่ต้องมี (เว้นว่าง: ทุกราย)").fill("1")  # one of the two will do
    page.get_by_role("button", name="ตรวจสอบ", exact=True).click()
    expect(verdict).to_have_class(re.compile("ok"))
    context.close()


def test_a_url_of_another_scope_is_403_in_thai(site: Site, person: Any) -> None:
    page = person.new_page()
    sign_in_with_token(page, site, "khaothong.clerk")
    for url in ("/lao/6810103", "/province/81", "/record/6810103/INF-01", "/nation", "/proof", "/compare?province=81"):
        answer = page.goto(f"{site.url}{url}")
        assert answer is not None and answer.status == 403, url
        expect(page.get_by_role("heading", level=1)).to_have_text("อยู่นอกสิทธิ์หรือขอบเขตของท่าน")
    size = site.size()
    # The clerk's own form cannot be aimed at another LAO either.
    page.goto(f"{site.url}/lao/{QUIET}")
    page.evaluate("() => document.getElementById('command-form').action = '/lao/6810103/write'")
    page.evaluate("() => document.querySelector('#command-form input[name=mission]').value = 'INF-01'")
    page.fill("#f-reason", "ลองแก้ข้อมูลของผู้อื่น")
    page.get_by_role("button", name="บันทึกลงสมุดบัญชี").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("อยู่นอกสิทธิ์หรือขอบเขตของท่าน")
    assert site.size() == size


def test_the_import_page_shows_the_dry_run_then_imports_on_confirm(site: Site, person: Any, tmp_path: Path) -> None:
    page = person.new_page()
    sign_in_with_token(page, site, "krabi.officer")
    page.goto(f"{site.url}/import")
    bad = tmp_path / "bad.csv"
    bad.write_text("lao_code,mission_code,staff\n6810103,INF-01,สองคน\n", encoding="utf-8-sig")
    page.set_input_files("#file", str(bad))
    page.get_by_role("button", name="ตรวจสอบไฟล์ (ยังไม่บันทึก)").click()
    expect(page.locator("#import-errors")).to_contain_text("2")
    expect(page.get_by_role("button", name=re.compile("ยืนยัน"))).to_have_count(0)
    good = tmp_path / "good.csv"
    good.write_text(
        "lao_code,mission_code,staff,budget,reason\n6810103,QOL-01,7,2880000.00,เพิ่มครูผู้ดูแลเด็ก\n", encoding="utf-8-sig"
    )
    size = site.size()
    page.goto(f"{site.url}/import")
    page.set_input_files("#file", str(good))
    page.get_by_role("button", name="ตรวจสอบไฟล์ (ยังไม่บันทึก)").click()
    expect(page.locator("#import-plan")).to_contain_text("QOL-01")
    # The plan in her words: an amount grouped, no English key or word.
    expect(page.locator("#import-plan")).to_contain_text("2,880,000.00")
    from tests.support.thai_sweep import english_words

    assert english_words(page.locator("#import-plan").inner_text()) == []
    assert site.size() == size, "the dry run appended"
    page.get_by_role("button", name=re.compile("ยืนยันนำเข้า 1 แถว")).click()
    expect(page.locator("#import-done")).to_contain_text("นำเข้าแล้ว")
    assert site.size() > size


def test_english_and_thai_digits_on_request(site: Site, person: Any) -> None:
    page = person.new_page()
    sign_in_with_token(page, site, "krabi.officer")
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Completeness of reports")
    expect(page.locator("main")).to_contain_text("30 Dec 2567 BE")
    page.get_by_role("link", name="ภาษาไทย").click()
    page.get_by_role("link", name="เลขไทย").click()
    expect(page.locator(".card .n").nth(0)).to_have_text("๖๒")
    expect(page.locator("main")).to_contain_text("๓๐ ธ.ค. ๒๕๖๗")
    page.get_by_role("link", name="เลขอารบิก").click()
    expect(page.locator(".card .n").nth(0)).to_have_text("62")


def test_signing_in_and_filling_a_form_by_keyboard_alone(site: Site, person: Any) -> None:
    page = person.new_page()
    page.goto(f"{site.url}/signin")
    page.keyboard.press("Tab")  # the skip link
    expect(page.locator(".skip")).to_be_focused()
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.id") == "token":
            break
    expect(page.locator("#token")).to_be_focused()
    page.keyboard.type(site.tokens["khaokram.clerk"])
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/lao/6810103$"))
    # Reach the command chooser by Tab, change it with the arrow keys: htmx swaps the form and
    # focus stays on the chooser.
    reached = set()
    for _ in range(60):
        page.keyboard.press("Tab")
        reached.add(
            page.evaluate(
                "() => document.activeElement.id || document.activeElement.name || document.activeElement.tagName"
            )
        )
        if "choose-command" in reached:
            break
    expect(page.locator("#choose-command")).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(page.locator("#command-form input[name=command]")).to_have_value("correct")
    settled(page)
    expect(page.locator("#choose-command")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.locator("#choose-mission")).to_be_focused()
    page.keyboard.press("ArrowDown")
    settled(page)
    expect(page.locator("#command-form input[name=mission]")).not_to_have_value("")
    # Every field of the form can be reached by Tab, in order, up to the buttons.
    names = []
    for _ in range(20):
        page.keyboard.press("Tab")
        names.append(page.evaluate("() => document.activeElement.id || document.activeElement.textContent.trim()"))
        if names[-1] == "send":
            break
    assert names[-1] == "send" and "f-reason" in names and "f-effective" in names, names


PAGES = {
    "signin": (None, "/signin"),
    "dashboard": ("krabi.officer", "/province/81"),
    "lao": ("khaokram.clerk", "/lao/6810103?command=correct&mission=INF-01"),
    "history": ("demo.auditor", "/record/6810103/INF-01"),
    "compare": ("demo.auditor", "/compare?province=81"),
    "import": ("krabi.officer", "/import"),
    "proof": ("demo.auditor", "/proof?position=10"),
    "nation": ("demo.auditor", "/nation"),
    "receipt": ("demo.auditor", "/receipt/95"),  # the demo's first record
    "not-a-record": ("demo.auditor", "/receipt/10"),
    "forbidden": ("khaokram.clerk", "/province/81"),
    "sessions": ("demo.admin", "/sessions"),
    "letter": ("krabi.officer", "/province/81/letter"),
    "accounts": ("krabi.officer", "/province/81/accounts"),
    "district": ("krabi.officer", "/district/8101"),
}


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", PAGES)
def test_every_page_passes_axe_and_fits_the_screen(
    site: Site, browser: Any, name: str, width: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    who, url = PAGES[name]
    # bypass_csp: axe-core is injected into the page (the pages' own policy forbids that).
    context = browser.new_context(viewport=WIDTHS[width], bypass_csp=True)
    page = context.new_page()
    if who:
        sign_in_with_token(page, site, who)
    page.goto(f"{site.url}{url}")
    page.wait_for_load_state("networkidle")
    if name == "lao":
        page.fill("#f-quantity", "abc")
        page.fill("#f-reason", "ทดสอบ")
        page.get_by_role("button", name="ดูตัวอย่างการเปลี่ยนแปลง").click()
        expect(page.locator("#err-quantity")).to_be_visible()
    folder = screenshots_folder(tmp_path_factory.getbasetemp() / "screenshots")
    page.screenshot(path=str(folder / f"{name}-{width}.png"), full_page=True)
    assert overflow(page) <= 0, f"{name} at {width} is {overflow(page)} px wider than the screen"
    assert axe_problems(page) == []
    context.close()


#: Words a Thai page may show: the switch to the other language names it in its own words.
PAGE_ALLOWED = (
    "English", "krabi.officer", "khaokram.clerk", "demo.auditor", "demo.admin", "krabi-ppao",
    "demo", "khaothong.clerk",  # the actor the demo writes as, a clerk the tests add: names
    # Names of formats, programs and algorithms, and the tokens' prefix: no Thai word for them.
    "Excel", "CSV", "XLSX", "JSONL", "JSON", "Ed25519", "GIS", "mlt_",
)  # fmt: skip


@pytest.mark.parametrize("name", PAGES)
def test_every_page_speaks_thai_with_be_years(site: Site, browser: Any, name: str) -> None:
    """Issue 23's sweep of the pages: what a Thai person reads on each (in the browser, as shown)
    has no English word and no CE year — codes, typed names and the product's name aside."""
    from tests.support.thai_sweep import ce_years, english_words

    who, url = PAGES[name]
    context = browser.new_context(viewport=WIDTHS["desktop"], locale="th-TH")
    page = context.new_page()
    if who:
        sign_in_with_token(page, site, who)
    page.goto(f"{site.url}{url}")
    page.wait_for_load_state("networkidle")
    shown = page.evaluate("() => document.body.innerText + '\\n' + document.title")
    context.close()
    words = english_words(shown, allowed=PAGE_ALLOWED)
    assert not words, f"English on the {name} page: {words}\n{shown}"
    years = ce_years(shown)
    assert not years, f"CE years on the {name} page: {years}\n{shown}"
