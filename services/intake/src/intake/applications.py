"""Taking applications in: intake's use cases, free of HTTP and Kafka.

Submissions are taken in sets (the HTTP requests that arrive together, a batch of the e-government
topic): one insert tells which are new, the unique indexes enforcing the idempotency key and the
one open application per person and service; only the rare clashes are looked up afterwards.
"""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from intake.cases import searchable
from intake.consent_texts import (
    ConsentText,
    ConsentTextNotInForce,
    ConsentTexts,
    UnknownConsentText,
)
from intake.journey import journey_row
from intake.store import (
    OPEN_FOR_FACTS,
    ApplicationRow,
    Status,
    add_consents,
    add_journey,
    by_keys,
    insert_applications,
    open_for,
    revisions,
)
from socialsvc_common.contract import payloads as p
from socialsvc_common.contract import topics
from socialsvc_common.contract.actor import Actor
from socialsvc_common.contract.envelope import Event, new_event
from socialsvc_common.problems import Problem
from socialsvc_common.pseudonym import pseudonym
from socialsvc_common.public_stream import PublicStream

NAME = "intake"
# Consent texts come into force on calendar days in Azerbaijan.
BAKU = ZoneInfo("Asia/Baku")


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


class ConsentTextRefused(Problem):
    def __init__(self, reason: LookupError) -> None:
        super().__init__(
            422,
            "consent-text-refused",
            "Consent text not accepted",
            str(reason),
            errors=[{"field": "consent_text_version", "message": str(reason)}],
        )


class SubmissionClashed(RuntimeError):
    """The insert found a clash that the lookups after it cannot name; the caller tries again."""


@dataclass(frozen=True, slots=True)
class Submit:
    """A command: take this application in."""

    form: p.ApplicationForm
    channel: str
    idempotency_key: str | None
    actor: Actor
    application_id: UUID | None = None


@dataclass(frozen=True, slots=True)
class Submission:
    application_id: UUID
    status: str
    created: bool
    events: list[Event]


CONSENT_FIELDS = ("consent_text_version", "consent_language")


def request_hash(form: p.ApplicationForm) -> str:
    # Consent fields left out stay out of the hash, so a form repeated under its key hashes as it
    # did before the fields existed.
    unstated = {name for name in CONSENT_FIELDS if getattr(form, name) is None}
    return hashlib.sha256(form.model_dump_json(exclude=unstated).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class _Draft:
    command: Submit
    row: dict[str, Any]
    consent: dict[str, Any]
    events: list[Event]

    @property
    def received(self) -> Event:
        return self.events[0]


def _draft(command: Submit, consent: ConsentText, now: datetime, pseudonym_key: bytes) -> _Draft:
    form = command.form
    application_id = command.application_id or uuid4()
    agreed = {
        "application_id": application_id,
        "purposes": [purpose.value for purpose in consent.purposes],
        "text_version": consent.version,
        "language": (form.consent_language or form.applicant.language).value,
        "given_at": now,
        "recorded_by": str(command.actor),
    }
    row = {
        "id": application_id,
        "fin": form.applicant.fin,
        "service_requested": form.service_requested.value,
        "channel": command.channel,
        "status": Status.RECEIVED.value,
        "is_open": True,
        "idempotency_key": command.idempotency_key,
        "request_hash": request_hash(form),
        "form": form.model_dump_json(),
        "submitted_at": now,
        "updated_at": now,
        "submitted_by": str(command.actor),
        **searchable(form.applicant),
    }
    received = p.ApplicationReceived(
        application_id=application_id,
        submitted_at=now,
        channel=command.channel,
        service_requested=form.service_requested,
        applicant=form.applicant,
        circumstances=form.circumstances,
        person_ref=pseudonym(form.applicant.fin, pseudonym_key),
    )
    event = new_event(
        topics.APPLICATION_RECEIVED,
        received,
        producer=NAME,
        application_id=application_id,
        at=now,
        actor=command.actor,
    )
    return _Draft(command, row, agreed, [event, public_twin(received, pseudonym_key)])


async def submit_all(
    session: AsyncSession,
    commands: Sequence[Submit],
    *,
    pseudonym_key: bytes,
    consent_texts: ConsentTexts,
) -> list[Submission | Problem]:
    """Stores the new applications with their consent records and `application.received` events
    (in the caller's transaction, which adds the events to its outbox). For each command in
    order: the new submission, the one its idempotency key made before (not created), or the
    Problem that refuses it (a consent text not in force, an open application exists, the key
    was used for another form)."""
    now = datetime.now(UTC)
    planned = [_plan(command, consent_texts, now, pseudonym_key) for command in commands]
    drafts = [draft for draft in planned if isinstance(draft, _Draft)]
    inserted = await insert_applications(session, [draft.row for draft in drafts])
    created = [draft for draft in drafts if draft.row["id"] in inserted]
    await add_consents(session, [draft.consent for draft in created])
    await add_journey(
        session, [journey_row(d.events[0].envelope, d.events[0].payload) for d in created]
    )
    clashed = [draft for draft in drafts if draft.row["id"] not in inserted]
    keys = {d.command.idempotency_key for d in clashed if d.command.idempotency_key is not None}
    known = await by_keys(session, keys) if keys else {}
    people = {(d.row["fin"], d.row["service_requested"]) for d in clashed}
    holders = await open_for(session, people) if clashed else {}
    outcomes: list[Submission | Problem] = []
    for draft in planned:
        if isinstance(draft, Problem):
            outcomes.append(draft)
        elif draft.row["id"] in inserted:
            outcomes.append(Submission(draft.row["id"], Status.RECEIVED.value, True, draft.events))
        else:
            outcomes.append(_clash(draft, known, holders))
    return outcomes


def _plan(
    command: Submit, consent_texts: ConsentTexts, now: datetime, pseudonym_key: bytes
) -> _Draft | Problem:
    """The draft of a submission, or the Problem of a consent text it may not be taken under."""
    try:
        consent = consent_texts.accepted(
            command.form.consent_text_version, now.astimezone(BAKU).date()
        )
    except (UnknownConsentText, ConsentTextNotInForce) as refused:
        return ConsentTextRefused(refused)
    return _draft(command, consent, now, pseudonym_key)


def _clash(
    draft: _Draft,
    known: dict[str, ApplicationRow],
    holders: dict[tuple[str, str], ApplicationRow],
) -> Submission | Problem:
    """Why a draft was not inserted: its key made an application before, or one is open."""
    if (key := draft.command.idempotency_key) is not None and (first := known.get(key)):
        if first.request_hash != draft.row["request_hash"]:
            return IdempotencyKeyReused()
        return Submission(first.id, first.status, created=False, events=[])
    if holder := holders.get((draft.row["fin"], draft.row["service_requested"])):
        return DuplicateApplication(holder.id)
    raise SubmissionClashed("an application clashed with one no longer found; try again")


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
    session: AsyncSession,
    application_id: UUID,
    facts: p.AddedFacts,
    *,
    actor: Actor,
    pseudonym_key: bytes,
) -> Submission:
    """Adds facts to an open, not yet placed application and sends it to be decided again."""
    row = await session.get(ApplicationRow, application_id, with_for_update=True)
    if row is None:
        raise Problem(404, "not-found", "No such application", f"no application {application_id}")
    if row.erased_at is not None:
        raise Problem(410, "erased", "The person's data was erased", "facts can no longer be added")
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
        topics.APPLICATION_RECEIVED,
        received,
        producer=NAME,
        application_id=row.id,
        at=now,
        actor=actor,
    )
    row.form, row.status, row.updated_at = form.model_dump_json(), Status.RECEIVED.value, now
    row.facts_added_by = str(actor)
    session.add(row)
    await add_journey(session, [journey_row(event.envelope, received)])
    events = [event, public_twin(received, pseudonym_key)]
    return Submission(row.id, row.status, created=True, events=events)


def public_twin(received: p.ApplicationReceived, pseudonym_key: bytes) -> Event:
    """What partners see of the application being received, under its pseudonymous id."""
    return PublicStream(NAME, pseudonym_key).received(received)
