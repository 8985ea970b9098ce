"""Delivery receipts: gateways that take a message first and deliver it later call back here.

A receipt is signed by the gateway with the secret both sides share (notifications.signing), names
the message by the idempotency key it was sent with (our notification id) and by the gateway's own
message id, and says delivered or failed. A delivered receipt becomes
notifications.message.delivered; a failed one moves the message to the citizen's next channel.
Receipts are idempotent: a repeat changes nothing and gets the same answer.
"""

from datetime import UTC, datetime
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Header, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from notifications.outcomes import channel_failed, delivered
from notifications.signing import SIGNATURE_HEADER, signed_by
from notifications.store import ACCEPTED, PENDING, with_contact
from socialsvc_common.contract import payloads as p
from socialsvc_common.db import transaction
from socialsvc_common.logs import redact_text
from socialsvc_common.outbox import OutboxRelay, add_events
from socialsvc_common.problems import Problem

MAX_RECEIPT_BYTES = 4096


class Receipt(BaseModel):
    reference: UUID = Field(description="the Idempotency-Key the message was sent with")
    message_id: str = Field(min_length=1, max_length=200, description="the gateway's message id")
    status: Literal["delivered", "failed"]
    # A provider's error code or phrase; it travels on a topic, so it is kept short and plain.
    reason: str | None = Field(default=None, max_length=100, pattern=r"^[A-Za-z0-9_ .:-]*$")


class ReceiptAnswer(BaseModel):
    notification_id: UUID
    status: str


def receipts_router(
    sessions: async_sessionmaker[AsyncSession], relay: OutboxRelay, secret: bytes
) -> APIRouter:
    router = APIRouter(tags=["receipts"])

    @router.post("/receipts", response_model=ReceiptAnswer)
    async def receive(
        request: Request,
        signature: Annotated[str | None, Header(alias=SIGNATURE_HEADER)] = None,
    ) -> ReceiptAnswer:
        body = await request.body()
        if len(body) > MAX_RECEIPT_BYTES:
            raise Problem(413, "receipt-too-large", "Receipt too large", "a receipt is small JSON")
        if not signed_by(secret, body, signature):
            detail = f"{SIGNATURE_HEADER} is missing or wrong"
            raise Problem(401, "receipt-signature", "Unsigned receipt", detail)
        try:
            receipt = Receipt.model_validate_json(body)
        except ValidationError as error:
            raise RequestValidationError(error.errors()) from None
        answer = await apply_receipt(sessions, receipt)
        relay.wake()
        return answer

    return router


async def apply_receipt(
    sessions: async_sessionmaker[AsyncSession], receipt: Receipt
) -> ReceiptAnswer:
    """Records what the receipt says about an accepted message, with the event that follows."""
    now = datetime.now(UTC)
    async with transaction(sessions) as session:
        found = await with_contact(session, receipt.reference)
        if found is None:
            detail = "no message has this reference"
            raise Problem(404, "unknown-message", "Unknown message", detail)
        row, contact = found
        if row.status == PENDING:
            # Sent, but the dispatcher has not recorded the gateway's answer (it may have stopped
            # in between); the gateway is asked to call again, by then the answer is recorded.
            detail = "send the receipt again later"
            raise Problem(409, "not-recorded-yet", "Not recorded yet", detail)
        if row.status != ACCEPTED or row.gateway_message_id != receipt.message_id:
            return ReceiptAnswer(notification_id=row.id, status=row.status)
        channel = p.Channel(row.channel or p.Channel.SMS)
        if receipt.status == "delivered":
            events = delivered(row, channel, now)
        else:
            said = redact_text(receipt.reason or "no reason")
            reason = f"{channel.value}: receipt says failed ({said})"
            events = channel_failed(row, contact, channel, reason, now)
        session.add(row)
        await add_events(session, events)
        return ReceiptAnswer(notification_id=row.id, status=row.status)
