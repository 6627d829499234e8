"""Views that follow a large import as it is appended, in a process of their own.

The views of an import used to be read back from the ledger once it had committed — its events
read, decoded and applied page by page — while the person who imported waited. Following, the
importing process hands each chunk's stored events, as it appends them, to a views process that
applies them on the machine's other core, in one views transaction. That transaction commits only
after the ledger's has (views ahead of their ledger are refused) and rolls back when the batch
does. Whatever goes wrong on the views' side, the process stands down and the ordinary catch-up
does the work after the commit: following saves time, it never decides anything, and a batch
never fails because of it.

A small batch is not worth a process (about 0.2 s to start one): the events are kept until
FOLLOW_FROM of them have been appended, and a batch that ends before never starts one.

The pipe (stdin of `python -m projections.follow VIEWS LEDGER_ID`): frames of a 4-byte big-endian
length and a msgpack array — `[first, recorded_at, [[stream_id, version, topic, state], …]]` for a
chunk at positions first, first + 1, …; `["commit"]`; `["abandon"]`. The end of the input
without "commit" is an abandon (the importing process died). On stdout, one JSON line when it
ends: `{"position": N}`, or `{"stood_down": "why"}`.
"""

from __future__ import annotations

import json
import queue
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Final

import msgspec
from eventsourcing.persistence import StoredEvent

from ledger.errors import LedgerError
from ledger.store.contract import LedgerLog

#: Events a batch appends before the views follow it in a process: below, the ordinary catch-up
#: after the commit is as quick as starting one.
FOLLOW_FROM: Final = 5_000
#: Chunks in flight between the two processes, each way: memory stays bounded when the views
#: fall behind (the import then waits for them).
IN_FLIGHT: Final = 8
#: How long an abandoned follower may take to roll back before it is stopped.
STOP_WAIT: Final = 10.0

_LENGTH: Final = struct.Struct(">I")
Frame = list[Any]


def _frame(message: Frame) -> bytes:
    body = msgspec.msgpack.encode(message)
    return _LENGTH.pack(len(body)) + body


class FollowingViews:
    """FollowingViews is the importing side of a views process (a ledger.store.contract.Follower).

    Its methods never raise: a views process that cannot start, dies or falls out of step is
    left behind, and the views are caught up after the commit as they always were."""

    def __init__(self, views_path: Path, ledger_id: str, *, follow_from: int = FOLLOW_FROM) -> None:
        self.views_path, self.ledger_id, self.follow_from = views_path, ledger_id, follow_from
        self.waiting: list[bytes] = []  # frames kept until the batch is large enough
        self.count = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.frames: queue.Queue[bytes | None] = queue.Queue(IN_FLIGHT)
        self.sender: threading.Thread | None = None
        self.broken = False
        #: How it ended: the views' position it committed, or why it stood down (None: never started).
        self.outcome: dict[str, Any] | None = None

    def appended(self, first: int, recorded_at: datetime, stored_events: Sequence[StoredEvent]) -> None:
        """appended passes a chunk on (ledger.store.contract.Follower)."""
        if self.broken:
            return
        frame = _frame(
            [
                first,
                recorded_at.isoformat(),
                [(str(e.originator_id), e.originator_version, e.topic, e.state) for e in stored_events],
            ]
        )
        self.count += len(stored_events)
        if self.process is None:
            self.waiting.append(frame)
            if self.count < self.follow_from:
                return
            self._start()
            frames, self.waiting = self.waiting, []
        else:
            frames = [frame]
        for each in frames:
            self._send(each)

    def committed(self) -> None:
        """committed lets the views commit, and waits until they have."""
        self.waiting = []
        if self.process is None:
            return
        self._send(_frame(["commit"]))
        self._end(wait=None)

    def abandoned(self) -> None:
        """abandoned rolls the views back."""
        self.waiting = []
        if self.process is None:
            return
        self._send(_frame(["abandon"]))
        self._end(wait=STOP_WAIT)

    def close(self) -> None:
        """close ends a views process still running (a batch that never began or ended)."""
        if self.process is not None and self.outcome is None:
            self._end(wait=STOP_WAIT)

    def __enter__(self) -> FollowingViews:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _start(self) -> None:
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "projections.follow", str(self.views_path), self.ledger_id],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                cwd=Path(__file__).resolve().parent.parent,
            )
        except OSError as e:
            self.broken, self.outcome = True, {"stood_down": f"the views process did not start: {e}"}
            return
        self.sender = threading.Thread(target=self._write, args=(self.process.stdin,), daemon=True)
        self.sender.start()

    def _send(self, frame: bytes) -> None:
        if not self.broken:
            self.frames.put(frame)

    def _write(self, pipe: IO[bytes]) -> None:
        """The sender thread: writing to the pipe waits for the views process, not the import."""
        try:
            while (frame := self.frames.get()) is not None:
                pipe.write(frame)
                pipe.flush()
        except OSError:
            self.broken = True
            while self.frames.get() is not None:  # unblock the importer until the end
                pass
        finally:
            with suppress(OSError):
                pipe.close()

    def _end(self, *, wait: float | None) -> None:
        assert self.process is not None
        self.frames.put(None)
        try:
            if self.sender is not None:
                self.sender.join()
            try:
                self.process.wait(timeout=wait)  # its one line of output fits the pipe: no deadlock
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            assert self.process.stdout is not None
            lines = self.process.stdout.read().decode("utf-8", "replace").strip().splitlines()
            self.process.stdout.close()
            outcome = json.loads(lines[-1]) if lines else None
        except (OSError, ValueError) as e:
            outcome = {"stood_down": f"the views process could not be read: {e}"}
        if not isinstance(outcome, dict):
            outcome = {"stood_down": f"the views process ended with status {self.process.returncode}"}
        self.outcome = outcome


@contextmanager
def views_following(
    recorder: LedgerLog, views_path: Path, *, follow_from: int = FOLLOW_FROM
) -> Iterator[FollowingViews | None]:
    """views_following gives the follower a write hands to its batch (`import_file(follower=…)`)
    so that the views in `views_path` follow it. The views are caught up first — checked against
    the ledger, as every catch-up checks them — so that they begin where the batch does; None
    when they cannot be (the catch-up after the write then says why)."""
    from projections.runner import Projector

    follower = None
    try:
        projector = Projector(recorder, views_path)
        try:
            projector.catch_up()
        finally:
            projector.close()
        follower = FollowingViews(views_path, recorder.get_meta("ledger_id") or "", follow_from=follow_from)
    except LedgerError:
        pass
    try:
        yield follower
    finally:
        if follower is not None:
            follower.close()


# --- the views process ---------------------------------------------------------------------------


def _read(source: IO[bytes], frames: queue.Queue[bytes | None]) -> None:
    """The reader thread: the pipe is drained while the main thread applies."""
    try:
        while len(head := source.read(_LENGTH.size)) == _LENGTH.size:
            (length,) = _LENGTH.unpack(head)
            body = source.read(length)
            if len(body) != length:
                break
            frames.put(body)
    finally:
        frames.put(None)


def follow(views_path: Path, ledger_id: str, source: IO[bytes]) -> dict[str, Any]:
    """follow applies the chunks read from `source` to the views in one transaction and commits
    when told; returns the outcome (the position committed, or why it stood down)."""
    from ledger.integrity.leaf import event_leaf
    from ledger.store.contract import LoggedEvent
    from projections.runner import mark, open_views, views_meta
    from projections.schema import SCHEMA_VERSION
    from projections.writer import write_page

    frames: queue.Queue[bytes | None] = queue.Queue(IN_FLIGHT)
    threading.Thread(target=_read, args=(source, frames), daemon=True).start()
    decoder = msgspec.msgpack.Decoder()
    db: Any = None
    position, last_leaf = 0, b""
    stood_down: str | None = None

    def apply(first: int, recorded_at: str, rows: list[Any]) -> str | None:
        """Apply one chunk; returns why the views cannot follow (None: applied)."""
        nonlocal db, position, last_leaf
        if db is None:
            # The write lock is taken at the first chunk, not before: the import has begun its
            # batch, so no other write can move the ledger, and a views writer before it (the
            # previous import's follower committing) has finished or soon will.
            db = open_views(views_path)
            db.execute("BEGIN IMMEDIATE")
            position = int(views_meta(db, "position") or 0)
            if views_meta(db, "ledger_id") not in (None, ledger_id):
                return "the views file belongs to another ledger"
            if position and views_meta(db, "schema_version") != SCHEMA_VERSION:
                return "the views file has another layout (the catch-up rebuilds it)"
        if first != position + 1:
            return f"the views are at {position}, the batch appends from {first}"
        at = datetime.fromisoformat(recorded_at)
        page = [
            LoggedEvent(
                first + i, stream, version, topic, state, at, event_leaf(first + i, stream, version, topic, state)
            )
            for i, (stream, version, topic, state) in enumerate(rows)
        ]
        write_page(db, page)
        position, last_leaf = page[-1].position, page[-1].leaf_hash
        return None

    # Every frame is read to the end of the input, whatever happens here: the importer's writes
    # must never wait on a pipe nobody reads.
    while (body := frames.get()) is not None:
        try:
            message = decoder.decode(body)
            if message == ["abandon"]:
                stood_down = stood_down or "the batch was abandoned"
            elif message == ["commit"]:
                if stood_down is None and db is not None:
                    mark(db, position, last_leaf, ledger_id)  # as the runner does with each page
                    db.execute("COMMIT")
                    db.close()
                    return {"position": position}
            elif stood_down is None:
                stood_down = apply(*message)
        except Exception as e:  # the views' problem, never the import's: the catch-up will say it
            stood_down = f"{type(e).__name__}: {e}"
    if db is not None:
        with suppress(Exception):  # nothing was committed either way
            db.execute("ROLLBACK")
        db.close()
    return {"stood_down": stood_down or "the batch was abandoned"}


def main(argv: list[str]) -> int:
    """The views process: `python -m projections.follow VIEWS LEDGER_ID`, frames on stdin."""
    outcome = follow(Path(argv[0]), argv[1], sys.stdin.buffer)
    sys.stdout.write(json.dumps(outcome) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
