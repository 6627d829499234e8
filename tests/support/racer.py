"""A writer process for the concurrency tests: it reads a record, waits until every other
racer has read it too (a barrier of files), then corrects it. Exit 0 if its write won,
1 with the error on stderr if it was refused.

Usage: python racer.py LEDGER BARRIER_DIR NAME PARTIES STAFF
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from ledger.application import MissionLedger
from ledger.domain.values import Fields
from ledger.errors import LedgerError


class RacingLedger(MissionLedger):
    """The ledger with one seam swapped: reading a record waits at the barrier afterwards,
    so every racer decides on the same version before any of them writes."""

    barrier: Path
    name_: str
    parties: int

    def record_events(self, lao_code: str, mission_code: str):  # type: ignore[no-untyped-def]
        events = super().record_events(lao_code, mission_code)
        (self.barrier / self.name_).touch()
        deadline = time.monotonic() + 30
        while len(list(self.barrier.iterdir())) < self.parties:
            if time.monotonic() > deadline:
                raise SystemExit("barrier timed out")
            time.sleep(0.005)
        return events


def main() -> int:
    ledger_path, barrier, name, parties, staff = sys.argv[1:6]
    app = RacingLedger(ledger_path, actor=name)
    app.barrier, app.name_, app.parties = Path(barrier), name, int(parties)
    try:
        app.correct("6810103", "INF-01", set=Fields(staff=int(staff)), reason=f"{name} counts {staff}")
    except LedgerError as e:
        print(f"{type(e).__name__}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
