"""Composition root of intake: settings, runtime, event handlers and the HTTP API."""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from pydantic import Field
from sqlmodel.ext.asyncio.session import AsyncSession

from intake.api import applications_router, submission_commit
from intake.applications import (
    BAKU,
    NAME,
    DuplicateApplication,
    Submission,
    Submit,
    submit_all,
)
from intake.casework_api import cases_router
from intake.consent_api import consent_router
from intake.consent_texts import ConsentTexts, load_consent_texts
from intake.information_policy import POLICY_FILE as INFORMATION_POLICY_FILE
from intake.information_policy import InformationPolicy
from intake.information_sweeper import InformationSweeper
from intake.journey import record_events
from intake.offer_sweeper import OfferSweeper
from intake.offers import keep_life_events, keep_screens, offer_where_due
from intake.offers_api import offers_router
from intake.portal_api import portal_router
from intake.retention import RetentionPolicy
from intake.retention_sweeper import RetentionSweeper
from intake.schema import SCHEMA
from intake.store import journey_rule
from intake.subject_api import subjects_router
from intake.visits import on_visits_requested
from intake.visits_api import visits_router
from socialsvc_common.apikeys import Role
from socialsvc_common.auth import ApiSettings, install_api_keys
from socialsvc_common.consumer import Handler, Received, Rejected
from socialsvc_common.contract import topics
from socialsvc_common.contract.actor import Actor
from socialsvc_common.contract.envelope import Envelope, Event
from socialsvc_common.contract.payloads import (
    ApplicationForm,
    LifeEventRecorded,
    PrescreenMade,
    Registry,
)
from socialsvc_common.life_events import from_its_registry
from socialsvc_common.problems import Problem, install_problem_handlers
from socialsvc_common.service import Runtime, build_runtime, service_app
from socialsvc_common.settings import PseudonymSettings, service_config

JOURNEY_TOPICS = (
    topics.DECISION_MADE,
    topics.PLACEMENT_MADE,
    topics.PLACEMENT_WAITLISTED,
    topics.PLACEMENT_UPDATED,
    topics.PLACEMENT_REFUSED,
    topics.PLACEMENT_RELEASED,
    topics.NOTIFICATION_DELIVERED,
    topics.NOTIFICATION_FAILED,
)
EGOV_NAMESPACE = uuid.UUID("5f0e4c1a-8f55-4a39-9d0b-2b7c8f6f0e11")
# The submitting client of an e-government record that does not name one (ce_actor).
EGOV_GATEWAY = Actor(role=Role.SUBMITTER, name="egov-gateway")
# The roles that may submit, on this channel as over HTTP.
SUBMITTING = frozenset({Role.SUBMITTER, Role.SOCIAL_WORKER})
# Everything intake writes (its AsyncAPI document is generated from this).
PUBLISHES = (
    topics.APPLICATION_RECEIVED,
    topics.CONSENT_WITHDRAWN,
    topics.INFORMATION_REMINDED,
    topics.APPLICATION_EXPIRED,
    topics.OFFER_MADE,
    topics.OFFER_UPDATED,
    topics.PUBLIC_APPLICATION_RECEIVED,
    topics.SUBJECT_ERASED,
)


class IntakeSettings(PseudonymSettings, ApiSettings):
    model_config = service_config("INTAKE_")

    journey_keep_days: float = Field(
        default=400.0, gt=0, description="days a closed application's journey is kept"
    )
    retention_sweep_seconds: float = Field(
        default=3600, gt=0, description="how often people whose retention ended are erased"
    )
    information_policy_file: Path = Field(
        default=INFORMATION_POLICY_FILE,
        description="when a person waiting to send facts is reminded and their application expires",
    )
    information_sweep_seconds: float = Field(
        default=300, gt=0, description="how often applications waiting for facts are looked at"
    )
    offer_answer_days: int = Field(
        default=30,
        ge=1,
        le=365,
        description="days a person has to accept a proactive offer; no answer by then is a no",
    )
    offer_sweep_seconds: float = Field(
        default=600, gt=0, description="how often offers unanswered past their day are lapsed"
    )
    group_commit_linger_ms: int = Field(
        default=50,
        ge=0,
        le=200,
        description="how long a submission after a quiet moment waits for others to share its "
        "transaction (0: none); fewer commits at moderate load, for this much more time before "
        "the answer",
    )


def egov_submitter(envelope: Envelope) -> Actor:
    """Who submitted an e-government record: the client it names, else the gateway itself."""
    actor = envelope.actor or EGOV_GATEWAY
    if actor.role not in SUBMITTING:
        raise Rejected(
            "the e-government channel takes submissions from submitters and social workers, "
            f"not from the role {actor.role}"
        )
    return actor


def register_handlers(
    runtime: Runtime, key: bytes, consent_texts: ConsentTexts, answer_days: int = 30
) -> None:
    for topic in JOURNEY_TOPICS:
        runtime.consumer.handle(topic)(record_events)
    # A request for a home visit is a journey step too, and a visit in the workers' queue.
    runtime.consumer.handle(topics.HOME_VISIT_REQUESTED)(on_visits_requested)

    async def offer(
        session: AsyncSession, ids: set[uuid.UUID], causes: dict[Any, Any]
    ) -> list[Event]:
        now = datetime.now(UTC)
        today = now.astimezone(BAKU).date()
        return await offer_where_due(
            session, ids, now=now, today=today, answer_days=answer_days, causes=causes
        )

    @runtime.consumer.handle(topics.PRESCREEN_MADE)
    async def on_prescreens(
        session: AsyncSession, batch: Sequence[Received[PrescreenMade]]
    ) -> list[Event]:
        new = await keep_screens(session, batch)
        return await offer(session, new, {i.payload.life_event_id: i.envelope for i in batch})

    def keeping(registry: Registry) -> Handler:
        async def on_life_events(
            session: AsyncSession, batch: Sequence[Received[LifeEventRecorded]]
        ) -> list[Event]:
            for item in batch:
                from_its_registry(item, registry)
            new = await keep_life_events(session, batch, datetime.now(UTC))
            return await offer(session, new, {i.payload.life_event_id: i.envelope for i in batch})

        return on_life_events

    for registry, topic in topics.LIFE_EVENTS.items():
        runtime.consumer.handle(topic)(keeping(registry))

    @runtime.consumer.handle(topics.EGOV_APPLICATION_SUBMITTED)
    async def on_egov_submissions(
        session: AsyncSession, batch: Sequence[Received[ApplicationForm]]
    ) -> list[Event]:
        commands = [
            Submit(
                item.payload,
                "egov",
                f"egov:{item.envelope.event_id}",
                egov_submitter(item.envelope),
                uuid.uuid5(EGOV_NAMESPACE, str(item.envelope.event_id)),
            )
            for item in batch
        ]
        outcomes = await submit_all(
            session, commands, pseudonym_key=key, consent_texts=consent_texts
        )
        for outcome in outcomes:
            # The batch is applied again one by one, where this submission alone is refused.
            if isinstance(outcome, DuplicateApplication):
                raise Rejected(outcome.detail) from outcome
            if isinstance(outcome, Problem):
                raise outcome
        return [event for o in outcomes if isinstance(o, Submission) for event in o.events]


def build_app(settings: IntakeSettings | None = None) -> FastAPI:
    # Packaged files are read now, so a broken consent text stops the service at start-up.
    settings = settings or IntakeSettings()
    key = settings.pseudonym_key_bytes
    consent_texts = load_consent_texts()
    runtime = build_runtime(NAME, settings, SCHEMA, publishes=PUBLISHES)
    register_handlers(runtime, key, consent_texts, settings.offer_answer_days)
    runtime.retention.append(journey_rule(timedelta(days=settings.journey_keep_days)))
    app = service_app(
        runtime,
        title="Intake",
        description="Takes social-service applications in and keeps each one's journey.",
    )
    install_problem_handlers(app)
    install_api_keys(app, settings.key_store())
    submissions = submission_commit(
        runtime, key, consent_texts, settings.group_commit_linger_ms / 1000
    )
    app.include_router(applications_router(runtime, key, submissions))
    app.include_router(consent_router(runtime, consent_texts))
    app.include_router(portal_router(runtime, key, submissions))
    app.include_router(offers_router(runtime, submissions))
    app.include_router(cases_router(runtime))
    app.include_router(visits_router(runtime))
    # The policy file is read now, so a broken one stops the service at start-up.
    policy = RetentionPolicy.load()
    app.include_router(subjects_router(runtime, key, policy))
    sweeper = RetentionSweeper(
        runtime.sessions,
        runtime.relay.wake,
        policy,
        key,
        every_seconds=settings.retention_sweep_seconds,
    )
    runtime.background.append(sweeper.run)
    runtime.stopping.append(sweeper.stop)
    information = InformationSweeper(
        runtime.sessions,
        runtime.relay.wake,
        InformationPolicy.load(settings.information_policy_file),
        every_seconds=settings.information_sweep_seconds,
    )
    runtime.background.append(information.run)
    runtime.stopping.append(information.stop)
    offers = OfferSweeper(
        runtime.sessions, runtime.relay.wake, every_seconds=settings.offer_sweep_seconds
    )
    runtime.background.append(offers.run)
    runtime.stopping.append(offers.stop)
    return app
