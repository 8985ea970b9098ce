"""The ministry's figures, for every signed-in role: the statistics service's sections as bar
charts and tables, filtered by period, region, district, group and direction (a GET form: the
filters hold no personal data), and the same figures as CSV or Excel, passed on from the service
as it sends them.

Filters are checked here first (months, the geography's regions and districts, the contract's
groups and directions); what the service still refuses (its 422) is shown in place."""

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import datetime
from functools import partial
from urllib.parse import urlencode

import httpx
from fastapi import Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from socialsvc_common.contract.payloads import Language, ProvisionType, TargetGroup
from socialsvc_common.explanations import default_explanations
from socialsvc_common.geography import load_geography
from workspace.charts import Chart, chart, table_rows
from workspace.clients import ServiceError
from workspace.figures import Dimensions, Figures, Region, checked, invalid
from workspace.i18n import catalogue
from workspace.pages.cases import BAKU
from workspace.pages.guard import for_roles
from workspace.signin import ADMITTED
from workspace.web import PAGE_HEADERS, Desk, Loaded, Web, load, session_ended
from workspace.wording import Wording, provider_names

EVERYONE = frozenset(ADMITTED)
EXPORTS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
_DISPOSITION = re.compile(r'^attachment; filename="statistics[0-9A-Za-z_.-]{0,60}\.(csv|xlsx)"$')
RECENT_MONTHS = 24


def recent_months(now: datetime) -> list[str]:
    """The last months up to this one in Baku, newest first: the period's choices when the
    service names none."""
    year, month = now.astimezone(BAKU).year, now.astimezone(BAKU).month
    months = []
    for back in range(RECENT_MONTHS):
        y, m = divmod(year * 12 + month - 1 - back, 12)
        months.append(f"{y:04d}-{m + 1:02d}")
    return months


def choices(found: Loaded) -> Dimensions:
    """What the filters' selects offer: the service's dimensions, or when it could not say,
    the geography's regions and the contract's groups and directions."""
    if isinstance(found.value, Dimensions) and found.value.regions:
        return found.value
    regions = load_geography().districts_by_region()
    return Dimensions(
        regions=[Region(name=name, districts=units) for name, units in regions.items()],
        groups=[g.value for g in TargetGroup],
        directions=[d.value for d in ProvisionType],
        months=recent_months(datetime.now(BAKU)),
    )


def charts_of(shown: Figures, words: Wording, fewer: str) -> dict[str, Chart | None]:
    """Each section's chart, by the section's id."""
    k = shown.policy.min_cell
    return {s.id: chart(s, k, partial(words.row, s), words.number, fewer) for s in shown.sections}


def disposition(kind: str, answered: httpx.Response, filters: dict[str, str]) -> str:
    """The service's file name when it is one of ours; a plain one otherwise."""
    given = str(answered.headers.get("content-disposition", ""))
    if _DISPOSITION.match(given) and given.endswith(f'.{kind}"'):
        return given
    period = "-".join(filters[f] for f in ("from", "to") if f in filters)
    return f'attachment; filename="statistics{"-" + period if period else ""}.{kind}"'


def routes(web: Web) -> list[Route]:
    geography = load_geography()
    guard = for_roles(web, EVERYONE)

    async def page(
        request: Request, desk: Desk, problem: ServiceError | None = None, status: int = 200
    ) -> Response:
        filters, wrong = checked(dict(request.query_params), geography)
        figures, dimensions = await asyncio.gather(
            load(web.services.figures(desk.person, filters)) if not wrong else _nothing(),
            load(web.services.dimensions(desk.person)),
        )
        if session_ended(figures, dimensions):
            return web.close_session(request, "/signin?ended=1")
        t = catalogue(web.language(request))
        shown = figures.value if figures.error is None else None
        words = Wording(t, provider_names(shown.sections) if shown else {})
        fewer = t("stats.fewer", k=shown.policy.min_cell) if shown else ""
        charts = charts_of(shown, words, fewer) if shown else {}
        query = urlencode(filters)
        return web.render(
            request,
            "statistics.html",
            status,
            filters=(shown.filters if shown else {}) | filters,
            wrong=wrong,
            invalid=invalid(wrong),
            figures=figures,
            shown=shown,
            charts=charts,
            table_rows=table_rows,
            words=words,
            fewer=fewer,
            choices=choices(dimensions),
            explained=default_explanations()[Language(t.language)],
            query=query,
            keep_query="&" + query if query else "",
            export_problem=problem,
        )

    @guard
    async def show(request: Request, desk: Desk) -> Response:
        return await page(request, desk)

    @guard
    async def export(request: Request, desk: Desk) -> Response:
        kind = str(request.path_params["kind"])
        if kind not in EXPORTS:
            return web.render(request, "refused.html", 404, reason="refused.not_found")
        filters, wrong = checked(dict(request.query_params), geography)
        if wrong:
            return RedirectResponse(f"/statistics?{urlencode(filters)}", status_code=303)
        path = f"/statistics/export.{kind}"
        try:
            answered = await web.services.download(desk.person, "statistics", path, filters)
        except ServiceError as error:
            if error.ends_session:
                return web.close_session(request, "/signin?ended=1")
            status = error.status if 400 <= error.status < 500 else 502
            return await page(request, desk, error, status)
        headers = PAGE_HEADERS | {"Content-Disposition": disposition(kind, answered, filters)}
        return StreamingResponse(passed_on(answered), media_type=EXPORTS[kind], headers=headers)

    return [
        Route("/statistics", show, methods=["GET"]),
        Route("/statistics/export.{kind}", export, methods=["GET"]),
    ]


async def passed_on(answered: httpx.Response) -> AsyncIterator[bytes]:
    """The service's file as it arrives; its connection closed however the download ends."""
    try:
        async for chunk in answered.aiter_bytes():
            yield chunk
    finally:
        await answered.aclose()


async def _nothing() -> Loaded:
    return Loaded()
