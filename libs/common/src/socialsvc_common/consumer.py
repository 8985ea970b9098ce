"""Consuming events safely: parse, deduplicate, apply with the outgoing events in one transaction.

For every record:
- headers and payload that cannot be parsed or validated go to the dead-letter topic at once;
- a repeat of an event already applied (inbox) is skipped;
- otherwise the handler runs inside one transaction with the inbox row and the outbox rows;
- an infrastructure failure (database or network down) is retried with capped backoff for as long
  as it lasts: nothing could be processed meanwhile, and dead-lettering would empty the partition;
- any other failure is retried a bounded number of times, then dead-lettered;
- `Rejected` (a domain refusal) is dead-lettered at once.
The handler returns only after the commit (or the dead-letter publish), and only then does the
offset advance. If the dead-letter publish itself fails the error propagates and the record is
redelivered.

Handlers are set-based: a handler takes the new events of its topic in a batch, in the order
received (so per partition), and applies them with a fixed number of statements whatever their
number: read what the batch needs, decide per event in pure code, write per table. A batch of
records (`process_batch`) is one transaction: one inbox statement claims every event id, each
topic's handler runs once over its new events, and one statement writes the outgoing events.
Records that cannot be parsed are dead-lettered first, at once; if any other record of the batch
fails, the transaction is rolled back and the records are applied one by one as above (the handler
given a list of one): a bad record gets its retries and dead letter alone and never takes the good
ones of its batch down with it.
"""

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import structlog
from aiokafka import ConsumerRecord
from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError, RequestTimedOutError
from pydantic import BaseModel
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from socialsvc_common import inbox
from socialsvc_common.contract.envelope import Envelope, Event
from socialsvc_common.contract.payloads import DeadLetter
from socialsvc_common.contract.topics import Topic
from socialsvc_common.db import transaction
from socialsvc_common.kafka import Producer
from socialsvc_common.logs import redact_text
from socialsvc_common.metrics import DEAD_LETTERED, DUPLICATE, PROCESSED, Metrics
from socialsvc_common.outbox import OutboxRelay, add_events
from socialsvc_common.problems import Problem
from socialsvc_common.public_stream import COARSE_TIME_TOPICS
from socialsvc_common.records import (
    DLQ_PREFIX,
    InvalidRecord,
    context_of,
    dead_letter_headers,
    parse,
    read_dead_letter,
)

# Re-exported: services and tools import them from here.
__all__ = [
    "DLQ_PREFIX",
    "INFRASTRUCTURE_ERRORS",
    "EventConsumer",
    "Handler",
    "InvalidRecord",
    "Received",
    "Rejected",
    "RetryPolicy",
    "dead_letter_headers",
    "parse",
    "read_dead_letter",
]


P = TypeVar("P", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class Received(Generic[P]):
    """One new event handed to a handler: its envelope and validated payload."""

    envelope: Envelope
    payload: P


# A set-based handler: the new events of its topic in a batch, in order, to the outgoing events.
Handler = Callable[[AsyncSession, Sequence[Received[Any]]], Awaitable[Sequence[Event]]]
# A record with what it carries and the handler of its topic.
Parsed = tuple[ConsumerRecord[bytes, bytes], Envelope, BaseModel, Handler]
INFRASTRUCTURE_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    DisconnectionError,
    PoolTimeout,
    KafkaConnectionError,
    KafkaTimeoutError,
    RequestTimedOutError,
    ConnectionError,
    TimeoutError,
    OSError,
)
MAX_ERROR_MESSAGE = 1000


class Rejected(Exception):
    """The event can never be applied as it is; it is dead-lettered with this reason."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 3
    base_delay: float = 0.2
    max_delay: float = 5.0
    infrastructure_max_delay: float = 30.0

    def delay(self, attempt: int, *, cap: float) -> float:
        # Full jitter: replicas that failed together do not retry together.
        return random.uniform(0, min(cap, self.base_delay * 2**attempt))  # noqa: S311


class EventConsumer:
    """Applies the records of one consumer group through registered handlers."""

    def __init__(
        self,
        name: str,
        sessions: async_sessionmaker[AsyncSession],
        producer: Producer,
        dead_letter_topic: Topic,
        *,
        relay: OutboxRelay | None = None,
        policy: RetryPolicy | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.name = name
        self._sessions = sessions
        self._producer = producer
        self._dead_letters = dead_letter_topic
        self._relay = relay
        # Woken after every commit that applied an event (a worker that acts on what they stored).
        self._wake: list[Callable[[], None]] = []
        self._policy = policy or RetryPolicy()
        self._metrics = metrics or Metrics(name)
        self._handlers: dict[str, tuple[Topic, Handler]] = {}
        self._log = structlog.get_logger(name)

    @property
    def topics(self) -> list[Topic]:
        return [topic for topic, _ in self._handlers.values()]

    def handle(self, topic: Topic) -> Callable[[Handler], Handler]:
        """Registers the handler of one topic: `async (session, [Received]) -> [events]`, called
        once per batch with the topic's new events in the order received."""

        def register(handler: Handler) -> Handler:
            self._handlers[topic.name] = (topic, handler)
            return handler

        return register

    def wake_after_commit(self, wake: Callable[[], None]) -> None:
        """Calls `wake` after each commit that applied events (e.g. a worker's `wake`)."""
        self._wake.append(wake)

    def _committed(self, *, wrote_events: bool) -> None:
        # A commit without outgoing events leaves the relay nothing to publish: waking it would
        # cost a transaction for nothing (most events a service keeps produce none).
        if wrote_events and self._relay is not None:
            self._relay.wake()
        for wake in self._wake:
            wake()

    async def process_batch(self, records: Sequence[ConsumerRecord[bytes, bytes]]) -> None:
        """Dead-letters the records that cannot be parsed, then applies the others in one
        transaction, or one by one when any of them fails."""
        if len(records) == 1:
            await self.process(records[0])
            return
        started = time.perf_counter()
        parsed: list[Parsed] = []
        for record in records:
            try:
                parsed.append((record, *self._parse(record)))
            except (InvalidRecord, KeyError) as error:
                # At once, before the good records around it: a bad record must not wait for
                # them one by one (the state is the same, dead-lettering changes none).
                with structlog.contextvars.bound_contextvars(**context_of(record)):
                    outcome = await self._dead_letter(record, error, attempts=1)
                self._observe(record, outcome, started, started)
        if not parsed:
            return
        try:
            outcomes, events = await self._apply_batch(parsed)
        except Exception as error:
            self._log.warning(
                "batch failed; applying its records one by one",
                error=repr(error),
                records=len(parsed),
            )
            for record, *_ in parsed:
                await self.process(record, received=started)
            return
        seconds = time.perf_counter() - started
        for (record, *_), outcome in zip(parsed, outcomes, strict=True):
            self._metrics.consumed(record.topic, outcome, seconds)
        self._log.info(
            "batch applied",
            records=len(parsed),
            duplicates=outcomes.count(DUPLICATE),
            events=events,
            seconds=round(seconds, 3),
            oldest_waited=oldest_wait([record for record, *_ in parsed], time.time() - seconds),
        )

    def _parse(self, record: ConsumerRecord[bytes, bytes]) -> tuple[Envelope, BaseModel, Handler]:
        topic, handler = self._handlers[record.topic]
        return *parse(record, topic), handler

    async def _apply_batch(self, parsed: Sequence[Parsed]) -> tuple[list[str], int]:
        """Each record's outcome, and the number of events the batch wrote."""
        async with transaction(self._sessions) as session:
            ids = [envelope.event_id for _, envelope, _, _ in parsed]
            news = await inbox.claim_all(session, self.name, ids)
            # Per topic, in the order received: a partition belongs to one topic, so its order
            # holds; events of different topics are not ordered by Kafka either.
            per_handler: dict[Handler, list[Received[Any]]] = {}
            for (_, envelope, payload, handler), first in zip(parsed, news, strict=True):
                if first:
                    per_handler.setdefault(handler, []).append(Received(envelope, payload))
            events = [
                event
                for handler, received in per_handler.items()
                for event in await handler(session, received)
            ]
            await add_events(session, events)
        outcomes = [PROCESSED if first else DUPLICATE for first in news]
        duplicates = outcomes.count(DUPLICATE)
        if duplicates < len(outcomes):
            self._committed(wrote_events=bool(events))
        return outcomes, len(events)

    async def process(
        self, record: ConsumerRecord[bytes, bytes], *, received: float | None = None
    ) -> None:
        """Applies one record: processed, skipped as a repeat, or dead-lettered. `received` is
        when its batch reached the handler (perf_counter), if it came in one that failed."""
        started = time.perf_counter()
        outcome = await self._process(record)
        self._observe(record, outcome, started, started if received is None else received)

    def _observe(
        self, record: ConsumerRecord[bytes, bytes], outcome: str, started: float, received: float
    ) -> None:
        done = time.perf_counter()
        self._metrics.consumed(record.topic, outcome, done - started)
        if outcome == DEAD_LETTERED:
            # Nothing behind it on its partition moved meanwhile: the stall a bad record causes.
            self._metrics.held_up(record.topic, done - received)

    async def _process(self, record: ConsumerRecord[bytes, bytes]) -> str:
        with structlog.contextvars.bound_contextvars(**context_of(record)):
            try:
                envelope, payload, handler = self._parse(record)
            except (InvalidRecord, KeyError) as error:
                return await self._dead_letter(record, error, attempts=1)
            with structlog.contextvars.bound_contextvars(
                event_id=str(envelope.event_id), application_id=str(envelope.application_id)
            ):
                return await self._apply_with_retries(record, envelope, payload, handler)

    async def _apply_with_retries(
        self,
        record: ConsumerRecord[bytes, bytes],
        envelope: Envelope,
        payload: BaseModel,
        handler: Handler,
    ) -> str:
        """Applies the event; says whether it was processed, a duplicate or dead-lettered."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return PROCESSED if await self._apply(envelope, payload, handler) else DUPLICATE
            except (Rejected, Problem) as error:
                # A refusal in the domain's words (an HTTP-style Problem included) will not change
                # on a retry.
                return await self._dead_letter(record, error, attempts=attempt)
            except INFRASTRUCTURE_ERRORS as error:
                self._metrics.failed(error)
                delay = self._policy.delay(attempt, cap=self._policy.infrastructure_max_delay)
                self._log.warning(
                    "infrastructure unavailable; retrying", error=repr(error), retry_in=delay
                )
            except Exception as error:
                if attempt >= self._policy.attempts:
                    self._log.error("giving up on event", error=repr(error), attempts=attempt)
                    return await self._dead_letter(record, error, attempts=attempt)
                self._metrics.failed(error)
                delay = self._policy.delay(attempt, cap=self._policy.max_delay)
                self._log.warning("event failed; retrying", error=repr(error), retry_in=delay)
            await asyncio.sleep(delay)

    async def _apply(self, envelope: Envelope, payload: BaseModel, handler: Handler) -> bool:
        """Applies the event in one transaction; False when the inbox says it was applied before."""
        async with transaction(self._sessions) as session:
            if not await inbox.claim(session, self.name, envelope.event_id):
                self._log.debug("duplicate event skipped")
                return False
            events = await handler(session, [Received(envelope, payload)])
            await add_events(session, events)
        self._committed(wrote_events=bool(events))
        return True

    async def _dead_letter(
        self, record: ConsumerRecord[bytes, bytes], error: BaseException, *, attempts: int
    ) -> str:
        self._metrics.failed(error)
        letter = DeadLetter(
            consumer=self.name,
            original_topic=record.topic,
            original_partition=record.partition,
            original_offset=record.offset,
            error_class=type(error).__name__,
            error_message=redact_text(str(error))[:MAX_ERROR_MESSAGE],
            failed_at=datetime.now(UTC),
            attempts=attempts,
        )
        headers = [*record.headers, *dead_letter_headers(letter)]
        await self._producer.deliver([(self._dead_letters.name, record.key, record.value, headers)])
        self._metrics.dead_lettered(record.topic, letter.error_class, self._dead_letters.name)
        self._log.warning(
            "record dead-lettered", error_class=letter.error_class, reason=letter.error_message
        )
        return DEAD_LETTERED


def oldest_wait(records: Sequence[ConsumerRecord[bytes, bytes]], taken: float) -> float | None:
    """How long the oldest of these records had been on its topic when their batch was taken
    (`taken`, seconds since the epoch), by the records' timestamps (their producers' clocks).
    Public topics' times are coarse, and a record without a time (-1) says nothing: both are
    left out."""
    stamps = [
        record.timestamp
        for record in records
        if record.topic not in COARSE_TIME_TOPICS and record.timestamp > 0
    ]
    return round(taken - min(stamps) / 1000, 3) if stamps else None
