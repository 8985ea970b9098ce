"""What staff see of the messages sent about an application: kinds, channels and times, never the
text or the contact. Notifications knows no districts: the workspace asks here only about a case
intake has answered for the caller, so intake's answer is the scope."""

from datetime import datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from notifications.store import sent_about
from socialsvc_common.apikeys import Role
from socialsvc_common.auth import AUTH_RESPONSES, require
from socialsvc_common.problems import PROBLEM_JSON

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
    router = APIRouter(tags=["messages"], responses={**AUTH_RESPONSES, 422: PROBLEM})

    @router.get(
        "/applications/{application_id}/messages",
        summary="The messages about an application, oldest first (no text, no contact details)",
        dependencies=[require(Role.SOCIAL_WORKER, Role.REVIEWER, Role.OPERATOR)],
    )
    async def listed(application_id: UUID) -> list[MessageSent]:
        async with sessions() as session:
            found = await sent_about(session, application_id)
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
