"""One hop of the bare relay, as its own process: consume a topic, produce every record unchanged
to the next, commit after the produce is acknowledged. No logic, no database: the limit of a
Python consume-produce stage on this broker with the platform's safe settings.

    python -m benchmarks.bench.relay_hop BOOTSTRAP GROUP FROM_TOPIC TO_TOPIC
"""

import asyncio
import signal
import sys

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer


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
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, enable_idempotence=True, acks="all", linger_ms=5
    )
    await consumer.start()
    await producer.start()
    print("relay hop ready", flush=True)
    try:
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=200, max_records=1000)
            sent = [
                await producer.send(
                    target, record.value, key=record.key, headers=list(record.headers)
                )
                for records in batches.values()
                for record in records
            ]
            if sent:
                await asyncio.gather(*sent)
                await consumer.commit()
    finally:
        await producer.stop()
        await consumer.stop()


if __name__ == "__main__":
    asyncio.run(relay(*sys.argv[1:5]))
