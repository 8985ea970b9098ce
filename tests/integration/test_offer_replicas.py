"""Two intake replicas on PostgreSQL, one taking a life event and the other its pre-screen at the
same moment: whichever transaction comes second waits for the first to commit, sees its row and
makes the offer, once. Without the lock each would miss the other's uncommitted row and no offer
would ever be made."""

import asyncio
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import TypeVar

import pytest
from pydantic import BaseModel
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from intake.offers import OfferRow, keep_life_events, keep_screens, offer_where_due
from socialsvc_common.consumer import Received
from socialsvc_common.contract import payloads as p
from socialsvc_common.contract import topics
from socialsvc_common.contract.envelope import Event, new_event
from socialsvc_common.db import make_engine, session_factory, transaction
from socialsvc_common.migrations import schemas, upgrade

pytestmark = pytest.mark.integration
NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
P = TypeVar("P", bound=BaseModel)

RECORDED = p.LifeEventRecorded(
    registry=p.Registry.EDUCATION,
    reference="EDU-2026/5512",
    kind=p.LifeEventKind.LEFT_CHILDREN_INSTITUTION,
    occurred_on=date(2026, 12, 1),
    person=p.Applicant.model_validate(
        {
            "fin": "7QW2E4R",
            "first_name": "Nərmin",
            "last_name": "Əliyeva",
            "birth_date": "2008-03-14",
            "mobile_phone": "+994501112233",
            "district": "Gəncə",
        }
    ),
)
SCREENED = p.PrescreenMade(
    life_event_id=RECORDED.life_event_id,
    registry=p.Registry.EDUCATION,
    kind=p.LifeEventKind.LEFT_CHILDREN_INSTITUTION,
    district="Gəncə",
    screened_at=NOW,
    outcome=p.Prescreen.LIKELY,
    rule_set_version="2026.1",
    provision_types=[p.ProvisionType.NGO_PROJECT],
)


def received(topic: topics.Topic, payload: P) -> Received[P]:
    event = new_event(topic, payload, producer="test", application_id=RECORDED.life_event_id)
    return Received(event.envelope, payload)


async def offer(session: AsyncSession) -> list[Event]:
    return await offer_where_due(
        session, {RECORDED.life_event_id}, now=NOW, today=NOW.date(), answer_days=30, causes={}
    )


async def test_a_life_event_and_its_prescreen_taken_at_once_make_one_offer(
    database_factory: Callable[[str], str],
) -> None:
    engine = make_engine(database_factory("offer_replicas"))
    try:
        await upgrade(engine, schemas()["intake"])
        sessions = session_factory(engine)
        life_event = received(topics.LIFE_EVENTS[p.Registry.EDUCATION], RECORDED)
        prescreen = received(topics.PRESCREEN_MADE, SCREENED)
        first_joined = asyncio.Event()
        release_first = asyncio.Event()

        async def replica_with_the_life_event() -> int:
            async with transaction(sessions) as session:
                await keep_life_events(session, [life_event], NOW)
                made = await offer(session)
                first_joined.set()
                await release_first.wait()  # still uncommitted while the other replica runs
            return len(made)

        async def replica_with_the_prescreen() -> int:
            await first_joined.wait()
            async with transaction(sessions) as session:
                await keep_screens(session, [prescreen])
                made = await offer(session)
            return len(made)

        first = asyncio.create_task(replica_with_the_life_event())
        second = asyncio.create_task(replica_with_the_prescreen())
        await first_joined.wait()
        await asyncio.sleep(0.5)
        assert not second.done(), "the second replica waits for the first to commit"
        release_first.set()
        # The first saw no pre-screen; the second, once the first committed, saw both.
        assert (await first, await second) == (0, 2)  # the offer and its update
        async with sessions() as session:
            offers = (await session.exec(select(OfferRow))).all()
        assert [offer.offer_id for offer in offers] == [RECORDED.life_event_id]
    finally:
        await engine.dispose()
