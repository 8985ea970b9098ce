"""The offer sweeper: an offer no one answered by its day has lapsed, which is a no. The sweeper
marks each such offer and publishes what became of it, in one transaction a batch."""

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from intake.applications import BAKU
from intake.offers import LAPSE_SWEEPER, lapse_due
from socialsvc_common.db import transaction
from socialsvc_common.outbox import add_events
from socialsvc_common.worker import Worker


class OfferSweeper(Worker):
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        wake_relay: Callable[[], None],
        *,
        every_seconds: float,
        batch: int = 200,
    ) -> None:
        super().__init__(LAPSE_SWEEPER, idle_seconds=every_seconds, max_backoff_seconds=300)
        self._sessions = sessions
        self._wake_relay = wake_relay
        self._batch = batch

    async def step(self) -> bool:
        return await self.sweep(datetime.now(UTC)) == self._batch

    async def sweep(self, now: datetime) -> int:
        """Marks lapsed up to a batch of the offers whose day (in Baku) had passed by `now`; how
        many (the batch size when more may wait)."""
        async with transaction(self._sessions) as session:
            events = await lapse_due(session, now.astimezone(BAKU).date(), now, self._batch)
            await add_events(session, events)
        if events:
            self._wake_relay()
            self._log.info("offers lapsed", offers=len(events))
        return len(events)
