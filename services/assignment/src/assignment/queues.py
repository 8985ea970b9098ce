"""Placements for staff, within the caller's scope: an application's placements, those in one step
of their life, and the offers about to lapse (a social worker's queue: call the person before the
place moves on)."""

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from assignment.placements import Registry
from assignment.provider_views import Shown
from assignment.scope import scoped
from assignment.store import PlacementRow
from socialsvc_common.apikeys import Caller
from socialsvc_common.contract.payloads import PlacementStatus
from socialsvc_common.explanations import application_ref
from socialsvc_common.problems import Problem


def lapsing_only(shown: Shown | None) -> Shown:
    """Offers lapse; asking for lapsing placements in another step is a mistake worth naming."""
    if shown not in (None, Shown.OFFERED):
        raise Problem(
            422,
            "validation",
            "Invalid query",
            "invalid fields: lapsing_within_hours",
            errors=[{"field": "lapsing_within_hours", "message": "only offers lapse"}],
        )
    return Shown.OFFERED


async def placements_listed(
    session: AsyncSession,
    caller: Caller,
    *,
    application_id: UUID | None,
    shown: Shown | None,
    lapsing_by: datetime | None,
    limit: int,
) -> list[PlacementRow]:
    """The placements the caller may see: of one application, in one step (or ended), and
    offers that lapse by `lapsing_by` (soonest first; otherwise newest first)."""
    query = scoped(select(PlacementRow), caller)
    if application_id is not None:
        query = query.where(PlacementRow.application_id == application_id)
    if shown is Shown.RELEASED:
        query = query.where(col(PlacementRow.active).is_(False))
    elif shown is not None:
        query = query.where(col(PlacementRow.active).is_(True), PlacementRow.status == shown.value)
    if lapsing_by is not None:
        query = query.where(
            PlacementRow.status == PlacementStatus.OFFERED.value,
            col(PlacementRow.offer_expires_at) <= lapsing_by,
        ).order_by(col(PlacementRow.offer_expires_at), col(PlacementRow.id))
    else:
        query = query.order_by(col(PlacementRow.placed_at).desc(), col(PlacementRow.id))
    return list((await session.exec(query.limit(limit))).all())


async def staff_views(
    session: AsyncSession, registry: Registry, rows: list[PlacementRow]
) -> list[dict[str, Any]]:
    """Each placement as staff see it: the row, the case's reference and the provider's name."""
    providers = await registry.providers.load(session, sorted({row.provider_id for row in rows}))
    return [
        row.model_dump(mode="json")
        | {
            "reference": application_ref(row.application_id),
            "provider_name": providers[row.provider_id].name
            if row.provider_id in providers
            else None,
        }
        for row in rows
    ]


def lapsing_by(now: datetime, hours: int | None) -> datetime | None:
    return now + timedelta(hours=hours) if hours is not None else None
