"""Composition root of assignment: registry, ledger, the placement handler and the HTTP API."""

from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, FastAPI
from prometheus_client import Counter
from pydantic import BaseModel, Field
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from assignment.erasure import holdings, on_subjects_erased
from assignment.lifecycle import OfferSweeper, advance, decline, end
from assignment.placements import NAME, Registry
from assignment.placing import place_all
from assignment.portal_api import portal_router
from assignment.provider_api import providers_router
from assignment.providers import ProviderCache, seed
from assignment.registry import Provider, load_providers
from assignment.review_api import reviews_router
from assignment.review_policy import load_review_policy
from assignment.reviewing import ReviewSweeper, conclude_reviews
from assignment.schema import SCHEMA
from assignment.steps import Work, run_step
from assignment.store import PlacementRow
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
from socialsvc_common.problems import install_problem_handlers
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
    topics.PUBLIC_APPLICATION_PLACED,
    topics.PUBLIC_APPLICATION_WAITLISTED,
    topics.PUBLIC_APPLICATION_RELEASED,
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


class Release(BaseModel):
    reason: ReleaseReason = Field(description="why the place is given up; recorded and published")


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
            added = await seed(session, seed_providers)
        runtime.logger.info("provider registry ready", seeded=added)

    runtime.on_start.append(seed_registry)


def router(runtime: Runtime, registry: Registry) -> APIRouter:
    operator = require(Role.OPERATOR)
    api = APIRouter(tags=["placements"], responses=AUTH_RESPONSES, dependencies=[operator])
    # The same dependency, so FastAPI checks the key once and hands the caller to the route.
    By = Annotated[Caller, operator]

    async def step(work: Work) -> dict[str, Any]:
        return await run_step(runtime, work)

    @api.post("/placements/{placement_id}/accept", status_code=202, responses=PROBLEM)
    async def accept(placement_id: UUID, caller: By) -> dict[str, Any]:
        actor = Actor.of(caller)
        return await step(
            lambda s: advance(s, registry, placement_id, PlacementStatus.ACCEPTED, actor)
        )

    @api.post("/placements/{placement_id}/start", status_code=202, responses=PROBLEM)
    async def start(placement_id: UUID, caller: By) -> dict[str, Any]:
        actor = Actor.of(caller)
        return await step(
            lambda s: advance(s, registry, placement_id, PlacementStatus.STARTED, actor)
        )

    @api.post("/placements/{placement_id}/decline", status_code=202, responses=PROBLEM)
    async def decline_offer(placement_id: UUID, caller: By) -> dict[str, Any]:
        return await step(lambda s: decline(s, registry, placement_id, Actor.of(caller)))

    @api.post("/placements/{placement_id}/release", status_code=202, responses=PROBLEM)
    async def release_placement(placement_id: UUID, body: Release, caller: By) -> dict[str, Any]:
        return await step(lambda s: end(s, registry, placement_id, body.reason, Actor.of(caller)))

    @api.get("/placements")
    async def placements(application_id: UUID) -> list[dict[str, Any]]:
        async with runtime.sessions() as session:
            query = select(PlacementRow).where(PlacementRow.application_id == application_id)
            return [row.model_dump(mode="json") for row in (await session.exec(query)).all()]

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
    app.include_router(reviews_router(runtime))
    app.include_router(holdings_router(runtime, holdings))
    return app
