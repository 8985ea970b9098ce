"""Appeals and the decision history on real databases: decisions are appended, an appeal is
lodged once within the deadline, a reviewer's overturn appends a decision naming the appeal and
caused by the verdict, an upheld appeal changes no decision, and erasure and the simulation read
the whole history."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from eligibility.app import decision_for
from eligibility.appeals import steps
from eligibility.appeals.endings import on_placements_released
from eligibility.appeals.policy import load_appeal_policy
from eligibility.appeals.rules import AppealRefused
from eligibility.appeals.store import TABLES as APPEAL_TABLES
from eligibility.appeals.store import AppealRow
from eligibility.erasure import on_subjects_erased
from eligibility.prescreens import PrescreenRow
from eligibility.ruleset import default_rule_sets
from eligibility.store import (
    TABLES,
    DecisionRow,
    current_decision,
    decisions_of,
    latest_only,
    save_decisions,
)
from socialsvc_common.apikeys import Role
from socialsvc_common.consumer import Received
from socialsvc_common.contract import topics
from socialsvc_common.contract.actor import Actor
from socialsvc_common.contract.appeals import (
    AppealDecided,
    AppealLodged,
    AppealStatus,
    AppealSubject,
)
from socialsvc_common.contract.envelope import Event, new_event
from socialsvc_common.contract.erasure import ErasureReason, SubjectErased
from socialsvc_common.contract.payloads import (
    ApplicationReceived,
    ConsentPurpose,
    ConsentWithdrawn,
    DecisionMade,
    Outcome,
    PlacementReleased,
    WithdrawalReason,
)
from socialsvc_common.db import make_engine, session_factory, transaction
from socialsvc_common.public_stream import PublicStream
from socialsvc_common.withdrawals import record_withdrawals
from tests.harness import create_tables

pytestmark = pytest.mark.integration
POLICY = load_appeal_policy()
PUBLIC = PublicStream("eligibility", b"k" * 32)
WORKER = Actor(role=Role.SOCIAL_WORKER, name="w-1")
REVIEWER = Actor(role=Role.REVIEWER, name="r-1")


@pytest.fixture(params=["postgresql", "sqlite"])
async def sessions(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    if request.param == "postgresql":
        url = request.getfixturevalue("fresh_postgres")
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'eligibility.db'}"
    engine: AsyncEngine = make_engine(url)
    await create_tables(engine, *TABLES, *APPEAL_TABLES, PrescreenRow)
    yield session_factory(engine)
    await engine.dispose()


def refused_application() -> ApplicationReceived:
    """A young adult with income above the need criterion who asks for home care: ineligible."""
    return ApplicationReceived.model_validate(
        {
            "application_id": str(uuid4()),
            "submitted_at": datetime.now(UTC).isoformat(),
            "channel": "social_worker",
            "service_requested": "home_care",
            "applicant": {
                "fin": "1AB2C3D",
                "first_name": "Aysel",
                "last_name": "Quliyeva",
                "birth_date": "1990-01-01",
                "mobile_phone": "+994501234567",
                "district": "Xətai",
            },
            "circumstances": {
                "monthly_household_income_azn": "3000",
                "activities_needing_help": ["shopping"],
            },
            "person_ref": "ab" * 16,
        }
    )


async def decided(sessions: async_sessionmaker[AsyncSession], now: datetime) -> UUID:
    application = refused_application()
    event = new_event(
        topics.APPLICATION_RECEIVED,
        application,
        producer="t",
        application_id=application.application_id,
    )
    row, _ = decision_for(
        Received(event.envelope, application), default_rule_sets(), PUBLIC, now, POLICY
    )
    async with transaction(sessions) as session:
        await save_decisions(session, [row])
    return application.application_id


async def lodge(
    sessions: async_sessionmaker[AsyncSession], application_id: UUID, now: datetime
) -> tuple[AppealRow, list[Event]]:
    async with transaction(sessions) as session:
        return await steps.lodge(
            session, application_id, steps.Lodging("I need help"), WORKER, POLICY, now=now
        )


async def decide(
    sessions: async_sessionmaker[AsyncSession], appeal_id: UUID, verdict: steps.Verdict
) -> tuple[AppealRow, list[Event]]:
    async with transaction(sessions) as session:
        return await steps.decide(
            session, appeal_id, verdict, REVIEWER, PUBLIC, now=datetime.now(UTC)
        )


async def history(
    sessions: async_sessionmaker[AsyncSession], application_id: UUID
) -> list[DecisionRow]:
    async with sessions() as session:
        return await decisions_of(session, [application_id])


async def test_an_overturn_appends_a_decision_naming_the_appeal(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    now = datetime.now(UTC)
    application_id = await decided(sessions, now - timedelta(days=2))
    [refusal] = await history(sessions, application_id)
    assert refusal.outcome == "ineligible"
    assert DecisionMade.model_validate(refusal.decision).appeal_by is not None

    appeal, lodged = await lodge(sessions, application_id, now)
    [lodged_event] = lodged
    assert isinstance(lodged_event.payload, AppealLodged)
    assert lodged_event.envelope.actor == WORKER
    assert lodged_event.payload.decision_event_id == refusal.event_id
    with pytest.raises(AppealRefused) as again:
        await lodge(sessions, application_id, now)
    assert again.value.code == "appeal-open"

    verdict = steps.Verdict(AppealStatus.OVERTURNED, "the disability was overlooked", need_level=2)
    decided_appeal, events = await decide(sessions, appeal.id, verdict)
    verdict_event, decision_event, public_event = events
    assert isinstance(verdict_event.payload, AppealDecided)
    assert verdict_event.envelope.actor == REVIEWER
    made = decision_event.payload
    assert isinstance(made, DecisionMade)
    assert (made.outcome, made.appeal_id, made.need_level) == (Outcome.ELIGIBLE, appeal.id, 2)
    assert [t.value for t in made.provision_types] == ["home_care"]
    assert made.person_ref == "ab" * 16
    assert decision_event.envelope.causation_id == verdict_event.envelope.event_id
    assert decision_event.envelope.actor is None
    assert public_event.topic is topics.PUBLIC_APPLICATION_DECIDED
    assert decided_appeal.new_decision_event_id == decision_event.envelope.event_id

    first, second = await history(sessions, application_id)
    assert (first.event_id, first.outcome, first.appeal_id) == (
        refusal.event_id,
        "ineligible",
        None,
    )
    assert (second.outcome, second.appeal_id) == ("eligible", appeal.id)
    assert second.decision == made.model_dump(mode="json")
    async with sessions() as session:
        current = await current_decision(session, application_id)
        by_rules = (await session.exec(latest_only(select(DecisionRow), by_rules=True))).all()
    assert current is not None
    assert current.event_id == decision_event.envelope.event_id
    # The simulation replays what the rules decided, not the reviewer's overturn.
    assert [row.event_id for row in by_rules] == [refusal.event_id]
    with pytest.raises(AppealRefused) as twice:
        await decide(sessions, appeal.id, verdict)
    assert twice.value.code == "appeal-decided"


async def test_an_upheld_appeal_changes_no_decision_and_a_late_one_is_refused(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    now = datetime.now(UTC)
    application_id = await decided(sessions, now)
    appeal, _ = await lodge(sessions, application_id, now)
    row, events = await decide(
        sessions, appeal.id, steps.Verdict(AppealStatus.UPHELD, "the rules were applied rightly")
    )
    assert [e.topic for e in events] == [topics.APPEAL_DECIDED]
    assert (row.status, row.decided_by, row.reasons) == (
        "upheld",
        "reviewer:r-1",
        "the rules were applied rightly",
    )
    assert len(await history(sessions, application_id)) == 1

    late = await decided(sessions, now - timedelta(days=POLICY.lodging_days.decision + 2))
    with pytest.raises(AppealRefused) as refused:
        await lodge(sessions, late, now)
    assert (refused.value.status, refused.value.code) == (422, "appeal-deadline-passed")


async def test_erasure_anonymises_every_decision_and_what_the_appeal_said(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    now = datetime.now(UTC)
    application_id = await decided(sessions, now)
    appeal, _ = await lodge(sessions, application_id, now)
    await decide(sessions, appeal.id, steps.Verdict(AppealStatus.OVERTURNED, "reasons"))
    erased = SubjectErased(
        application_id=application_id,
        erasure_id=uuid4(),
        person_ref="ab" * 16,
        reason=ErasureReason.SUBJECT_REQUEST,
        legal_basis="test",
        erased_at=now,
    )
    event = new_event(topics.SUBJECT_ERASED, erased, producer="t", application_id=application_id)
    for _ in range(2):  # a repeat finds nothing left to anonymise
        async with transaction(sessions) as session:
            await on_subjects_erased(session, [Received(event.envelope, erased)])
    rows = await history(sessions, application_id)
    assert len(rows) == 2
    assert all(row.facts == {} and row.erased_at is not None for row in rows)
    assert all("facts" not in rule for row in rows for rule in row.decision["rules"])
    assert [row.outcome for row in rows] == ["ineligible", "eligible"]
    async with sessions() as session:
        kept: Any = await session.get(AppealRow, appeal.id)
    assert (kept.grounds, kept.reasons, kept.status) == ("", None, "overturned")


async def ended(
    sessions: async_sessionmaker[AsyncSession], application_id: UUID, reason: str, at: datetime
) -> None:
    released = PlacementReleased(
        application_id=application_id,
        placement_id=uuid4(),
        provider_id="hc-test",
        reason=reason,
        released_at=at,
    )
    event = new_event(
        topics.PLACEMENT_RELEASED, released, producer="t", application_id=application_id
    )
    for _ in range(2):  # a repeat is ignored
        async with transaction(sessions) as session:
            await on_placements_released(session, [Received(event.envelope, released)])


async def test_an_ended_placement_is_appealed_and_an_overturn_decides_again(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    now = datetime.now(UTC)
    application_id = await decided(sessions, now - timedelta(days=3))
    about_placement = steps.Lodging("the service ended too soon", subject=AppealSubject.PLACEMENT)

    async def lodge_placement() -> tuple[AppealRow, list[Event]]:
        async with transaction(sessions) as session:
            return await steps.lodge(
                session, application_id, about_placement, WORKER, POLICY, now=now
            )

    with pytest.raises(AppealRefused) as nothing_ended:
        await lodge_placement()
    assert nothing_ended.value.status == 404
    await ended(sessions, application_id, "declined", now - timedelta(days=2))
    with pytest.raises(AppealRefused) as declined:
        await lodge_placement()
    assert declined.value.code == "not-appealable"
    await ended(sessions, application_id, "service_ended", now - timedelta(days=1))
    appeal, [lodged] = await lodge_placement()
    assert isinstance(lodged.payload, AppealLodged)
    assert lodged.payload.subject is AppealSubject.PLACEMENT
    assert lodged.payload.placement_event_id == appeal.placement_event_id is not None
    assert appeal.respond_by - now < timedelta(days=POLICY.review_days.placement + 1)

    verdict = steps.Verdict(AppealStatus.OVERTURNED, "the need has not changed", need_level=2)
    _, events = await decide(sessions, appeal.id, verdict)
    made = events[1].payload
    assert isinstance(made, DecisionMade)
    assert (made.outcome, made.appeal_id) == (Outcome.ELIGIBLE, appeal.id)
    assert [row.appeal_id for row in await history(sessions, application_id)] == [None, appeal.id]


async def test_nothing_is_appealed_or_overturned_once_consent_is_withdrawn(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    now = datetime.now(UTC)
    lodged_first = await decided(sessions, now)
    appeal, _ = await lodge(sessions, lodged_first, now)
    withdrawn_later = await decided(sessions, now)
    for application_id in (lodged_first, withdrawn_later):
        withdrawal = ConsentWithdrawn(
            application_id=application_id,
            withdrawn_at=now,
            reason=WithdrawalReason.CITIZEN_REQUEST,
            text_version="2026.1",
            purposes=list(ConsentPurpose),
            withdrawn_by="social_worker:w-1",
        )
        event = new_event(
            topics.CONSENT_WITHDRAWN, withdrawal, producer="t", application_id=application_id
        )
        async with transaction(sessions) as session:
            await record_withdrawals(session, [Received(event.envelope, withdrawal)])
    with pytest.raises(AppealRefused) as refused:
        await lodge(sessions, withdrawn_later, now)
    assert (refused.value.status, refused.value.code) == (409, "consent-withdrawn")
    with pytest.raises(AppealRefused) as not_overturned:
        await decide(sessions, appeal.id, steps.Verdict(AppealStatus.OVERTURNED, "reasons"))
    assert not_overturned.value.code == "consent-withdrawn"
    upheld, _ = await decide(sessions, appeal.id, steps.Verdict(AppealStatus.UPHELD, "withdrawn"))
    assert upheld.status == "upheld"
    assert len(await history(sessions, lodged_first)) == 1
