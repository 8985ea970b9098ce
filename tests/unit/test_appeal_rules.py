"""The appeal rules, pure: what may be appealed and until when (days in Asia/Baku), the reviewer's
time limit, and the decision an overturn makes."""

from datetime import UTC, date, datetime
from uuid import uuid4

import pytest

from eligibility.appeals.policy import load_appeal_policy
from eligibility.appeals.rules import (
    AppealRefused,
    appeal_by,
    check_decidable,
    check_lodging,
    check_placement_lodging,
    granted_provisions,
    is_overdue,
    lodging_deadline,
    overturned_decision,
    respond_by,
)
from socialsvc_common.contract.appeals import AppealStatus, AppealSubject
from socialsvc_common.contract.payloads import AgeBand, DecisionMade, Outcome, ProvisionType

POLICY = load_appeal_policy()  # 30 days to lodge, 15 to review
# 22:30 UTC on 1 March is 02:30 on 2 March in Baku (UTC+4): the decision's day is 2 March.
DECIDED_AT = datetime(2026, 3, 1, 22, 30, tzinfo=UTC)


def decision(outcome: Outcome = Outcome.INELIGIBLE, **changes: object) -> DecisionMade:
    fields: dict[str, object] = {
        "application_id": uuid4(),
        "decided_at": DECIDED_AT,
        "outcome": outcome,
        "rule_set_version": "2026.1",
        "district": "Xətai",
        "need_level": 1,
        "priority_score": 12.5,
    }
    return DecisionMade.model_validate(fields | changes)


def lodge(made: DecisionMade, now: datetime, **options: object) -> None:
    check_lodging(
        made,
        claimed_need_level=options.get("claimed"),  # type: ignore[arg-type]
        open_appeal=options.get("open"),  # type: ignore[arg-type]
        now=now,
        policy=POLICY,
    )


def test_the_deadline_counts_calendar_days_in_baku() -> None:
    assert appeal_by(DECIDED_AT, POLICY) == date(2026, 4, 1)


@pytest.mark.parametrize("outcome", [Outcome.INELIGIBLE, Outcome.NEEDS_INFORMATION])
def test_a_refusal_is_appealed_until_the_end_of_its_last_day(outcome: Outcome) -> None:
    # 19:59 UTC on 1 April is 23:59 in Baku: still the last day.
    lodge(decision(outcome), datetime(2026, 4, 1, 19, 59, tzinfo=UTC))
    with pytest.raises(AppealRefused) as late:
        lodge(decision(outcome), datetime(2026, 4, 1, 20, 0, tzinfo=UTC))
    assert (late.value.status, late.value.code) == (422, "appeal-deadline-passed")
    assert "until 2026-04-01" in late.value.detail


def test_an_eligible_decision_is_appealed_only_for_a_higher_need_level() -> None:
    eligible = decision(Outcome.ELIGIBLE, need_level=2, provision_types=["home_care"])
    now = datetime(2026, 3, 5, tzinfo=UTC)
    for claimed in (None, 1, 2):
        with pytest.raises(AppealRefused) as refused:
            lodge(eligible, now, claimed=claimed)
        assert (refused.value.code, refused.value.field) == ("not-appealable", "claimed_need_level")
    lodge(eligible, now, claimed=3)


def test_one_open_appeal_at_a_time() -> None:
    with pytest.raises(AppealRefused) as refused:
        lodge(decision(), datetime(2026, 3, 5, tzinfo=UTC), open=uuid4())
    assert (refused.value.status, refused.value.code) == (409, "appeal-open")


def test_the_reviewer_has_until_the_end_of_the_policys_last_day() -> None:
    lodged = datetime(2026, 3, 10, 21, 0, tzinfo=UTC)  # 11 March in Baku
    limit = respond_by(lodged, POLICY, AppealSubject.DECISION)
    assert limit == datetime(2026, 3, 26, 20, 0, tzinfo=UTC)  # midnight after 26 March, Baku
    assert not is_overdue(AppealStatus.LODGED, limit, datetime(2026, 3, 26, 19, 59, tzinfo=UTC))
    assert is_overdue(AppealStatus.LODGED, limit, limit)
    assert not is_overdue(AppealStatus.UPHELD, limit, datetime(2027, 1, 1, tzinfo=UTC))


def test_a_decided_appeal_is_not_decided_again() -> None:
    check_decidable(AppealStatus.LODGED)
    for status in (AppealStatus.UPHELD, AppealStatus.OVERTURNED):
        with pytest.raises(AppealRefused) as refused:
            check_decidable(status)
        assert (refused.value.status, refused.value.code) == (409, "appeal-decided")


def test_an_overturn_grants_what_the_reviewer_names_else_what_was_found_or_asked() -> None:
    refused = decision()
    residential = [ProvisionType.RESIDENTIAL]
    assert granted_provisions(refused, "home_care", residential) == residential
    assert granted_provisions(refused, "home_care", None) == [ProvisionType.HOME_CARE]
    found = decision(provision_types=["ngo_project"])
    assert granted_provisions(found, "home_care", None) == [ProvisionType.NGO_PROJECT]
    with pytest.raises(AppealRefused) as unnamed:
        granted_provisions(refused, "any", None)
    assert (unnamed.value.code, unnamed.value.field) == ("provision-needed", "provision_types")


def test_the_overturned_decision_is_eligible_names_the_appeal_and_keeps_the_rest() -> None:
    appealed = decision(appeal_by=date(2026, 4, 1), missing=["disability_group"])
    appeal_id, now = uuid4(), datetime(2026, 3, 20, tzinfo=UTC)
    made = overturned_decision(
        appealed,
        appeal_id=appeal_id,
        provisions=[ProvisionType.HOME_CARE],
        need_level=3,
        now=now,
    )
    assert made.outcome is Outcome.ELIGIBLE
    assert (made.appeal_id, made.decided_at, made.need_level) == (appeal_id, now, 3)
    assert made.provision_types == [ProvisionType.HOME_CARE]
    assert (made.appeal_by, made.missing) == (None, [])
    assert made.refusal_reasons() == []
    kept = ("application_id", "rule_set_version", "district", "priority_score", "person_ref")
    assert all(getattr(made, name) == getattr(appealed, name) for name in kept)
    # Without a level from the reviewer or the appellant, the one found stays.
    same = overturned_decision(
        appealed,
        appeal_id=appeal_id,
        provisions=[ProvisionType.HOME_CARE],
        need_level=None,
        now=now,
    )
    assert same.need_level == 1
    assert made.age_band is same.age_band is None
    # It travels as a valid event payload.
    assert DecisionMade.model_validate_json(made.model_dump_json()) == made


def test_an_overturn_takes_the_age_band_of_its_day_or_keeps_the_one_found() -> None:
    appealed = decision(age_band=AgeBand.CHILD)
    now, appeal_id = datetime(2026, 3, 20, tzinfo=UTC), uuid4()

    def overturn(band: AgeBand | None) -> DecisionMade:
        home = [ProvisionType.HOME_CARE]
        return overturned_decision(
            appealed, appeal_id=appeal_id, provisions=home, need_level=None, now=now, age_band=band
        )

    assert overturn(AgeBand.YOUNG_ADULT).age_band is AgeBand.YOUNG_ADULT
    # The facts were erased since: the band the appealed decision found stays.
    assert overturn(None).age_band is AgeBand.CHILD


def place_lodge(kind: str, reason: str, now: datetime, **options: object) -> None:
    check_placement_lodging(
        kind,
        reason,
        DECIDED_AT,
        open_appeal=options.get("open"),  # type: ignore[arg-type]
        now=now,
        policy=POLICY,
    )


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("refused", "home_care_and_residential_exclusive"),
        ("released", "service_ended"),
        ("released", "offer_lapsed"),
        ("released", "other"),
    ],
)
def test_a_refused_or_ended_placement_is_appealed_within_the_policys_days(
    kind: str, reason: str
) -> None:
    assert lodging_deadline(DECIDED_AT, POLICY, AppealSubject.PLACEMENT) == date(2026, 4, 1)
    place_lodge(kind, reason, datetime(2026, 4, 1, 19, 59, tzinfo=UTC))
    with pytest.raises(AppealRefused) as late:
        place_lodge(kind, reason, datetime(2026, 4, 1, 20, 0, tzinfo=UTC))
    assert late.value.code == "appeal-deadline-passed"
    assert "placement of 2026-03-02" in late.value.detail


@pytest.mark.parametrize("reason", ["declined", "moved", "died", "consent_withdrawn"])
def test_a_release_the_person_caused_or_asked_for_is_not_appealed(reason: str) -> None:
    with pytest.raises(AppealRefused) as refused:
        place_lodge("released", reason, datetime(2026, 3, 5, tzinfo=UTC))
    assert (refused.value.status, refused.value.code) == (422, "not-appealable")
    assert reason in refused.value.detail


def test_a_placement_appeal_waits_for_the_open_one() -> None:
    with pytest.raises(AppealRefused) as refused:
        place_lodge("refused", "x", datetime(2026, 3, 5, tzinfo=UTC), open=uuid4())
    assert refused.value.code == "appeal-open"
    placement = respond_by(DECIDED_AT, POLICY, AppealSubject.PLACEMENT)
    assert placement == datetime(2026, 3, 12, 20, 0, tzinfo=UTC)  # 10 days, end of 12 March
