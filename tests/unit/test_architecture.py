"""The architecture as a test: which module may import which, no import cycle, and a store that
leaves out part of the contract cannot be made."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("ledger", "projections", "service", "cli")
# Modules of the pure domain may import only the standard library, msgspec and each other.
PURE_ALLOWED = {"msgspec", "ledger.domain", "ledger.errors"}


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def _imports(path: Path) -> list[tuple[str, bool]]:
    """Every module `path` imports, and whether it does so at the top (not inside a function)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {id(node) for node in tree.body}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.module, id(node) in top))
        elif isinstance(node, ast.Import):
            out += [(alias.name, id(node) in top) for alias in node.names]
    return out


MODULES = _modules()
LAYER = {"ledger": 0, "projections": 1, "service": 2, "cli": 3}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_arrows_point_down_only(module: str) -> None:
    """cli may import the service, projections and ledger (the service only inside `serve`); the
    service projections and ledger; projections ledger; ledger none of them."""
    mine = LAYER[module.split(".")[0]]
    for imported, _ in _imports(MODULES[module]):
        top = imported.split(".")[0]
        if top in LAYER:
            assert LAYER[top] <= mine, f"{module} imports {imported}: arrows point down only"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith("ledger.domain")))
def test_the_domain_is_pure(module: str) -> None:
    import sys

    for imported, _ in _imports(MODULES[module]):
        top = imported.split(".")[0]
        if top in sys.stdlib_module_names:
            assert top not in {"sqlite3", "socket", "subprocess", "os", "shutil"}, f"{module} does I/O: {imported}"
            continue
        assert any(imported == a or imported.startswith(a + ".") for a in PURE_ALLOWED), (
            f"{module} imports {imported}: the domain imports nothing that does I/O"
        )


def test_the_store_contract_names_no_backend_and_only_location_knows_them() -> None:
    backends = {"ledger.store.sqlite", "ledger.store.postgres"}
    for module, path in MODULES.items():
        if module in backends:
            continue
        named = {i for i, _ in _imports(path)} & backends
        assert not named, f"{module} imports {named}: only ledger.store.location knows the backends"
    location = (ROOT / "ledger/store/location.py").read_text(encoding="utf-8")
    assert "ledger.store.sqlite:" in location and "ledger.store.postgres:" in location


def test_no_import_cycle() -> None:
    graph = {
        module: {i for i, top in _imports(path) if top and i in MODULES and i != module}
        for module, path in MODULES.items()
    }
    seen: dict[str, int] = {}  # 1: on the path, 2: done

    def visit(module: str, path: list[str]) -> None:
        seen[module] = 1
        for nxt in sorted(graph[module]):
            if seen.get(nxt) == 1:
                raise AssertionError(f"import cycle: {' → '.join([*path, module, nxt])}")
            if nxt not in seen:
                visit(nxt, [*path, module])
        seen[module] = 2

    for module in sorted(graph):
        if module not in seen:
            visit(module, [])


def test_a_store_that_leaves_out_part_of_the_contract_cannot_be_made(db_path: Path) -> None:
    from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore

    from ledger.store.contract import LedgerLog

    class Incomplete(LedgerLog, SQLiteApplicationRecorder):
        """A backend with none of the log's own methods."""

    with pytest.raises(TypeError, match="abstract"):
        Incomplete(SQLiteDatastore(str(db_path)))  # type: ignore[abstract]


def test_the_command_line_starts_without_loading_the_store_or_the_views() -> None:
    """`mission-ledger --help` and commands that need no ledger start fast: importing the command
    line loads no event store, database driver, views library, spreadsheet or crypto library."""
    import subprocess
    import sys

    heavy = (
        "eventsourcing", "psycopg", "sqlite_utils", "openpyxl", "cryptography", "babel", "msgspec", "litestar",
        "uvicorn",
    )  # fmt: skip
    code = f"import sys, cli.main; print(','.join(m for m in {heavy!r} if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert loaded.stdout.strip() == "", f"import cli.main loads {loaded.stdout.strip()}"


def test_the_designs_file_map_names_every_module_and_none_is_over_600_lines() -> None:
    design = (ROOT / "docs" / "design.md").read_text(encoding="utf-8")
    block = design.split("## 5. Architecture", 1)[1].split("```", 2)[1]
    named = set(re.findall(r"[a-z_0-9]+", block))
    missing, long = [], []
    for package in ("ledger", "projections", "service", "cli"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if path.name == "__init__.py" and path.parent.name != "i18n":
                continue
            module = path.stem if path.name != "__init__.py" else path.parent.name
            if module not in named:
                missing.append(str(path.relative_to(ROOT)))
            lines = len(path.read_text(encoding="utf-8").splitlines())
            if lines > 600:
                long.append(f"{path.relative_to(ROOT)} ({lines})")
    assert not missing, f"docs/design.md §5 does not name: {', '.join(missing)}"
    assert not long, f"over 600 lines: {', '.join(long)}"


def test_the_api_and_the_pages_are_siblings() -> None:
    for face, other in (("api", "pages"), ("pages", "api")):
        for path in sorted((ROOT / "service" / face).glob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
                names += [a.name for a in node.names] if isinstance(node, ast.Import) else []
                assert not any(n.startswith(f"service.{other}") for n in names), f"{path.name} imports service.{other}"
