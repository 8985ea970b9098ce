"""What goes wrong in each scenario, run beside the load. Each fault waits for a share of the
load to be accepted, so it lands during the load whatever its size, and notes what it did."""

import asyncio
import signal
from dataclasses import dataclass, field
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient

from chaos.hosts import Network
from chaos.infra import Kafka, Postgres
from chaos.inject import Duplication, Injected, duplicate_events, inject_malformed
from chaos.kafka_view import INPUTS, Broker, committed
from chaos.load import Progress
from chaos.platform import Platform
from socialsvc_common.contract import topics
from tests.harness import SERVICES


@dataclass
class Context:
    platform: Platform
    kafka: Kafka
    progress: Progress
    load_done: asyncio.Event
    victim: Postgres | None = None
    victim_service: str = "eligibility"
    broker_down_seconds: float = 120.0
    pause_seconds: float = 60.0
    network: Network | None = None
    cut_seconds: float = 60.0
    notes: dict[str, Any] = field(default_factory=dict)
    injected: list[Injected] = field(default_factory=list)
    duplication: Duplication | None = None


async def at(context: Context, share: float) -> None:
    await context.progress.reached(share).wait()


async def kill_three_times(context: Context, service: str) -> None:
    """SIGKILL at a quarter, half and three quarters of the load; started again a second later."""
    for share in (0.25, 0.5, 0.75):
        await at(context, share)
        await context.platform.stop(service, signal.SIGKILL)
        await asyncio.sleep(1)
        await context.platform.restart(service)
        context.notes["kills"] = context.notes.get("kills", 0) + 1


async def killed_by_hook(context: Context, service: str, grace: float = 180.0) -> None:
    """Waits until the armed crash point has killed the service three times (the monitor starts
    it again each time), or until `grace` seconds after the load."""
    process = context.platform.processes[service]

    def kills() -> int:
        return sum(code == -signal.SIGKILL for code in process.exits)

    await context.load_done.wait()
    for _ in range(int(grace)):
        if kills() >= 3:
            break
        await asyncio.sleep(1)
    await context.platform.wait_healthy(service)
    context.notes["kills"] = kills()


async def leader_of(broker: Broker, topic: str, partition: int) -> int:
    admin = AIOKafkaAdminClient(**broker.clients())
    await admin.start()
    try:
        described = await admin.describe_topics([topic])
    finally:
        await admin.close()
    leader: int = described[0]["partitions"][partition]["leader"]
    return leader


async def kill_leaders(context: Context) -> None:
    """SIGKILL the leader of a partition of application.received five times; back after 5 s."""
    killed: list[int] = []
    for round_, share in enumerate((0.1, 0.3, 0.5, 0.7, 0.9)):
        await at(context, share)
        node = await leader_of(context.kafka.broker, topics.APPLICATION_RECEIVED.name, round_ % 6)
        await asyncio.to_thread(context.kafka.kill, node)
        killed.append(node)
        await asyncio.sleep(5)
        await asyncio.to_thread(context.kafka.start)
    context.notes["leaders killed"] = killed


async def broker_down(context: Context) -> None:
    await at(context, 0.2)
    before = context.progress.accepted
    await asyncio.to_thread(context.kafka.stop)
    await asyncio.sleep(context.broker_down_seconds)
    context.notes["accepted while the broker was down"] = context.progress.accepted - before
    await asyncio.to_thread(context.kafka.start)
    context.notes["broker down (s)"] = context.broker_down_seconds


async def pause_database(context: Context) -> None:
    """SIGSTOP the victim service's PostgreSQL; watch its CPU and its group's offsets."""
    if context.victim is None:
        raise RuntimeError("pg-pause needs the victim's own PostgreSQL")
    await at(context, 0.3)
    loop = asyncio.get_running_loop()
    name = context.victim_service
    cpu, started = context.platform.cpu_seconds(name), loop.time()
    context.victim.pause()
    try:
        await asyncio.sleep(min(5.0, context.pause_seconds / 2))
        early = await committed(context.kafka.broker, name)
        await asyncio.sleep(context.pause_seconds - min(5.0, context.pause_seconds / 2))
        late = await committed(context.kafka.broker, name)
        used = context.platform.cpu_seconds(name) - cpu
    finally:
        context.victim.resume()
    wall = loop.time() - started
    context.notes["paused service"] = name
    context.notes["paused (s)"] = round(wall, 1)
    context.notes["CPU of the waiting service (% of a core)"] = round(100 * used / wall, 1)
    context.notes["offsets committed while paused"] = sum(
        late.get(tp, 0) - early.get(tp, 0) for tp in late if tp.topic in INPUTS[name]
    )


async def cut_off(context: Context, host: str) -> None:
    """Cuts `host` off the network at a quarter of the load, for `cut_seconds`: its processes
    run on, unreachable, and reach nothing."""
    if context.network is None:
        raise RuntimeError("cutting a host off needs the platform on hosts of their own")
    await at(context, 0.25)
    loop = asyncio.get_running_loop()
    before, started = context.progress.accepted, loop.time()
    context.network.cut(host)
    try:
        await asyncio.sleep(context.cut_seconds)
    finally:
        context.network.restore(host)
    context.notes["host cut off"] = host
    context.notes["cut off (s)"] = round(loop.time() - started, 1)
    context.notes["accepted while it was cut off"] = context.progress.accepted - before


async def duplicates(context: Context) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(duplicate_events(context.kafka.broker, 0.1, stop))
    await context.load_done.wait()
    await asyncio.sleep(10)
    stop.set()
    context.duplication = await task
    context.notes["events seen"] = context.duplication.seen
    context.notes["events published twice"] = context.duplication.published_twice


async def malformed(context: Context) -> None:
    await at(context, 0.5)
    context.injected = await inject_malformed(context.kafka.broker, 200)


async def scale(context: Context) -> None:
    """Two extra replicas of every service from 20% to 60% of the load, one more from 80%."""
    platform = context.platform
    await at(context, 0.2)
    extra = [f"{service}-r{n}" for service in SERVICES for n in (2, 3)]
    for name in extra:
        platform.add(name, name.split("-")[0])
        platform.launch(name)
    await asyncio.gather(*(platform.wait_healthy(name) for name in extra))
    await at(context, 0.6)
    codes = await asyncio.gather(*(platform.stop(name, signal.SIGTERM) for name in extra))
    context.notes["replicas stopped (exit codes)"] = sorted(set(codes))
    await at(context, 0.8)
    for service in SERVICES:
        platform.add(f"{service}-r4", service)
        platform.launch(f"{service}-r4")
    context.notes["replicas at most"] = 3


async def rolling_restart(context: Context) -> None:
    """SIGTERM every service in turn, waiting for each to be healthy again before the next."""
    await at(context, 0.3)
    codes: dict[str, int] = {}
    for service in SERVICES:
        codes[service] = await context.platform.stop(service, signal.SIGTERM)
        await context.platform.restart(service)
    context.notes["exit codes on SIGTERM"] = codes
