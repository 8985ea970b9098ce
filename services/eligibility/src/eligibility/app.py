"""Composition root of eligibility: settings, rule sets, the decision handler, HTTP."""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import FastAPI
from pydantic import Field, field_validator
from sqlmodel.ext.asyncio.session import AsyncSession

from eligibility.appeals.api import appeals_router
from eligibility.appeals.endings import on_placements_refused, on_placements_released
from eligibility.appeals.overdue import OverdueAppeals
from eligibility.appeals.policy import DEFAULT_POLICY, AppealPolicy, load_appeal_policy
from eligibility.appeals.rules import appeal_by
from eligibility.appeals.store import endings_rule
from eligibility.assessment import age_band_of
from eligibility.erasure import holdings, on_subjects_erased
from eligibility.policy_store import RuleSets
from eligibility.prescreens import save_new, screened
from eligibility.reviews import decide_reviews
from eligibility.rules import decide
from eligibility.ruleset import RuleSet, default_rule_sets, rule_set_for
from eligibility.schema import SCHEMA
from eligibility.store import history_row, save_decisions
from socialsvc_common.auth import ApiSettings, install_api_keys
from socialsvc_common.consumer import Received
from socialsvc_common.contract import topics
from socialsvc_common.contract.appeals import AppealSubject
from socialsvc_common.contract.envelope import Event, new_event
from socialsvc_common.contract.payloads import (
    ApplicationReceived,
    ConsentWithdrawn,
    DecisionMade,
    LifeEventRecorded,
    Outcome,
    Registry,
    ReviewDue,
)
from socialsvc_common.life_events import from_its_registry
from socialsvc_common.problems import install_problem_handlers
from socialsvc_common.public_stream import PublicStream
from socialsvc_common.service import Runtime, build_runtime, service_app
from socialsvc_common.settings import PseudonymSettings, service_config
from socialsvc_common.subject_access import holdings_router
from socialsvc_common.withdrawals import record_withdrawals, withdrawn_of

NAME = "eligibility"
# Everything eligibility writes (its AsyncAPI document is generated from this).
PUBLISHES = (
    topics.DECISION_MADE,
    topics.PRESCREEN_MADE,
    topics.APPEAL_LODGED,
    topics.APPEAL_DECIDED,
    topics.PUBLIC_APPLICATION_DECIDED,
)
# Rule sets take effect on calendar days in Azerbaijan.
BAKU = ZoneInfo("Asia/Baku")
# Days a placement's refusal or release is kept beyond the last day it can be appealed.
ENDINGS_GRACE_DAYS = 5


class EligibilitySettings(PseudonymSettings, ApiSettings):
    model_config = service_config("ELIGIBILITY_")

    http_port: int = 8001
    appeal_policy_file: Path = Field(
        default=DEFAULT_POLICY, description="days to lodge and to review an appeal (TOML)"
    )
    appeals_overdue_check_seconds: float = Field(default=300.0, gt=0, le=86400)

    @field_validator("appeal_policy_file")
    @classmethod
    def _policy_loads(cls, value: Path) -> Path:
        load_appeal_policy(value)
        return value


def register_handlers(
    runtime: Runtime, rule_sets: RuleSets, public: PublicStream, policy: AppealPolicy
) -> None:
    @runtime.consumer.handle(topics.APPLICATION_RECEIVED)
    async def on_applications_received(
        session: AsyncSession, batch: Sequence[Received[ApplicationReceived]]
    ) -> list[Event]:
        # Read within this session, so versions activated since start-up are seen.
        in_force = await rule_sets.current(session)
        withdrawn = await withdrawn_of(session, {item.payload.application_id for item in batch})
        if withdrawn:
            runtime.logger.info("not decided: consent withdrawn", applications=len(withdrawn))
        now = datetime.now(UTC)
        decided = [
            decision_for(item, in_force, public, now, policy)
            for item in batch
            if item.payload.application_id not in withdrawn
        ]
        # A new application.received for the same application (added facts) decides it again;
        # the new decision joins the history and supersedes the old one.
        await save_decisions(session, [row for row, _ in decided])
        return [event for _, events in decided for event in events]

    for registry, topic in topics.LIFE_EVENTS.items():
        register_prescreening(runtime, rule_sets, registry, topic)

    @runtime.consumer.handle(topics.REVIEW_DUE)
    async def on_reviews_due(
        session: AsyncSession, batch: Sequence[Received[ReviewDue]]
    ) -> list[Event]:
        in_force = await rule_sets.current(session)
        now = datetime.now(UTC)
        events, undecidable = await decide_reviews(
            session, batch, in_force, public, policy, today=now.astimezone(BAKU).date(), now=now
        )
        if undecidable:
            runtime.logger.warning("reviews not decided: no facts held", reviews=undecidable)
        return events

    @runtime.consumer.handle(topics.CONSENT_WITHDRAWN)
    async def on_consent_withdrawn(
        session: AsyncSession, batch: Sequence[Received[ConsentWithdrawn]]
    ) -> list[Event]:
        # A decision made before stays (it explains what happened); none is made after.
        await record_withdrawals(session, batch)
        return []


def register_prescreening(
    runtime: Runtime, rule_sets: RuleSets, registry: Registry, topic: topics.Topic
) -> None:
    """One registry's life events, each pre-screened once by the rule set in force today."""

    @runtime.consumer.handle(topic)
    async def on_life_events(
        session: AsyncSession, batch: Sequence[Received[LifeEventRecorded]]
    ) -> list[Event]:
        for item in batch:
            from_its_registry(item, registry)
        in_force = await rule_sets.current(session)
        now = datetime.now(UTC)
        today = now.astimezone(BAKU).date()
        rule_set = rule_set_for(in_force, today)
        events = await save_new(session, [screened(item, rule_set, today, now) for item in batch])
        if len(events) < len(batch):
            runtime.logger.info(
                "life events seen before", registry=registry.value, count=len(batch) - len(events)
            )
        return events


def decision_for(
    item: Received[ApplicationReceived],
    in_force: Sequence[RuleSet],
    public: PublicStream,
    now: datetime,
    policy: AppealPolicy,
) -> tuple[dict[str, Any], list[Event]]:
    """The decision on one application (its row and its events), in pure code. A refusal says
    until when it may be appealed."""
    application = item.payload
    submitted_on = application.submitted_at.astimezone(BAKU).date()
    decision = decide(application, rule_set_for(in_force, submitted_on), today=submitted_on)
    refused = decision.outcome is not Outcome.ELIGIBLE
    facts = application.model_dump(mode="json", include={"service_requested", "circumstances"})
    facts["birth_date"] = application.applicant.birth_date.isoformat()
    made = DecisionMade(
        application_id=application.application_id,
        decided_at=now,
        district=application.applicant.district,
        person_ref=application.person_ref,
        appeal_by=appeal_by(now, policy) if refused else None,
        age_band=age_band_of(facts, submitted_on),
        **decision.model_dump(),
    )
    event = new_event(
        topics.DECISION_MADE,
        made,
        producer=NAME,
        application_id=made.application_id,
        cause=item.envelope,
    )
    row = history_row(made, event.envelope.event_id, decided_on=submitted_on, facts=facts)
    return row, [event, public.decided(made)]


def build_app(settings: EligibilitySettings | None = None) -> FastAPI:
    # Packaged files are read now, so a broken one stops the service at start-up.
    settings = settings or EligibilitySettings()
    rule_sets = RuleSets(default_rule_sets())
    policy = load_appeal_policy(settings.appeal_policy_file)
    runtime = build_runtime(NAME, settings, SCHEMA, publishes=PUBLISHES)
    public = PublicStream(NAME, settings.pseudonym_key_bytes)
    register_handlers(runtime, rule_sets, public, policy)
    runtime.consumer.handle(topics.SUBJECT_ERASED)(on_subjects_erased)
    runtime.consumer.handle(topics.PLACEMENT_REFUSED)(on_placements_refused)
    runtime.consumer.handle(topics.PLACEMENT_RELEASED)(on_placements_released)
    # A refusal or release is kept while an appeal about it could still be lodged.
    keep = timedelta(days=policy.lodging_days.of(AppealSubject.PLACEMENT) + ENDINGS_GRACE_DAYS)
    runtime.retention.append(endings_rule(keep))
    app = service_app(
        runtime, title="Eligibility", description="Decides applications by versioned rules."
    )
    install_problem_handlers(app)
    install_api_keys(app, settings.key_store())
    app.include_router(holdings_router(runtime, holdings))
    app.include_router(appeals_router(runtime, policy, public, settings.pseudonym_key_bytes))
    overdue = OverdueAppeals(
        runtime.sessions, runtime.metrics, settings.appeals_overdue_check_seconds
    )
    runtime.background.append(overdue.run)
    runtime.stopping.append(overdue.stop)
    return app
