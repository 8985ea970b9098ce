"""The retention policy: how long each event family stays in the archive, read from a TOML file
and checked whole on load, so a mistake stops the archive with the place and the reason."""

import re
import tomllib
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

_DURATION = re.compile(r"^\s*(\d+)\s+(day|days|year|years)\s*$")
_TOML_LINE = re.compile(r"\(at line (\d+), column \d+\)")


class InvalidPolicy(ValueError):
    """The policy file cannot be used; the message names the file, the line or field, and why."""


@dataclass(frozen=True, slots=True)
class Keep:
    """A retention: whole calendar years, then days."""

    years: int = 0
    days: int = 0

    def until(self, start: datetime) -> datetime:
        """When something that happened at `start` may go (29 February gives 1 March)."""
        year = start.year + self.years
        try:
            moved = start.replace(year=year)
        except ValueError:
            moved = start.replace(year=year, month=3, day=1)
        return moved + timedelta(days=self.days)

    def __str__(self) -> str:
        if self.years:
            return f"{self.years} year{'s' * (self.years != 1)}"
        return f"{self.days} day{'s' * (self.days != 1)}"


def parse_keep(text: object) -> Keep:
    if isinstance(text, Keep):
        return text
    found = _DURATION.match(text) if isinstance(text, str) else None
    if found is None or int(found[1]) == 0:
        raise ValueError(f"{text!r} is not a retention: use '90 days', '1 year' or '10 years'")
    amount, unit = int(found[1]), found[2]
    return Keep(years=amount) if unit.startswith("year") else Keep(days=amount)


Duration = Annotated[Keep, BeforeValidator(parse_keep)]


class Family(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    prefixes: list[Annotated[str, Field(min_length=1)]] = Field(min_length=1)
    keep: Duration


class RetentionPolicy(BaseModel):
    """Families of topics by name prefix, each with its retention, and the default for the rest."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    default: Duration
    family: list[Family] = Field(default_factory=list)

    def rule_for(self, topic: str) -> tuple[str, Keep]:
        """The family name and retention of a topic: the longest matching prefix wins."""
        matches = [(len(p), f) for f in self.family for p in f.prefixes if topic.startswith(p)]
        if not matches:
            return "default", self.default
        chosen = max(matches, key=lambda match: match[0])[1]
        return chosen.name, chosen.keep

    def retain_until(self, topic: str, happened: datetime) -> datetime:
        return self.rule_for(topic)[1].until(happened)


def load_policy(path: Path) -> RetentionPolicy:
    """Reads and checks a policy file; InvalidPolicy says where and what is wrong."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise InvalidPolicy(f"{path}: cannot be read: {error.strerror}") from error
    return parse_policy(text, str(path))


def parse_policy(text: str, origin: str) -> RetentionPolicy:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        line = _TOML_LINE.search(message)
        where = f"{origin}:{line[1]}" if line else origin
        raise InvalidPolicy(f"{where}: {_TOML_LINE.sub('', message).strip()}") from error
    try:
        policy = RetentionPolicy.model_validate(raw)
    except ValidationError as error:
        reasons = "; ".join(
            f"{_field(e['loc'])}: {e['msg'].removeprefix('Value error, ')}" for e in error.errors()
        )
        raise InvalidPolicy(f"{origin}: {reasons}") from error
    _no_prefix_twice(policy, origin)
    return policy


def _field(location: tuple[int | str, ...]) -> str:
    parts = [f"[{part}]" if isinstance(part, int) else f".{part}" for part in location]
    return "".join(parts).lstrip(".") or "(top level)"


def _no_prefix_twice(policy: RetentionPolicy, origin: str) -> None:
    owner: dict[str, str] = {}
    for index, family in enumerate(policy.family):
        for prefix in family.prefixes:
            if prefix in owner:
                raise InvalidPolicy(
                    f"{origin}: family[{index}].prefixes: {prefix!r} is already in family "
                    f"{owner[prefix]!r}"
                )
            owner[prefix] = family.name
