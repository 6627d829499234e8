"""The letter (issue 24): a province's completeness as known at the round's deadline, printable on
A4 for the governor's letter — Thai, BE, the round, who is missing by district, page numbers — with
the round's seal: its root, and a QR code of the proof page that verifies the seal in the browser,
so that whoever holds the paper can check it. Printing it (or Chromium's print-to-PDF) is the PDF."""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import urlencode

from litestar import Request, get
from litestar.response import Template

from ledger.errors import NotFound
from ledger.identity import Session
from projections.queries import Scope
from service.auth import requires
from service.pages.dashboard import scope_report
from service.pages.web import render
from service.state import LedgerService


def qr_svg(address: str) -> str:
    """qr_svg is the QR code of an address as inline SVG (segno: pure Python, no image files)."""
    import segno

    return str(segno.make(address, error="m").svg_inline(scale=3, dark="#000", light="#fff"))


@get("/province/{province:str}/letter", sync_to_thread=False, guards=[requires("read_province")])
def province_letter(
    request: Request[Any, Any, Any], province: str, ledger: LedgerService, session: Session
) -> Template:
    """The printable letter of a province for its current round, as known at the deadline."""
    found = ledger.rounds.current(province)
    if found is None:
        raise NotFound("no reporting round has been opened: there is no deadline to report against")
    report, _, when = scope_report(ledger, Scope(province=province), province, found.deadline_instant, None)
    seal = ledger.rounds.seal_of(found.name)
    proof = qr = None
    if seal is not None:
        # The proof page, opened on the seal and the last event it holds: it fetches that event's
        # inclusion proof and checks it, and the seal's signature, in the browser.
        query = urlencode({"round": found.name, "position": seal.size})
        proof = f"{str(request.base_url).rstrip('/')}/proof?{query}"
        qr = qr_svg(proof)
    missing = [lao for lao in report.laos if lao.verdict != "complete"]
    by_district = [
        (district, [lao for lao in missing if lao.district_code == district.code]) for district in report.districts
    ]
    return render(
        request,
        "letter.html",
        session=session,
        report=report,
        round=found,
        when=when,
        seal=seal,
        proof=proof,
        qr=qr,
        province=province,
        by_district=[(d, laos) for d, laos in by_district if laos],
    )


ROUTES: Final = [province_letter]
