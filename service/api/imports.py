"""Imports over HTTP: upload a CSV, XLSX or JSON-lines file; a dry run says row by row what it
would append and what is wrong, then the same upload without dry_run appends it as one batch.

The upload runs as the signed-in principal: a row for an LAO outside its roles is a bad row (an
officer of province 81 imports for province 81 only), so by default nothing of such a file is
appended. The request is bounded by MAX_UPLOAD_BYTES (413 above), the file by the import's own
limits (docs/limits.md).
"""

from __future__ import annotations

from typing import Annotated, Final

from litestar import Response, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter

from ledger.domain.access import Principal
from ledger.errors import BadInput, Forbidden
from ledger.imports.batch import import_file
from service.api.params import day, json_response
from service.state import LedgerService

#: The file names an upload may have (the importer reads by extension).
SUFFIXES: Final = (".csv", ".xlsx", ".jsonl", ".ndjson", ".json", ".txt", ".tsv")


def _may_import(principal: Principal) -> None:
    if not (principal.may_administer() or principal.provinces() or principal.laos()):
        raise Forbidden(f"{principal.name} may not import (admin, province officers and LAO clerks)")


@post("/imports", sync_to_thread=False, status_code=200)
def upload_import(
    data: Annotated[dict[str, UploadFile], Body(media_type=RequestEncodingType.MULTI_PART)],
    ledger: LedgerService,
    principal: Principal,
    dry_run: bool = False,
    skip_invalid: bool = False,
    mode: Annotated[str, Parameter(query="as")] = "corrections",
    effective: str | None = None,
) -> Response[bytes]:
    """Import the uploaded `file` as one batch (or, with dry_run, say what it would do): the
    report with every bad row and, for a dry run, each row's plan. 201 when it appended."""
    _may_import(principal)
    upload = data.get("file")
    if upload is None or not isinstance(upload, UploadFile):
        raise BadInput("send the file in the multipart field 'file'", field="file")
    name = (upload.filename or "upload.csv").replace("\\", "/").rsplit("/", 1)[-1] or "upload.csv"
    if not name.lower().endswith(SUFFIXES):
        raise BadInput(f"{name}: give a .csv, .xlsx or .jsonl file", field="file")
    body = upload.file.read()
    app = ledger.as_principal(principal)
    report = import_file(
        app,
        body,
        name=name,
        mode=mode,
        effective=day("effective", effective),
        dry_run=dry_run,
        skip_invalid=skip_invalid,
        keep_plans=dry_run,
    )
    document = {"dry_run": dry_run, **report.as_json()}
    return json_response(document, status=201 if report.appended else 200)


ROUTES: Final = [upload_import]
