"""Casework routes for social workers, reviewers and operators: search cases, read one, assign it
to a worker, write notes on it. A key scoped to districts sees only their cases: any other is
404, as one that does not exist, and lists leave it out."""

from datetime import UTC, date, datetime
from typing import Annotated, Self
from uuid import UUID, uuid4

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field, model_validator

from intake.api import PROBLEM, JourneyStep, journey_steps
from intake.cases import (
    CaseSearch,
    CaseSummary,
    open_case,
    summary_of,
)
from intake.casework_store import CaseNoteRow, assign, notes_of, search_cases
from intake.store import ApplicationRow, journey_of
from socialsvc_common.apikeys import Caller, KeyStore, Role
from socialsvc_common.auth import AUTH_RESPONSES, require
from socialsvc_common.contract.actor import NAME_PATTERN, Actor
from socialsvc_common.contract.payloads import ApplicationForm, Language
from socialsvc_common.db import transaction
from socialsvc_common.problems import Problem
from socialsvc_common.service import Runtime

READERS = (Role.SOCIAL_WORKER, Role.REVIEWER, Role.OPERATOR)
WORKERS = (Role.SOCIAL_WORKER, Role.REVIEWER)
# Who may read confidential notes: everyone but operators (administrators included).
CONFIDANTS = frozenset({Role.SOCIAL_WORKER, Role.REVIEWER, Role.ADMINISTRATOR})


class CaseList(BaseModel):
    total: int
    items: list[CaseSummary]


class ApplicantView(BaseModel):
    fin: str
    first_name: str
    last_name: str
    patronymic: str | None
    birth_date: date
    district: str
    language: Language
    mobile_phone: str


class CaseRecord(BaseModel):
    case: CaseSummary
    applicant: ApplicantView
    journey: list[JourneyStep]
    assigned_to: str | None
    assigned_by: Actor | None
    assigned_at: datetime | None


class Assignee(BaseModel):
    worker: str | None = Field(
        pattern=NAME_PATTERN,
        description="the key name of a social worker or reviewer; null unassigns",
    )


class Assignment(BaseModel):
    application_id: UUID
    assigned_to: str | None
    assigned_by: Actor
    assigned_at: datetime


class NoteText(BaseModel):
    text: str = Field(min_length=1, max_length=4000)
    confidential: bool = False

    @model_validator(mode="after")
    def _not_blank(self) -> Self:
        if not self.text.strip():
            raise ValueError("a note's text is not blank")
        return self


class CaseNote(BaseModel):
    id: UUID
    text: str | None
    confidential: bool
    author: Actor
    written_at: datetime


class UnknownWorker(Problem):
    def __init__(self, district: str | None) -> None:
        message = f"no social worker or reviewer of that name serves {district or 'this district'}"
        super().__init__(
            422,
            "unknown-worker",
            "No such worker",
            message,
            errors=[{"field": "worker", "message": message}],
        )


def note_view(row: CaseNoteRow) -> CaseNote:
    author = Actor.parse(row.author)
    return CaseNote(
        id=row.id,
        text=row.text,
        confidential=row.confidential,
        author=author,
        written_at=row.written_at,
    )


def serves_as_worker(store: KeyStore, name: str, district: str | None) -> bool:
    """Whether a social worker's or reviewer's key of this name may work on a case of `district`."""
    return any(
        key.name == name and key.role in WORKERS and key.serves(district or "") for key in store
    )


def cases_router(runtime: Runtime) -> APIRouter:
    router = APIRouter(
        prefix="/cases", tags=["casework"], responses={**AUTH_RESPONSES, 400: PROBLEM, 422: PROBLEM}
    )

    @router.get("", summary="Search cases, newest first; only those of the caller's districts")
    async def searched(
        search: Annotated[CaseSearch, Query()], caller: Annotated[Caller, require(*READERS)]
    ) -> CaseList:
        async with runtime.sessions() as session:
            total, rows = await search_cases(session, search, caller.districts)
        return CaseList(total=total, items=[summary_of(row) for row in rows])

    @router.get(
        "/{application_id}",
        responses={404: PROBLEM, 410: PROBLEM},
        summary="A case: its summary, the applicant, the journey and who it is assigned to",
    )
    async def read(
        application_id: UUID, caller: Annotated[Caller, require(*READERS)]
    ) -> CaseRecord:
        async with runtime.sessions() as session:
            row = open_case(
                await session.get(ApplicationRow, application_id), application_id, caller
            )
            journey = await journey_of(session, application_id)
        applicant = ApplicationForm.model_validate_json(row.form).applicant
        return CaseRecord(
            case=summary_of(row),
            applicant=ApplicantView.model_validate(applicant, from_attributes=True),
            journey=journey_steps(journey),
            assigned_to=row.assigned_to,
            assigned_by=Actor.stored(row.assigned_by),
            assigned_at=row.assigned_at,
        )

    @router.put(
        "/{application_id}/assignee",
        responses={404: PROBLEM, 410: PROBLEM},
        summary="Assign the case to a worker who serves its district (null: unassign)",
    )
    async def assigned(
        application_id: UUID,
        body: Assignee,
        request: Request,
        caller: Annotated[Caller, require(*WORKERS)],
    ) -> Assignment:
        store: KeyStore = request.app.state.api_keys
        actor, now = Actor.of(caller), datetime.now(UTC)
        async with transaction(runtime.sessions) as session:
            row = await session.get(ApplicationRow, application_id, with_for_update=True)
            case = open_case(row, application_id, caller)
            if body.worker is not None and not serves_as_worker(store, body.worker, case.district):
                raise UnknownWorker(case.district)
            await assign(session, application_id, body.worker, str(actor), now)
        return Assignment(
            application_id=application_id,
            assigned_to=body.worker,
            assigned_by=actor,
            assigned_at=now,
        )

    @router.get(
        "/{application_id}/notes",
        responses={404: PROBLEM, 410: PROBLEM},
        summary="The case's notes, oldest first (confidential ones never to operators)",
    )
    async def notes(
        application_id: UUID, caller: Annotated[Caller, require(*READERS)]
    ) -> list[CaseNote]:
        async with runtime.sessions() as session:
            open_case(await session.get(ApplicationRow, application_id), application_id, caller)
            rows = await notes_of(session, application_id, confidential=caller.role in CONFIDANTS)
        return [note_view(row) for row in rows]

    @router.post(
        "/{application_id}/notes",
        status_code=201,
        responses={404: PROBLEM, 410: PROBLEM},
        summary="Write a note on the case (its text is never logged, and erased with the person)",
    )
    async def noted(
        application_id: UUID, body: NoteText, caller: Annotated[Caller, require(*WORKERS)]
    ) -> CaseNote:
        note = CaseNoteRow(
            id=uuid4(),
            application_id=application_id,
            text=body.text,
            confidential=body.confidential,
            author=str(Actor.of(caller)),
            written_at=datetime.now(UTC),
        )
        async with transaction(runtime.sessions) as session:
            # Locked as an erasure locks it: a note is written before the erasure or not at all.
            row = await session.get(ApplicationRow, application_id, with_for_update=True)
            open_case(row, application_id, caller)
            session.add(note)
        return note_view(note)

    return router
