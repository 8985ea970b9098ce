"""The appeals table and its queries. An appeal's row changes once, when a reviewer decides it;
the decision an overturn makes goes to the decision history, naming the appeal."""

from collections.abc import Collection, Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy import Column, Text, update
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from socialsvc_common.contract.actor import MAX_LENGTH as ACTOR_LENGTH
from socialsvc_common.db import UtcDateTime, run

GROUNDS_LENGTH = 4000


class AppealRow(SQLModel, table=True):
    __tablename__ = "appeals"

    id: UUID = Field(primary_key=True)
    application_id: UUID = Field(index=True)
    subject: str
    # The decision appealed against (its event id, the key of its history entry).
    decision_event_id: UUID
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


TABLES = (AppealRow,)


async def open_appeal_of(session: AsyncSession, application_id: UUID) -> UUID | None:
    query = select(AppealRow.id).where(
        AppealRow.application_id == application_id, AppealRow.status == "lodged"
    )
    return (await session.exec(query)).first()


async def appeal_for_update(session: AsyncSession, appeal_id: UUID) -> AppealRow | None:
    return await session.get(AppealRow, appeal_id, with_for_update=True)


async def appeals_of(session: AsyncSession, ids: Collection[UUID]) -> list[AppealRow]:
    query = select(AppealRow).where(col(AppealRow.application_id).in_(ids))
    order = (col(AppealRow.application_id), col(AppealRow.lodged_at))
    return list((await session.exec(query.order_by(*order))).all())


async def appeals_listed(
    session: AsyncSession, *, overdue_at: datetime | None, status: str | None, limit: int
) -> Sequence[AppealRow]:
    """Appeals oldest first; with `overdue_at`, only those still open past their time limit."""
    query = select(AppealRow)
    if overdue_at is not None:
        query = query.where(AppealRow.status == "lodged", col(AppealRow.respond_by) <= overdue_at)
    if status is not None:
        query = query.where(AppealRow.status == status)
    return (await session.exec(query.order_by(col(AppealRow.lodged_at)).limit(limit))).all()


async def anonymise_appeals(session: AsyncSession, ids: Collection[UUID]) -> None:
    """Drops what the appellant and the reviewer wrote, which may name the person (one
    statement); the statuses and dates stay."""
    statement = (
        update(AppealRow)
        .where(col(AppealRow.application_id).in_(ids))
        .values(grounds="", reasons=None)
    )
    await run(session, statement)
