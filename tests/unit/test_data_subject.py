"""Data-subject rights in pure code: what erasure keeps of a form and a decision, whose retention
has ended, and the subject access report as a page in the person's language."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import pytest

from intake.erasure import anonymised_form
from intake.retention import (
    HeldApplication,
    HeldLifeEvent,
    RetentionPolicy,
    RetentionPolicyError,
    people_due,
)
from intake.store import CLOSED, Status
from socialsvc_common.contract.erasure import anonymised_decision
from socialsvc_common.contract.payloads import OfferStatus
from socialsvc_ops.subject.report import render_html

FORM = {
    "service_requested": "home_care",
    "consent_to_processing": True,
    "applicant": {
        "fin": "1AB2C3D",
        "first_name": "Leyla",
        "last_name": "Əliyeva",
        "birth_date": "1946-05-01",
        "mobile_phone": "+994501234567",
        "email": "leyla@example.az",
        "language": "ru",
        "district": "Nəsimi",
    },
    "circumstances": {"lives_alone": True, "trafficking_victim": False},
}
NOW = datetime(2030, 1, 1, tzinfo=UTC)


def test_an_erased_form_keeps_the_statistics_dimensions_and_nothing_that_identifies() -> None:
    kept = anonymised_form(json.dumps(FORM, ensure_ascii=False))
    assert json.loads(kept) == {
        "erased": True,
        "service_requested": "home_care",
        "applicant": {"district": "Nəsimi", "language": "ru"},
    }
    for secret in ("1AB2C3D", "Leyla", "Əliyeva", "1946", "994501234567", "leyla@", "lives_alone"):
        assert secret not in kept


def test_an_erased_decision_keeps_its_outcome_and_grounds_but_not_the_facts() -> None:
    decision = {
        "outcome": "eligible",
        "person_ref": "0" * 32,
        "rules": [{"rule": "age", "passed": True, "facts": {"age": 83}, "threshold": 65}],
    }
    erased = anonymised_decision(decision)
    assert erased == {
        "outcome": "eligible",
        "person_ref": "0" * 32,
        "rules": [{"rule": "age", "passed": True, "threshold": 65}],
    }
    assert anonymised_decision(erased) == erased


def test_the_packaged_retention_policy_covers_every_way_an_application_closes() -> None:
    policy = RetentionPolicy.load()
    closed = NOW - timedelta(days=10)
    assert policy.retained_until(Status.PLACED, closed) is None
    until = policy.retained_until(Status.INELIGIBLE, closed)
    assert until == closed + timedelta(days=policy.days_after_closing[Status.INELIGIBLE])


def test_a_policy_that_forgets_a_closing_status_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "retention.toml"
    path.write_text('version = "x"\n[days_after_closing]\nineligible = 10\n')
    with pytest.raises(RetentionPolicyError, match="refused"):
        RetentionPolicy.load(path)


def test_a_policy_without_the_days_of_proactive_offers_is_refused(tmp_path: Path) -> None:
    closing = "\n".join(f"{status} = 10" for status in sorted(CLOSED))
    path = tmp_path / "retention.toml"
    path.write_text(f'version = "x"\n[days_after_closing]\n{closing}\n')
    with pytest.raises(RetentionPolicyError, match=r"\[proactive\] days_after_closing"):
        RetentionPolicy.load(path)
    path.write_text(path.read_text() + "[proactive]\ndays_after_closing = 0\n")
    with pytest.raises(RetentionPolicyError, match="days >= 1"):
        RetentionPolicy.load(path)


def test_a_person_reached_by_offers_is_due_once_every_offer_is_answered_and_its_days_gone() -> None:
    days = {Status.INELIGIBLE: 10, Status.REFUSED: 10, Status.RELEASED: 30}
    policy = RetentionPolicy("t", days, proactive_days=20)
    old, recent = NOW - timedelta(days=40), NOW - timedelta(days=5)
    lives = [
        HeldLifeEvent("AAAAAA1", OfferStatus.DECLINED, old, old),
        HeldLifeEvent("AAAAAA1", None, old, None),  # led to no offer
        HeldLifeEvent("BBBBBB2", OfferStatus.OFFERED, old, None),  # open, however old
        HeldLifeEvent("CCCCCC3", OfferStatus.LAPSED, old, recent),
        HeldLifeEvent("DDDDDD4", None, recent, None),
        HeldLifeEvent("EEEEEE5", OfferStatus.ACCEPTED, old, old),
        HeldLifeEvent("FFFFFF6", OfferStatus.DECLINED, old, old),
        HeldLifeEvent("GGGGGG7", OfferStatus.ACCEPTED, old, recent),  # answered days ago
    ]
    # An accepted offer is kept as long as its application, and as an answered offer.
    applications = [
        HeldApplication("EEEEEE5", Status.INELIGIBLE, old),
        HeldApplication("FFFFFF6", Status.PLACED, old),
        HeldApplication("GGGGGG7", Status.INELIGIBLE, old),
    ]
    assert people_due(applications, policy, NOW, lives) == ["AAAAAA1", "EEEEEE5"]


def test_a_person_is_due_once_every_application_closed_and_passed_its_retention() -> None:
    policy = RetentionPolicy(
        "t", {Status.INELIGIBLE: 10, Status.REFUSED: 10, Status.RELEASED: 30}, 20
    )
    old, recent = NOW - timedelta(days=40), NOW - timedelta(days=20)
    held = [
        HeldApplication("AAAAAA1", Status.INELIGIBLE, old),
        HeldApplication("AAAAAA1", Status.RELEASED, old),
        HeldApplication("BBBBBB2", Status.INELIGIBLE, old),
        HeldApplication("BBBBBB2", Status.PLACED, old),
        HeldApplication("CCCCCC3", Status.RELEASED, recent),
        HeldApplication("DDDDDD4", Status.REFUSED, recent),
    ]
    assert people_due(held, policy, NOW) == ["AAAAAA1", "DDDDDD4"]


def report(language: str) -> dict[str, object]:
    application_id = str(uuid4())
    return {
        "generated_at": NOW.isoformat(),
        "language": language,
        "application_ids": [application_id],
        "services": [
            {
                "service": "intake",
                "holdings": [
                    {
                        "category": "application",
                        "application_id": application_id,
                        "purpose": "decide_and_provide",
                        "data": {"form": FORM},
                        "retained_until": None,
                    }
                ],
            },
            {"service": "notifications", "holdings": []},
        ],
    }


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("az", ["Şəxsi məlumatlar haqqında arayış", "Müraciət forması", "Bildirişlər"]),
        ("ru", ["Справка о персональных данных", "Форма заявления", "не хранит"]),
        ("en", ["Report of personal data held", "Application form", "holds nothing"]),
    ],
)
def test_the_report_page_speaks_the_persons_language(language: str, words: list[str]) -> None:
    page = render_html(report(language))
    assert f'<html lang="{language}">' in page
    for word in words:
        assert word in page
    assert "1AB2C3D" in page
    assert "+994501234567" in page
    assert "<script" not in page
    assert "http" not in page


def test_the_report_page_escapes_what_the_services_hold() -> None:
    held = report("az")
    held["services"][0]["holdings"][0]["data"] = {"note": "<b>x</b>"}  # type: ignore[index]
    page = render_html(held)
    assert "<b>x</b>" not in page
    assert "&lt;b&gt;x&lt;/b&gt;" in page
