"""The retention sweeper: erases, through the same path as a lawful request, the people whose
every application has been closed, and every proactive offer answered (or life event left
without one), for longer than the retention policy keeps it."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from intake.erasure import ErasureMustWait, HeldEvent, NoLongerDue, erase_subject
from intake.retention import RetentionPolicy, held_applications, held_life_events, people_due
from intake.store import ApplicationRow
from intake.subject_store import life_event_candidates, retention_candidates
from socialsvc_common.contract.erasure import ErasureReason
from socialsvc_common.db import transaction
from socialsvc_common.outbox import add_events
from socialsvc_common.worker import Worker

SWEEPER = "retention-sweeper"


class RetentionSweeper(Worker):
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        wake_relay: Callable[[], None],
        policy: RetentionPolicy,
        pseudonym_key: bytes,
        *,
        every_seconds: float,
        batch: int = 50,
    ) -> None:
        super().__init__(SWEEPER, idle_seconds=every_seconds, max_backoff_seconds=300)
        self._sessions = sessions
        self._wake_relay = wake_relay
        self._policy = policy
        self._key = pseudonym_key
        self._batch = batch

    async def step(self) -> bool:
        return await self.sweep(datetime.now(UTC)) == self._batch

    async def sweep(self, now: datetime) -> int:
        """Erases the people whose retention ended by `now`, one transaction each; how many the
        queries found (the batch size when more may wait). They choose in SQL; `people_due` asks
        the same again of each person's rows once erase_subject has locked them."""
        closed_before = {
            status.value: now - timedelta(days=days)
            for status, days in self._policy.days_after_closing.items()
        }
        offers_before = now - timedelta(days=self._policy.proactive_days)
        async with self._sessions() as session:
            rows = await retention_candidates(session, closed_before, offers_before, self._batch)
            reached = await life_event_candidates(session, offers_before, self._batch)
        due = sorted({row.fin for row in rows if row.fin} | set(reached))

        for fin in due:
            try:
                async with transaction(self._sessions) as session:
                    erasure = await erase_subject(
                        session,
                        fin,
                        reason=ErasureReason.RETENTION_ENDED,
                        legal_basis=f"retention policy {self._policy.version}",
                        requested_by=SWEEPER,
                        pseudonym_key=self._key,
                        now=now,
                        still_due=self.still_due(now),
                    )
                    await add_events(session, erasure.events)
            except (ErasureMustWait, NoLongerDue):
                continue
            self._log.info("retention ended", person_ref=erasure.person_ref)
        self._wake_relay()
        return max(len({row.fin for row in rows}), len(reached))

    def still_due(self, now: datetime) -> Callable[[list[ApplicationRow], list[HeldEvent]], bool]:
        """Whether a person is due by `now`, asked of their rows (applications, and life events
        with their offers)."""

        def due(applications: list[ApplicationRow], life_events: list[HeldEvent]) -> bool:
            facts = [
                (event.fin, offer.status, event.received_at, offer.answered_at)
                if offer
                else (event.fin, None, event.received_at, None)
                for event, offer in life_events
            ]
            held = held_applications(applications)
            return bool(people_due(held, self._policy, now, held_life_events(facts)))

        return due
