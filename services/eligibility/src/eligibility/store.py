"""Eligibility's tables: every decision each application had, with the facts it was made on.

Decisions are only ever added: a new one (added facts, an appeal's overturn) supersedes the one
before without changing it, and the current decision of an application is its latest (the highest
`id`). The facts are kept (without names, FIN or contacts) so that a later rule set can be
simulated on real history; the decision is kept whole so it can be explained.
"""

from collections.abc import Collection, Mapping, Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import JSON, BigInteger, Column, Integer, Table, bindparam, insert, update
from sqlalchemy.orm import aliased
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from eligibility.policy_store import RuleSetRow
from socialsvc_common.contract.payloads import DecisionMade
from socialsvc_common.db import UtcDateTime, among, run
from socialsvc_common.withdrawals import WithdrawalRow


class DecisionRow(SQLModel, table=True):
    __tablename__ = "decisions"

    # The order decisions were made in; SQLite numbers only an INTEGER key by itself.
    id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    )
    application_id: UUID = Field(index=True)
    event_id: UUID = Field(index=True, unique=True)
    outcome: str = Field(index=True)
    rule_set_version: str
    district: str
    decided_on: date
    decided_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    facts: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    decision: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    # The appeal whose overturn made this decision; none for a decision by the rules.
    appeal_id: UUID | None = Field(default=None, index=True)
    # Set when the person's data was erased: the facts are gone, the outcome stays for the counts.
    erased_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))


# Activated rule-set versions live here too; withdrawn applications are decided no more.
TABLES = (DecisionRow, RuleSetRow, WithdrawalRow)
DECISIONS: Table = DecisionRow.__table__  # type: ignore[attr-defined]


async def save_decisions(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    """Adds the decisions to their applications' histories, in one statement; the last added is
    each application's current decision."""
    if rows:
        await run(session, insert(DECISIONS), list(rows))


async def decisions_of(session: AsyncSession, ids: Collection[UUID]) -> list[DecisionRow]:
    """Every decision these applications had, by application and then in the order made."""
    query = select(DecisionRow).where(among(col(DecisionRow.application_id), ids))
    order = (col(DecisionRow.application_id), col(DecisionRow.id))
    return list((await session.exec(query.order_by(*order))).all())


def latest_only(query: Any, *, by_rules: bool = False) -> Any:
    """`query` on decisions narrowed to each application's latest decision (by the rules only,
    leaving out the ones appeals made, when `by_rules`)."""
    later = aliased(DecisionRow)
    newer = select(later.id).where(
        later.application_id == DecisionRow.application_id, col(later.id) > col(DecisionRow.id)
    )
    if by_rules:
        newer = newer.where(col(later.appeal_id).is_(None))
        query = query.where(col(DecisionRow.appeal_id).is_(None))
    return query.where(~newer.exists())


async def current_decision(session: AsyncSession, application_id: UUID) -> DecisionRow | None:
    """The application's latest decision, or None when it has none."""
    query = select(DecisionRow).where(DecisionRow.application_id == application_id)
    return (await session.exec(query.order_by(col(DecisionRow.id).desc()).limit(1))).first()


async def decision_by_event(session: AsyncSession, event_id: UUID) -> DecisionRow | None:
    query = select(DecisionRow).where(DecisionRow.event_id == event_id)
    return (await session.exec(query)).first()


async def anonymise_decisions(
    session: AsyncSession, decisions: Mapping[int, dict[str, Any]], now: datetime
) -> None:
    """Replaces the facts and the decisions of these history entries (by id), one statement."""
    if not decisions:
        return
    statement = (
        update(DECISIONS)
        .where(DECISIONS.c.id == bindparam("entry"))
        .values(facts={}, decision=bindparam("anonymous"), erased_at=now)
    )
    rows = [{"entry": key, "anonymous": value} for key, value in decisions.items()]
    await run(session, statement, rows)


def history_row(
    made: DecisionMade, event_id: UUID, *, decided_on: date, facts: Mapping[str, Any]
) -> dict[str, Any]:
    """The row a decision adds to its application's history (`save_decisions` writes them): the
    same for a first decision, one an appeal made and one a review made."""
    return {
        "application_id": made.application_id,
        "event_id": event_id,
        "outcome": made.outcome.value,
        "rule_set_version": made.rule_set_version,
        "district": made.district,
        "decided_on": decided_on,
        "decided_at": made.decided_at,
        "facts": dict(facts),
        "decision": made.model_dump(mode="json"),
        "appeal_id": made.appeal_id,
    }
