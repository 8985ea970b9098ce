"""Bad traffic mixed into the load: events published a second time, and malformed records."""

import asyncio
import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from chaos.kafka_view import Broker, header, partitions_of
from socialsvc_common.contract import topics
from socialsvc_common.contract.envelope import Envelope, event_type

DUPLICATED_TOPICS = [
    topics.APPLICATION_RECEIVED,
    topics.DECISION_MADE,
    topics.PLACEMENT_MADE,
    topics.PLACEMENT_WAITLISTED,
]
MALFORMED_TOPICS = [
    topics.EGOV_APPLICATION_SUBMITTED,
    topics.APPLICATION_RECEIVED,
    topics.DECISION_MADE,
    topics.PLACEMENT_MADE,
]


@dataclass
class Duplication:
    seen: int = 0
    published_twice: int = 0
    done: set[str] = field(default_factory=set)


def _chosen(event_id: str, share: float) -> bool:
    # By the event id, not at random: the copy itself must not be copied again.
    digest = int(hashlib.sha256(event_id.encode()).hexdigest()[:8], 16)
    return digest < share * 0xFFFFFFFF


async def duplicate_events(broker: Broker, share: float, stop: asyncio.Event) -> Duplication:
    """Publishes `share` of the events on the journey topics a second time, unchanged, until
    `stop` is set: what a producer retry or an outbox relay crash does."""
    stats = Duplication()
    partitions = await partitions_of(broker, [t.name for t in DUPLICATED_TOPICS])
    consumer = AIOKafkaConsumer(**broker.clients(), enable_auto_commit=False)
    producer = AIOKafkaProducer(**broker.clients(), enable_idempotence=True, acks="all")
    await consumer.start()
    await producer.start()
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        while not stop.is_set():
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                for record in batch:
                    event_id = header(record, "ce_id") or ""
                    if event_id in stats.done:
                        continue
                    stats.done.add(event_id)
                    stats.seen += 1
                    if _chosen(event_id, share):
                        await producer.send_and_wait(
                            record.topic, record.value, key=record.key, headers=list(record.headers)
                        )
                        stats.published_twice += 1
    finally:
        await producer.stop()
        await consumer.stop()
    return stats


@dataclass(frozen=True)
class Injected:
    topic: str
    partition: int
    offset: int
    kind: str
    timestamp_ms: int


def _headers(topic_name: str) -> list[tuple[str, bytes]]:
    event_id = uuid.uuid4()
    envelope = Envelope(
        event_id=event_id,
        type=event_type(topics.by_name(topic_name)),
        schema_version="1.0",
        time=datetime.now(UTC),
        source="socialsvc/chaos",
        application_id=uuid.uuid4(),
        correlation_id=event_id,
    )
    return envelope.to_headers()


def malformed(index: int, topic_name: str) -> tuple[str, bytes | None, list[tuple[str, bytes]]]:
    """(kind, value, headers) of the index-th bad record: five kinds in turn."""
    good_headers = _headers(topic_name)
    without_id = [(key, value) for key, value in good_headers if key != "ce_id"]
    kinds: list[tuple[str, bytes | None, list[tuple[str, bytes]]]] = [
        ("not-json", b"{this is not json", good_headers),
        ("schema-invalid", json.dumps({"application_id": "not-a-uuid"}).encode(), good_headers),
        ("no-envelope", b"{}", [("content-type", b"application/json")]),
        ("undecodable-header", b"{}", [*without_id, ("ce_id", b"\xff\xfe\xfd")]),
        ("no-value", None, good_headers),
    ]
    return kinds[index % len(kinds)]


async def inject_malformed(broker: Broker, count: int) -> list[Injected]:
    """Publishes `count` malformed or schema-invalid records across the consumed topics."""
    producer = AIOKafkaProducer(**broker.clients(), enable_idempotence=True, acks="all")
    await producer.start()
    injected: list[Injected] = []
    try:
        for index in range(count):
            topic = MALFORMED_TOPICS[index % len(MALFORMED_TOPICS)].name
            kind, value, headers = malformed(index // len(MALFORMED_TOPICS), topic)
            meta: Any = await producer.send_and_wait(
                topic, value, key=str(uuid.uuid4()).encode(), headers=headers
            )
            injected.append(Injected(topic, meta.partition, meta.offset, kind, meta.timestamp))
            await asyncio.sleep(0.01)
    finally:
        await producer.stop()
    return injected
