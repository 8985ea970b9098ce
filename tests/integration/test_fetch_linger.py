"""The consumer's fetch linger on the real broker: records that trickle in come to a service's
batch handler together when the broker may hold its fetch, and one at a time when it may not."""

import asyncio
import time
from collections.abc import Callable

import pytest
from aiokafka import AIOKafkaProducer
from faststream.kafka import KafkaMessage

from socialsvc_common.admin import ensure_topics
from socialsvc_common.contract import payloads as p
from socialsvc_common.contract.topics import Topic
from socialsvc_common.kafka import keep_raw, make_broker, subscriber, tolerant_batch_headers
from socialsvc_common.service import batch_options
from socialsvc_common.settings import ServiceSettings

pytestmark = pytest.mark.integration

RECORDS = 12
APART_SECONDS = 0.03


async def batch_sizes(bootstrap: str, name: str, linger_ms: int) -> list[int]:
    """The sizes of the batches a service's subscriber (as `Runtime` makes it) is handed while
    RECORDS records arrive APART_SECONDS after each other."""
    topic = Topic(f"test.{name}.v1", p.PlacementReleased, "in", partitions=1)
    await ensure_topics([bootstrap], [topic])
    settings = ServiceSettings(kafka_bootstrap_servers=bootstrap)
    broker = make_broker(settings, client_id=name)
    sizes: list[int] = []

    @subscriber(
        broker,
        topic,
        group_id=name,
        parser=tolerant_batch_headers,
        decoder=keep_raw,
        **batch_options(linger_ms),
    )
    async def on_records(message: KafkaMessage) -> None:
        sizes.append(len(message.raw_message))

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    await broker.start()
    try:
        # The group has its partition (and its offsets start at the end) before records come.
        await producer.send_and_wait(topic.name, b"first")
        deadline = time.monotonic() + 30
        while not sizes:
            assert time.monotonic() < deadline, "the subscriber never took its first record"
            await asyncio.sleep(0.05)
        sizes.clear()
        for number in range(RECORDS):
            await producer.send_and_wait(topic.name, str(number).encode())
            await asyncio.sleep(APART_SECONDS)
        deadline = time.monotonic() + 30
        while sum(sizes) < RECORDS:
            assert time.monotonic() < deadline, f"only {sum(sizes)} of {RECORDS} records came"
            await asyncio.sleep(0.05)
    finally:
        await broker.stop()
        await producer.stop()
    return sizes


async def test_a_linger_gathers_trickling_records_into_few_batches(
    bootstrap: str, unique: Callable[[str], str]
) -> None:
    # 12 records over about 0.4 s: a linger of a second holds the fetch until they are all there
    # (each send waits for the broker, so they do arrive apart).
    lingering = await batch_sizes(bootstrap, unique("linger"), 1000)
    assert len(lingering) <= 2, lingering
    at_once = await batch_sizes(bootstrap, unique("no-linger"), 0)
    # Without one, records 30 ms apart come apart (a busy machine may bunch a few).
    assert len(at_once) >= RECORDS // 3, at_once
