"""benchmarks.transaction_costs on real PostgreSQL: every layer is measured, and the relay pass it
times on asyncpg does what the relay does (takes the unsent rows and deletes them)."""

import re
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, insert, select

from benchmarks.transaction_costs import measure, relay_on_driver
from socialsvc_common.db import make_engine, run, session_factory, transaction
from socialsvc_common.migrations import schemas, upgrade
from socialsvc_common.outbox import OUTBOX

pytestmark = pytest.mark.integration
FIGURE = re.compile(r"(\d+\.\d\d)/(\d+\.\d\d) ms")


async def test_each_layer_and_both_relay_passes_get_a_figure(fresh_postgres: str) -> None:
    lines = await measure(fresh_postgres, transactions=5, rounds=1)

    measured = {line.split("  ")[1].strip(): FIGURE.findall(line) for line in lines[1:]}
    for name in (
        "asyncpg alone",
        "SQLAlchemy Core over asyncpg",
        "SQLModel AsyncSession",
        "OutboxRelay.relay_once",
        "on asyncpg",
    ):
        assert measured[name], name
        assert all(float(low) > 0 for low, _ in measured[name]), name


async def test_the_asyncpg_pass_takes_and_deletes_the_unsent_rows(fresh_postgres: str) -> None:
    engine = make_engine(fresh_postgres)
    await upgrade(engine, schemas()["eligibility"])
    sessions = session_factory(engine)
    now = datetime.now(UTC)
    rows = [
        {"event_id": uuid.uuid4(), "topic": "t", "key": b"k", "headers": "[]", "value": b"{}",
         "created_at": now}
        for _ in range(3)
    ]  # fmt: skip
    async with transaction(sessions) as session:
        await run(session, insert(OUTBOX), rows)

    assert await relay_on_driver(engine) == 3
    async with sessions() as session:
        left = (await run(session, select(func.count()).select_from(OUTBOX))).scalar_one()
    assert left == 0
    assert await relay_on_driver(engine) == 0
    await engine.dispose()
