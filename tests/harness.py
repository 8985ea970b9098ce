"""Small pieces every harness that runs the platform needs: the e2e fixture, `make bench` and
`make chaos` start the services and the gateways' sinks on free ports, check the broker answers,
and start consumer groups at the end of their topics so records of earlier runs on a reused
broker are not replayed."""

import asyncio
import contextlib
import os
import random
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
import uvicorn
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

from socialsvc_common.apikeys import Role, issue
from socialsvc_common.db import make_engine
from socialsvc_common.kafka import assigned_ends
from socialsvc_common.migrations import schemas, upgrade
from socialsvc_common.public_stream import coarse_since
from tests.forkserver import Forked

ROOT = Path(__file__).resolve().parents[1]


def worker_number() -> int:
    """This pytest-xdist worker's number (gw1: 1); 0 outside xdist."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return int(worker.removeprefix("gw")) if worker else 0


def worker_ports(every: range = range(20000, 32000)) -> range:
    """This pytest-xdist worker's share of the ports tests hand out: with `make test`'s two
    workers, one draws below 26000 and the other above, so they never draw the same port between
    a probe and a bind. A worker started to replace a crashed one (gw2 on) takes the share of its
    number modulo the workers, gw0's or gw1's."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    number = worker_number() % workers
    share = len(every) // workers
    return range(every.start + number * share, every.start + (number + 1) * share)


# Below Linux's ephemeral range (32768-60999), so no client connection takes a port between the
# probe and the server's bind; the project's own fixed ports there are left alone.
FREE_PORTS = worker_ports()
FIXED_PORTS = frozenset({25432, 25532, 25533, 29092, 29093, 29094, 29095})
_handed_out: set[int] = set()


def free_port() -> int:
    """A port nothing listens on now (the caller binds it soon after), never the same one twice
    in a process: the kernel's own choice (bind to 0) could give two servers of one platform the
    same port, and a client connection could take it before the server binds."""
    while True:
        port = random.choice(FREE_PORTS)
        if port in _handed_out or port in FIXED_PORTS:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port


SERVICES = ("intake", "eligibility", "assignment", "notifications")
# Beside the four: services that only read the platform's events (the e2e platform runs them too).
READ_MODELS = ("statistics",)
# The module a service runs as, where it is not named like the service.
MODULES = {"statistics": "ministry_statistics"}


def module_of(service: str) -> str:
    """What `python -m` runs for a service."""
    return MODULES.get(service, service)


@dataclass(frozen=True)
class Gateways:
    """Free ports for the local stand-ins of the SMS and e-gov inbox HTTP gateways and the SMTP
    server (`python -m notifications.sinks`), on `host`."""

    sms: int = field(default_factory=free_port)
    inbox: int = field(default_factory=free_port)
    smtp: int = field(default_factory=free_port)
    host: str = "127.0.0.1"

    @property
    def sms_url(self) -> str:
        return f"http://{self.host}:{self.sms}"

    @property
    def inbox_url(self) -> str:
        return f"http://{self.host}:{self.inbox}"

    def sinks_args(self, receipts_url: str, store: Path) -> list[str]:
        """`python -m` arguments of the sinks, confirming deliveries to `receipts_url`."""
        return [
            "notifications.sinks",
            "--host",
            self.host,
            *("--sms-port", str(self.sms), "--inbox-port", str(self.inbox)),
            *("--smtp-port", str(self.smtp), "--receipts-url", receipts_url),
            *("--store-dir", str(store)),
        ]


def service_env(
    service: str,
    *,
    bootstrap: str,
    database_url: str,
    port: int,
    gateways: Gateways,
    **settings: str,
) -> dict[str, str]:
    """The environment of one service process: broker, database, HTTP port, JSON logs and, for
    notifications, the gateways (at any hour: quiet hours have tests of their own); `settings`
    are more of the service's own, by their name without the prefix (`kafka_group_id=...`)."""
    prefix = service.upper() + "_"
    env = {
        prefix + "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        prefix + "DATABASE_URL": database_url,
        prefix + "HTTP_PORT": str(port),
        prefix + "LOG_JSON": "true",
    } | {prefix + name.upper(): value for name, value in settings.items()}
    if service == "notifications":
        env |= {
            "NOTIFICATIONS_SMS_GATEWAY_URL": gateways.sms_url,
            "NOTIFICATIONS_INBOX_GATEWAY_URL": gateways.inbox_url,
            "NOTIFICATIONS_SMTP_HOST": gateways.host,
            "NOTIFICATIONS_SMTP_PORT": str(gateways.smtp),
            "NOTIFICATIONS_QUIET_HOURS": "off",
        }
    return env


def drop_database(connection: psycopg.Connection, name: str, *, attempts: int = 20) -> None:
    """DROP DATABASE .. WITH (FORCE), again while an autovacuum worker is in it: PostgreSQL 15
    refuses to terminate that worker for a role that is not a superuser, and it soon ends."""
    for attempt in range(1, attempts + 1):
        try:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            return
        except psycopg.errors.InsufficientPrivilege:
            if attempt == attempts:
                raise
            time.sleep(0.5)


async def wait_answering(
    url: str,
    *,
    seconds: float = 60,
    headers: dict[str, str] | None = None,
    process: "subprocess.Popen[bytes] | Forked | None" = None,
) -> None:
    """Until GET `url` answers 200 (a server just started); fails after `seconds`, or at once
    when the server's `process` has ended."""
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient() as client:
        while True:
            try:
                if (await client.get(url, headers=headers)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if process is not None and process.poll() is not None:
                raise AssertionError(f"the server for {url} ended with {process.returncode}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{url} did not answer 200 within {seconds}s")
            await asyncio.sleep(0.2)


def reachable(address: str) -> bool:
    """Whether something accepts TCP connections at host:port."""
    host, port = address.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=2):
            return True
    except OSError:
        return False


async def partitions_of(
    bootstrap: str, names: list[str], wait_seconds: float = 15.0
) -> list[TopicPartition]:
    """Every partition of these topics; a topic still missing after `wait_seconds` is an error
    that names it (a broker's metadata may lag the topics just created for a while)."""
    deadline = time.monotonic() + wait_seconds
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        while True:
            described = await admin.describe_topics(names)
            missing = [t["topic"] for t in described if t["error_code"]]
            if not missing:
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"topics {missing} missing: create them first (make topics)")
            await asyncio.sleep(0.5)
    finally:
        await admin.close()
    return [TopicPartition(t["topic"], p["partition"]) for t in described for p in t["partitions"]]


async def end_offsets(bootstrap: str, names: list[str]) -> dict[TopicPartition, int]:
    """The end offset of every partition of these topics."""
    return await ends_of(bootstrap, await partitions_of(bootstrap, names))


async def ends_of(
    bootstrap: str, partitions: list[TopicPartition], **security: Any
) -> dict[TopicPartition, int]:
    """The end offset of each of these partitions (`security`: a secure cluster's client
    settings)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, **security)
    await consumer.start()
    try:
        return await assigned_ends(consumer, partitions)
    finally:
        await consumer.stop()


async def start_group_at_end(bootstrap: str, group: str, names: list[str]) -> None:
    """Commits a new group's offsets at the end of its topics."""
    ends = await end_offsets(bootstrap, names)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.assign(list(ends))
        await consumer.commit(ends)
    finally:
        await consumer.stop()


async def last_offsets(bootstrap: str, names: list[str]) -> dict[TopicPartition, int]:
    """The offset of the last record in every partition of these topics that has one."""
    return {tp: end - 1 for tp, end in (await end_offsets(bootstrap, names)).items() if end}


async def wait_committed(
    bootstrap: str, group: str, last: dict[TopicPartition, int], seconds: float
) -> None:
    """Waits until `group` has committed past each partition's offset in `last`: what it read up
    to there is applied. Fails naming the partitions still behind after `seconds`."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        deadline = time.monotonic() + seconds
        while True:
            committed = await admin.list_consumer_group_offsets(group)
            behind = {
                tp: (committed[tp].offset if tp in committed else None, offset)
                for tp, offset in last.items()
                if tp not in committed or committed[tp].offset <= offset
            }
            if not behind:
                return
            assert time.monotonic() < deadline, f"{group} still behind after {seconds}s: {behind}"
            await asyncio.sleep(0.5)
    finally:
        await admin.close()


def debian_tool(package: str, command: str) -> str:
    """The path of `command`, installed from Debian's `package` if missing (deploy/debian-tool)."""
    found = subprocess.run(
        [ROOT / "deploy" / "debian-tool", package, command],
        capture_output=True,
        text=True,
        check=True,
        timeout=900,
    )
    return found.stdout.strip()


@contextlib.asynccontextmanager
async def served(app: Any) -> AsyncIterator[int]:
    """Serves an ASGI app with uvicorn in this process; yields its port."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))  # bound here and handed over: no race for the port
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            await task
        await asyncio.sleep(0.01)
    try:
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        await task
        sock.close()


async def create_tables(engine: AsyncEngine, *models: type[SQLModel]) -> None:
    """Creates the tables of these models alone, for tests of one part on a scratch database;
    a service's tables come from its migrations (socialsvc_common.migrations)."""
    tables = [model.__table__ for model in models]  # type: ignore[attr-defined]
    async with engine.begin() as connection:
        await connection.run_sync(SQLModel.metadata.create_all, tables=tables)


async def migrate(service: str, url: str) -> str:
    """Brings a service's database to the head of its history, as `make migrate` does before
    the service starts (it refuses any other); returns the URL."""
    engine = make_engine(url)
    try:
        await upgrade(engine, schemas()[service])
    finally:
        await engine.dispose()
    return url


async def until(check: Callable[[], Awaitable[Any]], seconds: float = 90) -> Any:
    """What `check` returns once it is truthy, or its last answer after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        found = await check()
        if found or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.5)


# The provider a provider key of the test key stores acts for (one of the demo registry's).
TEST_PROVIDER = "ngo-umid-reabilitasiya-xetai"


def key_per_role(store: Path, prefix: str) -> dict[Role, str]:
    """One key of every role in the store at `store`, named `<prefix>-<role>`; by role. The
    provider's key acts for TEST_PROVIDER; the others have no scope."""
    return {
        role: issue(
            store,
            f"{prefix}-{role.value}",
            role,
            provider=TEST_PROVIDER if role is Role.PROVIDER else None,
        )
        for role in Role
    }


async def records_since(bootstrap: str, topic: str, since_ms: int) -> list[Any]:
    """Every record of `topic` published since `since_ms`, up to its end now; on a public
    application topic, whose record times are cut to the hour, since the start of that hour
    (`records_from` offsets taken at the start reads exactly what came after them)."""
    since = coarse_since(topic, datetime.fromtimestamp(since_ms / 1000, UTC))
    since_ms = int(since.timestamp() * 1000)
    partitions = await partitions_of(bootstrap, [topic])
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        ends = await assigned_ends(consumer, partitions)
        offsets = await consumer.offsets_for_times(dict.fromkeys(partitions, since_ms))
        starts = {tp: found.offset if (found := offsets.get(tp)) else ends[tp] for tp in partitions}
        return await _read(consumer, starts, ends)
    finally:
        await consumer.stop()


async def records_from(bootstrap: str, starts: dict[TopicPartition, int]) -> list[Any]:
    """Every record from these offsets (e.g. `end_offsets` taken before a run) to the end now."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        return await _read(consumer, starts, await assigned_ends(consumer, list(starts)))
    finally:
        await consumer.stop()


async def _read(
    consumer: AIOKafkaConsumer, starts: dict[TopicPartition, int], ends: dict[TopicPartition, int]
) -> list[Any]:
    """The records from `starts` to `ends`, by a consumer already assigned those partitions
    (`assigned_ends`)."""
    partitions = list(starts)
    for tp, offset in starts.items():
        consumer.seek(tp, offset)
    records: list[Any] = []
    while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
        for batch in (await consumer.getmany(timeout_ms=1000)).values():
            records += batch
    return records
