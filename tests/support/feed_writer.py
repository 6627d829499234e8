"""A writer process for the live-feed test: appends COUNT events to the ledger at LOCATION, each a
record or a correction of one of its LAO's records, with short pauses (so that streams follow a
ledger that grows while they read). Usage: python -m tests.feed_writer LOCATION LAO COUNT."""

from __future__ import annotations

import random
import sys
import time
from datetime import date

from ledger.application import MissionLedger
from ledger.domain.values import Fields

MISSIONS = ["INF-03", "INF-04", "INF-06", "INF-07", "INF-08", "QOL-07", "QOL-09", "QOL-10"]


def main() -> None:
    location, lao, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    app = MissionLedger(location, actor=f"writer-{lao}")
    rng = random.Random(lao)
    recorded: set[str] = set()
    for i in range(count):
        mission = rng.choice(MISSIONS)
        if mission in recorded:
            app.correct(lao, mission, set=Fields(staff=i), reason="feed test")
        else:
            app.record(lao, mission, effective_from=date(2024, 10, 1), values=Fields(status="operating", staff=i))
            recorded.add(mission)
        time.sleep(rng.uniform(0, 0.02))
    app.close()


if __name__ == "__main__":
    main()
