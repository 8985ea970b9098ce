"""The outbox relay survives a producer that can no longer send, on the real broker and PostgreSQL.

After a broker outage aiokafka's idempotent producer can be left for good without a working sender:
either every send fails (OutOfOrderSequenceNumber, its sender task dead) or sends are taken and
never answered. The relay must renew the producer and publish the rows, not retry for ever.
"""

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.errors import OutOfOrderSequenceNumber
from sqlmodel import select

from socialsvc_common.admin import ensure_topics
from socialsvc_common.contract import payloads as p
from socialsvc_common.contract.envelope import Event, new_event
from socialsvc_common.contract.topics import Topic
from socialsvc_common.db import make_engine, session_factory, transaction
from socialsvc_common.kafka import Producer
from socialsvc_common.outbox import OutboxRelay, OutboxRow, add_events
from socialsvc_common.settings import ServiceSettings
from tests.harness import create_tables

pytestmark = pytest.mark.integration


async def never_answered(*_: Any, **__: Any) -> "asyncio.Future[None]":
    return asyncio.get_running_loop().create_future()


async def out_of_order(*_: Any, **__: Any) -> None:
    raise OutOfOrderSequenceNumber


def wedge_by_stopping_the_sender(producer: Producer) -> None:
    # What an outage leaves behind: the client's sender task is gone, sends wait for ever.
    producer.client._sender.sender_task.cancel()


def refuse_every_send(producer: Producer) -> None:
    producer.client.send = out_of_order


def releases(topic: Topic, count: int) -> list[Event]:
    """`count` releases of one application's placement, in order."""
    application = uuid4()
    return [
        new_event(
            topic,
            p.PlacementReleased(
                application_id=application,
                placement_id=uuid4(),
                provider_id="hc-xetai",
                reason=f"step {n}",
                released_at=datetime.now(UTC),
            ),
            producer="test",
            application_id=application,
        )
        for n in range(count)
    ]


async def values_on(bootstrap: str, topic: str, count: int) -> list[bytes]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    found: list[bytes] = []
    try:
        deadline = asyncio.get_running_loop().time() + 30
        while len(found) < count and asyncio.get_running_loop().time() < deadline:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                found += [r.value for r in records if r.value is not None]
    finally:
        await consumer.stop()
    return found


@pytest.mark.parametrize(
    "break_producer",
    [wedge_by_stopping_the_sender, refuse_every_send],
    ids=["sends-never-answered", "out-of-order-sequence"],
)
async def test_a_broken_producer_is_renewed_and_the_rows_published_in_order(
    bootstrap: str,
    fresh_postgres: str,
    unique: Callable[[str], str],
    break_producer: Callable[[Producer], None],
) -> None:
    name = unique("relay")
    topic = Topic(f"test.{name}.v1", p.PlacementReleased, "out", partitions=1)
    await ensure_topics([bootstrap], [topic])
    engine = make_engine(fresh_postgres)
    await create_tables(engine, OutboxRow)
    sessions = session_factory(engine)
    events = releases(topic, 3)
    async with transaction(sessions) as session:
        await add_events(session, events)
    producer = Producer(ServiceSettings(kafka_bootstrap_servers=[bootstrap]), client_id=name)
    await producer.start()
    relay = OutboxRelay(sessions, producer, publish_timeout_seconds=3)
    try:
        broken = producer.client
        break_producer(producer)
        with pytest.raises((TimeoutError, OutOfOrderSequenceNumber)):
            await relay.relay_once()
        assert producer.client is not broken
        async with sessions() as session:
            rows = (await session.exec(select(OutboxRow))).all()
        assert [row.sent_at for row in rows] == [None, None, None]
        assert await relay.relay_once() == 3
        async with sessions() as session:
            rows = (await session.exec(select(OutboxRow))).all()
        # Sent rows are cleared: the table holds only what is still to be sent.
        assert rows == []
    finally:
        await producer.stop()
        await engine.dispose()
    published = await values_on(bootstrap, topic.name, 3)
    assert published == [event.value() for event in events]


@pytest.mark.parametrize(
    "break_producer",
    [wedge_by_stopping_the_sender, refuse_every_send],
    ids=["sends-never-answered", "out-of-order-sequence"],
)
async def test_a_dead_letter_is_sent_by_a_renewed_producer_when_asked_again(
    bootstrap: str, unique: Callable[[str], str], break_producer: Callable[[Producer], None]
) -> None:
    topic = Topic(f"test.{unique('dead')}.v1", p.DeadLetter, "dead letters", partitions=1)
    await ensure_topics([bootstrap], [topic])
    producer = Producer(ServiceSettings(kafka_bootstrap_servers=[bootstrap]), client_id="dead")
    await producer.start()
    letter = (topic.name, b"key", b"not json", [("dlq_reason", b"InvalidRecord")])
    try:
        break_producer(producer)
        with pytest.raises((TimeoutError, OutOfOrderSequenceNumber)):
            await producer.deliver([letter], within_seconds=3)
        await producer.deliver([letter], within_seconds=30)
    finally:
        await producer.stop()
    assert await values_on(bootstrap, topic.name, 1) == [b"not json"]
