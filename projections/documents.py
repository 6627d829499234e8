"""The JSON documents every face gives: the CLI's `--json` and the HTTP API answer with the same
keys and the same values (DESIGN §10), because both turn results into JSON here.

docs/design.md §9: Decimals as exact strings, dates ISO CE (or BE on request), instants RFC 3339
with the Bangkok offset, absent values null, Thai text as UTF-8.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ledger.domain.thai import format_date, format_instant


def plain(value: Any, *, calendar: str = "ce") -> Any:
    """plain turns a result into JSON-ready values (dates and instants as docs/design.md §9 prints them)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name), calendar=calendar) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {k: plain(v, calendar=calendar) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v, calendar=calendar) for v in value]
    if isinstance(value, datetime):
        return format_instant(value, calendar=calendar)
    if isinstance(value, date):
        return format_date(value, calendar=calendar)
    if isinstance(value, Decimal):
        return str(value)
    return value
