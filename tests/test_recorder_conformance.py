"""eventsourcing's own recorder test cases, run against the recorder the ledger uses.

The ledger's recorder adds a log (position, leaf hash, recorded_at) to eventsourcing's SQLite
application recorder; these shipped cases prove it still keeps eventsourcing's contract.
"""

from __future__ import annotations

import os
import tempfile
from uuid import uuid4

from eventsourcing.tests.persistence import ApplicationRecorderTestCase

from ledger.sqlite_store import SQLiteDatastore, SQLiteLedgerRecorder


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


del ApplicationRecorderTestCase  # run only through the subclass above
