"""Intake's queries for applications waiting for facts: which are due a step, what their latest
decision asked for, and the reminder's mark."""

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import update
from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from intake.information_policy import AwaitingFacts, InformationPolicy
from intake.store import APPLICATIONS, ApplicationRow, JourneyEntry, Status
from socialsvc_common.db import among, run

DECIDED = "eligibility.decision.made"


async def awaiting_facts(
    session: AsyncSession, policy: InformationPolicy, now: datetime, limit: int
) -> list[AwaitingFacts]:
    """Applications still waiting for facts that are due a reminder or expiry, oldest first,
    locked: an event moving one of them waits for this step to commit (and then finds it
    expired, which no event moves)."""
    reminded = col(ApplicationRow.information_reminded_at)
    query = (
        select(ApplicationRow.id, ApplicationRow.updated_at, ApplicationRow.information_reminded_at)
        .where(ApplicationRow.status == Status.NEEDS_INFORMATION.value)
        .where(col(ApplicationRow.updated_at) <= now - policy.reminder_after)
        .where(
            or_(
                col(ApplicationRow.updated_at) <= now - policy.expire_after,
                reminded.is_(None),
                reminded < col(ApplicationRow.updated_at),
            )
        )
        .order_by(col(ApplicationRow.updated_at))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = (await session.exec(query)).all()
    return [AwaitingFacts(row_id, asked, reminded_at) for row_id, asked, reminded_at in rows]


async def missing_asked(session: AsyncSession, ids: Collection[UUID]) -> dict[UUID, list[str]]:
    """The facts each application's latest decision asked for (from its journey)."""
    if not ids:
        return {}
    query = (
        select(JourneyEntry.application_id, JourneyEntry.summary)
        .where(among(col(JourneyEntry.application_id), ids), JourneyEntry.type == DECIDED)
        .order_by(col(JourneyEntry.time))
    )
    latest: dict[UUID, Mapping[str, Any]] = dict((await session.exec(query)).all())
    return {application_id: list(s.get("missing", [])) for application_id, s in latest.items()}


async def mark_reminded(session: AsyncSession, ids: Collection[UUID], now: datetime) -> None:
    """Records the reminder (one statement); the application's own time is left as it was, as
    expiry counts from the request for facts."""
    if ids:
        statement = (
            update(APPLICATIONS)
            .where(among(APPLICATIONS.c.id, list(ids)))
            .values(information_reminded_at=now)
        )
        await run(session, statement)
