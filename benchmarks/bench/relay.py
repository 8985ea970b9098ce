"""The limit: records of the platform's sizes through a bare relay of four hops (four processes),
measured from the feed to the last hop by the records' broker timestamps."""

import asyncio
import itertools
import os
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from benchmarks.bench.infra import RELAY_TOPICS
from benchmarks.bench.processes import Sampler, launch
from benchmarks.bench.relay_hop import PRODUCER
from benchmarks.bench.stats import Summary, summarise
from tests.harness import end_offsets, start_group_at_end

ORIGIN = "bench_origin_ms"


@dataclass(frozen=True, slots=True)
class RelayResult:
    records: int
    seconds: float
    per_second: float
    latency: Summary  # feed to the last hop, in seconds

    def as_dict(self) -> dict[str, object]:
        return {
            "records": self.records,
            "seconds": self.seconds,
            "per_second": self.per_second,
            "latency_seconds": self.latency.as_dict(),
        }


async def feed(bootstrap: str, sizes: list[int], count: int) -> float:
    """Publishes `count` records of the given sizes (cycled) as fast as the broker takes them."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, **PRODUCER)
    await producer.start()
    try:
        started = time.time()
        pending = []
        for size in itertools.islice(itertools.cycle(sizes), count):
            headers = [(ORIGIN, str(int(time.time() * 1000)).encode())]
            pending.append(
                await producer.send(
                    RELAY_TOPICS[0].name, os.urandom(size), key=uuid.uuid4().bytes, headers=headers
                )
            )
        await asyncio.gather(*pending)
        return started
    finally:
        await producer.stop()


async def read_last_hop(
    bootstrap: str, count: int, since: dict[TopicPartition, int], within: float
) -> list[tuple[int, int]]:
    """(origin ms, last-hop broker timestamp ms) of up to `count` records on the last hop."""
    last = RELAY_TOPICS[-1].name
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [tp for tp in since if tp.topic == last]
        consumer.assign(partitions)
        for tp in partitions:
            consumer.seek(tp, since[tp])
        seen: list[tuple[int, int]] = []
        deadline = time.monotonic() + within
        while len(seen) < count and time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=1000)).values():
                seen += [(int(dict(r.headers)[ORIGIN]), r.timestamp) for r in records]
        return seen
    finally:
        await consumer.stop()


async def wait_ready(logs: Path, hops: int, within: float) -> None:
    deadline = time.monotonic() + within
    while not all("ready" in (logs / f"relay-{n}.log").read_text() for n in range(1, hops + 1)):
        if time.monotonic() > deadline:
            raise RuntimeError("the relay hops did not start; see the relay-*.log files")
        await asyncio.sleep(0.2)
    # A hop joins its group on its first poll; let all four settle before the feed.
    await asyncio.sleep(3)


async def run_relay(
    bootstrap: str, sizes: list[int], count: int, *, logs: Path, sampler: Sampler, within: float
) -> RelayResult:
    """`count` records of `sizes` fed to hop 0 and read from hop 4, each hop a process."""
    token = uuid.uuid4().hex[:8]
    names = [t.name for t in RELAY_TOPICS]
    since = await end_offsets(bootstrap, names)
    hops: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for n in range(1, len(names)):
            group = f"bench-relay-{token}-{n}"
            await start_group_at_end(bootstrap, group, [names[n - 1]])
            module = ["benchmarks.bench.relay_hop", bootstrap, group, names[n - 1], names[n]]
            hops[f"relay-{n}"] = launch(f"relay-{n}", module, {}, logs)
            sampler.watch(f"relay-{n}", hops[f"relay-{n}"].pid)
        await wait_ready(logs, len(hops), within)
        started = await feed(bootstrap, sizes, count)
        seen = await read_last_hop(bootstrap, count, since, within)
    finally:
        for name, hop in hops.items():
            sampler.forget(name)
            hop.send_signal(signal.SIGTERM)
            hop.wait(timeout=30)
    if not seen:
        raise RuntimeError("no record came through the bare relay; see the relay-*.log files")
    seconds = max(stamp for _, stamp in seen) / 1000 - started
    return RelayResult(
        records=len(seen),
        seconds=seconds,
        per_second=len(seen) / seconds,
        latency=summarise([(stamp - origin) / 1000 for origin, stamp in seen]),
    )
