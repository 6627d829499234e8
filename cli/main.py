"""The `mission-ledger` command line (docs/design.md §9): each command is a thin layer over one
library call. The commands live by subject: records (the six record commands, show, history),
reading (as-of, changes, report, export), imports, feed (feed, schema), integrity (keys,
checkpoints, verify, proofs) and admin (init, registry, catalog, copy, project, demo)."""

from __future__ import annotations

import sys

from cli import admin, feed, imports, integrity, reading, records, reference  # noqa: F401  (importing registers the commands)
from cli.base import cli


def main() -> None:
    """main is the console script's entry point."""
    cli(prog_name="mission-ledger")


__all__ = ["cli", "main"]

if __name__ == "__main__":  # pragma: no cover
    main()
    sys.exit(0)
