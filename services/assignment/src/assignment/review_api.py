"""Reviews for staff over HTTP: which are open, concluded, or overdue and escalated, and which come
due soon; each with its case's district and reference, within the caller's districts."""

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query

from assignment.review_store import OPEN, ReviewRow, reviews_coming, reviews_listed
from assignment.store import PlacementRow
from socialsvc_common.apikeys import Caller, Role
from socialsvc_common.auth import AUTH_RESPONSES, require
from socialsvc_common.explanations import application_ref
from socialsvc_common.service import Runtime

# A review that has not come yet: its service's next review date, no review row so far.
UPCOMING = "upcoming"


def shown(row: ReviewRow, district: str | None, now: datetime) -> dict[str, Any]:
    return row.model_dump(mode="json") | {
        "overdue": row.status == OPEN and row.overdue_at <= now,
        "district": district,
        "reference": application_ref(row.application_id),
    }


def coming(placement: PlacementRow) -> dict[str, Any]:
    """A review to come, in the shape of a review (no id, not opened)."""
    return {
        "id": None,
        "application_id": placement.application_id,
        "placement_id": placement.id,
        "provision_type": placement.provision_type,
        "due_at": placement.review_due_at,
        "opened_at": None,
        "overdue_at": None,
        "status": UPCOMING,
        "outcome": None,
        "rule_set_version": None,
        "concluded_at": None,
        "escalated_at": None,
        "overdue": False,
        "district": placement.district,
        "reference": application_ref(placement.application_id),
    }


def reviews_router(runtime: Runtime) -> APIRouter:
    Staff = Annotated[Caller, require(Role.SOCIAL_WORKER, Role.REVIEWER, Role.OPERATOR)]
    api = APIRouter(tags=["reviews"], responses=AUTH_RESPONSES)

    @api.get("/reviews")
    async def reviews(
        caller: Staff,
        overdue: bool | None = Query(
            default=None,
            description="true: open reviews past their grace period; false: the others",
        ),
        application_id: UUID | None = None,
        due_within_days: Annotated[
            int | None,
            Query(
                ge=0,
                le=366,
                description="the open reviews, and the services whose review comes within "
                "this many days (status 'upcoming', no id yet)",
            ),
        ] = None,
    ) -> list[dict[str, Any]]:
        now = datetime.now(UTC)
        due_by = now + timedelta(days=due_within_days) if due_within_days is not None else None
        async with runtime.sessions() as session:
            rows = await reviews_listed(
                session,
                overdue=overdue,
                application_id=application_id,
                now=now,
                due_by=due_by,
                districts=caller.districts,
            )
            ahead = (
                await reviews_coming(
                    session,
                    due_by=due_by,
                    application_id=application_id,
                    districts=caller.districts,
                )
                if due_by is not None and overdue is not True
                else []
            )
        return [shown(row, district, now) for row, district in rows] + [coming(p) for p in ahead]

    return api
