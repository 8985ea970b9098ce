"""Delivery receipts as providers send them: signed POSTs to the platform's callback URL some time
after the messages were taken, many receipts in one request (a JSON array).

The platform answers each receipt of a batch; only those it answers "not recorded yet" are sent
again (it asks to be called again), after a backoff and together with newer receipts. A request
that fails as a whole (transport error, 5xx, 408/425/429) is sent again in full. A final 4xx for a
request (bad signature, malformed) drops its receipts with a warning."""

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import httpx
import structlog

from notifications.signing import SIGNATURE_HEADER, sign

log = structlog.get_logger("notifications.sinks.receipts")

RECEIPT_TIMEOUT = httpx.Timeout(10.0, connect=2.0)
RETRY_STATUSES = frozenset({408, 409, 425, 429})
# Per-receipt answers that ask for the receipt again.
RESEND = frozenset({"not_recorded_yet"})
MAX_PAUSE_SECONDS = 5.0
JSON = {"Content-Type": "application/json"}


@dataclass
class _Waiting:
    body: dict[str, str]
    attempts: int = 0


class ReceiptSender:
    """Reports accepted messages to `url`, signed with `secret`: what comes in within `delay`
    seconds goes in one request of at most `batch_size` receipts, with at most `concurrency`
    requests in flight; each receipt is tried at most `attempts` times.

    While every slot is busy, new receipts wait in one list and the next request takes them all,
    so a platform that answers slowly gets fewer, larger requests rather than a pile of small
    ones timing out in the client's pool."""

    def __init__(
        self,
        url: str,
        secret: bytes,
        *,
        delay: float = 0.2,
        attempts: int = 30,
        concurrency: int = 4,
        batch_size: int = 500,
    ) -> None:
        self.url = url
        self._secret = secret
        self._delay = delay
        self._attempts = attempts
        self._batch_size = batch_size
        self._slots = asyncio.Semaphore(concurrency)
        self._client: httpx.AsyncClient | None = None
        self._waiting: list[_Waiting] = []
        self._flusher: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def report(self, record: dict[str, Any], status: str) -> None:
        """Queues the receipt of one stored message; it goes out with the next batch."""
        body = {"reference": record["key"], "message_id": record["message_id"], "status": status}
        if status == "failed":
            body["reason"] = "unreachable"
        self._enqueue([_Waiting(body)])

    def _enqueue(self, items: list[_Waiting]) -> None:
        self._waiting += items
        if self._flusher is None or self._flusher.done():
            self._flusher = self._hold(self._flush())

    def _hold(self, work: Any) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.create_task(work)
        self._tasks.add(task)  # held, so the loop does not collect it half-way
        task.add_done_callback(self._tasks.discard)
        return task

    async def _flush(self) -> None:
        await asyncio.sleep(self._delay)  # gather what the next moments bring
        while self._waiting:
            await self._slots.acquire()
            batch = self._waiting[: self._batch_size]
            del self._waiting[: self._batch_size]
            self._hold(self._send(batch))

    async def _send(self, batch: list[_Waiting]) -> None:
        try:
            again = await self._post(batch)
        finally:
            self._slots.release()
        for item in again:
            item.attempts += 1
        kept = [item for item in again if item.attempts < self._attempts]
        if len(kept) < len(again):
            log.warning("receipts given up", receipts=len(again) - len(kept))
        if kept:
            pause = min(self._delay * 2 ** min(item.attempts for item in kept), MAX_PAUSE_SECONDS)
            asyncio.get_running_loop().call_later(pause, self._enqueue, kept)

    async def _post(self, batch: list[_Waiting]) -> list[_Waiting]:
        """Sends one batch; returns the receipts to send again."""
        self._client = self._client or httpx.AsyncClient(timeout=RECEIPT_TIMEOUT)
        content = json.dumps([item.body for item in batch]).encode()
        headers = {SIGNATURE_HEADER: sign(self._secret, content), **JSON}
        try:
            response = await self._client.post(self.url, content=content, headers=headers)
        except httpx.TransportError as error:
            log.info("receipts not taken", receipts=len(batch), error_class=type(error).__name__)
            return batch
        if response.status_code >= 500 or response.status_code in RETRY_STATUSES:
            log.info("receipts not taken", receipts=len(batch), status=response.status_code)
            return batch
        if not response.is_success:
            log.warning("receipts refused", receipts=len(batch), status=response.status_code)
            return []
        return _to_resend(batch, response)

    async def close(self) -> None:
        """Waits briefly for receipts in flight, then closes the client."""
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=5)
        if self._client is not None:
            await self._client.aclose()


def _to_resend(batch: list[_Waiting], response: httpx.Response) -> list[_Waiting]:
    try:
        answers = response.json()
    except ValueError:
        return []  # taken, with nothing to say about single receipts
    if not isinstance(answers, list) or len(answers) != len(batch):
        return []
    return [
        item
        for item, answer in zip(batch, answers, strict=True)
        if isinstance(answer, dict) and answer.get("status") in RESEND
    ]
