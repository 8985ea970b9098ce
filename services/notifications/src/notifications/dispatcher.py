"""Sends pending messages through the gateways and records each delivery with its event.

Each message is sent with its own id as the idempotency key, inside the transaction that records
the outcome (one transaction for a batch of messages). A crash between the gateway's answer and the
commit leaves the message pending; the next attempt uses the same key and the gateway answers as
before, so the citizen gets one message.

A batch goes in three phases: each message is prepared in pure code (its channel, quiet hours, the
gateway's breaker, its text: notifications.attempts); the prepared ones are sent grouped per
gateway, an HTTP gateway's in one request where it takes batches (notifications.sending); then
each answer is applied to its message and the events of them all are added once.

One loop looks for due messages, when woken (a commit made some) or once a second (retries,
holds that ran out). A wake that comes while it is in a batch goes to a helper at rest, which
takes what is due meanwhile rather than leave it for the loop's next round; a batch that comes
back full wakes every helper. A helper goes on while it finds messages, then rests: up to
`workers` batches are in hand at once. Each takes its rows with SKIP LOCKED, so none takes
another's, and a message is due only once every earlier one to its citizen is no longer pending,
so a citizen's messages keep their order. A quiet dispatcher asks the database once a second,
and a wake costs one query, not one per worker.
"""

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from notifications.attempts import Attempt, after_sends, channel_of, prepare, record, unexpected
from notifications.breaker import CircuitBreaker
from notifications.outcomes import NAME
from notifications.quiet_hours import QuietHours
from notifications.sending import Gateways, send_all
from notifications.store import ContactRow, NotificationRow, due
from socialsvc_common.contract import payloads as p
from socialsvc_common.contract.envelope import Event
from socialsvc_common.db import transaction, write_changes
from socialsvc_common.outbox import OutboxRelay, add_events
from socialsvc_common.worker import Worker

__all__ = ["NAME", "Dispatcher", "Gateways"]
# Messages of one batch share one transaction and, per HTTP gateway, one request; up to WORKERS
# batches are in hand at once under a backlog, and up to CONCURRENCY citizens' messages are with
# one-by-one gateways (e-mail) at once. A batch of 300 rather than 50: under a backlog the cost of
# a message is mostly its batch's round trips (at 100/s on a 2-core machine, 58 -> 77-85
# applications a second sustained). A batch holds its rows' locks while it sends, so a consent
# withdrawal or an erasure about one of them waits for it (about a second under load).
BATCH_SIZE = 300
WORKERS = 4
CONCURRENCY = 64
# A helper rests until the loop finds a backlog; this only bounds a rest nobody ends.
HELPER_IDLE_SECONDS = 60.0

Due = Sequence[tuple[NotificationRow, ContactRow]]


class Dispatcher(Worker):
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        relay: OutboxRelay,
        gateways: Gateways,
        *,
        quiet_hours: QuietHours | None = None,
        urgent_kinds: frozenset[str] = frozenset(),
        breaker: Callable[[], CircuitBreaker] = CircuitBreaker,
        batch_size: int = BATCH_SIZE,
        concurrency: int = CONCURRENCY,
        workers: int = WORKERS,
        idle_seconds: float = 1.0,
    ) -> None:
        super().__init__("dispatcher", idle_seconds=idle_seconds)
        self._sessions = sessions
        self._relay = relay
        self._gateways = gateways
        self._batch_size = batch_size
        self._in_flight = asyncio.Semaphore(concurrency)
        self._quiet = quiet_hours
        self._urgent = urgent_kinds
        self._breakers = {channel: breaker() for channel in p.Channel}
        self._helpers = [_Helper(self) for _ in range(workers - 1)]

    async def run(self) -> None:
        """Runs the loop, and its helpers for a backlog, until asked to stop."""
        await asyncio.gather(super().run(), *(helper.run() for helper in self._helpers))

    def stop(self) -> None:
        super().stop()
        for helper in self._helpers:
            helper.stop()

    @property
    def at_rest(self) -> bool:
        """Whether the loop and every helper are resting (none in a batch)."""
        return not self.working and not any(helper.working for helper in self._helpers)

    def wake(self) -> None:
        """Look for work at once: a helper at rest if the loop is in a batch, else the loop (at
        once, or as soon as its batch is done)."""
        if self.working:
            for helper in self._helpers:
                if not helper.working:
                    helper.wake()
                    return
        super().wake()

    async def step(self) -> bool:
        sent = await self.dispatch_once()
        if sent >= self._batch_size:
            for helper in self._helpers:
                helper.wake()
        return sent > 0

    async def dispatch_once(self) -> int:
        """Sends up to one batch of due messages and records every outcome in one transaction.

        A message's own failure is recorded with it and never undoes the others. Should the batch
        not commit, each message goes again in a transaction of its own (under the same
        idempotency keys, so the gateways answer as before), and one message that cannot be
        recorded holds up only itself."""
        try:
            return await self._dispatch_batch()
        except Exception as error:
            self._log.warning("batch of messages not recorded; one by one", error=repr(error))
        sent = 0
        while sent < self._batch_size and not self._stopping.is_set():
            if not await self._dispatch_next():
                break
            sent += 1
        return sent

    async def _dispatch_batch(self) -> int:
        started = time.perf_counter()
        async with transaction(self._sessions) as session:
            now = datetime.now(UTC)
            batch = await due(session, now, self._batch_size)
            found = time.perf_counter()
            events = await self._handle(batch, now)
            handled = time.perf_counter()
            await write_changes(session, [row for row, _ in batch])
            await add_events(session, events)
        if events:
            self._relay.wake()
        if batch:
            # One line a batch: the statuses its messages were left in (pending: to retry), and
            # its time in finding them, sending them and recording what became of them.
            statuses = Counter(row.status for row, _ in batch)
            self._log.info(
                "batch of messages dispatched",
                messages=len(batch),
                **statuses,
                finding=round(found - started, 3),
                sending=round(handled - found, 3),
                recording=round(time.perf_counter() - handled, 3),
            )
        return len(batch)

    async def _dispatch_next(self) -> bool:
        now = datetime.now(UTC)
        async with transaction(self._sessions) as session:
            batch = await due(session, now, 1)
            if not batch:
                return False
            events = await self._handle(batch, now)
            await write_changes(session, [batch[0][0]])
            await add_events(session, events)
        if events:
            self._relay.wake()
        return True

    async def _handle(self, batch: Due, now: datetime) -> list[Event]:
        """Prepares, sends and records a batch; returns the events of its outcomes."""
        was_open = self.breakers_open()
        attempts, events = self._prepare(batch, now)
        answers = await send_all(attempts, self._gateways, self._in_flight)
        after_sends(answers)
        for attempt, answer in zip(attempts, answers, strict=True):
            events += record(attempt, answer, self._breakers[attempt.channel], now)
        self._say_breaker_changes(was_open, answers)
        return events

    def breakers_open(self) -> dict[p.Channel, bool]:
        """Whether each gateway's breaker is open (or half-open, probing) now."""
        return {channel: breaker.is_open for channel, breaker in self._breakers.items()}

    def breakers_failing(self, now: datetime) -> dict[p.Channel, bool]:
        """Whether each gateway's breaker is open with a recent failure (CircuitBreaker.failing)."""
        return {channel: breaker.failing(now) for channel, breaker in self._breakers.items()}

    def _say_breaker_changes(
        self, was_open: dict[p.Channel, bool], answers: Sequence[object]
    ) -> None:
        failures = Counter(type(a).__name__ for a in answers if isinstance(a, Exception))
        for channel, now_open in self.breakers_open().items():
            if now_open and not was_open[channel]:
                self._log.warning(
                    "gateway breaker opened", channel=channel.value, errors=dict(failures)
                )
            elif was_open[channel] and not now_open:
                self._log.info("gateway breaker closed", channel=channel.value)

    def _prepare(self, batch: Due, now: datetime) -> tuple[list[Attempt], list[Event]]:
        """The messages to send now, and the events of those that failed before any send."""
        attempts: list[Attempt] = []
        events: list[Event] = []
        channels: dict[object, p.Channel] = {}
        for row, contact in batch:
            channel = channel_of(row, contact)
            # One citizen's messages of a batch go by one gateway, in order; one on another
            # channel (its earlier one moved on after a refusal) waits for the next batch.
            if channels.setdefault(row.application_id, channel) is not channel:
                continue
            try:
                if later := self._not_now(row, channel, now):
                    row.channel, row.next_attempt_at = channel.value, later
                    continue
                attempts.append(prepare(row, contact, channel))
            except Exception as error:  # bad data or a bug in one message must not stop the rest
                events += unexpected(row, contact, error, self._breakers[channel], now)
        return attempts, events

    def _not_now(self, row: NotificationRow, channel: p.Channel, now: datetime) -> datetime | None:
        """When a message must wait without trying: quiet hours, or its gateway's breaker open."""
        if (
            channel is p.Channel.SMS
            and self._quiet is not None
            and row.kind not in self._urgent
            and self._quiet.quiet_at(now)
        ):
            return self._quiet.ends_after(now)
        breaker = self._breakers[channel]
        return None if breaker.allows(now) else breaker.retry_at(now)


class _Helper(Worker):
    """Takes batches beside the dispatcher's loop while it finds messages, then rests until
    woken again."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        super().__init__("dispatcher", idle_seconds=HELPER_IDLE_SECONDS)
        self._dispatcher = dispatcher

    async def step(self) -> bool:
        return await self._dispatcher.dispatch_once() > 0
