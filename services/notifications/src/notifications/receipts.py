"""Delivery receipts: gateways that take a message first and deliver it later call back here.

A receipt is signed by the gateway with the secret both sides share (notifications.signing). The
body is one receipt object, answered alone (404 for an unknown message, 409 for one whose sending
is not recorded yet), or a JSON array of receipts, answered with an array of per-receipt answers
in the same order, so a gateway reporting many at once knows which to send again. Either way the
receipts of a request are applied in one transaction (notifications.receipt_batch).
"""

from collections.abc import Sequence
from typing import Annotated
from uuid import UUID

import structlog
from fastapi import APIRouter, Header, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, TypeAdapter, ValidationError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from notifications.receipt_batch import (
    NOT_RECORDED_YET,
    UNKNOWN,
    Receipt,
    ReceiptOutcome,
    apply_receipts,
)
from notifications.signing import SIGNATURE_HEADER, signed_by
from socialsvc_common.outbox import OutboxRelay
from socialsvc_common.problems import Problem

__all__ = ["MAX_RECEIPTS", "MAX_RECEIPT_BYTES", "Receipt", "ReceiptAnswer", "receipts_router"]

MAX_RECEIPTS = 1000
# A receipt is at most about 400 bytes of JSON; the rest is room for the gateway's whitespace.
MAX_RECEIPT_BYTES = 512 * MAX_RECEIPTS

log = structlog.get_logger("notifications.receipts")


class ReceiptAnswer(BaseModel):
    notification_id: UUID
    status: str


class ItemAnswer(BaseModel):
    """One receipt's answer in a batch; notification_id only when the message is known."""

    reference: UUID
    notification_id: UUID | None = None
    status: str


_BATCH = TypeAdapter(list[Receipt])
_ANSWERS = TypeAdapter(list[ItemAnswer])


def receipts_router(
    sessions: async_sessionmaker[AsyncSession], relay: OutboxRelay, secret: bytes
) -> APIRouter:
    """POST /receipts: one signed receipt, or a signed array of up to MAX_RECEIPTS."""
    router = APIRouter(tags=["receipts"])

    async def apply(receipts: Sequence[Receipt]) -> list[ReceiptOutcome]:
        applied = await apply_receipts(sessions, receipts)
        if applied.events:
            relay.wake()
        return applied.outcomes

    @router.post("/receipts", response_model=ReceiptAnswer)
    async def receive(
        request: Request,
        signature: Annotated[str | None, Header(alias=SIGNATURE_HEADER)] = None,
    ) -> ReceiptAnswer | Response:
        body = await request.body()
        if len(body) > MAX_RECEIPT_BYTES:
            raise _too_large()
        if not signed_by(secret, body, signature):
            detail = f"{SIGNATURE_HEADER} is missing or wrong"
            raise Problem(401, "receipt-signature", "Unsigned receipt", detail)
        if body.lstrip()[:1] == b"[":
            outcomes = await apply(_parse_batch(body))
            _log_batch(outcomes)
            return Response(_ANSWERS.dump_json(_answers(outcomes)), media_type="application/json")
        [outcome] = await apply([_parse_one(body)])
        log.debug("receipt applied", status=outcome.status)
        return _single_answer(outcome)

    return router


def _parse_one(body: bytes) -> Receipt:
    try:
        return Receipt.model_validate_json(body)
    except ValidationError as error:
        raise RequestValidationError(error.errors()) from None


def _parse_batch(body: bytes) -> list[Receipt]:
    try:
        receipts = _BATCH.validate_json(body)
    except ValidationError as error:
        raise RequestValidationError(error.errors()) from None
    if len(receipts) > MAX_RECEIPTS:
        raise _too_large()
    return receipts


def _too_large() -> Problem:
    detail = f"at most {MAX_RECEIPTS} receipts and {MAX_RECEIPT_BYTES} bytes in one request"
    return Problem(413, "receipt-too-large", "Receipts too large", detail)


def _single_answer(outcome: ReceiptOutcome) -> ReceiptAnswer:
    if outcome.status == UNKNOWN:
        raise Problem(404, "unknown-message", "Unknown message", "no message has this reference")
    if outcome.status == NOT_RECORDED_YET:
        detail = "send the receipt again later"
        raise Problem(409, "not-recorded-yet", "Not recorded yet", detail)
    return ReceiptAnswer(notification_id=outcome.reference, status=outcome.status)


def _answers(outcomes: Sequence[ReceiptOutcome]) -> list[ItemAnswer]:
    return [
        ItemAnswer(
            reference=outcome.reference,
            notification_id=outcome.reference if outcome.found else None,
            status=outcome.status,
        )
        for outcome in outcomes
    ]


def _log_batch(outcomes: Sequence[ReceiptOutcome]) -> None:
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
    log.info("receipts applied", receipts=len(outcomes), **counts)
