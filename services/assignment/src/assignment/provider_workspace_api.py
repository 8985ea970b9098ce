"""A provider's own view over HTTP (its entry, placements and waitlist), and the services
delivered on a placement: recorded by its provider (or an operator), read by the staff who may see
the placement. A provider key sees and changes its own provider's placements alone."""

from datetime import UTC, date, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlmodel.ext.asyncio.session import AsyncSession

from assignment.deliveries import (
    MAX_MINUTES,
    NOTE_LENGTH,
    Delivery,
    ServiceDeliveryRow,
    delivered,
    deliveries_of,
    delivery_view,
)
from assignment.placements import Registry
from assignment.provider_views import Shown, entry_of, own_provider, placements_of, waitlist_of
from assignment.scope import placement_for, placement_seen
from assignment.steps import run_step
from socialsvc_common.apikeys import Caller, Role
from socialsvc_common.auth import AUTH_RESPONSES, require
from socialsvc_common.contract.actor import Actor
from socialsvc_common.contract.envelope import Event
from socialsvc_common.contract.payloads import ServiceKind
from socialsvc_common.problems import PROBLEM_JSON
from socialsvc_common.service import Runtime

PROBLEM: dict[int | str, dict[str, Any]] = {
    code: {"content": {PROBLEM_JSON: {}}} for code in (404, 409, 422)
}
Provider = Annotated[Caller, require(Role.PROVIDER)]
Recorder = Annotated[Caller, require(Role.PROVIDER, Role.OPERATOR)]
Reader = Annotated[Caller, require(Role.PROVIDER, Role.OPERATOR, Role.SOCIAL_WORKER, Role.REVIEWER)]


class ServiceRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    delivered_on: date = Field(description="the day it was delivered (not after today)")
    kind: ServiceKind
    minutes: int | None = Field(default=None, ge=1, le=MAX_MINUTES)
    note: str | None = Field(
        default=None,
        min_length=1,
        max_length=NOTE_LENGTH,
        description="kept in assignment's database only, never published",
    )

    @field_validator("note", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        # A form's empty text field means no note.
        return None if isinstance(value, str) and not value.strip() else value


def provider_workspace_router(runtime: Runtime, registry: Registry, warning_days: int) -> APIRouter:
    api = APIRouter(tags=["provider"], responses={**AUTH_RESPONSES, **PROBLEM})

    @api.get("/provider", summary="The caller's provider: capacity, places in use, contract")
    async def entry(caller: Provider) -> dict[str, Any]:
        async with runtime.sessions() as session:
            return await entry_of(session, registry, caller.provider, warning_days)

    @api.get("/provider/placements", summary="The caller's provider's placements, newest first")
    async def placements(
        caller: Provider,
        status: Shown | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    ) -> list[dict[str, Any]]:
        async with runtime.sessions() as session:
            provider = await own_provider(session, registry, caller.provider)
            return await placements_of(session, provider.id, status, limit)

    @api.get(
        "/provider/waitlist",
        summary="Who would take the caller's provider's next free places, in that order",
    )
    async def waitlist(
        caller: Provider, limit: Annotated[int, Query(ge=1, le=5000)] = 1000
    ) -> list[dict[str, Any]]:
        async with runtime.sessions() as session:
            provider = await own_provider(session, registry, caller.provider)
            return await waitlist_of(session, registry, provider, limit)

    @api.post(
        "/placements/{placement_id}/services",
        status_code=201,
        summary="Record a service delivered on a started placement",
    )
    async def record(placement_id: UUID, body: ServiceRequest, caller: Recorder) -> Any:
        delivery = Delivery(body.kind, body.delivered_on, body.minutes, body.note)
        recorded: list[ServiceDeliveryRow] = []

        async def work(session: AsyncSession) -> list[Event]:
            placement = await placement_for(session, placement_id, caller)
            row, event = delivered(placement, delivery, Actor.of(caller), datetime.now(UTC))
            session.add(row)
            recorded.append(row)
            return [event]

        answer = await run_step(runtime, work)
        return delivery_view(recorded[-1]) | answer

    @api.get("/placements/{placement_id}/services", summary="The services a placement had")
    async def services(placement_id: UUID, caller: Reader) -> list[dict[str, Any]]:
        async with runtime.sessions() as session:
            await placement_seen(session, placement_id, caller)
            return [delivery_view(row) for row in await deliveries_of(session, placement_id)]

    return api
