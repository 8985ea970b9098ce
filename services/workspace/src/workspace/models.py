"""What the services answer, as the workspace reads it: typed, tolerant of fields added later
(extra fields are ignored) and of fields a service does not send yet (optional where the page can
do without them). The shapes are those of issue 18's shared design."""

from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from socialsvc_common.explanations import application_ref


def _actor_text(value: Any) -> Any:
    # An actor arrives as "<role>:<name>" or as {"role", "name"}; the page shows the first form.
    if isinstance(value, dict) and "role" in value and "name" in value:
        return f"{value['role']}:{value['name']}"
    return value


ActorText = Annotated[str | None, BeforeValidator(_actor_text)]


class Answer(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class WithReference(Answer):
    """An answer about one application: its short reference, computed when not sent."""

    application_id: UUID
    reference: str = ""

    @model_validator(mode="after")
    def _reference(self) -> "WithReference":
        if not self.reference:
            object.__setattr__(self, "reference", application_ref(self.application_id))
        return self


class CaseSummary(WithReference):
    name: str | None = None
    district: str | None = None
    status: str = ""
    service_requested: str | None = None
    target_groups: list[str] = Field(default_factory=list)
    submitted_at: datetime | None = None
    updated_at: datetime | None = None
    assigned_to: str | None = None


class CaseList(Answer):
    total: int = 0
    items: list[CaseSummary] = Field(default_factory=list)


class Applicant(Answer):
    fin: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    birth_date: date | None = None
    district: str | None = None
    language: str | None = None
    mobile_phone: str | None = None


class JourneyStep(Answer):
    type: str
    time: datetime
    summary: dict[str, Any] = Field(default_factory=dict)
    actor: ActorText = None


class Case(Answer):
    case: CaseSummary
    applicant: Applicant = Field(default_factory=Applicant)
    journey: list[JourneyStep] = Field(default_factory=list)
    assigned_to: str | None = None
    assigned_by: ActorText = None
    assigned_at: datetime | None = None


class ApplicationStatus(Answer):
    """Intake's GET /applications/{id}."""

    application_id: UUID
    status: str
    service_requested: str | None = None
    submitted_at: datetime | None = None
    updated_at: datetime | None = None
    journey: list[JourneyStep] = Field(default_factory=list)


class Note(Answer):
    id: UUID | str
    # None: a confidential note the caller may not read (an operator).
    text: str | None = None
    confidential: bool = False
    author: ActorText = None
    written_at: datetime | None = None


class Visit(WithReference):
    id: UUID | str
    name: str | None = None
    district: str | None = None
    reason: str | None = None
    # The message no channel delivered, to tell the person in person.
    message: str | None = None
    language: str | None = None
    requested_at: datetime | None = None
    requested_by: ActorText = None
    status: str = "requested"
    visited_at: datetime | None = None
    outcome: str | None = None
    recorded_by: ActorText = None
    note: str | None = None


class RuleOutcome(Answer):
    rule: str
    passed: bool
    reason: str | None = None


class DecisionEntry(Answer):
    """One entry of eligibility's decision history."""

    current: bool = False
    decided_at: datetime | None = None
    outcome: str = ""
    rule_set_version: str | None = None
    need_level: int | None = None
    provision_types: list[str] = Field(default_factory=list)
    reasons: list[str] = Field(default_factory=list)
    missing: list[str] = Field(default_factory=list)
    rules: list[RuleOutcome] = Field(default_factory=list)
    appeal_id: UUID | None = None
    appeal_by: datetime | None = None


class Appeal(WithReference):
    id: UUID
    district: str | None = None
    subject: str | None = None
    status: str = ""
    grounds: str | None = None
    claimed_need_level: int | None = None
    lodged_at: datetime | None = None
    lodged_by: ActorText = None
    respond_by: datetime | None = None
    decided_at: datetime | None = None
    decided_by: ActorText = None
    reasons: str | None = None
    overdue: bool = False


class Message(Answer):
    id: UUID | str
    kind: str = ""
    channel: str | None = None
    language: str | None = None
    status: str = ""
    occurred_at: datetime | None = None
    sent_at: datetime | None = None
    delivered_at: datetime | None = None


class Placement(WithReference):
    """A placement as staff (GET /placements) and providers (GET /provider/placements) see it."""

    placement_id: UUID
    status: str = ""
    active: bool | None = None
    provider_id: str | None = None
    provider_name: str | None = None
    provision_type: str | None = None
    district: str | None = None
    placed_at: datetime | None = None
    offer_expires_at: datetime | None = None
    started_at: datetime | None = None
    released_at: datetime | None = None
    release_reason: str | None = None
    services_delivered: int | None = None
    review_due_at: datetime | None = None

    @model_validator(mode="before")
    @classmethod
    def _id(cls, data: Any) -> Any:
        # Staff's listing names the placement `id`, the provider's `placement_id`.
        if isinstance(data, dict) and "placement_id" not in data and "id" in data:
            return {**data, "placement_id": data["id"]}
        return data


class Review(WithReference):
    id: UUID | None = None  # a review still to come has none yet
    placement_id: UUID | None = None
    district: str | None = None
    provision_type: str | None = None
    due_at: datetime | None = None
    status: str = ""
    overdue: bool = False


class ProviderEntry(Answer):
    id: str
    name: str = ""
    provision_type: str | None = None
    districts: list[str] = Field(default_factory=list)
    capacity: int | None = None
    in_use: int | None = None
    free: int | None = None
    contract_start: date | None = None
    contract_end: date | None = None
    contract_days_left: int | None = None
    contract_warning: bool = False


class Waiting(WithReference):
    district: str | None = None
    priority_score: float | None = None
    waitlisted_at: datetime | None = None
    position: int | None = None


class ServiceDelivered(Answer):
    id: UUID | str | None = None
    delivered_on: date
    kind: str
    minutes: int | None = None
    note: str | None = None
    recorded_by: ActorText = None
