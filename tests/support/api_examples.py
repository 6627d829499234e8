"""The examples of docs/api.md as data: each curl command, the files it uploads and the answer
shown after it; a runner that sends them to a served ledger; a matcher that reads `"…"` as a value
that differs from run to run. `python -m tests.api_examples URL TOKENS.json` rewrites the answers
from a live service (then mark what varies with "…" by hand)."""

from __future__ import annotations

import contextlib
import json
import re
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
ANY = "…"
_BLOCK = re.compile(r"^```(\w*)\n(.*?)^```\n", re.S | re.M)
_FILE = re.compile(r"^`([\w.-]+)`:\s*$", re.M)


@dataclass
class Example:
    """Example is one curl command and the answer docs/api.md shows for it."""

    command: str
    status: int
    headers: dict[str, str]
    body: str
    span: tuple[int, int]  # where the answer block is in the document
    files: dict[str, bytes] = field(default_factory=dict)


def examples(text: str) -> list[Example]:
    """examples reads every (```sh curl …```, ```http answer```) pair, in order."""
    found: list[Example] = []
    files: dict[str, bytes] = {}
    blocks = list(_BLOCK.finditer(text))
    for i, block in enumerate(blocks):
        kind, content = block.group(1), block.group(2)
        if kind == "csv":
            names = _FILE.findall(text[: block.start()])
            files[names[-1]] = content.encode("utf-8")
        if kind != "sh" or not content.lstrip().startswith("curl") or i + 1 >= len(blocks):
            continue
        answer = blocks[i + 1]
        if answer.group(1) != "http":
            continue
        head, _, body = answer.group(2).partition("\n\n")
        status_line, *header_lines = head.splitlines()
        headers = dict(line.split(": ", 1) for line in header_lines)
        found.append(
            Example(content, int(status_line.split()[1]), headers, body, (answer.start(2), answer.end(2)), dict(files))
        )
    return found


def send(example: Example, url: str, tokens: dict[str, str]) -> httpx.Response | tuple[int, dict[str, str], str]:
    """send runs one example's curl command with httpx (an event stream: until as many events as
    the document shows have come, at most 10 s)."""
    command = example.command.replace("\\\n", " ").replace("$URL", url)
    for name, token in tokens.items():
        command = command.replace(f"${name}", token)
    words = shlex.split(command)[1:]
    method, headers, data, files, stream, target = "GET", {}, None, {}, False, ""
    it = iter(words)
    for word in it:
        if word in ("-s", "--silent"):
            continue
        if word == "-N":
            stream = True
        elif word == "-X":
            method = next(it)
        elif word == "-H":
            name, value = next(it).split(": ", 1)
            headers[name] = value
        elif word in ("-d", "--data"):
            data = next(it).encode("utf-8")
            method = "POST" if method == "GET" else method
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")  # as curl sends it
        elif word == "-F":
            key, _, ref = next(it).partition("=@")
            files[key] = (ref, example.files[ref], "text/csv")
            method = "POST" if method == "GET" else method
        else:
            target = word
    if stream:
        wanted = example.body.count("\nid: ") + example.body.startswith("id: ")
        events: list[str] = []
        current: list[str] = []
        with httpx.stream(method, target, headers=headers, timeout=10) as answer:
            for line in answer.iter_lines():
                if line:
                    current.append(line)
                    continue
                # An event ends at a blank line; the greeting and keep-alives (comments, retry) are not shown.
                if any(x.startswith("id: ") for x in current):
                    events.append("\n".join(current))
                current = []
                if len(events) >= wanted:
                    break
            return answer.status_code, dict(answer.headers), "\n\n".join(events) + "\n"
    return httpx.request(method, target, headers=headers, content=data, files=files or None, timeout=30)


def matches(shown: Any, actual: Any) -> bool:
    """matches: equal, where "…" matches any value and a list ending in "…" any longer list."""
    if shown == ANY:
        return True
    if isinstance(shown, dict) and isinstance(actual, dict):
        return shown.keys() == actual.keys() and all(matches(shown[k], actual[k]) for k in shown)
    if isinstance(shown, list) and isinstance(actual, list):
        if shown and shown[-1] == ANY:
            return len(actual) >= len(shown) - 1 and all(
                matches(s, a) for s, a in zip(shown[:-1], actual, strict=False)
            )
        return len(shown) == len(actual) and all(matches(s, a) for s, a in zip(shown, actual, strict=True))
    return bool(shown == actual)


def text_matches(shown: str, actual: str) -> bool:
    """text_matches compares line by line; a line "…" matches every line from there on."""
    for want, got in zip(shown.splitlines(), [*actual.splitlines(), *[""] * len(shown.splitlines())], strict=False):
        if want == ANY:
            return True
        if want != got:
            return False
    return len(actual.splitlines()) == len(shown.splitlines())


def pretty(value: Any, indent: str = "") -> str:
    """pretty prints JSON for a reader: one key per line, short lists and objects on one line."""
    flat = json.dumps(value, ensure_ascii=False)
    if len(flat) + len(indent) <= 100 or not isinstance(value, (dict, list)) or not value:
        return flat
    inner = indent + "  "
    if isinstance(value, dict):
        items = [f"{inner}{json.dumps(k, ensure_ascii=False)}: {pretty(v, inner)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + f"\n{indent}}}"
    return "[\n" + ",\n".join(f"{inner}{pretty(v, inner)}" for v in value) + f"\n{indent}]"


def fill(url: str, tokens: dict[str, str]) -> None:
    """fill writes the live answers into docs/api.md (for a maintainer; the test never writes)."""
    text = DOC.read_text(encoding="utf-8")
    out, last = [], 0
    for example in examples(text):
        answer = send(example, url, tokens)
        if isinstance(answer, tuple):
            status, headers, body = answer
        else:
            status, headers, body = answer.status_code, dict(answer.headers), answer.text
            with contextlib.suppress(ValueError):
                body = pretty(json.loads(body)) + "\n"
        reason = httpx.codes.get_reason_phrase(status)
        kept = {k: v for k, v in example.headers.items()}
        for k in kept:
            kept[k] = next((v for h, v in headers.items() if h.lower() == k.lower()), kept[k])
        head = "\n".join([f"HTTP/1.1 {status} {reason}", *(f"{k}: {v}" for k, v in kept.items())])
        out.append(text[last : example.span[0]] + head + "\n\n" + body)
        last = example.span[1]
    out.append(text[last:])
    DOC.write_text("".join(out), encoding="utf-8")


if __name__ == "__main__":
    fill(sys.argv[1], json.loads(Path(sys.argv[2]).read_text()))
