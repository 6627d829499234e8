"""The docs say what the code does: every limit is listed with its value."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from ledger import clock
from ledger.domain import limits

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_every_limit_is_documented_with_its_value() -> None:
    text = (DOCS / "limits.md").read_text(encoding="utf-8")
    bounds = {name: getattr(limits, name) for name in dir(limits) if name.isupper()}
    bounds["CLOCK_LEAD"] = clock.CLOCK_LEAD
    for name, value in bounds.items():
        assert f"`{name}`" in text, f"docs/limits.md does not list {name}"
        if isinstance(value, (int, Decimal)):
            assert f"{value:,}" in text, f"docs/limits.md does not give {name}'s value {value:,}"
        elif hasattr(value, "isoformat"):
            assert value.isoformat() in text, f"docs/limits.md does not give {name}'s value {value}"
    assert "5\nminutes" in text or "5 minutes" in text
