"""How results are printed: JSON for machines, aligned text for people, BE dates on request.

JSON follows docs/design.md §9: Decimals as exact strings, dates ISO CE, timestamps RFC 3339 with the
Bangkok offset, absent values null, Thai text as UTF-8 (not \\u escapes).
"""

from __future__ import annotations

import functools
import os
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import click

from ledger.i18n.voice import Voice
from projections.documents import plain


def language_of(env: Mapping[str, str]) -> str:
    """language_of is the working language an environment asks for: MISSION_LEDGER_LANG, else
    `th` under a Thai locale (LC_ALL, LC_MESSAGES or LANG: th_TH…), else `en`."""
    asked = env.get("MISSION_LEDGER_LANG", "")
    if asked in ("th", "en"):
        return asked
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "")
        if value:
            return "th" if value.lower().startswith("th") else "en"
    return "en"


def working_language() -> str:
    """working_language is the language of the command running (--lang, MISSION_LEDGER_LANG, locale)."""
    ctx = click.get_current_context(silent=True)
    lang = getattr(ctx.find_root().obj, "lang", None) if ctx is not None else None
    return str(lang) if lang else language_of(os.environ)


def t(text: str) -> str:
    """t is a message in the working language (the catalog of ledger/i18n; English as it is)."""
    lang = working_language()
    return text if lang == "en" else voice()(text)


def w(text: str) -> str:
    """w is one word or label in the working language: a header, a status, a verdict."""
    return voice().word(text)


@functools.cache
def _json() -> Any:
    import msgspec  # loaded by the commands that print JSON

    return msgspec.json.Encoder(decimal_format="string")


def echo_json(value: Any) -> None:
    """echo_json prints one JSON document on one line: for programs, so dates and instants are
    ISO 8601 in the Common Era whatever the reader's language or calendar (a BE year written as
    ISO would be read 543 years off)."""
    click.echo(_json().encode(plain(value)).decode())


def voice(calendar: str | None = None) -> Voice:
    """voice is how the command speaks to its reader (ledger.i18n.voice): the working language, and
    the calendar asked for (BE for who works in Thai, else CE)."""
    lang = working_language()
    return Voice(lang, calendar or ("be" if lang == "th" else "ce"))


def text_of(value: Any, *, calendar: str | None = None, field: str = "") -> str:
    """text_of is one value as a person reads it ('—' for nothing): words, dates and amounts
    from the presentation layer."""
    return _said(voice(calendar), field, value)


def _said(said: Voice, field: str, value: Any) -> str:
    text = said.value(field, value)
    # A word the ledger stores (a status, a kind, a verdict) is read in the reader's language.
    return said.word(text) if isinstance(value, str) and field not in _WORDED else text


#: Fields whose values the voice words itself (no second look in the catalog).
_WORDED = ("lao_type", "source", "reason", "note", "unit", "name", "display name")


def width(text: str) -> int:
    """width is how many terminal columns text takes: Thai combining marks take none."""
    return sum(
        0 if unicodedata.category(ch) in ("Mn", "Me", "Cf") else 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        for ch in text
    )


def pad(text: str, columns: int) -> str:
    """pad right-pads text to `columns` terminal columns."""
    return text + " " * max(0, columns - width(text))


def echo_fields(pairs: Sequence[tuple[str, Any]], *, calendar: str | None = None) -> None:
    """echo_fields prints name: value lines, names aligned, names and values in the working
    language."""
    said = voice(calendar)
    named = [(said.word(k), _said(said, k, v)) for k, v in pairs]
    cols = max((width(k) for k, _ in named), default=0)
    for key, value in named:
        click.echo(f"{pad(key, cols)}  {value}")


def echo_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, calendar: str | None = None) -> None:
    """echo_table prints rows under headers in aligned columns, headers and values in the working
    language (each value worded as its column's field)."""
    said = voice(calendar)  # once for the table: a table of the whole country has 100,000s of cells
    cells = [[_said(said, h, v) for v, h in zip(row, headers, strict=True)] for row in rows]
    headers = [said.word(h) for h in headers]
    widths = [max([width(h)] + [width(r[i]) for r in cells]) for i, h in enumerate(headers)]
    click.echo("  ".join(pad(h, w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for r in cells:
        click.echo("  ".join(pad(c, w) for c, w in zip(r, widths, strict=True)).rstrip())


def echo_json_lines_as_list(items: Iterable[Any]) -> None:
    """echo_json_lines_as_list prints a JSON list one element per line, streaming; ISO CE dates."""
    click.echo("[", nl=False)
    first = True
    for item in items:
        click.echo(("\n" if first else ",\n") + _json().encode(plain(item)).decode(), nl=False)
        first = False
    click.echo("\n]" if not first else "]")


def echo_csv(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """echo_csv prints CSV (projections.sheets: a UTF-8 BOM so that Excel opens Thai text, no
    cell a live formula), streaming."""
    from projections.sheets import csv_lines

    # Dates and instants ISO CE: a spreadsheet or a program reads them as the dates they are.
    texts = ([None if v is None else _machine_text(v) for v in row] for row in rows)
    for line in csv_lines([w(h) for h in headers], texts):
        click.echo(line, nl=False)


def _machine_text(value: Any) -> str:
    v = plain(value)
    if isinstance(v, list):
        return ", ".join(map(str, v))
    return w(v) if isinstance(v, str) else str(v)
