"""The needs-information sweeper: reminds, once, a person whose facts have not come, and closes
the application as expired when the policy's time has run out; each step with its event, in the
journey, in one transaction a batch."""

from collections.abc import Callable
from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from intake.applications import NAME
from intake.information_policy import AwaitingFacts, InformationPolicy, Step, steps_due
from intake.information_store import awaiting_facts, mark_reminded, missing_asked
from intake.journey import journey_row
from intake.store import Status, add_journey, set_statuses
from socialsvc_common.contract import payloads as p
from socialsvc_common.contract import topics
from socialsvc_common.contract.envelope import Event, new_event
from socialsvc_common.db import transaction
from socialsvc_common.outbox import add_events
from socialsvc_common.worker import Worker

SWEEPER = "information-sweeper"


def reminder(
    waiting: AwaitingFacts, missing: list[str], policy: InformationPolicy, now: datetime
) -> Event:
    payload = p.InformationReminded(
        application_id=waiting.application_id,
        reminded_at=now,
        missing=missing,
        expires_at=waiting.asked_at + policy.expire_after,
        policy_version=policy.version,
    )
    return new_event(
        topics.INFORMATION_REMINDED,
        payload,
        producer=NAME,
        application_id=waiting.application_id,
        at=now,
    )


def expiry(application_id: UUID, policy: InformationPolicy, now: datetime) -> Event:
    payload = p.ApplicationExpired(
        application_id=application_id,
        expired_at=now,
        reason=p.ExpiryReason.INFORMATION_NOT_RECEIVED,
        policy_version=policy.version,
    )
    return new_event(
        topics.APPLICATION_EXPIRED, payload, producer=NAME, application_id=application_id, at=now
    )


async def take_steps(
    session: AsyncSession, policy: InformationPolicy, now: datetime, limit: int
) -> tuple[int, list[Event]]:
    """Reads the applications due a step, decides each in pure code, writes the reminders'
    marks, the expired statuses and the journey (one statement each); how many were looked at,
    and the events."""
    waiting = await awaiting_facts(session, policy, now, limit)
    due = steps_due(waiting, policy, now)
    to_remind = [w for w in waiting if due.get(w.application_id) is Step.REMIND]
    to_expire = [w.application_id for w in waiting if due.get(w.application_id) is Step.EXPIRE]
    missing = await missing_asked(session, [w.application_id for w in to_remind])
    events = [reminder(w, missing.get(w.application_id, []), policy, now) for w in to_remind]
    events += [expiry(application_id, policy, now) for application_id in to_expire]
    await mark_reminded(session, [w.application_id for w in to_remind], now)
    await set_statuses(
        session,
        [{"id": i, "status": Status.EXPIRED.value, "is_open": False} for i in to_expire],
        now,
    )
    await add_journey(session, [journey_row(e.envelope, e.payload) for e in events])
    return len(waiting), events


class InformationSweeper(Worker):
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        wake_relay: Callable[[], None],
        policy: InformationPolicy,
        *,
        every_seconds: float,
        batch: int = 100,
    ) -> None:
        super().__init__(SWEEPER, idle_seconds=every_seconds, max_backoff_seconds=300)
        self._sessions = sessions
        self._wake_relay = wake_relay
        self._policy = policy
        self._batch = batch

    async def step(self) -> bool:
        return await self.sweep(datetime.now(UTC)) == self._batch

    async def sweep(self, now: datetime) -> int:
        """Takes the steps due by `now` for up to a batch of applications, in one transaction;
        how many were looked at (the batch size when more may wait)."""
        async with transaction(self._sessions) as session:
            looked_at, events = await take_steps(session, self._policy, now, self._batch)
            await add_events(session, events)
        if events:
            self._wake_relay()
            expired = sum(e.topic is topics.APPLICATION_EXPIRED for e in events)
            self._log.info("waiting for facts", reminded=len(events) - expired, expired=expired)
        return looked_at
