"""Payloads of the partner streams (`public.*`): an application's story without the person.

They carry a pseudonymous application id (`application_ref`, a keyed hash of the application id,
see socialsvc_common.pseudonym), statuses, target groups, districts, provision types, providers and
times. Never a FIN, name, phone, e-mail, address, birth date, income, the real application id or
the person reference: a field is added here only if no person can be named from it.
"""

from datetime import date, datetime
from enum import StrEnum
from uuid import UUID, uuid5

from pydantic import Field

from socialsvc_common.contract.payloads import (
    AgeBand,
    Outcome,
    Payload,
    ProvisionType,
    ReleaseReason,
    ServiceRequested,
    TargetGroup,
)

ApplicationRef = UUID
# What the public times and groups say (socialsvc_common.disclosure cuts and filters them).
AT_THE_HOUR = "the start of the hour (UTC) it happened in: public times are never exact"
PROVIDER = (
    "the provider's id; `protected` for one that serves victims of trafficking or domestic "
    "violence, whose name would name the person's group"
)
PUBLIC_GROUPS = "target groups; victims of trafficking or domestic violence are never named"
# Provider events are keyed (and their ce_subject set) by a name-based UUID of the provider id.
PROVIDER_NAMESPACE = UUID("5b0f5e8e-6c8a-4a57-9a3e-2f1d7c4b9e10")


def provider_subject(provider_id: str) -> UUID:
    """The record key and ce_subject of a provider's events: the same for every change of it."""
    return uuid5(PROVIDER_NAMESPACE, provider_id)


class PublicStatus(StrEnum):
    """Where an application stands after the event: the one field every public event has."""

    RECEIVED = "received"
    ELIGIBLE = Outcome.ELIGIBLE.value
    INELIGIBLE = Outcome.INELIGIBLE.value
    NEEDS_INFORMATION = Outcome.NEEDS_INFORMATION.value
    PLACED = "placed"
    WAITLISTED = "waitlisted"
    RELEASED = "released"


class PublicPayload(Payload):
    application_ref: ApplicationRef = Field(
        description="pseudonymous application id: the same on every public topic, equal to the "
        "record key and ce_subject; a keyed hash, it cannot be turned back into the application"
    )
    status: PublicStatus


class PublicApplicationReceived(PublicPayload):
    """An application was taken in (revision 1), or facts were added to it (revision 2, 3, ...)."""

    received_at: datetime = Field(description=AT_THE_HOUR)
    service_requested: ServiceRequested
    district: str = Field(description="the applicant's district or city")
    channel: str = Field(description="web, egov or social_worker")
    revision: int = Field(ge=1)


class PublicApplicationDecided(PublicPayload):
    """Eligibility decided: status is eligible, ineligible or needs_information."""

    decided_at: datetime = Field(description=AT_THE_HOUR)
    rule_set_version: str
    district: str
    groups: list[TargetGroup] = Field(default_factory=list, description=PUBLIC_GROUPS)
    need_level: int | None = None
    provision_types: list[ProvisionType] = Field(
        default_factory=list, description="what the person qualifies for, best first"
    )
    reasons: list[str] = Field(default_factory=list, description="refusal reason keys")
    missing: list[str] = Field(default_factory=list, description="facts asked for")
    age_band: AgeBand | None = Field(default=None, description="the person's age band")


class PublicApplicationPlaced(PublicPayload):
    """A place was offered with a provider; status is placed."""

    placed_at: datetime = Field(description=AT_THE_HOUR)
    provision_type: ProvisionType
    provider_id: str = Field(description=PROVIDER)
    district: str = Field(
        description="the provider's district; for a provider of victims, its economic region"
    )
    groups: list[TargetGroup] = Field(default_factory=list, description=PUBLIC_GROUPS)
    offer_expires_at: datetime | None = Field(
        default=None,
        description="the start of the hour the offer lapses in (the person is told the exact "
        "deadline; exact here, less the fixed offer period, it would give the moment of the offer)",
    )


class PublicApplicationWaitlisted(PublicPayload):
    """No place was free; the application waits by priority. Status is waitlisted."""

    waitlisted_at: datetime = Field(description=AT_THE_HOUR)
    provision_type: ProvisionType
    district: str
    groups: list[TargetGroup] = Field(default_factory=list, description=PUBLIC_GROUPS)


class PublicApplicationReleased(PublicPayload):
    """A place was given up (declined, lapsed, ended ...) and goes to the next person waiting."""

    released_at: datetime = Field(description=AT_THE_HOUR)
    reason: ReleaseReason
    provider_id: str = Field(description=PROVIDER)
    provision_type: ProvisionType


class PublicProviderChanged(Payload):
    """A provider was added to the registry or changed (capacity, districts, contract). Keyed by
    the provider id; the topic is compacted, so it always holds every provider's latest state."""

    provider_id: str
    provision_type: ProvisionType
    name: str
    organisation: str | None = Field(default=None, description="the NGO running a project")
    districts: list[str] = Field(description="the districts and cities it serves")
    capacity: int = Field(ge=0, description="places, caseload limit or project capacity")
    target_groups: list[TargetGroup] = Field(
        default_factory=list, description="whom it takes; empty for home care (everyone)"
    )
    contract_start: date | None = Field(default=None, description="an NGO project's contract")
    contract_end: date | None = None
    changed_at: datetime
