"""Disclosure control: figures and public records that do not single anyone out.

A count of fewer than `min_cell` people (k, from the policy) is withheld, and where a breakdown's
total is shown beside its cells a second cell is withheld with a lone one, so the first cannot be
worked out by subtraction. Sensitive groups (victims of trafficking or domestic violence) are merged
into one "protected groups" cell where either alone would be too small, and public records never
name them. Times on public records are cut to the policy's unit.
"""

import tomllib
from collections.abc import Hashable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from socialsvc_common.contract.payloads import TargetGroup

DEFAULT_PATH = Path(__file__).parent / "data" / "disclosure.toml"
PROTECTED = "protected"  # the one cell the sensitive groups are merged into
K = TypeVar("K", bound=Hashable)


class DisclosurePolicyError(ValueError):
    """The disclosure policy cannot be used; the message names the file and the fields."""


class DisclosurePolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str = Field(min_length=1, max_length=40)
    min_cell: int = Field(ge=1, le=100, description="k: the fewest people a shown figure counts")
    sensitive_groups: frozenset[TargetGroup]
    public_time_minutes: int = Field(ge=1, le=24 * 60)

    def coarsen(self, at: datetime) -> datetime:
        """The moment cut down to the policy's unit (UTC), for public records."""
        unit = timedelta(minutes=self.public_time_minutes)
        since_epoch = at.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
        return datetime(1970, 1, 1, tzinfo=UTC) + (since_epoch // unit) * unit

    def protects(self, groups: Iterable[TargetGroup]) -> bool:
        """Whether any of the groups is a sensitive one (a provider serving one is not named on
        public records of people: a place with it would name the person's group)."""
        return not self.sensitive_groups.isdisjoint(groups)

    def public_groups(self, groups: Iterable[TargetGroup]) -> list[TargetGroup]:
        """The groups a public record may name: none of the sensitive ones."""
        return [group for group in groups if group not in self.sensitive_groups]

    def suppress(self, counts: Mapping[K, int], total_shown: bool = True) -> dict[K, int | None]:
        """Each count, or None where it is withheld (see the module's docstring)."""
        shown: dict[K, int | None] = {
            key: (None if 0 < count < self.min_cell else count) for key, count in counts.items()
        }
        withheld = [key for key, value in shown.items() if value is None]
        others = [key for key, count in counts.items() if key not in withheld and count]
        if total_shown and len(withheld) == 1 and others:
            # The smallest other cell; of equal ones the first by name, so the choice is stable.
            shown[min(others, key=lambda key: (counts[key], str(key)))] = None
        return shown

    def generalise_groups(self, counts: Mapping[str, int]) -> dict[str, int]:
        """Counts by target group, the sensitive groups merged into `protected` when any of them
        alone would be withheld."""
        sensitive = {group.value for group in self.sensitive_groups}
        small = any(0 < counts.get(group, 0) < self.min_cell for group in sensitive)
        if not small:
            return dict(counts)
        merged = {key: count for key, count in counts.items() if key not in sensitive}
        merged[PROTECTED] = sum(counts.get(group, 0) for group in sensitive)
        return merged


def load_disclosure_policy(path: Path | None = None) -> DisclosurePolicy:
    source = path or DEFAULT_PATH
    try:
        return DisclosurePolicy.model_validate(tomllib.loads(source.read_text(encoding="utf-8")))
    except (OSError, tomllib.TOMLDecodeError) as error:
        message = f"{source}: cannot read the disclosure policy: {error}"
        raise DisclosurePolicyError(message) from None
    except ValidationError as error:
        fields = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or '(file)'}: {e['msg']}" for e in error.errors()
        )
        raise DisclosurePolicyError(f"{source}: invalid disclosure policy: {fields}") from None


@cache
def default_disclosure_policy() -> DisclosurePolicy:
    """The shipped policy, read once."""
    return load_disclosure_policy()
