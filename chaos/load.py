"""The load: applications submitted over intake's HTTP API, each with an Idempotency-Key, and
retried with the same key until intake answers, so an application is never submitted twice as two.
"""

import asyncio
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import httpx

# Intake may require an API key; the suite sends one when the environment gives it.
API_KEY_ENV = "CHAOS_INTAKE_API_KEY"
API_KEY_HEADER_ENV = "CHAOS_INTAKE_API_KEY_HEADER"
RETRY_FOR_SECONDS = 900.0


@dataclass
class Progress:
    """How many applications intake accepted so far, and waiters on a share of the total."""

    total: int
    accepted: int = 0
    _waiters: list[tuple[float, asyncio.Event]] = field(default_factory=list)

    def reached(self, share: float) -> asyncio.Event:
        event = asyncio.Event()
        self._waiters.append((share, event))
        self._notify()
        return event

    def add(self) -> None:
        self.accepted += 1
        self._notify()

    def finish(self) -> None:
        for _, event in self._waiters:
            event.set()

    def _notify(self) -> None:
        for share, event in self._waiters:
            if self.accepted >= share * self.total:
                event.set()


@dataclass
class LoadResult:
    accepted: dict[str, UUID] = field(default_factory=dict)
    refused: dict[str, int] = field(default_factory=dict)
    retries: int = 0
    # (monotonic time of the answer, key) of every acceptance, to see what was taken when.
    answered_at: list[float] = field(default_factory=list)
    seconds: float = 0.0


def headers(key: str) -> dict[str, str]:
    found = {"Idempotency-Key": key}
    if api_key := os.environ.get(API_KEY_ENV):
        found[os.environ.get(API_KEY_HEADER_ENV, "X-API-Key")] = api_key
    return found


async def submit_all(
    url: Callable[[], str],
    forms: list[dict[str, Any]],
    run: str,
    progress: Progress,
    *,
    rate: float,
    concurrency: int = 8,
) -> LoadResult:
    """Submits every form at `rate` a second at most (so faults land during the load, not after
    it); `url()` is read per attempt, as intake may move between restarts."""
    result = LoadResult()
    queue: asyncio.Queue[tuple[int, dict[str, Any]]] = asyncio.Queue()
    for index, form in enumerate(forms):
        queue.put_nowait((index, form))
    started = time.monotonic()

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            index, form = queue.get_nowait()
            await asyncio.sleep(max(0.0, started + index / rate - time.monotonic()))
            await _submit_one(
                client, url, key=f"chaos-{run}-{index}", form=form, result=result, progress=progress
            )

    async with httpx.AsyncClient(timeout=30) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    result.seconds = time.monotonic() - started
    progress.finish()
    return result


async def _submit_one(
    client: httpx.AsyncClient,
    url: Callable[[], str],
    *,
    key: str,
    form: dict[str, Any],
    result: LoadResult,
    progress: Progress,
) -> None:
    deadline = time.monotonic() + RETRY_FOR_SECONDS
    while time.monotonic() < deadline:
        try:
            response = await client.post(url() + "/applications", json=form, headers=headers(key))
        except httpx.TransportError:
            response = None
        if response is not None and response.status_code == 202:
            result.accepted[key] = UUID(response.json()["application_id"])
            result.answered_at.append(time.monotonic())
            progress.add()
            return
        if response is not None and response.status_code < 500:
            result.refused[key] = response.status_code
            return
        result.retries += 1
        await asyncio.sleep(0.5)
    result.refused[key] = 0
