"""A value of a record as a person reads it, in her language: the presentation layer the faces ask
instead of formatting on their own. Amounts grouped (1,250,000.50), statuses in words, dates as
Thai documents write them (1 ต.ค. 2567) for who works in Thai, else in the chosen calendar; no value
is a dash. Pure."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ledger.domain.thai import format_date, format_instant, thai_date
from ledger.i18n import word

#: The fields whose values are amounts, shown grouped by thousands.
AMOUNTS = ("budget", "quantity")


def spoken(field: str, value: Any, *, lang: str, calendar: str = "ce") -> str:
    """spoken is one field's value in a person's words (`field` "" for a value of no field)."""
    if value is None:
        return "—"
    if field in AMOUNTS and isinstance(value, Decimal):
        return f"{value:,}"
    if field == "status":
        return word(str(value), lang) if lang != "en" else str(value)
    if isinstance(value, datetime):
        return format_instant(value, calendar=calendar)
    if isinstance(value, date):
        return thai_date(value) if lang == "th" else format_date(value, calendar=calendar)
    return str(value)
