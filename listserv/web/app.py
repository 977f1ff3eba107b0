"""The FastAPI application: `create_app(settings, db, keys)`.

No module-level app: the server (and each test) makes its own, with its
settings, database, keys, and optionally a clock (tests move time forward
to expire links) and rate limits.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from http import HTTPStatus
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import RedirectResponse, Response

from listserv.config import Settings
from listserv.db import Database
from listserv.keys import Keys
from listserv.models import utcnow
from listserv.web.access import SignInRequired, WebContext
from listserv.web.ratelimit import WebLimits
from listserv.web.rendering import Pages
from listserv.web.routers import archive, membership, moderation, signin
from listserv.web.security import CookieNames, Digests, SecurityHeaders

STATIC = Path(__file__).parent / "static"

DEFAULT_MESSAGES = {
    404: "There is nothing at this address, or you may not see it.",
    405: "This address does not take that kind of request.",
}
STATUS_TITLES = {
    400: "That request did not make sense",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed",
    410: "Link no longer valid",
    429: "Too many requests",
}


def create_app(
    settings: Settings,
    db: Database,
    keys: Keys,
    *,
    clock: Callable[[], datetime] = utcnow,
    limits: WebLimits | None = None,
    on_notice_queued: Callable[[], None] | None = None,
) -> FastAPI:
    """The web app; `on_notice_queued` is called when a sign-in mail enters the outbox."""
    context = WebContext(
        settings=settings,
        db=db,
        keys=keys,
        digests=Digests.of(keys),
        cookies=CookieNames.for_base_url(settings.web.base_url),
        pages=Pages(),
        limits=limits or WebLimits(),
        clock=clock,
        on_notice_queued=on_notice_queued,
    )
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.state.web = context
    app.add_middleware(SecurityHeaders, https=context.cookies.secure)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for router in (signin.router, archive.router, moderation.router, membership.router):
        app.include_router(router)

    async def sign_in_first(request: Request, error: Exception) -> Response:
        assert isinstance(error, SignInRequired)
        target = "/signin" if error.next_path == "/" else f"/signin?next={_quoted(error.next_path)}"
        return RedirectResponse(target, status_code=303)

    async def error_page(request: Request, error: Exception) -> Response:
        assert isinstance(error, StarletteHTTPException)
        return context.pages.render(
            request,
            "error.html",
            {"title": STATUS_TITLES.get(error.status_code, "Error"), "message": _message(error)},
            status_code=error.status_code,
        )

    async def invalid_request(request: Request, error: Exception) -> Response:
        return context.pages.render(
            request,
            "error.html",
            {"title": STATUS_TITLES[400], "message": "Some part of the address is not valid."},
            status_code=400,
        )

    app.add_exception_handler(SignInRequired, sign_in_first)
    app.add_exception_handler(StarletteHTTPException, error_page)
    app.add_exception_handler(RequestValidationError, invalid_request)
    return app


def _quoted(path: str) -> str:
    return quote(path, safe="/@")


def _message(error: StarletteHTTPException) -> str:
    """Our sentence, or a default one where Starlette gave only the status phrase."""
    detail = str(error.detail or "")
    if not detail or detail == HTTPStatus(error.status_code).phrase:
        return DEFAULT_MESSAGES.get(error.status_code, "Something went wrong.")
    return detail
