"""Appeals against decisions and against refused or ended placements: what travels when one is
lodged and when a reviewer decides it.

No personal data: the appeal and the application are named by their ids; the grounds the
appellant gave and the reviewer's reasons stay in eligibility, which shows them to staff.
"""

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from pydantic import Field

from socialsvc_common.contract.payloads import Payload


class AppealSubject(StrEnum):
    """What is appealed against."""

    DECISION = "decision"
    PLACEMENT = "placement"  # refused, or ended without the person asking


class AppealStatus(StrEnum):
    LODGED = "lodged"
    UPHELD = "upheld"
    OVERTURNED = "overturned"


class AppealLodged(Payload):
    """An appeal was lodged, by the citizen or a social worker for them; a reviewer answers it."""

    appeal_id: UUID
    application_id: UUID
    subject: AppealSubject
    decision_event_id: UUID = Field(
        description="the decision appealed against, or the one the placement appealed about "
        "was made on (its event id)"
    )
    placement_event_id: UUID | None = Field(
        default=None, description="for a placement: the refusal or release appealed against"
    )
    lodged_at: datetime
    lodged_by: str = Field(description="who lodged it: role and key name")
    respond_by: datetime = Field(description="the reviewer's time limit, set by policy")


class AppealDecided(Payload):
    """A reviewer upheld the decision appealed against, or overturned it; an overturn is
    followed by a new decision (eligibility.decision.made.v1 naming this appeal)."""

    appeal_id: UUID
    application_id: UUID
    status: AppealStatus = Field(description="upheld or overturned")
    decided_at: datetime
    decided_by: str = Field(description="the reviewer: role and key name")
    overdue: bool = Field(default=False, description="decided after the reviewer's time limit")
