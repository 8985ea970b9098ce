"""The statistics service's figures as the workspace reads them (issue 19's contract), and the
filters the statistics page takes, checked before they reach the service.

A row's withheld value is null with its measure named in `suppressed`: the page shows it as
"fewer than k", never as nought."""

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from socialsvc_common.contract.payloads import ProvisionType, TargetGroup
from socialsvc_common.geography import Geography, UnknownUnit
from workspace.models import Answer

FILTERS = ("from", "to", "region", "district", "group", "direction")
MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
Value = int | float | str | None


class Policy(Answer):
    version: str
    min_cell: int = Field(ge=1)


class Total(Answer):
    values: dict[str, Value] = Field(default_factory=dict)
    suppressed: list[str] = Field(default_factory=list)

    def withheld(self, measure: str) -> bool:
        return measure in self.suppressed and self.values.get(measure) is None


class Row(Total):
    keys: dict[str, str | None] = Field(default_factory=dict)


class Section(Answer):
    id: str
    dimensions: list[str]
    measures: list[str]
    rows: list[Row] = Field(default_factory=list)
    total: Total | None = None


class Figures(Answer):
    filters: dict[str, str | None] = Field(default_factory=dict)
    policy: Policy
    as_of: datetime | None = None
    sections: list[Section] = Field(default_factory=list)


class Region(Answer):
    name: str
    districts: list[str] = Field(default_factory=list)


def _regions(value: Any) -> Any:
    # Regions arrive as {region: [district, ...]} or as [{"name"|"region", "districts"}, ...].
    if isinstance(value, Mapping):
        return [{"name": name, "districts": districts} for name, districts in value.items()]
    if isinstance(value, list):
        return [
            {"name": r.get("region", ""), **r} if isinstance(r, dict) and "name" not in r else r
            for r in value
        ]
    return value


class Dimensions(Answer):
    regions: Annotated[list[Region], BeforeValidator(_regions)] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)
    directions: list[str] = Field(default_factory=list)
    months: list[str] = Field(default_factory=list)


def invalid(wrong: list[str]) -> set[str]:
    """The filters the locale keys of `wrong` are about (a form marks them)."""
    about = {"stats.wrong.period": ("from", "to"), "stats.wrong.district_region": ("district",)}
    return {name for key in wrong for name in about.get(key, (key.rsplit(".", 1)[-1],))}


def checked(query: Mapping[str, str], geography: Geography) -> tuple[dict[str, str], list[str]]:
    """The filters worth sending (names as the statistics API takes them), and the locale keys of
    what is wrong with the others; the filters are sent only when nothing is wrong."""
    filters = {name: query.get(name, "").strip() for name in FILTERS if query.get(name, "").strip()}
    wrong = []
    for name in ("from", "to"):
        if name in filters and not MONTH.match(filters[name]):
            wrong.append(f"stats.wrong.{name}")
    if {"from", "to"} <= filters.keys() and not wrong and filters["from"] > filters["to"]:
        wrong.append("stats.wrong.period")
    if "region" in filters:
        try:
            filters["region"] = geography.region(filters["region"])
        except UnknownUnit:
            wrong.append("stats.wrong.region")
    if "district" in filters:
        if not geography.is_known(filters["district"]):
            wrong.append("stats.wrong.district")
        else:
            filters["district"] = geography.canonical(filters["district"])
            region = filters.get("region")
            if region and geography.region_of(filters["district"]) != region:
                wrong.append("stats.wrong.district_region")
    if "group" in filters and filters["group"] not in set(TargetGroup):
        wrong.append("stats.wrong.group")
    if "direction" in filters and filters["direction"] not in set(ProvisionType):
        wrong.append("stats.wrong.direction")
    return filters, wrong
