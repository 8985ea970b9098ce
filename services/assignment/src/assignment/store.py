"""Assignment's tables: the capacity ledger, placements and the waitlist.

The ledger row of a provider is locked (SELECT ... FOR UPDATE on PostgreSQL) by every placement and
release, so replicas of the service cannot both take the last place. The CHECK constraint refuses a
`used` outside 0..capacity whatever the code does.
"""

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import JSON, CheckConstraint, Column
from sqlmodel import Field, SQLModel, col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from socialsvc_common.contract.payloads import DecisionMade, ProvisionType
from socialsvc_common.db import UtcDateTime


class LedgerRow(SQLModel, table=True):
    __tablename__ = "capacity_ledger"
    __table_args__ = (
        CheckConstraint("used >= 0 AND used <= capacity", name="ck_ledger_within_capacity"),
    )

    provider_id: str = Field(primary_key=True)
    provision_type: str = Field(index=True)
    district: str | None = Field(default=None, index=True)
    capacity: int
    used: int = 0


class PlacementRow(SQLModel, table=True):
    __tablename__ = "placements"

    id: UUID = Field(primary_key=True)
    application_id: UUID = Field(index=True)
    person_ref: str | None = Field(default=None, index=True)
    provider_id: str = Field(index=True)
    provision_type: str
    active: bool = True
    # offered -> accepted -> started while active; any of them may be released.
    status: str = Field(default="offered", index=True)
    offer_expires_at: datetime | None = Field(
        default=None, sa_column=Column(UtcDateTime(), nullable=True)
    )
    placed_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    released_at: datetime | None = Field(
        default=None, sa_column=Column(UtcDateTime(), nullable=True)
    )
    release_reason: str | None = None


class WaitlistRow(SQLModel, table=True):
    __tablename__ = "waitlist"

    application_id: UUID = Field(primary_key=True)
    provision_type: str = Field(index=True)
    priority_score: float
    decided_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    waiting: bool = Field(default=True, index=True)
    decision: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))


TABLES = (LedgerRow, PlacementRow, WaitlistRow)


async def lock_candidates(session: AsyncSession, decision: DecisionMade) -> list[LedgerRow]:
    """Locks the ledger rows that could take this person, in id order (no deadlocks)."""
    types = [t.value for t in decision.provision_types]
    query = (
        select(LedgerRow)
        .where(col(LedgerRow.provision_type).in_(types))
        .where(
            or_(
                LedgerRow.provision_type != ProvisionType.HOME_CARE.value,
                LedgerRow.district == decision.district,
            )
        )
        .order_by(col(LedgerRow.provider_id))
        .with_for_update()
    )
    return list((await session.exec(query)).all())


async def lock_ledger(session: AsyncSession, provider_id: str) -> LedgerRow | None:
    query = select(LedgerRow).where(LedgerRow.provider_id == provider_id).with_for_update()
    return (await session.exec(query)).first()


async def is_known(session: AsyncSession, application_id: UUID) -> bool:
    placed = select(PlacementRow.id).where(PlacementRow.application_id == application_id)
    waiting = select(WaitlistRow.application_id).where(WaitlistRow.application_id == application_id)
    return (await session.exec(placed)).first() is not None or (
        await session.exec(waiting)
    ).first() is not None


async def waiting_for(session: AsyncSession, provision_type: str) -> list[WaitlistRow]:
    """Waiting people for a provision type in waitlist order: priority, then time of decision."""
    query = (
        select(WaitlistRow)
        .where(WaitlistRow.waiting == True, WaitlistRow.provision_type == provision_type)  # noqa: E712
        .order_by(
            col(WaitlistRow.priority_score).desc(),
            col(WaitlistRow.decided_at),
            col(WaitlistRow.application_id),
        )
        .with_for_update()
    )
    return list((await session.exec(query)).all())


async def held_by(session: AsyncSession, person_ref: str) -> list[PlacementRow]:
    """The places a person holds now (any application of theirs)."""
    query = select(PlacementRow).where(
        PlacementRow.person_ref == person_ref, col(PlacementRow.active).is_(True)
    )
    return list((await session.exec(query)).all())
