"""Eligibility's tables: the current decision of each application, with the facts it was made on.

The facts are kept (without names, FIN or contacts) so that a later rule set can be simulated on
real history; the decision is kept whole so it can be explained.
"""

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from eligibility.policy_store import RuleSetRow
from socialsvc_common.db import UtcDateTime, upsert
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


# Activated rule-set versions live here too; withdrawn applications are decided no more.
TABLES = (DecisionRow, RuleSetRow, WithdrawalRow)


async def save_decisions(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    """Stores each application's latest decision in one statement, superseding an earlier one."""
    table = DecisionRow.__table__  # type: ignore[attr-defined]
    await upsert(session, table, rows, key=["application_id"])
