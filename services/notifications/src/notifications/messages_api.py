"""What staff see of the messages sent about an application: kinds, channels and times, never the
text or the contact. A key scoped to districts reads only applications of those districts (the
district of the citizen's contact); any other is "not found", as in intake."""

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from notifications.store import sent_about
from socialsvc_common.apikeys import Caller, Role
from socialsvc_common.auth import AUTH_RESPONSES, require
from socialsvc_common.problems import PROBLEM_JSON, Problem

PROBLEM: dict[str, Any] = {"content": {PROBLEM_JSON: {}}}


class MessageSent(BaseModel):
    id: UUID
    kind: str
    channel: str | None
    language: str | None
    status: str
    occurred_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None


def messages_router(sessions: async_sessionmaker[AsyncSession]) -> APIRouter:
    router = APIRouter(tags=["messages"], responses={**AUTH_RESPONSES, 404: PROBLEM, 422: PROBLEM})
    Staff = Annotated[Caller, require(Role.SOCIAL_WORKER, Role.REVIEWER, Role.OPERATOR)]

    @router.get(
        "/applications/{application_id}/messages",
        summary="The messages about an application, oldest first (no text, no contact details)",
    )
    async def listed(application_id: UUID, caller: Staff) -> list[MessageSent]:
        async with sessions() as session:
            found, district = await sent_about(session, application_id)
        if caller.districts and not (district and caller.serves(district)):
            raise Problem(404, "not-found", "Not found", f"no messages about {application_id}")
        return [
            MessageSent(
                id=row.id,
                kind=row.kind,
                channel=row.channel,
                language=language,
                status=row.status,
                occurred_at=row.occurred_at,
                sent_at=row.sent_at,
                delivered_at=row.delivered_at,
            )
            for row, language in found
        ]

    return router
