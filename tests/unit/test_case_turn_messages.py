"""The turns a citizen lives through, in pure code: which message each placement event calls for,
when an offer's reminder is due, and when an application waiting for facts is reminded or expires.
"""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from pydantic import BaseModel

from intake.information_policy import (
    AwaitingFacts,
    InformationPolicy,
    InformationPolicyError,
    Step,
    step_due,
    steps_due,
)
from notifications.message_kinds import message_for
from notifications.messages import message_row
from notifications.offer_reminders import answered_in, reminder_row
from notifications.templates import MessageKind
from socialsvc_common.consumer import Received
from socialsvc_common.contract import payloads as p
from socialsvc_common.contract import topics
from socialsvc_common.contract.envelope import new_event

NOW = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)
APPLICATION = uuid4()


def released(reason: str) -> p.PlacementReleased:
    return p.PlacementReleased(
        application_id=APPLICATION,
        placement_id=uuid4(),
        provider_id="hc-1",
        reason=reason,
        released_at=NOW,
    )


def updated(status: p.PlacementStatus) -> p.PlacementUpdated:
    return p.PlacementUpdated(
        application_id=APPLICATION,
        placement_id=uuid4(),
        provider_id="hc-1",
        status=status,
        updated_at=NOW,
    )


def offer(days: float | None) -> p.PlacementMade:
    return p.PlacementMade(
        application_id=APPLICATION,
        placement_id=uuid4(),
        provider_id="hc-1",
        provider_name="Xətai home care",
        provision_type=p.ProvisionType.HOME_CARE,
        district="Xətai",
        placed_at=NOW,
        offer_expires_at=None if days is None else NOW + timedelta(days=days),
    )


def received(topic: topics.Topic, payload: BaseModel) -> Received[Any]:
    event = new_event(topic, payload, producer="test", application_id=APPLICATION, at=NOW)
    return Received(event.envelope, payload)


@pytest.mark.parametrize(
    ("payload", "kind"),
    [
        (updated(p.PlacementStatus.ACCEPTED), MessageKind.OFFER_ACCEPTED),
        (updated(p.PlacementStatus.STARTED), MessageKind.SERVICE_STARTED),
        (released("declined"), MessageKind.OFFER_DECLINED),
        (released("offer_lapsed"), MessageKind.OFFER_LAPSED),
        (released("service_ended"), MessageKind.SERVICE_ENDED),
        (released("moved"), MessageKind.PLACEMENT_RELEASED),
        (released("other"), MessageKind.PLACEMENT_RELEASED),
        (released("a_reason_added_later"), MessageKind.PLACEMENT_RELEASED),
        # The withdrawal has its own confirmation; nobody is written to after a death.
        (released("consent_withdrawn"), None),
        (released("died"), None),
    ],
)
def test_each_placement_turn_calls_for_its_message(payload: BaseModel, kind: str | None) -> None:
    message = message_for(payload)
    assert message is not None
    assert message[0] == kind


def test_the_offer_message_carries_its_end_and_a_refused_placement_its_services() -> None:
    made = message_for(offer(7))
    assert made is not None
    assert made[1]["offer_expires_at"] == (NOW + timedelta(days=7)).isoformat()
    refused = p.PlacementRefused(
        application_id=APPLICATION,
        provision_types=[p.ProvisionType.RESIDENTIAL],
        reason="the person holds a home_care placement, which excludes these",
        conflicting_placement_id=uuid4(),
        refused_at=NOW,
    )
    assert message_for(refused) == (
        MessageKind.PLACEMENT_REFUSED,
        {"provision_types": ["residential"]},
    )


def test_facts_still_missing_and_expiry_call_for_their_messages() -> None:
    reminded = p.InformationReminded(
        application_id=APPLICATION,
        reminded_at=NOW,
        missing=["disability_group"],
        expires_at=NOW + timedelta(days=16),
        policy_version="2026-1",
    )
    expired = p.ApplicationExpired(
        application_id=APPLICATION,
        expired_at=NOW,
        reason=p.ExpiryReason.INFORMATION_NOT_RECEIVED,
        policy_version="2026-1",
    )
    assert message_for(reminded) == (
        MessageKind.INFORMATION_REMINDER,
        {"missing": ["disability_group"], "expires_at": (NOW + timedelta(days=16)).isoformat()},
    )
    assert message_for(expired) == (MessageKind.APPLICATION_EXPIRED, {})


def test_an_offers_reminder_is_held_until_the_lead_before_it_lapses() -> None:
    item = received(topics.PLACEMENT_MADE, offer(7))
    row = reminder_row(item, timedelta(days=2), NOW)
    assert row is not None
    assert row["kind"] == MessageKind.OFFER_REMINDER
    assert row["next_attempt_at"] == row["occurred_at"] == NOW + timedelta(days=5)
    # It waits for the offer's own message.
    assert row["cause_event_id"] == item.envelope.event_id
    assert row["id"] != item.envelope.event_id


def test_no_reminder_for_an_offer_too_short_ended_or_without_end() -> None:
    lead = timedelta(days=2)
    assert reminder_row(received(topics.PLACEMENT_MADE, offer(1)), lead, NOW) is None
    assert reminder_row(received(topics.PLACEMENT_MADE, offer(None)), lead, NOW) is None
    late = NOW + timedelta(days=8)
    assert reminder_row(received(topics.PLACEMENT_MADE, offer(7)), lead, late) is None


def test_a_late_read_offer_is_reminded_at_once() -> None:
    late = NOW + timedelta(days=6)
    row = reminder_row(received(topics.PLACEMENT_MADE, offer(7)), timedelta(days=2), late)
    assert row is not None
    assert row["next_attempt_at"] == late


def test_answers_and_releases_answer_their_own_offer() -> None:
    made = offer(7)
    answer = updated(p.PlacementStatus.ACCEPTED).model_copy(
        update={"placement_id": made.placement_id}
    )
    batch = [
        received(topics.PLACEMENT_MADE, made),
        received(topics.PLACEMENT_UPDATED, answer),
    ]
    assert answered_in(batch) == {APPLICATION: {str(made.placement_id)}}
    assert answered_in(batch[:1]) == {}
    gone = released("died")
    assert answered_in([received(topics.PLACEMENT_RELEASED, gone)]) == {
        APPLICATION: {str(gone.placement_id)}
    }
    message = message_for(gone)
    assert message == (None, {"placement_id": str(gone.placement_id)})


# Facts still missing: intake's needs-information policy.

POLICY = InformationPolicy(version="t", reminder_after_days=14, expire_after_days=30)


def waiting(days_ago: float, reminded_days_ago: float | None = None) -> AwaitingFacts:
    reminded = None if reminded_days_ago is None else NOW - timedelta(days=reminded_days_ago)
    return AwaitingFacts(uuid4(), NOW - timedelta(days=days_ago), reminded)


def test_a_reminder_once_then_expiry() -> None:
    assert step_due(waiting(13), POLICY, NOW) is None
    assert step_due(waiting(14), POLICY, NOW) is Step.REMIND
    assert step_due(waiting(20, reminded_days_ago=6), POLICY, NOW) is None
    assert step_due(waiting(30, reminded_days_ago=16), POLICY, NOW) is Step.EXPIRE
    # Never reminded (the sweeper was down): it expires all the same.
    assert step_due(waiting(31), POLICY, NOW) is Step.EXPIRE


def test_a_new_request_for_facts_is_reminded_again() -> None:
    # Reminded 20 days ago about an earlier request; asked again 15 days ago.
    assert step_due(waiting(15, reminded_days_ago=20), POLICY, NOW) is Step.REMIND


def test_steps_due_leaves_out_those_due_none() -> None:
    early, due = waiting(1), waiting(14)
    assert steps_due([early, due], POLICY, NOW) == {due.application_id: Step.REMIND}


def test_the_shipped_policy_loads() -> None:
    policy = InformationPolicy.load()
    assert 0 < policy.reminder_after_days < policy.expire_after_days


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('version = "x"\nreminder_after_days = 30\nexpire_after_days = 14\n', "less than"),
        ('version = "x"\nreminder_after_days = 0\nexpire_after_days = 14\n', "reminder_after_days"),
        ('version = "x"\nexpire_after_days = 14\n', "reminder_after_days: Field required"),
        ('version = "x"\nreminder_after_days = 1\nexpire_after_days = 2\nexpire = 3\n', "expire"),
        ('version = "x"\nreminder_after_days = = 1\n', "line 2"),
    ],
)
def test_a_broken_policy_is_refused_naming_file_and_field(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = tmp_path / "needs_information.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InformationPolicyError) as error:
        InformationPolicy.load(path)
    assert str(path) in str(error.value)
    assert expected in str(error.value)


def test_a_proactive_offers_message_waits_for_no_cause_and_a_placements_for_its_own() -> None:
    screened = new_event(
        topics.PRESCREEN_MADE,
        p.PrescreenMade(
            life_event_id=APPLICATION,
            registry=p.Registry.JUSTICE,
            kind=p.LifeEventKind.RELEASED_FROM_PENITENTIARY,
            district="Nəsimi",
            screened_at=NOW,
            outcome=p.Prescreen.LIKELY,
            rule_set_version="2026.1",
        ),
        producer="eligibility",
        application_id=APPLICATION,
        at=NOW,
    )
    person = {
        "fin": "5XK2L9P",
        "first_name": "Rəşid",
        "last_name": "Quliyev",
        "birth_date": "1985-02-02",
        "mobile_phone": "+994552223344",
        "district": "Nəsimi",
    }
    offered = p.OfferMade(
        offer_id=APPLICATION,
        kind=p.LifeEventKind.RELEASED_FROM_PENITENTIARY,
        offered_at=NOW,
        answer_by=(NOW + timedelta(days=30)).date(),
        provision_types=[p.ProvisionType.NGO_PROJECT],
        applicant=p.Applicant.model_validate(person),
    )
    # A pre-screen calls for no message, so the offer's holds for none.
    made = new_event(
        topics.OFFER_MADE,
        offered,
        producer="intake",
        application_id=APPLICATION,
        cause=screened.envelope,
    )
    row = message_row(Received(made.envelope, offered), NOW)
    assert row is not None
    assert (row["kind"], row["cause_event_id"]) == (MessageKind.PROACTIVE_OFFER, None)
    # Any other event's message waits for its cause's (here that same offer's).
    placed = new_event(
        topics.PLACEMENT_MADE,
        offer(7),
        producer="assignment",
        application_id=APPLICATION,
        cause=made.envelope,
    )
    row = message_row(Received(placed.envelope, placed.payload), NOW)
    assert row is not None
    assert row["cause_event_id"] == made.envelope.event_id
