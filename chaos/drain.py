"""Waiting until the platform has nothing left to do: every group at the end of its topics, no
outbox row unsent, no message pending; twice in a row, as one step's output is the next's input."""

import asyncio
import time
from dataclasses import dataclass

from chaos.kafka_view import Broker, lag
from chaos.stores import pending_messages, unsent_outbox

POLL_SECONDS = 2.0


@dataclass(frozen=True)
class Drain:
    drained: bool
    seconds: float
    left: dict[str, int]


async def outstanding(broker: Broker, urls: dict[str, str]) -> dict[str, int]:
    left = {f"lag {group}": n for group, n in (await lag(broker)).items()}
    for service, url in urls.items():
        left[f"outbox {service}"] = await unsent_outbox(url)
    left["pending messages"] = await pending_messages(urls["notifications"])
    return {name: n for name, n in left.items() if n}


async def wait_drained(broker: Broker, urls: dict[str, str], within: float) -> Drain:
    started = time.monotonic()
    quiet = 0
    left: dict[str, int] = {}
    while time.monotonic() - started < within:
        try:
            left = await outstanding(broker, urls)
        except Exception as error:  # a broker or database still coming back: look again
            left = {f"unreadable: {type(error).__name__}": 1}
        quiet = quiet + 1 if not left else 0
        if quiet >= 2:
            return Drain(True, time.monotonic() - started - POLL_SECONDS, {})
        await asyncio.sleep(POLL_SECONDS)
    return Drain(False, time.monotonic() - started, left)
