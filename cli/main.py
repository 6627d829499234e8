"""The `mission-ledger` command line (DESIGN §9): each command is a thin layer over one
library call; the commands live in cli/write.py and cli/read.py."""

from __future__ import annotations

import sys

from cli import integrity, read, write  # noqa: F401  (importing registers the commands)
from cli.base import cli


def main() -> None:
    """main is the console script's entry point."""
    cli(prog_name="mission-ledger")


__all__ = ["cli", "main"]

if __name__ == "__main__":  # pragma: no cover
    main()
    sys.exit(0)
