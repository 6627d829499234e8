"""A writer process for the PostgreSQL concurrency test: N rounds of correcting the shared record
(racing the other writers, with --expect-version) and recording a record of its own LAO.
Prints "wins conflicts"."""

from __future__ import annotations

import sys
from datetime import date

from ledger.application import MissionLedger
from ledger.domain.values import Fields
from ledger.errors import Conflict

OWN_LAO = ["6810104", "6810105", "6810106", "6810107"]  # four SAOs of Krabi
MISSIONS = [
    "INF-01",
    "INF-02",
    "INF-03",
    "INF-04",
    "INF-05",
    "INF-06",
    "INF-07",
    "INF-08",
    "QOL-01",
    "QOL-02",
    "QOL-03",
    "QOL-05",
    "QOL-06",
    "QOL-07",
    "QOL-08",
    "QOL-09",
    "QOL-10",
    "ORD-01",
    "ORD-02",
    "PIC-01",
    "PIC-02",
    "PIC-04",
    "NRE-01",
    "NRE-03",
    "NRE-04",
    "ART-01",
    "ART-02",
]


def main() -> int:
    url, number, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    app = MissionLedger(url, actor=f"writer{number}")
    wins = conflicts = 0
    for i in range(rounds):
        version = app.state("6810103", "INF-01").version
        try:
            app.correct(
                "6810103", "INF-01", set=Fields(staff=number * 1000 + i), reason="count", expect_version=version
            )
            wins += 1
        except Conflict:
            conflicts += 1
        app.record(OWN_LAO[number], MISSIONS[i], effective_from=date(2024, 1, 1), values=Fields(status="not_yet"))
    print(wins, conflicts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
