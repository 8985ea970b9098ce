"""Which events become which messages: one message per event, whatever the redeliveries."""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from pydantic import BaseModel
from sqlmodel.ext.asyncio.session import AsyncSession

from notifications.message_kinds import message_for
from notifications.offer_reminders import DEFAULT_LEAD, cancel_answered, reminders_for
from notifications.store import (
    CAUSE_HOLD,
    PENDING,
    SKIPPED,
    add_messages,
    cancel_pending,
    erased_among,
    save_contacts,
)
from socialsvc_common.consumer import Received
from socialsvc_common.contract import payloads as p
from socialsvc_common.contract.envelope import Event
from socialsvc_common.withdrawals import record_withdrawals, withdrawn_of

# The events that open a line of messages to a person and carry their contact: an application
# received, a proactive offer. Their causes (an e-government record, a registry's record, a
# pre-screen) never call for a message, so theirs waits for none.
OPENING = (p.ApplicationReceived, p.OfferMade)


def notification_id(event_id: UUID) -> UUID:
    """The message's id, derived from the event: also the gateways' idempotency key."""
    return uuid5(NAMESPACE_URL, f"socialsvc:notification:{event_id}")


async def on_events(
    session: AsyncSession,
    batch: Sequence[Received[BaseModel]],
    *,
    offer_reminder: timedelta = DEFAULT_LEAD,
) -> list[Event]:
    """Stores the citizens' contacts (from their applications) and the messages these events call
    for, one statement each; the dispatcher sends them. Nothing is published here: delivery events
    follow the delivery. An application whose consent was withdrawn gets no more messages, but
    its contact is kept, to send the withdrawal's confirmation. An offer also gets its reminder,
    held until `offer_reminder` before it lapses and cancelled when the offer is answered."""
    now = datetime.now(UTC)
    contacts = [contact_of(item.payload) for item in batch if isinstance(item.payload, OPENING)]
    withdrawn = await withdrawn_of(session, {item.envelope.application_id for item in batch})
    messages = [
        row
        for item in batch
        if item.envelope.application_id not in withdrawn
        and (row := message_row(item, now)) is not None
    ]
    messages += await reminders_for(session, batch, offer_reminder, now, withdrawn)
    # Events about an erased person may still arrive: their messages are never sent.
    erased = await erased_among(session, {row["application_id"] for row in messages})
    for row in messages:
        if row["application_id"] in erased:
            row["status"] = SKIPPED
    await save_contacts(session, contacts)
    await add_messages(session, messages)
    await cancel_answered(session, batch)
    return []


async def on_withdrawals(
    session: AsyncSession, batch: Sequence[Received[p.ConsentWithdrawn]]
) -> list[Event]:
    """One confirmation of each withdrawal, and nothing else for that application: the messages
    not sent yet are cancelled, and later events call for none (`on_events`)."""
    withdrawn = await record_withdrawals(session, batch)
    await cancel_pending(session, withdrawn)
    now = datetime.now(UTC)
    # The first withdrawal of each application is the one confirmed.
    first = {item.payload.application_id: item for item in reversed(batch)}
    confirmations = [
        row
        for application_id, item in first.items()
        if application_id in withdrawn and (row := message_row(item, now)) is not None
    ]
    await add_messages(session, confirmations)
    return []


def contact_of(received: p.ApplicationReceived | p.OfferMade) -> dict[str, Any]:
    """How to reach the person an application, or a proactive offer (by its id), is about."""
    applicant = received.applicant
    if isinstance(received, p.OfferMade):
        subject = received.offer_id
        lives_alone = received.kind is p.LifeEventKind.TURNED_65_LIVING_ALONE
    else:
        subject, lives_alone = received.application_id, received.circumstances.lives_alone
    return {
        "application_id": subject,
        "fin": applicant.fin,
        "mobile_phone": applicant.mobile_phone,
        "email": applicant.email,
        "language": applicant.language.value,
        "preferred_channel": applicant.preferred_channel,
        "district": applicant.district,
        "lives_alone": lives_alone,
    }


def message_row(item: Received[Any], now: datetime) -> dict[str, Any] | None:
    """The message row an event calls for (a silent one when it calls for none that is sent); the
    columns left out take the table's defaults (no channel yet, no attempts, nothing sent)."""
    message = message_for(item.payload)
    if message is None:
        return None
    kind, context = message
    envelope = item.envelope
    return {
        "id": notification_id(envelope.event_id),
        "application_id": envelope.application_id,
        "event_id": envelope.event_id,
        "kind": kind.value if kind else "none",
        "context": context,
        "status": PENDING if kind else SKIPPED,
        "occurred_at": envelope.time,
        "next_attempt_at": now,
        "cause_event_id": None if isinstance(item.payload, OPENING) else envelope.causation_id,
        "hold_until": now + CAUSE_HOLD,
    }
