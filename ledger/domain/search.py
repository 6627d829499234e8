"""Finding LAOs and missions as officers type them: by code or by a fragment of the Thai name,
with spaces and tone marks forgiven and an LAO type's abbreviation read as its full name (อบต.
เขาคราม finds องค์การบริหารส่วนตำบลเขาคราม); and the closest codes to one that is not there.
Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from ledger.domain.limits import MAX_SEARCH_CHARS
from ledger.domain.thai import arabic_digits
from ledger.errors import BadInput

# Marks written above or below a consonant that a search forgives: maitaikhu, the four tone
# marks, thanthakhat, nikhahit, yamakkan.
_MARKS: Final = dict.fromkeys(map(ord, "\u0e47\u0e48\u0e49\u0e4a\u0e4b\u0e4c\u0e4d\u0e4e"))
#: Abbreviations of LAO types and the words they stand for in registry names.
TYPE_ABBREVIATIONS: Final = {
    "อบจ.": "องค์การบริหารส่วนจังหวัด",
    "ทน.": "เทศบาลนคร",
    "ทม.": "เทศบาลเมือง",
    "ทต.": "เทศบาลตำบล",
    "อบต.": "องค์การบริหารส่วนตำบล",
}


def check_search(text: str | None) -> str | None:
    """check_search accepts a search box's text of at most MAX_SEARCH_CHARS characters."""
    if text is not None and len(text) > MAX_SEARCH_CHARS:
        raise BadInput(f"q is {len(text):,} characters long; search with at most {MAX_SEARCH_CHARS}", field="q")
    return text


def search_key(text: str) -> str:
    """search_key is text as a search compares it: lower case, Thai digits as ASCII, without
    spaces or the marks above and below letters."""
    return "".join(arabic_digits(text).translate(_MARKS).split()).lower()


def expand(query: str) -> str:
    """expand reads an LAO type's abbreviation at the start of a query as its full name."""
    text = query.strip()
    for short, full in TYPE_ABBREVIATIONS.items():
        for form in (short, short.rstrip(".")):
            if text.startswith(form):
                return full + text[len(form) :]
    return text


def matches(query: str, code: str, *names: str | None) -> bool:
    """matches is true when `query` is the start of `code` or a fragment of one of `names`."""
    key = search_key(expand(query))
    if not key:
        return True
    if code.lower().startswith(search_key(query)):
        return True
    return any(name and key in search_key(name) for name in names)


def typos(a: str, b: str) -> int:
    """typos is how many keystrokes turn `a` into `b`: a letter added, dropped, replaced, or two
    neighbours swapped (the optimal string alignment distance)."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, start=1):
        row = [i]
        for j, y in enumerate(b, start=1):
            cost = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (x != y))
            if i > 1 and j > 1 and x == b[j - 2] and a[i - 2] == y:
                cost = min(cost, previous2[j - 2] + 1)
            row.append(cost)
        previous2, previous = previous, row
    return previous[-1]


def closest(code: str, codes: Iterable[str], n: int = 3) -> list[str]:
    """closest are up to `n` codes at most two typos from `code`, fewest typos first, then the
    longest shared start."""
    wanted = code.upper()
    scored = []
    for other in codes:
        distance = typos(wanted, other.upper())
        if distance <= 2:
            pairs = zip(wanted, other.upper(), strict=False)
            shared = next((i for i, (x, y) in enumerate(pairs) if x != y), min(len(wanted), len(other)))
            scored.append((distance, -shared, other))
    return [other for _, _, other in sorted(scored)[:n]]
