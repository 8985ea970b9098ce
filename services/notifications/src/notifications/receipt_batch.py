"""Applies delivery receipts a batch at a time, in one transaction with a fixed number of
statements: one locked read of every message the batch names (with its citizen's contact), a
decision per receipt in plain code, then the changed rows and their events written together.

A receipt names the message by the idempotency key it was sent with (our notification id) and by
the gateway's own message id, and says delivered or failed. A delivered receipt becomes
notifications.message.delivered; a failed one moves the message to the citizen's next channel.
Receipts are idempotent: a repeat changes nothing and gets the same answer.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from notifications.outcomes import channel_failed, delivered
from notifications.store import (
    ACCEPTED,
    PENDING,
    ContactRow,
    NotificationRow,
    with_contacts,
)
from socialsvc_common.contract import payloads as p
from socialsvc_common.contract.envelope import Event
from socialsvc_common.db import transaction, write_changes
from socialsvc_common.logs import redact_text
from socialsvc_common.outbox import add_events

# What a receipt can be answered with besides the message's own status: no message has its
# reference, or the dispatcher has not yet recorded the gateway's answer (send it again later).
UNKNOWN, NOT_RECORDED_YET = "unknown", "not_recorded_yet"


class Receipt(BaseModel):
    reference: UUID = Field(description="the Idempotency-Key the message was sent with")
    message_id: str = Field(min_length=1, max_length=200, description="the gateway's message id")
    status: Literal["delivered", "failed"]
    # A provider's error code or phrase; it travels on a topic, so it is kept short and plain.
    reason: str | None = Field(default=None, max_length=100, pattern=r"^[A-Za-z0-9_ .:-]*$")


@dataclass(frozen=True)
class ReceiptOutcome:
    """What became of one receipt: the message's status after it, UNKNOWN or NOT_RECORDED_YET."""

    reference: UUID
    status: str

    @property
    def found(self) -> bool:
        return self.status not in (UNKNOWN, NOT_RECORDED_YET)


@dataclass(frozen=True)
class AppliedBatch:
    outcomes: list[ReceiptOutcome]
    events: int


def decide(
    found: tuple[NotificationRow, ContactRow] | None, receipt: Receipt, now: datetime
) -> tuple[str, list[Event]]:
    """What one receipt does to its message (changed in place) and the events that follow."""
    if found is None:
        return UNKNOWN, []
    row, contact = found
    if row.status == PENDING:
        # Sent, but the dispatcher has not recorded the gateway's answer (it may have stopped in
        # between); by the time the gateway calls again the answer is recorded.
        return NOT_RECORDED_YET, []
    if row.status != ACCEPTED or row.gateway_message_id != receipt.message_id:
        return row.status, []
    channel = p.Channel(row.channel or p.Channel.SMS)
    if receipt.status == "delivered":
        events = delivered(row, contact, channel, now)
    else:
        said = redact_text(receipt.reason or "no reason")
        reason = f"{channel.value}: receipt says failed ({said})"
        events = channel_failed(row, contact, channel, reason, now)
    return row.status, events  # the status the events left it in


async def apply_receipts(
    sessions: async_sessionmaker[AsyncSession], receipts: Sequence[Receipt]
) -> AppliedBatch:
    """Records what the receipts say, in one transaction, and answers each in order.

    The rows the receipts changed are written in one statement, and the events in one statement
    with them."""
    now = datetime.now(UTC)
    outcomes: list[ReceiptOutcome] = []
    events: list[Event] = []
    async with transaction(sessions) as session:
        found = await with_contacts(session, {receipt.reference for receipt in receipts})
        for receipt in receipts:
            # A reference twice in one batch meets its row as the first receipt left it.
            status, following = decide(found.get(receipt.reference), receipt, now)
            outcomes.append(ReceiptOutcome(receipt.reference, status))
            events += following
        await write_changes(session, [row for row, _ in found.values()])
        await add_events(session, events)
    return AppliedBatch(outcomes, len(events))
