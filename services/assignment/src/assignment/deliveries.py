"""Services a provider delivered on a started placement: one row each, with the provider's note
(kept here alone: it may name the person), and the event that tells the platform without it."""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import Column, Text, func, update
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from assignment.placements import BAKU, NAME
from assignment.store import PlacementRow
from socialsvc_common.contract import topics
from socialsvc_common.contract.actor import MAX_LENGTH as ACTOR_LENGTH
from socialsvc_common.contract.actor import Actor
from socialsvc_common.contract.envelope import Event, new_event
from socialsvc_common.contract.payloads import PlacementStatus, ServiceDelivered, ServiceKind
from socialsvc_common.db import UtcDateTime, among, run
from socialsvc_common.problems import Problem

NOTE_LENGTH = 500
# A day's service at most: longer is a mistake in the entry.
MAX_MINUTES = 24 * 60


class ServiceDeliveryRow(SQLModel, table=True):
    __tablename__ = "service_deliveries"

    id: UUID = Field(primary_key=True)
    placement_id: UUID = Field(index=True)
    application_id: UUID = Field(index=True)
    provider_id: str = Field(index=True)
    kind: str
    delivered_on: date
    minutes: int | None = None
    # Erased with the person's data (erasure.py): a provider may write their name in it.
    note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    recorded_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    recorded_by: str = Field(max_length=ACTOR_LENGTH)


@dataclass(frozen=True)
class Delivery:
    """What the provider says it delivered."""

    kind: ServiceKind
    delivered_on: date
    minutes: int | None = None
    note: str | None = None


def _invalid(field: str, message: str) -> Problem:
    return Problem(
        422,
        "validation",
        "Invalid service",
        f"invalid fields: {field}",
        errors=[{"field": field, "message": message}],
    )


def delivered(
    placement: PlacementRow, delivery: Delivery, actor: Actor, now: datetime
) -> tuple[ServiceDeliveryRow, Event]:
    """The row and the event of a service delivered on `placement`: only on a placement whose
    service started and goes on, on a day from its start to today (in Baku)."""
    if not placement.active or placement.status != PlacementStatus.STARTED.value:
        raise Problem(
            409,
            "not-started",
            "The service has not started",
            f"placement {placement.id} is {placement.status if placement.active else 'released'};"
            " services are recorded on a started placement",
            status_now=placement.status,
        )
    today = now.astimezone(BAKU).date()
    if delivery.delivered_on > today:
        raise _invalid("delivered_on", f"is after today ({today})")
    started = placement.started_at.astimezone(BAKU).date() if placement.started_at else None
    if started is not None and delivery.delivered_on < started:
        raise _invalid("delivered_on", f"is before the service started ({started})")
    row = ServiceDeliveryRow(
        id=uuid4(),
        placement_id=placement.id,
        application_id=placement.application_id,
        provider_id=placement.provider_id,
        kind=delivery.kind.value,
        delivered_on=delivery.delivered_on,
        minutes=delivery.minutes,
        note=delivery.note,
        recorded_at=now,
        recorded_by=str(actor),
    )
    payload = ServiceDelivered(
        placement_id=placement.id,
        application_id=placement.application_id,
        provider_id=placement.provider_id,
        kind=delivery.kind,
        delivered_on=delivery.delivered_on,
        minutes=delivery.minutes,
        recorded_at=now,
    )
    event = new_event(
        topics.SERVICE_DELIVERED,
        payload,
        producer=NAME,
        application_id=placement.application_id,
        actor=actor,
    )
    return row, event


def delivery_view(row: ServiceDeliveryRow) -> dict[str, Any]:
    return row.model_dump(mode="json") | {"recorded_by": Actor.stored(row.recorded_by)}


async def deliveries_of(session: AsyncSession, placement_id: UUID) -> list[ServiceDeliveryRow]:
    """A placement's services, in the order delivered (then recorded)."""
    query = (
        select(ServiceDeliveryRow)
        .where(ServiceDeliveryRow.placement_id == placement_id)
        .order_by(col(ServiceDeliveryRow.delivered_on), col(ServiceDeliveryRow.recorded_at))
    )
    return list((await session.exec(query)).all())


async def delivered_counts(session: AsyncSession, ids: Collection[UUID]) -> dict[UUID, int]:
    """How many services each of these placements had (one query)."""
    if not ids:
        return {}
    query = (
        select(ServiceDeliveryRow.placement_id, func.count())
        .where(among(col(ServiceDeliveryRow.placement_id), ids))
        .group_by(col(ServiceDeliveryRow.placement_id))
    )
    return dict((await session.exec(query)).all())


async def forget_notes(session: AsyncSession, ids: Collection[UUID]) -> None:
    """Drops the notes on these applications' services (one statement); the rest stays."""
    statement = (
        update(ServiceDeliveryRow)
        .where(among(col(ServiceDeliveryRow.application_id), ids))
        .values(note=None)
    )
    await run(session, statement)
