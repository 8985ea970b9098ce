"""Erasing a person's data: intake anonymises its own rows and tells every other holder through
`intake.subject.erased.v1`, in one transaction (the events go through the outbox).

The application rows, their statuses and journeys stay, so the counts hold; what identifies the
person (FIN, names, birth date, contacts, circumstances) goes, and so does what workers wrote
about them (the text of case notes, the notes of home visits). The life events a registry
reported about them and the offers made keep only the district and the language; the holders of
an offer's contact are told under the offer's id.
"""

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from sqlmodel.ext.asyncio.session import AsyncSession

from intake.applications import NAME
from intake.casework_store import erase_casework
from intake.journey import journey_row
from intake.offers import LifeEventRow, OfferRow, one_at_a_time
from intake.store import ApplicationRow, ErasureRow, Status, add_journey
from intake.subject_store import (
    anonymise_applications,
    anonymise_life_events,
    applications_of,
    life_events_of,
    unsent_about,
)
from socialsvc_common.contract import topics
from socialsvc_common.contract.actor import Actor
from socialsvc_common.contract.envelope import Event, new_event
from socialsvc_common.contract.erasure import ErasureReason, SubjectErased
from socialsvc_common.problems import Problem
from socialsvc_common.pseudonym import pseudonym

HeldEvent = tuple[LifeEventRow, OfferRow | None]


class NothingHeld(Problem):
    def __init__(self) -> None:
        super().__init__(
            404, "nothing-held", "Nothing is held", "no data is held about this person"
        )


class ErasureMustWait(Problem):
    def __init__(self, application_id: UUID) -> None:
        super().__init__(
            409,
            "erasure-must-wait",
            "An application is being processed",
            f"application or offer {application_id} is on its way between services; "
            "try again in a minute",
            application_id=str(application_id),
        )


class NoLongerDue(Exception):
    """What made a person due for erasure changed before their rows were locked."""


@dataclass(frozen=True, slots=True)
class Erasure:
    erasure_id: UUID
    person_ref: str
    application_ids: list[UUID]
    offer_ids: list[UUID]
    events: list[Event]


def kept_of(applicant: dict[str, Any]) -> dict[str, Any]:
    """What is kept of a person once erased: the district and the language (the statistics'
    dimensions), nothing that identifies them."""
    return {key: applicant.get(key) for key in ("district", "language")}


def anonymised_form(form: str) -> str:
    """What an application keeps of its form once the person is erased: the service asked for,
    and what `kept_of` keeps of the applicant."""
    data = json.loads(form)
    kept = {
        "erased": True,
        "service_requested": data.get("service_requested"),
        "applicant": kept_of(data.get("applicant", {})),
    }
    return json.dumps(kept, ensure_ascii=False)


def erasure_events(
    ids: Sequence[UUID], erasure: ErasureRow, cause_time: datetime, actor: Actor | None
) -> list[Event]:
    """The erasure's event for each application (or offer) id."""
    return [
        new_event(
            topics.SUBJECT_ERASED,
            SubjectErased(
                application_id=held,
                erasure_id=erasure.id,
                person_ref=erasure.person_ref,
                reason=ErasureReason(erasure.reason),
                legal_basis=erasure.legal_basis,
                erased_at=erasure.erased_at,
            ),
            producer=NAME,
            application_id=held,
            at=cause_time,
            actor=actor,
        )
        for held in ids
    ]


async def erase_subject(
    session: AsyncSession,
    fin: str,
    *,
    reason: ErasureReason,
    legal_basis: str,
    requested_by: str,
    pseudonym_key: bytes,
    now: datetime,
    actor: Actor | None = None,
    still_due: Callable[[list[ApplicationRow], list[HeldEvent]], bool] | None = None,
) -> Erasure:
    """Anonymises the person's applications in the caller's transaction and returns the events
    that carry the erasure to the other services (the caller adds them to its outbox), naming the
    actor who asked for it (none when retention ended: the service erases by itself). It waits
    (ErasureMustWait) while an application is still to be decided or an event about one is
    unsent, so no personal data overtakes the erasure on its way downstream. `still_due`, given
    when retention ended, is asked again of the rows as locked (NoLongerDue if not)."""
    rows = await applications_of(session, fin, lock=True)
    life_events = await life_events_of(session, fin, lock=True)
    if life_events:
        # An offer being made meanwhile: wait for it, and read the offers again (see offers).
        await one_at_a_time(session, [event.life_event_id for event, _ in life_events])
        life_events = await life_events_of(session, fin)
    if not rows and not life_events:
        raise NothingHeld()
    if still_due is not None and not still_due(rows, life_events):
        raise NoLongerDue()
    for row in rows:
        if row.status == Status.RECEIVED.value:
            raise ErasureMustWait(row.id)
    offer_ids = [offer.offer_id for _, offer in life_events if offer is not None]
    held = [*(row.id for row in rows), *offer_ids]
    if await unsent_about(session, held):
        raise ErasureMustWait(held[0])
    erasure = ErasureRow(
        id=uuid4(),
        person_ref=pseudonym(fin, pseudonym_key),
        reason=reason.value,
        legal_basis=legal_basis,
        requested_by=requested_by,
        applications=len(rows),
        erased_at=now,
    )
    session.add(erasure)
    await anonymise_applications(session, {row.id: anonymised_form(row.form) for row in rows}, now)
    await erase_casework(session, [row.id for row in rows])
    await anonymise_life_events(
        session, {event.life_event_id: kept_of(event.person) for event, _ in life_events}, now
    )
    events = erasure_events([row.id for row in rows], erasure, now, actor)
    await add_journey(session, [journey_row(e.envelope, e.payload) for e in events])
    # Every life event, offered or not: eligibility keeps the registry's reference of each.
    events += erasure_events([event.life_event_id for event, _ in life_events], erasure, now, actor)
    return Erasure(erasure.id, erasure.person_ref, [row.id for row in rows], offer_ids, events)
