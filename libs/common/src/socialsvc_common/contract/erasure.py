"""The erasure of a data subject: what travels between services when a person's data is erased.

The event carries no personal data: the person is named by their pseudonymous reference, the data
by its application id, so every holder (and the audit archive, which forgets the application's
keys) can act on it without learning who the person was.
"""

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from pydantic import Field

from socialsvc_common.contract.payloads import Payload, PersonRef


class ErasureReason(StrEnum):
    """Why a person's data is erased."""

    SUBJECT_REQUEST = "subject_request"
    RETENTION_ENDED = "retention_ended"


class SubjectErased(Payload):
    """A person's data is erased for one of their applications: holders anonymise what they keep
    of it, leaving the counts and the pseudonymous trail whole. A person a proactive offer
    reached is erased for the offer too, under its id."""

    application_id: UUID = Field(description="the application's id, or a proactive offer's")
    erasure_id: UUID = Field(description="one erasure of one person, over all their applications")
    person_ref: PersonRef
    reason: ErasureReason
    legal_basis: str = Field(
        max_length=500, description="the law or decision that calls for it, never personal data"
    )
    erased_at: datetime


def anonymised_decision(decision: Mapping[str, Any]) -> dict[str, Any]:
    """A stored `DecisionMade` without the facts about the person each rule looked at (age,
    income, household): the outcome, its grounds by rule and the pseudonymous reference stay."""
    rules = [
        {key: value for key, value in rule.items() if key != "facts"}
        for rule in decision.get("rules", ())
    ]
    return {**decision, "rules": rules}
