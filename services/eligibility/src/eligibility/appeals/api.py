"""HTTP routes of appeals and of the decision history: thin, they parse, call a step in one
transaction (its events in the outbox with it) and answer; refusals are problem+json."""

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel.ext.asyncio.session import AsyncSession

from eligibility.appeals import steps
from eligibility.appeals.policy import AppealPolicy
from eligibility.appeals.rules import AppealRefused, is_overdue
from eligibility.appeals.scope import appeal_district, appeal_in_scope, application_in_scope
from eligibility.appeals.store import GROUNDS_LENGTH, AppealRow, appeals_listed
from eligibility.ruleset import MAX_NEED_LEVEL
from eligibility.store import DecisionRow, decisions_of
from socialsvc_common.apikeys import Caller, Role
from socialsvc_common.auth import AUTH_RESPONSES, require
from socialsvc_common.contract.actor import Actor
from socialsvc_common.contract.appeals import AppealStatus, AppealSubject
from socialsvc_common.contract.envelope import Event
from socialsvc_common.contract.payloads import DecisionMade, ProvisionType
from socialsvc_common.db import transaction
from socialsvc_common.explanations import application_ref
from socialsvc_common.outbox import add_events
from socialsvc_common.portal import Citizen, citizen, not_theirs
from socialsvc_common.problems import PROBLEM_JSON, Problem
from socialsvc_common.public_stream import PublicStream
from socialsvc_common.service import Runtime

PROBLEM: dict[int | str, dict[str, Any]] = {
    code: {"content": {PROBLEM_JSON: {}}} for code in (404, 409, 422)
}
# Who reads appeals and histories; who lodges an appeal for a citizen; who decides one.
STAFF = (Role.SOCIAL_WORKER, Role.OPERATOR, Role.REVIEWER)
LODGERS = (Role.SOCIAL_WORKER,)
REVIEWERS = (Role.REVIEWER,)
Vouched = Annotated[Citizen, citizen()]


class AppealRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject: AppealSubject = Field(
        default=AppealSubject.DECISION,
        description="the current decision, or the latest refusal or end of a placement",
    )
    grounds: str = Field(min_length=1, max_length=GROUNDS_LENGTH, description="what is wrong")
    claimed_need_level: int | None = Field(
        default=None,
        ge=1,
        le=MAX_NEED_LEVEL,
        description="against an eligible decision: the higher need level claimed",
    )


class VerdictRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: AppealStatus = Field(description="upheld or overturned")
    reasons: str = Field(min_length=1, max_length=GROUNDS_LENGTH)
    need_level: int | None = Field(default=None, ge=1, le=MAX_NEED_LEVEL)
    provision_types: list[ProvisionType] | None = Field(
        default=None,
        description="what an overturn grants; without it, what the decision found or the "
        "service applied for",
    )


def appeal_view(row: AppealRow, now: datetime, district: str | None = None) -> dict[str, Any]:
    overdue = is_overdue(AppealStatus(row.status), row.respond_by, now)
    return row.model_dump(mode="json") | {
        "overdue": overdue,
        "district": district,
        "reference": application_ref(row.application_id),
    }


def appeals_router(
    runtime: Runtime, policy: AppealPolicy, public: PublicStream, pseudonym_key: bytes
) -> APIRouter:
    api = APIRouter(tags=["appeals"], responses={**AUTH_RESPONSES, **PROBLEM})
    Lodger = Annotated[Caller, require(*LODGERS)]
    Reviewer = Annotated[Caller, require(*REVIEWERS)]

    async def step(work: Callable[[AsyncSession], Awaitable[tuple[AppealRow, list[Event]]]]) -> Any:
        try:
            async with transaction(runtime.sessions) as session:
                appeal, events = await work(session)
                await add_events(session, events)
                district = await appeal_district(session, appeal)
        except AppealRefused as refused:
            title = refused.code.replace("-", " ").capitalize()
            problem = Problem(refused.status, refused.code, title, refused.detail)
            if refused.field:
                problem.extra["errors"] = [{"field": refused.field, "message": refused.detail}]
            raise problem from None
        runtime.relay.wake()
        return appeal_view(appeal, datetime.now(UTC), district)

    @api.post("/applications/{application_id}/appeals", status_code=201)
    async def lodge(application_id: UUID, body: AppealRequest, caller: Lodger) -> Any:
        lodging = steps.Lodging(body.grounds, body.claimed_need_level, body.subject)
        actor, now = Actor.of(caller), datetime.now(UTC)

        async def work(session: AsyncSession) -> tuple[AppealRow, list[Event]]:
            await application_in_scope(session, caller, application_id)
            return await steps.lodge(session, application_id, lodging, actor, policy, now=now)

        return await step(work)

    @api.post("/portal/applications/{application_id}/appeals", status_code=201, tags=["portal"])
    async def lodge_for_citizen(application_id: UUID, body: AppealRequest, citizen: Vouched) -> Any:
        """The citizen appeals through the e-government portal, about their own application
        only (another person's is 404, as one that does not exist)."""
        async with runtime.sessions() as session:
            rows = await decisions_of(session, [application_id])
        person = rows[-1].decision.get("person_ref") if rows else None
        if person is None or person != citizen.person_ref(pseudonym_key):
            raise not_theirs("application", application_id)
        lodging = steps.Lodging(body.grounds, body.claimed_need_level, body.subject)
        actor, now = citizen.actor, datetime.now(UTC)
        return await step(lambda s: steps.lodge(s, application_id, lodging, actor, policy, now=now))

    @api.post("/appeals/{appeal_id}/decision")
    async def decide(appeal_id: UUID, body: VerdictRequest, caller: Reviewer) -> Any:
        if body.status is AppealStatus.LODGED:
            raise Problem(
                422,
                "validation",
                "Invalid verdict",
                "a reviewer upholds or overturns an appeal",
                errors=[{"field": "status", "message": "upheld or overturned"}],
            )
        verdict = steps.Verdict(body.status, body.reasons, body.need_level, body.provision_types)
        actor, now = Actor.of(caller), datetime.now(UTC)

        async def work(session: AsyncSession) -> tuple[AppealRow, list[Event]]:
            await appeal_in_scope(session, caller, appeal_id)
            return await steps.decide(session, appeal_id, verdict, actor, public, now=now)

        return await step(work)

    api.include_router(reads_router(runtime))
    return api


def reads_router(runtime: Runtime) -> APIRouter:
    """The staff's reads: appeals and decision histories, within the caller's districts."""
    api = APIRouter(tags=["appeals"], responses={**AUTH_RESPONSES, **PROBLEM})
    Staff = Annotated[Caller, require(*STAFF)]

    @api.get("/appeals")
    async def listed(
        caller: Staff,
        overdue: bool = False,
        status: AppealStatus | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> list[dict[str, Any]]:
        now = datetime.now(UTC)
        async with runtime.sessions() as session:
            rows = await appeals_listed(
                session,
                overdue_at=now if overdue else None,
                status=status.value if status else None,
                limit=limit,
                districts=caller.districts,
            )
        return [appeal_view(row, now, district) for row, district in rows]

    @api.get("/appeals/{appeal_id}")
    async def one(appeal_id: UUID, caller: Staff) -> dict[str, Any]:
        async with runtime.sessions() as session:
            row = await session.get(AppealRow, appeal_id)
            district = await appeal_district(session, row) if row is not None else None
        if row is None or (caller.districts and not (district and caller.serves(district))):
            raise Problem(404, "not-found", "Not found", f"no appeal {appeal_id}")
        return appeal_view(row, datetime.now(UTC), district)

    @api.get("/applications/{application_id}/decisions")
    async def history(application_id: UUID, caller: Staff) -> list[dict[str, Any]]:
        """Every decision the application had, oldest first; the last is the current one."""
        async with runtime.sessions() as session:
            rows = await decisions_of(session, [application_id])
        if not rows or not caller.serves(rows[-1].district):
            raise Problem(404, "not-found", "Not found", f"no decision on {application_id}")
        return [history_view(row, current=row is rows[-1]) for row in rows]

    return api


def history_view(row: DecisionRow, *, current: bool) -> dict[str, Any]:
    decision = DecisionMade.model_validate(row.decision)
    return {
        "event_id": row.event_id,
        "current": current,
        "decided_at": decision.decided_at,
        "outcome": decision.outcome,
        "rule_set_version": decision.rule_set_version,
        "need_level": decision.need_level,
        "provision_types": decision.provision_types,
        "reasons": decision.refusal_reasons(),
        "missing": decision.missing,
        "rules": decision.rules,
        "appeal_id": decision.appeal_id,
        "appeal_by": decision.appeal_by,
        "erased_at": row.erased_at,
    }
