"""Calling the platform: the keys the demo acts with, requests retried as the APIs ask (429 and
503 with their Retry-After, a gateway's 502/504, a dropped connection), and a bounded pool of
concurrent workers."""

import asyncio
import random
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx

RETRIED = frozenset({429, 502, 503, 504})
ATTEMPTS = 8
LONGEST_WAIT = 30.0
ROLES = ("administrator", "submitter", "operator", "social_worker", "reviewer")
T = TypeVar("T")


class KeyMissing(RuntimeError):
    """A key the demo needs is not where `make run` puts it."""


@dataclass
class Keys:
    """The keys by role (`<dir>/<role>.key`, as `make run` issues them) and the providers' own
    (`<dir>/providers/<provider id>.key`, see `keys.py`)."""

    directory: Path
    by_role: dict[str, str] = field(default_factory=dict, repr=False)
    refused_providers: set[str] = field(default_factory=set)
    providers: dict[str, str | None] = field(default_factory=dict, repr=False)

    @classmethod
    def read(cls, directory: Path) -> "Keys":
        by_role = {}
        for role in ROLES:
            path = directory / f"{role}.key"
            try:
                by_role[role] = path.read_text(encoding="utf-8").strip()
            except OSError as error:
                raise KeyMissing(f"no {role} key at {path} ({error.strerror})") from None
        return cls(directory, by_role)

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.by_role[role]}"}

    def provider(self, provider_id: str) -> dict[str, str] | None:
        """The provider's own key, unless it has none or the service refused it (a key issued
        after the service started is unknown to it until it restarts)."""
        if provider_id in self.refused_providers:
            return None
        if provider_id not in self.providers:
            path = self.directory / "providers" / f"{provider_id}.key"
            try:
                self.providers[provider_id] = path.read_text(encoding="utf-8").strip()
            except OSError:
                self.providers[provider_id] = None
        key = self.providers[provider_id]
        return {"Authorization": f"Bearer {key}"} if key else None


def retry_after(response: httpx.Response, attempt: int) -> float:
    """The wait the answer asks for, else a jittered exponential backoff."""
    given = response.headers.get("Retry-After", "")
    if given.isdigit():
        return min(float(given), LONGEST_WAIT)
    return min(0.2 * 2.0**attempt * (0.5 + random.random()), LONGEST_WAIT)


async def send(client: httpx.AsyncClient, method: str, url: str, **options: Any) -> httpx.Response:
    """The request's answer, retried while the service asks for patience; raises
    httpx.TransportError when the service stays unreachable."""
    for attempt in range(ATTEMPTS):
        try:
            response = await client.request(method, url, **options)
        except httpx.TransportError:
            if attempt == ATTEMPTS - 1:
                raise
            await asyncio.sleep(min(0.5 * 2.0**attempt, LONGEST_WAIT))
            continue
        if response.status_code not in RETRIED or attempt == ATTEMPTS - 1:
            return response
        await asyncio.sleep(retry_after(response, attempt))
    raise AssertionError("unreachable")


async def pooled(
    items: Iterable[T], work: Callable[[T], Awaitable[None]], concurrency: int
) -> None:
    """`work` on every item, at most `concurrency` at a time, items taken in order as workers
    free up (so a generator of 20,000 forms is never all in memory)."""
    source = iter(items)

    async def worker() -> None:
        for item in source:
            await work(item)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
