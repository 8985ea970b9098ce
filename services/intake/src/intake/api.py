"""Intake's HTTP API: submit an application, read its status and journey."""

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Header, Response
from pydantic import BaseModel
from sqlmodel.ext.asyncio.session import AsyncSession

from intake.applications import (
    DuplicateApplication,
    Submission,
    Submit,
    add_facts,
    submit_all,
)
from intake.cases import serves
from intake.consent_texts import ConsentTexts
from intake.store import ApplicationRow, ConsentRow, JourneyEntry, journey_of
from socialsvc_common.apikeys import Caller, Role
from socialsvc_common.auth import AUTH_RESPONSES, require
from socialsvc_common.contract.actor import Actor
from socialsvc_common.contract.payloads import AddedFacts, ApplicationForm
from socialsvc_common.db import transaction
from socialsvc_common.faults import fault_point
from socialsvc_common.group_commit import GroupCommit
from socialsvc_common.outbox import add_events
from socialsvc_common.problems import Problem
from socialsvc_common.service import Runtime

PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}


class Accepted(BaseModel):
    application_id: UUID
    status: str
    status_url: str


class JourneyStep(BaseModel):
    type: str
    time: datetime
    event_id: UUID
    summary: dict[str, Any]
    actor: Actor | None = None


class ConsentRecord(BaseModel):
    purposes: list[str]
    text_version: str
    language: str
    given_at: datetime
    recorded_by: str
    withdrawn_at: datetime | None
    withdrawn_by: str | None
    withdrawal_reason: str | None


class ApplicationStatus(BaseModel):
    application_id: UUID
    status: str
    service_requested: str
    channel: str
    submitted_at: datetime
    updated_at: datetime
    consent: ConsentRecord | None
    submitted_by: Actor | None = None
    facts_added_by: Actor | None = None
    journey: list[JourneyStep]


def journey_steps(journey: Sequence[JourneyEntry]) -> list[JourneyStep]:
    return [
        JourneyStep(
            type=e.type,
            time=e.time,
            event_id=e.event_id,
            summary=e.summary,
            actor=Actor.stored(e.actor),
        )
        for e in journey
    ]


def not_found(application_id: UUID) -> Problem:
    return Problem(404, "not-found", "No such application", f"no application {application_id}")


def scoped_application(
    row: ApplicationRow | None, application_id: UUID, caller: Caller
) -> ApplicationRow:
    """The application if the caller serves its district; 404 otherwise, as for one that does
    not exist, so a key scoped to some districts learns nothing of the others."""
    if row is None or not serves(caller, row):
        raise not_found(application_id)
    return row


def status_url(application_id: UUID) -> str:
    return f"/applications/{application_id}"


def accepted(submission: Submission) -> Accepted:
    application_id = submission.application_id
    return Accepted(
        application_id=application_id,
        status=submission.status,
        status_url=status_url(application_id),
    )


def submission_commit(
    runtime: Runtime, pseudonym_key: bytes, consent_texts: ConsentTexts, linger_seconds: float
) -> GroupCommit[Submit, Submission]:
    """Submissions that arrive together (from any route), or within `linger_seconds` of the
    first after a quiet moment, share a transaction; each is answered after its commit."""

    async def store(
        session: AsyncSession, commands: Sequence[Submit]
    ) -> list[Submission | Problem]:
        outcomes = await submit_all(
            session, commands, pseudonym_key=pseudonym_key, consent_texts=consent_texts
        )
        await add_events(
            session, [e for o in outcomes if isinstance(o, Submission) for e in o.events]
        )
        return outcomes

    return GroupCommit(
        runtime.sessions, store, linger_seconds=linger_seconds, name="intake.submissions"
    )


def applications_router(
    runtime: Runtime, pseudonym_key: bytes, submissions: GroupCommit[Submit, Submission]
) -> APIRouter:
    # Every refusal is problem+json, a malformed body (400) or path (422) included.
    router = APIRouter(
        prefix="/applications",
        tags=["applications"],
        responses={**AUTH_RESPONSES, 400: PROBLEM, 422: PROBLEM},
    )

    @router.post(
        "",
        status_code=202,
        responses={409: PROBLEM, 422: PROBLEM},
        summary="Submit an application; answered once it is stored with its consent and event",
    )
    async def create(
        form: ApplicationForm,
        response: Response,
        caller: Annotated[Caller, require(Role.SUBMITTER, Role.SOCIAL_WORKER)],
        idempotency_key: Annotated[str | None, Header(min_length=1, max_length=200)] = None,
    ) -> Accepted:
        if not caller.serves(form.applicant.district):
            raise Problem(
                403,
                "outside-scope",
                "Outside your districts",
                f"this key acts for {', '.join(sorted(caller.districts))}, "
                f"not for {form.applicant.district}",
            )
        command = Submit(form, "web", idempotency_key, Actor.of(caller))
        try:
            submission = await submissions.submit(command)
        except DuplicateApplication:
            if not caller.districts:
                raise
            # The open application may be of a district the key does not serve: not named.
            raise Problem(
                409,
                "open-application-exists",
                "An open application exists",
                "this person already has an open application for this service",
            ) from None
        if submission.created:
            fault_point("intake.after_commit")
            runtime.relay.wake()
        response.headers["Location"] = status_url(submission.application_id)
        return accepted(submission)

    @router.patch(
        "/{application_id}",
        status_code=202,
        responses={404: PROBLEM, 409: PROBLEM, 422: PROBLEM},
        summary="Add facts (e.g. what a needs-information decision asked for); decided again",
    )
    async def add(
        application_id: UUID,
        facts: AddedFacts,
        caller: Annotated[Caller, require(Role.SOCIAL_WORKER)],
    ) -> Accepted:
        async with transaction(runtime.sessions) as session:
            row = await session.get(ApplicationRow, application_id, with_for_update=True)
            scoped_application(row, application_id, caller)
            submission = await add_facts(
                session, application_id, facts, actor=Actor.of(caller), pseudonym_key=pseudonym_key
            )
            await add_events(session, submission.events)
        runtime.relay.wake()
        return accepted(submission)

    @router.get(
        "/{application_id}",
        responses={404: PROBLEM},
        summary="Status and journey",
    )
    async def read(
        application_id: UUID,
        caller: Annotated[Caller, require(Role.SOCIAL_WORKER, Role.OPERATOR)],
    ) -> ApplicationStatus:
        async with runtime.sessions() as session:
            row = scoped_application(
                await session.get(ApplicationRow, application_id), application_id, caller
            )
            consent = await session.get(ConsentRow, application_id)
            journey = await journey_of(session, application_id)
        return ApplicationStatus(
            application_id=row.id,
            status=row.status,
            service_requested=row.service_requested,
            channel=row.channel,
            submitted_at=row.submitted_at,
            updated_at=row.updated_at,
            consent=ConsentRecord.model_validate(consent, from_attributes=True)
            if consent
            else None,
            submitted_by=Actor.stored(row.submitted_by),
            facts_added_by=Actor.stored(row.facts_added_by),
            journey=journey_steps(journey),
        )

    return router
