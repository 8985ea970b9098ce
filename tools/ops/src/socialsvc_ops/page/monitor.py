"""The page's view of the platform, refreshed in the background: the event flow read as it
arrives, consumer lag and outbox ages polled every few seconds."""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog

from socialsvc_common.contract.topics import REGISTRY
from socialsvc_ops.lag import PartitionLag, lag_report
from socialsvc_ops.page.flow import Flow
from socialsvc_ops.page.outbox import outbox_ages
from socialsvc_ops.records import follow, onlooker, partitions, start_offsets

POLL_SECONDS = 3.0
RETRY_SECONDS = 2.0
log = structlog.get_logger("socialsvc-ops")


@dataclass(frozen=True, slots=True)
class MonitorSettings:
    bootstrap: str
    since: datetime
    groups: list[str]
    services: dict[str, str]
    # The key the page reads the services' /metrics with (a monitor's).
    metrics_key: str | None = None
    poll_seconds: float = POLL_SECONDS


@dataclass
class Monitor:
    settings: MonitorSettings
    flow: Flow = field(default_factory=Flow)
    lag: list[PartitionLag] | None = None
    outbox: dict[str, float | None] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._keep(self._read_flow, "events")),
            asyncio.create_task(self._keep(self._poll_lag, "lag")),
            asyncio.create_task(self._keep(self._poll_outbox, "outbox")),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _keep(self, loop: Callable[[], Awaitable[None]], what: str) -> None:
        # A broker that is down for a while must not end the page: say so and try again.
        while True:
            try:
                await loop()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self.problems[what] = f"{type(error).__name__}: {error}"
                log.warning("page source failed; retrying", source=what, error=repr(error))
                await asyncio.sleep(RETRY_SECONDS)

    async def _read_flow(self) -> None:
        self.flow = Flow()
        tps = await partitions(self.settings.bootstrap, [t.name for t in REGISTRY])
        consumer = onlooker(self.settings.bootstrap)
        await consumer.start()
        try:
            starts = await start_offsets(consumer, tps, self.settings.since)
            self.problems.pop("events", None)
            async for seen in follow(consumer, starts):
                self.flow.add(seen)
        finally:
            await consumer.stop()

    async def _poll_lag(self) -> None:
        while True:
            self.lag = await lag_report(self.settings.bootstrap, self.settings.groups)
            self.problems.pop("lag", None)
            await asyncio.sleep(self.settings.poll_seconds)

    async def _poll_outbox(self) -> None:
        while True:
            self.outbox = await outbox_ages(self.settings.services, self.settings.metrics_key)
            await asyncio.sleep(self.settings.poll_seconds)

    def snapshot(self) -> dict[str, Any]:
        """Everything the page shows, as JSON-ready figures: ids, types and counts, no person."""
        now = datetime.now(UTC)
        return {
            "at": now.isoformat(),
            "since": self.settings.since.isoformat(),
            "records": self.flow.records,
            "stages": self.flow.stage_counts(),
            "rates": self.flow.rates(),
            "lag": None if self.lag is None else self._lag(now),
            "dead_letters": self.flow.dead_letters(),
            "outbox": {name: self.outbox.get(name) for name in self.settings.services},
            "problems": dict(self.problems),
        }

    def _lag(self, now: datetime) -> list[dict[str, Any]]:
        groups: dict[str, dict[str, Any]] = {}
        for row in self.lag or []:
            group = groups.setdefault(row.group, {"group": row.group, "lag": 0, "waiting": None})
            group["lag"] += row.lag
            if row.lag and row.oldest_unconsumed is not None:
                waited = (now - row.oldest_unconsumed).total_seconds()
                group["waiting"] = max(group["waiting"] or 0.0, round(waited, 1))
        return [
            groups.get(g, {"group": g, "lag": None, "waiting": None}) for g in self.settings.groups
        ]
