"""One hop of the bare relay, as its own process: consume a topic, produce every record unchanged
to the next, commit a batch's offsets once all its records are acknowledged. No logic, no
database: the limit of a Python consume-produce stage on this broker with the platform's safe
settings (idempotent producer, acks=all, offsets committed only after the produce), done the fast
way: batches capped by a record count, a lingering producer with large batches, and several
consumed batches in flight while the next is fetched.

    python -m benchmarks.bench.relay_hop BOOTSTRAP GROUP FROM_TOPIC TO_TOPIC
"""

import asyncio
import signal
import sys
from collections import deque
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition

MAX_RECORDS = 2000  # a batch: one getmany, sent whole, committed once
IN_FLIGHT = 4  # batches sent and not yet acknowledged while the next is fetched
PRODUCER: dict[str, Any] = {
    "enable_idempotence": True,
    "acks": "all",
    "linger_ms": 5,
    "max_batch_size": 256 * 1024,  # aiokafka's 16 KiB default makes a request per ~16 records
}

Batch = dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]
Pending = deque[tuple["asyncio.Future[list[Any]]", dict[TopicPartition, int]]]


async def forward(
    producer: AIOKafkaProducer, target: str, batch: Batch
) -> "asyncio.Future[list[Any]]":
    """Sends every record of `batch` without waiting for the broker; one future for all acks."""
    sent = [
        await producer.send(target, record.value, key=record.key, headers=list(record.headers))
        for records in batch.values()
        for record in records
    ]
    return asyncio.gather(*sent)


async def settle(consumer: AIOKafkaConsumer, pending: Pending, *, all_of_them: bool) -> None:
    """Commits, oldest first, the batches whose records are acknowledged; waits for the oldest
    when too many are in flight (or for all when `all_of_them`)."""
    offsets: dict[TopicPartition, int] = {}
    while pending and (pending[0][0].done() or all_of_them or len(pending) >= IN_FLIGHT):
        acks, after = pending.popleft()
        await acks
        offsets.update(after)
    if offsets:
        await consumer.commit(offsets)


async def relay(bootstrap: str, group: str, source: str, target: str) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    consumer = AIOKafkaConsumer(
        source,
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, **PRODUCER)
    await consumer.start()
    await producer.start()
    print("relay hop ready", flush=True)
    pending: Pending = deque()
    try:
        while not stop.is_set():
            batch = await consumer.getmany(timeout_ms=100, max_records=MAX_RECORDS)
            if batch:
                after = {tp: records[-1].offset + 1 for tp, records in batch.items()}
                pending.append((await forward(producer, target, batch), after))
            # An idle poll flushes every batch still waiting, so the tail is committed promptly.
            await settle(consumer, pending, all_of_them=not batch)
        await settle(consumer, pending, all_of_them=True)
    finally:
        await producer.stop()
        await consumer.stop()


if __name__ == "__main__":
    asyncio.run(relay(*sys.argv[1:5]))
