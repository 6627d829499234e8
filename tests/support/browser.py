"""Debian's chromium driven by Playwright, as a person uses the pages: no browser is downloaded
(none can be here); the Thai fonts are the system's (fonts-thai-tlwg) and the pages' own Sarabun.

`axe_problems` runs the vendored axe-core (tests/assets, MPL-2.0) in the page and returns its
serious and critical violations; `overflow` says how far a page is wider than its viewport."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

ASSETS = Path(__file__).resolve().parents[1] / "assets"
AXE = ASSETS / "axe-4.14.1.min.js"
#: As the machine's probe started it: without the background-networking flags chromium keeps
#: trying hosts this closed network refuses.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
WIDTHS = {"desktop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}


def chromium_path() -> str:
    """chromium_path is Debian's chromium; a missing browser fails the tests (never skips them)."""
    found = os.environ.get("MISSION_LEDGER_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(found).exists():
        raise RuntimeError("the page tests need Debian's chromium: apt-get install chromium fonts-thai-tlwg")
    return found


def launch(playwright: Any) -> Any:
    """launch starts headless chromium."""
    return playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)


def axe_problems(page: Any) -> list[str]:
    """axe_problems is every serious or critical axe-core violation on the page, as text."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".filter(v => v.impact === 'serious' || v.impact === 'critical')"
        ".map(v => v.id + ' (' + v.impact + '): ' + v.help + ' — ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '))"
    )
    return list(result)


def overflow(page: Any) -> int:
    """overflow is how many CSS pixels the page is wider than its viewport (0: nothing sticks out)."""
    return int(page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth"))


def screenshots_folder(default: Path) -> Path:
    """screenshots_folder is where the tests write their screenshots: MISSION_LEDGER_SCREENSHOTS
    (docs/screenshots, to refresh the committed ones), else a temporary folder."""
    folder = Path(os.environ.get("MISSION_LEDGER_SCREENSHOTS") or default)
    folder.mkdir(parents=True, exist_ok=True)
    return folder
