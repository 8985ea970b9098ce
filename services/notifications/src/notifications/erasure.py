"""Notifications' part in a person's erasure and subject access: the contact is blanked (and
kept erased, should an event about the person still arrive), messages waiting are never sent;
the messages' rows stay (kind, channel, times: no personal data) for the delivery figures."""

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from notifications.store import (
    CONTACTS,
    NOTIFICATIONS,
    PENDING,
    SKIPPED,
    ContactRow,
    NotificationRow,
)
from socialsvc_common.consumer import Received
from socialsvc_common.contract.envelope import Event
from socialsvc_common.contract.erasure import SubjectErased
from socialsvc_common.db import among, insert_new, run
from socialsvc_common.subject_access import Holding

ERASED = "subject erased"
BLANK = {"fin": "", "mobile_phone": "", "email": None, "preferred_channel": None}


def tombstone(application_id: UUID, erased_at: datetime) -> dict[str, object]:
    """The contact row of an application notifications had not heard of yet: erased already."""
    return {
        "application_id": application_id,
        **BLANK,
        "language": "",
        "district": "",
        "erased_at": erased_at,
    }


async def on_subjects_erased(
    session: AsyncSession, batch: Sequence[Received[SubjectErased]]
) -> list[Event]:
    """Blanks the contacts and skips the waiting messages of the erased applications, one
    statement each; repeating it changes nothing."""
    erased = {item.payload.application_id: item.payload.erased_at for item in batch}
    now = max(erased.values())
    ids = list(erased)
    await run(
        session,
        update(CONTACTS)
        .where(among(CONTACTS.c.application_id, ids))
        .values(**BLANK, erased_at=now),
    )
    await insert_new(
        session,
        CONTACTS,
        [tombstone(application_id, at) for application_id, at in erased.items()],
        CONTACTS.c.application_id,
    )
    await run(
        session,
        update(NOTIFICATIONS)
        .where(among(NOTIFICATIONS.c.application_id, ids), NOTIFICATIONS.c.status == PENDING)
        .values(status=SKIPPED, last_error=ERASED),
    )
    return []


async def holdings(session: AsyncSession, ids: Sequence[UUID]) -> list[Holding]:
    contacts = select(ContactRow).where(among(col(ContactRow.application_id), ids))
    found = [
        Holding(
            category="contact",
            application_id=row.application_id,
            purpose="tell_the_citizen",
            data=row.model_dump(mode="json", exclude={"application_id", "erased_at"}),
        )
        for row in (await session.exec(contacts)).all()
    ]
    messages = (
        select(NotificationRow)
        .where(among(col(NotificationRow.application_id), ids), NotificationRow.kind != "none")
        .order_by(col(NotificationRow.occurred_at))
    )
    found += [
        Holding(
            category="message",
            application_id=row.application_id,
            purpose="tell_the_citizen",
            data={
                "kind": row.kind,
                "status": row.status,
                "channel": row.channel,
                "occurred_at": row.occurred_at.isoformat(),
                "sent_at": row.sent_at.isoformat() if row.sent_at else None,
            },
        )
        for row in (await session.exec(messages)).all()
    ]
    return found
