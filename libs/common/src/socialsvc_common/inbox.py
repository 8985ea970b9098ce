"""The inbox: every consumed event is recorded by (consumer, event id) with its effect.

`claim` runs inside the transaction that applies the event. A redelivered event finds its row and
is skipped; two replicas racing for the same event serialise on the primary key, and the loser
skips. Either way the effect happens once.
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy import Column, Index
from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from socialsvc_common.db import UtcDateTime, insert_new


class InboxRow(SQLModel, table=True):
    __tablename__ = "inbox"
    # Retention deletes the oldest claims; on PostgreSQL a BRIN index finds them at next to no
    # cost per insert, since claims arrive in time order.
    __table_args__ = (Index("ix_inbox_processed_at", "processed_at", postgresql_using="brin"),)

    consumer: str = Field(primary_key=True, max_length=100)
    event_id: UUID = Field(primary_key=True)
    processed_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


async def claim(session: AsyncSession, consumer: str, event_id: UUID) -> bool:
    """True the first time `consumer` sees `event_id` (in this transaction); False for a repeat."""
    return await claim_all(session, consumer, [event_id]) == [True]


async def claim_all(session: AsyncSession, consumer: str, event_ids: Sequence[UUID]) -> list[bool]:
    """`claim` for a batch in one statement: for each id in order, whether this is its first
    time. An id twice in the batch is new at most once, at its first place."""
    now = datetime.now(UTC)
    table = InboxRow.__table__  # type: ignore[attr-defined]
    rows = [{"consumer": consumer, "event_id": e, "processed_at": now} for e in event_ids]
    new = await insert_new(session, table, rows, table.c.event_id)
    first_times = []
    for event_id in event_ids:
        first_times.append(event_id in new)
        new.discard(event_id)
    return first_times
