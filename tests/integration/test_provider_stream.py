"""Assignment tells the provider registry on public.provider.changed: every provider it seeds, and
at each start again every provider it knows, so a deployment older than the topic has them all."""

import json

import pytest
from sqlalchemy import text

from assignment.providers import seed
from assignment.registry import load_providers
from socialsvc_common.contract import topics
from socialsvc_common.db import make_engine, session_factory, transaction
from tests.harness import migrate

pytestmark = pytest.mark.integration


async def told(url: str) -> dict[str, dict[str, object]]:
    """The provider records in the outbox, by provider id, and empties it."""
    engine = make_engine(url)
    try:
        async with engine.begin() as connection:
            rows = (
                await connection.execute(
                    text("SELECT value FROM outbox WHERE topic = :topic"),
                    {"topic": topics.PUBLIC_PROVIDER_CHANGED.name},
                )
            ).all()
            await connection.execute(text("DELETE FROM outbox"))
    finally:
        await engine.dispose()
    records = [json.loads(bytes(row[0])) for row in rows]
    return {record["provider_id"]: record for record in records}


async def test_seeding_tells_every_provider_and_a_restart_tells_them_again(
    fresh_postgres: str,
) -> None:
    url = await migrate("assignment", fresh_postgres)
    providers = load_providers()
    engine = make_engine(url)
    sessions = session_factory(engine)
    try:
        async with transaction(sessions) as session:
            assert await seed(session, providers) == len(providers)
        first = await told(url)
        async with transaction(sessions) as session:
            assert await seed(session, providers) == 0
        again = await told(url)
    finally:
        await engine.dispose()

    assert set(first) == set(again) == {provider.id for provider in providers}
    assert again == first
    shelter = next(p for p in providers if "trafficking_victim" in p.served_groups)
    assert first[shelter.id]["target_groups"] == [g.value for g in shelter.served_groups]
    assert first[shelter.id]["capacity"] == shelter.capacity
