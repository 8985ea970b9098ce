"""Eligibility's tables: the current decision of each application, with the facts it was made on.

The facts are kept (without names, FIN or contacts) so that a later rule set can be simulated on
real history; the decision is kept whole so it can be explained.
"""

from collections.abc import Collection, Mapping, Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import JSON, Column, Table, bindparam, update
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from eligibility.policy_store import RuleSetRow
from socialsvc_common.db import UtcDateTime, run, upsert
from socialsvc_common.withdrawals import WithdrawalRow


class DecisionRow(SQLModel, table=True):
    __tablename__ = "decisions"

    application_id: UUID = Field(primary_key=True)
    event_id: UUID
    outcome: str = Field(index=True)
    rule_set_version: str
    district: str
    decided_on: date
    decided_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    facts: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    decision: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    # Set when the person's data was erased: the facts are gone, the outcome stays for the counts.
    erased_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))


# Activated rule-set versions live here too; withdrawn applications are decided no more.
TABLES = (DecisionRow, RuleSetRow, WithdrawalRow)
DECISIONS: Table = DecisionRow.__table__  # type: ignore[attr-defined]


async def save_decisions(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    """Stores each application's latest decision in one statement, superseding an earlier one."""
    await upsert(session, DECISIONS, rows, key=["application_id"])


async def decisions_of(session: AsyncSession, ids: Collection[UUID]) -> list[DecisionRow]:
    query = select(DecisionRow).where(col(DecisionRow.application_id).in_(ids))
    return list((await session.exec(query.order_by(col(DecisionRow.application_id)))).all())


async def anonymise_decisions(
    session: AsyncSession, decisions: Mapping[UUID, dict[str, Any]], now: datetime
) -> None:
    """Replaces the facts and the decisions of these applications, one statement."""
    if not decisions:
        return
    statement = (
        update(DECISIONS)
        .where(DECISIONS.c.application_id == bindparam("application"))
        .values(facts={}, decision=bindparam("anonymous"), erased_at=now)
    )
    rows = [{"application": key, "anonymous": value} for key, value in decisions.items()]
    await run(session, statement, rows)
