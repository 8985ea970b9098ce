"""A consumer under test on the real broker and PostgreSQL: topics of its own, a database with
the inbox and outbox tables, sessions and a producer (not yet started)."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from socialsvc_common.admin import ensure_topics
from socialsvc_common.contract import payloads as p
from socialsvc_common.contract.topics import Topic
from socialsvc_common.db import make_engine, session_factory
from socialsvc_common.inbox import InboxRow
from socialsvc_common.kafka import Producer
from socialsvc_common.outbox import OutboxRow
from socialsvc_common.settings import ServiceSettings
from tests.harness import create_tables


@dataclass(frozen=True)
class Rig:
    name: str
    source: Topic
    output: Topic
    dead: Topic
    settings: ServiceSettings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    producer: Producer


async def consumer_rig(bootstrap: str, database_url: str, name: str, *tables: Any) -> Rig:
    """One-partition `in`, `out` and dead-letter topics named after `name`; `tables` are created
    beside the inbox and outbox. The caller disposes of the engine."""
    source = Topic(f"test.{name}.in.v1", p.PlacementReleased, "in", partitions=1)
    output = Topic(f"test.{name}.out.v1", p.PlacementReleased, "out", partitions=1)
    dead = Topic(f"test.{name}.dead.v1", p.DeadLetter, "dead", partitions=1)
    await ensure_topics([bootstrap], [source, output, dead])
    settings = ServiceSettings(kafka_bootstrap_servers=bootstrap)
    engine = make_engine(database_url)
    await create_tables(engine, *tables, InboxRow, OutboxRow)
    return Rig(
        name,
        source,
        output,
        dead,
        settings,
        engine,
        session_factory(engine),
        Producer(settings, client_id=name),
    )
