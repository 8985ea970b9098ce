"""The appeals table and its queries. An appeal's row changes once, when a reviewer decides it;
the decision an overturn makes goes to the decision history, naming the appeal."""

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import Column, Delete, Table, Text, delete, update
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from eligibility.store import DecisionRow
from socialsvc_common.contract.actor import MAX_LENGTH as ACTOR_LENGTH
from socialsvc_common.db import UtcDateTime, among, insert_new, run
from socialsvc_common.retention import Rule

GROUNDS_LENGTH = 4000


class AppealRow(SQLModel, table=True):
    __tablename__ = "appeals"

    id: UUID = Field(primary_key=True)
    application_id: UUID = Field(index=True)
    subject: str
    # The decision appealed against, or the one a placement appealed about was made on (its event
    # id, the key of its history entry); for a placement, the refusal or release too.
    decision_event_id: UUID
    placement_event_id: UUID | None = None
    status: str = Field(index=True)
    # What the appellant says is wrong, and the need level they claim (for an eligible decision).
    grounds: str = Field(sa_column=Column(Text, nullable=False))
    claimed_need_level: int | None = None
    lodged_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    lodged_by: str = Field(max_length=ACTOR_LENGTH)
    respond_by: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False, index=True))
    policy_version: str
    decided_at: datetime | None = Field(
        default=None, sa_column=Column(UtcDateTime(), nullable=True)
    )
    decided_by: str | None = Field(default=None, max_length=ACTOR_LENGTH)
    reasons: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # The decision an overturn made.
    new_decision_event_id: UUID | None = None


class PlacementEndingRow(SQLModel, table=True):
    """A placement of an application refused or released (from assignment's events): what an
    appeal about a placement is lodged against. Ids, reasons and times only."""

    __tablename__ = "placement_endings"

    event_id: UUID = Field(primary_key=True)
    application_id: UUID = Field(index=True)
    placement_id: UUID | None = None
    kind: str  # refused or released
    reason: str
    ended_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False, index=True))


TABLES = (AppealRow, PlacementEndingRow)
ENDINGS: Table = PlacementEndingRow.__table__  # type: ignore[attr-defined]


async def save_endings(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    """Records the refusals and releases, one statement; a repeat is ignored."""
    if rows:
        await insert_new(session, ENDINGS, rows, ENDINGS.c.event_id)


async def latest_ending(session: AsyncSession, application_id: UUID) -> PlacementEndingRow | None:
    query = select(PlacementEndingRow).where(PlacementEndingRow.application_id == application_id)
    order = (col(PlacementEndingRow.ended_at).desc(), col(PlacementEndingRow.event_id))
    return (await session.exec(query.order_by(*order).limit(1))).first()


def endings_rule(keep: timedelta) -> Rule:
    """Refusals and releases older than any appeal against them could be."""

    def statement(cutoff: datetime, limit: int) -> Delete:
        old = select(ENDINGS.c.event_id).where(ENDINGS.c.ended_at < cutoff).limit(limit)
        return delete(ENDINGS).where(ENDINGS.c.event_id.in_(old))

    return Rule("placement_endings", keep, statement)


async def open_appeal_of(session: AsyncSession, application_id: UUID) -> UUID | None:
    query = select(AppealRow.id).where(
        AppealRow.application_id == application_id, AppealRow.status == "lodged"
    )
    return (await session.exec(query)).first()


async def appeal_for_update(session: AsyncSession, appeal_id: UUID) -> AppealRow | None:
    return await session.get(AppealRow, appeal_id, with_for_update=True)


async def appeals_of(session: AsyncSession, ids: Collection[UUID]) -> list[AppealRow]:
    query = select(AppealRow).where(among(col(AppealRow.application_id), ids))
    order = (col(AppealRow.application_id), col(AppealRow.lodged_at))
    return list((await session.exec(query.order_by(*order))).all())


async def appeals_listed(
    session: AsyncSession,
    *,
    overdue_at: datetime | None,
    status: str | None,
    limit: int,
    districts: Collection[str] = (),
) -> list[tuple[AppealRow, str]]:
    """Appeals oldest first, each with the district of the decision it is about; with
    `overdue_at`, only those still open past their time limit; with `districts`, only theirs."""
    query = select(AppealRow, DecisionRow.district).join(
        DecisionRow, col(DecisionRow.event_id) == col(AppealRow.decision_event_id)
    )
    if overdue_at is not None:
        query = query.where(AppealRow.status == "lodged", col(AppealRow.respond_by) <= overdue_at)
    if status is not None:
        query = query.where(AppealRow.status == status)
    if districts:
        query = query.where(col(DecisionRow.district).in_(sorted(districts)))
    query = query.order_by(col(AppealRow.lodged_at), col(AppealRow.id)).limit(limit)
    return [(row, district) for row, district in (await session.exec(query)).all()]


async def anonymise_appeals(session: AsyncSession, ids: Collection[UUID]) -> None:
    """Drops what the appellant and the reviewer wrote, which may name the person (one
    statement); the statuses and dates stay."""
    statement = (
        update(AppealRow)
        .where(among(col(AppealRow.application_id), ids))
        .values(grounds="", reasons=None)
    )
    await run(session, statement)
