"""The broker factory against the real broker: delivery, safe producer settings, no early commit."""

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from faststream.kafka import KafkaBroker, KafkaMessage

from socialsvc_common.admin import ensure_topics
from socialsvc_common.contract.payloads import DeadLetter
from socialsvc_common.contract.topics import Topic
from socialsvc_common.kafka import make_broker, record_of, subscriber
from socialsvc_common.settings import ServiceSettings

pytestmark = pytest.mark.integration
HERE = Path(__file__).parent
# aiokafka's background auto-commit runs every 5 s; waiting longer proves none happened.
LONGER_THAN_AUTO_COMMIT_S = 6.5


@pytest.fixture
async def topic(bootstrap: str, unique: Callable[[str], str]) -> Topic:
    made = Topic(unique("test.factory") + ".v1", DeadLetter, "test topic", partitions=1)
    await ensure_topics([bootstrap], [made])
    return made


@pytest.fixture
async def admin(bootstrap: str) -> AsyncIterator[AIOKafkaAdminClient]:
    client = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await client.start()
    yield client
    await client.close()


def factory_broker(bootstrap: str) -> KafkaBroker:
    return make_broker(ServiceSettings(kafka_bootstrap_servers=bootstrap), client_id="test")


async def committed(admin: AIOKafkaAdminClient, group: str, topic: Topic) -> int | None:
    offsets = await admin.list_consumer_group_offsets(group)
    meta = offsets.get(TopicPartition(topic.name, 0))
    return None if meta is None or meta.offset < 0 else meta.offset


async def test_publish_and_consume_with_idempotent_acks_all_producer(
    bootstrap: str, topic: Topic, unique: Callable[[str], str]
) -> None:
    broker = factory_broker(bootstrap)
    received: asyncio.Queue[tuple[dict[str, str], bytes | None, str]] = asyncio.Queue()

    @subscriber(broker, topic, group_id=unique("group"))
    async def handle(body: dict[str, str], message: KafkaMessage) -> None:
        await received.put((body, record_of(message).key, message.headers["ce_type"]))

    await broker.start()
    try:
        await broker.publish(
            {"district": "Xətai"}, topic.name, key=b"app-1", headers={"ce_type": "test.sent"}
        )
        body, key, ce_type = await asyncio.wait_for(received.get(), timeout=30)
        producer = broker.config.producer._producer.producer  # type: ignore[attr-defined]
    finally:
        await broker.stop()
    assert (body, key, ce_type) == ({"district": "Xətai"}, b"app-1", "test.sent")
    assert producer._sender._acks == -1
    # The broker granted an idempotent producer id: retries cannot duplicate a record.
    assert producer._txn_manager is not None
    assert producer._txn_manager.producer_id >= 0


async def test_a_failing_handler_gets_the_record_again_and_nothing_is_skipped(
    bootstrap: str, topic: Topic, unique: Callable[[str], str]
) -> None:
    broker = factory_broker(bootstrap)
    seen: list[tuple[int, str]] = []
    done = asyncio.Event()

    @subscriber(broker, topic, group_id=unique("group"))
    async def handle(body: str, message: KafkaMessage) -> None:
        seen.append((record_of(message).offset, body))
        if len(seen) == 1:
            raise RuntimeError("the database went away mid-record")
        if body == "second":
            done.set()

    await broker.start()
    try:
        await broker.publish("first", topic.name, key=b"a")
        await broker.publish("second", topic.name, key=b"a")
        await asyncio.wait_for(done.wait(), timeout=30)
    finally:
        await broker.stop()
    assert seen == [(0, "first"), (0, "first"), (1, "second")]


def start_consumer(
    bootstrap: str, topic: Topic, group: str, mode: str, marker: Path
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            str(HERE / "crash_consumer.py"),
            bootstrap,
            topic.name,
            group,
            mode,
            str(marker),
        ],
        env={**os.environ, "PYTHONPATH": str(HERE)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_for_lines(marker: Path, count: int, timeout: float = 40) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = marker.read_text().splitlines() if marker.exists() else []
        if len(lines) >= count:
            return lines
        time.sleep(0.2)
    raise AssertionError(f"consumer saw {marker.read_text() if marker.exists() else 'nothing'}")


async def test_a_consumer_killed_mid_record_sees_it_again_after_restart(
    bootstrap: str,
    topic: Topic,
    admin: AIOKafkaAdminClient,
    tmp_path: Path,
    unique: Callable[[str], str],
) -> None:
    group = unique("group")
    marker = tmp_path / "seen.txt"
    broker = factory_broker(bootstrap)
    await broker.connect()
    await broker.publish("only record", topic.name, key=b"app-1")
    await broker.stop()

    crashing = start_consumer(bootstrap, topic, group, "hang", marker)
    try:
        assert await asyncio.to_thread(wait_for_lines, marker, 1) == ["0:0"]
        await asyncio.sleep(LONGER_THAN_AUTO_COMMIT_S)
        assert await committed(admin, group, topic) is None
    finally:
        crashing.send_signal(signal.SIGKILL)
        crashing.wait(timeout=10)

    restarted = start_consumer(bootstrap, topic, group, "finish", marker)
    try:
        assert await asyncio.to_thread(wait_for_lines, marker, 2) == ["0:0", "0:0"]
        deadline = time.monotonic() + 20
        while await committed(admin, group, topic) != 1 and time.monotonic() < deadline:
            await asyncio.sleep(0.3)
        assert await committed(admin, group, topic) == 1
    finally:
        restarted.send_signal(signal.SIGTERM)
        assert restarted.wait(timeout=30) == 0
