"""A local SMS gateway: accepts messages like a real provider and writes them to a JSON-lines file.

It honours Idempotency-Key the way providers do: the first answer to a key is kept and returned
again for every repeat, with nothing stored twice; the same key with a different message is refused.
POST /control makes it fail or slow down, so tests can exercise the error paths of SmsGateway.
"""

import asyncio
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import structlog
from fastapi import FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from notifications.sms import encoding, segments

log = structlog.get_logger("notifications.sinks.sms")

PROBLEM = "application/problem+json"


class SmsIn(BaseModel):
    to: str = Field(pattern=r"^\+[1-9]\d{6,14}$", description="E.164 number")
    text: str = Field(min_length=1, max_length=1600)


class Control(BaseModel):
    fail_next: int = Field(default=0, ge=0, description="answer this many requests with an error")
    fail_status: int = Field(default=503, ge=400, le=599)
    delay_ms: int = Field(default=0, ge=0, le=60_000, description="wait before every answer")


@dataclass
class _Faults:
    fail_next: int = 0
    fail_status: int = 503
    delay_ms: int = 0


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
    return {
        "message_id": record["message_id"],
        "status": "accepted",
        "segments": record["segments"],
    }


async def _invalid_request(_: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, RequestValidationError):  # registered for that type only
        raise exc
    errors = [
        {"field": ".".join(map(str, error["loc"])), "message": error["msg"]}
        for error in exc.errors()
    ]
    return problem(422, "Invalid request", "the request does not match the schema", errors=errors)


def create_sms_gateway(store_path: Path) -> FastAPI:
    """The sink's HTTP app, storing accepted messages in `store_path` (JSON lines)."""
    store = MessageStore(store_path)
    faults = _Faults()
    # Check-then-store must be atomic, or two concurrent repeats of a key would both be stored.
    lock = asyncio.Lock()
    app = FastAPI(title="Local SMS gateway (sink)")
    app.add_exception_handler(RequestValidationError, _invalid_request)

    @app.post("/messages", status_code=202)
    async def accept(
        message: SmsIn, idempotency_key: Annotated[str | None, Header()] = None
    ) -> JSONResponse:
        if not idempotency_key:
            return problem(400, "Idempotency-Key required", "send the header Idempotency-Key")
        if faults.delay_ms:
            await asyncio.sleep(faults.delay_ms / 1000)
        if faults.fail_next:
            faults.fail_next -= 1
            log.info("sms failure injected", status=faults.fail_status)
            return problem(faults.fail_status, "Injected failure", "POST /control asked for it")
        async with lock:
            return await _store_once(store, message, idempotency_key)

    @app.get("/messages")
    async def messages() -> list[dict[str, Any]]:
        return store.records

    @app.post("/control")
    async def control(settings: Control) -> Control:
        faults.fail_next, faults.fail_status = settings.fail_next, settings.fail_status
        faults.delay_ms = settings.delay_ms
        return settings

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


async def _store_once(store: MessageStore, message: SmsIn, key: str) -> JSONResponse:
    first = store.by_key.get(key)
    if first is not None:
        if (first["to"], first["text"]) != (message.to, message.text):
            return problem(422, "Idempotency-Key reused", "this key was sent with another message")
        log.info("sms repeat answered", message_id=first["message_id"])
        replayed = {"Idempotent-Replayed": "true"}
        return JSONResponse(_answer(first), status_code=202, headers=replayed)
    record = {
        "key": key,
        "message_id": str(uuid.uuid4()),
        "to": message.to,
        "text": message.text,
        "encoding": encoding(message.text),
        "segments": segments(message.text),
        "received_at": datetime.now(UTC).isoformat(),
    }
    # A small append, but off the event loop all the same; the lock keeps it ordered.
    await asyncio.to_thread(store.add, record)
    log.info("sms stored", message_id=record["message_id"], segments=record["segments"])
    return JSONResponse(_answer(record), status_code=202)
