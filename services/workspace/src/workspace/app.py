"""Composition root of the workspace: settings, the services' clients, the way of signing in,
the pages and their static assets (all local: it works offline). No database, no broker: what
it shows and changes is the services', through their APIs, as the signed-in person."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.staticfiles import StaticFiles

from socialsvc_common.edge import EdgeLimits
from socialsvc_common.logs import configure_logging
from workspace.access_log import AccessLog
from workspace.clients import Services
from workspace.pages import appeals, cases, facts, provider, queues, search, signin, statistics
from workspace.settings import WorkspaceSettings
from workspace.signin import KeySignIn, SignIn
from workspace.web import Web

STATIC = Path(__file__).with_name("static")
MAX_BODY_BYTES = 256 * 1024


def build_web(
    settings: WorkspaceSettings, *, services: Services | None = None, way: SignIn | None = None
) -> Web:
    services = services or Services(
        settings.service_urls(), timeout=settings.service_timeout_seconds
    )
    web = Web(
        services,
        way or KeySignIn(settings.key_store()),
        cookie_secure=settings.cookie_secure,
        settings={
            "reviews_due_within_days": settings.reviews_due_within_days,
            "offers_lapsing_within_hours": settings.offers_lapsing_within_hours,
        },
    )
    web.sessions.lifetime = settings.session_hours * 3600
    return web


def build_app(
    settings: WorkspaceSettings | None = None,
    *,
    web: Web | None = None,
    failure_delay: float = signin.FAILURE_DELAY_SECONDS,
) -> FastAPI:
    settings = settings or WorkspaceSettings()
    web = web or build_web(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        structured.info("started", service="workspace", port=settings.http_port)
        yield
        await web.services.close()

    structured = configure_logging("workspace", level=settings.log_level, json=settings.log_json)
    # httpx logs every request's full URL at INFO, query string (a FIN, a name) included.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    app = FastAPI(
        title="Workspace", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )

    async def health(_: Request) -> JSONResponse:
        """Always 200 while the workspace serves; each service's own health beside it."""
        reached = await web.services.healthy()
        return JSONResponse({"service": "workspace", "ready": True, "services": reached})

    app.add_route("/health", health, methods=["GET"])
    for module in (queues, search, cases, facts, appeals, provider, statistics):
        app.router.routes.extend(module.routes(web))
    app.router.routes.extend(signin.routes(web, failure_delay))
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    # Its forms are a few kilobytes; anything far larger is not a person at a page. Inside the
    # access log, so a refusal is logged like any answer.
    app.add_middleware(EdgeLimits, max_body_bytes=MAX_BODY_BYTES)
    app.add_middleware(AccessLog)
    app.state.web = web
    return app
