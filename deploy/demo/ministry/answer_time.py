"""How long the statistics API takes to answer once the platform has settled."""

import statistics
import time

import httpx

from deploy.demo.ministry.stages import Platform, title


async def time_statistics(platform: Platform, repeats: int) -> list[str]:
    """Lines to print: each answer's time, or why there is none (nothing listens there yet)."""
    url = platform.urls["statistics"] + "/statistics"
    headers = platform.keys.headers("operator")
    times: list[float] = []
    lines = []
    for _ in range(repeats):
        started = time.perf_counter()
        try:
            response = await platform.client.get(url, headers=headers, timeout=60)
        except httpx.TransportError as error:
            return [f"statistics: nothing answers at {url} ({type(error).__name__}); skipped"]
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            return [f"statistics: {url} answered {title(response)}; not timed"]
        times.append(elapsed)
    body = response.json()
    sections = body.get("sections", [])
    lines.append(
        f"statistics: GET {url} x{repeats}: first {times[0] * 1000:.0f} ms, "
        f"median {statistics.median(times) * 1000:.0f} ms, slowest {max(times) * 1000:.0f} ms "
        f"({len(sections)} sections, as of {body.get('as_of')})"
    )
    for section in sections:
        if section.get("id") == "served_by_direction":
            figures = {row["keys"]["direction"]: row["values"]["people"] for row in section["rows"]}
            lines.append(f"statistics: people served by direction {figures}")
    return lines
