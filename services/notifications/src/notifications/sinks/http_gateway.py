"""Local HTTP gateways (SMS, e-gov inbox): accept messages like real providers and write them to
JSON-lines files. `POST /messages` takes one message (its key in the Idempotency-Key header);
`POST /messages/batch` takes up to 500, each with its own `idempotency_key`, and answers each in
order (notifications.sinks.batch has the format).

They honour Idempotency-Key the way providers do: the first answer to a key is kept and returned
again for every repeat, with nothing stored twice; the same key with a different message is refused.
With a receipts URL they answer "accepted" and report delivery later by a signed callback, retried
until the platform takes it; without one they answer "delivered". POST /control makes them fail,
slow, or report failed deliveries, so tests can exercise every error path.
"""

import asyncio
from pathlib import Path
from typing import Annotated, Any

import structlog
from fastapi import FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError

from notifications.sinks.batch import BatchRefused, parse_batch, take_batch
from notifications.sinks.message_store import Kind, MessageStore, Taken, Taker
from notifications.sinks.receipts import ReceiptSender
from notifications.sms import encoding, segments

log = structlog.get_logger("notifications.sinks.http")

PROBLEM = "application/problem+json"


class SmsIn(BaseModel):
    to: str = Field(pattern=r"^\+[1-9]\d{6,14}$", description="E.164 number")
    text: str = Field(min_length=1, max_length=1600)


class InboxIn(BaseModel):
    fin: str = Field(pattern=r"^[0-9A-Z]{7}$", description="the account holder's FIN")
    subject: str = Field(min_length=1, max_length=300)
    body: str = Field(min_length=1, max_length=20_000)


class Control(BaseModel):
    fail_next: int = Field(default=0, ge=0, description="answer this many requests with an error")
    fail_status: int = Field(default=503, ge=400, le=599)
    delay_ms: int = Field(default=0, ge=0, le=60_000, description="wait before every answer")
    hold_answer_ms: int = Field(
        default=0, ge=0, le=60_000, description="store a new message, then wait this long to answer"
    )
    receipt_fail_next: int = Field(
        default=0, ge=0, description="report this many new messages as undeliverable"
    )
    deliver_next: int = Field(
        default=0, ge=0, description="answer this many new messages delivered, with receipts on"
    )


SMS = Kind("sms", SmsIn, lambda m: {"encoding": encoding(m.text), "segments": segments(m.text)})
INBOX = Kind("egov_inbox", InboxIn, lambda _: {})


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    """An RFC 9457 problem document."""
    content = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(content, status_code=status, media_type=PROBLEM)


def _answer(record: dict[str, Any]) -> dict[str, Any]:
    answer = {"message_id": record["message_id"], "status": record["answer"]}
    return answer | ({"segments": record["segments"]} if "segments" in record else {})


async def _invalid_request(_: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, RequestValidationError):  # registered for that type only
        raise exc
    errors = [
        {"field": ".".join(map(str, error["loc"])), "message": error["msg"]}
        for error in exc.errors()
    ]
    return problem(422, "Invalid request", "the request does not match the schema", errors=errors)


def create_gateway(kind: Kind, store_path: Path, receipts: ReceiptSender | None = None) -> FastAPI:
    """A gateway's HTTP app, storing accepted messages in `store_path` (JSON lines)."""
    store = MessageStore(store_path)
    taker = Taker(kind, store, receipts)
    faults = Control()
    app = FastAPI(title=f"Local {kind.name} gateway (sink)")
    app.add_exception_handler(RequestValidationError, _invalid_request)

    async def injected() -> JSONResponse | None:
        if faults.delay_ms:
            await asyncio.sleep(faults.delay_ms / 1000)
        if not faults.fail_next:
            return None
        faults.fail_next -= 1
        log.info("failure injected", gateway=kind.name, status=faults.fail_status)
        return problem(faults.fail_status, "Injected failure", "POST /control asked for it")

    @app.post("/messages", status_code=202)
    async def accept(
        request: Request, idempotency_key: Annotated[str | None, Header()] = None
    ) -> JSONResponse:
        if not idempotency_key:
            return problem(400, "Idempotency-Key required", "send the header Idempotency-Key")
        try:
            message = kind.model.model_validate_json(await request.body())
        except ValidationError as error:
            located = [{**e, "loc": ("body", *e["loc"])} for e in error.errors()]
            raise RequestValidationError(located) from None
        if failure := await injected():
            return failure
        [fate] = await taker.take([(idempotency_key, message)])
        if fate.replayed:
            return _repeat(kind, fate)
        if faults.hold_answer_ms:
            await asyncio.sleep(faults.hold_answer_ms / 1000)
        return JSONResponse(_answer(fate.record), status_code=202)

    @app.post("/messages/batch")
    async def accept_batch(request: Request) -> JSONResponse:
        try:
            items = parse_batch(await request.body())
        except BatchRefused as refused:
            return problem(refused.status, refused.title, refused.detail)
        if failure := await injected():
            return failure
        answers = await take_batch(taker, items)
        log.debug("batch answered", gateway=kind.name, messages=len(answers))
        if faults.hold_answer_ms:
            await asyncio.sleep(faults.hold_answer_ms / 1000)
        return JSONResponse(answers)

    @app.get("/messages")
    async def messages() -> list[dict[str, Any]]:
        return store.records

    @app.post("/control")
    async def control(settings: Control) -> Control:
        for name in Control.model_fields:
            setattr(faults, name, getattr(settings, name))
        taker.deliver_next, taker.receipt_fail_next = (
            settings.deliver_next,
            settings.receipt_fail_next,
        )
        return settings

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


def create_sms_gateway(store_path: Path, receipts: ReceiptSender | None = None) -> FastAPI:
    return create_gateway(SMS, store_path, receipts)


def create_inbox_gateway(store_path: Path, receipts: ReceiptSender | None = None) -> FastAPI:
    return create_gateway(INBOX, store_path, receipts)


def _repeat(kind: Kind, fate: Taken) -> JSONResponse:
    if fate.conflict:
        return problem(422, "Idempotency-Key reused", "this key was sent with another message")
    replayed = {"Idempotent-Replayed": "true"}
    return JSONResponse(_answer(fate.record), status_code=202, headers=replayed)
