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
class Nesting:
    """Count measures of a row that hold one another's people, where what one has beyond another
    is a count of people too, so it must not be small either: each of `chain` holds the next (a
    funnel), and each whole of `parts` holds its parts, which do not overlap."""

    chain: tuple[str, ...] = ()
    parts: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def hidden(self, counts: Mapping[str, Value], withheld: Sequence[str], k: int) -> list[str]:
        """The measures to withhold besides `withheld`, so that no difference shown is below k:
        a step of the chain whose difference from the last shown step before it is, and the
        smallest part of a whole whose parts, all shown, leave such a remainder."""
        hide: list[str] = []

        def count(name: str) -> int:
            return int(counts[name] or 0)

        last: int | None = None
        for name in self.chain:
            if name in withheld:
                continue
            if last is not None and 0 < last - count(name) < k:
                hide.append(name)
                continue
            last = count(name)
        for whole, parts in self.parts:
            if whole in withheld or whole in hide or any(p in withheld or p in hide for p in parts):
                continue  # a part not shown: the remainder cannot be worked out
            if 0 < count(whole) - sum(count(part) for part in parts) < k:
                nonzero = [part for part in parts if count(part)]
                if nonzero:
                    hide.append(min(nonzero, key=lambda part: (count(part), part)))
        return hide


@dataclass(frozen=True)
class Section:
    """A section as counted, before disclosure control."""

    id: str
    dimensions: tuple[str, ...]
    measures: tuple[Measure, ...]
    rows: list[Row]
    # The totals of the count measures, where a total is meaningful.
    total: dict[str, int] | None = None
    nesting: Nesting | None = None


def disclose(section: Section, policy: DisclosurePolicy) -> dict[str, Any]:
    """The section as it may leave the service: withheld values None, named in `suppressed`."""
    values = [dict(row.values) for row in section.rows]
    withheld: list[list[str]] = [[] for _ in section.rows]
    for measure in section.measures:
        for index in _withheld(section, measure, values, withheld, policy):
            values[index][measure.name] = None
            withheld[index].append(measure.name)
    if section.nesting is not None:
        _protect_nesting(section, section.nesting, values, withheld, policy)
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
        answer["total"] = _total(section.total, policy, section.nesting)
    return answer


def _protect_nesting(
    section: Section,
    nesting: Nesting,
    values: list[dict[str, Value]],
    withheld: list[list[str]],
    policy: DisclosurePolicy,
) -> None:
    """Withholds, row by row, what would let a small difference be worked out; and, where the
    section shows a total, a second cell of a column where that left the only one withheld (as
    `suppress` does). Again until nothing changes: each round only withholds more."""
    changed = True
    while changed:
        changed = False
        for index, row in enumerate(section.rows):
            for name in nesting.hidden(row.values, withheld[index], policy.min_cell):
                values[index][name] = None
                withheld[index].append(name)
                changed = True
        if section.total is None:
            continue
        for measure in section.measures:
            if measure.kind is not Kind.COUNT:
                continue
            hidden = [i for i in range(len(section.rows)) if measure.name in withheld[i]]
            others = [
                i
                for i, row in enumerate(section.rows)
                if i not in hidden and row.values[measure.name]
            ]
            if len(hidden) == 1 and others:
                other = min(
                    others, key=lambda i: (int(section.rows[i].values[measure.name] or 0), i)
                )
                values[other][measure.name] = None
                withheld[other].append(measure.name)
                changed = True


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


def _total(
    total: Mapping[str, int], policy: DisclosurePolicy, nesting: Nesting | None = None
) -> dict[str, Any]:
    small = [name for name, count in total.items() if 0 < count < policy.min_cell]
    if nesting is not None:
        small += nesting.hidden(total, small, policy.min_cell)
    return {
        "values": {name: None if name in small else count for name, count in total.items()},
        "suppressed": small,
    }
