"""Which events become which messages: one message per event, whatever the redeliveries."""

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from pydantic import BaseModel
from sqlmodel.ext.asyncio.session import AsyncSession

from notifications.store import PENDING, SKIPPED, ContactRow, NotificationRow
from notifications.templates import MessageKind
from socialsvc_common.contract import payloads as p
from socialsvc_common.contract.envelope import Envelope, Event

# An event that calls for no message still gets a row, so messages it causes need not wait for it.
SILENT = None
# Long enough for the cause's own message to be stored when the topics are read at different
# paces; short, because some causes (a release before a promotion) call for no message at all.
CAUSE_HOLD = timedelta(seconds=15)


def notification_id(event_id: UUID) -> UUID:
    """The message's id, derived from the event: also the gateways' idempotency key."""
    return uuid5(NAMESPACE_URL, f"socialsvc:notification:{event_id}")


def message_for(payload: BaseModel) -> tuple[MessageKind | None, dict[str, Any]] | None:
    """The kind of message an event calls for and what it may mention (no personal data)."""
    match payload:
        case p.ApplicationReceived(revision=1):
            return MessageKind.RECEIVED, {}
        case p.ApplicationReceived():
            # Added facts: the new decision that follows is the message worth sending.
            return SILENT, {}
        case p.DecisionMade():
            kind = MessageKind(f"decision_{payload.outcome.value}")
            return kind, {
                "provision_types": [t.value for t in payload.provision_types],
                "reasons": payload.refusal_reasons(),
                "missing": list(payload.missing),
            }
        case p.PlacementMade():
            return MessageKind.PLACEMENT_MADE, payload.model_dump(
                mode="json", include={"provider_name", "provision_type", "district"}
            )
        case p.PlacementWaitlisted():
            return MessageKind.PLACEMENT_WAITLISTED, payload.model_dump(
                mode="json", include={"provision_type", "district"}
            )
    return None


async def on_event(session: AsyncSession, envelope: Envelope, payload: BaseModel) -> list[Event]:
    """Stores the citizen's contact (from the application) and the message this event calls for;
    the dispatcher sends it. Nothing is published here: delivery events follow the delivery."""
    if isinstance(payload, p.ApplicationReceived):
        applicant = payload.applicant
        await session.merge(
            ContactRow(
                application_id=payload.application_id,
                fin=applicant.fin,
                mobile_phone=applicant.mobile_phone,
                email=applicant.email,
                language=applicant.language.value,
                preferred_channel=applicant.preferred_channel,
                district=applicant.district,
                lives_alone=payload.circumstances.lives_alone,
            )
        )
    message = message_for(payload)
    if message is not None:
        kind, context = message
        now = datetime.now(UTC)
        session.add(
            NotificationRow(
                id=notification_id(envelope.event_id),
                application_id=envelope.application_id,
                event_id=envelope.event_id,
                kind=kind.value if kind else "none",
                context=context,
                status=PENDING if kind else SKIPPED,
                occurred_at=envelope.time,
                next_attempt_at=now,
                cause_event_id=envelope.causation_id,
                hold_until=now + CAUSE_HOLD,
            )
        )
    return []
