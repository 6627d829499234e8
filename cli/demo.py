"""The worked example behind `mission-ledger demo`: one reporting round in Krabi.

The ledger clock is set to the days the reports arrive (historical backfill, docs/design.md §4), so
the example can show the difference between what was known by the deadline of 30 December
2567 BE and what is known after the late corrections.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from importlib import resources
from pathlib import Path

import click

from cli.output import echo_table, t, voice
from ledger.application import MissionLedger
from ledger.clock import Clock, FixedClock
from ledger.domain.thai import BANGKOK, end_of_day
from ledger.domain.values import Fields
from ledger.errors import NotFound, Refused
from ledger.store.location import StoreLocation

DEADLINE = date(2024, 12, 30)  # Monday 30 December 2567 BE
ROUND_START = date(2024, 10, 1)  # the round of fiscal year 2568 BE

# (LAO, mission) pairs the example writes, in the order it shows them.
RECORDS = (
    ("6810103", "INF-01"),
    ("6810103", "QOL-01"),
    ("4810102", "QOL-03"),
    ("5810109", "INF-04"),
)


def _at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=BANGKOK)


def package_file(name: str) -> bytes:
    """package_file reads a data file shipped with the package (Krabi registry, sample catalog)."""
    return resources.files("ledger").joinpath("data", name).read_bytes()


def run_demo(path: Path, *, replace: bool) -> None:
    """run_demo writes the example ledger at `path` and prints what it shows."""

    location = StoreLocation(str(path))
    if location.exists():
        if not replace:
            raise Refused(f"{path} already holds a ledger; the demo needs a new file")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    clock = FixedClock(_at(date(2024, 10, 15), 9))
    ledger = MissionLedger(location, clock=clock, actor="demo", source="demo")
    ledger.initialise("mission-ledger/demo")

    said = voice()

    def step(day: date, text: str) -> None:
        clock.at = _at(day)
        click.echo(f"{said.day(day)}  {t(text)}")

    click.echo(t(f"Demo ledger: {path}") + "\n")
    step(date(2024, 10, 15), "load Krabi's 62 LAOs and the sample mission catalog")
    ledger.load_registry(package_file("krabi_laos.csv"), name="krabi_laos.csv")
    ledger.load_catalog(package_file("sample_catalog.csv"), name="sample_catalog.csv")
    from ledger.rounds import Rounds

    Rounds(ledger).open("fy2568", ROUND_START, DEADLINE, reason="หนังสือกรมส่งเสริมการปกครองท้องถิ่น (ตัวอย่าง)")

    step(date(2024, 11, 20), "อบต.เขาคราม records its rural roads and its child development centre")
    ledger.record(
        "6810103",
        "INF-01",
        effective_from=date(2002, 10, 1),
        values=Fields(
            status="operating",
            received_fy=2546,
            quantity=Decimal("12.5"),
            unit="กิโลเมตร",
            budget=Decimal("1250000.50"),
        ),
    )
    ledger.record(
        "6810103",
        "QOL-01",
        effective_from=date(2007, 10, 1),
        values=Fields(status="operating", received_fy=2551, quantity=Decimal("2"), unit="ศูนย์", staff=6),
    )
    step(date(2024, 12, 2), "เทศบาลเมืองกระบี่ records its health promoting hospital")
    ledger.record(
        "4810102",
        "QOL-03",
        effective_from=date(2022, 10, 1),
        values=Fields(status="operating", received_fy=2566, quantity=Decimal("1"), unit="แห่ง", staff=9),
    )
    step(date(2024, 12, 27), "ทต.กระบี่น้อย records a small water source, not yet operating")
    ledger.record(
        "5810109",
        "INF-04",
        effective_from=date(2024, 10, 1),
        values=Fields(status="not_yet", received_fy=2568, quantity=Decimal("1"), unit="แห่ง"),
    )
    round_name = said.round("fy2568", ROUND_START)
    click.echo(f"{said.day(DEADLINE)}  ── {t(f'deadline of the round {round_name}')} ──")

    step(date(2025, 1, 8), "อบต.เขาคราม corrects its road length (late: after the deadline)")
    ledger.correct(
        "6810103",
        "INF-01",
        set=Fields(quantity=Decimal("13.2")),
        reason="วัดใหม่ตามการสำรวจ GIS ของจังหวัด",
    )
    step(date(2025, 2, 3), f"อบต.เขาคราม's road budget changes from {said.day(date(2025, 1, 1))}")
    ledger.change(
        "6810103",
        "INF-01",
        set=Fields(budget=Decimal("1500000")),
        effective_from=date(2025, 1, 1),
        reason="ได้รับจัดสรรงบประมาณปี 2568 เพิ่ม",
    )
    step(date(2025, 3, 10), f"ทต.กระบี่น้อย's water source is cancelled from {said.day(date(2025, 3, 1))}")
    ledger.cancel(
        "5810109",
        "INF-04",
        effective_from=date(2025, 3, 1),
        reason="ส่งคืนกรมชลประทาน",
    )

    deadline = end_of_day(DEADLINE)
    now = clock.now() + timedelta(days=1)
    by_deadline = f"known at {said.day(DEADLINE)}, valid on {said.day(DEADLINE)}"
    for title, known_at in (
        (f"What the ledger knew by the deadline ({by_deadline}):", deadline),
        ("What the ledger knows now:", now),
    ):
        click.echo(f"\n{t(title)}")
        rows = []
        for lao, mission in RECORDS:
            try:
                v = ledger.show(lao, mission, known_at=known_at)
            except NotFound:
                continue
            rows.append((v.lao_code, v.mission_code, v.status, v.received_fy, v.quantity, v.unit, v.budget, v.version))
        echo_table(
            ("lao", "mission", "status", "received_fy", "quantity", "unit", "budget", "version"),
            rows,
        )
    click.echo(
        "\n"
        + t(f"Ledger: {ledger.ledger_recorder.log_size()} events. Try:")
        + f"\n  mission-ledger --db {path} show 6810103 INF-01 --known-at 2567-12-30\n"
        f"  mission-ledger --db {path} show 6810103 INF-01 --json"
    )


#: The demo's principals: name, roles, display name.
DEMO_PRINCIPALS = (
    ("demo.admin", ["admin"], "ผู้ดูแลระบบ (ตัวอย่าง)"),
    ("krabi.officer", ["province:81"], "สำนักงานส่งเสริมการปกครองท้องถิ่นจังหวัดกระบี่"),
    ("khaokram.clerk", ["lao:6810103"], "เจ้าหน้าที่ อบต.เขาคราม"),
    ("demo.auditor", ["auditor"], "ผู้ตรวจสอบ (ตัวอย่าง)"),
    ("demo.feed", ["integration"], "ระบบที่รับข้อมูลการเปลี่ยนแปลง (ตัวอย่าง)"),
)


def add_demo_principals(
    path: Path, *, clock: Clock | None = None, link_base: str | None = None
) -> list[tuple[str, list[str], str, str | None]]:
    """add_demo_principals adds one principal of each role to the demo ledger and gives (name,
    roles, token, sign-in link) for each, tokens valid 7 days (a link, when the pages' address
    is given: 3 days, once): a demo's way of handing out tokens, never a real ledger's."""
    from ledger.identity import Identity

    ledger = MissionLedger(StoreLocation(str(path)), clock=clock, actor="demo", source="demo")
    identity = Identity(ledger)
    until = datetime.now(BANGKOK) + timedelta(days=7)
    out = []
    for name, roles, shown in DEMO_PRINCIPALS:
        identity.add(name, roles, shown)
        token = identity.issue(name, expires_at=until, label="demo").token
        link = None
        if link_base is not None:
            link = f"{link_base}/signin#link={identity.issue(name, label='demo link', one_time=True).token}"
        out.append((name, roles, token, link))
    ledger.close()
    return out


def print_demo_tokens(url: str, tokens: list[tuple[str, list[str], str, str | None]]) -> None:
    """print_demo_tokens says where the demo is served and the token (and sign-in link) of each
    demo principal."""
    said = voice()
    click.echo(f"\n{t('Serving the demo ledger at')} {url}/ — {t('tokens (demo only, valid 7 days)')}:")
    for name, roles, token, _ in tokens:
        click.echo(f"  {name:<15} {', '.join(said.role(r) for r in roles)}\n  {'':<15} {token}")
    links = [(name, link) for name, _, _, link in tokens if link]
    if links:
        click.echo(f"\n{t('Open the pages with a sign-in link (each works once):')}")
        for name, link in links:
            click.echo(f"  {name:<15} {link}")
    click.echo(f"  curl -H 'Authorization: Bearer <token>' {url}/api/v1/records/6810103/INF-01")


def demo_key(ledger: Path) -> Path:
    """demo_key writes a new signing key beside the demo ledger (NAME.key, replaced every run)."""
    from ledger.integrity.checkpoint import Signer

    key = ledger.with_suffix(".key")
    key.write_text(Signer.generate("mission-ledger-demo").format() + "\n", encoding="utf-8")
    key.chmod(0o600)
    return key


def demo_verifier(key: Path) -> str:
    """demo_verifier is the verifier key of the demo's signing key (what an auditor pastes)."""
    from ledger.integrity.checkpoint import parse_signer

    return parse_signer(key.read_text(encoding="utf-8")).verifier().format()
