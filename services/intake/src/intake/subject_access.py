"""What intake holds about a person (found by FIN): their applications with the forms they gave,
each application's journey and what workers wrote about it (notes, a confidential one without its
text, and home visits), the life events registries reported about them with the offers made, with
the purpose and the date of erasure of each."""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from sqlmodel.ext.asyncio.session import AsyncSession

from intake.casework_store import CaseNoteRow, HomeVisitRow, notes_of, visits_with_cases
from intake.offers import LifeEventRow, OfferRow
from intake.retention import RetentionPolicy
from intake.store import ApplicationRow, Status, journey_of
from intake.subject_store import applications_of, life_events_of
from socialsvc_common.contract.payloads import OfferStatus
from socialsvc_common.subject_access import Holding


@dataclass(frozen=True, slots=True)
class PersonHoldings:
    language: str | None
    application_ids: list[UUID]
    offer_ids: list[UUID]
    holdings: list[Holding]


def application_holding(row: ApplicationRow, policy: RetentionPolicy) -> Holding:
    return Holding(
        category="application",
        application_id=row.id,
        purpose="decide_and_provide",
        retained_until=policy.retained_until(Status(row.status), row.updated_at),
        data={
            "status": row.status,
            "service_requested": row.service_requested,
            "channel": row.channel,
            "submitted_at": row.submitted_at.isoformat(),
            "updated_at": row.updated_at.isoformat(),
            "form": json.loads(row.form),
        },
    )


def language_of(rows: Sequence[ApplicationRow]) -> str | None:
    """The language the person chose on their latest application."""
    for row in reversed(rows):
        language = json.loads(row.form).get("applicant", {}).get("language")
        if language:
            return str(language)
    return None


def casework_holding(
    application: Holding, notes: Sequence[CaseNoteRow], visits: Sequence[HomeVisitRow]
) -> Holding:
    return Holding(
        category="casework",
        application_id=application.application_id,
        purpose="provide_the_service",
        retained_until=application.retained_until,
        data={
            "notes": [
                {
                    # A confidential note may protect someone else: the officer answering the
                    # request sees it exists and decides; its text is not in the report.
                    "text": None if note.confidential else note.text,
                    "confidential": note.confidential,
                    "written_at": note.written_at.isoformat(),
                }
                for note in notes
            ],
            "visits": [
                {
                    "reason": visit.reason,
                    "status": visit.status,
                    "requested_at": visit.requested_at.isoformat(),
                    "visited_at": visit.visited_at.isoformat() if visit.visited_at else None,
                    "outcome": visit.outcome,
                    "note": visit.note,
                }
                for visit in visits
            ],
        },
    )


def life_event_holding(
    event: LifeEventRow, offer: OfferRow | None, policy: RetentionPolicy
) -> Holding:
    """A life event a registry reported, with the offer it led to (under the life event's id)."""
    status = OfferStatus(offer.status) if offer is not None else None
    answered_at = offer.answered_at if offer is not None else None
    return Holding(
        category="life_event",
        application_id=event.life_event_id,
        purpose="proactive_offer",
        retained_until=policy.life_event_retained_until(status, event.received_at, answered_at),
        data={
            "registry": event.reported_by,
            "reference": event.reference,
            "kind": event.kind,
            "occurred_on": event.occurred_on.isoformat() if event.occurred_on else None,
            "received_at": event.received_at.isoformat(),
            "person": event.person,
            "lives_alone": event.lives_alone,
            "disability_group": event.disability_group,
            "offer": None
            if offer is None
            else {
                "status": offer.status,
                "provision_types": offer.provision_types,
                "offered_at": offer.offered_at.isoformat(),
                "answer_by": offer.answer_by.isoformat(),
                "answered_at": answered_at.isoformat() if answered_at else None,
                "application_id": str(offer.application_id) if offer.application_id else None,
            },
        },
    )


async def person_holdings(
    session: AsyncSession, fin: str, policy: RetentionPolicy
) -> PersonHoldings:
    rows = await applications_of(session, fin)
    holdings = []
    for row in rows:
        holding = application_holding(row, policy)
        journey = await journey_of(session, row.id)
        steps = [{"type": e.type, "time": e.time.isoformat(), **e.summary} for e in journey]
        holdings += [
            holding,
            Holding(
                category="journey",
                application_id=row.id,
                purpose="trace_the_case",
                retained_until=holding.retained_until,
                data={"steps": steps},
            ),
        ]
        notes = await notes_of(session, row.id, confidential=True)
        visits = [v for v, _ in await visits_with_cases(session, (), application_id=row.id)]
        if notes or visits:
            holdings.append(casework_holding(holding, notes, visits))
    life_events = await life_events_of(session, fin)
    holdings += [life_event_holding(event, offer, policy) for event, offer in life_events]
    language = language_of(rows) or next(
        (str(event.person["language"]) for event, _ in life_events if event.person.get("language")),
        None,
    )
    offer_ids = [offer.offer_id for _, offer in life_events if offer is not None]
    return PersonHoldings(language, [row.id for row in rows], offer_ids, holdings)
