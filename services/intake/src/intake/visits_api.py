"""Home-visit routes: the queue of visits to make, a visit a worker plans or records, and a
visit's outcome. Scoped as the cases are: another district's visit is 404 and left out of lists."""

from enum import StrEnum
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from intake.api import PROBLEM
from intake.cases import CaseErased, open_case, serves
from intake.casework_store import DONE, REQUESTED, HomeVisitRow, visits_with_cases
from intake.store import ApplicationRow
from intake.visits import HomeVisit, VisitPlan, VisitRecord, planned, record, view
from socialsvc_common.apikeys import Caller, Role
from socialsvc_common.auth import AUTH_RESPONSES, require
from socialsvc_common.contract.actor import Actor
from socialsvc_common.db import transaction
from socialsvc_common.problems import Problem
from socialsvc_common.service import Runtime

READERS = (Role.SOCIAL_WORKER, Role.REVIEWER, Role.OPERATOR)


class VisitStatus(StrEnum):
    REQUESTED = REQUESTED
    DONE = DONE


class VisitNotFound(Problem):
    def __init__(self, visit_id: UUID) -> None:
        super().__init__(404, "not-found", "No such visit", f"no visit {visit_id}")


def visits_router(runtime: Runtime) -> APIRouter:
    router = APIRouter(tags=["casework"], responses={**AUTH_RESPONSES, 400: PROBLEM, 422: PROBLEM})

    @router.get("/visits", summary="Home visits of the caller's districts, of a status or case")
    async def listed(
        caller: Annotated[Caller, require(*READERS)],
        status: VisitStatus | None = None,
        application_id: UUID | None = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 200,
    ) -> list[HomeVisit]:
        async with runtime.sessions() as session:
            found = await visits_with_cases(
                session,
                caller.districts,
                status=status.value if status else None,
                application_id=application_id,
                limit=limit,
            )
        return [view(visit, case) for visit, case in found]

    @router.post(
        "/cases/{application_id}/visits",
        status_code=201,
        responses={404: PROBLEM, 410: PROBLEM},
        summary="Plan a home visit, or record one made (with visited_at and outcome)",
    )
    async def plan(
        application_id: UUID,
        body: VisitPlan,
        caller: Annotated[Caller, require(Role.SOCIAL_WORKER)],
    ) -> HomeVisit:
        visit = planned(application_id, body, Actor.of(caller))
        async with transaction(runtime.sessions) as session:
            row = await session.get(ApplicationRow, application_id, with_for_update=True)
            case = open_case(row, application_id, caller)
            session.add(visit)
        return view(visit, case)

    @router.post(
        "/visits/{visit_id}/outcome",
        responses={404: PROBLEM, 409: PROBLEM, 410: PROBLEM},
        summary="Record how a visit went, once",
    )
    async def outcome(
        visit_id: UUID,
        body: VisitRecord,
        caller: Annotated[Caller, require(Role.SOCIAL_WORKER)],
    ) -> HomeVisit:
        async with transaction(runtime.sessions) as session:
            found = await session.get(HomeVisitRow, visit_id)
            if found is None:
                raise VisitNotFound(visit_id)
            # The application first, then the visit: the order an erasure locks them in (no note
            # is kept about a person being erased, and the opposite order could deadlock).
            case = await session.get(ApplicationRow, found.application_id, with_for_update=True)
            if case is None or not serves(caller, case):
                raise VisitNotFound(visit_id)
            visit = await session.get(
                HomeVisitRow, visit_id, with_for_update=True, populate_existing=True
            )
            if visit is None:
                raise VisitNotFound(visit_id)
            if case.erased_at is not None:
                raise CaseErased(case.id)
            record(visit, body, Actor.of(caller))
            session.add(visit)
        return view(visit, case)

    return router
