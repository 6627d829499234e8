"""The one root exception of mission-ledger, and its kinds.

Every error a user can cause is a `LedgerError` whose message says what was wrong and where.
The kind decides the exit code the CLI returns (docs/design.md §9): 1 a refused command or failed check,
2 bad usage or bad input, 3 not found.
"""

from __future__ import annotations


class LedgerError(Exception):
    """Root of every foreseeable error; `str(error)` is one line a person can act on. `field`
    names the input that was wrong, where one was (the API's problem documents carry it)."""

    exit_code = 1

    def __init__(self, message: str = "", *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        #: Other inputs refused at the same time (a form reports every field it can at once);
        #: `str(error)` stays the first.
        self.also: tuple[LedgerError, ...] = ()


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


class Unauthenticated(LedgerError):
    """No token, or one that is unknown, expired or revoked (HTTP 401)."""

    exit_code = 1


class Forbidden(Refused):
    """The principal is signed in but its roles do not cover what it asked (HTTP 403)."""


class StaleVersion(Conflict):
    """An If-Match version that is no longer the record's (HTTP 412)."""


class Unprocessable(BadInput):
    """Well-formed input that cannot be taken as sent (HTTP 422): values that each parse but
    not together (two scopes at once, old after new), an Idempotency-Key reused for another
    request, a file of a kind the import does not read, a position outside the checkpoint."""


class FormExpired(Forbidden):
    """A page's form whose CSRF secret is not its session's (HTTP 403): expired, or sent by
    another site."""
