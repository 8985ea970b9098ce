"""The pieces of SQL every section shares, written once for PostgreSQL and SQLite.

People are applications (their pseudonymous ref). The filters on the person (region, district,
group) and the exclusion of applications whose statistics consent was withdrawn are conditions on
a ref column, so a section adds them to its own query whatever table it counts from.
"""

from typing import Any

from sqlalchemy import (
    ColumnElement,
    Executable,
    Integer,
    Select,
    and_,
    case,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel.ext.asyncio.session import AsyncSession

from ministry_statistics.filters import Filters
from ministry_statistics.tables import APPLICATIONS, GROUPS, PLACEMENTS, WITHDRAWALS
from socialsvc_common.db import run

ANY_SERVICE = "any"


class whole_days(FunctionElement[int]):
    """Whole days elapsed from the first moment to the second (truncated)."""

    type = Integer()
    inherit_cache = True
    name = "whole_days"


@compiles(whole_days)
def _whole_days_sqlite(element: whole_days, compiler: SQLCompiler, **kw: Any) -> str:
    since, until = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"CAST(julianday({until}) - julianday({since}) AS INTEGER)"


@compiles(whole_days, "postgresql")
def _whole_days_postgresql(element: whole_days, compiler: SQLCompiler, **kw: Any) -> str:
    since, until = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"CAST(trunc(extract(epoch FROM ({until} - {since})) / 86400) AS INTEGER)"


def withdrawn() -> Select[Any]:
    """The applications whose statistics consent was withdrawn: in no figure."""
    return select(WITHDRAWALS.c.ref).where(WITHDRAWALS.c.for_statistics.is_(True))


def counted(ref: Any, filters: Filters) -> list[ColumnElement[bool]]:
    """The conditions on a ref for an application to count under the person filters."""
    conditions: list[ColumnElement[bool]] = [ref.not_in(withdrawn())]
    if filters.region or filters.district:
        place = select(APPLICATIONS.c.ref)
        if filters.region:
            place = place.where(APPLICATIONS.c.region == filters.region)
        if filters.district:
            place = place.where(APPLICATIONS.c.district == filters.district)
        conditions.append(ref.in_(place))
    if filters.group:
        conditions.append(
            ref.in_(select(GROUPS.c.ref).where(GROUPS.c.target_group == filters.group.value))
        )
    return conditions


def requested(ref: Any, filters: Filters) -> list[ColumnElement[bool]]:
    """`counted`, and for a direction: the application asked for it (or for any service)."""
    conditions = counted(ref, filters)
    if filters.direction:
        wanted = [filters.direction.value, ANY_SERVICE]
        asked = select(APPLICATIONS.c.ref).where(APPLICATIONS.c.service_requested.in_(wanted))
        conditions.append(ref.in_(asked))
    return conditions


def in_service(filters: Filters, since: Any, until: Any) -> list[ColumnElement[bool]]:
    """Placements in service at some time between `since` and `until` (started before the end,
    not released before the start), for people counted under the filters."""
    p = PLACEMENTS.c
    conditions = [
        p.started_at.is_not(None),
        p.started_at < until,
        or_(p.released_at.is_(None), p.released_at >= since),
        *counted(p.ref, filters),
    ]
    if filters.direction:
        conditions.append(p.provision_type == filters.direction.value)
    return conditions


def served(filters: Filters) -> list[ColumnElement[bool]]:
    return in_service(filters, filters.start, filters.end)


def within(at: Any, filters: Filters) -> ColumnElement[bool]:
    return and_(at >= filters.start, at < filters.end)


def ones(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """How many rows meet the condition (0 of none), beside other counts of one query."""
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def percentiles(source: Select[Any]) -> Select[Any]:
    """Per `key` of the source's (key, days) rows: how many, the median and the 90th percentile of
    `days` (nearest rank: the value at rank ceil(share * n)), in one query."""
    base = source.subquery()
    ranked = select(
        base.c.key,
        base.c.days,
        func.row_number().over(partition_by=base.c.key, order_by=base.c.days).label("rank"),
        func.count(literal(1)).over(partition_by=base.c.key).label("n"),
    ).subquery()
    return select(
        ranked.c.key,
        func.max(ranked.c.n),
        func.min(case((ranked.c.rank * 2 >= ranked.c.n, ranked.c.days))),
        func.min(case((ranked.c.rank * 10 >= ranked.c.n * 9, ranked.c.days))),
    ).group_by(ranked.c.key)


async def rows_of(session: AsyncSession, query: Executable) -> list[tuple[Any, ...]]:
    """The rows a query finds, as plain tuples."""
    return [tuple(row) for row in (await run(session, query)).all()]


async def counts_of(session: AsyncSession, query: Executable) -> dict[Any, int]:
    """A (key, count) query's answer by key."""
    return {key: int(count) for key, count in await rows_of(session, query)}


async def count_of(session: AsyncSession, query: Executable) -> int:
    """A count query's single number."""
    return int((await run(session, query)).scalar_one())
