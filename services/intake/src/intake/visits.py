"""Home visits: asked for by notifications when no channel reached a person who lives alone, or
planned by a worker; each done once, when its outcome is recorded with who recorded it."""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Self
from uuid import UUID, uuid4

from pydantic import AwareDatetime, BaseModel, Field, model_validator
from sqlmodel.ext.asyncio.session import AsyncSession

from intake.casework_store import DONE, REQUESTED, HomeVisitRow, add_visits
from intake.journey import record_events
from intake.store import ApplicationRow
from socialsvc_common.consumer import Received
from socialsvc_common.contract import payloads as p
from socialsvc_common.contract.actor import Actor
from socialsvc_common.contract.envelope import Event
from socialsvc_common.explanations import application_ref
from socialsvc_common.problems import Problem

# A visit's time may run this far ahead of the server's clock (a phone's clock), not more.
CLOCK_SKEW = timedelta(minutes=5)


class VisitOutcome(StrEnum):
    INFORMED = "informed"
    NOT_AT_HOME = "not_at_home"
    REFUSED = "refused"
    MOVED = "moved"
    HOSPITALISED = "hospitalised"
    DIED = "died"
    OTHER = "other"


class VisitRecord(BaseModel):
    """How a visit went: when, its outcome, and a note (never logged; erased with the person)."""

    visited_at: AwareDatetime
    outcome: VisitOutcome
    note: str | None = Field(default=None, min_length=1, max_length=2000)

    @model_validator(mode="after")
    def _not_in_the_future(self) -> Self:
        if self.visited_at > datetime.now(UTC) + CLOCK_SKEW:
            raise ValueError("visited_at is in the future")
        return self


class VisitPlan(BaseModel):
    """A visit a worker plans (a reason), or records at once (with visited_at and outcome)."""

    reason: str = Field(min_length=1, max_length=200)
    visited_at: AwareDatetime | None = None
    outcome: VisitOutcome | None = None
    note: str | None = Field(default=None, min_length=1, max_length=2000)

    @model_validator(mode="after")
    def _done_or_planned(self) -> Self:
        if (self.visited_at is None) != (self.outcome is None):
            raise ValueError("a visit recorded at once needs both visited_at and outcome")
        if self.note is not None and self.outcome is None:
            raise ValueError("a note is recorded with the visit's outcome")
        if self.visited_at is not None and self.visited_at > datetime.now(UTC) + CLOCK_SKEW:
            raise ValueError("visited_at is in the future")
        return self

    def record(self) -> VisitRecord | None:
        if self.visited_at is None or self.outcome is None:
            return None
        return VisitRecord(visited_at=self.visited_at, outcome=self.outcome, note=self.note)


class HomeVisit(BaseModel):
    id: UUID
    application_id: UUID
    reference: str
    name: str | None
    district: str | None
    reason: str
    message: str | None
    language: str | None
    requested_at: datetime
    requested_by: Actor | None
    status: str
    visited_at: datetime | None
    outcome: str | None
    recorded_by: Actor | None
    note: str | None


def view(visit: HomeVisitRow, case: ApplicationRow) -> HomeVisit:
    return HomeVisit(
        id=visit.id,
        application_id=visit.application_id,
        reference=application_ref(visit.application_id),
        name=case.applicant_name,
        district=case.district,
        reason=visit.reason,
        message=visit.message,
        language=visit.language,
        requested_at=visit.requested_at,
        requested_by=Actor.stored(visit.requested_by),
        status=visit.status,
        visited_at=visit.visited_at,
        outcome=visit.outcome,
        recorded_by=Actor.stored(visit.recorded_by),
        note=visit.note,
    )


class VisitAlreadyRecorded(Problem):
    def __init__(self, visit: HomeVisitRow) -> None:
        super().__init__(
            409,
            "visit-already-recorded",
            "The visit's outcome is recorded",
            f"visit {visit.id} was recorded as {visit.outcome}",
            outcome=visit.outcome,
        )


def record(visit: HomeVisitRow, outcome: VisitRecord, actor: Actor) -> None:
    """Records how a visit went, once."""
    if visit.status == DONE:
        raise VisitAlreadyRecorded(visit)
    visit.status, visit.visited_at = DONE, outcome.visited_at
    visit.outcome, visit.note = outcome.outcome.value, outcome.note
    visit.recorded_by = str(actor)


def planned(application_id: UUID, plan: VisitPlan, actor: Actor) -> HomeVisitRow:
    """The visit a worker plans, done already if they recorded how it went."""
    visit = HomeVisitRow(
        id=uuid4(),
        application_id=application_id,
        reason=plan.reason,
        requested_at=datetime.now(UTC),
        requested_by=str(actor),
        status=REQUESTED,
    )
    if (done := plan.record()) is not None:
        record(visit, done, actor)
    return visit


def requested(item: Received[p.HomeVisitRequested]) -> dict[str, Any]:
    """The visit a request event asks for: the message the person did not receive is its reason."""
    request = item.payload
    return {
        "id": uuid4(),
        "application_id": request.application_id,
        "event_id": item.envelope.event_id,
        "reason": request.message_kind,
        "message": request.text,
        "language": request.language.value,
        "requested_at": request.requested_at,
        "status": REQUESTED,
    }


async def on_visits_requested(
    session: AsyncSession, batch: Sequence[Received[p.HomeVisitRequested]]
) -> list[Event]:
    """Each request is a step of its application's journey and one visit in the queue, however
    often it is delivered (a visit per request event)."""
    await record_events(session, batch)
    by_event = {item.envelope.event_id: requested(item) for item in batch}
    await add_visits(session, list(by_event.values()))
    return []
