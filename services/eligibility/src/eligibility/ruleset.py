"""The rule set: every threshold and weight of an eligibility decision, read from a versioned file.

Policy is data: administrators edit or add TOML files under `policy/`, never this module. A file
that names an unknown field or a value out of range is refused whole, so a typo cannot silently
fall back to a default.
"""

import tomllib
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from socialsvc_common.contract.payloads import DailyActivity, ProvisionType, TargetGroup

POLICY_DIR = Path(__file__).parent / "policy"

MAX_NEED_LEVEL = 5

# Strict ints: `true` or "3" in a rule file is a mistake, not a number.
Weight = Annotated[int, Field(ge=0, le=10, strict=True)]
NeedLevel = Annotated[int, Field(ge=0, le=MAX_NEED_LEVEL, strict=True)]
Points = Annotated[float, Field(ge=0, le=100)]


class RuleSetError(Exception):
    """A rule file cannot be used; the message names the file and what is wrong in it."""


class NoRuleSetInForce(RuleSetError):
    """No rule set is in force on the date asked for, so nothing can be decided on it."""


class _Policy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Ages(_Policy):
    elderly: int = Field(ge=50, le=100, strict=True)
    majority: int = Field(ge=14, le=21, strict=True)


class Income(_Policy):
    need_criterion_azn: Decimal = Field(gt=0, le=100_000)


class ActivityWeights(_Policy):
    washing: Weight
    dressing: Weight
    eating: Weight
    moving_about: Weight
    toilet: Weight
    housework: Weight
    shopping: Weight
    medication: Weight

    def of(self, activity: DailyActivity) -> int:
        weight: int = getattr(self, activity.value)
        return weight

    def total(self) -> int:
        return sum(self.of(activity) for activity in DailyActivity)


class Dependency(_Policy):
    weights: ActivityWeights
    need_level_min_scores: list[Annotated[int, Field(ge=1, strict=True)]] = Field(
        min_length=1, max_length=MAX_NEED_LEVEL
    )

    @model_validator(mode="after")
    def _levels_rise_and_are_reachable(self) -> Self:
        scores = self.need_level_min_scores
        if any(low >= high for low, high in pairwise(scores)):
            raise ValueError(f"need_level_min_scores must rise strictly, got {scores}")
        if scores[-1] > self.weights.total():
            raise ValueError(
                f"need level {len(scores)} needs score {scores[-1]}, "
                f"above the highest possible score {self.weights.total()}"
            )
        return self


class Provision(_Policy):
    groups: list[TargetGroup] = Field(min_length=1)
    min_need_level: NeedLevel
    # A lower (or higher) bar for some of the groups served, e.g. elderly people living alone.
    min_need_level_by_group: dict[TargetGroup, NeedLevel] = Field(default_factory=dict)
    requires_living_alone: bool = False

    @model_validator(mode="after")
    def _overrides_name_groups_served(self) -> Self:
        stray = sorted(
            group.value for group in set(self.min_need_level_by_group) - set(self.groups)
        )
        if stray:
            raise ValueError(f"min_need_level_by_group names groups not served: {stray}")
        return self

    def min_need_level_for(self, group: TargetGroup) -> int:
        return self.min_need_level_by_group.get(group, self.min_need_level)


class Provisions(_Policy):
    home_care: Provision
    residential: Provision
    ngo_project: Provision

    def of(self, kind: ProvisionType) -> Provision:
        provision: Provision = getattr(self, kind.value)
        return provision


class Ranking(_Policy):
    order: list[ProvisionType]

    @model_validator(mode="after")
    def _names_each_provision_once(self) -> Self:
        if sorted(self.order) != sorted(ProvisionType):
            named = [kind.value for kind in self.order]
            raise ValueError(f"order must name each provision type once, got {named}")
        return self


class DisabilityGroupPoints(_Policy):
    group_1: Points
    group_2: Points
    group_3: Points

    def of(self, group: int) -> float:
        points: float = getattr(self, f"group_{group}")
        return points


class Priority(_Policy):
    living_alone: Points
    per_year_over_elderly_age: Points
    disability_group: DisabilityGroupPoints
    child_with_disability: Points
    victim: Points
    per_need_level: Points


class RuleSet(_Policy):
    version: str = Field(pattern=r"^\d{4}\.[1-9]\d*$")
    effective_from: date
    effective_to: date | None = Field(default=None, description="last day in force, inclusive")
    ages: Ages
    income: Income
    dependency: Dependency
    provisions: Provisions
    ranking: Ranking
    priority: Priority

    @model_validator(mode="after")
    def _coherent(self) -> Self:
        if self.effective_to is not None and self.effective_to < self.effective_from:
            raise ValueError("effective_to is before effective_from")
        levels = len(self.dependency.need_level_min_scores)
        for kind in ProvisionType:
            provision = self.provisions.of(kind)
            highest = max([provision.min_need_level, *provision.min_need_level_by_group.values()])
            if highest > levels:
                raise ValueError(f"{kind} requires need level {highest}; only {levels} defined")
        return self

    def in_force_on(self, day: date) -> bool:
        ended = self.effective_to is not None and day > self.effective_to
        return self.effective_from <= day and not ended


def load_rule_set(path: Path | str) -> RuleSet:
    """Read and validate one rule file; RuleSetError names the file and each field at fault."""
    path = Path(path)
    try:
        with path.open("rb") as file:
            data = tomllib.load(file)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise RuleSetError(f"{path}: cannot read rule file: {error}") from error
    try:
        return RuleSet.model_validate(data)
    except ValidationError as error:
        raise RuleSetError(f"{path}: {_describe(error)}") from error


def default_rule_sets() -> list[RuleSet]:
    """Every rule set shipped in `policy/`, oldest first."""
    rule_sets = [load_rule_set(path) for path in sorted(POLICY_DIR.glob("*.toml"))]
    versions = [rule_set.version for rule_set in rule_sets]
    doubles = sorted({version for version in versions if versions.count(version) > 1})
    if doubles:
        raise RuleSetError(f"{POLICY_DIR}: version(s) {doubles} declared by more than one file")
    return sorted(rule_sets, key=lambda rule_set: rule_set.effective_from)


def rule_set_for(rule_sets: Sequence[RuleSet], on: date) -> RuleSet:
    """The rule set in force on a day.

    When several are in force, the one that took effect last wins: a new version supersedes an
    open-ended older one without anyone editing the older file. Two taking effect on the same day
    are ambiguous and refused.
    """
    in_force = [rule_set for rule_set in rule_sets if rule_set.in_force_on(on)]
    if not in_force:
        known = ", ".join(f"{r.version} from {r.effective_from}" for r in rule_sets) or "none"
        raise NoRuleSetInForce(f"no rule set is in force on {on} (known: {known})")
    latest = max(rule_set.effective_from for rule_set in in_force)
    newest = [rule_set for rule_set in in_force if rule_set.effective_from == latest]
    if len(newest) > 1:
        versions = ", ".join(rule_set.version for rule_set in newest)
        raise RuleSetError(f"rule sets {versions} all take effect on {latest}; keep one")
    return newest[0]


def _describe(error: ValidationError) -> str:
    problems = []
    for detail in error.errors():
        where = ".".join(str(part) for part in detail["loc"]) or "rule set"
        problems.append(f"{where}: {detail['msg']}")
    return "; ".join(problems)
