"""Lodging and deciding an appeal, each in the caller's transaction: read, apply the rules, write
the row and return the events (the appeal's own, and on an overturn the new decision)."""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid4

from sqlmodel.ext.asyncio.session import AsyncSession

from eligibility.appeals import rules
from eligibility.appeals.policy import AppealPolicy
from eligibility.appeals.store import (
    AppealRow,
    PlacementEndingRow,
    appeal_for_update,
    latest_ending,
    open_appeal_of,
)
from eligibility.assessment import BAKU, age_band_of
from eligibility.store import (
    current_decision,
    decision_by_event,
    history_row,
    save_decisions,
)
from socialsvc_common.contract import topics
from socialsvc_common.contract.actor import Actor
from socialsvc_common.contract.appeals import (
    AppealDecided,
    AppealLodged,
    AppealStatus,
    AppealSubject,
)
from socialsvc_common.contract.envelope import Event, new_event
from socialsvc_common.contract.payloads import DecisionMade, ProvisionType
from socialsvc_common.public_stream import PublicStream
from socialsvc_common.withdrawals import withdrawn_of

NAME = "eligibility"


@dataclass(frozen=True)
class Lodging:
    grounds: str
    claimed_need_level: int | None = None
    subject: AppealSubject = AppealSubject.DECISION


@dataclass(frozen=True)
class Verdict:
    status: AppealStatus
    reasons: str
    need_level: int | None = None
    provision_types: list[ProvisionType] | None = None


def _not_found(what: str) -> rules.AppealRefused:
    return rules.AppealRefused(404, "not-found", what)


async def _refuse_withdrawn(session: AsyncSession, application_id: UUID) -> None:
    # Nothing more is decided for an application whose consent was withdrawn.
    if await withdrawn_of(session, {application_id}):
        raise rules.AppealRefused(
            409,
            "consent-withdrawn",
            f"consent to application {application_id} was withdrawn: nothing more is decided",
        )


async def lodge(
    session: AsyncSession,
    application_id: UUID,
    lodging: Lodging,
    actor: Actor,
    policy: AppealPolicy,
    *,
    now: datetime,
) -> tuple[AppealRow, list[Event]]:
    """An appeal against the application's current decision, or about its latest placement's
    refusal or release (an overturn then decides it again as the current decision did)."""
    current = await current_decision(session, application_id)
    if current is None:
        raise _not_found(f"no decision on application {application_id} to appeal against")
    await _refuse_withdrawn(session, application_id)
    open_appeal = await open_appeal_of(session, application_id)
    subject, ending = lodging.subject, None
    if subject is AppealSubject.DECISION:
        rules.check_lodging(
            DecisionMade.model_validate(current.decision),
            claimed_need_level=lodging.claimed_need_level,
            open_appeal=open_appeal,
            now=now,
            policy=policy,
        )
    else:
        ending = await _ending_to_appeal(session, application_id, open_appeal, policy, now=now)
    placement_event_id = ending.event_id if ending else None
    appeal = AppealRow(
        id=uuid4(),
        application_id=application_id,
        subject=subject.value,
        decision_event_id=current.event_id,
        placement_event_id=placement_event_id,
        status=AppealStatus.LODGED.value,
        grounds=lodging.grounds,
        claimed_need_level=lodging.claimed_need_level,
        lodged_at=now,
        lodged_by=str(actor),
        respond_by=rules.respond_by(now, policy, subject),
        policy_version=policy.version,
    )
    session.add(appeal)
    lodged = AppealLodged(
        appeal_id=appeal.id,
        application_id=application_id,
        subject=subject,
        decision_event_id=current.event_id,
        placement_event_id=placement_event_id,
        lodged_at=now,
        lodged_by=str(actor),
        respond_by=appeal.respond_by,
    )
    event = new_event(
        topics.APPEAL_LODGED, lodged, producer=NAME, application_id=application_id, actor=actor
    )
    return appeal, [event]


async def _ending_to_appeal(
    session: AsyncSession,
    application_id: UUID,
    open_appeal: UUID | None,
    policy: AppealPolicy,
    *,
    now: datetime,
) -> PlacementEndingRow:
    ending = await latest_ending(session, application_id)
    if ending is None:
        raise _not_found(f"no placement of application {application_id} was refused or ended")
    rules.check_placement_lodging(
        ending.kind, ending.reason, ending.ended_at, open_appeal=open_appeal, now=now, policy=policy
    )
    return ending


async def decide(
    session: AsyncSession,
    appeal_id: UUID,
    verdict: Verdict,
    actor: Actor,
    public: PublicStream,
    *,
    now: datetime,
) -> tuple[AppealRow, list[Event]]:
    """The reviewer's verdict; an overturn adds a new decision to the history, caused by it."""
    appeal = await appeal_for_update(session, appeal_id)
    if appeal is None:
        raise _not_found(f"no appeal {appeal_id}")
    rules.check_decidable(AppealStatus(appeal.status))
    decided = AppealDecided(
        appeal_id=appeal.id,
        application_id=appeal.application_id,
        status=verdict.status,
        decided_at=now,
        decided_by=str(actor),
        overdue=rules.is_overdue(AppealStatus.LODGED, appeal.respond_by, now),
    )
    event = new_event(
        topics.APPEAL_DECIDED,
        decided,
        producer=NAME,
        application_id=appeal.application_id,
        actor=actor,
    )
    events = [event]
    if verdict.status is AppealStatus.OVERTURNED:
        await _refuse_withdrawn(session, appeal.application_id)
        events += await _overturn(session, appeal, verdict, event, public, now=now)
    appeal.status, appeal.reasons = verdict.status.value, verdict.reasons
    appeal.decided_at, appeal.decided_by = now, str(actor)
    session.add(appeal)
    return appeal, events


async def _overturn(
    session: AsyncSession,
    appeal: AppealRow,
    verdict: Verdict,
    cause: Event,
    public: PublicStream,
    *,
    now: datetime,
) -> list[Event]:
    appealed_row = await decision_by_event(session, appeal.decision_event_id)
    if appealed_row is None:
        raise _not_found(f"the decision appeal {appeal.id} is about is no longer kept")
    appealed = DecisionMade.model_validate(appealed_row.decision)
    provisions = rules.granted_provisions(
        appealed, appealed_row.facts.get("service_requested"), verdict.provision_types
    )
    made = rules.overturned_decision(
        appealed,
        appeal_id=appeal.id,
        provisions=provisions,
        need_level=verdict.need_level or appeal.claimed_need_level,
        now=now,
        # The age the appealed decision was made on: an overturn does not run the rules again.
        age_band=appealed.age_band
        or age_band_of(appealed_row.facts, appealed.decided_at.astimezone(BAKU).date()),
    )
    event = new_event(
        topics.DECISION_MADE,
        made,
        producer=NAME,
        application_id=made.application_id,
        cause=cause.envelope,
    )
    decided_on = made.decided_at.astimezone(rules.BAKU).date()
    entry = history_row(
        made, event.envelope.event_id, decided_on=decided_on, facts=appealed_row.facts
    )
    await save_decisions(session, [entry])
    appeal.new_decision_event_id = event.envelope.event_id
    return [event, public.decided(made)]
