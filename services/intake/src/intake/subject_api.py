"""Intake's data-subject routes: what is held about a person, and erasure on a lawful request.

The FIN travels in the body, never in the URL, which access logs keep."""

from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel, Field

from intake.erasure import erase_subject
from intake.retention import RetentionPolicy
from intake.subject_access import person_holdings
from socialsvc_common.apikeys import Caller, Role
from socialsvc_common.auth import AUTH_RESPONSES, require
from socialsvc_common.contract.actor import Actor
from socialsvc_common.contract.erasure import ErasureReason
from socialsvc_common.contract.payloads import Fin
from socialsvc_common.db import transaction
from socialsvc_common.outbox import add_events
from socialsvc_common.service import Runtime
from socialsvc_common.subject_access import Holdings

PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
# The caller, admitted only as an administrator: who asked is kept with the erasure.
Administrator = Annotated[Caller, require(Role.ADMINISTRATOR)]


class Subject(BaseModel):
    fin: Fin


class ErasureRequest(Subject):
    legal_basis: str = Field(
        min_length=3,
        max_length=500,
        description="the law or decision that calls for the erasure (a reference, no names)",
    )


class SubjectReport(BaseModel):
    language: str | None = Field(description="the language the person chose, if any")
    application_ids: list[UUID]
    offer_ids: list[UUID] = Field(
        description="the proactive offers made to the person (other services hold their contact)"
    )
    intake: Holdings


class ErasureAccepted(BaseModel):
    erasure_id: UUID
    person_ref: str
    application_ids: list[UUID]
    offer_ids: list[UUID]


def subjects_router(runtime: Runtime, pseudonym_key: bytes, policy: RetentionPolicy) -> APIRouter:
    router = APIRouter(
        prefix="/subjects",
        tags=["data subject"],
        responses={**AUTH_RESPONSES, 400: PROBLEM, 422: PROBLEM},
    )

    @router.post(
        "/report",
        summary="The person's applications and what intake holds about them",
        dependencies=[require(Role.OPERATOR)],
    )
    async def report(subject: Subject) -> SubjectReport:
        async with runtime.sessions() as session:
            found = await person_holdings(session, subject.fin, policy)
        return SubjectReport(
            language=found.language,
            application_ids=found.application_ids,
            offer_ids=found.offer_ids,
            intake=Holdings(service=runtime.name, holdings=found.holdings),
        )

    @router.post(
        "/erasures",
        status_code=202,
        responses={404: PROBLEM, 409: PROBLEM},
        summary="Erase the person's data in every service, on a lawful request",
    )
    async def erase(request: ErasureRequest, caller: Administrator) -> ErasureAccepted:
        actor = Actor.of(caller)
        async with transaction(runtime.sessions) as session:
            erasure = await erase_subject(
                session,
                request.fin,
                reason=ErasureReason.SUBJECT_REQUEST,
                legal_basis=request.legal_basis,
                requested_by=str(actor),
                pseudonym_key=pseudonym_key,
                now=datetime.now(UTC),
                actor=actor,
            )
            await add_events(session, erasure.events)
        runtime.relay.wake()
        runtime.logger.info(
            "subject erased",
            erasure_id=str(erasure.erasure_id),
            person_ref=erasure.person_ref,
            applications=len(erasure.application_ids),
            offers=len(erasure.offer_ids),
            requested_by=str(actor),
        )
        return ErasureAccepted(
            erasure_id=erasure.erasure_id,
            person_ref=erasure.person_ref,
            application_ids=erasure.application_ids,
            offer_ids=erasure.offer_ids,
        )

    return router
