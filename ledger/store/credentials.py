"""What the store keeps beside the log that is not history: the hashes of the service's tokens,
the pages' sessions, and the outcomes of writes sent with an idempotency key. Operational state,
never events: a mixin of the store contract (`LedgerLog`), over the same transactions.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

from ledger.stamps import format_stamp, stored_instant
from ledger.store.names import IDEMPOTENCY_TABLE, SESSIONS_TABLE, TOKENS_TABLE

if TYPE_CHECKING:
    from ledger.store.contract import Cursor

#: How long an idempotency key's outcome is kept.
IDEMPOTENCY_HOURS: Final = 24


@dataclass(frozen=True)
class IdempotencyKey:
    """IdempotencyKey is a write's key as the store keeps it: SHA-256 of who sent it and the key
    (one principal's key never finds another's write), and the request's fingerprint."""

    key_hash: bytes
    fingerprint: bytes


class Credentials:
    """Credentials keeps token hashes, page sessions and idempotency outcomes (part of LedgerLog)."""

    if TYPE_CHECKING:  # the store contract's

        def _reading(self) -> AbstractContextManager[Cursor]: ...

        def _writing(self) -> AbstractContextManager[Cursor]: ...

        def _sql(self, text: str) -> str: ...

        def _table_exists(self, cur: Cursor, name: str) -> bool: ...

    # --- tokens (hashes only) -----------------------------------------------------------------

    #: The DDL of the tokens table in this backend's SQL (set by the backend).
    tokens_ddl: str = ""
    _tokens_ready: bool = False

    def save_token(self, token_hash: bytes, token_id: str, name: str) -> None:
        """save_token keeps a token's hash under its public id. The hash alone signs nobody in:
        the principal's `token_issued` event must follow (a hash whose event never came is inert)."""
        with self._writing() as cur:
            cur.execute(self.tokens_ddl)
            cur.execute(
                self._sql("INSERT INTO {tokens} (token_hash, token_id, name) VALUES (?, ?, ?)"),
                (token_hash, token_id, name),
            )

    def token_holder(self, token_hash: bytes) -> tuple[str, str] | None:
        """token_holder is (token id, principal name) of the token with this hash, or None."""
        with self._reading() as cur:
            if not self._tokens_ready and not self._table_exists(cur, TOKENS_TABLE):
                return None
            self._tokens_ready = True  # a table, once made, stays
            cur.execute(self._sql("SELECT token_id, name FROM {tokens} WHERE token_hash = ?"), (token_hash,))
            row = cur.fetchone()
            return (str(row[0]), str(row[1])) if row else None

    def token_owner(self, token_id: str) -> str | None:
        """token_owner is the name of the principal a token id was issued to, or None."""
        with self._reading() as cur:
            if not self._table_exists(cur, TOKENS_TABLE):
                return None
            cur.execute(self._sql("SELECT name FROM {tokens} WHERE token_id = ?"), (token_id,))
            row = cur.fetchone()
            return str(row[0]) if row else None

    # --- the pages' sessions (hashes only) ------------------------------------------------------

    #: The DDL of the sessions table in this backend's SQL (set by the backend).
    sessions_ddl: str = ""
    _sessions_ready: bool = False

    def save_session(
        self, session_hash: bytes, name: str, token_id: str, csrf: str, started_at: datetime, expires_at: datetime
    ) -> None:
        """save_session keeps a new session (and forgets the sessions that have ended)."""
        with self._writing() as cur:
            if not self._sessions_ready:
                cur.execute(self.sessions_ddl)
            cur.execute(self._sql("DELETE FROM {sessions} WHERE expires_at < ?"), (format_stamp(started_at),))
            cur.execute(
                self._sql(
                    "INSERT INTO {sessions} (session_hash, name, token_id, csrf, started_at, expires_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)"
                ),
                (session_hash, name, token_id, csrf, format_stamp(started_at), format_stamp(expires_at)),
            )
        self._sessions_ready = True

    def session(self, session_hash: bytes) -> tuple[str, str, str, datetime] | None:
        """session is (principal, token id, CSRF secret, end) of a session, or None."""
        with self._reading() as cur:
            if not self._sessions_ready and not self._table_exists(cur, SESSIONS_TABLE):
                return None
            self._sessions_ready = True
            cur.execute(
                self._sql("SELECT name, token_id, csrf, expires_at FROM {sessions} WHERE session_hash = ?"),
                (session_hash,),
            )
            row = cur.fetchone()
            return (str(row[0]), str(row[1]), str(row[2]), stored_instant(row[3])) if row else None

    def sessions(self) -> list[tuple[str, str, str, datetime, datetime]]:
        """sessions lists every kept session as (session id, principal, token id, start, end): the
        id is the first 12 hex digits of the session's hash, which names it and opens nothing."""
        return [(h.hex()[:12], *rest) for h, *rest in self._session_rows()]  # type: ignore[misc]

    def _session_rows(self) -> list[tuple[bytes, str, str, datetime, datetime]]:
        with self._reading() as cur:
            if not self._sessions_ready and not self._table_exists(cur, SESSIONS_TABLE):
                return []
            cur.execute(self._sql("SELECT session_hash, name, token_id, started_at, expires_at FROM {sessions}"))
            return [
                (bytes(r[0]), str(r[1]), str(r[2]), stored_instant(r[3]), stored_instant(r[4])) for r in cur.fetchall()
            ]

    def end_sessions(
        self, *, session_hash: bytes | None = None, token_id: str | None = None, session_id: str | None = None
    ) -> None:
        """end_sessions deletes one session (by its hash, or the id `sessions` lists), or every
        session opened with a token."""
        with self._reading() as cur:
            if not self._sessions_ready and not self._table_exists(cur, SESSIONS_TABLE):
                return
        if session_id is not None:
            hashes = [row[0] for row in self._session_rows() if row[0].hex().startswith(session_id)]
        with self._writing() as cur:
            if session_hash is not None:
                cur.execute(self._sql("DELETE FROM {sessions} WHERE session_hash = ?"), (session_hash,))
            elif session_id is not None:
                cur.executemany(self._sql("DELETE FROM {sessions} WHERE session_hash = ?"), [(h,) for h in hashes])
            else:
                cur.execute(self._sql("DELETE FROM {sessions} WHERE token_id = ?"), (token_id,))

    # --- idempotency keys ------------------------------------------------------------------------

    #: The DDL of the idempotency table in this backend's SQL (set by the backend).
    idempotency_ddl: str = ""
    _idempotency_ready: bool = False

    def prepare_idempotency(self) -> None:
        """prepare_idempotency makes the idempotency table of a ledger made before it existed."""
        if not self._idempotency_ready:
            with self._writing() as cur:
                cur.execute(self.idempotency_ddl)
            self._idempotency_ready = True

    def _remember(self, cur: Cursor, key: IdempotencyKey | None, size: int, count: int, stamp: datetime | None) -> None:
        """Inside a write's transaction: the key's outcome is these positions. A second write
        with the same key fails here (the key is the primary key) and rolls back whole."""
        if key is None or stamp is None:
            return
        since = format_stamp(stamp - timedelta(hours=IDEMPOTENCY_HOURS))
        cur.execute(self._sql("DELETE FROM {idempotency} WHERE recorded_at < ?"), (since,))
        cur.execute(
            self._sql(
                "INSERT INTO {idempotency} (key_hash, fingerprint, first_position, last_position, recorded_at) "
                "VALUES (?, ?, ?, ?, ?)"
            ),
            (key.key_hash, key.fingerprint, size + 1, size + count, format_stamp(stamp)),
        )

    def idempotent_outcome(self, key_hash: bytes) -> tuple[bytes, tuple[int, ...]] | None:
        """idempotent_outcome is (fingerprint, positions) of the write made with a key, or None."""
        with self._reading() as cur:
            if not self._idempotency_ready and not self._table_exists(cur, IDEMPOTENCY_TABLE):
                return None
            cur.execute(
                self._sql("SELECT fingerprint, first_position, last_position FROM {idempotency} WHERE key_hash = ?"),
                (key_hash,),
            )
            row = cur.fetchone()
        if row is None:
            return None
        return bytes(row[0]), tuple(range(int(row[1]), int(row[2]) + 1))
