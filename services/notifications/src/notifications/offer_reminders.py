"""The offer's reminder: a message held until a set time before the offer lapses (a policy
parameter, NOTIFICATIONS_OFFER_REMINDER_DAYS), and cancelled when the offer is answered first:
accepted, declined, or released for any reason."""

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from sqlmodel.ext.asyncio.session import AsyncSession

from notifications.store import CAUSE_HOLD, PENDING, cancel_messages, messages_of
from notifications.templates import MessageKind
from socialsvc_common.consumer import Received
from socialsvc_common.contract import payloads as p

DEFAULT_LEAD = timedelta(days=2)
# What the messages of an answered offer are, each naming its placement: a reminder after one of
# them is out of date. A silent one ("none") is a release that calls for no message (consent,
# death) or a step that calls for none.
ANSWERED = frozenset(
    {
        MessageKind.OFFER_ACCEPTED,
        MessageKind.OFFER_DECLINED,
        MessageKind.OFFER_LAPSED,
        MessageKind.SERVICE_STARTED,
        MessageKind.SERVICE_ENDED,
        MessageKind.PLACEMENT_RELEASED,
        "none",
    }
)


def reminder_id(offer_event_id: UUID) -> UUID:
    """The reminder's id, derived from the offer's event: also the gateways' idempotency key."""
    return uuid5(NAMESPACE_URL, f"socialsvc:notification:{offer_event_id}:offer-reminder")


def reminder_row(item: Received[Any], lead: timedelta, now: datetime) -> dict[str, Any] | None:
    """The reminder an offer calls for, held until `lead` before it lapses; none when the offer
    has no end, has ended, or is too short for one (its own message says by when)."""
    offer = item.payload
    if not isinstance(offer, p.PlacementMade) or offer.offer_expires_at is None:
        return None
    expires, remind_at = offer.offer_expires_at, offer.offer_expires_at - lead
    if expires <= now or remind_at <= offer.placed_at:
        return None
    envelope = item.envelope
    return {
        "id": reminder_id(envelope.event_id),
        "application_id": envelope.application_id,
        "event_id": envelope.event_id,
        "kind": MessageKind.OFFER_REMINDER.value,
        "context": {
            "offer_expires_at": expires.isoformat(),
            "placement_id": str(offer.placement_id),
        },
        "status": PENDING,
        "occurred_at": remind_at,
        "next_attempt_at": max(remind_at, now),
        "cause_event_id": envelope.event_id,
        "hold_until": max(remind_at, now) + CAUSE_HOLD,
    }


def answered_in(batch: Sequence[Received[Any]]) -> dict[UUID, set[str]]:
    """The placements the batch answers (or releases), by application."""
    answers: dict[UUID, set[str]] = {}
    for item in batch:
        if isinstance(item.payload, p.PlacementUpdated | p.PlacementReleased):
            placements = answers.setdefault(item.envelope.application_id, set())
            placements.add(str(item.payload.placement_id))
    return answers


async def reminders_for(
    session: AsyncSession,
    batch: Sequence[Received[Any]],
    lead: timedelta,
    now: datetime,
    left_out: Collection[UUID],
) -> list[dict[str, Any]]:
    """The reminders of the batch's offers, but for offers answered already: in this batch, or
    earlier when the answer's topic was read before the offer's (one query)."""
    reminders = [
        row
        for item in batch
        if item.envelope.application_id not in left_out
        and (row := reminder_row(item, lead, now)) is not None
    ]
    if not reminders:
        return []
    answered = set().union(*answered_in(batch).values())
    applications = {row["application_id"] for row in reminders}
    earlier = await messages_of(session, applications, ANSWERED)
    answered |= {str(context.get("placement_id")) for _, context in earlier}
    return [row for row in reminders if row["context"]["placement_id"] not in answered]


async def cancel_answered(session: AsyncSession, batch: Sequence[Received[Any]]) -> None:
    """Cancels the reminders of the offers the batch answers: those of the same placement."""
    answers = answered_in(batch)
    answered = set().union(*answers.values())
    pending = await messages_of(
        session, set(answers), [MessageKind.OFFER_REMINDER], pending_only=True
    )
    stale = [i for i, context in pending if context.get("placement_id") in answered]
    await cancel_messages(session, stale, "offer answered")
