"""The archive's queries, each a single statement, kept together."""

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Row, delete, exists, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel.ext.asyncio.session import AsyncSession

from socialsvc_common.db import insert_new, run
from socialsvc_ops.archive.tables import EVENTS, KEYS


async def data_keys(session: AsyncSession, subjects: Collection[str]) -> dict[str, bytes | None]:
    """The wrapped keys of these subjects that exist; None for a subject that was forgotten."""
    if not subjects:
        return {}
    statement = select(KEYS.c.subject, KEYS.c.wrapped_key).where(KEYS.c.subject.in_(subjects))
    return {row.subject: row.wrapped_key for row in await run(session, statement)}


async def add_data_keys(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> set[str]:
    """Adds new data keys; returns the subjects whose key went in (another writer may have
    added one first)."""
    added: set[str] = await insert_new(session, KEYS, rows, KEYS.c.subject)
    return added


async def add_events(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> int:
    """Adds the events not archived yet (by topic and event id), in one statement; returns how
    many went in."""
    if not rows:
        return 0
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(EVENTS).on_conflict_do_nothing().returning(EVENTS.c.topic)
    return len((await run(session, statement, rows)).all())


async def forget(session: AsyncSession, subjects: Collection[str], at: datetime) -> int:
    """Empties the data keys of these subjects, and marks the ones without a key yet, so that
    nothing of theirs is readable now or sealed later. Returns how many keys were destroyed."""
    if not subjects:
        return 0
    destroyed = await run(
        session,
        KEYS.update()
        .where(KEYS.c.subject.in_(subjects), KEYS.c.wrapped_key.is_not(None))
        .values(wrapped_key=None, forgotten_at=at),
    )
    rows = [
        {"subject": s, "wrapped_key": None, "created_at": at, "forgotten_at": at} for s in subjects
    ]
    await insert_new(session, KEYS, rows, KEYS.c.subject)
    return destroyed.rowcount


@dataclass(frozen=True, slots=True)
class Filter:
    """Which archived events: every given condition holds (none given: all of them)."""

    application_id: UUID | None = None
    actor: str | None = None
    types: frozenset[str] = frozenset()
    since: datetime | None = None
    until: datetime | None = None
    limit: int | None = None


async def find(session: AsyncSession, wanted: Filter) -> Sequence[Row[Any]]:
    """The events that match, oldest first, each with its wrapped data key (None: forgotten or
    never sealed)."""
    statement = (
        select(EVENTS, KEYS.c.wrapped_key)
        .outerjoin(KEYS, KEYS.c.subject == EVENTS.c.key_subject)
        .order_by(EVENTS.c.occurred_at, EVENTS.c.topic, EVENTS.c.kafka_offset)
    )
    if wanted.application_id is not None:
        statement = statement.where(EVENTS.c.application_id == wanted.application_id)
    if wanted.actor is not None:
        statement = statement.where(EVENTS.c.actor == wanted.actor)
    if wanted.types:
        statement = statement.where(
            EVENTS.c.event_type.in_(wanted.types) | EVENTS.c.topic.in_(wanted.types)
        )
    if wanted.since is not None:
        statement = statement.where(EVENTS.c.occurred_at >= wanted.since)
    if wanted.until is not None:
        statement = statement.where(EVENTS.c.occurred_at < wanted.until)
    if wanted.limit is not None:
        statement = statement.limit(wanted.limit)
    return (await run(session, statement)).all()


async def prune_expired(session: AsyncSession, now: datetime, batch: int) -> int:
    """Deletes up to `batch` events whose retention has ended; returns how many."""
    expired = (
        select(EVENTS.c.topic, EVENTS.c.event_id).where(EVENTS.c.retain_until < now).limit(batch)
    )
    statement = delete(EVENTS).where(tuple_(EVENTS.c.topic, EVENTS.c.event_id).in_(expired))
    return (await run(session, statement)).rowcount


async def drop_unused_keys(session: AsyncSession) -> int:
    """Deletes the data keys no archived event is sealed with any more. The marks of forgotten
    subjects stay: an event of theirs that arrives later must still not be sealed."""
    used = exists().where(EVENTS.c.key_subject == KEYS.c.subject)
    statement = delete(KEYS).where(KEYS.c.wrapped_key.is_not(None), ~used)
    return (await run(session, statement)).rowcount
