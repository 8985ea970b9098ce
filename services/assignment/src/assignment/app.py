"""Composition root of assignment: registry, ledger, the placement handler and the HTTP API."""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, FastAPI, Query
from prometheus_client import Counter
from pydantic import BaseModel, Field
from sqlmodel.ext.asyncio.session import AsyncSession

from assignment.erasure import holdings, on_subjects_erased
from assignment.lifecycle import OfferSweeper, advance, decline, end
from assignment.placements import NAME, Registry
from assignment.placing import place_all
from assignment.portal_api import portal_router
from assignment.provider_api import providers_router
from assignment.provider_views import Shown
from assignment.provider_workspace_api import provider_workspace_router
from assignment.providers import ProviderCache, seed
from assignment.queues import lapsing_by, lapsing_only, placements_listed, staff_views
from assignment.registry import Provider, load_providers
from assignment.review_api import reviews_router
from assignment.review_policy import load_review_policy
from assignment.reviewing import ReviewSweeper, conclude_reviews
from assignment.schema import SCHEMA
from assignment.scope import placement_for
from assignment.steps import Work, run_step
from assignment.withdrawing import withdraw_all
from socialsvc_common.apikeys import Caller, Role
from socialsvc_common.auth import AUTH_RESPONSES, ApiSettings, install_api_keys, require
from socialsvc_common.consumer import Received
from socialsvc_common.contract import topics
from socialsvc_common.contract.actor import Actor
from socialsvc_common.contract.envelope import Event
from socialsvc_common.contract.payloads import (
    ConsentWithdrawn,
    DecisionMade,
    PlacementStatus,
    ReleaseReason,
)
from socialsvc_common.db import transaction
from socialsvc_common.geography import load_geography
from socialsvc_common.problems import Problem, install_problem_handlers
from socialsvc_common.public_stream import PublicStream
from socialsvc_common.service import Runtime, build_runtime, service_app
from socialsvc_common.settings import PseudonymSettings, service_config
from socialsvc_common.subject_access import holdings_router

PROBLEM: dict[int | str, dict[str, Any]] = {404: {}, 409: {}, 422: {}}
# Everything assignment writes (its AsyncAPI document is generated from this).
PUBLISHES = (
    topics.PLACEMENT_MADE,
    topics.PLACEMENT_WAITLISTED,
    topics.PLACEMENT_REFUSED,
    topics.PLACEMENT_UPDATED,
    topics.PLACEMENT_RELEASED,
    topics.REVIEW_DUE,
    topics.REVIEW_CONCLUDED,
    topics.REVIEW_OVERDUE,
    topics.SERVICE_DELIVERED,
    topics.PUBLIC_APPLICATION_PLACED,
    topics.PUBLIC_APPLICATION_WAITLISTED,
    topics.PUBLIC_APPLICATION_RELEASED,
    topics.PUBLIC_PROVIDER_CHANGED,
)


class AssignmentSettings(PseudonymSettings, ApiSettings):
    model_config = service_config("ASSIGNMENT_")

    http_port: int = 8002
    providers_file: Path | None = Field(
        default=None, description="provider registry (TOML); the packaged demo registry by default"
    )
    # Policy parameters: how long an offer waits for an answer, how often lapses are looked for.
    offer_days: float = Field(default=7.0, gt=0, le=90)
    offer_sweep_seconds: float = Field(default=5.0, gt=0, le=3600)
    review_policy_file: Path | None = Field(
        default=None,
        description="review policy (TOML); the packaged policy/reviews.toml by default",
    )
    review_sweep_seconds: float = Field(default=60.0, gt=0, le=3600)
    # A provider's workspace warns this many days before its social-order contract ends.
    contract_warning_days: int = Field(default=30, ge=0, le=365)


class Release(BaseModel):
    reason: ReleaseReason = Field(description="why the place is given up; recorded and published")


# What a provider may say ended a service it gives; the other reasons are the person's or the
# platform's to give (a declined offer, a lapse, a withdrawal of consent, a review's end).
PROVIDER_RELEASE_REASONS = frozenset(
    {ReleaseReason.SERVICE_ENDED, ReleaseReason.MOVED, ReleaseReason.DIED, ReleaseReason.OTHER}
)


def register_handlers(runtime: Runtime, registry: Registry, seed_providers: list[Provider]) -> None:
    @runtime.consumer.handle(topics.DECISION_MADE)
    async def on_decisions(
        session: AsyncSession, batch: Sequence[Received[DecisionMade]]
    ) -> list[Event]:
        # A decision a review caused is applied to the placement under review; others place.
        reviewed = [item for item in batch if item.payload.review_id is not None]
        events = await conclude_reviews(session, registry, reviewed) if reviewed else []
        return events + await place_all(session, registry, batch)

    @runtime.consumer.handle(topics.CONSENT_WITHDRAWN)
    async def on_consent_withdrawn(
        session: AsyncSession, batch: Sequence[Received[ConsentWithdrawn]]
    ) -> list[Event]:
        return await withdraw_all(session, registry, batch)

    async def seed_registry() -> None:
        async with transaction(runtime.sessions) as session:
            added = await seed(session, seed_providers, registry.geography)
        runtime.logger.info("provider registry ready", seeded=added)

    runtime.on_start.append(seed_registry)


def router(runtime: Runtime, registry: Registry) -> APIRouter:
    api = APIRouter(tags=["placements"], responses=AUTH_RESPONSES)
    # Operators move any placement along; a provider its own (another's is 404).
    Mover = Annotated[Caller, require(Role.OPERATOR, Role.PROVIDER)]
    Staff = Annotated[Caller, require(Role.SOCIAL_WORKER, Role.REVIEWER, Role.OPERATOR)]

    async def step(caller: Caller, placement_id: UUID, work: Work) -> dict[str, Any]:
        async def checked(session: AsyncSession) -> list[Event]:
            await placement_for(session, placement_id, caller)
            return await work(session)

        return await run_step(runtime, checked)

    @api.post("/placements/{placement_id}/accept", status_code=202, responses=PROBLEM)
    async def accept(placement_id: UUID, caller: Mover) -> dict[str, Any]:
        actor = Actor.of(caller)
        return await step(
            caller,
            placement_id,
            lambda s: advance(s, registry, placement_id, PlacementStatus.ACCEPTED, actor),
        )

    @api.post("/placements/{placement_id}/start", status_code=202, responses=PROBLEM)
    async def start(placement_id: UUID, caller: Mover) -> dict[str, Any]:
        actor = Actor.of(caller)
        return await step(
            caller,
            placement_id,
            lambda s: advance(s, registry, placement_id, PlacementStatus.STARTED, actor),
        )

    @api.post("/placements/{placement_id}/decline", status_code=202, responses=PROBLEM)
    async def decline_offer(placement_id: UUID, caller: Mover) -> dict[str, Any]:
        actor = Actor.of(caller)
        return await step(caller, placement_id, lambda s: decline(s, registry, placement_id, actor))

    @api.post("/placements/{placement_id}/release", status_code=202, responses=PROBLEM)
    async def release_placement(placement_id: UUID, body: Release, caller: Mover) -> dict[str, Any]:
        if caller.role is Role.PROVIDER and body.reason not in PROVIDER_RELEASE_REASONS:
            allowed = ", ".join(sorted(PROVIDER_RELEASE_REASONS))
            raise Problem(
                422,
                "reason-not-for-providers",
                "Not a reason a provider gives",
                f"a provider ends a service with one of: {allowed}",
            )
        actor = Actor.of(caller)
        return await step(
            caller, placement_id, lambda s: end(s, registry, placement_id, body.reason, actor)
        )

    @api.get("/placements", responses=PROBLEM)
    async def placements(
        caller: Staff,
        application_id: UUID | None = None,
        status: Shown | None = None,
        lapsing_within_hours: Annotated[
            int | None,
            Query(ge=1, le=24 * 90, description="offers that lapse within this many hours"),
        ] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    ) -> list[dict[str, Any]]:
        """The placements of the caller's districts: one application's, those in one step, or
        the offers about to lapse (soonest first)."""
        if lapsing_within_hours is not None:
            status = lapsing_only(status)
        async with runtime.sessions() as session:
            rows = await placements_listed(
                session,
                caller,
                application_id=application_id,
                shown=status,
                lapsing_by=lapsing_by(datetime.now(UTC), lapsing_within_hours),
                limit=limit,
            )
            return await staff_views(session, registry, rows)

    return api


def build_app(settings: AssignmentSettings | None = None) -> FastAPI:
    settings = settings or AssignmentSettings()
    geography = load_geography()
    seed_providers = load_providers(settings.providers_file, geography=geography)
    registry = Registry(
        ProviderCache(geography),
        PublicStream(NAME, settings.pseudonym_key_bytes),
        offer_ttl=timedelta(days=settings.offer_days),
        review_policy=load_review_policy(settings.review_policy_file),
    )
    runtime = build_runtime(NAME, settings, SCHEMA, publishes=PUBLISHES)
    register_handlers(runtime, registry, seed_providers)
    runtime.consumer.handle(topics.SUBJECT_ERASED)(on_subjects_erased)
    sweeper = OfferSweeper(runtime.sessions, registry, runtime.relay, settings.offer_sweep_seconds)
    runtime.background.append(sweeper.run)
    runtime.stopping.append(sweeper.stop)
    escalated = Counter(
        "socialsvc_reviews_overdue",
        "Reviews escalated because they stayed open past the policy's grace period.",
        registry=runtime.metrics.registry,
    )
    reviews = ReviewSweeper(
        runtime.sessions, registry, runtime.relay, settings.review_sweep_seconds, escalated
    )
    runtime.background.append(reviews.run)
    runtime.stopping.append(reviews.stop)
    app = service_app(
        runtime, title="Assignment", description="Places people within real capacity."
    )
    install_problem_handlers(app)
    install_api_keys(app, settings.key_store())
    app.include_router(router(runtime, registry))
    app.include_router(portal_router(runtime, registry, settings.pseudonym_key_bytes))
    app.include_router(providers_router(runtime, registry))
    app.include_router(provider_workspace_router(runtime, registry, settings.contract_warning_days))
    app.include_router(reviews_router(runtime))
    app.include_router(holdings_router(runtime, holdings))
    return app
