"""The retention sweeper on PostgreSQL: people whose every application closed longer ago than the
policy keeps it are erased through the same path as a lawful request; others stay whole."""

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from sqlalchemy import insert
from sqlmodel import col, select

from intake.erasure import NoLongerDue, erase_subject
from intake.offers import LIFE_EVENTS, OFFERS, LifeEventRow, OfferRow
from intake.retention import RetentionPolicy
from intake.retention_sweeper import RetentionSweeper
from intake.store import CLOSED, ApplicationRow, ErasureRow, Status, insert_applications
from socialsvc_common.contract import topics
from socialsvc_common.contract.erasure import ErasureReason
from socialsvc_common.contract.payloads import OfferStatus
from socialsvc_common.db import make_engine, run, session_factory, transaction
from socialsvc_common.migrations import schemas, upgrade
from socialsvc_common.outbox import OutboxRow

pytestmark = pytest.mark.integration
NOW = datetime(2030, 6, 1, tzinfo=UTC)
POLICY = RetentionPolicy(
    "test", {Status.INELIGIBLE: 30, Status.REFUSED: 30, Status.RELEASED: 90}, 60
)


def application(fin: str, status: Status, closed_days_ago: int, service: str) -> dict[str, Any]:
    closed = NOW - timedelta(days=closed_days_ago)
    form = {"service_requested": service, "applicant": {"fin": fin, "district": "Quba"}}
    return {
        "id": uuid4(),
        "fin": fin,
        "service_requested": service,
        "channel": "web",
        "status": status.value,
        "is_open": status not in CLOSED,
        "form": json.dumps(form),
        "submitted_at": closed - timedelta(days=10),
        "updated_at": closed,
    }


async def test_the_sweeper_erases_only_people_past_their_retention(
    database_factory: Callable[[str], str],
) -> None:
    engine = make_engine(database_factory("retention"))
    try:
        await upgrade(engine, schemas()["intake"])
        sessions = session_factory(engine)
        rows = [
            application("1DUE00A", Status.INELIGIBLE, 40, "home_care"),
            application("1DUE00A", Status.RELEASED, 100, "residential"),
            application("2KEEP0B", Status.RELEASED, 40, "home_care"),
            application("3OPEN0C", Status.INELIGIBLE, 40, "home_care"),
            application("3OPEN0C", Status.PLACED, 400, "residential"),
        ]
        async with transaction(sessions) as session:
            await insert_applications(session, rows)
        woken: list[bool] = []
        sweeper = RetentionSweeper(
            sessions, lambda: woken.append(True), POLICY, b"test-key", every_seconds=60
        )
        assert await sweeper.sweep(NOW) == 1
        assert await sweeper.sweep(NOW) == 0
        assert woken

        async with sessions() as session:
            held = (await session.exec(select(ApplicationRow))).all()
            erasures = (await session.exec(select(ErasureRow))).all()
            outbox = (await session.exec(select(OutboxRow))).all()
        erased = {row.id for row in held if row.erased_at is not None}
        assert erased == {rows[0]["id"], rows[1]["id"]}
        assert {row.fin for row in held} == {None, "2KEEP0B", "3OPEN0C"}
        assert [(e.reason, e.applications, e.requested_by) for e in erasures] == [
            ("retention_ended", 2, "retention-sweeper")
        ]
        assert {o.topic for o in outbox} == {topics.SUBJECT_ERASED.name}
        assert {UUID(o.key.decode()) for o in outbox} == erased
        assert not any(b"1DUE00A" in o.value for o in outbox)
        statuses = sorted(row.status for row in held if row.id in erased)
        assert statuses == ["ineligible", "released"]
        async with sessions() as session:
            left = select(ApplicationRow).where(col(ApplicationRow.fin) == "1DUE00A")
            assert not (await session.exec(left)).all()
    finally:
        await engine.dispose()


def life_event(fin: str, received_days_ago: int) -> dict[str, Any]:
    return {
        "life_event_id": uuid4(),
        "reported_by": "education",
        "reference": f"ref-{uuid4().hex[:12]}",
        "kind": "left_children_institution",
        "occurred_on": (NOW - timedelta(days=received_days_ago + 1)).date(),
        "fin": fin,
        "person": {"fin": fin, "last_name": "Həsənova", "district": "Quba", "language": "az"},
        "received_at": NOW - timedelta(days=received_days_ago),
    }


def offer_of(
    event: dict[str, Any], status: OfferStatus, answered_days_ago: int | None
) -> dict[str, Any]:
    answered = None if answered_days_ago is None else NOW - timedelta(days=answered_days_ago)
    return {
        "offer_id": event["life_event_id"],
        "fin": event["fin"],
        "kind": event["kind"],
        "provision_types": ["ngo_project"],
        "missing": [],
        "status": status.value,
        "offered_at": event["received_at"],
        "answer_by": (event["received_at"] + timedelta(days=30)).date(),
        "answered_at": answered,
        "answered_by": "portal:e-gov" if answered else None,
    }


async def test_people_reached_by_offers_are_kept_while_an_offer_is_open_or_recent(
    database_factory: Callable[[str], str],
) -> None:
    engine = make_engine(database_factory("retention_offers"))
    try:
        await upgrade(engine, schemas()["intake"])
        sessions = session_factory(engine)
        declined = life_event("4DECL0D", 200)
        unoffered = life_event("6NONE0F", 100)
        still_open = life_event("5OPEN0E", 100)
        recent = life_event("7RECN0G", 45)
        accepted = life_event("8ACCP0H", 600)
        with_open = life_event("1DUE00A", 20)
        events = [declined, unoffered, still_open, recent, accepted, with_open]
        offers = [
            offer_of(declined, OfferStatus.DECLINED, 100),
            offer_of(still_open, OfferStatus.OFFERED, None),
            offer_of(recent, OfferStatus.LAPSED, 10),
            offer_of(accepted, OfferStatus.ACCEPTED, 590),
            offer_of(with_open, OfferStatus.OFFERED, None),
        ]
        # The accepted offer's application closed long ago; the other person's applications
        # are past their retention too, but an offer made to them since is open.
        applications = [
            application("8ACCP0H", Status.RELEASED, 100, "ngo_project"),
            application("1DUE00A", Status.INELIGIBLE, 40, "home_care"),
        ]
        async with transaction(sessions) as session:
            await insert_applications(session, applications)
            await run(session, insert(LIFE_EVENTS), events)
            await run(session, insert(OFFERS), offers)
        sweeper = RetentionSweeper(sessions, lambda: None, POLICY, b"test-key", every_seconds=60)
        # Three people due; the one with an open offer is not even looked at, so the sweeper
        # does not take them up again and again.
        assert await sweeper.sweep(NOW) == 2
        assert await sweeper.sweep(NOW) == 0

        async with sessions() as session:
            held = {row.life_event_id: row for row in (await session.exec(select(LifeEventRow)))}
            outbox = (await session.exec(select(OutboxRow))).all()
            offered_to = {row.offer_id: row.fin for row in (await session.exec(select(OfferRow)))}
        gone = {declined["life_event_id"], unoffered["life_event_id"], accepted["life_event_id"]}
        assert {i for i, row in held.items() if row.fin is None} == gone
        for event_id in gone:
            assert held[event_id].person == {"district": "Quba", "language": "az"}
            assert held[event_id].erased_at == NOW
            assert offered_to.get(event_id) is None
        assert offered_to[with_open["life_event_id"]] == "1DUE00A"
        # The other holders hear of it under each life event's id (the archive and eligibility
        # keep the registry's record and its reference), and of the application under its own.
        told = {UUID(o.key.decode()) for o in outbox if o.topic == topics.SUBJECT_ERASED.name}
        assert told == {*gone, applications[0]["id"]}
        erased = held[unoffered["life_event_id"]]
        assert (erased.reference, erased.occurred_on, erased.disability_group) == (None, None, None)
    finally:
        await engine.dispose()


async def test_a_person_no_longer_due_once_locked_is_left_whole(
    database_factory: Callable[[str], str],
) -> None:
    """The sweeper's choice is asked again of the rows as erase_subject locked them: an offer
    made to the person meanwhile (open) keeps them whole."""
    engine = make_engine(database_factory("retention_recheck"))
    try:
        await upgrade(engine, schemas()["intake"])
        sessions = session_factory(engine)
        event = life_event("9LATE0J", 200)  # led to no offer: due
        async with transaction(sessions) as session:
            await run(session, insert(LIFE_EVENTS), [event])
        sweeper = RetentionSweeper(sessions, lambda: None, POLICY, b"test-key", every_seconds=60)

        async def erase_as_an_offer_is_made() -> None:
            async with transaction(sessions) as session:
                await run(session, insert(OFFERS), [offer_of(event, OfferStatus.OFFERED, None)])
                await erase_subject(
                    session,
                    "9LATE0J",
                    reason=ErasureReason.RETENTION_ENDED,
                    legal_basis="test",
                    requested_by="test",
                    pseudonym_key=b"test-key",
                    now=NOW,
                    still_due=sweeper.still_due(NOW),
                )

        with pytest.raises(NoLongerDue):
            await erase_as_an_offer_is_made()
        async with sessions() as session:
            kept = await session.get(LifeEventRow, event["life_event_id"])
            erasures = (await session.exec(select(ErasureRow))).all()
        assert (kept.fin if kept else None, erasures) == ("9LATE0J", [])
        # Without the offer (it was rolled back with the erasure), the person is due, and goes.
        assert await sweeper.sweep(NOW) == 1
        async with sessions() as session:
            gone = await session.get(LifeEventRow, event["life_event_id"])
        assert gone is not None
        assert gone.fin is None
    finally:
        await engine.dispose()
