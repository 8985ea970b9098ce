"""Intake's routes for the e-government portal, acting for the citizen it names (X-Citizen-FIN).

Each answers only about that citizen's applications; another person's is 404, as one that does
not exist. The steps are the staff's own (submit, add facts, withdraw consent), recorded with the
portal's key as the actor.
"""

from datetime import UTC
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Header, Response
from sqlmodel.ext.asyncio.session import AsyncSession

from intake.api import Accepted
from intake.applications import Submission, Submit, add_facts
from intake.consent import WithdrawConsent, withdraw
from intake.consent_api import WithdrawalAccepted
from intake.portal import (
    ApplicationSummary,
    CitizenApplication,
    citizen_view,
    language_of,
    summary_of,
)
from intake.store import ApplicationRow, Status, journey_of
from intake.subject_store import applications_of
from socialsvc_common.auth import AUTH_RESPONSES
from socialsvc_common.contract.payloads import (
    AddedFacts,
    ApplicationForm,
    Language,
    WithdrawalReason,
)
from socialsvc_common.db import transaction
from socialsvc_common.explanations import default_explanations
from socialsvc_common.group_commit import GroupCommit
from socialsvc_common.outbox import add_events
from socialsvc_common.portal import Citizen, citizen, not_theirs
from socialsvc_common.problems import Problem
from socialsvc_common.service import Runtime

PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
# The portal is the e-government channel, like the submissions of the e-government topic.
CHANNEL = "egov"
Vouched = Annotated[Citizen, citizen()]
IdempotencyKey = Annotated[str | None, Header(min_length=1, max_length=200)]


def portal_url(application_id: UUID) -> str:
    return f"/portal/applications/{application_id}"


def accepted(application_id: UUID, status: str) -> Accepted:
    return Accepted(
        application_id=application_id, status=status, status_url=portal_url(application_id)
    )


async def own(
    session: AsyncSession, application_id: UUID, person: Citizen, *, lock: bool = False
) -> ApplicationRow:
    """The citizen's application (locked when asked); 404 for anyone else's or an erased one."""
    row = await session.get(ApplicationRow, application_id, with_for_update=lock)
    if row is None or row.erased_at is not None or row.fin != person.fin:
        raise not_theirs("application", application_id)
    return row


class NotTheCitizensFin(Problem):
    def __init__(self) -> None:
        message = "must be the FIN of the citizen the portal acts for (X-Citizen-FIN)"
        super().__init__(
            422,
            "not-the-citizens-fin",
            "The application is not the citizen's own",
            f"applicant.fin {message}",
            errors=[{"field": "applicant.fin", "message": message}],
        )


class FactsNotAskedFor(Problem):
    def __init__(self, application_id: UUID, status: str) -> None:
        super().__init__(
            409,
            "facts-not-asked-for",
            "No facts are asked for",
            f"application {application_id} is {status}; the portal adds facts a decision asked for",
            application_status=status,
        )


def portal_router(
    runtime: Runtime, pseudonym_key: bytes, submissions: GroupCommit[Submit, Submission]
) -> APIRouter:
    router = APIRouter(
        prefix="/portal/applications",
        tags=["portal"],
        responses={**AUTH_RESPONSES, 400: PROBLEM, 422: PROBLEM},
    )

    @router.get("", summary="The citizen's applications, newest first")
    async def listed(person: Vouched) -> list[ApplicationSummary]:
        async with runtime.sessions() as session:
            rows = await applications_of(session, person.fin)
        return [summary_of(row) for row in reversed(rows)]

    @router.post(
        "",
        status_code=202,
        responses={409: PROBLEM},
        summary="Submit the citizen's own application (the applicant's FIN is theirs)",
    )
    async def submit(
        form: ApplicationForm,
        person: Vouched,
        response: Response,
        idempotency_key: IdempotencyKey = None,
    ) -> Accepted:
        if form.applicant.fin != person.fin:
            raise NotTheCitizensFin()
        submission = await submissions.submit(Submit(form, CHANNEL, idempotency_key, person.actor))
        if submission.created:
            runtime.relay.wake()
        response.headers["Location"] = portal_url(submission.application_id)
        return accepted(submission.application_id, submission.status)

    @router.get(
        "/{application_id}",
        responses={404: PROBLEM},
        summary="Status, journey, the decision explained in the citizen's language, the offer",
    )
    async def read(
        application_id: UUID, person: Vouched, language: Language | None = None
    ) -> CitizenApplication:
        async with runtime.sessions() as session:
            row = await own(session, application_id, person)
            journey = await journey_of(session, application_id)
        told_in = language or language_of(row)
        return citizen_view(row, journey, default_explanations()[told_in], told_in)

    @router.patch(
        "/{application_id}",
        status_code=202,
        responses={404: PROBLEM, 409: PROBLEM},
        summary="Add the facts a needs-information decision asked for; decided again",
    )
    async def add(application_id: UUID, facts: AddedFacts, person: Vouched) -> Accepted:
        async with transaction(runtime.sessions) as session:
            row = await own(session, application_id, person, lock=True)
            if row.status != Status.NEEDS_INFORMATION:
                raise FactsNotAskedFor(application_id, row.status)
            submission = await add_facts(
                session, application_id, facts, actor=person.actor, pseudonym_key=pseudonym_key
            )
            await add_events(session, submission.events)
        runtime.relay.wake()
        return accepted(submission.application_id, submission.status)

    @router.post(
        "/{application_id}/withdrawal",
        status_code=202,
        responses={404: PROBLEM, 409: PROBLEM},
        summary="Withdraw the application: consent is withdrawn at the citizen's request",
    )
    async def withdrawn(
        application_id: UUID, person: Vouched, idempotency_key: IdempotencyKey = None
    ) -> WithdrawalAccepted:
        reason = WithdrawalReason.CITIZEN_REQUEST
        command = WithdrawConsent(application_id, reason, person.actor, idempotency_key)
        async with transaction(runtime.sessions) as session:
            await own(session, application_id, person, lock=True)
            withdrawal = await withdraw(session, command)
            await add_events(session, withdrawal.events)
        if withdrawal.created:
            runtime.relay.wake()
        return WithdrawalAccepted(
            application_id=application_id,
            status=Status.WITHDRAWN.value,
            withdrawn_at=withdrawal.withdrawn_at.astimezone(UTC),
            status_url=portal_url(application_id),
        )

    return router
