"""Delivery receipts as providers send them: a signed POST to the platform's callback URL some time
after the message was taken, retried with backoff until the platform answers 2xx or gives a final
4xx (a 409 "not recorded yet" is retried: the platform asks to be called again)."""

import asyncio
import json
from typing import Any

import httpx
import structlog

from notifications.signing import SIGNATURE_HEADER, sign

log = structlog.get_logger("notifications.sinks.receipts")

RECEIPT_TIMEOUT = httpx.Timeout(5.0, connect=2.0)
RETRY_STATUSES = frozenset({408, 409, 425, 429})


class ReceiptSender:
    """Reports each accepted message to `url`, signed with `secret`, after `delay` seconds, with
    at most `concurrency` requests in flight.

    The bound matters when messages come faster than the platform takes their receipts: without
    it every receipt waited for one of the client's connections at once, thousands of them timed
    out in the pool (spending their attempts without a request being made) and the busy loop made
    the gateway itself answer late. Waiting for a slot costs no attempt."""

    def __init__(
        self,
        url: str,
        secret: bytes,
        *,
        delay: float = 0.2,
        attempts: int = 30,
        concurrency: int = 16,
    ) -> None:
        self.url = url
        self._secret = secret
        self._delay = delay
        self._attempts = attempts
        self._slots = asyncio.Semaphore(concurrency)
        self._client: httpx.AsyncClient | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def report(self, record: dict[str, Any], status: str) -> None:
        body = {"reference": record["key"], "message_id": record["message_id"], "status": status}
        if status == "failed":
            body["reason"] = "unreachable"
        task = asyncio.create_task(self._send(json.dumps(body).encode()))
        self._tasks.add(task)  # held, so the loop does not collect it half-way
        task.add_done_callback(self._tasks.discard)

    async def _send(self, body: bytes) -> None:
        self._client = self._client or httpx.AsyncClient(timeout=RECEIPT_TIMEOUT)
        headers = {SIGNATURE_HEADER: sign(self._secret, body), "Content-Type": "application/json"}
        pause = self._delay
        for _ in range(self._attempts):
            await asyncio.sleep(pause)
            pause = min(pause * 2, 5.0)
            try:
                async with self._slots:
                    response = await self._client.post(self.url, content=body, headers=headers)
            except httpx.TransportError as error:
                log.info("receipt not taken", error_class=type(error).__name__)
                continue
            if response.is_success:
                return
            if response.status_code < 500 and response.status_code not in RETRY_STATUSES:
                log.warning("receipt refused", status=response.status_code)
                return
            log.info("receipt not taken", status=response.status_code)
        log.warning("receipt given up", attempts=self._attempts)

    async def close(self) -> None:
        """Waits briefly for receipts in flight, then closes the client."""
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=5)
        if self._client is not None:
            await self._client.aclose()
