"""What a Thai reader must never meet (issue 23): an English word, or a year of the Common Era.

`english_words` and `ce_years` find them in text a person reads, after taking out what is
neither: codes (mission codes, LAO codes, hashes, token and session ids), typed names and text,
paths and URLs, option names a person types, and the product's name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Things a person types or copies, not reads as words: paths, URLs, options, file names.
_TYPED = re.compile(
    r"'[^'\n]{0,80}'|'[^']{0,80}'|`[^`]{0,120}`"  # quoted: what somebody typed, or what to type (wrapped too)
    r"|https?://\S+"  # a URL
    r"|(?:[\w.~-]*/)+[\w.~-]*"  # a path (or a part of one)
    r"|--?[a-z][\w-]*"  # an option: --known-at
    r"|\b[\w.-]+\.(?:csv|xlsx|jsonl|json|pem|pub|db|key)\b"  # a file's name
    r"|\bmission-ledger\b"  # the product's name
    r"|\b[0-9a-f]{8,}\b"  # a hash, an id
    r"|\b[A-Z]{2,5}-\d{2,3}\b"  # a mission code: INF-01
    r"|\bsha256:[0-9a-f]+|\bSHA-256\b"
    r"|\b[a-z]+:\d{2,7}\b"  # a role as typed: province:81, lao:6810103
    r"|\bpostgresql\b|\bSQLite\b"  # a store's kind is its name
)
_WORD = re.compile(r"[A-Za-z][A-Za-z'’]*[A-Za-z]|\b[A-Za-z]\b")
#: A year of the Common Era, as a person would read it (1900–2199), outside hashes and amounts.
_CE_YEAR = re.compile(r"(?<![\d,.])(?:19|20|21)\d\d(?![\d,])")


def english_words(text: str, *, allowed: Iterable[str] = ()) -> list[str]:
    """english_words are the English words of a text a Thai person reads (nothing typed)."""
    stripped = _TYPED.sub(" ", text)
    for word in sorted(set(allowed), key=len, reverse=True):  # krabi.officer before krabi
        stripped = re.sub(rf"(?<![\w.]){re.escape(word)}(?![\w])", " ", stripped)
    return sorted({w for w in _WORD.findall(stripped)})


def ce_years(text: str, *, allowed: Iterable[str] = ()) -> list[str]:
    """ce_years are the CE years a text shows (BE years are ≥ 2400)."""
    stripped = _TYPED.sub(" ", text)
    for word in sorted(set(allowed), key=len, reverse=True):
        stripped = re.sub(rf"(?<![\w.]){re.escape(word)}(?![\w])", " ", stripped)
    return sorted(set(_CE_YEAR.findall(stripped)))
