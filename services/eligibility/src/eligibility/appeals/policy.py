"""The appeals policy: days to lodge an appeal and days to review it, per subject, from a TOML
file. A file that lacks a subject, names an unknown one or gives a day count out of range is
refused whole, naming the file and the field."""

import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from socialsvc_common.contract.appeals import AppealSubject

DEFAULT_POLICY = Path(__file__).with_name("policy-2026.1.toml")
MAX_DAYS = 365


class AppealPolicyError(ValueError):
    """The appeals policy cannot be used; the message names the file and what is wrong."""


class _Days(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    decision: int = Field(ge=1, le=MAX_DAYS, strict=True)
    placement: int = Field(ge=1, le=MAX_DAYS, strict=True)

    def of(self, subject: AppealSubject) -> int:
        days: int = getattr(self, subject.value)
        return days


class AppealPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str = Field(pattern=r"^[0-9A-Za-z][0-9A-Za-z.-]{0,39}$")
    lodging_days: _Days
    review_days: _Days


def load_appeal_policy(path: Path = DEFAULT_POLICY) -> AppealPolicy:
    """Reads and validates an appeals policy; AppealPolicyError says `file: field: reason`."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise AppealPolicyError(f"{path}: cannot be read ({error.strerror})") from error
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise AppealPolicyError(f"{path}: not valid UTF-8 TOML: {error}") from error
    try:
        return AppealPolicy.model_validate(data)
    except ValidationError as error:
        problems = [
            f"{'.'.join(str(part) for part in detail['loc']) or 'policy'}: {detail['msg']}"
            for detail in error.errors()
        ]
        raise AppealPolicyError(f"{path}: {'; '.join(problems)}") from error
