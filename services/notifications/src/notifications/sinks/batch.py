"""`POST /messages/batch` of the stand-in gateways: a JSON array of up to MAX_BATCH messages, each
with its own `idempotency_key`, answered 200 with one result per message in the request's order.

A result is `{"idempotency_key", "status": 202, "message_id", "state"}` for a message taken now,
the same with `"replayed": true` for a key answered before (its first answer), or
`{"idempotency_key", "status": 400 | 422, "error"}` (with `errors` per field for an invalid one)
for a message refused; the others of the request are taken all the same. A body that is not such
an array is a problem+json 400/413/422 for the whole request, and so is a failure injected by
POST /control.
"""

import json
from typing import Any

from pydantic import BaseModel, ValidationError

from notifications.sinks.message_store import Taken, Taker

MAX_BATCH = 500
KEY = "idempotency_key"


class BatchRefused(Exception):
    """The request as a whole is not a batch of messages."""

    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail


def parse_batch(body: bytes) -> list[Any]:
    """The request's items, or BatchRefused."""
    try:
        items = json.loads(body)
    except ValueError:
        raise BatchRefused(400, "Malformed JSON", "the body is not JSON") from None
    if not isinstance(items, list):
        raise BatchRefused(422, "Invalid request", "the body must be a JSON array of messages")
    if len(items) > MAX_BATCH:
        raise BatchRefused(413, "Too many messages", f"at most {MAX_BATCH} messages a request")
    return items


async def take_batch(taker: Taker, items: list[Any]) -> list[dict[str, Any]]:
    """Validates every item, stores the valid ones in one write, and answers each in order."""
    answers: list[dict[str, Any] | None] = []
    valid: list[tuple[str, BaseModel]] = []
    for item in items:
        answer, message = _check(taker, item)
        answers.append(answer)
        if message is not None:
            valid.append(message)
    fates = iter(await taker.take(valid))
    return [answer if answer is not None else _result(next(fates)) for answer in answers]


def _check(taker: Taker, item: Any) -> tuple[dict[str, Any] | None, tuple[str, BaseModel] | None]:
    key = item.get(KEY) if isinstance(item, dict) else None
    if not isinstance(key, str) or not key:
        return {KEY: key, "status": 400, "error": "idempotency_key required"}, None
    try:
        message = taker.kind.model.model_validate({k: v for k, v in item.items() if k != KEY})
    except ValidationError as error:
        errors = [
            {"field": ".".join(map(str, e["loc"])), "message": e["msg"]} for e in error.errors()
        ]
        return {KEY: key, "status": 422, "error": "invalid message", "errors": errors}, None
    return None, (key, message)


def _result(fate: Taken) -> dict[str, Any]:
    record = fate.record
    if fate.conflict:
        return {KEY: record["key"], "status": 422, "error": "idempotency key reused"}
    result = {KEY: record["key"], "status": 202, "message_id": record["message_id"]}
    result["state"] = record["answer"]
    if "segments" in record:
        result["segments"] = record["segments"]
    return result | ({"replayed": True} if fate.replayed else {})
