"""Assignment's part in a person's erasure and subject access. Placements hold no personal data
(a provider, dates, the pseudonymous person reference) and stay whole for capacity and audit; a
waiting person's stored decision loses the facts its rules looked at, and the services delivered
lose the provider's notes."""

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import Table, bindparam, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from assignment.deliveries import ServiceDeliveryRow, forget_notes
from assignment.store import PlacementRow, WaitlistRow
from socialsvc_common.consumer import Received
from socialsvc_common.contract.envelope import Event
from socialsvc_common.contract.erasure import SubjectErased, anonymised_decision
from socialsvc_common.db import among, run
from socialsvc_common.subject_access import Holding

WAITLIST: Table = WaitlistRow.__table__  # type: ignore[attr-defined]


async def waitlist_of(session: AsyncSession, ids: Sequence[UUID]) -> list[WaitlistRow]:
    query = select(WaitlistRow).where(among(col(WaitlistRow.application_id), ids))
    return list((await session.exec(query.order_by(col(WaitlistRow.application_id)))).all())


async def placements_of(session: AsyncSession, ids: Sequence[UUID]) -> list[PlacementRow]:
    query = select(PlacementRow).where(among(col(PlacementRow.application_id), ids))
    return list((await session.exec(query.order_by(col(PlacementRow.placed_at)))).all())


async def services_of(session: AsyncSession, ids: Sequence[UUID]) -> list[ServiceDeliveryRow]:
    query = select(ServiceDeliveryRow).where(among(col(ServiceDeliveryRow.application_id), ids))
    order = (col(ServiceDeliveryRow.delivered_on), col(ServiceDeliveryRow.id))
    return list((await session.exec(query.order_by(*order))).all())


async def on_subjects_erased(
    session: AsyncSession, batch: Sequence[Received[SubjectErased]]
) -> list[Event]:
    """Anonymises the stored decisions of the erased applications' waitlist entries and drops
    the notes on their services (a repeat changes nothing)."""
    erased = [item.payload.application_id for item in batch]
    await forget_notes(session, erased)
    rows = await waitlist_of(session, erased)
    changes = [
        {"application": row.application_id, "anonymous": anonymised_decision(row.decision)}
        for row in rows
    ]
    if changes:
        statement = (
            update(WAITLIST)
            .where(WAITLIST.c.application_id == bindparam("application"))
            .values(decision=bindparam("anonymous"))
        )
        await run(session, statement, changes)
    return []


async def holdings(session: AsyncSession, ids: Sequence[UUID]) -> list[Holding]:
    found = [
        Holding(
            category="placement",
            application_id=row.application_id,
            purpose="provide_the_service",
            data={
                "provider_id": row.provider_id,
                "provision_type": row.provision_type,
                "status": row.status,
                "active": row.active,
                "placed_at": row.placed_at.isoformat(),
                "released_at": row.released_at.isoformat() if row.released_at else None,
                "release_reason": row.release_reason,
            },
        )
        for row in await placements_of(session, ids)
    ]
    found += [
        Holding(
            category="waitlist",
            application_id=row.application_id,
            purpose="wait_for_a_place",
            data={
                "provision_type": row.provision_type,
                "priority_score": row.priority_score,
                "waiting": row.waiting,
                "decided_at": row.decided_at.isoformat(),
                "rules": row.decision.get("rules", []),
            },
        )
        for row in await waitlist_of(session, ids)
    ]
    found += [
        Holding(
            category="service_delivered",
            application_id=row.application_id,
            purpose="provide_the_service",
            data={
                "placement_id": str(row.placement_id),
                "provider_id": row.provider_id,
                "kind": row.kind,
                "delivered_on": row.delivered_on.isoformat(),
                "minutes": row.minutes,
                "note": row.note,
            },
        )
        for row in await services_of(session, ids)
    ]
    return found
