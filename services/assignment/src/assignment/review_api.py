"""Reviews for staff over HTTP: which are open, concluded, or overdue and escalated."""

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Query

from assignment.review_store import OPEN, ReviewRow, reviews_listed
from socialsvc_common.apikeys import Role
from socialsvc_common.auth import AUTH_RESPONSES, require
from socialsvc_common.service import Runtime


def shown(row: ReviewRow, now: datetime) -> dict[str, Any]:
    return row.model_dump(mode="json") | {"overdue": row.status == OPEN and row.overdue_at <= now}


def reviews_router(runtime: Runtime) -> APIRouter:
    staff = require(Role.SOCIAL_WORKER, Role.OPERATOR)
    api = APIRouter(tags=["reviews"], responses=AUTH_RESPONSES, dependencies=[staff])

    @api.get("/reviews")
    async def reviews(
        overdue: bool | None = Query(
            default=None,
            description="true: open reviews past their grace period; false: the others",
        ),
        application_id: UUID | None = None,
    ) -> list[dict[str, Any]]:
        now = datetime.now(UTC)
        async with runtime.sessions() as session:
            rows = await reviews_listed(
                session, overdue=overdue, application_id=application_id, now=now
            )
        return [shown(row, now) for row in rows]

    return api
