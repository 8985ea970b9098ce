"""The providers' side: every offer the platform makes is answered by its provider, with the
provider's own key when it has one the service knows (else through the operator's route): most
accepted and the service started, some declined, a few left to wait. Then the platform settles."""

import asyncio
import hashlib
import time
from collections import Counter
from dataclasses import dataclass

import httpx

from deploy.demo.ministry.calls import pooled
from deploy.demo.ministry.stages import DemoError, Platform, refusal

DECLINE, LEAVE_OPEN, ACCEPT_ONLY = 0.07, 0.09, 0.12
BACKLOG = ("socialsvc_consumer_lag_records", "socialsvc_outbox_unsent_events")


def answer_for(seed: int, placement_id: str) -> str:
    """What the provider does with an offer, fixed by the seed and the placement."""
    digest = hashlib.sha256(f"{seed}:{placement_id}".encode()).digest()
    draw = int.from_bytes(digest[:8], "big") / 2**64
    if draw < DECLINE:
        return "decline"
    if draw < LEAVE_OPEN:
        return "leave_open"
    return "accept" if draw < ACCEPT_ONLY else "start"


@dataclass
class Answering:
    platform: Platform
    seed: int
    counts: Counter[str]

    async def step(self, placement_id: str, provider_id: str, action: str) -> bool:
        """One step with the provider's key, or the operator's when it has none that works."""
        path = f"/placements/{placement_id}/{action}"
        own = self.platform.keys.provider(provider_id)
        if own is not None:
            # The provider's Authorization header takes the place of the operator's.
            response = await self.platform.call("POST", "assignment", path, "operator", headers=own)
            if response.status_code != 401:
                return self._counted(response.status_code, "by providers' own keys")
            self.platform.keys.refused_providers.add(provider_id)
        response = await self.platform.call("POST", "assignment", path, "operator")
        return self._counted(response.status_code, "by the operator's key")

    def _counted(self, status: int, how: str) -> bool:
        if status == 202:
            self.counts[f"steps {how}"] += 1
            return True
        self.counts[f"steps refused ({status})"] += 1
        return False

    async def answer(self, offer: dict[str, str]) -> None:
        placement, provider = str(offer["id"]), str(offer["provider_id"])
        action = answer_for(self.seed, placement)
        if action == "leave_open":
            self.counts["offers left open"] += 1
        elif action == "decline":
            if await self.step(placement, provider, "decline"):
                self.counts["offers declined"] += 1
        elif await self.step(placement, provider, "accept"):
            self.counts["offers accepted"] += 1
            if action == "start" and await self.step(placement, provider, "start"):
                self.counts["services started"] += 1


async def backlog(platform: Platform, services: list[str]) -> int | None:
    """Records not yet consumed and events not yet published over `services` (their /metrics);
    None when one does not answer."""
    total = 0.0
    for service in services:
        try:
            response = await platform.client.get(
                platform.urls[service] + "/metrics",
                headers=platform.keys.headers("operator"),
                timeout=10,
            )
        except httpx.HTTPError:
            return None
        if response.status_code != 200:
            return None
        for line in response.text.splitlines():
            if line.startswith(BACKLOG):
                total += float(line.rsplit(" ", 1)[1])
    return int(total)


async def answer_offers(
    platform: Platform, seed: int, concurrency: int, quiet: float, longest: float
) -> Counter[str]:
    """Answers offers as they come until none came for `quiet` seconds while intake, eligibility
    and assignment had nothing left to do, or `longest` seconds passed."""
    answering = Answering(platform, seed, Counter())
    seen: set[str] = set()
    deadline = time.monotonic() + longest
    last_offer = time.monotonic()
    while time.monotonic() < deadline:
        response = await platform.call(
            "GET", "assignment", "/placements?status=offered&limit=1000", "operator"
        )
        if response.status_code != 200:
            raise DemoError(f"assignment did not list the offers: {refusal(response)}")
        fresh = [o for o in response.json() if str(o["id"]) not in seen]
        if fresh:
            seen.update(str(o["id"]) for o in fresh)
            await pooled(fresh, answering.answer, concurrency)
            print(f"demo-statistics:   {len(seen)} offers answered", flush=True)
            last_offer = time.monotonic()
            continue
        pipeline = ["intake", "eligibility", "assignment"]
        if time.monotonic() - last_offer > quiet and await backlog(platform, pipeline) == 0:
            return answering.counts
        await asyncio.sleep(1)
    answering.counts["stopped by the timeout"] += 1
    return answering.counts


async def settle(platform: Platform, services: list[str], longest: float) -> float | None:
    """Seconds until every service had nothing to consume or publish three polls running; None
    when `longest` seconds passed first."""
    started = time.monotonic()
    calm = 0
    while time.monotonic() - started < longest:
        calm = calm + 1 if await backlog(platform, services) == 0 else 0
        if calm == 3:
            return time.monotonic() - started
        await asyncio.sleep(1)
    return None
