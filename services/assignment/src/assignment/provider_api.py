"""HTTP management of the provider registry: list, create or change one, import a CSV."""

from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from sqlmodel.ext.asyncio.session import AsyncSession

from assignment.placements import Registry, promote
from assignment.providers import listing, parse_csv, parse_one, upsert
from assignment.registry import Provider, RegistryError
from socialsvc_common.apikeys import Caller, Role
from socialsvc_common.auth import AUTH_RESPONSES, require
from socialsvc_common.contract.actor import Actor
from socialsvc_common.db import transaction
from socialsvc_common.outbox import add_events
from socialsvc_common.problems import Problem
from socialsvc_common.service import Runtime

RESPONSES: dict[int | str, dict[str, Any]] = {422: {"content": {"application/problem+json": {}}}}


def invalid(error: RegistryError) -> Problem:
    """Every fault of the input, each with the field (and the CSV row) it is about."""
    errors = [
        {
            "field": f"{p.provider_id}: {p.field}" if p.provider_id.startswith("row") else p.field,
            "message": p.message,
        }
        for p in error.problems
    ]
    fields = ", ".join(e["field"] for e in errors)
    return Problem(
        422, "validation", "Invalid provider", f"invalid fields: {fields}", errors=errors
    )


def providers_router(runtime: Runtime, registry: Registry) -> APIRouter:
    # Operators see capacity; only administrators change the registry.
    api = APIRouter(prefix="/providers", tags=["providers"], responses=AUTH_RESPONSES)
    geography = registry.geography

    async def store(session: AsyncSession, provider: Provider, caller: Caller) -> bool:
        # New or larger capacity goes to the people waiting first, not to the next newcomer.
        created, ledger = await upsert(session, provider, Actor.of(caller))
        await add_events(session, await promote(session, registry, provider, ledger, cause=None))
        return created

    @api.get(
        "",
        summary="Every provider with its places taken",
        dependencies=[require(Role.OPERATOR)],
    )
    async def list_providers() -> list[dict[str, Any]]:
        async with runtime.sessions() as session:
            return await listing(session)

    @api.put(
        "/{provider_id}",
        responses=RESPONSES,
        summary="Create or change a provider",
    )
    async def put_provider(
        provider_id: str,
        body: dict[str, Any],
        response: Response,
        caller: Annotated[Caller, require(Role.ADMINISTRATOR)],
    ) -> dict[str, Any]:
        if body.get("id", provider_id) != provider_id:
            raise Problem(
                422,
                "validation",
                "Invalid provider",
                "the id in the body differs from the one in the URL",
                errors=[{"field": "id", "message": "must equal the id in the URL"}],
            )
        try:
            provider = parse_one(body | {"id": provider_id}, geography)
            async with transaction(runtime.sessions) as session:
                created = await store(session, provider, caller)
        except RegistryError as error:
            raise invalid(error) from error
        runtime.relay.wake()
        response.status_code = 201 if created else 200
        return {"id": provider_id, "created": created}

    @api.post(
        "/import",
        responses=RESPONSES,
        summary="Import providers from CSV, all or nothing",
    )
    async def import_csv(
        request: Request, caller: Annotated[Caller, require(Role.ADMINISTRATOR)]
    ) -> dict[str, list[str]]:
        document = (await request.body()).decode("utf-8", errors="replace")
        try:
            providers = parse_csv(document, geography)
            async with transaction(runtime.sessions) as session:
                made = {p.id: await store(session, p, caller) for p in providers}
        except RegistryError as error:
            raise invalid(error) from error
        runtime.relay.wake()
        return {
            "created": [pid for pid, created in made.items() if created],
            "updated": [pid for pid, created in made.items() if not created],
        }

    return api
