"""Imports over HTTP: upload a CSV, XLSX or JSON-lines file; a dry run says row by row what it
would append and what is wrong, then the same upload without dry_run appends it as one batch.

The upload runs as the signed-in principal: a row for an LAO outside its roles is a bad row (an
officer of province 81 imports for province 81 only), so by default nothing of such a file is
appended. The body streams to a temporary file, bounded by MAX_UPLOAD_BYTES (413 above, before a
byte is read when Content-Length says so), and the import runs in the worker's import process
(service.offload): the worker goes on answering everyone else meanwhile.
"""

from __future__ import annotations

import os
import tempfile
from typing import Annotated, Any, Final

from litestar import Request, Response, post
from litestar.exceptions import HTTPException
from litestar.params import Parameter

from ledger.domain.access import Principal
from ledger.domain.limits import MAX_UPLOAD_BYTES
from service.api.contract import DATE, MULTIPART, WRITES, Answer, declares
from service.api.documents import ImportReport, Upload
from service.auth import requires
from service.offload import ImportJob, boundary_of
from service.params import day
from service.state import LedgerService


@post(
    "/imports",
    status_code=200,
    request_max_body_size=MAX_UPLOAD_BYTES,
    guards=[requires("import")],
    opt=declares(
        "upload_import",
        Answer(200, ImportReport, description="a dry run, or nothing appended: the report"),
        Answer(201, ImportReport, description="appended as one batch: the report"),
        errors=(409, *WRITES),
        body=Upload,
        body_media=MULTIPART,
        params={
            "as": {
                "type": "string",
                "enum": ["corrections", "changes"],
                "default": "corrections",
                "description": "how a row that differs from its record is taken",
            },
            "effective": DATE,
            "override_conflicts": {
                "type": "string",
                "minLength": 1,
                "maxLength": 2000,
                "description": "the reason to apply rows whose record changed since the export",
            },
        },
    ),
)
async def upload_import(
    request: Request[Any, Any, Any],
    ledger: LedgerService,
    principal: Principal,
    dry_run: bool = False,
    skip_invalid: bool = False,
    mode: Annotated[str, Parameter(query="as")] = "corrections",
    effective: str | None = None,
    blank_clears: bool = False,
    override_conflicts: str | None = None,
) -> Response[bytes]:
    """Import the uploaded `file` (multipart/form-data) as one batch (or, with dry_run, say what
    it would do): the report with every bad row and, for a dry run, each row's plan. 201 when it
    appended. A blank cell leaves its field as it is (blank_clears: it clears it); a row with
    the export's version whose record changed since is a conflict unless untouched
    (override_conflicts=REASON applies its edits anyway)."""
    boundary = boundary_of(request.headers.get("content-type", ""))
    job = ImportJob(
        db=ledger.config.db, principal=principal, mode=mode, effective=day("effective", effective), dry_run=dry_run,
        skip_invalid=skip_invalid, keep_plans=dry_run, boundary=boundary, encoded=True, blank_clears=blank_clears,
        override_conflicts=override_conflicts,
    )  # fmt: skip
    handle, path = tempfile.mkstemp(prefix="mission-ledger-upload-")
    try:
        with os.fdopen(handle, "wb") as spool:
            size = 0
            async for chunk in request.stream():
                size += len(chunk)
                if size > MAX_UPLOAD_BYTES:
                    raise HTTPException(status_code=413)
                spool.write(chunk)
        document, appended = await ledger.importer.run(job.with_body(path))
    finally:
        os.unlink(path)
    return Response(document, status_code=201 if appended else 200, media_type="application/json")


ROUTES: Final = [upload_import]
