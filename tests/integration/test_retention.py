"""Retention of working tables on PostgreSQL and SQLite, on the services' real schemas: inbox
claims older than every topic's retention go, a batch at a time; intake keeps the journeys of open
applications and of recent steps; notifications keeps messages still in hand."""

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from intake.store import APPLICATIONS, JOURNEY, journey_rule
from notifications.store import FAILED, NOTIFICATIONS, PENDING, SENT, SKIPPED, messages_rule
from socialsvc_common.consumer import Received
from socialsvc_common.contract import topics
from socialsvc_common.contract.envelope import Event
from socialsvc_common.db import make_engine, session_factory
from socialsvc_common.inbox import InboxRow
from socialsvc_common.retention import Pruner, inbox_rule
from socialsvc_common.service import INBOX_MARGIN, build_runtime
from socialsvc_common.settings import ServiceSettings
from tests.harness import migrate

pytestmark = pytest.mark.integration
NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
INBOX = InboxRow.__table__  # type: ignore[attr-defined]
EngineOf = Callable[[str], Awaitable[AsyncEngine]]


@pytest.fixture(params=["postgresql", "sqlite"])
def database(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    database_factory: Callable[[str], str],
    unique: Callable[[str], str],
) -> Callable[[str], str]:
    if request.param == "postgresql":
        return lambda service: database_factory(unique(service).replace("-", "_"))
    return lambda service: f"sqlite+aiosqlite:///{tmp_path / service}.db"


@pytest.fixture
async def engine_of(database: Callable[[str], str]) -> AsyncIterator[EngineOf]:
    made: list[AsyncEngine] = []

    async def make(service: str) -> AsyncEngine:
        engine = make_engine(await migrate(service, database(service)))
        made.append(engine)
        return engine

    yield make
    for engine in made:
        await engine.dispose()


async def count(engine: AsyncEngine, table: Table) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(select(func.count()).select_from(table))).scalar_one())


async def test_inbox_claims_go_once_older_than_the_rule_keeps_them(
    engine_of: EngineOf,
) -> None:
    engine: AsyncEngine = await engine_of("eligibility")
    keep = timedelta(days=35)
    old = [
        {"consumer": "c", "event_id": uuid.uuid4(), "processed_at": NOW - keep - timedelta(hours=h)}
        for h in range(1, 8)
    ]
    recent = [
        {"consumer": "c", "event_id": uuid.uuid4(), "processed_at": NOW - keep + timedelta(hours=1)}
    ]
    async with engine.begin() as connection:
        await connection.execute(insert(INBOX), old + recent)
    pruner = Pruner(session_factory(engine), [inbox_rule(keep)], batch=3)

    # Three at a time: a full batch asks for another pass at once, a short one ends the round.
    assert await pruner.prune_once(NOW) == {"inbox": 3}
    assert await pruner.prune_once(NOW) == {"inbox": 3}
    assert await pruner.prune_once(NOW) == {"inbox": 1}
    assert await pruner.prune_once(NOW) == {"inbox": 0}
    async with engine.connect() as connection:
        left = (await connection.execute(select(INBOX.c.event_id))).scalars().all()
    assert left == [recent[0]["event_id"]]


def application(status: str, is_open: bool) -> dict[str, object]:
    return {
        "id": uuid.uuid4(),
        "fin": uuid.uuid4().hex[:7].upper(),
        "service_requested": "any",
        "channel": "web",
        "status": status,
        "is_open": is_open,
        "form": "{}",
        "submitted_at": NOW - timedelta(days=900),
        "updated_at": NOW - timedelta(days=800),
    }


def steps(application_id: object, *ages_in_days: int) -> list[dict[str, object]]:
    return [
        {
            "event_id": uuid.uuid4(),
            "application_id": application_id,
            "type": "intake.application.received.v1",
            "time": NOW - timedelta(days=age),
            "summary": {},
        }
        for age in ages_in_days
    ]


async def test_journeys_of_closed_applications_go_once_their_last_step_is_old(
    engine_of: EngineOf,
) -> None:
    engine: AsyncEngine = await engine_of("intake")
    closed_long_ago = application("ineligible", is_open=False)
    closed_lately = application("released", is_open=False)
    open_for_years = application("placed", is_open=True)
    journeys = [
        *steps(closed_long_ago["id"], 700, 650),
        *steps(closed_lately["id"], 700, 10),  # its last step is recent: the journey stays
        *steps(open_for_years["id"], 800, 790),  # still open: its journey stays
    ]
    async with engine.begin() as connection:
        await connection.execute(
            insert(APPLICATIONS), [closed_long_ago, closed_lately, open_for_years]
        )
        await connection.execute(insert(JOURNEY), journeys)

    pruner = Pruner(session_factory(engine), [journey_rule(timedelta(days=400))])
    assert await pruner.prune_once(NOW) == {"journey": 2}
    async with engine.connect() as connection:
        kept = set((await connection.execute(select(JOURNEY.c.application_id))).scalars())
    assert kept == {closed_lately["id"], open_for_years["id"]}
    assert await count(engine, APPLICATIONS) == 3  # the applications themselves stay


def message(status: str, age_days: int) -> dict[str, object]:
    occurred = NOW - timedelta(days=age_days)
    return {
        "id": uuid.uuid4(),
        "application_id": uuid.uuid4(),
        "event_id": uuid.uuid4(),
        "kind": "application_received",
        "context": {},
        "status": status,
        "attempts": 1,
        "occurred_at": occurred,
        "hold_until": occurred,
        "next_attempt_at": occurred,
    }


async def test_messages_that_ended_long_ago_go_and_those_in_hand_stay(
    engine_of: EngineOf,
) -> None:
    engine: AsyncEngine = await engine_of("notifications")
    gone = [message(SENT, 100), message(FAILED, 120), message(SKIPPED, 91)]
    stay = [message(PENDING, 200), message("accepted", 200), message(SENT, 30)]
    async with engine.begin() as connection:
        await connection.execute(insert(NOTIFICATIONS), gone + stay)

    pruner = Pruner(session_factory(engine), [messages_rule(timedelta(days=90))])
    assert await pruner.prune_once(NOW) == {"messages": 3}
    async with engine.connect() as connection:
        kept = set((await connection.execute(select(NOTIFICATIONS.c.id))).scalars())
    assert kept == {row["id"] for row in stay}


async def nothing(_: AsyncSession, __: Sequence[Received[Any]]) -> list[Event]:
    return []


def test_inbox_claims_outlive_the_topics_a_service_reads() -> None:
    settings = ServiceSettings(database_url="sqlite+aiosqlite:///unused.db")
    runtime = build_runtime("eligibility", settings)
    runtime.consumer.handle(topics.APPLICATION_RECEIVED)(nothing)
    longest = timedelta(milliseconds=topics.APPLICATION_RECEIVED.retention_ms)
    assert runtime.inbox_keep() == longest + INBOX_MARGIN

    runtime.settings = ServiceSettings(
        database_url="sqlite+aiosqlite:///unused.db", inbox_keep_days=40
    )
    assert runtime.inbox_keep() == timedelta(days=40)

    runtime.settings = ServiceSettings(
        database_url="sqlite+aiosqlite:///unused.db", inbox_keep_days=30
    )
    with pytest.raises(
        ValueError,
        match="inbox_keep_days 30 must exceed the 30 days the topics eligibility reads keep",
    ):
        runtime.inbox_keep()
