"""The live operations page: one HTML page, its script and style served from this package (no
CDN: it works offline), figures pushed as server-sent events, and a journey search. The page and
its API are for operators and administrators only (page/access.py); /static holds no data and
stays open, so the login form has its style."""

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from socialsvc_common.problems import Problem, problem_response
from socialsvc_ops.page.access import Access
from socialsvc_ops.page.monitor import Monitor, MonitorSettings
from socialsvc_ops.trace import NotAnApplicationId, trace

STATIC = Path(__file__).parent / "static"
PUSH_SECONDS = 1.0


def create_app(
    settings: MonitorSettings,
    access: Access,
    *,
    push_seconds: float = PUSH_SECONDS,
) -> Starlette:
    monitor = Monitor(settings)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        monitor.start()
        yield
        await monitor.stop()

    async def index(_: Request) -> Response:
        # Never from the browser's cache: after a logout, "/" must go back to the server (and on
        # to the login form) rather than show the shell from the cache.
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

    async def snapshot(_: Request) -> Response:
        return JSONResponse(monitor.snapshot())

    async def events(request: Request) -> Response:
        async def stream() -> AsyncIterator[str]:
            # A session that ends (logout, expiry) ends the stream it opened, too.
            while access.still_allowed(request) and not await request.is_disconnected():
                yield f"data: {json.dumps(monitor.snapshot(), ensure_ascii=False)}\n\n"
                await asyncio.sleep(push_seconds)

        return StreamingResponse(
            stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"}
        )

    async def journey(request: Request) -> Response:
        application_id = request.path_params["application_id"]
        try:
            steps = await trace(settings.bootstrap, application_id)
        except NotAnApplicationId as error:
            problem = Problem(400, "not-an-application-id", "Not an application id", str(error))
            return problem_response(problem, request)
        return JSONResponse(
            {"application_id": application_id, "steps": [s.as_dict() for s in steps]}
        )

    return Starlette(
        routes=[
            Route("/", access.page(index)),
            Route("/login", access.login_form, methods=["GET"]),
            Route("/login", access.login, methods=["POST"]),
            Route("/logout", access.logout, methods=["POST"]),
            Route("/api/snapshot", access.guard(snapshot)),
            Route("/api/events", access.guard(events)),
            Route("/api/journey/{application_id}", access.guard(journey)),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        lifespan=lifespan,
    )
