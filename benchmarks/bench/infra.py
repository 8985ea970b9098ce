"""The benchmark's own broker (deploy/kafka/kafkactl's `bench` deployment), its topics, and fresh
PostgreSQL databases for one run."""

import asyncio
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from pydantic import BaseModel

from socialsvc_common.admin import ensure_topics
from socialsvc_common.contract.topics import REGISTRY, Topic
from socialsvc_common.db import database_named, libpq_url
from tests.harness import SERVICES, drop_database, reachable

ROOT = Path(__file__).resolve().parents[2]
KAFKACTL = ROOT / "deploy" / "kafka" / "kafkactl"
BENCH_BOOTSTRAP = "127.0.0.1:9292"
RELAY_HOPS = 4
RELAY_TOPICS = tuple(
    Topic(f"bench.relay.hop{n}.v1", BaseModel, "bare relay hop", retention_ms=3_600_000)
    for n in range(RELAY_HOPS + 1)
)
PERF_TOPIC = Topic(
    "bench.producer.perf.v1", BaseModel, "ProducerPerformance", retention_ms=3_600_000
)


@dataclass
class Broker:
    bootstrap: str
    started: bool  # by this run, which then stops it

    def pid(self) -> int | None:
        """The broker's pid when it is kafkactl's bench deployment, to measure it."""
        path = ROOT / "var" / "kafka" / "bench" / "node-1.pid"
        return (
            int(path.read_text()) if self.bootstrap == BENCH_BOOTSTRAP and path.exists() else None
        )

    def stop(self) -> None:
        if self.started:
            subprocess.run([str(KAFKACTL), "stop", "bench"], check=True)  # noqa: S603


def start_broker(bootstrap: str | None) -> Broker:
    """The broker at `bootstrap`, or the bench broker: reused if it runs, else started on empty
    storage so every run begins alike."""
    if bootstrap is not None:
        return Broker(bootstrap, started=False)
    if reachable(BENCH_BOOTSTRAP):
        return Broker(BENCH_BOOTSTRAP, started=False)
    subprocess.run([str(KAFKACTL), "wipe", "bench"], check=True)  # noqa: S603
    subprocess.run([str(KAFKACTL), "start", "bench"], check=True)  # noqa: S603
    return Broker(BENCH_BOOTSTRAP, started=True)


async def create_topics(bootstrap: str) -> None:
    await ensure_topics([bootstrap], [*REGISTRY, *RELAY_TOPICS, PERF_TOPIC])


@contextmanager
def databases(admin_url: str, names: list[str], *, keep: bool = False) -> Iterator[dict[str, str]]:
    """Fresh databases by name (their SQLAlchemy URLs), dropped when the run ends unless `keep`."""
    plain = libpq_url(admin_url)
    with psycopg.connect(plain, autocommit=True) as connection:
        for name in names:
            connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield {name: database_named(admin_url, name) for name in names}
    finally:
        if keep:
            print(f"bench: databases kept: {', '.join(names)}")
        else:
            with psycopg.connect(plain, autocommit=True) as connection:
                for name in names:
                    drop_database(connection, name)


@asynccontextmanager
async def prepared(
    bootstrap: str | None, database_url: str, *, keep: bool = False
) -> AsyncIterator[tuple[Broker, dict[str, str]]]:
    """The broker (started when none is named, and stopped again) with every topic, and a fresh
    database for each service (their URLs by service), dropped at the end unless `keep`."""
    broker = await asyncio.to_thread(start_broker, bootstrap)
    try:
        await create_topics(broker.bootstrap)
        token = uuid.uuid4().hex[:8]
        names = {service: f"bench_{token}_{service}" for service in SERVICES}
        with databases(database_url, list(names.values()), keep=keep) as made:
            yield broker, {service: made[name] for service, name in names.items()}
    finally:
        await asyncio.to_thread(broker.stop)


def commits_of(urls: dict[str, str]) -> dict[str, int]:
    """PostgreSQL's count of committed transactions in each service's database (by service), read
    after the services stopped, so every backend has reported its own."""
    names = {url.rsplit("/", 1)[1]: service for service, url in urls.items()}
    first = next(iter(urls.values()))
    with psycopg.connect(libpq_url(first), autocommit=True) as connection:
        rows = connection.execute(
            "SELECT datname, xact_commit FROM pg_stat_database WHERE datname = ANY(%s)",
            [list(names)],
        ).fetchall()
    return {names[name]: int(commits) for name, commits in rows}
