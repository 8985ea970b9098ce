"""Sends pending messages through the gateways and records each delivery with its event.

Each message is sent with its own id as the idempotency key, inside the transaction that records
the outcome (one transaction for a batch of messages). A crash between the gateway's answer and the
commit leaves the message pending; the next attempt uses the same key and the gateway answers as
before, so the citizen gets one message.

The messages of a batch go to the gateways side by side, one citizen's strictly one after another:
a gateway's answer takes tens of milliseconds, and waiting for each in turn would make that the
pace of the whole service. For the same reason several batches are in hand at once (`workers`):
each takes its rows with SKIP LOCKED, so none takes another's, and a message is due only once every
earlier one to its citizen is no longer pending, so a citizen's messages keep their order.
"""

import asyncio
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from notifications.breaker import CircuitBreaker
from notifications.channels import (
    EmailGateway,
    GatewayReceipt,
    InboxGateway,
    PermanentDeliveryError,
    SmsGateway,
    TransientDeliveryError,
)
from notifications.outcomes import NAME, channel_failed, delivered
from notifications.quiet_hours import QuietHours
from notifications.routing import channels_for
from notifications.sms import segments
from notifications.store import ACCEPTED, ContactRow, NotificationRow, due
from notifications.templates import MessageContext, MessageKind, application_ref, render
from socialsvc_common.contract import payloads as p
from socialsvc_common.contract.envelope import Event
from socialsvc_common.db import transaction
from socialsvc_common.faults import fault_point
from socialsvc_common.outbox import OutboxRelay, add_events
from socialsvc_common.worker import Worker

__all__ = ["NAME", "Dispatcher", "Gateways"]
MAX_BACKOFF_SECONDS = 300.0
MAX_ATTEMPTS_ON_ERROR = 8
# Messages of one batch share one transaction; WORKERS batches are in hand at once, and up to
# CONCURRENCY messages of them all are with a gateway at once.
BATCH_SIZE = 50
WORKERS = 4
CONCURRENCY = 64


def backoff(attempts: int, retry_after: float | None) -> timedelta:
    # Exponential with full jitter, never sooner than the gateway asked.
    delay = random.uniform(0, min(MAX_BACKOFF_SECONDS, 0.5 * 2**attempts))  # noqa: S311
    return timedelta(seconds=max(delay, retry_after or 0.0))


@dataclass(frozen=True)
class Gateways:
    sms: SmsGateway
    email: EmailGateway
    inbox: InboxGateway


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
        self._sms, self._email, self._inbox = gateways.sms, gateways.email, gateways.inbox
        self._batch_size = batch_size
        self._in_flight = asyncio.Semaphore(concurrency)
        self._quiet = quiet_hours
        self._urgent = urgent_kinds
        self._breakers = {channel: breaker() for channel in p.Channel}
        self._workers = workers

    async def run(self) -> None:
        """Runs `workers` dispatch loops side by side until asked to stop."""
        await asyncio.gather(*(super(Dispatcher, self).run() for _ in range(self._workers)))

    async def step(self) -> bool:
        return await self.dispatch_once() > 0

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
        async with transaction(self._sessions) as session:
            batch = await due(session, datetime.now(UTC), self._batch_size)
            per_citizen: dict[object, list[tuple[NotificationRow, ContactRow]]] = {}
            for row, contact in batch:
                per_citizen.setdefault(row.application_id, []).append((row, contact))
            sent = await asyncio.gather(*(self._attempt_in_turn(m) for m in per_citizen.values()))
            events = [event for events in sent for event in events]
            await add_events(session, events)
        if events:
            self._relay.wake()
        if batch:
            # One line a batch: the statuses its messages were left in (pending: to retry).
            statuses = Counter(row.status for row, _ in batch)
            self._log.info("batch of messages dispatched", messages=len(batch), **statuses)
        return len(batch)

    async def _attempt_in_turn(
        self, messages: Sequence[tuple[NotificationRow, ContactRow]]
    ) -> list[Event]:
        """One citizen's messages, in their order; the rows of those not tried stay untouched."""
        events: list[Event] = []
        async with self._in_flight:
            for row, contact in messages:
                if self._stopping.is_set():
                    break
                events += await self._attempt(row, contact, datetime.now(UTC))
        return events

    async def _dispatch_next(self) -> bool:
        now = datetime.now(UTC)
        async with transaction(self._sessions) as session:
            batch = await due(session, now, 1)
            if not batch:
                return False
            row, contact = batch[0]
            events = await self._attempt(row, contact, now)
            session.add(row)
            await add_events(session, events)
        if events:
            self._relay.wake()
        return True

    async def _attempt(
        self, row: NotificationRow, contact: ContactRow, now: datetime
    ) -> list[Event]:
        try:
            return await self._deliver(row, contact, now)
        except Exception as error:  # bad data or a bug in one message must not stop the rest
            return self._unexpected(row, contact, error, now)

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

    def _unexpected(
        self, row: NotificationRow, contact: ContactRow, error: Exception, now: datetime
    ) -> list[Event]:
        # Only the class is kept: a message may quote the address or the text.
        row.attempts += 1
        channel = p.Channel(row.channel) if row.channel else channels_for(contact)[0]
        # A probe that failed this way must not leave its gateway's breaker half-open.
        self._breakers[channel].failed(now)
        error_class = type(error).__name__
        self._log.error("message could not be sent", error_class=error_class, attempts=row.attempts)
        if row.attempts < MAX_ATTEMPTS_ON_ERROR:
            row.last_error = error_class
            row.next_attempt_at = now + backoff(row.attempts, None)
            return []
        return channel_failed(row, contact, channel, error_class, now)

    async def _deliver(
        self, row: NotificationRow, contact: ContactRow, now: datetime
    ) -> list[Event]:
        channel = p.Channel(row.channel) if row.channel else channels_for(contact)[0]
        row.channel = channel.value
        if later := self._not_now(row, channel, now):
            row.next_attempt_at = later
            return []
        breaker = self._breakers[channel]
        row.attempts += 1
        try:
            receipt = await self._send(channel, row, contact)
        except TransientDeliveryError as error:
            self._log.debug("gateway failed; will retry", channel=channel.value, error=str(error))
            breaker.failed(now)
            row.next_attempt_at = now + backoff(row.attempts, error.retry_after)
            row.last_error = str(error)
            return []
        except PermanentDeliveryError as error:
            self._log.debug("gateway refused message", channel=channel.value, error=str(error))
            breaker.succeeded()  # the gateway works; it refused this one message
            return channel_failed(row, contact, channel, str(error), now)
        fault_point("notifications.after_send")
        breaker.succeeded()
        row.gateway_message_id, row.sent_at = receipt.message_id, now
        if receipt.delivered:
            return delivered(row, channel, now)
        row.status = ACCEPTED  # the gateway's receipt will say how it went
        return []

    async def _send(
        self, channel: p.Channel, row: NotificationRow, contact: ContactRow
    ) -> GatewayReceipt:
        context = MessageContext(application_ref=application_ref(row.application_id), **row.context)
        message = render(MessageKind(row.kind), p.Language(contact.language), context)
        key = str(row.id)
        match channel:
            case p.Channel.EMAIL if contact.email:
                return await self._email.send(contact.email, message.subject, message.body, key)
            case p.Channel.EGOV_INBOX:
                return await self._inbox.send(contact.fin, message.subject, message.body, key)
            case _:
                row.segments = segments(message.sms)
                return await self._sms.send(contact.mobile_phone, message.sms, key)
