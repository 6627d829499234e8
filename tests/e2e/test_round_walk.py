"""Issue 24's walk, end to end in a real browser over a real `serve`: the Krabi officer adds a clerk
and hands her the sign-in link; the clerk signs in and records a mission that applies to every LAO
type; the deadline passes (the ledger clock: the service is started again after it, as one that was
down at the deadline) and the service seals the round on start; the officer prints the letter, and
the auditor opens its QR code's address, where the browser verifies the seal."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from ledger.application import MissionLedger
from ledger.clock import FixedClock
from ledger.domain.catalog import parse_catalog
from ledger.domain.registry import read_csv_text
from ledger.identity import Identity
from ledger.integrity.checkpoint import Signer
from ledger.rounds import Rounds
from tests.conftest import package_data
from tests.support.browser import WIDTHS, launch
from tests.support.served import Served

playwright_api = pytest.importorskip("playwright.sync_api", reason="install the test extra: pip install -e '.[test]'")
from playwright.sync_api import expect, sync_playwright  # noqa: E402

pytestmark = pytest.mark.slow
BEFORE, AFTER = "2024-12-20T10:00:00+07:00", "2025-01-05T09:00:00+07:00"  # the deadline: 30 Dec 2567


def _sign_in(page: Any, url: str, token: str) -> None:
    page.goto(f"{url}/signin")
    page.get_by_label("โทเคน").fill(token)
    page.get_by_role("button", name="เข้าสู่ระบบ").click()
    page.wait_for_load_state("load")


def test_an_officer_a_clerk_the_deadline_its_seal_and_the_letter_an_auditor_checks(tmp_path: Path) -> None:
    location = str(tmp_path / "krabi.db")
    app = MissionLedger(location, clock=FixedClock(datetime.fromisoformat(BEFORE)), actor="admin")
    app.initialise("krabi.go.th/ledger")
    app.load_registry(package_data("krabi_laos.csv"), name="krabi_laos.csv")
    app.load_catalog(package_data("sample_catalog.csv"), name="sample_catalog.csv")
    Rounds(app).open("fy2568", date(2024, 10, 1), date(2024, 12, 30), reason="หนังสือ สถ.")
    identity = Identity(app)
    identity.add("krabi.officer", ["province:81"], "สำนักงานส่งเสริมการปกครองท้องถิ่นจังหวัดกระบี่")
    identity.add("auditor", ["auditor"], "ผู้ตรวจสอบ")
    officer_token, auditor_token = identity.issue("krabi.officer").token, identity.issue("auditor").token
    app.close()
    signer = Signer.generate("krabi-ppao")
    key = tmp_path / "krabi-ppao.key"
    key.write_text(signer.format(), encoding="utf-8")
    served = Served(location, tmp_path, env={"MISSION_LEDGER_CLOCK": BEFORE, "MISSION_LEDGER_KEY": str(key)}).start()
    catalog = parse_catalog(read_csv_text(package_data("sample_catalog.csv"), name="c"), name="c")
    for_all = next(m.mission_code for m in catalog if not m.applies_to)
    with sync_playwright() as p:
        browser = launch(p)
        try:
            # Before the deadline: the officer adds a clerk and hands her the link.
            officer = browser.new_context(viewport=WIDTHS["desktop"], locale="th-TH").new_page()
            _sign_in(officer, served.url, officer_token)
            officer.goto(f"{served.url}/province/81/accounts")
            officer.get_by_label("ชื่อบัญชี (อักษรอังกฤษพิมพ์เล็ก ตัวเลข . _ -)").fill("aonang.clerk")
            officer.get_by_label("ชื่อของผู้ใช้").fill("เจ้าหน้าที่ อบต.อ่าวนาง")
            officer.get_by_label("บทบาท").select_option("lao:6810104")
            officer.get_by_role("button", name="เพิ่มบัญชี").click()
            officer.get_by_role("button", name="ลิงก์เข้าสู่ระบบของ aonang.clerk").click()
            link = officer.locator("#sign-in-link").inner_text()
            # The clerk signs in with it, on her phone, and records a mission for every LAO type.
            clerk = browser.new_context(viewport=WIDTHS["phone"], locale="th-TH").new_page()
            clerk.goto(link)
            clerk.get_by_role("button", name="เข้าสู่ระบบ").click()
            expect(clerk).to_have_url(re.compile(r"/lao/6810104$"))
            clerk.wait_for_function("() => window.htmx !== undefined")  # the chooser swaps the form
            clerk.get_by_label("ภารกิจ", exact=True).select_option(for_all)
            expect(clerk.locator("#command-form input[name=mission]")).to_have_value(for_all)
            clerk.get_by_label("สถานะ").select_option("operating")
            clerk.get_by_label("วันที่มีผล (วัน/เดือน/ปี พ.ศ.)").fill("1/10/2567")
            clerk.get_by_label("เหตุผล (ต้องระบุ)").fill("รายงานตามหนังสือจังหวัด")
            clerk.get_by_role("button", name="บันทึกลงสมุดบัญชี").click()
            expect(clerk).to_have_url(re.compile(r"/receipt/\d+$"))
            recorded = int(clerk.locator("#receipt-position").inner_text())
            # The deadline passes while the service is down; it seals the round as it starts again.
            served.stop()
            served.env = {**served.env, "MISSION_LEDGER_CLOCK": AFTER}
            served.start()
            _sign_in(officer, served.url, officer_token)  # days later: her session of that day has ended
            officer.goto(f"{served.url}/province/81/letter")
            expect(officer.locator("main")).to_contain_text("ปิดผนึกแล้ว")
            address = officer.locator("#letter-proof").get_attribute("href")
            assert address is not None and f"position={recorded}" in address  # her report is the last on time
            root = officer.locator("#letter-root").inner_text()
            # The auditor opens the letter's QR address: the browser verifies the seal.
            auditor = browser.new_context(viewport=WIDTHS["desktop"], locale="th-TH").new_page()
            _sign_in(auditor, served.url, auditor_token)
            auditor.goto(address)
            expect(auditor.locator("#seal-root")).to_have_text(root)
            auditor.get_by_role("button", name="ดึงหลักฐานการบรรจุรายการ").click()
            expect(auditor.locator("#proof")).not_to_have_value("")
            auditor.get_by_label("กุญแจสาธารณะของผู้ลงนาม (ชื่อ+รหัส+กุญแจ)").fill(signer.verifier().format())
            auditor.get_by_role("button", name="ตรวจสอบ", exact=True).click()
            expect(auditor.locator("#verdict")).to_contain_text(f"พิสูจน์แล้ว: รายการลำดับที่ {recorded}")
        finally:
            browser.close()
            served.stop()
