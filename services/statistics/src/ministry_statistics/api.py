"""The HTTP API of the figures: the page, the exports and partners use the same answers."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse, Response
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from ministry_statistics.exports import csv_text, xlsx_bytes
from ministry_statistics.figures import answer, count_sections, dimensions
from ministry_statistics.filters import Filters, parse_filters
from socialsvc_common.apikeys import PEOPLE_AND_SYSTEMS
from socialsvc_common.auth import AUTH_RESPONSES, require
from socialsvc_common.disclosure import DisclosurePolicy
from socialsvc_common.geography import Geography

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Text = str | None
RESPONSES: dict[int | str, dict[str, Any]] = {
    **AUTH_RESPONSES,
    422: {"description": "A filter is not valid; the problem names it"},
}


def statistics_router(
    sessions: async_sessionmaker[AsyncSession],
    policy: DisclosurePolicy,
    geography: Geography,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> APIRouter:
    """GET /statistics, its CSV and XLSX exports and /statistics/dimensions, for every role."""
    router = APIRouter(
        prefix="/statistics",
        tags=["statistics"],
        dependencies=[require(*PEOPLE_AND_SYSTEMS)],
        responses=RESPONSES,
    )

    def filters_of(
        *,
        first: Annotated[Text, Query(alias="from", description="first month, YYYY-MM")] = None,
        last: Annotated[Text, Query(alias="to", description="last month, YYYY-MM")] = None,
        region: Annotated[Text, Query(description="an economic region")] = None,
        district: Annotated[Text, Query(description="a district or city")] = None,
        group: Annotated[Text, Query(description="a target group")] = None,
        direction: Annotated[Text, Query(description="home_care, residential, ngo_project")] = None,
    ) -> Filters:
        return parse_filters(
            geography,
            clock(),
            first=first,
            last=last,
            region=region,
            district=district,
            group=group,
            direction=direction,
        )

    async def figures_for(filters: Filters) -> dict[str, Any]:
        now = clock()
        async with sessions() as session:
            sections = await count_sections(session, filters, policy, now)
        return answer(sections, filters, policy, now)

    FiltersQuery = Annotated[Filters, Depends(filters_of)]

    @router.get("", summary="The figures, every section, under the filters given")
    async def figures(filters: FiltersQuery) -> JSONResponse:
        return JSONResponse(await figures_for(filters))

    @router.get("/export.csv", summary="The figures in long CSV", response_class=Response)
    async def export_csv(filters: FiltersQuery) -> Response:
        text = csv_text(await figures_for(filters))
        return Response(
            text, media_type="text/csv; charset=utf-8", headers=_attachment(filters, "csv")
        )

    @router.get("/export.xlsx", summary="The figures as a workbook", response_class=Response)
    async def export_xlsx(filters: FiltersQuery) -> Response:
        content = xlsx_bytes(await figures_for(filters))
        return Response(content, media_type=XLSX, headers=_attachment(filters, "xlsx"))

    @router.get("/dimensions", summary="The values the filters take")
    async def filter_values() -> JSONResponse:
        async with sessions() as session:
            return JSONResponse(await dimensions(session, geography))

    return router


def _attachment(filters: Filters, suffix: str) -> dict[str, str]:
    name = f"statistics-{filters.first}-{filters.last}.{suffix}"
    return {"Content-Disposition": f'attachment; filename="{name}"'}
