"""Intake's tables: applications (with their personal data, which stays here) and journeys."""

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from sqlalchemy import JSON, Column, Index, Text, func, text
from sqlmodel import Field, SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from socialsvc_common.db import UtcDateTime


class Status(StrEnum):
    RECEIVED = "received"
    NEEDS_INFORMATION = "needs_information"
    ELIGIBLE = "eligible"
    INELIGIBLE = "ineligible"
    WAITLISTED = "waitlisted"
    PLACED = "placed"
    REFUSED = "refused"
    RELEASED = "released"


# A status only moves forward: events of different topics may arrive in either order.
STATUS_RANK = {status: rank for rank, status in enumerate(Status)}
CLOSED = frozenset({Status.INELIGIBLE, Status.REFUSED, Status.RELEASED})
# Facts are added while the decision is pending or asked for them; once a person is eligible,
# assignment acts on that decision and a change goes through a caseworker instead.
OPEN_FOR_FACTS = frozenset({Status.RECEIVED, Status.NEEDS_INFORMATION})
DECIDABLE = frozenset(
    {Status.RECEIVED, Status.NEEDS_INFORMATION, Status.ELIGIBLE, Status.INELIGIBLE}
)


class ApplicationRow(SQLModel, table=True):
    __tablename__ = "applications"
    __table_args__ = (
        # One open application per person and service, enforced by the database itself.
        Index(
            "ux_applications_open_per_person",
            "fin",
            "service_requested",
            unique=True,
            postgresql_where=text("is_open"),
            sqlite_where=text("is_open"),
        ),
    )

    id: UUID = Field(primary_key=True)
    fin: str = Field(max_length=7)
    service_requested: str
    channel: str
    status: str = Field(default=Status.RECEIVED.value)
    is_open: bool = True
    idempotency_key: str | None = Field(default=None, unique=True, max_length=200)
    request_hash: str | None = Field(default=None, max_length=64)
    form: str = Field(sa_column=Column(Text, nullable=False))
    submitted_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class JourneyEntry(SQLModel, table=True):
    __tablename__ = "journey"

    event_id: UUID = Field(primary_key=True)
    application_id: UUID = Field(index=True)
    type: str
    time: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    summary: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


TABLES = (ApplicationRow, JourneyEntry)


async def by_key(session: AsyncSession, key: str) -> ApplicationRow | None:
    query = select(ApplicationRow).where(ApplicationRow.idempotency_key == key)
    return (await session.exec(query)).first()


async def open_for(session: AsyncSession, fin: str, service: str) -> ApplicationRow | None:
    query = select(ApplicationRow).where(
        ApplicationRow.fin == fin,
        ApplicationRow.service_requested == service,
        ApplicationRow.is_open == True,  # noqa: E712 - SQL comparison
    )
    return (await session.exec(query)).first()


async def journey_of(session: AsyncSession, application_id: UUID) -> list[JourneyEntry]:
    query = (
        select(JourneyEntry)
        .where(JourneyEntry.application_id == application_id)
        .order_by(JourneyEntry.time, JourneyEntry.type)  # type: ignore[arg-type]
    )
    return list((await session.exec(query)).all())


async def revisions(session: AsyncSession, application_id: UUID) -> int:
    """How many times the application was sent to be decided (its received events)."""
    query = select(func.count()).where(
        JourneyEntry.application_id == application_id,
        JourneyEntry.type == "intake.application.received",
    )
    return int((await session.exec(query)).one())
