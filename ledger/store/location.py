"""Where a ledger lives: a SQLite file path or a postgresql:// URL, checked before anything is
opened, and the eventsourcing settings that open it. The only module that knows which backends exist.
"""

from __future__ import annotations

import os
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from ledger.errors import BadInput, StoreUnavailable
from ledger.store.names import META_TABLE

#: The first bytes of every SQLite 3 database file.
SQLITE_HEADER = b"SQLite format 3\x00"
#: PostgreSQL settings a URL may carry, with eventsourcing's names and how each is checked.
_PG_SETTINGS: dict[str, tuple[str, str]] = {
    "schema": ("POSTGRES_SCHEMA", "identifier"),
    "pool_size": ("POSTGRES_POOL_SIZE", "count"),
    "max_overflow": ("POSTGRES_MAX_OVERFLOW", "count"),
    "connect_timeout": ("POSTGRES_CONNECT_TIMEOUT", "seconds"),
    "lock_timeout": ("POSTGRES_LOCK_TIMEOUT", "seconds"),
    "idle_in_transaction_timeout": ("POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT", "seconds"),
}
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


@dataclass(frozen=True)
class StoreLocation:
    """StoreLocation says where a ledger lives: a SQLite file path or a postgresql:// URL.

    A URL may carry eventsourcing's PostgreSQL settings as query parameters: `schema`,
    `pool_size`, `max_overflow`, `connect_timeout`, `lock_timeout`, `idle_in_transaction_timeout`.
    Anything else — an empty name, another database's URL — is refused when the location is made.
    """

    url: str

    def __post_init__(self) -> None:
        if not self.url.strip():
            raise BadInput("--db is empty: give the ledger's SQLite file or a postgresql:// URL")
        scheme, sep, _ = self.url.partition("://")
        if sep and not self.is_postgres and re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", scheme):
            raise BadInput(f"--db {scheme}://…: a ledger is a SQLite file or a postgresql:// URL, not {scheme}")

    @property
    def is_postgres(self) -> bool:
        """is_postgres is true for a postgresql:// URL."""
        return self.url.startswith(("postgresql://", "postgres://"))

    @property
    def path(self) -> Path:
        """path is the SQLite file of the ledger."""
        return Path(self.url)

    @property
    def read_only(self) -> bool:
        """read_only is true for a SQLite ledger this process may read but not write (an
        auditor's copy): its file, or the folder SQLite keeps its journal files in, is not
        writable."""
        if self.is_postgres or not self.path.is_file():
            return False
        return not (os.access(self.path, os.W_OK) and os.access(self.path.parent, os.W_OK))

    def sqlite_uri(self, *, read_only: bool = False) -> str:
        """sqlite_uri is the URI SQLite opens the ledger by. Read-only where asked or where the
        ledger is read-only; `immutable` besides where SQLite could not keep the shared-memory
        file a WAL reader needs (a read-only folder without one): nobody can be writing there."""
        uri = f"file:{quote(str(self.path.resolve()))}"
        if not (read_only or self.read_only):
            return uri
        folder_writable = os.access(self.path.parent, os.W_OK)
        has_wal = Path(f"{self.path}-shm").exists() and Path(f"{self.path}-wal").exists()
        return uri + ("?mode=ro" if folder_writable or has_wal else "?mode=ro&immutable=1")

    def views_path(self) -> Path:
        """views_path is the default views file: beside a SQLite ledger, NAME.views.db; for a
        PostgreSQL ledger, in the current folder, named after the database, schema and ledger
        id, so that two ledgers never share one views file."""
        if self.is_postgres:
            settings = self.postgres_settings()
            name = "-".join(
                part
                for part in (
                    settings["POSTGRES_DBNAME"],
                    settings.get("POSTGRES_SCHEMA"),
                    (postgres_ledger_id(self) or "")[:8],
                )
                if part
            )
            return Path(f"{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}.views.db")
        p = self.path
        return p.with_name(f"{p.stem}.views.db")

    def describe(self) -> str:
        """describe names the store for messages, never with a password."""
        if not self.is_postgres:
            return str(self.path)
        parts = urlsplit(self.url)
        host = parts.hostname or "localhost"
        user = f"{unquote(parts.username)}@" if parts.username else ""
        _, _, port = parts.netloc.rpartition("@")[2].partition(":")
        port = f":{port}" if port else ""
        schema = dict(parse_qsl(parts.query)).get("schema")
        return f"postgresql://{user}{host}{port}{parts.path}" + (f" (schema {schema})" if schema else "")

    def exists(self) -> bool:
        """exists is true when a ledger was initialised here; false where one can be made. A
        folder, a file that is not SQLite, a views file, a server that refuses (with its
        reason) is one clear error."""
        if self.is_postgres:
            return postgres_ledger_exists(self)
        if self.path.is_dir():
            raise BadInput(f"--db {self.path} is a folder; give the ledger's file (e.g. {self.path / 'ledger.db'})")
        if not self.path.is_file():
            return False
        try:
            with self.path.open("rb") as f:
                header = f.read(len(SQLITE_HEADER))
        except OSError as e:
            raise StoreUnavailable(f"cannot read {self.path}: {e.strerror}") from e
        if not header:
            return False  # an empty file: SQLite makes a database of it
        if header != SQLITE_HEADER:
            raise BadInput(f"{self.path} is not a mission-ledger file (not a SQLite database); give the ledger's file")
        try:
            con = sqlite3.connect(self.sqlite_uri(read_only=True), uri=True)
            try:
                tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            finally:
                con.close()
        except sqlite3.DatabaseError as e:
            raise StoreUnavailable(f"{self.path} is not a mission-ledger file: {e}") from e
        if META_TABLE not in tables and "_meta" in tables and "record_versions" in tables:
            raise BadInput(
                f"{self.path} is a views file, not a ledger: give the ledger with --db (and this with --views)"
            )
        if META_TABLE not in tables and tables:
            raise BadInput(f"{self.path} is a SQLite database but not a mission-ledger file")
        return META_TABLE in tables

    def postgres_settings(self) -> dict[str, str]:
        """postgres_settings maps the URL onto eventsourcing's POSTGRES_* settings; the password
        comes from the URL, else PGPASSWORD, else (left empty) libpq's ~/.pgpass."""
        parts = urlsplit(self.url)
        if not parts.path.strip("/"):
            raise BadInput(f"{self.describe()}: the URL names no database (postgresql://user@host:port/dbname)")
        try:
            port = parts.port
        except ValueError as e:
            raise BadInput(f"{self.describe()}: the port is not a number") from e
        settings = {
            "POSTGRES_DBNAME": unquote(parts.path.lstrip("/")),
            "POSTGRES_HOST": parts.hostname or "localhost",
            "POSTGRES_PORT": str(port or 5432),
            "POSTGRES_USER": unquote(parts.username or os.environ.get("PGUSER", "postgres")),
            "POSTGRES_PASSWORD": unquote(parts.password or os.environ.get("PGPASSWORD", "")),
            "POSTGRES_CONNECT_TIMEOUT": "5",
            "POSTGRES_LOCK_TIMEOUT": "30",
            "POSTGRES_POOL_SIZE": "2",
            "POSTGRES_MAX_OVERFLOW": "4",
        }
        for key, value in parse_qsl(parts.query, keep_blank_values=True):
            if key not in _PG_SETTINGS:
                raise BadInput(f"{self.describe()}: unknown setting {key!r} (known: {', '.join(_PG_SETTINGS)})")
            name, kind = _PG_SETTINGS[key]
            if kind == "identifier" and not _IDENTIFIER.fullmatch(value):
                raise BadInput(f"{self.describe()}: {key}={value!r} is not a schema name (letters, digits, _)")
            if kind == "count" and not (value.isascii() and value.isdigit() and int(value) <= 1000):
                raise BadInput(f"{self.describe()}: {key}={value!r} is not a whole number (0–1000)")
            if kind == "seconds" and not re.fullmatch(r"\d{1,6}(\.\d+)?", value):
                raise BadInput(f"{self.describe()}: {key}={value!r} is not a number of seconds")
            settings[name] = value
        return settings


def store_environment(location: StoreLocation) -> dict[str, str]:
    """store_environment is the eventsourcing environment that opens `location`."""
    if location.is_postgres:
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "ORIGINATOR_ID_TYPE": "text",
            "APPLICATION_RECORDER_TOPIC": "ledger.store.postgres:PostgresLedgerRecorder",
            **location.postgres_settings(),
        }
    parent = location.path.parent
    if not parent.exists():
        raise StoreUnavailable(f"cannot open ledger {location.path}: folder {parent} does not exist")
    return {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": location.sqlite_uri() if location.read_only else os.fspath(location.path),
        "SQLITE_LOCK_TIMEOUT": "30",
        "ORIGINATOR_ID_TYPE": "text",
        "APPLICATION_RECORDER_TOPIC": "ledger.store.sqlite:SQLiteLedgerRecorder",
    }


def translate_store_error(error: Exception, location: StoreLocation) -> StoreUnavailable:
    """translate_store_error turns a storage failure into one line naming the store (no password)."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    password = urlsplit(location.url).password if location.is_postgres else None
    if password:
        text = text.replace(password, "***")
    return StoreUnavailable(f"ledger {location.describe()}: {text}")


# --- asking a PostgreSQL server, before eventsourcing opens its pool ---------------------------


def _probe(location: StoreLocation, sql: str, params: tuple[Any, ...]) -> Any:
    """One query on a connection of its own, before eventsourcing's pool: a refused connection
    (wrong password, missing database, server down) fails at once with the server's reason,
    where the pool would wait and say only that it got no connection."""
    import psycopg  # only where a PostgreSQL ledger is opened

    settings = location.postgres_settings()
    try:
        with psycopg.connect(
            dbname=settings["POSTGRES_DBNAME"],
            host=settings["POSTGRES_HOST"],
            port=int(settings["POSTGRES_PORT"]),
            user=settings["POSTGRES_USER"],
            password=settings["POSTGRES_PASSWORD"] or None,
            connect_timeout=max(1, int(float(settings["POSTGRES_CONNECT_TIMEOUT"]))),
        ) as conn:
            row = conn.execute(sql, params).fetchone()
    except psycopg.Error as e:
        raise translate_store_error(e, location) from e
    except ValueError as e:
        raise StoreUnavailable(f"ledger {location.describe()}: {e}") from e
    return row[0] if row else None


def _schema(location: StoreLocation) -> str:
    return location.postgres_settings().get("POSTGRES_SCHEMA", "public") or "public"


def postgres_ledger_exists(location: StoreLocation) -> bool:
    """postgres_ledger_exists is true when the URL's database holds an initialised ledger;
    an unreachable server, a wrong password or a missing database is one clear error."""
    found = _probe(location, "SELECT to_regclass(%s)", (f'"{_schema(location)}"."{META_TABLE}"',))
    return found is not None


def postgres_ledger_id(location: StoreLocation) -> str | None:
    """postgres_ledger_id is the ledger's id (set at init), or None where there is no ledger."""
    if not postgres_ledger_exists(location):
        return None
    value = _probe(location, f'SELECT value FROM "{_schema(location)}"."{META_TABLE}" WHERE key = %s', ("ledger_id",))
    return str(value) if value is not None else None
