"""Which events become which messages: one message per event, whatever the redeliveries."""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from pydantic import BaseModel
from sqlmodel.ext.asyncio.session import AsyncSession

from notifications.store import (
    PENDING,
    SKIPPED,
    add_messages,
    cancel_pending,
    erased_among,
    save_contacts,
)
from notifications.templates import MessageKind
from socialsvc_common.consumer import Received
from socialsvc_common.contract import payloads as p
from socialsvc_common.contract.appeals import AppealDecided, AppealLodged, AppealStatus
from socialsvc_common.contract.envelope import Event
from socialsvc_common.withdrawals import record_withdrawals, withdrawn_of

# An event that calls for no message still gets a row, so messages it causes need not wait for it.
SILENT = None
# Long enough for the cause's own message to be stored when the topics are read at different
# paces; short, because some causes (a release before a promotion) call for no message at all.
CAUSE_HOLD = timedelta(seconds=15)


def notification_id(event_id: UUID) -> UUID:
    """The message's id, derived from the event: also the gateways' idempotency key."""
    return uuid5(NAMESPACE_URL, f"socialsvc:notification:{event_id}")


def message_for(payload: BaseModel) -> tuple[MessageKind | None, dict[str, Any]] | None:  # noqa: PLR0911
    """The kind of message an event calls for and what it may mention (no personal data)."""
    match payload:
        case p.ApplicationReceived(revision=1):
            return MessageKind.RECEIVED, {}
        case p.ApplicationReceived():
            # Added facts: the new decision that follows is the message worth sending.
            return SILENT, {}
        case p.DecisionMade(review_id=UUID()):
            # A review's decision is told by its conclusion: the service continues or ends.
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
        case p.ConsentWithdrawn():
            return MessageKind.CONSENT_WITHDRAWN, {}
        case AppealLodged():
            return MessageKind.APPEAL_RECEIVED, {}
        case AppealDecided(status=AppealStatus.OVERTURNED):
            return MessageKind.APPEAL_OVERTURNED, {}
        case AppealDecided():
            return MessageKind.APPEAL_UPHELD, {}
        case p.ReviewDue():
            return MessageKind.REVIEW_DUE, {"provision_type": payload.provision_type.value}
        case p.ReviewConcluded():
            kind = MessageKind(f"review_{payload.outcome.value}")
            return kind, {"provision_type": payload.provision_type.value}
    return None


async def on_events(session: AsyncSession, batch: Sequence[Received[BaseModel]]) -> list[Event]:
    """Stores the citizens' contacts (from their applications) and the messages these events call
    for, one statement each; the dispatcher sends them. Nothing is published here: delivery events
    follow the delivery. An application whose consent was withdrawn gets no more messages, but
    its contact is kept, to send the withdrawal's confirmation."""
    now = datetime.now(UTC)
    contacts = [
        contact_of(item.payload)
        for item in batch
        if isinstance(item.payload, p.ApplicationReceived)
    ]
    withdrawn = await withdrawn_of(session, {item.envelope.application_id for item in batch})
    messages = [
        row
        for item in batch
        if item.envelope.application_id not in withdrawn
        and (row := message_row(item, now)) is not None
    ]
    # Events about an erased person may still arrive: their messages are never sent.
    erased = await erased_among(session, {row["application_id"] for row in messages})
    for row in messages:
        if row["application_id"] in erased:
            row["status"] = SKIPPED
    await save_contacts(session, contacts)
    await add_messages(session, messages)
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


def contact_of(received: p.ApplicationReceived) -> dict[str, Any]:
    applicant = received.applicant
    return {
        "application_id": received.application_id,
        "fin": applicant.fin,
        "mobile_phone": applicant.mobile_phone,
        "email": applicant.email,
        "language": applicant.language.value,
        "preferred_channel": applicant.preferred_channel,
        "district": applicant.district,
        "lives_alone": received.circumstances.lives_alone,
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
        "cause_event_id": envelope.causation_id,
        "hold_until": now + CAUSE_HOLD,
    }
