"""The outbox relay's pass on each database path, on the real broker: on asyncpg it runs below
SQLAlchemy (`driver_transaction`), on psycopg and SQLite through a session. Each publishes the
unsent rows in order and clears them; on PostgreSQL one relay leads at a time; and a connection
broken under the asyncpg pass is never handed out again."""

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from socialsvc_common.admin import ensure_topics
from socialsvc_common.contract import payloads as p
from socialsvc_common.contract.topics import Topic
from socialsvc_common.db import libpq_url, make_engine, on_asyncpg, session_factory, transaction
from socialsvc_common.kafka import Producer
from socialsvc_common.outbox import OUTBOX, RELAY_LOCK_KEY, OutboxRelay, OutboxRow, add_events
from socialsvc_common.settings import ServiceSettings
from tests.harness import create_tables
from tests.integration.test_outbox_relay import releases, values_on

pytestmark = pytest.mark.integration


@pytest.fixture(params=["asyncpg", "psycopg", "sqlite"])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'relay.db'}"
    else:
        url = libpq_url(request.getfixturevalue("fresh_postgres"))
        url = url.replace("postgresql://", f"postgresql+{request.param}://", 1)
    made = make_engine(url)
    await create_tables(made, OutboxRow)
    yield made
    await made.dispose()


@pytest.fixture
async def relaying(
    bootstrap: str, unique: Callable[[str], str]
) -> AsyncIterator[tuple[Topic, Producer]]:
    name = unique("paths")
    topic = Topic(f"test.{name}.v1", p.PlacementReleased, "out", partitions=1)
    await ensure_topics([bootstrap], [topic])
    producer = Producer(ServiceSettings(kafka_bootstrap_servers=[bootstrap]), client_id=name)
    await producer.start()
    yield topic, producer
    await producer.stop()


async def left_in(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        count = await connection.execute(select(func.count()).select_from(OUTBOX))
        return int(count.scalar_one())


async def relay_of(engine: AsyncEngine, topic: Topic, producer: Producer, rows: int) -> OutboxRelay:
    """A relay over a new outbox of `rows` unsent releases on `topic`."""
    await create_tables(engine, OutboxRow)
    sessions = session_factory(engine)
    async with transaction(sessions) as session:
        await add_events(session, releases(topic, rows))
    return OutboxRelay(sessions, producer)


async def test_each_path_publishes_the_rows_in_order_and_clears_them(
    engine: AsyncEngine, relaying: tuple[Topic, Producer], bootstrap: str
) -> None:
    topic, producer = relaying
    sessions = session_factory(engine)
    events = releases(topic, 5)
    async with transaction(sessions) as session:
        await add_events(session, events)
    relay = OutboxRelay(sessions, producer, batch_size=3)

    assert [await relay.relay_once() for _ in range(3)] == [3, 2, 0]

    assert await left_in(engine) == 0
    assert await values_on(bootstrap, topic.name, 5) == [event.value() for event in events]


async def test_on_postgresql_a_relay_waits_while_another_leads(
    fresh_postgres: str, relaying: tuple[Topic, Producer]
) -> None:
    topic, producer = relaying
    engine = make_engine(fresh_postgres)
    assert on_asyncpg(engine)
    relay = await relay_of(engine, topic, producer, 2)
    try:
        async with engine.connect() as other:
            await other.execute(select(func.pg_advisory_xact_lock(RELAY_LOCK_KEY)))
            assert await relay.relay_once() == 0
            assert await left_in(engine) == 2
            await other.rollback()
        assert await relay.relay_once() == 2
    finally:
        await engine.dispose()


async def test_a_connection_broken_under_the_asyncpg_pass_is_not_used_again(
    fresh_postgres: str, relaying: tuple[Topic, Producer]
) -> None:
    topic, producer = relaying
    engine = make_engine(fresh_postgres, pool_size=1)
    relay = await relay_of(engine, topic, producer, 2)
    try:
        # Two connections at once; the pool keeps one, the first given back, and the server
        # ends it (as a restart would) while it lies there: the relay's next pass gets it.
        first = await engine.connect()
        first_backend = (await first.execute(text("SELECT pg_backend_pid()"))).scalar()
        second = await engine.connect()
        await first.close()
        await second.execute(select(func.pg_terminate_backend(first_backend)))
        await second.close()

        with pytest.raises(Exception, match="connection"):
            await relay.relay_once()
        # Had the broken connection gone back to the pool, the next pass would get it again.
        assert [await relay.relay_once() for _ in range(3)] == [2, 0, 0]
        assert await left_in(engine) == 0
    finally:
        await engine.dispose()
