"""The log's side of witnessing: send a newly signed checkpoint to each witness (tlog-witness
add-checkpoint, with a consistency proof from the size the witness is at) and keep the
cosignatures they answer with, in the note recorded with the checkpoint.

A witness that has never seen the log is sent `old 0`; one that answers 409 says its size, and
is sent the proof from there. A witness that refuses otherwise — the checkpoint does not extend
what it cosigned (422), a second root for a size (409 at the same size) — is said, never hidden:
that refusal is what a witness is for.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final

from ledger.integrity.checkpoint import parse_checkpoint
from ledger.integrity.merkle import prove_consistency
from ledger.integrity.witness import AddCheckpoint

#: How long a witness may take to answer (seconds), and the most its answer may hold.
TIMEOUT: Final = 10.0
MAX_ANSWER: Final = 16 * 1024
_LINE: Final = re.compile("\u2014 [^\\s+]+ [A-Za-z0-9+/=]+")

#: url, request body → status, answer body.
Post = Callable[[str, bytes], tuple[int, bytes]]


def post_add_checkpoint(url: str, body: bytes) -> tuple[int, bytes]:
    """post_add_checkpoint POSTs a request to a witness's `<url>/add-checkpoint`; (0, why) when it
    cannot be reached."""
    request = urllib.request.Request(
        url.rstrip("/") + "/add-checkpoint", data=body, method="POST",
        headers={"Content-Type": "text/plain; charset=utf-8", "User-Agent": "mission-ledger"},
    )  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:
            return int(answer.status), answer.read(MAX_ANSWER)
    except urllib.error.HTTPError as e:
        return int(e.code), e.read(MAX_ANSWER)
    except (urllib.error.URLError, OSError) as e:
        return 0, str(getattr(e, "reason", e)).encode()


@dataclass
class Gathered:
    """Gathered is what the witnesses answered: their cosignature lines, and each refusal."""

    lines: list[str] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)


def gather(
    note: str, urls: Sequence[str], subtree: Callable[[int, int], bytes], post: Post = post_add_checkpoint
) -> Gathered:
    """gather asks each witness to cosign `note` (a checkpoint of this log, whose subtree roots
    `subtree(start, end)` gives) and collects what they answer."""
    checkpoint = parse_checkpoint(note)
    out = Gathered()
    for url in urls:
        old, told = 0, False
        while True:
            proof = prove_consistency(old, checkpoint.size, subtree) if 0 < old < checkpoint.size else []
            status, answer = post(url, AddCheckpoint(old, tuple(proof), note).body())
            text = answer.decode("utf-8", "replace").strip()
            if status == 200:
                lines = [line + "\n" for line in text.splitlines() if _LINE.fullmatch(line)]
                if lines:
                    out.lines += lines
                else:
                    out.refusals.append(f"{url}: answered 200 without a cosignature")
                break
            if status == 409 and not told and re.fullmatch(r"0|[1-9][0-9]*", text) and int(text) != old:
                if int(text) > checkpoint.size:
                    out.refusals.append(
                        f"{url}: the witness is at size {text}, past this checkpoint's {checkpoint.size}"
                    )
                    break
                old, told = int(text), True  # the witness said its size: send the proof from there
                continue
            why = f"could not be reached ({text[:200]})" if status == 0 else f"refused with {status}: {text[:300]}"
            out.refusals.append(f"{url}: {why}")
            break
    return out


def cosigner(
    urls: Sequence[str], subtree: Callable[[int, int], bytes], said: Callable[[str], None]
) -> Callable[[str], str]:
    """cosigner is the step that gives a newly signed note its witnesses' cosignatures (for
    LedgerAuditor.sign_checkpoint's `cosign`); each refusal is handed to `said` (a log line, a
    message), never dropped."""
    from ledger.integrity.witness import with_cosignatures

    def cosign(note: str) -> str:
        found = gather(note, urls, subtree)
        for refusal in found.refusals:
            said(refusal)
        return with_cosignatures(note, found.lines)

    return cosign
