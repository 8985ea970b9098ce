"""Writes to the read model, one statement per table and batch, on PostgreSQL and SQLite alike.

Two ways of keeping a row whatever order its events come in: `upsert` with a guard keeps the
latest state of a thing that is replaced as a whole (a decision, a provider), and `merge` fills a
row column by column, each event the columns it knows (a placement's offer, start and release).
A proactive offer takes something of both: its latest status, and its first offer.
"""

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Column, Table, case, delete, insert, or_, select
from sqlalchemy.sql.functions import coalesce
from sqlmodel.ext.asyncio.session import AsyncSession

from ministry_statistics.sql import rows_of
from ministry_statistics.tables import (
    APPLICATIONS,
    PROACTIVE_OFFERS,
    PROVIDERS,
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


async def times_of(
    session: AsyncSession, at: Column[datetime], refs: Collection[UUID]
) -> dict[UUID, datetime]:
    """The time `at` (a column of a table keyed by `ref`) of each of these refs' stored rows."""
    if not refs:
        return {}
    key = at.table.c.ref
    query = select(key, at).where(among(key, refs))
    return {ref: when for ref, when in await rows_of(session, query)}  # noqa: C416 - typed pairs


async def replace(
    session: AsyncSession,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    parts: Mapping[Table, Sequence[Mapping[str, Any]]],
) -> None:
    """Rows keyed by `ref` (the latest decisions, pre-screens) with the rows of their parts (groups,
    reasons, directions), replacing what was stored of them."""
    if not rows:
        return
    refs = [row["ref"] for row in rows]
    await upsert(session, table, rows, ["ref"])
    for part, found in parts.items():
        await run(session, delete(part).where(among(part.c.ref, refs)))
        if found:
            await run(session, insert(part), found)


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


async def save_offers(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    """Each proactive offer's latest status (with its application) by `updated_at`, and the first
    time it was offered, whatever order its events come in. The rows must have distinct refs
    (`facts.offers`)."""
    if not rows:
        return
    statement = dialect_insert(session, PROACTIVE_OFFERS)
    stored, new = PROACTIVE_OFFERS.c, statement.excluded
    later = new.updated_at >= stored.updated_at
    kept = {
        name: case((later, new[name]), else_=stored[name])
        for name in ("status", "updated_at", "application_ref")
    }
    kept["offered_at"] = case(
        (stored.offered_at.is_(None), new.offered_at),
        (new.offered_at < stored.offered_at, new.offered_at),
        else_=stored.offered_at,
    )
    await run(session, statement.on_conflict_do_update(index_elements=["ref"], set_=kept), rows)
