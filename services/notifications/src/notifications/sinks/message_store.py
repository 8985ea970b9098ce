"""What a stand-in HTTP gateway has taken: the messages in a JSON-lines file, indexed by
idempotency key, and the taking itself, shared by the one-message and the batch form.

A batch is checked and stored under one lock and written with one append, so the sink's cost per
message falls with the batch, like the platform's."""

import asyncio
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog
from pydantic import BaseModel

from notifications.sinks.receipts import ReceiptSender

log = structlog.get_logger("notifications.sinks.http")


@dataclass(frozen=True)
class Kind:
    """What one gateway takes, and what it records beside each message."""

    name: str
    model: type[BaseModel]
    describe: Callable[[Any], dict[str, Any]]


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

    def add_many(self, records: Sequence[dict[str, Any]]) -> None:
        """Appends the records in one write, then indexes them."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
        with self.path.open("a", encoding="utf-8") as file:
            file.write(lines)
        for record in records:
            self._index(record)


@dataclass(frozen=True)
class Taken:
    """One message's fate: stored now, a repeat answered from its first record, or its key reused
    for another message (refused)."""

    record: dict[str, Any]
    replayed: bool = False
    conflict: bool = False


class Taker:
    """Stores new messages once per key and reports them by receipt when a sender is given.

    `deliver_next` (set by POST /control) makes that many new messages answer "delivered" at once
    even with receipts, as providers do for some networks."""

    def __init__(self, kind: Kind, store: MessageStore, receipts: ReceiptSender | None) -> None:
        self.kind = kind
        self.store = store
        self.receipts = receipts
        self.deliver_next = 0
        self.receipt_fail_next = 0
        # Check-then-store must be atomic, or two concurrent repeats of a key would both be stored.
        self._lock = asyncio.Lock()

    async def take(self, messages: Sequence[tuple[str, BaseModel]]) -> list[Taken]:
        """Each (key, message)'s fate, in order; the new ones stored with one write."""
        fresh: dict[str, dict[str, Any]] = {}
        taken: list[Taken] = []
        async with self._lock:
            for key, message in messages:
                first = self.store.by_key.get(key) or fresh.get(key)
                if first is not None:
                    taken.append(self._repeat(first, message))
                    continue
                fresh[key] = self._record(key, message)
                taken.append(Taken(fresh[key]))
            if fresh:
                # Off the event loop; the lock keeps the file in the order of the answers.
                await asyncio.to_thread(self.store.add_many, list(fresh.values()))
        for record in fresh.values():
            self._report(record)
        log.debug("messages stored", gateway=self.kind.name, messages=len(fresh))
        return taken

    def _repeat(self, first: dict[str, Any], message: BaseModel) -> Taken:
        fields = self.kind.model.model_fields
        if {field: first.get(field) for field in fields} != message.model_dump():
            return Taken(first, replayed=True, conflict=True)
        # One line a repeat, in either form: repeats are rare (a sender's retry after a crash or a
        # lost answer), and the line is how a person sees that the first answer was given again.
        log.info("repeat answered", gateway=self.kind.name, message_id=first["message_id"])
        return Taken(first, replayed=True)

    def _record(self, key: str, message: BaseModel) -> dict[str, Any]:
        later = self.receipts is not None and self.deliver_next <= 0
        self.deliver_next -= int(self.receipts is not None and not later)
        return {
            "key": key,
            "message_id": str(uuid.uuid4()),
            **message.model_dump(),
            **self.kind.describe(message),
            "answer": "accepted" if later else "delivered",
            "received_at": datetime.now(UTC).isoformat(),
        }

    def _report(self, record: dict[str, Any]) -> None:
        if self.receipts is None or record["answer"] != "accepted":
            return
        failed = self.receipt_fail_next > 0
        self.receipt_fail_next -= int(failed)
        self.receipts.report(record, "failed" if failed else "delivered")
