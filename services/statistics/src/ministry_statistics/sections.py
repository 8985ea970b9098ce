"""The figures' sections and their disclosure control, in pure code.

A section is a breakdown by one or more dimensions with one or more measures. What may leave the
service is decided here, per section and after filtering: each count measure through the policy's
`suppress` (with complementary suppression where the section shows a total), a median or p90
withheld when it rests on fewer than k people, a measure worked out from a withheld one withheld
with it, and plain facts about providers (capacity, contract dates) shown as they are.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from socialsvc_common.disclosure import DisclosurePolicy

Key = str | None
Value = int | float | str | None


class Kind(StrEnum):
    COUNT = "count"  # people (or their applications, messages ...): suppressed below k
    STATISTIC = "statistic"  # a median or percentile: withheld when its basis is below k
    DERIVED = "derived"  # worked out from another measure: withheld with it
    PLAIN = "plain"  # not about people: shown as it is


@dataclass(frozen=True)
class Measure:
    name: str
    kind: Kind = Kind.COUNT
    # STATISTIC: how many people it rests on (a key of the row's `bases`); DERIVED: its source.
    basis: str | None = None


@dataclass(frozen=True)
class Row:
    keys: dict[str, Key]
    values: dict[str, Value]
    bases: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Section:
    """A section as counted, before disclosure control."""

    id: str
    dimensions: tuple[str, ...]
    measures: tuple[Measure, ...]
    rows: list[Row]
    # The totals of the count measures, where a total is meaningful.
    total: dict[str, int] | None = None


def disclose(section: Section, policy: DisclosurePolicy) -> dict[str, Any]:
    """The section as it may leave the service: withheld values None, named in `suppressed`."""
    values = [dict(row.values) for row in section.rows]
    withheld: list[list[str]] = [[] for _ in section.rows]
    for measure in section.measures:
        for index in _withheld(section, measure, values, withheld, policy):
            values[index][measure.name] = None
            withheld[index].append(measure.name)
    answer: dict[str, Any] = {
        "id": section.id,
        "dimensions": list(section.dimensions),
        "measures": [measure.name for measure in section.measures],
        "rows": [
            {"keys": row.keys, "values": shown, "suppressed": names}
            for row, shown, names in zip(section.rows, values, withheld, strict=True)
        ],
    }
    if section.total is not None:
        answer["total"] = _total(section.total, policy)
    return answer


def _withheld(
    section: Section,
    measure: Measure,
    values: Sequence[Mapping[str, Value]],
    withheld: Sequence[Sequence[str]],
    policy: DisclosurePolicy,
) -> list[int]:
    rows = section.rows
    if measure.kind is Kind.COUNT:
        counts = {index: int(row.values[measure.name] or 0) for index, row in enumerate(rows)}
        shown = policy.suppress(counts, total_shown=section.total is not None)
        return [index for index, value in shown.items() if value is None and counts[index]]
    if measure.kind is Kind.STATISTIC:
        basis = measure.basis or measure.name
        return [
            index
            for index, row in enumerate(rows)
            if 0 < row.bases.get(basis, 0) < policy.min_cell
            and values[index][measure.name] is not None
        ]
    if measure.kind is Kind.DERIVED:
        return [index for index in range(len(rows)) if measure.basis in withheld[index]]
    return []


def _total(total: Mapping[str, int], policy: DisclosurePolicy) -> dict[str, Any]:
    small = [name for name, count in total.items() if 0 < count < policy.min_cell]
    return {
        "values": {name: None if name in small else count for name, count in total.items()},
        "suppressed": small,
    }
