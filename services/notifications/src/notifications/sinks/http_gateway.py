"""Local HTTP gateways (SMS, e-gov inbox): accept messages like real providers and write them to
JSON-lines files.

They honour Idempotency-Key the way providers do: the first answer to a key is kept and returned
again for every repeat, with nothing stored twice; the same key with a different message is refused.
With a receipts URL they answer "accepted" and report delivery later by a signed callback, retried
until the platform takes it; without one they answer "delivered". POST /control makes them fail,
slow, or report failed deliveries, so tests can exercise every error path.
"""

import asyncio
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import structlog
from fastapi import FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError

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


@dataclass(frozen=True)
class Kind:
    """What one gateway takes, and what it records beside each message."""

    name: str
    model: type[BaseModel]
    describe: Callable[[Any], dict[str, Any]]


SMS = Kind("sms", SmsIn, lambda m: {"encoding": encoding(m.text), "segments": segments(m.text)})
INBOX = Kind("egov_inbox", InboxIn, lambda _: {})


class MessageStore:
    """Accepted messages in a JSON-lines file, indexed by idempotency key. Reads the file at start,
    so a restarted sink still recognises keys it has answered before."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.records: list[dict[str, Any]] = []
        self.by_key: dict[str, dict[str, Any]] = {}
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    self._index(json.loads(line))

    def _index(self, record: dict[str, Any]) -> None:
        self.records.append(record)
        self.by_key[record["key"]] = record

    def add(self, record: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as file:
            file.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._index(record)


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
    faults = Control()
    # Check-then-store must be atomic, or two concurrent repeats of a key would both be stored.
    lock = asyncio.Lock()
    app = FastAPI(title=f"Local {kind.name} gateway (sink)")
    app.add_exception_handler(RequestValidationError, _invalid_request)

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
        if faults.delay_ms:
            await asyncio.sleep(faults.delay_ms / 1000)
        if faults.fail_next:
            faults.fail_next -= 1
            log.info("failure injected", gateway=kind.name, status=faults.fail_status)
            return problem(faults.fail_status, "Injected failure", "POST /control asked for it")
        async with lock:
            first = store.by_key.get(idempotency_key)
            if first is not None:
                return _repeat(kind, first, message)
            record = await _store(kind, store, message, idempotency_key, receipts is not None)
        if receipts is not None:
            failed = faults.receipt_fail_next > 0
            faults.receipt_fail_next -= int(failed)
            receipts.report(record, "failed" if failed else "delivered")
        if faults.hold_answer_ms:
            await asyncio.sleep(faults.hold_answer_ms / 1000)
        return JSONResponse(_answer(record), status_code=202)

    @app.get("/messages")
    async def messages() -> list[dict[str, Any]]:
        return store.records

    @app.post("/control")
    async def control(settings: Control) -> Control:
        for name in Control.model_fields:
            setattr(faults, name, getattr(settings, name))
        return settings

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


def create_sms_gateway(store_path: Path, receipts: ReceiptSender | None = None) -> FastAPI:
    return create_gateway(SMS, store_path, receipts)


def create_inbox_gateway(store_path: Path, receipts: ReceiptSender | None = None) -> FastAPI:
    return create_gateway(INBOX, store_path, receipts)


def _repeat(kind: Kind, first: dict[str, Any], message: BaseModel) -> JSONResponse:
    if {field: first.get(field) for field in kind.model.model_fields} != message.model_dump():
        return problem(422, "Idempotency-Key reused", "this key was sent with another message")
    log.info("repeat answered", gateway=kind.name, message_id=first["message_id"])
    replayed = {"Idempotent-Replayed": "true"}
    return JSONResponse(_answer(first), status_code=202, headers=replayed)


async def _store(
    kind: Kind, store: MessageStore, message: BaseModel, key: str, with_receipts: bool
) -> dict[str, Any]:
    record = {
        "key": key,
        "message_id": str(uuid.uuid4()),
        **message.model_dump(),
        **kind.describe(message),
        "answer": "accepted" if with_receipts else "delivered",
        "received_at": datetime.now(UTC).isoformat(),
    }
    # A small append, but off the event loop all the same; the lock keeps it ordered.
    await asyncio.to_thread(store.add, record)
    log.debug("message stored", gateway=kind.name, message_id=record["message_id"])
    return record
