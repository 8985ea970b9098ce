"""The one place where Kafka clients are configured. Services never repeat these settings.

Client defaults lose or repeat messages (see shared/design/FASTSTREAM-0.7-FACTS.md), so every one
that matters is set here on purpose:

- producer: idempotence on, which makes acks=all; an explicit request timeout; a small linger;
- consumer: an explicit group id, `earliest` for a new group, read_committed, and offsets committed
  only after the handler returns (AckPolicy.NACK_ON_ERROR: a failing handler seeks back, so the
  record is not lost; a crash before the commit redelivers it after restart);
- topics: never auto-created by a client; they come from the registry (`socialsvc-topics`).
"""

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import (
    InvalidProducerEpoch,
    OutOfOrderSequenceNumber,
    ProducerClosed,
    ProducerFenced,
    UnknownProducerId,
)
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage
from faststream.kafka.subscriber.usecase import LogicSubscriber
from faststream.message import StreamMessage

from socialsvc_common.contract.topics import Topic
from socialsvc_common.kafka_security import broker_security, client_security
from socialsvc_common.settings import ServiceSettings

PRODUCER_REQUEST_TIMEOUT_MS = 30_000
# Errors after which an idempotent producer cannot go on: aiokafka's sender task has died (a
# batch expired during an outage left a gap in the partition's sequence numbers) and every send
# fails, or waits for ever. Only a new producer, with a new producer id, sends again.
BROKEN_PRODUCER_ERRORS: tuple[type[BaseException], ...] = (
    OutOfOrderSequenceNumber,
    UnknownProducerId,
    InvalidProducerEpoch,
    ProducerFenced,
    ProducerClosed,
)
PRODUCER_STOP_SECONDS = 10.0
# Records the broker has not acknowledged by then are given up and the producer renewed: a healthy
# one answers or fails within its request timeout, a broken one may never answer.
DELIVERY_TIMEOUT_SECONDS = 2 * PRODUCER_REQUEST_TIMEOUT_MS / 1000
RENEW_ON: tuple[type[BaseException], ...] = (TimeoutError, *BROKEN_PRODUCER_ERRORS)
Record = tuple[str, bytes | None, bytes | None, Sequence[tuple[str, bytes]]]
PRODUCER_LINGER_MS = 5
# A handler that runs longer than this is considered stuck and its partitions are reassigned.
MAX_POLL_INTERVAL_MS = 5 * 60 * 1000
SESSION_TIMEOUT_MS = 10_000


def make_broker(
    settings: ServiceSettings,
    *,
    client_id: str,
    middlewares: Sequence[Any] = (),
    message_log_level: int = logging.DEBUG,
) -> KafkaBroker:
    """A FastStream Kafka broker with the platform's safe producer and consumer defaults.

    Per-message "Received/Processed" lines are logged at `message_log_level` (DEBUG by default:
    they cost ~20 µs a message and say nothing an operator needs in production).
    """
    return KafkaBroker(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        client_id=client_id,
        enable_idempotence=True,
        acks="all",
        request_timeout_ms=PRODUCER_REQUEST_TIMEOUT_MS,
        linger_ms=PRODUCER_LINGER_MS,
        allow_auto_create_topics=False,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        graceful_timeout=settings.shutdown_grace_seconds,
        middlewares=middlewares,
        logger=logging.getLogger(f"{client_id}.kafka"),
        log_level=message_log_level,
        security=broker_security(settings),
    )


def make_producer(settings: ServiceSettings, *, client_id: str) -> AIOKafkaProducer:
    """A plain aiokafka producer with the same safe settings, for the outbox relay and dead letters.

    It sends raw bytes with CloudEvents headers, which FastStream's publish API would re-encode.
    """
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        client_id=f"{client_id}-relay",
        enable_idempotence=True,
        acks="all",
        request_timeout_ms=PRODUCER_REQUEST_TIMEOUT_MS,
        linger_ms=PRODUCER_LINGER_MS,
        **client_security(settings),
    )


class Producer:
    """A `make_producer` producer created on `start()`: aiokafka needs a running event loop, and a
    service is wired before its loop runs."""

    def __init__(self, settings: ServiceSettings, *, client_id: str) -> None:
        self._settings = settings
        self._client_id = client_id
        self._producer: AIOKafkaProducer | None = None

    @property
    def client(self) -> AIOKafkaProducer:
        if self._producer is None:
            raise RuntimeError("the producer is not started")
        return self._producer

    async def start(self) -> None:
        self._producer = make_producer(self._settings, client_id=self._client_id)
        await self._producer.start()

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def deliver(
        self,
        records: Sequence[Record],
        *,
        within_seconds: float = DELIVERY_TIMEOUT_SECONDS,
        timestamps_ms: Sequence[int | None] = (),
    ) -> None:
        """Sends (topic, key, value, headers) records in order and waits until the broker has
        taken them all. A client that failed in a way it cannot recover from, or did not answer in
        time, is renewed and the error raised: the caller sends the records again (consumers drop
        the copies of any that did get through). `timestamps_ms`, one for each record where
        given, are their record times (None: the producer's clock)."""
        if self._producer is None:
            await self.start()
        stamps = list(timestamps_ms) or [None] * len(records)
        if len(stamps) != len(records):
            raise ValueError(f"{len(stamps)} timestamps for {len(records)} records")

        async def send_all() -> None:
            deliveries = [
                await self.client.send(
                    topic, value=value, key=key, headers=list(headers), timestamp_ms=stamp
                )
                for (topic, key, value, headers), stamp in zip(records, stamps, strict=True)
            ]
            await asyncio.gather(*deliveries)

        try:
            await asyncio.wait_for(send_all(), timeout=within_seconds)
        except RENEW_ON as error:
            logging.getLogger(f"{self._client_id}.kafka").warning(
                "producer renewed after %r (%d records to send again)", error, len(records)
            )
            await self.renew()
            raise

    async def renew(self) -> None:
        """Replaces a broken client with a new one (a new producer id and fresh sequence numbers).
        The old one is closed within a bound and otherwise abandoned: its sender may be dead, and
        what it had not sent is sent again by its caller (the outbox keeps it unsent)."""
        old, self._producer = self._producer, None
        if old is not None:
            try:
                await asyncio.wait_for(old.stop(), timeout=PRODUCER_STOP_SECONDS)
            except Exception as error:  # a client that cannot even close is left behind
                logging.getLogger(f"{self._client_id}.kafka").warning(
                    "broken producer abandoned: %r", error
                )
        await self.start()


def subscriber(
    broker: KafkaBroker,
    *topics: Topic,
    group_id: str,
    **options: Any,
) -> LogicSubscriber[Any]:
    """Subscribes to registry topics in an explicit consumer group with at-least-once delivery.

    Extra keyword arguments go to `KafkaBroker.subscriber` (e.g. `batch=True`, `max_records`).
    """
    if not topics:
        raise ValueError("subscriber needs at least one topic")
    if not group_id:
        raise ValueError("every subscriber needs an explicit consumer group id")
    settings: dict[str, Any] = {
        "group_id": group_id,
        "auto_offset_reset": "earliest",
        "isolation_level": "read_committed",
        "ack_policy": AckPolicy.NACK_ON_ERROR,
        "max_poll_interval_ms": MAX_POLL_INTERVAL_MS,
        "session_timeout_ms": SESSION_TIMEOUT_MS,
    }
    settings.update(options)
    created: LogicSubscriber[Any] = broker.subscriber(*(t.name for t in topics), **settings)
    return created


async def keep_raw(message: StreamMessage[Any]) -> Any:
    """A FastStream decoder that leaves the value (a batch's values) alone: the consumer runtime
    validates it itself, so a malformed record reaches the dead-letter path instead of failing
    inside FastStream (whose batch decoder would parse every header of the batch again)."""
    return message.body


def _readable(value: bytes | None) -> bytes:
    try:
        (value or b"").decode()
    except UnicodeDecodeError:
        return b""
    return value or b""


async def tolerant_headers(
    record: "ConsumerRecord[bytes, bytes]",
    original: Callable[["ConsumerRecord[bytes, bytes]"], Awaitable[StreamMessage[Any]]],
) -> StreamMessage[Any]:
    """A FastStream parser that survives headers it cannot decode (non-UTF-8 bytes, null values).

    FastStream decodes every header as UTF-8 before any handler runs; a record it cannot decode
    would be neither processed nor rejected, and the next commit would pass it silently. Here
    FastStream sees readable headers while the handler still gets the record exactly as it came,
    so the consumer runtime can dead-letter it unchanged."""
    try:
        return await original(record)
    except (UnicodeDecodeError, AttributeError):
        readable = dataclasses.replace(
            record, headers=[(key, _readable(value)) for key, value in record.headers]
        )
        message = await original(readable)
        message.raw_message = record
        return message


async def tolerant_batch_headers(
    records: "tuple[ConsumerRecord[bytes, bytes], ...]",
    original: Callable[["tuple[ConsumerRecord[bytes, bytes], ...]"], Awaitable[StreamMessage[Any]]],
) -> StreamMessage[Any]:
    """`tolerant_headers` for a batch subscriber: one unreadable header in a batch must not stop
    the good records with it."""
    try:
        return await original(records)
    except (UnicodeDecodeError, AttributeError):
        readable = tuple(
            dataclasses.replace(
                record, headers=[(key, _readable(value)) for key, value in record.headers]
            )
            for record in records
        )
        message = await original(readable)
        message.raw_message = records
        return message


def records_of(message: KafkaMessage) -> "tuple[ConsumerRecord[bytes, bytes], ...]":
    """The aiokafka records behind a message of a batch subscriber (or a single-record one)."""
    records = message.raw_message
    return records if isinstance(records, tuple) else (records,)


def record_of(message: KafkaMessage) -> "ConsumerRecord[bytes, bytes]":
    """The aiokafka record behind a single-record message (topic, partition, offset, key)."""
    record = message.raw_message
    if isinstance(record, tuple):
        raise TypeError("record_of needs a single-record message, not a batch")
    return record


def assign_once(consumer: AIOKafkaConsumer, partitions: Sequence[TopicPartition]) -> None:
    """Assigns the partitions to the consumer unless they are its assignment already: assigned
    the same partitions again, a consumer may never return another record."""
    if consumer.assignment() != set(partitions):
        consumer.assign(list(partitions))


async def assigned_ends(
    consumer: AIOKafkaConsumer, partitions: Sequence[TopicPartition]
) -> dict[TopicPartition, int]:
    """The end offset of each partition, the partitions assigned to the consumer first, to stay
    (`assign_once`): asked about partitions of topics it does not track, a consumer learns of
    them one topic a retry, 100 ms apart (six seconds for the platform's sixty topics); assigned,
    in one request."""
    assign_once(consumer, partitions)
    ends: dict[TopicPartition, int] = await consumer.end_offsets(list(partitions))
    return ends
