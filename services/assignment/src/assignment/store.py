"""Assignment's tables: the capacity ledger, placements and the waitlist.

The ledger row of a provider is locked (SELECT ... FOR UPDATE on PostgreSQL) by every placement and
release, so replicas of the service cannot both take the last place. The CHECK constraint refuses a
`used` outside 0..capacity whatever the code does.
"""

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import JSON, CheckConstraint, Column, text, union, update
from sqlmodel import Field, SQLModel, col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from socialsvc_common.contract.actor import MAX_LENGTH as ACTOR_LENGTH
from socialsvc_common.contract.payloads import DecisionMade, ProvisionType
from socialsvc_common.db import UtcDateTime, among, run
from socialsvc_common.withdrawals import WithdrawalRow


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
    # The person's district (their decision's): what a social worker's scope is matched against.
    # None on placements made before it was kept, when no stored decision told it.
    district: str | None = Field(default=None, index=True)
    active: bool = True
    # offered -> accepted -> started while active; any of them may be released.
    status: str = Field(default="offered", index=True)
    offer_expires_at: datetime | None = Field(
        default=None, sa_column=Column(UtcDateTime(), nullable=True)
    )
    placed_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    started_at: datetime | None = Field(
        default=None, sa_column=Column(UtcDateTime(), nullable=True)
    )
    released_at: datetime | None = Field(
        default=None, sa_column=Column(UtcDateTime(), nullable=True)
    )
    release_reason: str | None = None
    # The need level of the decision that placed the person (or of their latest review), and
    # when the service is next reviewed: set when it starts, moved on by each review it passes.
    need_level: int | None = None
    review_due_at: datetime | None = Field(
        default=None, sa_column=Column(UtcDateTime(), nullable=True, index=True)
    )
    # Who made the last transition (`<role>:<name>`); none when the service made it (an offer,
    # a lapse, a place given to the next person waiting).
    changed_by: str | None = Field(default=None, max_length=ACTOR_LENGTH)


class WaitlistRow(SQLModel, table=True):
    __tablename__ = "waitlist"

    application_id: UUID = Field(primary_key=True)
    provision_type: str = Field(index=True)
    priority_score: float
    decided_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    # When the person was put on the list (their decision's time for entries older than this).
    waitlisted_at: datetime | None = Field(
        default=None, sa_column=Column(UtcDateTime(), nullable=True)
    )
    waiting: bool = Field(default=True, index=True)
    decision: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))


# Withdrawn applications are placed no more (socialsvc_common.withdrawals).
TABLES = (LedgerRow, PlacementRow, WaitlistRow, WithdrawalRow)


def could_take(ledger: LedgerRow, decision: DecisionMade) -> bool:
    """Whether a provider could take the person at all: a type the decision allows, and home care
    only from the person's own district (the same test `lock_candidates` makes in SQL)."""
    return ledger.provision_type in decision.provision_types and (
        ledger.provision_type != ProvisionType.HOME_CARE.value
        or ledger.district == decision.district
    )


async def lock_candidates(
    session: AsyncSession, decisions: Sequence[DecisionMade]
) -> list[LedgerRow]:
    """Locks the ledger rows that could take any of these people, in id order (no deadlocks)."""
    types = sorted({t.value for decision in decisions for t in decision.provision_types})
    districts = sorted({decision.district for decision in decisions})
    query = (
        select(LedgerRow)
        .where(among(col(LedgerRow.provision_type), types))
        .where(
            or_(
                LedgerRow.provision_type != ProvisionType.HOME_CARE.value,
                among(col(LedgerRow.district), districts),
            )
        )
        .order_by(col(LedgerRow.provider_id))
        .with_for_update()
    )
    return list((await session.exec(query)).all())


async def lock_people(session: AsyncSession, person_refs: Collection[str]) -> None:
    """Takes the per-person locks of these people on PostgreSQL, in one fixed order."""
    bind = session.bind
    if not person_refs or bind is None or bind.dialect.name != "postgresql":
        return
    statement = text(
        "SELECT pg_advisory_xact_lock(k) FROM "
        "(SELECT DISTINCT hashtext(r) AS k FROM unnest(CAST(:refs AS text[])) AS r ORDER BY k) AS p"
    )
    await run(session, statement, {"refs": sorted(person_refs)})


async def known_of(session: AsyncSession, ids: Collection[UUID]) -> set[UUID]:
    """Which of these applications were placed or waitlisted before."""
    placed = select(PlacementRow.application_id).where(among(col(PlacementRow.application_id), ids))
    waiting = select(WaitlistRow.application_id).where(among(col(WaitlistRow.application_id), ids))
    found = await run(session, union(placed, waiting))
    return set(found.scalars())


async def open_of(session: AsyncSession, ids: Collection[UUID]) -> set[UUID]:
    """Which of these applications hold a place now or wait for one."""
    placed = select(PlacementRow.application_id).where(
        among(col(PlacementRow.application_id), ids), col(PlacementRow.active).is_(True)
    )
    waiting = select(WaitlistRow.application_id).where(
        among(col(WaitlistRow.application_id), ids), col(WaitlistRow.waiting).is_(True)
    )
    found = await run(session, union(placed, waiting))
    return set(found.scalars())


async def held_by_all(
    session: AsyncSession, person_refs: Collection[str]
) -> dict[str, list[PlacementRow]]:
    """The places each of these people holds now (any application of theirs)."""
    held: dict[str, list[PlacementRow]] = {ref: [] for ref in person_refs}
    if not person_refs:
        return held
    query = select(PlacementRow).where(
        among(col(PlacementRow.person_ref), person_refs), col(PlacementRow.active).is_(True)
    )
    for row in (await session.exec(query)).all():
        held[row.person_ref or ""].append(row)
    return held


async def lock_ledger(session: AsyncSession, provider_id: str) -> LedgerRow | None:
    query = select(LedgerRow).where(LedgerRow.provider_id == provider_id).with_for_update()
    return (await session.exec(query)).first()


def _in_waitlist_order(provision_type: str) -> SelectOfScalar[WaitlistRow]:
    """Waiting people for a provision type in waitlist order: priority, then time of decision
    (matching.waitlist_order, in SQL)."""
    return (
        select(WaitlistRow)
        .where(WaitlistRow.waiting == True, WaitlistRow.provision_type == provision_type)  # noqa: E712
        .order_by(
            col(WaitlistRow.priority_score).desc(),
            col(WaitlistRow.decided_at),
            col(WaitlistRow.application_id),
        )
    )


async def waiting_for(session: AsyncSession, provision_type: str) -> list[WaitlistRow]:
    """The waiting people for a provision type in waitlist order, locked (a place is given)."""
    query = _in_waitlist_order(provision_type).with_for_update()
    return list((await session.exec(query)).all())


async def waiting_now(session: AsyncSession, provision_type: str) -> list[WaitlistRow]:
    """The same people in the same order, unlocked: to show the list, not to give a place."""
    return list((await session.exec(_in_waitlist_order(provision_type))).all())


async def held_by(session: AsyncSession, person_ref: str) -> list[PlacementRow]:
    """The places a person holds now (any application of theirs)."""
    query = select(PlacementRow).where(
        PlacementRow.person_ref == person_ref, col(PlacementRow.active).is_(True)
    )
    return list((await session.exec(query)).all())


async def leave_waitlist(session: AsyncSession, ids: Collection[UUID]) -> None:
    """Takes these applications off the waitlist (one statement)."""
    statement = (
        update(WaitlistRow)
        .where(among(col(WaitlistRow.application_id), ids), col(WaitlistRow.waiting).is_(True))
        .values(waiting=False)
    )
    await run(session, statement)


async def active_placements_of(session: AsyncSession, ids: Collection[UUID]) -> list[UUID]:
    """The placements of these applications that still hold a place, in id order."""
    query = (
        select(PlacementRow.id)
        .where(among(col(PlacementRow.application_id), ids), col(PlacementRow.active).is_(True))
        .order_by(col(PlacementRow.id))
    )
    return list((await session.exec(query)).all())
