"""The review policy: how long a service runs before it is reviewed, by provision type and need
level, and how long a review may stay open before it is escalated. Read from a TOML file and
checked whole on load, so a mistake stops the service with the place and the reason."""

import re
import tomllib
from datetime import datetime, timedelta
from pathlib import Path
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from socialsvc_common.contract.payloads import ProvisionType

POLICY_FILE = Path(__file__).parent / "policy" / "reviews.toml"
_TOML_LINE = re.compile(r"\(at line (\d+), column \d+\)")


class InvalidReviewPolicy(ValueError):
    """The policy file cannot be used; the message names the file, the line or field, and why."""


class Interval(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    provision_type: ProvisionType
    min_need_level: int = Field(ge=0, le=10)
    days: float = Field(gt=0, le=3660)


class ReviewPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str = Field(min_length=1)
    overdue_after_days: float = Field(gt=0, le=365)
    interval: tuple[Interval, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _complete(self) -> Self:
        seen: set[tuple[ProvisionType, int]] = set()
        for entry in self.interval:
            key = (entry.provision_type, entry.min_need_level)
            if key in seen:
                raise ValueError(
                    f"{entry.provision_type.value} from need level {entry.min_need_level} "
                    "is given twice"
                )
            seen.add(key)
        missing = [kind.value for kind in ProvisionType if (kind, 0) not in seen]
        if missing:
            raise ValueError(f"no interval from need level 0 for: {', '.join(missing)}")
        return self

    def interval_for(self, provision_type: ProvisionType, need_level: int | None) -> timedelta:
        """The time to the next review: the entry of this type with the highest level reached
        (a placement without a known need level counts as level 0)."""
        level = need_level or 0
        reached = (
            e
            for e in self.interval
            if e.provision_type is provision_type and e.min_need_level <= level
        )
        days = max(reached, key=lambda e: e.min_need_level).days
        return timedelta(days=days)

    def next_review(
        self, provision_type: ProvisionType, need_level: int | None, after: datetime
    ) -> datetime:
        return after + self.interval_for(provision_type, need_level)

    def overdue_at(self, due_at: datetime) -> datetime:
        """When a review that came due at `due_at` and is still open is escalated."""
        return due_at + timedelta(days=self.overdue_after_days)


def load_review_policy(path: Path | None = None) -> ReviewPolicy:
    """Reads and checks a policy file (the packaged one by default)."""
    path = path or POLICY_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise InvalidReviewPolicy(f"{path}: cannot be read: {error.strerror}") from error
    return parse_review_policy(text, str(path))


def parse_review_policy(text: str, origin: str) -> ReviewPolicy:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        line = _TOML_LINE.search(message)
        where = f"{origin}:{line[1]}" if line else origin
        raise InvalidReviewPolicy(f"{where}: {_TOML_LINE.sub('', message).strip()}") from error
    try:
        return ReviewPolicy.model_validate(raw)
    except ValidationError as error:
        reasons = "; ".join(
            f"{_field(e['loc'])}: {e['msg'].removeprefix('Value error, ')}" for e in error.errors()
        )
        raise InvalidReviewPolicy(f"{origin}: {reasons}") from error


def _field(location: tuple[int | str, ...]) -> str:
    parts = [f"[{part}]" if isinstance(part, int) else f".{part}" for part in location]
    return "".join(parts).lstrip(".") or "(top level)"
