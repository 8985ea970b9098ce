"""Notifications' tables: how to reach each citizen (personal data, kept only here) and every
message with its delivery state."""

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import (
    JSON,
    Column,
    Delete,
    Index,
    Integer,
    Table,
    bindparam,
    delete,
    func,
    insert,
    text,
    true,
    update,
)
from sqlmodel import Field, SQLModel, col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from socialsvc_common.db import UtcDateTime, among, run, upsert
from socialsvc_common.retention import Rule
from socialsvc_common.withdrawals import WithdrawalRow

PENDING, SENT, FAILED, SKIPPED = "pending", "sent", "failed", "skipped"
# Taken by a gateway that reports delivery later, through a receipt.
ACCEPTED = "accepted"
# Not sent: the person withdrew their consent before it went.
CANCELLED = "cancelled"
# The kind of the row an event that calls for no message leaves (it orders the messages after it).
NO_MESSAGE = "none"
# How long a message waits for its cause's message: long enough for that one to be stored when the
# topics are read at different paces; short, because some causes (a release before a promotion)
# call for no message at all.
CAUSE_HOLD = timedelta(seconds=15)


class ContactRow(SQLModel, table=True):
    __tablename__ = "contacts"

    application_id: UUID = Field(primary_key=True)
    fin: str
    mobile_phone: str
    email: str | None = None
    language: str
    preferred_channel: str | None = None
    district: str
    lives_alone: bool = False
    # Set when the person's data was erased: the contact is blanked and no message goes out.
    erased_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))


class NotificationRow(SQLModel, table=True):
    __tablename__ = "notifications"
    # due() reads only pending messages, and under load most rows are not (sent, delivered, or a
    # reminder held for days): two small indexes of the pending ones, by when they are due (in
    # due()'s order, so it stops after a batch) and by citizen in order.
    __table_args__ = (
        Index(
            "ix_notifications_pending_due",
            "next_attempt_at",
            "id",
            postgresql_where=text(f"status = '{PENDING}'"),
            sqlite_where=text(f"status = '{PENDING}'"),
        ),
        Index(
            "ix_notifications_pending_by_citizen",
            "application_id",
            "occurred_at",
            postgresql_where=text(f"status = '{PENDING}'"),
            sqlite_where=text(f"status = '{PENDING}'"),
        ),
    )

    id: UUID = Field(primary_key=True)
    application_id: UUID = Field(index=True)
    # due() looks up each held message's cause by it.
    event_id: UUID = Field(index=True)
    kind: str
    context: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    status: str = Field(default=PENDING, index=True)
    channel: str | None = None
    attempts: int = 0
    segments: int | None = None
    gateway_message_id: str | None = None
    last_error: str | None = None
    occurred_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    # The event that caused this one: its message goes first (a decision before a placement),
    # waiting for it at most until hold_until, as a cause may call for no message at all.
    cause_event_id: UUID | None = Field(default=None, index=True)
    hold_until: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    next_attempt_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    sent_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    # When the channel reported it delivered (at once, or later by a gateway's receipt).
    delivered_at: datetime | None = Field(
        default=None, sa_column=Column(UtcDateTime(), nullable=True)
    )


# After a withdrawal's confirmation nothing more is sent (socialsvc_common.withdrawals).
TABLES = (ContactRow, NotificationRow, WithdrawalRow)
CONTACTS: Table = ContactRow.__table__  # type: ignore[attr-defined]
NOTIFICATIONS: Table = NotificationRow.__table__  # type: ignore[attr-defined]


async def save_contacts(session: AsyncSession, contacts: Sequence[Mapping[str, Any]]) -> None:
    """Stores how to reach each citizen, the latest form's contact winning (one statement); an
    erased contact stays erased."""
    await upsert(
        session,
        CONTACTS,
        contacts,
        key=["application_id"],
        unless=CONTACTS.c.erased_at.is_not(None),
    )


async def erased_among(session: AsyncSession, ids: Collection[UUID]) -> set[UUID]:
    """Which of these applications' contacts were erased."""
    if not ids:
        return set()
    query = select(ContactRow.application_id).where(
        among(col(ContactRow.application_id), ids), col(ContactRow.erased_at).is_not(None)
    )
    return set((await session.exec(query)).all())


async def add_messages(session: AsyncSession, messages: Sequence[Mapping[str, Any]]) -> None:
    if messages:
        await run(session, insert(NOTIFICATIONS), list(messages))


async def cancel_pending(session: AsyncSession, application_ids: Collection[UUID]) -> None:
    """Cancels every message of these applications not sent yet (one statement). A message being
    sent holds its row's lock until the gateway answered; this waits for it and leaves it sent."""
    if not application_ids:
        return
    statement = (
        update(NOTIFICATIONS)
        .where(
            among(NOTIFICATIONS.c.application_id, application_ids),
            NOTIFICATIONS.c.status == PENDING,
        )
        .values(status=CANCELLED, last_error="consent withdrawn")
    )
    await run(session, statement)


async def messages_of(
    session: AsyncSession,
    application_ids: Collection[UUID],
    kinds: Collection[str],
    *,
    pending_only: bool = False,
) -> list[tuple[UUID, Mapping[str, Any]]]:
    """The ids and contexts of these applications' messages of these kinds (one query)."""
    if not application_ids:
        return []
    query = select(NotificationRow.id, NotificationRow.context).where(
        among(col(NotificationRow.application_id), application_ids),
        among(col(NotificationRow.kind), kinds),
    )
    if pending_only:
        query = query.where(NotificationRow.status == PENDING)
    return list((await session.exec(query)).all())


async def cancel_messages(session: AsyncSession, ids: Collection[UUID], why: str) -> None:
    """Cancels these messages, those not sent yet (one statement)."""
    if not ids:
        return
    statement = (
        update(NOTIFICATIONS)
        .where(among(NOTIFICATIONS.c.id, list(ids)), NOTIFICATIONS.c.status == PENDING)
        .values(status=CANCELLED, last_error=why)
    )
    await run(session, statement)


async def awaiting_receipts(session: AsyncSession) -> tuple[int, datetime | None]:
    """How many messages a gateway took and has not yet reported on, and when the oldest of
    them was taken."""
    query = select(func.count(), func.min(NotificationRow.sent_at)).where(
        NotificationRow.status == ACCEPTED
    )
    count, oldest = (await session.exec(query)).one()
    return int(count), oldest


def _due_query() -> SelectOfScalar[NotificationRow]:
    """due()'s choice of messages, built once: its aliases and subqueries cost more to put
    together (about 2 ms) than PostgreSQL takes to answer it on a quiet table. Its parameters are
    `now` and `limit`."""
    earlier = NotificationRow.__table__.alias("earlier")  # type: ignore[attr-defined]
    cause = NotificationRow.__table__.alias("cause")  # type: ignore[attr-defined]
    now = bindparam("now", type_=UtcDateTime())
    # A scalar subquery (a contact is there and not erased), which PostgreSQL keeps per row,
    # where EXISTS would be turned into a join that may again start from the contacts.
    reachable = (
        select(col(ContactRow.erased_at).is_(None))
        .where(col(ContactRow.application_id) == col(NotificationRow.application_id))
        .scalar_subquery()
        .is_(True)
    )
    return (
        select(NotificationRow)
        .where(NotificationRow.status == PENDING, col(NotificationRow.next_attempt_at) <= now)
        .where(reachable)
        .where(
            ~select(earlier.c.id)
            .where(
                earlier.c.application_id == NotificationRow.application_id,
                earlier.c.status == PENDING,
                earlier.c.occurred_at < NotificationRow.occurred_at,
            )
            .exists()
        )
        .where(
            or_(
                col(NotificationRow.cause_event_id).is_(None),
                col(NotificationRow.hold_until) <= now,
                # Scalar too: an EXISTS under OR may become a hashed subplan, which reads every
                # message that is not pending, the whole table, at each call.
                select(true())
                .where(
                    cause.c.event_id == NotificationRow.cause_event_id, cause.c.status != PENDING
                )
                .limit(1)
                .scalar_subquery()
                .is_(True),
            )
        )
        .order_by(col(NotificationRow.next_attempt_at), col(NotificationRow.id))
        .limit(bindparam("limit", type_=Integer()))
        .with_for_update(skip_locked=True)
    )


DUE = _due_query()


async def due(
    session: AsyncSession, now: datetime, limit: int
) -> list[tuple[NotificationRow, ContactRow]]:
    """Pending messages whose time has come and whose citizen we can reach, locked, the longest
    due first (by next_attempt_at, the index's order: the walk stops once a batch is found).

    A message waits while an earlier one to the same citizen is still pending, and while the
    message of the event that caused it has not been handled (or its hold has not run out), so
    messages arrive in the order things happened even when the topics are read at different paces.

    The messages are chosen from the notifications table alone, the citizen's contact checked per
    candidate, and the contacts of the chosen read by key afterwards: the work follows the few
    messages due, never the number of citizens, whatever PostgreSQL's statistics say (a join
    let it start from every contact on a young table: seconds a call).
    """
    rows = list((await session.exec(DUE, params={"now": now, "limit": limit})).all())
    if not rows:
        return []
    wanted = {row.application_id for row in rows}
    found = await session.exec(
        select(ContactRow).where(among(col(ContactRow.application_id), wanted))
    )
    contacts = {contact.application_id: contact for contact in found.all()}
    return [(row, contacts[row.application_id]) for row in rows]


async def with_contacts(
    session: AsyncSession, notification_ids: Collection[UUID]
) -> dict[UUID, tuple[NotificationRow, ContactRow]]:
    """The messages with these ids and their citizens' contacts, in one statement; the messages
    locked for an update in id order, so two batches naming the same messages cannot deadlock."""
    if not notification_ids:
        return {}
    query = (
        select(NotificationRow, ContactRow)
        .join(ContactRow, col(ContactRow.application_id) == col(NotificationRow.application_id))
        .where(among(col(NotificationRow.id), notification_ids))
        .order_by(col(NotificationRow.id))
        .with_for_update(of=NotificationRow)
    )
    return {row.id: (row, contact) for row, contact in (await session.exec(query)).all()}


async def sent_about(
    session: AsyncSession, application_id: UUID
) -> tuple[list[tuple[NotificationRow, str | None]], str | None]:
    """The messages about an application (not the events that called for none), in the order
    they occurred, each with the language of its citizen's contact (None when erased); and the
    district of that contact (None when there is none), which scopes who may read them."""
    query = (
        select(NotificationRow, ContactRow.language, ContactRow.district)
        .join(
            ContactRow,
            col(ContactRow.application_id) == col(NotificationRow.application_id),
            isouter=True,
        )
        .where(NotificationRow.application_id == application_id, NotificationRow.kind != NO_MESSAGE)
        .order_by(col(NotificationRow.occurred_at), col(NotificationRow.id))
    )
    found = (await session.exec(query)).all()
    district = next((district for _, _, district in found if district), None)
    return [(row, language or None) for row, language, _ in found], district


def messages_rule(keep: timedelta) -> Rule:
    """Messages that ended (sent, failed for good or skipped) longer ago than the cutoff: their
    texts name the citizen, and their outcome is in the events and the audit archive."""
    finished = col(NotificationRow.status).in_([SENT, FAILED, SKIPPED])

    def statement(cutoff: datetime, limit: int) -> Delete:
        stale = select(col(NotificationRow.id)).where(finished)
        stale = stale.where(col(NotificationRow.occurred_at) < cutoff).limit(limit)
        return delete(NOTIFICATIONS).where(NOTIFICATIONS.c.id.in_(stale))

    return Rule("messages", keep, statement)
