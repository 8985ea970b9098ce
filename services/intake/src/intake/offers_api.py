"""The portal's proactive offers (issue 21), for the citizen it names (X-Citizen-FIN): the offers
made to them and their answer. Accepting applies for them, with what the registry knows filled in
and what they state added, and only with their consent: without it nothing goes further and the
offer stays open. Declining, or no answer by the offer's day, ends it. Each answer is recorded
with the portal's actor."""

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from intake.api import Accepted
from intake.applications import BAKU, Submission, Submit
from intake.offers import OFFERS, LifeEventRow, OfferRow, set_status, status_on
from intake.portal_api import CHANNEL, PROBLEM, accepted, portal_url
from intake.store import APPLICATIONS, ApplicationRow
from socialsvc_common.auth import AUTH_RESPONSES
from socialsvc_common.contract.payloads import (
    CONSENT_VERSION_PATTERN,
    Applicant,
    ApplicationForm,
    DailyActivity,
    Language,
    LifeEventKind,
    OfferStatus,
    ProvisionType,
    ServiceRequested,
    life_event_circumstances,
)
from socialsvc_common.db import transaction
from socialsvc_common.group_commit import GroupCommit
from socialsvc_common.outbox import add_events
from socialsvc_common.portal import Citizen, citizen, not_theirs
from socialsvc_common.problems import Problem
from socialsvc_common.service import Runtime

# An offer's application has an id of its own, the same however often it is accepted.
OFFER_NAMESPACE = uuid.UUID("0b5e6c52-2f7e-4a8f-9a55-6d1c6e3f2a90")
Vouched = Annotated[Citizen, citizen()]


class OfferView(BaseModel):
    offer_id: UUID
    kind: LifeEventKind
    provision_types: list[ProvisionType]
    missing: list[str]
    status: OfferStatus
    answer_by: date
    application_id: UUID | None = None


class OfferAcceptance(BaseModel):
    """The person's yes: their consent, and the facts the registry could not know."""

    model_config = ConfigDict(extra="forbid")

    consent_to_processing: bool = Field(
        description="without it the offer is not taken further (and stays open)"
    )
    consent_text_version: str | None = Field(default=None, pattern=CONSENT_VERSION_PATTERN)
    consent_language: Language | None = None
    activities_needing_help: list[DailyActivity] = Field(default_factory=list)
    monthly_household_income_azn: Decimal | None = Field(default=None, ge=0, max_digits=12)
    household_size: int = Field(default=1, ge=1, le=30)


class ConsentRequired(Problem):
    def __init__(self, offer_id: UUID, answer_by: date) -> None:
        super().__init__(
            422,
            "consent-required",
            "Consent is needed to go further",
            f"offer {offer_id} is taken further only with the person's consent to processing; "
            f"nothing was done with it, and it stays open until {answer_by.isoformat()}",
            answer_by=answer_by.isoformat(),
        )


class OfferClosed(Problem):
    def __init__(self, offer_id: UUID, status: OfferStatus) -> None:
        super().__init__(
            409,
            "offer-closed",
            "The offer is no longer open",
            f"offer {offer_id} is {status.value}",
            offer_status=status.value,
        )


def view_of(offer: OfferRow, today: date) -> OfferView:
    return OfferView(
        offer_id=offer.offer_id,
        kind=LifeEventKind(offer.kind),
        provision_types=[ProvisionType(kind) for kind in offer.provision_types],
        missing=offer.missing,
        status=status_on(offer, today),
        answer_by=offer.answer_by,
        application_id=offer.application_id,
    )


def baku_today() -> date:
    return datetime.now(UTC).astimezone(BAKU).date()


async def own_offer(session: AsyncSession, offer_id: UUID, person: Citizen) -> OfferRow:
    offer = await session.get(OfferRow, offer_id)
    if offer is None or offer.fin != person.fin:
        raise not_theirs("offer", offer_id)
    return offer


def application_of(life: LifeEventRow, offer: OfferRow, answer: OfferAcceptance) -> ApplicationForm:
    """The application the offer makes: the person and the event's facts as the registry holds
    them, what the person stated, for the likeliest direction."""
    stated: dict[str, Any] = {
        "activities_needing_help": answer.activities_needing_help,
        "monthly_household_income_azn": answer.monthly_household_income_azn,
        "household_size": answer.household_size,
    }
    first = offer.provision_types[0] if offer.provision_types else ServiceRequested.ANY.value
    return ApplicationForm(
        service_requested=ServiceRequested(first),
        applicant=Applicant.model_validate(life.person),
        circumstances=life_event_circumstances(
            LifeEventKind(life.kind), life.lives_alone, life.disability_group, **stated
        ),
        consent_to_processing=True,
        consent_text_version=answer.consent_text_version,
        consent_language=answer.consent_language,
    )


async def answer(
    runtime: Runtime, offer_id: UUID, status: OfferStatus, person: Citizen, **more: Any
) -> bool:
    """Records the person's answer, and publishes it, if the offer is still open; whether it
    was."""
    now = datetime.now(UTC)
    values = {"answered_at": now, "answered_by": str(person.actor), **more}
    # Still the person's: not erased since it was read.
    theirs = OFFERS.c.fin == person.fin
    return await move(
        runtime, offer_id, OfferStatus.OFFERED, now, theirs, status=status.value, **values
    )


async def reopen(runtime: Runtime, offer_id: UUID) -> None:
    """Takes back an acceptance whose application was refused: the offer is open again, unless
    its application exists after all (an acceptance repeated with other facts is refused, and
    the first one's application goes on)."""
    made = select(APPLICATIONS.c.id).where(APPLICATIONS.c.id == OFFERS.c.application_id).exists()
    await move(
        runtime,
        offer_id,
        OfferStatus.ACCEPTED,
        datetime.now(UTC),
        ~made,
        status=OfferStatus.OFFERED.value,
        answered_at=None,
        answered_by=None,
        application_id=None,
    )


async def move(
    runtime: Runtime,
    offer_id: UUID,
    was: OfferStatus,
    now: datetime,
    *conditions: ColumnElement[bool],
    **values: Any,
) -> bool:
    async with transaction(runtime.sessions) as session:
        events = await set_status(session, [offer_id], was, now, *conditions, **values)
        await add_events(session, events)
    if events:
        runtime.relay.wake()
    return bool(events)


def offers_router(runtime: Runtime, submissions: GroupCommit[Submit, Submission]) -> APIRouter:
    router = APIRouter(
        prefix="/portal/offers",
        tags=["portal"],
        responses={**AUTH_RESPONSES, 404: PROBLEM, 422: PROBLEM},
    )

    @router.get("", summary="The proactive offers made to the citizen, newest first")
    async def listed(person: Vouched) -> list[OfferView]:
        async with runtime.sessions() as session:
            found = await session.exec(
                select(OfferRow)
                .where(col(OfferRow.fin) == person.fin)
                .order_by(col(OfferRow.offered_at).desc())
            )
            offers = list(found.all())
        today = baku_today()
        return [view_of(offer, today) for offer in offers]

    @router.post(
        "/{offer_id}/acceptance",
        status_code=202,
        responses={409: PROBLEM},
        summary="Accept an offer: with consent, apply for the citizen with what is known",
    )
    async def accept(
        offer_id: UUID, body: OfferAcceptance, person: Vouched, response: Response
    ) -> Accepted:
        async with runtime.sessions() as session:
            offer = await own_offer(session, offer_id, person)
            life = await session.get(LifeEventRow, offer_id)
        if not body.consent_to_processing:
            raise ConsentRequired(offer_id, offer.answer_by)
        status = status_on(offer, baku_today())
        if status not in (OfferStatus.OFFERED, OfferStatus.ACCEPTED) or life is None:
            raise OfferClosed(offer_id, status)
        application_id = uuid.uuid5(OFFER_NAMESPACE, str(offer_id))
        # Marked first, so a decline at the same moment finds it answered; then applied for,
        # under a key of the offer's, also when it was accepted before: a crash in between
        # leaves an accepted offer whose application the next acceptance makes, once.
        if status is OfferStatus.OFFERED and not await answer(
            runtime, offer_id, OfferStatus.ACCEPTED, person, application_id=application_id
        ):
            now = await status_now(offer_id, person)
            if now is not OfferStatus.ACCEPTED:  # declined meanwhile
                raise OfferClosed(offer_id, now)
        async with runtime.sessions() as session:
            made = await session.get(ApplicationRow, application_id)
        if made is not None:  # accepted before: its application, whatever was sent this time
            response.headers["Location"] = portal_url(application_id)
            return accepted(application_id, made.status)
        command = Submit(
            application_of(life, offer, body),
            CHANNEL,
            f"offer:{offer_id}",
            person.actor,
            application_id,
        )
        try:
            submission = await submissions.submit(command)
        except Problem:
            # Refused (another open application for the same service, say): still open.
            await reopen(runtime, offer_id)
            raise
        if submission.created:
            runtime.relay.wake()
        response.headers["Location"] = portal_url(submission.application_id)
        return accepted(submission.application_id, submission.status)

    @router.post(
        "/{offer_id}/decline",
        responses={409: PROBLEM},
        summary="Decline an offer: nothing more is done with it",
    )
    async def decline(offer_id: UUID, person: Vouched) -> OfferView:
        async with runtime.sessions() as session:
            offer = await own_offer(session, offer_id, person)
        today = baku_today()
        status = status_on(offer, today)
        if status is not OfferStatus.OFFERED:
            raise OfferClosed(offer_id, status)
        if not await answer(runtime, offer_id, OfferStatus.DECLINED, person):
            raise OfferClosed(offer_id, await status_now(offer_id, person))
        offer.status = OfferStatus.DECLINED.value
        return view_of(offer, today)

    async def status_now(offer_id: UUID, person: Citizen) -> OfferStatus:
        """The offer's status as it is now, once another answer got there first."""
        async with runtime.sessions() as session:
            return OfferStatus((await own_offer(session, offer_id, person)).status)

    return router
