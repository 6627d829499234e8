"""Imports run in a process of their own, so that one officer's large file never holds the worker
that answers everyone else: the worker streams an upload to a temporary file (never the whole of
it in memory), hands the process the file's path and the signed-in principal, and awaits the
report. The process opens the same ledger, decides and appends exactly as the CLI's `import`
does, and answers with the report's document; a foreseeable error comes back as the same kind of
LedgerError with the same message.

One process per worker, started at the first import and kept: imports through one worker run
one after another (the store serialises their appends anyway).
"""

from __future__ import annotations

import asyncio
import mmap
import multiprocessing
import os
import re
from concurrent.futures import ProcessPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from ledger import errors
from ledger.domain.access import Principal
from ledger.errors import BadInput, LedgerError, Unprocessable

if TYPE_CHECKING:
    from ledger.application import MissionLedger
    from ledger.imports.batch import ImportReport
    from ledger.store.contract import Follower

#: The file names an upload may have (the importer reads by extension).
SUFFIXES: Final = (".csv", ".xlsx", ".jsonl", ".ndjson", ".json", ".txt", ".tsv")
_FILENAME: Final = re.compile(rb'filename\*?=(?:"([^"]*)"|(?:UTF-8\'\')?([^;\r\n]*))', re.IGNORECASE)
_NAME: Final = re.compile(rb'\bname="([^"]*)"', re.IGNORECASE)


@dataclass(frozen=True)
class ImportJob:
    """ImportJob is one import as the service asks for it: the ledger, who, the file (its bytes,
    or a multipart body on disk with its boundary), and the import's options."""

    db: str
    principal: Principal
    mode: str = "corrections"
    effective: date | None = None
    dry_run: bool = False
    skip_invalid: bool = False
    keep_plans: bool = False
    blank_clears: bool = False
    override_conflicts: str | None = None
    name: str = "upload.csv"
    content: bytes | None = None
    body_path: str | None = None
    boundary: bytes | None = None
    #: Answer the document as JSON bytes, made in the import process (a large report's encoding
    #: would otherwise hold the worker's loop).
    encoded: bool = False
    #: The worker's views file, which follows a large batch as it is appended (projections.follow).
    views: str | None = None

    def with_body(self, path: str) -> ImportJob:
        """with_body is this job reading its file from the multipart body at `path`."""
        return replace(self, body_path=path)


def upload_name(raw: str | None) -> str:
    """upload_name is an uploaded file's own name (no folders), checked for a suffix the
    importer reads; BadInput naming the field else."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not name:
        raise BadInput("choose a file to upload", field="file")
    if not name.lower().endswith(SUFFIXES):
        raise Unprocessable(f"{name}: give a .csv, .xlsx or .jsonl file", field="file")
    return name


def boundary_of(content_type: str) -> bytes:
    """boundary_of is the boundary of a multipart/form-data Content-Type; BadInput else."""
    kind, _, rest = content_type.partition(";")
    if kind.strip().lower() != "multipart/form-data":
        raise BadInput("send the file as multipart/form-data in the field 'file'", field="file")
    for part in rest.split(";"):
        key, _, value = part.strip().partition("=")
        if key.lower() == "boundary" and 0 < len(value.strip('"')) <= 200:
            return value.strip('"').encode("latin-1")
    raise BadInput("the multipart Content-Type names no boundary", field="file")


def file_part(path: str, boundary: bytes) -> tuple[str, bytes]:
    """file_part is the name and bytes of the field 'file' of a multipart body on disk."""
    delimiter = b"--" + boundary
    if os.path.getsize(path) == 0:
        raise BadInput("send the file in the multipart field 'file'", field="file")
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
        at = m.find(delimiter)
        while at != -1:
            start = at + len(delimiter)
            if m[start : start + 2] == b"--":
                break
            head_end = m.find(b"\r\n\r\n", start)
            if head_end == -1 or head_end - start > 8192:
                break
            head = m[start:head_end]
            end = m.find(b"\r\n" + delimiter, head_end + 4)
            if end == -1:
                break
            named = _NAME.search(head)
            if named and named.group(1) == b"file":
                found = _FILENAME.search(head)
                raw = (found.group(1) or found.group(2)) if found else b""
                return upload_name(raw.decode("utf-8", "replace")), m[head_end + 4 : end]
            at = end + 2
    raise BadInput("send the file in the multipart field 'file'", field="file")


def run_import(job: ImportJob) -> tuple[str, Any]:
    """run_import runs in the import process: ("ok", (document, appended)) or ("error", (kind,
    message, field)) for a foreseeable error."""
    from ledger.application import MissionLedger
    from ledger.clock import clock_from_environment
    from ledger.store.location import StoreLocation
    from projections.follow import views_following

    try:
        if job.content is not None:
            name, source = upload_name(job.name), job.content
        else:
            assert job.body_path is not None and job.boundary is not None
            name, source = file_part(job.body_path, job.boundary)
        app = MissionLedger(StoreLocation(job.db), clock=clock_from_environment(dict(os.environ)), create_tables=False)
        following = views_following(app.ledger_recorder, Path(job.views)) if job.views and not job.dry_run else None
        try:
            with following or nullcontext() as follower:
                report = _run(app, job, name, source, follower)
        finally:
            app.close()
    except LedgerError as e:
        return "error", (type(e).__name__, str(e), e.field)
    document = {"dry_run": job.dry_run, **report.as_json()}
    if job.encoded:
        import msgspec

        from projections.documents import plain

        return "ok", (msgspec.json.encode(plain(document)), report.appended)
    return "ok", (document, report.appended)


def _run(app: MissionLedger, job: ImportJob, name: str, source: bytes, follower: Follower | None) -> ImportReport:
    from ledger.imports.batch import import_file

    return import_file(
        app.acting_as(job.principal, source="http"),
        source,
        name=name,
        mode=job.mode,
        effective=job.effective,
        dry_run=job.dry_run,
        skip_invalid=job.skip_invalid,
        keep_plans=job.keep_plans,
        blank_clears=job.blank_clears,
        override_conflicts=job.override_conflicts,
        follower=follower,
    )


class Importer:
    """Importer is one worker's import process; the worker's views follow its batches."""

    def __init__(self, views: Path | None = None) -> None:
        self._pool: ProcessPoolExecutor | None = None
        self.views = views

    async def run(self, job: ImportJob) -> tuple[Any, int]:
        """run imports in the process and gives (the report's document — as JSON bytes when the
        job says `encoded` —, events appended)."""
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        if self.views is not None:
            job = replace(job, views=str(self.views))
        outcome, value = await asyncio.get_running_loop().run_in_executor(self._pool, run_import, job)
        if outcome == "error":
            kind, message, field = value
            error = getattr(errors, kind, None)
            if isinstance(error, type) and issubclass(error, LedgerError) and error.__init__ is LedgerError.__init__:
                raise error(message, field=field)
            raise LedgerError(message, field=field)
        document, appended = value
        return document, appended

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
