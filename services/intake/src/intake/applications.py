"""Taking applications in and keeping their journeys: intake's use cases, free of HTTP and Kafka."""

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from pydantic import BaseModel
from sqlmodel.ext.asyncio.session import AsyncSession

from intake.store import (
    CLOSED,
    DECIDABLE,
    OPEN_FOR_FACTS,
    STATUS_RANK,
    ApplicationRow,
    JourneyEntry,
    Status,
    by_key,
    open_for,
    revisions,
)
from socialsvc_common.consumer import Rejected
from socialsvc_common.contract import payloads as p
from socialsvc_common.contract import topics
from socialsvc_common.contract.envelope import Envelope, Event, new_event
from socialsvc_common.problems import Problem
from socialsvc_common.pseudonym import pseudonym
from socialsvc_common.public_stream import PublicStream

NAME = "intake"


class DuplicateApplication(Problem):
    def __init__(self, first: UUID) -> None:
        super().__init__(
            409,
            "open-application-exists",
            "An open application exists",
            f"this person already has an open application {first} for this service",
            open_application_id=str(first),
        )
        self.first = first


class IdempotencyKeyReused(Problem):
    def __init__(self) -> None:
        super().__init__(
            422,
            "idempotency-key-reused",
            "Idempotency-Key reused",
            "this Idempotency-Key was used before with a different application",
        )


@dataclass(frozen=True, slots=True)
class Submission:
    application: ApplicationRow
    created: bool
    events: list[Event]


def request_hash(form: p.ApplicationForm) -> str:
    return hashlib.sha256(form.model_dump_json().encode()).hexdigest()


async def submit(
    session: AsyncSession,
    form: p.ApplicationForm,
    *,
    channel: str,
    idempotency_key: str | None,
    pseudonym_key: bytes,
    application_id: UUID | None = None,
) -> Submission:
    """Stores a new application with its `application.received` event, or returns the one this
    idempotency key already made. Raises DuplicateApplication when one is open for the service."""
    digest = request_hash(form)
    if idempotency_key is not None and (known := await by_key(session, idempotency_key)):
        if known.request_hash != digest:
            raise IdempotencyKeyReused
        return Submission(known, created=False, events=[])
    if first := await open_for(session, form.applicant.fin, form.service_requested.value):
        raise DuplicateApplication(first.id)
    now = datetime.now(UTC)
    row = ApplicationRow(
        id=application_id or uuid4(),
        fin=form.applicant.fin,
        service_requested=form.service_requested.value,
        channel=channel,
        idempotency_key=idempotency_key,
        request_hash=digest,
        form=form.model_dump_json(),
        submitted_at=now,
        updated_at=now,
    )
    received = p.ApplicationReceived(
        application_id=row.id,
        submitted_at=now,
        channel=channel,
        service_requested=form.service_requested,
        applicant=form.applicant,
        circumstances=form.circumstances,
        person_ref=pseudonym(form.applicant.fin, pseudonym_key),
    )
    event = new_event(
        topics.APPLICATION_RECEIVED, received, producer=NAME, application_id=row.id, at=now
    )
    session.add(row)
    session.add(journey_entry(event.envelope, received))
    return Submission(row, created=True, events=[event, public_twin(received, pseudonym_key)])


class NotOpenForFacts(Problem):
    def __init__(self, application_id: UUID, status: str) -> None:
        super().__init__(
            409,
            "not-open-for-facts",
            "The application takes no more facts",
            f"application {application_id} is {status}; facts can be added until it is decided",
            application_status=status,
        )


async def add_facts(
    session: AsyncSession, application_id: UUID, facts: p.AddedFacts, *, pseudonym_key: bytes
) -> Submission:
    """Adds facts to an open, not yet placed application and sends it to be decided again."""
    row = await session.get(ApplicationRow, application_id, with_for_update=True)
    if row is None:
        raise Problem(404, "not-found", "No such application", f"no application {application_id}")
    if Status(row.status) not in OPEN_FOR_FACTS:
        raise NotOpenForFacts(row.id, row.status)
    form = p.ApplicationForm.model_validate_json(row.form)
    merged = form.circumstances.model_copy(update=facts.model_dump(exclude_none=True))
    form = form.model_copy(
        update={"circumstances": p.Circumstances.model_validate(merged.model_dump())}
    )
    now = datetime.now(UTC)
    revision = await revisions(session, row.id) + 1
    received = p.ApplicationReceived(
        application_id=row.id,
        submitted_at=row.submitted_at,
        channel=row.channel,
        service_requested=form.service_requested,
        applicant=form.applicant,
        circumstances=form.circumstances,
        revision=revision,
        person_ref=pseudonym(form.applicant.fin, pseudonym_key),
    )
    event = new_event(
        topics.APPLICATION_RECEIVED, received, producer=NAME, application_id=row.id, at=now
    )
    row.form, row.status, row.updated_at = form.model_dump_json(), Status.RECEIVED.value, now
    session.add(row)
    session.add(journey_entry(event.envelope, received))
    return Submission(row, created=True, events=[event, public_twin(received, pseudonym_key)])


def public_twin(received: p.ApplicationReceived, pseudonym_key: bytes) -> Event:
    """What partners see of the application being received, under its pseudonymous id."""
    return PublicStream(NAME, pseudonym_key).received(received)


def journey_entry(envelope: Envelope, payload: BaseModel) -> JourneyEntry:
    return JourneyEntry(
        event_id=envelope.event_id,
        application_id=envelope.application_id,
        type=envelope.type,
        time=envelope.time,
        summary=summary(payload),
    )


def summary(payload: BaseModel) -> dict[str, Any]:  # noqa: PLR0911 - one return per event type
    """What the journey shows of an event: status facts, never personal data."""
    match payload:
        case p.ApplicationReceived():
            return {
                "channel": payload.channel,
                "service_requested": payload.service_requested.value,
                "revision": payload.revision,
            }
        case p.DecisionMade():
            return payload.model_dump(
                mode="json",
                include={"outcome", "rule_set_version", "need_level", "provision_types", "missing"},
            ) | {"reasons": payload.refusal_reasons()}
        case p.PlacementMade():
            return payload.model_dump(
                mode="json", include={"provider_name", "provision_type", "district"}
            )
        case p.PlacementWaitlisted():
            return payload.model_dump(mode="json", include={"provision_type", "district"})
        case p.PlacementUpdated():
            return {"status": payload.status.value}
        case p.PlacementRefused():
            return {"reason": payload.reason}
        case p.PlacementReleased():
            return {"reason": payload.reason}
        case p.NotificationDelivered():
            return payload.model_dump(mode="json", include={"channel", "segments"})
        case p.NotificationFailed():
            return payload.model_dump(mode="json", include={"channel", "reason", "final"})
    return {}


def status_after(payload: BaseModel) -> Status | None:
    match payload:
        case p.DecisionMade():
            return Status(payload.outcome.value)
        case p.PlacementMade():
            return Status.PLACED
        case p.PlacementWaitlisted():
            return Status.WAITLISTED
        case p.PlacementRefused():
            return Status.REFUSED
        case p.PlacementReleased():
            return Status.RELEASED
    return None


async def record_event(
    session: AsyncSession, envelope: Envelope, payload: BaseModel
) -> list[Event]:
    """Adds a downstream event to the application's journey and moves its status forward."""
    row = await session.get(ApplicationRow, envelope.application_id)
    if row is None:
        raise Rejected(f"no application {envelope.application_id} was taken in here")
    session.add(journey_entry(envelope, payload))
    status = status_after(payload)
    if status is not None and moves_to(Status(row.status), status, payload):
        row.status = status.value
        row.is_open = status not in CLOSED
        row.updated_at = datetime.now(UTC)
        session.add(row)
    return []


def moves_to(current: Status, new: Status, payload: BaseModel) -> bool:
    """A newer decision supersedes an earlier one until the person is placed or waitlisted; any
    other status only moves forward, because events of different topics arrive in either order."""
    if isinstance(payload, p.DecisionMade):
        return current in DECIDABLE
    return STATUS_RANK[new] > STATUS_RANK[current]
