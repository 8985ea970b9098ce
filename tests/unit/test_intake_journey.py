"""Intake's journey rules, without broker or database: what a status becomes, what a step shows."""

from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest
from pydantic import BaseModel

from intake.journey import advance, moves_to, status_after, summary
from intake.store import Status
from socialsvc_common.consumer import Received
from socialsvc_common.contract import payloads as p
from socialsvc_common.contract.envelope import Envelope

NOW = datetime.now(UTC)


def decision(outcome: p.Outcome, *failed: str) -> p.DecisionMade:
    return p.DecisionMade(
        application_id=uuid4(),
        decided_at=NOW,
        outcome=outcome,
        rule_set_version="2026.1",
        district="Xətai",
        rules=[
            p.RuleResult(rule=f"r{i}", passed=False, reason=reason)
            for i, reason in enumerate(failed)
        ]
        + [p.RuleResult(rule="ok", passed=True)],
    )


def appealed() -> p.DecisionMade:
    """The eligible decision a reviewer's overturn made."""
    return decision(p.Outcome.ELIGIBLE).model_copy(update={"appeal_id": uuid4()})


def placed() -> p.PlacementMade:
    return p.PlacementMade(
        application_id=uuid4(),
        placement_id=uuid4(),
        provider_id="hc-xetai",
        provider_name="Xətai evdə sosial xidmət qrupu",
        provision_type=p.ProvisionType.HOME_CARE,
        district="Xətai",
        placed_at=NOW,
    )


def test_refusal_reasons_are_told_once_and_only_for_a_refusal() -> None:
    refused = decision(
        p.Outcome.INELIGIBLE, "no_target_group", "group_not_served", "group_not_served"
    )
    assert refused.refusal_reasons() == ["no_target_group", "group_not_served"]
    assert decision(p.Outcome.ELIGIBLE, "income_above_need_criterion").refusal_reasons() == []
    assert summary(refused)["reasons"] == ["no_target_group", "group_not_served"]


@pytest.mark.parametrize(
    ("current", "payload", "moves"),
    [
        (Status.RECEIVED, decision(p.Outcome.ELIGIBLE), True),
        (Status.NEEDS_INFORMATION, decision(p.Outcome.ELIGIBLE), True),  # a new decision supersedes
        (Status.ELIGIBLE, decision(p.Outcome.NEEDS_INFORMATION), True),
        (
            Status.PLACED,
            decision(p.Outcome.ELIGIBLE),
            False,
        ),  # a late decision never undoes a placement
        (Status.RECEIVED, placed(), True),  # placement seen before the decision: still forward
        (Status.PLACED, placed(), False),
        # A decision an appeal made reopens a refused or ended placement, nothing else.
        (Status.RELEASED, appealed(), True),
        (Status.REFUSED, appealed(), True),
        (Status.INELIGIBLE, appealed(), True),
        (Status.PLACED, appealed(), False),
        (Status.WAITLISTED, appealed(), False),
        (Status.WITHDRAWN, appealed(), False),
        (Status.RELEASED, decision(p.Outcome.ELIGIBLE), False),
    ],
)
def test_status_moves_forward_and_decisions_supersede(
    current: Status, payload: p.Payload, moves: bool
) -> None:
    new = status_after(payload)
    assert new is not None
    assert moves_to(current, new, payload) is moves


def test_journey_steps_carry_no_personal_data() -> None:
    made = placed()
    step = summary(made)
    assert step == {
        "placement_id": str(made.placement_id),
        "provider_name": "Xətai evdə sosial xidmət qrupu",
        "provision_type": "home_care",
        "district": "Xətai",
        "offer_expires_at": None,
    }


def test_a_batch_moves_each_application_through_its_events_in_order() -> None:
    first, second = uuid4(), uuid4()

    def received(application_id: UUID, payload: BaseModel) -> Received[BaseModel]:
        envelope = Envelope(
            event_id=uuid4(),
            type="t",
            schema_version="1.0",
            time=NOW,
            source="/test",
            application_id=application_id,
            correlation_id=uuid4(),
        )
        return Received(envelope, payload)

    statuses = {first: Status.RECEIVED, second: Status.RECEIVED}
    changed = advance(
        statuses,
        [
            received(first, decision(p.Outcome.ELIGIBLE)),
            received(second, placed()),
            received(first, placed()),
            # A decision after the placement (another topic, read later) supersedes nothing.
            received(second, decision(p.Outcome.INELIGIBLE)),
            received(first, decision(p.Outcome.NEEDS_INFORMATION)),
        ],
    )
    assert changed == {first: Status.PLACED, second: Status.PLACED}
    assert statuses == changed
