"""Subject access: what a service holds about a person's applications, and why.

Each service answers `POST /subject/holdings` with the application ids in the body (never a FIN
or an id in a URL, which reaches access logs); intake, which alone knows which applications are a
person's, answers for a FIN. A holding names its purpose by a key the report's catalogue words in
the person's language.
"""

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlmodel.ext.asyncio.session import AsyncSession

from socialsvc_common.apikeys import Role
from socialsvc_common.auth import AUTH_RESPONSES, require
from socialsvc_common.service import Runtime


class Holding(BaseModel):
    """One thing a service keeps about one application of the person."""

    category: str = Field(description="what it is: application, decision, contact, message...")
    application_id: UUID
    purpose: str = Field(description="why it is kept, a key of the report's catalogue")
    data: dict[str, Any]
    retained_until: datetime | None = Field(
        default=None, description="when it is erased at the latest; none: while the case is open"
    )


class Holdings(BaseModel):
    service: str
    holdings: list[Holding]


class HoldingsQuery(BaseModel):
    application_ids: list[UUID] = Field(min_length=1, max_length=1000)


Reader = Callable[[AsyncSession, Sequence[UUID]], Awaitable[list[Holding]]]


def holdings_router(runtime: Runtime, reader: Reader) -> APIRouter:
    """`POST /subject/holdings` for operators and administrators, answered by `reader`."""
    router = APIRouter(prefix="/subject", tags=["data subject"], responses={**AUTH_RESPONSES})

    @router.post(
        "/holdings",
        summary="What this service holds about these applications, why, and until when",
        dependencies=[require(Role.OPERATOR)],
    )
    async def holdings(query: HoldingsQuery) -> Holdings:
        async with runtime.sessions() as session:
            found = await reader(session, query.application_ids)
        return Holdings(service=runtime.name, holdings=found)

    return router
