"""Writes to the read model, one statement per table and batch, on PostgreSQL and SQLite alike.

Two ways of keeping a row whatever order its events come in: `upsert` with a guard keeps the
latest state of a thing that is replaced as a whole (a decision, a provider), and `merge` fills a
row column by column, each event the columns it knows (a placement's offer, start and release).
"""

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Table, delete, insert, or_, select
from sqlalchemy.sql.functions import coalesce
from sqlmodel.ext.asyncio.session import AsyncSession

from ministry_statistics.sql import rows_of
from ministry_statistics.tables import (
    APPLICATIONS,
    DECISIONS,
    GROUPS,
    PROVIDERS,
    REASONS,
    WAITLIST,
    WITHDRAWALS,
)
from socialsvc_common.db import among, dialect_insert, run, upsert


async def merge(
    session: AsyncSession, table: Table, rows: Sequence[Mapping[str, Any]], key: Sequence[str]
) -> None:
    """Inserts the rows; a row whose key is there fills only the columns still empty (None).
    The rows must have distinct keys (`facts.combined`)."""
    if not rows:
        return
    statement = dialect_insert(session, table)
    filled = {
        c.name: coalesce(c, statement.excluded[c.name]) for c in table.columns if c.name not in key
    }
    await run(session, statement.on_conflict_do_update(index_elements=list(key), set_=filled), rows)


async def save_applications(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    """A later revision (facts added) replaces an earlier one, never the reverse."""
    await upsert(
        session,
        APPLICATIONS,
        rows,
        ["ref"],
        unless=APPLICATIONS.c.revision > _excluded(session, APPLICATIONS).revision,
    )


def _excluded(session: AsyncSession, table: Table) -> Any:
    return dialect_insert(session, table).excluded


async def decided_at_of(session: AsyncSession, refs: Collection[UUID]) -> dict[UUID, datetime]:
    """When the stored decision of each of these applications was made."""
    if not refs:
        return {}
    query = select(DECISIONS.c.ref, DECISIONS.c.decided_at).where(among(DECISIONS.c.ref, refs))
    return {ref: at for ref, at in await rows_of(session, query)}  # noqa: C416 - typed pairs


async def save_decisions(
    session: AsyncSession,
    rows: Sequence[Mapping[str, Any]],
    groups: Sequence[Mapping[str, Any]],
    reasons: Sequence[Mapping[str, Any]],
) -> None:
    """The latest decisions with their groups and refusal reasons, replacing what was stored."""
    if not rows:
        return
    refs = [row["ref"] for row in rows]
    await upsert(session, DECISIONS, rows, ["ref"])
    await run(session, delete(GROUPS).where(among(GROUPS.c.ref, refs)))
    await run(session, delete(REASONS).where(among(REASONS.c.ref, refs)))
    if groups:
        await run(session, insert(GROUPS), groups)
    if reasons:
        await run(session, insert(REASONS), reasons)


async def save_waitlist(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    """The latest time each application was put on the waitlist."""
    excluded = _excluded(session, WAITLIST)
    await upsert(
        session, WAITLIST, rows, ["ref"], unless=WAITLIST.c.waitlisted_at > excluded.waitlisted_at
    )


async def save_providers(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    """Each provider's latest state (a change older than the one stored is ignored)."""
    excluded = _excluded(session, PROVIDERS)
    await upsert(
        session,
        PROVIDERS,
        rows,
        ["provider_id"],
        unless=PROVIDERS.c.changed_at > excluded.changed_at,
    )


async def save_withdrawals(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    """Withdrawals; once the statistics purpose was withdrawn, it stays withdrawn."""
    if not rows:
        return
    statement = dialect_insert(session, WITHDRAWALS)
    kept = {
        "withdrawn_at": WITHDRAWALS.c.withdrawn_at,
        "for_statistics": or_(WITHDRAWALS.c.for_statistics, statement.excluded.for_statistics),
    }
    await run(session, statement.on_conflict_do_update(index_elements=["ref"], set_=kept), rows)
