"""Social workers' queues in assignment, on real PostgreSQL: offers about to lapse, reviews due
and coming, an application's placements and a placement's services, each within the caller's
districts; a case of another district is left out of every list and answers 404 alone."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from prometheus_client import CollectorRegistry, Counter
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from assignment.app import AssignmentSettings, build_app
from assignment.placements import Registry
from assignment.placing import place_all
from assignment.providers import ProviderCache, seed
from assignment.registry import load_providers
from assignment.reviewing import ReviewSweeper
from assignment.store import PlacementRow
from socialsvc_common.apikeys import Role, issue
from socialsvc_common.consumer import Received
from socialsvc_common.contract import topics
from socialsvc_common.contract.envelope import new_event
from socialsvc_common.contract.payloads import DecisionMade
from socialsvc_common.db import make_engine, run, session_factory, transaction
from socialsvc_common.explanations import application_ref
from socialsvc_common.geography import load_geography
from socialsvc_common.public_stream import PublicStream
from tests.harness import migrate
from tests.unit.test_assignment_matching import decision

pytestmark = pytest.mark.integration
REGISTRY = """
[[home_care]]
id = "hc-xetai-q"
name = "Xətai team"
district = "Xətai"
caseload_limit = 2

[[home_care]]
id = "hc-gence-q"
name = "Gəncə team"
district = "Gəncə"
caseload_limit = 1
"""
OFFER = timedelta(hours=30)


class Relay:
    def wake(self) -> None:
        pass


@dataclass
class Queues:
    client: httpx.AsyncClient
    keys: dict[str, str]
    engine: AsyncEngine
    registry: Registry

    async def get(self, who: str, path: str, **params: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.keys[who]}"}
        return await self.client.get(path, params=params, headers=headers)

    async def post(self, who: str, path: str) -> httpx.Response:
        return await self.client.post(path, headers={"Authorization": f"Bearer {self.keys[who]}"})


@pytest.fixture
async def queues(fresh_postgres: str, tmp_path: Path) -> AsyncIterator[Queues]:
    store = tmp_path / "keys.jsonl"
    keys = {
        "xetai": issue(store, "worker-x", Role.SOCIAL_WORKER, districts=["Xətai"]),
        "gence": issue(store, "reviewer-g", Role.REVIEWER, districts=["Gəncə"]),
        "operator": issue(store, "op", Role.OPERATOR),
    }
    providers = tmp_path / "providers.toml"
    providers.write_text(REGISTRY, encoding="utf-8")
    database = await migrate("assignment", fresh_postgres)
    engine = make_engine(database)
    async with transaction(session_factory(engine)) as session:
        await seed(session, load_providers(providers))
    # The routes read and write the database alone; nothing here needs the broker.
    app = build_app(
        AssignmentSettings(database_url=database, api_keys_file=store, providers_file=providers)
    )
    registry = Registry(
        ProviderCache(load_geography()), PublicStream("assignment", b"k" * 32), offer_ttl=OFFER
    )
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://assignment") as client:
            yield Queues(client, keys, engine, registry)
    finally:
        await engine.dispose()


async def place(queues: Queues, decisions: list[DecisionMade]) -> dict[UUID, str]:
    batch = [
        Received(
            new_event(
                topics.DECISION_MADE, d, producer="t", application_id=d.application_id
            ).envelope,
            d,
        )
        for d in decisions
    ]
    async with transaction(session_factory(queues.engine)) as session:
        await place_all(session, queues.registry, batch)
    async with session_factory(queues.engine)() as session:
        rows = (await session.exec(select(PlacementRow))).all()
    return {row.application_id: str(row.id) for row in rows}


def ids(rows: list[dict[str, Any]], key: str = "application_id") -> list[str]:
    return [row[key] for row in rows]


async def test_each_worker_sees_the_queues_of_their_own_districts(queues: Queues) -> None:
    now = datetime.now(UTC)
    x1, x2, g1 = (
        decision(district=d, decided_at=now - timedelta(minutes=m))
        for d, m in (("Xətai", 3), ("Xətai", 2), ("Gəncə", 1))
    )
    placed = await place(queues, [x1, x2, g1])
    assert len(placed) == 3
    xs = [str(x1.application_id), str(x2.application_id)]

    # Offers about to lapse: each worker's own, soonest first, with what a call needs.
    lapsing = await queues.get("xetai", "/placements", status="offered", lapsing_within_hours=48)
    assert lapsing.status_code == 200, lapsing.text
    rows = lapsing.json()
    assert ids(rows) == xs
    assert rows[0]["reference"] == application_ref(x1.application_id)
    assert {(r["district"], r["provider_id"], r["provider_name"]) for r in rows} == {
        ("Xətai", "hc-xetai-q", "Xətai team")
    }
    assert rows[0]["offer_expires_at"] <= rows[1]["offer_expires_at"]
    gence = (await queues.get("gence", "/placements", lapsing_within_hours=48)).json()
    assert ids(gence) == [str(g1.application_id)]
    everyone = (await queues.get("operator", "/placements", lapsing_within_hours=48)).json()
    assert sorted(ids(everyone)) == sorted([*xs, str(g1.application_id)])
    assert (await queues.get("xetai", "/placements", lapsing_within_hours=12)).json() == []
    wrong = await queues.get("xetai", "/placements", status="started", lapsing_within_hours=48)
    assert wrong.status_code == 422

    # One application's placements: another district's is simply not there.
    other = {"application_id": str(g1.application_id)}
    assert (await queues.get("xetai", "/placements", **other)).json() == []
    assert len((await queues.get("operator", "/placements", **other)).json()) == 1
    g1_placement = placed[g1.application_id]
    hidden = await queues.get("xetai", f"/placements/{g1_placement}/services")
    assert hidden.status_code == 404
    shown = await queues.get("gence", f"/placements/{g1_placement}/services")
    assert shown.json() == []

    # Every service starts; two reviews came due long ago, one comes in three days.
    for placement in placed.values():
        for step in ("accept", "start"):
            moved = await queues.post("operator", f"/placements/{placement}/{step}")
            assert moved.status_code == 202, moved.text
    dates = [
        (x1.application_id, now - timedelta(days=60)),
        (g1.application_id, now - timedelta(days=60)),
        (x2.application_id, now + timedelta(days=3)),
    ]
    async with transaction(session_factory(queues.engine)) as session:
        for application_id, due in dates:
            statement = (
                update(PlacementRow)
                .where(col(PlacementRow.application_id) == application_id)
                .values(review_due_at=due)
            )
            await run(session, statement)
    counter = Counter("overdue", "t", registry=CollectorRegistry())
    sweeper = ReviewSweeper(
        session_factory(queues.engine),
        queues.registry,
        Relay(),  # type: ignore[arg-type]
        1.0,
        counter,
    )
    assert await sweeper.open_due(datetime.now(UTC)) == 2

    overdue = (await queues.get("xetai", "/reviews", overdue="true")).json()
    assert ids(overdue) == [str(x1.application_id)]
    assert overdue[0]["district"] == "Xətai"
    assert overdue[0]["reference"] == application_ref(x1.application_id)
    assert overdue[0]["overdue"] is True
    due_soon = (await queues.get("xetai", "/reviews", due_within_days=5)).json()
    assert [(r["application_id"], r["status"]) for r in due_soon] == [
        (xs[0], "open"),
        (xs[1], "upcoming"),
    ]
    assert due_soon[1]["id"] is None
    assert due_soon[1]["placement_id"] == placed[x2.application_id]
    assert ids((await queues.get("xetai", "/reviews", due_within_days=1)).json()) == xs[:1]
    assert ids((await queues.get("gence", "/reviews", due_within_days=5)).json()) == [
        str(g1.application_id)
    ]
    assert sorted(ids((await queues.get("operator", "/reviews", overdue="true")).json())) == sorted(
        [xs[0], str(g1.application_id)]
    )
    assert (await queues.get("xetai", "/reviews", **other)).json() == []
