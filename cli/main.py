"""The `mission-ledger` command line (docs/design.md §9): each command is a thin layer over one
library call. The commands live by subject: records (the six record commands, show, history),
reading (as-of, changes, report, export), imports, feed (feed, schema), integrity (keys,
checkpoints, verify, proofs) and admin (init, registry, catalog, copy, project, demo)."""

from __future__ import annotations

import sys

import click

from cli import access, admin, feed, imports, integrity, reading, records, reference, rounds, serve, tiles, witness  # noqa: F401  (importing registers the commands)
from cli.base import LedgerContext, cli

#: The one line each command shows in `mission-ledger --help`, whole (the first sentence of its
#: help, which `COMMAND --help` prints in full, is often longer than a terminal line).
SUMMARIES = {
    "as-of": "All records as known at a time, valid on a date.",
    "cancel": "Record a cancellation from a date on.",
    "catalog": "The catalog of missions (load).",
    "change": "Record that circumstances changed from a date on.",
    "changes": "What was corrected, changed or cancelled, when.",
    "checkpoint": "Sign a checkpoint of the whole ledger.",
    "copy": "Copy a ledger to another store, root unchanged.",
    "correct": "Correct an earlier report that was wrong.",
    "demo": "Run a worked example (Krabi, fiscal year 2568).",
    "export": "Export records as known at a time (CSV, XLSX).",
    "feed": "Print events as CloudEvents, one per line.",
    "history": "Every event of a mission record, with changes.",
    "import": "Import a CSV, XLSX or JSON-lines file as a batch.",
    "init": "Create the ledger.",
    "keygen": "Write a key pair for signing checkpoints.",
    "laos": "Find LAOs by code or Thai name.",
    "missions": "Find missions by code or Thai name.",
    "project": "Bring the views up to date (or rebuild them).",
    "principal": "Principals of the service and their roles.",
    "prove": "Write inclusion and consistency proofs.",
    "record": "Record a mission record: an LAO's first report.",
    "registry": "The registry of LAOs (load).",
    "reinstate": "Reverse a cancellation from a date on.",
    "report": "Reports for provincial offices (completeness).",
    "round": "Reporting rounds: start and deadline.",
    "schema": "Print the JSON Schema of every event's data.",
    "serve": "Serve the ledger over HTTP (the API).",
    "session": "The pages' open sessions: list, end.",
    "show": "Show a mission record at a time, on a date.",
    "tiles": "The log as C2SP tiles, for mirrors.",
    "verify": "Check every event, checkpoint and the views.",
    "witness": "A witness that cosigns logs' checkpoints.",
    "verify-proof": "Check a proof file offline.",
    "token": "Tokens that sign principals in to the service.",
    "void": "Void a record entered in error.",
}
for _name, _summary in SUMMARIES.items():
    cli.commands[_name].short_help = _summary


def _speaking(command: click.Command) -> None:
    """Every command's context writes its help in the working language (cli.base.TranslatedHelp)."""
    command.context_class = LedgerContext
    if command.short_help is None and command.help:
        # A group lists its commands by their first paragraph, whole (click would cut the English
        # short, and a cut text is in no catalog).
        first = command.help.split("\n\n", 1)[0]
        command.short_help = " ".join(line.strip() for line in first.splitlines())
    for sub in getattr(command, "commands", {}).values():
        _speaking(sub)


_speaking(cli)


def main() -> None:
    """main is the console script's entry point."""
    cli(prog_name="mission-ledger")


__all__ = ["cli", "main"]

if __name__ == "__main__":  # pragma: no cover
    main()
    sys.exit(0)
