"""The names of the ledger's own tables beside eventsourcing's events table (no imports: the
location of a ledger checks for them without loading a store)."""

from __future__ import annotations

LOG_TABLE = "ledger_log"
FRONTIER_TABLE = "ledger_frontier"
META_TABLE = "ledger_meta"
CHECKPOINT_TABLE = "ledger_checkpoints"
#: Roots of complete aligned blocks of the Merkle tree (see merkle.completed_nodes).
NODES_TABLE = "ledger_nodes"
#: Hashes of the service's tokens (SHA-256 of 256 random bits), by their public id: never in an
#: event, the feed or an export (DESIGN §10).
TOKENS_TABLE = "ledger_tokens"
#: The web pages' sessions (DESIGN §11): SHA-256 of the cookie's secret → principal, the token
#: it was opened with, its CSRF secret and its end. Operational state, not history: signing out
#: deletes the row.
SESSIONS_TABLE = "ledger_sessions"
#: Writes sent with an Idempotency-Key (DESIGN §10): SHA-256 of the principal and the key → a
#: fingerprint of the request and the positions it appended, written in the write's own
#: transaction, so that a retry of a write whose answer was lost gets its outcome, never a
#: second write. Kept a day.
IDEMPOTENCY_TABLE = "ledger_idempotency"
