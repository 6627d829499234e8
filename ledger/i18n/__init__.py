"""Messages in the user's language: one gettext catalog per language (`th.po`, read with Babel and
compiled when first needed), shared by every face — the command line now, the web pages later.

The library speaks English (its messages are also what logs and API problem details carry); a
face translates what it shows. A catalog entry is an exact message (a header, a status word) or a
pattern with named placeholders — `LAO {code} is not in the registry{hint}` — matched against the
whole English message; the Thai text gets the placeholders' values, and those named `hint`,
`why`, `message`, `rest`, `detail`, `where`, `column` or `what` are translated in turn (a message
inside a message, a column's name).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Final

#: Languages with a catalog, besides English (the library's own).
LANGUAGES: Final = ("th",)
#: Placeholders whose values are messages themselves, translated in turn.
_NESTED: Final = frozenset({"hint", "why", "message", "rest", "detail", "where", "column", "what"})
_PLACEHOLDER: Final = re.compile(r"\{(\w+)\}")


class Catalog:
    """Catalog is one language's messages: exact ones, and patterns tried longest first."""

    def __init__(self, exact: dict[str, str], patterns: list[tuple[re.Pattern[str], str]]) -> None:
        self.exact = exact
        self.patterns = patterns

    def translate(self, text: str) -> str:
        """translate gives the message in this language, or the English text when the catalog
        has no entry for it."""
        if not text:
            return text
        found = self.exact.get(text)
        if found is not None:
            return found
        for pattern, target in self.patterns:
            m = pattern.fullmatch(text)
            if m is not None:
                return _fill(target, {k: self.translate(v) if k in _NESTED else v for k, v in m.groupdict().items()})
        return text


def _fill(target: str, values: dict[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda p: values.get(p[1], p[0]), target)


def _compile(msgid: str) -> re.Pattern[str]:
    parts, last = [], 0
    for m in _PLACEHOLDER.finditer(msgid):
        parts.append(re.escape(msgid[last : m.start()]))
        parts.append(f"(?P<{m[1]}>.*?)")
        last = m.end()
    parts.append(re.escape(msgid[last:]))
    return re.compile("".join(parts), re.DOTALL)


@lru_cache(maxsize=len(LANGUAGES))
def catalog(lang: str) -> Catalog | None:
    """catalog is the language's catalog (None for English), read from its .po file once."""
    if lang not in LANGUAGES:
        return None
    from babel.messages.pofile import read_po

    with (Path(__file__).parent / f"{lang}.po").open("rb") as f:
        po = read_po(f, locale=lang)
    exact: dict[str, str] = {}
    found: list[tuple[tuple[int, int], re.Pattern[str], str]] = []
    for message in po:
        if not message.id or not message.string or not isinstance(message.id, str):
            continue
        if _PLACEHOLDER.search(message.id):
            # The most specific pattern is tried first: the one that starts with the most literal
            # text ("quantity: {message}" before "{value} is not a quantity …"), then the one
            # with the most literal text in all.
            prefix = len(message.id.split("{", 1)[0])
            literal = len(_PLACEHOLDER.sub("", message.id))
            found.append(((prefix, literal), _compile(message.id), str(message.string)))
        else:
            exact[message.id] = str(message.string)
    found.sort(key=lambda p: (-p[0][0], -p[0][1]))
    return Catalog(exact, [(pattern, target) for _, pattern, target in found])


def word(text: str, lang: str) -> str:
    """word gives a single word or label in `lang` (a header, a status): exact entries only."""
    found = catalog(lang)
    return found.exact.get(text, text) if found is not None else text


def translate(text: str, lang: str) -> str:
    """translate gives `text` in `lang` (English text stays as it is)."""
    found = catalog(lang)
    return found.translate(text) if found is not None else text
