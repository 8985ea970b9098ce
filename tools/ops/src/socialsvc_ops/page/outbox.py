"""Outbox age from the services' /metrics (Prometheus text format)."""

import asyncio
import math

import httpx

OUTBOX_AGE = "socialsvc_outbox_oldest_unsent_age_seconds"
SCRAPE_TIMEOUT_SECONDS = 2.0
DEFAULT_SERVICES = {
    "intake": "http://127.0.0.1:8000",
    "eligibility": "http://127.0.0.1:8001",
    "assignment": "http://127.0.0.1:8002",
    "notifications": "http://127.0.0.1:8003",
    "statistics": "http://127.0.0.1:8006",
}


def gauge(text: str, name: str) -> float | None:
    """The largest value of a metric over its label sets, or None when it is not there."""
    values: list[float] = []
    for line in text.splitlines():
        if not line.startswith(name) or line.startswith("#"):
            continue
        rest = line[len(name) :]
        if rest[:1] not in {"{", " "}:
            continue  # another metric whose name starts with this one
        sample = rest.rsplit("}", 1)[-1].split()
        try:
            value = float(sample[0])
        except (IndexError, ValueError):
            continue
        if not math.isnan(value):
            values.append(value)
    return max(values) if values else None


async def _scrape(client: httpx.AsyncClient, url: str) -> float | None:
    try:
        response = await client.get(url.rstrip("/") + "/metrics")
        response.raise_for_status()
    except httpx.HTTPError:
        return None
    return gauge(response.text, OUTBOX_AGE)


async def outbox_ages(services: dict[str, str], key: str | None) -> dict[str, float | None]:
    """Each service's oldest unsent outbox row age in seconds, read with a monitor `key`; None
    where it cannot be scraped (the services show /metrics to monitor and operator keys only)."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    async with httpx.AsyncClient(timeout=SCRAPE_TIMEOUT_SECONDS, headers=headers) as client:
        ages = await asyncio.gather(*(_scrape(client, url) for url in services.values()))
    return dict(zip(services, ages, strict=True))
