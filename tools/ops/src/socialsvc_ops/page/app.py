"""The live operations page: one HTML page, its script and style served from this package (no
CDN: it works offline), figures pushed as server-sent events, and a journey search."""

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

from socialsvc_ops.page.monitor import Monitor, MonitorSettings
from socialsvc_ops.trace import NotAnApplicationId, trace

STATIC = Path(__file__).parent / "static"
PUSH_SECONDS = 1.0


def create_app(settings: MonitorSettings, *, push_seconds: float = PUSH_SECONDS) -> Starlette:
    monitor = Monitor(settings)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        monitor.start()
        yield
        await monitor.stop()

    async def index(_: Request) -> Response:
        return FileResponse(STATIC / "index.html")

    async def snapshot(_: Request) -> Response:
        return JSONResponse(monitor.snapshot())

    async def events(request: Request) -> Response:
        async def stream() -> AsyncIterator[str]:
            while not await request.is_disconnected():
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
            return JSONResponse({"detail": str(error)}, status_code=400)
        return JSONResponse(
            {"application_id": application_id, "steps": [s.as_dict() for s in steps]}
        )

    return Starlette(
        routes=[
            Route("/", index),
            Route("/api/snapshot", snapshot),
            Route("/api/events", events),
            Route("/api/journey/{application_id}", journey),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        lifespan=lifespan,
    )
