"""What a citizen sees of their own applications on the e-government portal, built by pure
functions from the application row and its journey.

The journey's steps carry status facts and keys, never personal data; the portal view adds the
decision's explanation in the citizen's language (the contract's catalogue of sentences), the offer
the citizen may answer, and what they may do now. Who on the staff side gave each command is left
out: the citizen learns what happened, not which of our staff did it.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from intake.store import CLOSED, ApplicationRow, JourneyEntry, Status
from socialsvc_common.contract.payloads import ApplicationForm, Language
from socialsvc_common.explanations import Wording, application_ref

DECIDED = "eligibility.decision.made"
OFFERED = "assignment.placement.made"
UPDATED = "assignment.placement.updated"
RELEASED = "assignment.placement.released"


class Worded(BaseModel):
    """A key of the contract and its sentence in the citizen's language."""

    code: str
    text: str


class Explanation(BaseModel):
    """The latest decision, explained."""

    outcome: str
    decided_at: datetime
    rule_set_version: str | None = None
    reasons: list[Worded] = Field(description="why it refused or waits; empty when eligible")
    missing: list[Worded] = Field(description="the facts asked for, to add on the portal")
    provision_types: list[Worded] = Field(description="the services the person may receive")


class Offer(BaseModel):
    """The place offered to the citizen; they accept or decline it through the portal."""

    placement_id: UUID
    status: str = Field(description="offered (to answer), accepted or started")
    provider_name: str | None = None
    provision_type: Worded | None = None
    district: str | None = None
    offered_at: datetime
    expires_at: datetime | None = Field(default=None, description="an offer lapses after this")


class Step(BaseModel):
    type: str
    time: datetime
    summary: dict[str, Any]


class ApplicationSummary(BaseModel):
    application_id: UUID
    reference: str = Field(description="the short reference the citizen's messages give")
    status: str
    service_requested: str
    submitted_at: datetime
    updated_at: datetime


class CitizenApplication(ApplicationSummary):
    language: Language
    decision: Explanation | None
    offer: Offer | None
    may: list[str] = Field(
        description="what the citizen may do now: add_facts, withdraw, accept_offer, decline_offer"
    )
    journey: list[Step]


def summary_of(row: ApplicationRow) -> ApplicationSummary:
    return ApplicationSummary(
        application_id=row.id,
        reference=application_ref(row.id),
        status=row.status,
        service_requested=row.service_requested,
        submitted_at=row.submitted_at,
        updated_at=row.updated_at,
    )


def language_of(row: ApplicationRow) -> Language:
    return ApplicationForm.model_validate_json(row.form).applicant.language


def explanation(journey: Sequence[JourneyEntry], wording: Wording) -> Explanation | None:
    """The latest decision of the journey in the citizen's words; None before the first."""
    decisions = [entry for entry in journey if entry.type == DECIDED]
    if not decisions:
        return None
    last = decisions[-1]
    facts = last.summary
    return Explanation(
        outcome=str(facts.get("outcome")),
        decided_at=last.time,
        rule_set_version=facts.get("rule_set_version"),
        reasons=[Worded(code=k, text=wording.reason(k)) for k in facts.get("reasons") or []],
        missing=[Worded(code=k, text=wording.missing_fact(k)) for k in facts.get("missing") or []],
        provision_types=[
            Worded(code=k, text=wording.provision_type(k))
            for k in facts.get("provision_types") or []
        ],
    )


def current_offer(journey: Sequence[JourneyEntry], wording: Wording) -> Offer | None:
    """The latest placement of the journey that is not released, with the status it reached."""
    offers: dict[str, Offer] = {}
    for entry in journey:
        placement_id = entry.summary.get("placement_id")
        if placement_id is None:
            continue  # a step recorded before journeys named the placement
        if entry.type == OFFERED:
            kind = entry.summary.get("provision_type")
            offers[placement_id] = Offer(
                placement_id=placement_id,
                status="offered",
                provider_name=entry.summary.get("provider_name"),
                provision_type=Worded(code=kind, text=wording.provision_type(kind))
                if kind
                else None,
                district=entry.summary.get("district"),
                offered_at=entry.time,
                expires_at=entry.summary.get("offer_expires_at"),
            )
        elif entry.type == UPDATED and placement_id in offers:
            offers[placement_id].status = str(entry.summary.get("status"))
        elif entry.type == RELEASED:
            offers.pop(placement_id, None)
    return list(offers.values())[-1] if offers else None


def allowed(status: Status, offer: Offer | None) -> list[str]:
    """What the citizen may do with the application in this status."""
    may = []
    if status is Status.NEEDS_INFORMATION:
        may.append("add_facts")
    if offer is not None and offer.status == "offered" and status not in CLOSED:
        may += ["accept_offer", "decline_offer"]
    # Consent may be withdrawn from a closed application too: its data is then used no more.
    if status is not Status.WITHDRAWN:
        may.append("withdraw")
    return may


def citizen_view(
    row: ApplicationRow, journey: Sequence[JourneyEntry], wording: Wording, language: Language
) -> CitizenApplication:
    """The whole of one application as the citizen sees it."""
    offer = None if Status(row.status) in CLOSED else current_offer(journey, wording)
    return CitizenApplication(
        **summary_of(row).model_dump(),
        language=language,
        decision=explanation(journey, wording),
        offer=offer,
        may=allowed(Status(row.status), offer),
        journey=[Step(type=e.type, time=e.time, summary=e.summary) for e in journey],
    )
