"""The one root exception of mission-ledger, and its kinds.

Every error a user can cause is a `LedgerError` whose message says what was wrong and where.
The kind decides the exit code the CLI returns (docs/design.md §9): 1 a refused command or failed check,
2 bad usage or bad input, 3 not found.
"""

from __future__ import annotations


class LedgerError(Exception):
    """Root of every foreseeable error; `str(error)` is one line a person can act on."""

    exit_code = 1


class BadInput(LedgerError):
    """A value the user typed or a file supplied is malformed or out of range."""

    exit_code = 2


class Refused(LedgerError):
    """A well-formed command that the ledger's rules refuse (e.g. cancelling a cancelled record)."""

    exit_code = 1


class Conflict(Refused):
    """Another writer got there first: the record is not at the version this write expected."""


class Backdating(Refused):
    """The ledger clock is earlier than an event already recorded."""


class NotFound(LedgerError):
    """An LAO, mission or mission record that does not exist (at the asked time)."""

    exit_code = 3


class StoreUnavailable(LedgerError):
    """The event store cannot be opened or reached."""

    exit_code = 1
