"""Reviews of placements: one row a review, opened when the placement's review date comes and
concluded by the decision it causes. A review is opened once whatever the restarts and replicas:
the placements are claimed with SKIP LOCKED on PostgreSQL, and (placement, due time) is unique."""

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Column, Table, UniqueConstraint, exists, insert
from sqlmodel import Field, SQLModel, col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from assignment.store import PlacementRow
from socialsvc_common.contract.payloads import PlacementStatus
from socialsvc_common.db import UtcDateTime, among, run

OPEN = "open"
CONCLUDED = "concluded"


class ReviewRow(SQLModel, table=True):
    __tablename__ = "reviews"
    __table_args__ = (UniqueConstraint("placement_id", "due_at", name="uq_review_per_due_date"),)

    id: UUID = Field(primary_key=True)
    application_id: UUID = Field(index=True)
    placement_id: UUID = Field(index=True)
    provision_type: str
    due_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    opened_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    # When it is escalated unless concluded before (the policy's grace period after due_at).
    overdue_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False, index=True))
    # open -> concluded; the outcome (continued, ended) once the new decision was applied, none
    # when the placement had ended meanwhile.
    status: str = Field(default=OPEN, index=True)
    outcome: str | None = None
    rule_set_version: str | None = None
    concluded_at: datetime | None = Field(
        default=None, sa_column=Column(UtcDateTime(), nullable=True)
    )
    escalated_at: datetime | None = Field(
        default=None, sa_column=Column(UtcDateTime(), nullable=True)
    )


REVIEWS: Table = ReviewRow.__table__  # type: ignore[attr-defined]


async def claim_due_placements(
    session: AsyncSession, now: datetime, limit: int
) -> list[PlacementRow]:
    """Started placements whose review date has come and that have no open review, locked (rows
    another replica holds are skipped: it is opening their reviews)."""
    open_review = exists().where(
        col(ReviewRow.placement_id) == col(PlacementRow.id), col(ReviewRow.status) == OPEN
    )
    query = (
        select(PlacementRow)
        .where(
            col(PlacementRow.active).is_(True),
            PlacementRow.status == PlacementStatus.STARTED.value,
            col(PlacementRow.review_due_at) <= now,
            ~open_review,
        )
        .order_by(col(PlacementRow.review_due_at), col(PlacementRow.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list((await session.exec(query)).all())


async def claim_undated(session: AsyncSession, limit: int) -> list[PlacementRow]:
    """Started placements without a review date (started before reviews existed), locked."""
    query = (
        select(PlacementRow)
        .where(
            col(PlacementRow.active).is_(True),
            PlacementRow.status == PlacementStatus.STARTED.value,
            col(PlacementRow.review_due_at).is_(None),
        )
        .order_by(col(PlacementRow.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list((await session.exec(query)).all())


async def add_reviews(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        await run(session, insert(REVIEWS), list(rows))


async def claim_overdue(session: AsyncSession, now: datetime, limit: int) -> list[ReviewRow]:
    """Open reviews past their grace period and not escalated yet, locked (skipping those another
    replica holds)."""
    query = (
        select(ReviewRow)
        .where(
            ReviewRow.status == OPEN,
            col(ReviewRow.overdue_at) <= now,
            col(ReviewRow.escalated_at).is_(None),
        )
        .order_by(col(ReviewRow.overdue_at), col(ReviewRow.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list((await session.exec(query)).all())


async def open_reviews_for_update(session: AsyncSession, ids: Collection[UUID]) -> list[ReviewRow]:
    """The reviews among these still open, locked, in id order."""
    query = (
        select(ReviewRow)
        .where(among(col(ReviewRow.id), ids), ReviewRow.status == OPEN)
        .order_by(col(ReviewRow.id))
        .with_for_update()
    )
    return list((await session.exec(query)).all())


async def reviews_listed(
    session: AsyncSession,
    *,
    overdue: bool | None,
    application_id: UUID | None,
    now: datetime,
    due_by: datetime | None = None,
    districts: Collection[str] = (),
) -> list[tuple[ReviewRow, str | None]]:
    """Reviews for staff with the district of their placement, the oldest due first: all, or
    only the open ones past their grace period (overdue=true), or the others (overdue=false);
    only open ones due by `due_by`; of one application when given; of placements in `districts`
    when any are given."""
    query = select(ReviewRow, PlacementRow.district).join(
        PlacementRow, col(PlacementRow.id) == col(ReviewRow.placement_id)
    )
    if overdue is True:
        query = query.where(ReviewRow.status == OPEN, col(ReviewRow.overdue_at) <= now)
    elif overdue is False:
        query = query.where(or_(col(ReviewRow.status) != OPEN, col(ReviewRow.overdue_at) > now))
    if due_by is not None:
        query = query.where(ReviewRow.status == OPEN, col(ReviewRow.due_at) <= due_by)
    if application_id is not None:
        query = query.where(ReviewRow.application_id == application_id)
    if districts:
        query = query.where(col(PlacementRow.district).in_(sorted(districts)))
    query = query.order_by(col(ReviewRow.due_at), col(ReviewRow.id)).limit(1000)
    return [(row, district) for row, district in (await session.exec(query)).all()]


async def reviews_coming(
    session: AsyncSession,
    *,
    due_by: datetime,
    application_id: UUID | None,
    districts: Collection[str] = (),
) -> list[PlacementRow]:
    """Started services whose review comes by `due_by` and is not open yet (the sweeper opens it
    on the day), the soonest first; of one application, and of `districts`, when given."""
    open_review = exists().where(
        col(ReviewRow.placement_id) == col(PlacementRow.id), col(ReviewRow.status) == OPEN
    )
    query = select(PlacementRow).where(
        col(PlacementRow.active).is_(True),
        PlacementRow.status == PlacementStatus.STARTED.value,
        col(PlacementRow.review_due_at) <= due_by,
        ~open_review,
    )
    if application_id is not None:
        query = query.where(PlacementRow.application_id == application_id)
    if districts:
        query = query.where(col(PlacementRow.district).in_(sorted(districts)))
    query = query.order_by(col(PlacementRow.review_due_at), col(PlacementRow.id)).limit(1000)
    return list((await session.exec(query)).all())
