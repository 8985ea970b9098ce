"""The session helper round-trips rows on both supported databases: PostgreSQL and SQLite."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Column, Numeric, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import Field, SQLModel, select

from socialsvc_common.db import (
    IDLE_PING_SECONDS,
    UtcDateTime,
    make_engine,
    session_factory,
    transaction,
)
from socialsvc_common.inbox import InboxRow, claim, claim_all
from tests.harness import create_tables

pytestmark = pytest.mark.integration
BAKU = ZoneInfo("Asia/Baku")


class RoundTrip(SQLModel, table=True):
    __tablename__ = "test_round_trip"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    district: str
    income_azn: Decimal = Field(sa_column=Column(Numeric(12, 2), nullable=False))
    received_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


@pytest.fixture(params=["postgresql", "sqlite"])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_url")
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'nested' / 'service.db'}"
    made = make_engine(url)
    await create_tables(made, RoundTrip)
    yield made
    await made.dispose()


async def test_a_row_round_trips(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    row = RoundTrip(
        district="Xətai",
        income_azn=Decimal("345.67"),
        received_at=datetime(2026, 11, 22, 12, 30, tzinfo=BAKU),
    )
    async with transaction(sessions) as session:
        session.add(row)
    async with sessions() as session:
        loaded = (await session.exec(select(RoundTrip).where(RoundTrip.id == row.id))).one()
    assert (loaded.district, loaded.income_azn) == ("Xətai", Decimal("345.67"))
    assert loaded.received_at == row.received_at
    assert loaded.received_at.tzinfo is UTC


async def test_a_failed_unit_of_work_leaves_nothing_behind(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    row_id = uuid.uuid4()

    async def store_then_fail() -> None:
        async with transaction(sessions) as session:
            session.add(
                RoundTrip(
                    id=row_id, district="Şəki", income_azn=Decimal(1), received_at=datetime.now(UTC)
                )
            )
            await session.flush()
            raise RuntimeError("publish failed")

    with pytest.raises(RuntimeError, match="publish failed"):
        await store_then_fail()
    async with sessions() as session:
        assert (await session.exec(select(RoundTrip).where(RoundTrip.id == row_id))).first() is None


async def test_the_inbox_claims_each_event_once_within_a_batch_and_across_batches(
    engine: AsyncEngine, unique: Callable[[str], str]
) -> None:
    await create_tables(engine, InboxRow)
    sessions = session_factory(engine)
    consumer = unique("consumer")
    seen, again, new = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    async with transaction(sessions) as session:
        assert await claim(session, consumer, seen)
    async with transaction(sessions) as session:
        firsts = await claim_all(session, consumer, [again, seen, new, again, new])
    assert firsts == [True, False, True, False, False]
    async with transaction(sessions) as session:
        assert await claim_all(session, consumer, [again, new, seen]) == [False, False, False]
        assert not await claim(session, consumer, new)
        # Another consumer's inbox is its own.
        assert await claim_all(session, unique("other"), [seen]) == [True]


async def test_a_connection_a_restart_dropped_is_replaced_when_taken_from_the_pool(
    fresh_postgres: str,
) -> None:
    engine = make_engine(fresh_postgres)
    sessions = session_factory(engine)
    try:
        async with sessions() as session:
            assert (await session.exec(select(text("1")))).one() == 1
        # The database ends this engine's session (as a restart would); the pooled connection
        # is dead, and it lies idle longer than the pool trusts an idle connection.
        admin_engine = make_engine(fresh_postgres)
        async with admin_engine.connect() as admin:
            await admin.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
        await admin_engine.dispose()
        await asyncio.sleep(IDLE_PING_SECONDS + 0.1)
        async with transaction(sessions) as session:
            assert (await session.exec(select(text("2")))).one() == 2
    finally:
        await engine.dispose()
