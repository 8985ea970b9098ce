"""Proactive offers in intake (issue 21): an offer unanswered by its day has lapsed, and the
application an accepted offer makes carries the registry's facts and what the person stated."""

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from intake.offers import LifeEventRow, OfferRow, status_on
from intake.offers_api import OfferAcceptance, application_of
from socialsvc_common.contract.payloads import DailyActivity, OfferStatus, ServiceRequested

ANSWER_BY = date(2026, 12, 31)


def offer(status: OfferStatus, provisions: list[str]) -> OfferRow:
    return OfferRow(
        offer_id=uuid.uuid4(),
        fin="5XK2L9P",
        kind="released_from_penitentiary",
        provision_types=provisions,
        missing=[],
        status=status.value,
        offered_at=datetime(2026, 12, 1, tzinfo=UTC),
        answer_by=ANSWER_BY,
    )


@pytest.mark.parametrize(
    ("status", "today", "seen"),
    [
        (OfferStatus.OFFERED, ANSWER_BY, OfferStatus.OFFERED),
        (OfferStatus.OFFERED, date(2027, 1, 1), OfferStatus.LAPSED),
        (OfferStatus.ACCEPTED, date(2027, 1, 1), OfferStatus.ACCEPTED),
        (OfferStatus.DECLINED, date(2027, 1, 1), OfferStatus.DECLINED),
    ],
)
def test_no_answer_by_its_day_is_a_no(status: OfferStatus, today: date, seen: OfferStatus) -> None:
    assert status_on(offer(status, ["ngo_project"]), today) is seen


def test_the_application_an_offer_makes_has_the_registrys_facts_and_the_persons() -> None:
    life = LifeEventRow(
        life_event_id=uuid.uuid4(),
        reported_by="justice",
        reference="PEN-2026/77",
        kind="released_from_penitentiary",
        occurred_on=date(2026, 11, 20),
        fin="5XK2L9P",
        person={
            "fin": "5XK2L9P",
            "first_name": "Rəşid",
            "last_name": "Quliyev",
            "birth_date": "1985-02-02",
            "mobile_phone": "+994552223344",
            "district": "Nəsimi",
            "language": "ru",
        },
        received_at=datetime(2026, 11, 21, tzinfo=UTC),
    )
    answer = OfferAcceptance(
        consent_to_processing=True,
        consent_language="ru",
        activities_needing_help=[DailyActivity.SHOPPING],
        monthly_household_income_azn=Decimal(150),
    )
    form = application_of(life, offer(OfferStatus.OFFERED, ["ngo_project"]), answer)
    assert form.service_requested is ServiceRequested.NGO_PROJECT
    assert (form.applicant.fin, form.applicant.language.value) == ("5XK2L9P", "ru")
    assert form.circumstances.released_from_prison
    assert not form.circumstances.children_institution_graduate
    assert form.circumstances.activities_needing_help == [DailyActivity.SHOPPING]
    assert form.circumstances.monthly_household_income_azn == Decimal(150)
    assert (form.consent_to_processing, form.consent_language) == (True, answer.consent_language)
