"""A writer process for the exact-outcome test: N attempts at correcting the shared record, each
on the version it just read, printing one JSON line per attempt: what the ledger told it."""

from __future__ import annotations

import json
import sys

from ledger.application import MissionLedger
from ledger.domain.values import Fields
from ledger.errors import Conflict


def main() -> int:
    url, number, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    app = MissionLedger(url, actor=f"writer{number}")
    for i in range(rounds):
        staff = number * 1000 + i
        # Half the writers say which version they read; the others let the store's key catch them.
        version = app.state("6810103", "INF-01").version if number % 2 else None
        try:
            receipt = app.correct("6810103", "INF-01", set=Fields(staff=staff), reason="count", expect_version=version)
            print(json.dumps({"staff": staff, "ok": list(receipt.positions)}), flush=True)
        except Conflict as e:
            print(json.dumps({"staff": staff, "conflict": str(e)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
