"""What the figures are asked for: a period of months in Azerbaijan, a place, a group, a direction.

Every value is checked; a bad one is a 422 problem naming the query field (`from`, `district` ...).
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from ministry_statistics.facts import BAKU
from socialsvc_common.contract.payloads import ProvisionType, TargetGroup
from socialsvc_common.geography import Geography, UnknownUnit
from socialsvc_common.problems import Problem

E = TypeVar("E", TargetGroup, ProvisionType)
MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class Filters:
    """The figures' filters, checked; `start` and `end` bound the period in UTC (end excluded)."""

    first: str
    last: str
    region: str | None = None
    district: str | None = None
    group: TargetGroup | None = None
    direction: ProvisionType | None = None

    @property
    def start(self) -> datetime:
        return month_start(self.first)

    @property
    def end(self) -> datetime:
        year, month = (int(part) for part in self.last.split("-"))
        following = f"{year + month // 12:04d}-{month % 12 + 1:02d}"
        return month_start(following)

    def echo(self) -> dict[str, Any]:
        """The filters as the answer repeats them."""
        return {
            "from": self.first,
            "to": self.last,
            "region": self.region,
            "district": self.district,
            "group": self.group.value if self.group else None,
            "direction": self.direction.value if self.direction else None,
        }


def month_start(month: str) -> datetime:
    year, number = (int(part) for part in month.split("-"))
    return datetime(year, number, 1, tzinfo=BAKU).astimezone(UTC)


def _invalid(field: str, message: str) -> Problem:
    return Problem(
        422,
        "validation",
        "Invalid request",
        f"invalid fields: {field}",
        errors=[{"field": field, "message": message}],
    )


def _month(field: str, value: str | None, default: str) -> str:
    if value is None or value == "":
        return default
    if not MONTH.match(value):
        raise _invalid(field, "a month as YYYY-MM, e.g. 2026-03")
    return value


def parse_filters(
    geography: Geography,
    now: datetime,
    *,
    first: str | None = None,
    last: str | None = None,
    region: str | None = None,
    district: str | None = None,
    group: str | None = None,
    direction: str | None = None,
) -> Filters:
    """Checked filters; the period is this year in Azerbaijan up to this month by default."""
    this_month = now.astimezone(BAKU).strftime("%Y-%m")
    upto = _month("to", last, this_month)
    since = _month("from", first, f"{upto[:4]}-01")
    if since > upto:
        raise _invalid("from", f"the period starts ({since}) after it ends ({upto})")
    if region:
        try:
            region = geography.region(region)
        except UnknownUnit:
            raise _invalid(
                "region", "an economic region as GET /statistics/dimensions lists it"
            ) from None
    if district:
        try:
            unit = geography.unit(district)
        except UnknownUnit:
            raise _invalid("district", "a district or city in Azerbaijani spelling") from None
        if region and unit.region != region:
            raise _invalid("district", f"{unit.name} is not in {region}")
        district = unit.name
    return Filters(
        since,
        upto,
        region or None,
        district or None,
        _choice("group", group, TargetGroup),
        _choice("direction", direction, ProvisionType),
    )


def _choice(field: str, value: str | None, kind: type[E]) -> E | None:
    if not value:
        return None
    try:
        return kind(value)
    except ValueError:
        raise _invalid(field, "one of " + ", ".join(item.value for item in kind)) from None
