"""What a review is and what it decides, in pure code: the review a placement's due date opens,
the outcome a new decision gives it, and the escalation of one left open too long."""

from datetime import datetime
from typing import Any
from uuid import uuid4

from assignment.review_policy import ReviewPolicy
from assignment.review_store import OPEN, ReviewRow
from assignment.store import PlacementRow
from socialsvc_common.contract.payloads import (
    DecisionMade,
    Outcome,
    ProvisionType,
    ReviewDue,
    ReviewOutcome,
    ReviewOverdue,
)


def opened_review(
    placement: PlacementRow, policy: ReviewPolicy, now: datetime
) -> tuple[dict[str, Any], ReviewDue]:
    """The review row a placement's due date opens, and the event that asks for the decision."""
    if placement.review_due_at is None:
        raise ValueError(f"placement {placement.id} has no review date")
    due = ReviewDue(
        application_id=placement.application_id,
        placement_id=placement.id,
        review_id=uuid4(),
        provision_type=ProvisionType(placement.provision_type),
        due_at=placement.review_due_at,
        opened_at=now,
    )
    row = {
        "id": due.review_id,
        "application_id": due.application_id,
        "placement_id": due.placement_id,
        "provision_type": due.provision_type.value,
        "due_at": due.due_at,
        "opened_at": now,
        "overdue_at": policy.overdue_at(due.due_at),
        "status": OPEN,
    }
    return row, due


def review_outcome(decision: DecisionMade, provision_type: ProvisionType) -> ReviewOutcome | None:
    """What a review's decision means for the service the person holds: it continues while they
    are still eligible for that provision type, and ends when they are not. A decision that needs
    information concludes nothing: the review stays open (and escalates when overdue), since a
    service is not ended for a fact nobody was asked for."""
    if decision.outcome is Outcome.NEEDS_INFORMATION:
        return None
    if decision.outcome is Outcome.ELIGIBLE and provision_type in decision.provision_types:
        return ReviewOutcome.CONTINUED
    return ReviewOutcome.ENDED


def escalation(review: ReviewRow, now: datetime) -> ReviewOverdue:
    """The escalation of a review still open after its grace period."""
    return ReviewOverdue(
        application_id=review.application_id,
        placement_id=review.placement_id,
        review_id=review.id,
        due_at=review.due_at,
        overdue_at=review.overdue_at,
        escalated_at=now,
    )
