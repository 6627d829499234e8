"""The import page: upload a CSV, XLSX or JSON-lines file, see the dry run's plan row by row and
its errors, then confirm. The confirm form carries the file back (base64, with its SHA-256 as the
dry run saw it), so that any worker can apply exactly what was shown; the import is the same call
as the CLI's and the API's, as the signed-in person, rows outside their scope refused."""

from __future__ import annotations

import base64
import hashlib
from typing import Annotated, Any, Final

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Template

from ledger.errors import BadInput, LedgerError
from ledger.identity import Session
from service.auth import requires
from service.offload import ImportJob, upload_name
from service.pages.web import render
from service.params import day
from service.state import LedgerService

#: The largest file the page takes (the dry run's page carries it back for the confirm step);
#: larger batches go through the CLI or the API (docs/limits.md).
PAGE_UPLOAD_BYTES: Final = 8 * 1024 * 1024


async def _run(ledger: LedgerService, session: Session, body: bytes, name: str, mode: str, effective: str | None,
               dry_run: bool) -> dict[str, Any]:  # fmt: skip
    job = ImportJob(db=ledger.config.db, principal=session.principal, mode=mode, effective=day("effective", effective),
                    dry_run=dry_run, keep_plans=dry_run, name=name, content=body)  # fmt: skip
    document, _ = await ledger.importer.run(job)
    return dict(document)


@get("/import", sync_to_thread=False, guards=[requires("import")])
def import_page(request: Request[Any, Any, Any], session: Session) -> Template:
    """The upload form."""
    return render(request, "import.html", session=session, report=None, error=None, values={})


@post("/import", status_code=200, request_max_body_size=PAGE_UPLOAD_BYTES + 64 * 1024, guards=[requires("import")])
async def import_dry_run(
    request: Request[Any, Any, Any],
    data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)],
    ledger: LedgerService,
    session: Session,
) -> Template:
    """The dry run of an uploaded file: its plan and errors; nothing is appended."""
    upload = data.get("file")
    mode = str(data.get("mode") or "corrections")
    effective = str(data.get("effective") or "") or None
    values = {"mode": mode, "effective": effective or ""}
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise BadInput("choose a file to upload", field="file")
        name = upload_name(upload.filename)
        body = await upload.read(PAGE_UPLOAD_BYTES + 1)
        if len(body) > PAGE_UPLOAD_BYTES:
            raise BadInput(
                f"{name} is larger than {PAGE_UPLOAD_BYTES // 1024 // 1024} MB: import it with the CLI or the API",
                field="file",
            )
        report = await _run(ledger, session, body, name, mode, effective, dry_run=True)
    except LedgerError as e:
        return render(request, "import.html", session=session, report=None, error=str(e), values=values, status=422)
    return render(
        request,
        "import.html",
        session=session,
        report=report,
        error=None,
        values=values,
        content=base64.b64encode(body).decode(),
        file_name=name,
    )


# The confirm form carries the file back in base64, URL-encoded: at most three times its size.
@post(
    "/import/confirm",
    status_code=200,
    request_max_body_size=3 * PAGE_UPLOAD_BYTES + 64 * 1024,
    guards=[requires("import")],
)
async def import_confirm(
    request: Request[Any, Any, Any],
    data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
    ledger: LedgerService,
    session: Session,
) -> Template:
    """Apply the file the dry run showed, as one batch."""
    values = {"mode": data.get("mode", "corrections"), "effective": data.get("effective", "")}
    try:
        body = base64.b64decode(data.get("content", ""), validate=True)
        if hashlib.sha256(body).hexdigest() != data.get("sha256"):
            raise BadInput("the file is not the one the dry run showed: upload it again", field="file")
        report = await _run(ledger, session, body, data.get("file_name") or "upload.csv", values["mode"],
                      values["effective"] or None, dry_run=False)  # fmt: skip
    except (LedgerError, ValueError) as e:
        return render(request, "import.html", session=session, report=None, error=str(e), values=values, status=422)
    return render(request, "import.html", session=session, report=report, error=None, values=values, done=True)


ROUTES: Final = [import_page, import_dry_run, import_confirm]
