"""Reviews in assignment on PostgreSQL: two sweepers (replicas) open each due review once; the
decisions reviews cause continue one service and end another (its place going to the person
waiting), once whatever the redeliveries; an overdue review is escalated once."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest
from prometheus_client import CollectorRegistry, Counter
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from assignment.lifecycle import advance
from assignment.placements import Registry
from assignment.placing import place_all
from assignment.providers import ProviderCache, seed
from assignment.registry import load_providers
from assignment.review_policy import parse_review_policy
from assignment.review_store import ReviewRow
from assignment.reviewing import ReviewSweeper, conclude_reviews
from assignment.store import PlacementRow
from socialsvc_common.apikeys import Role
from socialsvc_common.consumer import Received
from socialsvc_common.contract.actor import Actor
from socialsvc_common.contract.envelope import Event, new_event
from socialsvc_common.contract.payloads import DecisionMade, Outcome, PlacementStatus
from socialsvc_common.contract.topics import DECISION_MADE
from socialsvc_common.db import make_engine, session_factory, transaction
from socialsvc_common.geography import load_geography
from socialsvc_common.outbox import OutboxRow
from socialsvc_common.public_stream import PublicStream
from tests.harness import migrate
from tests.unit.test_assignment_matching import decision

pytestmark = pytest.mark.integration
WORKER = Actor(role=Role.SOCIAL_WORKER, name="review-test")
POLICY = """
version = "t"
overdue_after_days = 1
[[interval]]
provision_type = "home_care"
min_need_level = 0
days = 30
[[interval]]
provision_type = "residential"
min_need_level = 0
days = 30
[[interval]]
provision_type = "ngo_project"
min_need_level = 0
days = 30
"""


class Relay:
    def wake(self) -> None:
        pass


@pytest.fixture
async def engine(fresh_postgres: str, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    providers = tmp_path / "providers.toml"
    providers.write_text(
        '[[home_care]]\nid = "hc-test"\nname = "Test team"\ndistrict = "Xətai"\n'
        "caseload_limit = 2\n",
        encoding="utf-8",
    )
    made = make_engine(await migrate("assignment", fresh_postgres))
    async with transaction(session_factory(made)) as session:
        await seed(session, load_providers(providers))
    yield made
    await made.dispose()


def received(made: DecisionMade) -> Received[DecisionMade]:
    event = new_event(DECISION_MADE, made, producer="t", application_id=made.application_id)
    return Received(event.envelope, made)


async def apply(
    sessions: async_sessionmaker[AsyncSession],
    registry: Registry,
    batch: list[Received[DecisionMade]],
) -> list[Event]:
    async with transaction(sessions) as session:
        return await conclude_reviews(session, registry, batch) + await place_all(
            session, registry, batch
        )


async def test_reviews_open_once_conclude_once_and_escalate_once(engine: AsyncEngine) -> None:
    registry = Registry(
        ProviderCache(load_geography()),
        PublicStream("assignment", b"k" * 32),
        review_policy=parse_review_policy(POLICY, "t.toml"),
    )
    sessions = session_factory(engine)
    people = [
        decision(decided_at=datetime.now(UTC)).model_copy(update={"person_ref": f"{n:032x}"})
        for n in range(3)
    ]
    await apply(sessions, registry, [received(d) for d in people])
    async with sessions() as session:
        placed = (await session.exec(select(PlacementRow))).all()
    ids = {row.application_id: row.id for row in placed}
    assert set(ids) == {d.application_id for d in people[:2]}  # the third waits
    for placement_id in ids.values():
        for step in (PlacementStatus.ACCEPTED, PlacementStatus.STARTED):
            async with transaction(sessions) as session:
                await advance(session, registry, placement_id, step, WORKER)

    # A service that started before reviews existed gets a date a full interval away.
    async with transaction(sessions) as session:
        old = await session.get(PlacementRow, ids[people[0].application_id])
        assert old is not None
        old.review_due_at = None
        session.add(old)
    counter = Counter("overdue", "t", registry=CollectorRegistry())
    sweeper = ReviewSweeper(sessions, registry, Relay(), 1.0, counter)  # type: ignore[arg-type]
    now = datetime.now(UTC)
    assert await sweeper.date_undated(now) == 1
    assert await sweeper.date_undated(now) == 0
    async with sessions() as session:
        dated = await session.get(PlacementRow, ids[people[0].application_id])
    assert dated is not None
    assert dated.review_due_at == now + timedelta(days=30)

    # Two replicas sweep at once, thirty-one days on: each due review is opened once.
    later = datetime.now(UTC) + timedelta(days=31)
    sweepers = [
        ReviewSweeper(sessions, registry, Relay(), 1.0, counter)  # type: ignore[arg-type]
        for _ in range(2)
    ]
    opened = await asyncio.gather(*(s.open_due(later) for s in sweepers), return_exceptions=True)
    assert sum(n for n in opened if isinstance(n, int)) == 2, opened
    assert [await s.open_due(later) for s in sweepers] == [0, 0]
    async with sessions() as session:
        reviews = {r.application_id: r for r in (await session.exec(select(ReviewRow))).all()}
        due_events = (
            await session.exec(
                select(OutboxRow).where(OutboxRow.topic == "assignment.review.due.v1")
            )
        ).all()
    assert len(reviews) == len(due_events) == 2

    # The reviews' decisions: the first person no longer qualifies, the second still does.
    ends, keeps = (
        d.model_copy(
            update={"review_id": reviews[d.application_id].id, "decided_at": datetime.now(UTC)}
        )
        for d in people[:2]
    )
    ends = ends.model_copy(update={"outcome": Outcome.INELIGIBLE, "provision_types": []})
    batch = [received(ends), received(keeps), received(ends)]
    events = await apply(sessions, registry, batch)
    kinds = [e.envelope.type for e in events if e.topic.owner == "assignment"]
    assert kinds == [
        "assignment.review.concluded",
        "assignment.placement.released",
        "assignment.placement.made",
        "assignment.review.concluded",
    ]
    assert await apply(sessions, registry, batch) == []
    async with sessions() as session:
        rows = {r.application_id: r for r in (await session.exec(select(PlacementRow))).all()}
        concluded = {r.application_id: r for r in (await session.exec(select(ReviewRow))).all()}
    first, second, third = (rows[d.application_id] for d in people)
    assert (first.active, first.release_reason) == (False, "review_ended")
    assert second.active
    assert second.review_due_at is not None
    assert second.review_due_at > datetime.now(UTC) + timedelta(days=29)
    assert third.status == "offered"
    assert [concluded[d.application_id].outcome for d in people[:2]] == ["ended", "continued"]

    # A review nobody concludes escalates once, after its grace period.
    later = second.review_due_at + timedelta(minutes=1)
    assert await sweepers[0].open_due(later) == 1
    assert await sweepers[0].escalate(later) == 0
    assert await sweepers[1].escalate(later + timedelta(days=2)) == 1
    assert await sweepers[0].escalate(later + timedelta(days=3)) == 0
    assert counter._value.get() == 1
    async with sessions() as session:
        query = select(ReviewRow).where(col(ReviewRow.escalated_at).is_not(None))
        [escalated] = (await session.exec(query)).all()
    assert escalated.application_id == people[1].application_id
    assert isinstance(escalated.id, UUID)
