"""Composition root of assignment: registry, ledger, the placement handler and the HTTP API."""

from pathlib import Path
from typing import Any
from uuid import UUID

from fastapi import APIRouter, FastAPI
from pydantic import BaseModel, Field
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from assignment.placements import NAME, Registry, place, release
from assignment.registry import load_providers
from assignment.store import TABLES, LedgerRow, PlacementRow, sync_ledger
from socialsvc_common.contract import topics
from socialsvc_common.contract.envelope import Envelope, Event
from socialsvc_common.contract.payloads import DecisionMade
from socialsvc_common.db import transaction
from socialsvc_common.geography import load_geography
from socialsvc_common.outbox import add_events
from socialsvc_common.problems import install_problem_handlers
from socialsvc_common.service import Runtime, build_runtime, service_app
from socialsvc_common.settings import ServiceSettings, service_config

PROBLEM: dict[int | str, dict[str, Any]] = {404: {}, 409: {}, 422: {}}


class AssignmentSettings(ServiceSettings):
    model_config = service_config("ASSIGNMENT_")

    http_port: int = 8002
    providers_file: Path | None = Field(
        default=None, description="provider registry (TOML); the packaged demo registry by default"
    )


class Release(BaseModel):
    reason: str = Field(
        min_length=1, max_length=200, description="service ended, declined, moved, died…"
    )


def register_handlers(runtime: Runtime, registry: Registry) -> None:
    @runtime.consumer.handle(topics.DECISION_MADE)
    async def on_decision(
        session: AsyncSession, envelope: Envelope, decision: DecisionMade
    ) -> list[Event]:
        return await place(session, registry, envelope, decision)

    async def load_ledger() -> None:
        async with transaction(runtime.sessions) as session:
            await sync_ledger(session, list(registry.providers.values()))

    runtime.on_start.append(load_ledger)


def router(runtime: Runtime, registry: Registry) -> APIRouter:
    api = APIRouter(tags=["placements"])

    @api.post("/placements/{placement_id}/release", status_code=202, responses=PROBLEM)
    async def release_placement(placement_id: UUID, body: Release) -> dict[str, Any]:
        async with transaction(runtime.sessions) as session:
            events = await release(session, registry, placement_id, body.reason)
            add_events(session, events)
        runtime.relay.wake()
        return {"placement_id": str(placement_id), "events": [e.envelope.type for e in events]}

    @api.get("/placements")
    async def placements(application_id: UUID) -> list[dict[str, Any]]:
        async with runtime.sessions() as session:
            query = select(PlacementRow).where(PlacementRow.application_id == application_id)
            return [row.model_dump(mode="json") for row in (await session.exec(query)).all()]

    @api.get("/providers")
    async def providers() -> list[dict[str, Any]]:
        async with runtime.sessions() as session:
            rows = (
                await session.exec(select(LedgerRow).order_by(col(LedgerRow.provider_id)))
            ).all()
        return [
            row.model_dump() | {"name": registry.providers[row.provider_id].name}
            for row in rows
            if row.provider_id in registry.providers
        ]

    return api


def build_app(settings: AssignmentSettings | None = None) -> FastAPI:
    settings = settings or AssignmentSettings()
    geography = load_geography()
    providers = load_providers(settings.providers_file, geography=geography)
    registry = Registry({p.id: p for p in providers}, geography)
    runtime = build_runtime(NAME, settings, TABLES)
    register_handlers(runtime, registry)
    app = service_app(
        runtime, title="Assignment", description="Places people within real capacity."
    )
    install_problem_handlers(app)
    app.include_router(router(runtime, registry))
    return app
