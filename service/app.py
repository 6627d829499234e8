"""The Litestar application: the API under /api/v1, the web pages at / with their assets under
/static, /healthz, the OpenAPI document, problem documents for the API's errors (pages for the
pages'), and an access log line per request.

`create_app(config)` builds it for one worker; `create_app_from_environment()` is what uvicorn
calls in each worker process (`mission-ledger serve` sets the environment).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import metadata
from typing import Any, Final

from litestar import Litestar, Request, Response, Router, get
from litestar.contrib.jinja import JinjaTemplateEngine
from litestar.datastructures import CacheControlHeader, State
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from litestar.types import ASGIApp

from ledger.errors import LedgerError
from service.api import accounts, feed, imports, integrity, reading, records, tiles
from service.api.contract import JSON, PROBLEM, Answer, ContractDocument, declares
from service.api.documents import Health, Problem
from service.auth import bearer_guard, ledger_of, signed_in
from service.conditional import conditional
from service.hardening import FORM_BYTES, escaped, guarded
from service.pages import pages_router
from service.pages.web import STATIC, environment, page_error
from service.params import once_each
from service.problems import http_error, ledger_error, unforeseen
from service.state import LedgerService, ServiceConfig


@get(
    "/healthz",
    sync_to_thread=False,
    include_in_schema=True,
    opt=declares(
        "health",
        Answer(200, Health, description="the service answers from its ledger"),
        Answer(
            503,
            Health | Problem,
            media=(JSON, PROBLEM),
            headers=("Retry-After",),
            description="the views cannot catch up (a Health), or the store does not answer (a problem)",
        ),
        always=(500,),
    ),
)
def healthz(ledger: LedgerService) -> Response[dict[str, Any]]:
    """Whether the service can answer from its ledger (no token): 200 `ok` with the ledger's size
    and the views' position; 503 `views-behind` when the views cannot catch up (they then answer
    nothing current), with how many events they lag; 503 `store-unavailable` when the store
    does not answer."""
    size = ledger.app.ledger_recorder.log_size()
    try:
        ledger.views()
        stuck = None
    except Exception as e:  # a full disk, a read-only views file: the views stay where they were
        stuck = type(e).__name__
    position = ledger.projector.position()
    body: dict[str, Any] = {"status": "ok", "events": size, "views_position": position, "views_behind": size - position}
    if stuck is not None:
        body["status"] = "views-behind"
        return Response(body, status_code=503, headers={"Retry-After": "5"})
    return Response(body)


@get("/favicon.ico", sync_to_thread=False, include_in_schema=False)
def favicon() -> Response[bytes]:
    """The pages' icon where a browser looks for it by default (an SVG; the pages link it too)."""
    return Response(
        (STATIC / "favicon.svg").read_bytes(),
        media_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=86400"},
    )


def refusal(request: Request[Any, Any, Any], error: HTTPException) -> Response[Any]:
    """refusal says Litestar's own refusals (no route, wrong method, too large): a problem
    document to the API's clients, a page in the person's language everywhere else."""
    if request.url.path.startswith(("/api/", "/healthz")):
        return http_error(request, error)
    return page_error(request, error)


#: How often a worker checks for a round whose deadline has passed unsealed (seconds).
SEAL_EVERY: Final = 60.0
#: How often, at most, a worker signs a checkpoint for its witnesses while the log grows (seconds).
COSIGN_EVERY: Final = 600.0


def create_app(config: ServiceConfig) -> Litestar:
    """create_app builds the service for one worker over the ledger `config` names."""
    service = LedgerService(config)

    async def sealing() -> None:
        # A round is sealed once its deadline has passed (ledger.rounds.Rounds.seal): checked at
        # start and every SEAL_EVERY seconds, off the event loop.
        while True:
            try:
                sealed = await asyncio.to_thread(service.seal_due)
                for name in sealed:
                    logging.getLogger("mission_ledger.service").info("sealed round %s", escaped(name))
                if await asyncio.to_thread(service.cosign_due, COSIGN_EVERY):
                    logging.getLogger("mission_ledger.service").info("signed a checkpoint for the witnesses")
            except Exception as e:  # a store fault now is retried at the next check
                logging.getLogger("mission_ledger.service").warning("sealing rounds failed: %s", escaped(str(e), 300))
            await asyncio.sleep(SEAL_EVERY)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        service.tail.start()
        seals = asyncio.create_task(sealing())
        try:
            yield
        finally:
            seals.cancel()
            await service.tail.stop()
            service.close()

    api = Router(
        path="/api/v1",
        route_handlers=[
            *records.ROUTES,
            *reading.ROUTES,
            *feed.ROUTES,
            *integrity.ROUTES,
            *tiles.ROUTES,
            *imports.ROUTES,
            *accounts.ROUTES,
        ],
        dependencies={"principal": Provide(signed_in, sync_to_thread=False)},
        guards=[bearer_guard],
        before_request=once_each,
        security=[{"bearer": []}],
    )
    logging.getLogger("mission_ledger.access").setLevel(logging.INFO)
    static = create_static_files_router(
        path="/static",
        directories=[STATIC],
        include_in_schema=False,
        cache_control=CacheControlHeader(max_age=3600),
        send_as_attachment=False,
    )
    return Litestar(
        route_handlers=[api, healthz, favicon, static, pages_router()],
        template_config=TemplateConfig(engine=JinjaTemplateEngine.from_environment(environment())),
        dependencies={"ledger": Provide(ledger_of, sync_to_thread=False)},
        exception_handlers={LedgerError: ledger_error, HTTPException: refusal, Exception: unforeseen},
        lifespan=[lifespan],
        state=State({"ledger": service}),
        # A route that takes more says so (the imports); a form or a JSON write needs kilobytes.
        request_max_body_size=FORM_BYTES,
        openapi_config=OpenAPIConfig(
            title="mission-ledger",
            version=metadata.version("mission-ledger"),
            description="The audit ledger of the missions transferred to Thai local administrative organizations.",
            path="/api/v1",
            render_plugins=[ContractDocument()],
            components=Components(
                security_schemes={"bearer": SecurityScheme(type="http", scheme="bearer", description="a token")}
            ),
        ),
        debug=False,
    )


def create_app_from_environment() -> ASGIApp:
    """create_app_from_environment is the worker's factory (uvicorn --factory): the application
    inside `guarded`, which sees every request — also those no route matches, which Litestar
    answers before any middleware of its own runs."""
    return guarded(conditional(create_app(ServiceConfig.from_environment())))
