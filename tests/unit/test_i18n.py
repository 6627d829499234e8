"""The Thai catalog: it loads with Babel, its translations keep their placeholders, and patterns
translate messages inside messages."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po

from ledger.i18n import catalog, translate, word

PO = Path(__file__).resolve().parents[2] / "ledger" / "i18n" / "th.po"


def test_every_translation_keeps_the_placeholders_of_its_message() -> None:
    with PO.open("rb") as f:
        po = read_po(f, locale="th")
    entries = [m for m in po if m.id]
    assert len(entries) > 150
    for message in entries:
        assert message.string, f"no Thai for {message.id!r}"
        assert set(re.findall(r"\{(\w+)\}", str(message.string))) == set(re.findall(r"\{(\w+)\}", str(message.id))), (
            message.id
        )


def test_patterns_translate_whole_messages_and_the_messages_inside_them() -> None:
    english = "LAO 6810130 is not in the registry; did you mean 6810103 องค์การบริหารส่วนตำบลเขาคราม?"
    assert translate(english, "th") == "ไม่มี อปท. 6810130 ในทะเบียน; หมายถึง 6810103 องค์การบริหารส่วนตำบลเขาคราม หรือไม่?"
    assert translate("row 3, column quantity: '-1': quantity: -1 is not a quantity (must be 0 or more)", "th") == (
        "แถว 3 คอลัมน์ จำนวน: '-1': จำนวน: -1 ไม่ใช่จำนวน (ต้องเป็น 0 ขึ้นไป)"
    )
    assert translate("a message no catalog has", "th") == "a message no catalog has"
    assert translate("operating", "en") == "operating" and word("operating", "th") == "ดำเนินการ"
    assert word("LAO 6810130 is not in the registry", "th") == "LAO 6810130 is not in the registry"  # words only
    assert catalog("en") is None


def test_every_text_of_the_pages_has_its_thai() -> None:
    """Each message a template asks for (`_("…")`), and the words it builds (commands, kinds,
    verdicts, states), has a Thai translation in the catalog the CLI shares."""
    import re
    from pathlib import Path

    from ledger.domain.events import RECORD_KINDS
    from ledger.i18n import catalog
    from service.pages.lao import PAGE_COMMANDS
    from service.pages.web import FIELD_LABELS

    thai = catalog("th")
    assert thai is not None
    templates = Path(__file__).resolve().parents[2] / "service" / "templates"
    asked = {
        m[1] or m[2]
        for path in templates.glob("*.html")
        for m in re.finditer(r"""_\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')""", path.read_text(encoding="utf-8"))
    }
    asked.discard("command:")  # completed with each command below
    built = {f"command:{c}" for c in PAGE_COMMANDS} | set(RECORD_KINDS) | {"complete", "incomplete", "no records"}
    built |= {"operating", "not_yet", "cancelled", "added", "removed", "changed", "same", *FIELD_LABELS.values()}
    missing = sorted(text for text in asked | built if thai.translate(text) == text)
    assert missing == []
    assert len(asked) > 150
