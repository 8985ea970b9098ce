"""Reviews in pure code: the review policy (the shipped file, the interval a placement takes, the
errors a mistake in the file gives), the review a due date opens, what a review's decision means
for the service, the decision eligibility makes again on stored facts, and the messages a citizen
gets, in three languages."""

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from assignment.review_policy import (
    InvalidReviewPolicy,
    load_review_policy,
    parse_review_policy,
)
from assignment.review_store import ReviewRow
from assignment.reviews import escalation, opened_review, review_outcome
from assignment.store import PlacementRow
from eligibility.appeals.policy import load_appeal_policy
from eligibility.reviews import review_decision
from eligibility.ruleset import default_rule_sets, rule_set_for
from eligibility.store import DecisionRow
from notifications.message_kinds import SILENT, message_for
from notifications.templates import MessageContext, MessageKind, render
from socialsvc_common.consumer import Received
from socialsvc_common.contract.envelope import Envelope
from socialsvc_common.contract.payloads import (
    AgeBand,
    DecisionMade,
    Language,
    Outcome,
    PlacementReleased,
    ProvisionType,
    ReleaseReason,
    ReviewConcluded,
    ReviewDue,
    ReviewOutcome,
)
from socialsvc_common.public_stream import PublicStream

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
TODAY = date(2026, 12, 6)
HOME = ProvisionType.HOME_CARE
GOOD = """
version = "t"
overdue_after_days = 14

[[interval]]
provision_type = "home_care"
min_need_level = 0
days = 365

[[interval]]
provision_type = "home_care"
min_need_level = 3
days = 90

[[interval]]
provision_type = "residential"
min_need_level = 0
days = 180

[[interval]]
provision_type = "ngo_project"
min_need_level = 0
days = 30
"""


def test_the_shipped_policy_reviews_every_provision_type() -> None:
    policy = load_review_policy()
    for kind in ProvisionType:
        assert policy.interval_for(kind, 0) > timedelta(0)
    assert policy.interval_for(HOME, 3) < policy.interval_for(HOME, 1)


@pytest.mark.parametrize(("level", "days"), [(None, 365), (0, 365), (2, 365), (3, 90), (7, 90)])
def test_the_highest_need_level_reached_gives_the_interval(level: int | None, days: int) -> None:
    policy = parse_review_policy(GOOD, "t.toml")
    assert policy.interval_for(HOME, level) == timedelta(days=days)
    assert policy.next_review(HOME, level, NOW) == NOW + timedelta(days=days)
    assert policy.overdue_at(NOW) == NOW + timedelta(days=14)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.replace('"ngo_project"', '"day_care"'), "t.toml: interval[3].provision_type"),
        (
            lambda t: t.replace("min_need_level = 3", "min_need_level = 0"),
            "home_care from need level 0 is given twice",
        ),
        (
            lambda t: t.split('[[interval]]\nprovision_type = "ngo_project"')[0],
            "no interval from need level 0 for: ngo_project",
        ),
        (lambda t: t.replace("days = 30", "days = 0"), "interval[3].days: Input should be greater"),
        (
            lambda t: t.replace("overdue_after_days", "grace"),
            "grace: Extra inputs are not permitted",
        ),
        (lambda t: t.replace("min_need_level = 3", "min_need_level = = 3"), "t.toml:12: "),
    ],
)
def test_a_mistake_in_the_policy_names_the_place_and_the_reason(change: Any, message: str) -> None:
    with pytest.raises(InvalidReviewPolicy) as refused:
        parse_review_policy(change(GOOD), "t.toml")
    assert message in str(refused.value)


def placement(**changes: Any) -> PlacementRow:
    row = PlacementRow(
        id=uuid4(),
        application_id=uuid4(),
        provider_id="hc-xetai",
        provision_type=HOME.value,
        status="started",
        placed_at=NOW - timedelta(days=400),
        need_level=2,
        review_due_at=NOW - timedelta(hours=1),
    )
    return row.model_copy(update=changes)


def test_a_due_date_opens_a_review_with_its_grace_period_and_no_personal_data() -> None:
    policy = parse_review_policy(GOOD, "t.toml")
    held = placement()
    row, due = opened_review(held, policy, NOW)
    assert (due.placement_id, due.application_id, due.provision_type) == (
        held.id,
        held.application_id,
        HOME,
    )
    assert due.due_at == held.review_due_at
    assert row["id"] == due.review_id
    assert row["overdue_at"] == due.due_at + timedelta(days=14)
    assert row["status"] == "open"
    assert set(ReviewDue.model_fields) == {
        "application_id",
        "placement_id",
        "review_id",
        "provision_type",
        "due_at",
        "opened_at",
    }
    with pytest.raises(ValueError, match="no review date"):
        opened_review(placement(review_due_at=None), policy, NOW)


def decision(outcome: Outcome, types: list[ProvisionType]) -> DecisionMade:
    return DecisionMade(
        application_id=uuid4(),
        decided_at=NOW,
        outcome=outcome,
        rule_set_version="2026.1",
        district="Xətai",
        provision_types=types,
        review_id=uuid4(),
    )


@pytest.mark.parametrize(
    ("outcome", "types", "expected"),
    [
        (Outcome.ELIGIBLE, [HOME, ProvisionType.RESIDENTIAL], ReviewOutcome.CONTINUED),
        (Outcome.ELIGIBLE, [ProvisionType.NGO_PROJECT], ReviewOutcome.ENDED),
        (Outcome.INELIGIBLE, [], ReviewOutcome.ENDED),
        (Outcome.NEEDS_INFORMATION, [], None),
    ],
)
def test_a_service_continues_only_while_the_person_is_eligible_for_it(
    outcome: Outcome, types: list[ProvisionType], expected: ReviewOutcome | None
) -> None:
    assert review_outcome(decision(outcome, types), HOME) is expected


def test_an_overdue_review_escalates_with_ids_and_times_only() -> None:
    review = ReviewRow(
        id=uuid4(),
        application_id=uuid4(),
        placement_id=uuid4(),
        provision_type=HOME.value,
        due_at=NOW - timedelta(days=20),
        opened_at=NOW - timedelta(days=20),
        overdue_at=NOW - timedelta(days=6),
    )
    escalated = escalation(review, NOW)
    assert (escalated.review_id, escalated.due_at, escalated.escalated_at) == (
        review.id,
        review.due_at,
        NOW,
    )


def envelope(application_id: UUID) -> Envelope:
    return Envelope(
        event_id=uuid4(),
        type="assignment.review.due",
        schema_version="1.0",
        time=NOW,
        source="/assignment",
        application_id=application_id,
        correlation_id=uuid4(),
    )


def stored(activities: list[str]) -> DecisionRow:
    application_id = uuid4()
    return DecisionRow(
        application_id=application_id,
        event_id=uuid4(),
        outcome="eligible",
        rule_set_version="2026.1",
        district="Xətai",
        decided_on=date(2026, 3, 1),
        decided_at=NOW - timedelta(days=280),
        facts={
            "service_requested": "home_care",
            "birth_date": "1945-05-17",
            "circumstances": {
                "lives_alone": True,
                "monthly_household_income_azn": "2000",
                "activities_needing_help": activities,
            },
        },
        decision={
            "outcome": "eligible",
            "rule_set_version": "2026.1",
            "provision_types": ["home_care"],
            "person_ref": "0123456789abcdef0123456789abcdef",
        },
    )


@pytest.mark.parametrize(
    ("home_care_from", "outcome"), [(1, Outcome.ELIGIBLE), (2, Outcome.INELIGIBLE)]
)
def test_a_review_decides_again_on_the_stored_facts_by_the_rules_of_today(
    home_care_from: int, outcome: Outcome
) -> None:
    rules = rule_set_for(default_rule_sets(), TODAY)
    provisions = rules.provisions.model_copy(
        update={
            "home_care": rules.provisions.home_care.model_copy(
                update={"min_need_level": home_care_from}
            )
        }
    )
    rules = rules.model_copy(update={"version": "t", "provisions": provisions})
    held = stored(["washing", "housework", "shopping"])  # need level 1
    due = ReviewDue(
        application_id=held.application_id,
        placement_id=uuid4(),
        review_id=uuid4(),
        provision_type=HOME,
        due_at=NOW,
        opened_at=NOW,
    )
    cause = envelope(held.application_id)
    public = PublicStream("eligibility", b"k" * 32)
    row, events = review_decision(
        Received(cause, due), held, rules, public, load_appeal_policy(), today=TODAY, now=NOW
    )
    made = DecisionMade.model_validate_json(events[0].value())
    assert made.outcome is outcome
    assert made.review_id == due.review_id
    assert made.rule_set_version == "t"
    assert made.person_ref == held.decision["person_ref"]
    # A decision that ends the service may be appealed, as any refusal.
    assert (made.appeal_by is not None) is (outcome is Outcome.INELIGIBLE)
    assert events[0].envelope.causation_id == cause.event_id
    assert row["decided_on"] == TODAY
    assert row["facts"] == held.facts
    assert "review_id" not in events[1].value().decode()
    # Born 1945-05-17: 81 on the day of the review.
    assert made.age_band is AgeBand.OLDEST
    assert json.loads(events[1].value())["age_band"] == "80+"


def test_review_events_call_for_their_messages_and_a_review_decision_for_none() -> None:
    due = ReviewDue(
        application_id=uuid4(),
        placement_id=uuid4(),
        review_id=uuid4(),
        provision_type=HOME,
        due_at=NOW,
        opened_at=NOW,
    )
    assert message_for(due) == (MessageKind.REVIEW_DUE, {"provision_type": "home_care"})
    for outcome in ReviewOutcome:
        concluded = ReviewConcluded(
            application_id=due.application_id,
            placement_id=due.placement_id,
            review_id=due.review_id,
            provision_type=HOME,
            outcome=outcome,
            rule_set_version="2026.1",
            concluded_at=NOW,
        )
        assert message_for(concluded) == (
            MessageKind(f"review_{outcome.value}"),
            {"provision_type": "home_care"},
        )
    ended = concluded.model_copy(
        update={"outcome": ReviewOutcome.ENDED, "appeal_by": date(2026, 12, 20)}
    )
    assert message_for(ended) == (
        MessageKind.REVIEW_ENDED,
        {"provision_type": "home_care", "appeal_by": "2026-12-20"},
    )
    # The release that follows is told by the review's conclusion, not a second time.
    released = PlacementReleased(
        application_id=due.application_id,
        placement_id=due.placement_id,
        provider_id="hc-xetai",
        reason=ReleaseReason.REVIEW_ENDED.value,
        released_at=NOW,
    )
    assert message_for(released) == (SILENT, {"placement_id": str(due.placement_id)})
    assert message_for(decision(Outcome.INELIGIBLE, [])) == (SILENT, {})
    plain = decision(Outcome.INELIGIBLE, []).model_copy(update={"review_id": None})
    assert message_for(plain) is not None
    assert message_for(plain)[0] is MessageKind.DECISION_INELIGIBLE  # type: ignore[index]


# What each message must say (in its SMS, then in its letter), in each language.
SENTENCES = {
    MessageKind.REVIEW_DUE: {
        Language.AZ: ("sosial işçinizə bildirin", "sosial işçinizə bildirin"),
        Language.RU: (
            "сообщите своему социальному",
            "сообщите об этом своему социальному работнику",
        ),
        Language.EN: (
            "please tell your social worker",
            "tell your social worker. We will tell you",
        ),
    },
    MessageKind.REVIEW_CONTINUED: {
        Language.AZ: ("davam edir", "əvvəlki kimi göstəriləcək"),
        Language.RU: ("продолжаются", "как и прежде"),
        Language.EN: ("continues", "go on receiving the service"),
    },
    MessageKind.REVIEW_ENDED: {
        Language.AZ: ("dayandırılır", "dayandırılır"),
        Language.RU: ("прекращаются", "прекращаются"),
        Language.EN: ("is ending", "so the service is ending"),
    },
}


@pytest.mark.parametrize("language", list(Language))
@pytest.mark.parametrize("kind", list(SENTENCES))
def test_review_messages_say_what_happens_in_every_language(
    kind: MessageKind, language: Language
) -> None:
    context = MessageContext(
        application_ref="1A2B-3C4D", provision_type="home_care", appeal_by="2026-12-20"
    )
    message = render(kind, language, context)
    if kind is MessageKind.REVIEW_ENDED:
        # The last day to appeal the decision that ended the service.
        assert "20.12.2026" in message.sms
        assert "20.12.2026" in message.body
    service = {Language.AZ: "evdə sosial xidmət", Language.RU: "на дому", Language.EN: "home care"}
    for text, sentence in zip((message.sms, message.body), SENTENCES[kind][language], strict=True):
        assert "1A2B-3C4D" in text
        assert sentence in " ".join(text.split())
        assert service[language] in text
    assert "1A2B-3C4D" in message.subject
