"""eventsourcing's own recorder test cases, run against the recorder the ledger uses.

The ledger's recorder adds a log (position, leaf hash, recorded_at) to eventsourcing's SQLite
application recorder; these shipped cases prove it still keeps eventsourcing's contract.
"""

from __future__ import annotations

import os
import tempfile
from uuid import uuid4

from eventsourcing.tests.persistence import ApplicationRecorderTestCase

from ledger.store.sqlite import SQLiteDatastore, SQLiteLedgerRecorder


class _FileDatabase:
    def setUp(self) -> None:
        self.folder = tempfile.TemporaryDirectory()
        self.db_name = os.path.join(self.folder.name, "ledger.db")

    def tearDown(self) -> None:
        self.folder.cleanup()

    def new_originator_id(self) -> str:
        return f"record/{uuid4()}"

    def create_recorder(self) -> SQLiteLedgerRecorder:
        recorder = SQLiteLedgerRecorder(SQLiteDatastore(self.db_name, originator_id_type="text"))
        recorder.create_table()
        return recorder


class TestLedgerRecorderAsApplicationRecorder(_FileDatabase, ApplicationRecorderTestCase):
    def test_insert_select(self) -> None:
        super().test_insert_select()
        # Every event the contract wrote also has a position and a leaf in the ledger's log.
        recorder = self.create_recorder()
        assert recorder.log_size() == recorder.max_notification_id()


class TestPostgresLedgerRecorderAsApplicationRecorder(ApplicationRecorderTestCase):  # type: ignore[misc]
    """The same shipped cases on the PostgreSQL recorder, in a schema of its own."""

    def setUp(self) -> None:
        from tests.conftest import PG_URL, require_postgres

        require_postgres()
        from urllib.parse import urlsplit

        parts = urlsplit(PG_URL)
        self.schema = f"c_{uuid4().hex[:12]}"
        self.url = PG_URL
        self.settings = {
            "dbname": parts.path.lstrip("/"),
            "host": parts.hostname or "127.0.0.1",
            "port": str(parts.port or 5432),
            "user": parts.username or "postgres",
            "password": parts.password or "",
        }

    def tearDown(self) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')

    def new_originator_id(self) -> str:
        return f"record/{uuid4()}"

    def create_recorder(self):  # type: ignore[no-untyped-def]
        from eventsourcing.postgres import PostgresDatastore

        from ledger.store.postgres import PostgresLedgerRecorder

        datastore = PostgresDatastore(
            **self.settings, schema=self.schema, originator_id_type="text", pool_size=4, max_overflow=10
        )
        recorder = PostgresLedgerRecorder(datastore, events_table_name="conformance_events")
        recorder.create_table()
        return recorder


del ApplicationRecorderTestCase  # run only through the subclasses above
