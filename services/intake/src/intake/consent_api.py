"""Intake's consent routes: the text a form shows, and withdrawing consent to an application."""

from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Header
from pydantic import BaseModel, Field

from intake.api import scoped_application
from intake.applications import BAKU
from intake.consent import WithdrawConsent, withdraw
from intake.consent_texts import ConsentText, ConsentTexts
from intake.store import ApplicationRow
from socialsvc_common.apikeys import Caller, Role
from socialsvc_common.auth import AUTH_RESPONSES, require
from socialsvc_common.contract.actor import Actor
from socialsvc_common.contract.payloads import WithdrawalReason
from socialsvc_common.db import transaction
from socialsvc_common.outbox import add_events
from socialsvc_common.service import Runtime

PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}


class WithdrawalRequest(BaseModel):
    reason: WithdrawalReason = Field(description="why consent is withdrawn; recorded and published")


class WithdrawalAccepted(BaseModel):
    application_id: UUID
    status: str
    withdrawn_at: datetime
    status_url: str


def consent_router(runtime: Runtime, consent_texts: ConsentTexts) -> APIRouter:
    router = APIRouter(tags=["consent"], responses={**AUTH_RESPONSES, 400: PROBLEM, 422: PROBLEM})

    @router.get(
        "/consent-texts/current",
        summary="The consent text a form shows today, in every language, with its version",
        dependencies=[require(Role.SUBMITTER, Role.SOCIAL_WORKER, Role.OPERATOR)],
    )
    async def current_text() -> ConsentText:
        return consent_texts.current(datetime.now(BAKU).date())

    @router.post(
        "/applications/{application_id}/consent/withdrawal",
        status_code=202,
        responses={404: PROBLEM, 409: PROBLEM},
        summary="Withdraw consent: the application is processed no further, the person is told",
    )
    async def withdraw_consent(
        application_id: UUID,
        body: WithdrawalRequest,
        caller: Annotated[Caller, require(Role.SOCIAL_WORKER, Role.OPERATOR)],
        idempotency_key: Annotated[str | None, Header(min_length=1, max_length=200)] = None,
    ) -> WithdrawalAccepted:
        command = WithdrawConsent(application_id, body.reason, Actor.of(caller), idempotency_key)
        async with transaction(runtime.sessions) as session:
            row = await session.get(ApplicationRow, application_id, with_for_update=True)
            scoped_application(row, application_id, caller)
            withdrawal = await withdraw(session, command)
            await add_events(session, withdrawal.events)
        if withdrawal.created:
            runtime.relay.wake()
        return WithdrawalAccepted(
            application_id=withdrawal.application_id,
            status="withdrawn",
            withdrawn_at=withdrawal.withdrawn_at.astimezone(UTC),
            status_url=f"/applications/{withdrawal.application_id}",
        )

    return router
