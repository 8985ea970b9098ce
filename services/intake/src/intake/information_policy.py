"""The needs-information policy (policy data): when a person waiting to send facts is reminded,
and when their application expires; and, in pure code, which step each waiting application is due.
"""

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

POLICY_FILE = Path(__file__).parent / "policy" / "needs_information.toml"


class InformationPolicyError(ValueError):
    """The needs-information policy file cannot be used; the message says where and why."""


class InformationPolicy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str = Field(min_length=1)
    reminder_after_days: float = Field(gt=0)
    expire_after_days: float = Field(gt=0)

    @model_validator(mode="after")
    def _reminder_before_expiry(self) -> "InformationPolicy":
        if self.reminder_after_days >= self.expire_after_days:
            raise ValueError("reminder_after_days must be less than expire_after_days")
        return self

    @classmethod
    def load(cls, path: Path = POLICY_FILE) -> "InformationPolicy":
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as error:
            raise InformationPolicyError(f"{path}: cannot be read ({error.strerror})") from None
        except tomllib.TOMLDecodeError as error:
            raise InformationPolicyError(f"{path}: {error}") from None
        try:
            return cls.model_validate(data)
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'file'}: {e['msg']}"
                for e in error.errors()
            )
            raise InformationPolicyError(f"{path}: {problems}") from None

    @property
    def reminder_after(self) -> timedelta:
        return timedelta(days=self.reminder_after_days)

    @property
    def expire_after(self) -> timedelta:
        return timedelta(days=self.expire_after_days)


class Step(StrEnum):
    REMIND = "remind"
    EXPIRE = "expire"


@dataclass(frozen=True, slots=True)
class AwaitingFacts:
    """An application a needs-information decision left waiting: since when, and when (if since
    then) the person was reminded."""

    application_id: UUID
    asked_at: datetime
    reminded_at: datetime | None


def step_due(application: AwaitingFacts, policy: InformationPolicy, now: datetime) -> Step | None:
    """What the application is due at `now`: expiry once its time ran out (reminded or not),
    else one reminder per request for facts, else nothing."""
    if now >= application.asked_at + policy.expire_after:
        return Step.EXPIRE
    reminded = (
        application.reminded_at is not None and application.reminded_at >= application.asked_at
    )
    if now >= application.asked_at + policy.reminder_after and not reminded:
        return Step.REMIND
    return None


def steps_due(
    applications: Iterable[AwaitingFacts], policy: InformationPolicy, now: datetime
) -> dict[UUID, Step]:
    """The step each application is due, leaving out those due none."""
    return {
        a.application_id: step
        for a in applications
        if (step := step_due(a, policy, now)) is not None
    }
