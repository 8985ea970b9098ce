"""Applications whose consent was withdrawn, as each downstream service remembers them.

A withdrawal (`intake.consent.withdrawn.v1`) travels on a topic of its own, so a service may read
it before or after the other events of the application. Each service that acts on applications
keeps this table and asks it before acting: whichever arrives first, nothing is done for an
application once its withdrawal is known.
"""

from collections.abc import Collection, Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy import Column, Table
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from socialsvc_common.consumer import Received
from socialsvc_common.contract.payloads import ConsentWithdrawn
from socialsvc_common.db import UtcDateTime, among, insert_new


class WithdrawalRow(SQLModel, table=True):
    __tablename__ = "withdrawals"

    application_id: UUID = Field(primary_key=True)
    event_id: UUID
    withdrawn_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


WITHDRAWALS: Table = WithdrawalRow.__table__  # type: ignore[attr-defined]


async def record_withdrawals(
    session: AsyncSession, batch: Sequence[Received[ConsentWithdrawn]]
) -> set[UUID]:
    """Remembers the withdrawals of a batch in one statement; the applications newly withdrawn
    (a second withdrawal of the same application changes nothing)."""
    rows = [
        {
            "application_id": item.payload.application_id,
            "event_id": item.envelope.event_id,
            "withdrawn_at": item.payload.withdrawn_at,
        }
        for item in batch
    ]
    return await insert_new(session, WITHDRAWALS, rows, WITHDRAWALS.c.application_id)


async def withdrawn_of(session: AsyncSession, ids: Collection[UUID]) -> set[UUID]:
    """Which of these applications had their consent withdrawn."""
    if not ids:
        return set()
    query = select(WithdrawalRow.application_id).where(
        among(col(WithdrawalRow.application_id), ids)
    )
    return set((await session.exec(query)).all())
