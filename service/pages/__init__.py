"""The web pages (DESIGN §11): Thai first, served with their assets by the service itself."""

from __future__ import annotations

from litestar import Router
from litestar.di import Provide

from ledger.errors import LedgerError
from service.pages import accounts, dashboard, imports, lao, letter, proof, reading, sessions, signin
from service.pages.web import csrf_guard, page_error, page_session


def pages_router() -> Router:
    """pages_router is every page, with the session dependency, the CSRF guard and error pages."""
    from litestar.exceptions import HTTPException

    return Router(
        path="/",
        route_handlers=[
            *signin.ROUTES,
            *dashboard.ROUTES,
            *letter.ROUTES,
            *accounts.ROUTES,
            *lao.ROUTES,
            *reading.ROUTES,
            *imports.ROUTES,
            *proof.ROUTES,
            *sessions.ROUTES,
        ],
        dependencies={"session": Provide(page_session, sync_to_thread=False)},
        guards=[csrf_guard],
        exception_handlers={LedgerError: page_error, HTTPException: page_error, Exception: page_error},
        include_in_schema=False,
    )
