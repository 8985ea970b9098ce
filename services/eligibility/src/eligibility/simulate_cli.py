"""Replay eligibility's stored applications against a candidate rule set, and say what would change.

    python -m eligibility.simulate_cli CANDIDATE.toml [--json] [--assignment-url URL] [--limit N]

It only reads: SELECTs on eligibility's table (in READ ONLY transactions on PostgreSQL), the free
places from assignment's HTTP API; it publishes nothing. The candidate decides every stored
application, whatever its effective dates: the question is what it would have decided.
Reading the free places needs an operator's API key of assignment, from SOCIALSVC_API_KEY.
Exit status: 0 done, 1 the database cannot be read, 2 the candidate rule file is refused.
"""

import argparse
import asyncio
import dataclasses
import gc
import json
import os
import sys
from collections import Counter
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
from pydantic import BaseModel, TypeAdapter, ValidationError
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from eligibility.app import EligibilitySettings
from eligibility.ruleset import RuleSet, RuleSetError, load_rule_set
from eligibility.simulation import (
    RuleVerdict,
    Shift,
    Simulation,
    SimulationReport,
    StoredApplication,
    stored_application,
)
from eligibility.store import DecisionRow, latest_only
from socialsvc_common.contract.payloads import Outcome, ProvisionType
from socialsvc_common.db import make_engine, normalise_url, session_factory

BATCH_SIZE = 2000
MOVERS_SHOWN = 20
ASSIGNMENT_URL = "http://127.0.0.1:8002"
# Named as the parameters of `stored_application`.
COLUMNS = (
    col(DecisionRow.application_id),
    col(DecisionRow.district),
    col(DecisionRow.decided_on),
    col(DecisionRow.facts),
    col(DecisionRow.decision),
)


class DatabaseMissing(Exception):
    """The eligibility database named by the settings does not exist: nothing to read."""


class LedgerEntry(BaseModel):
    provision_type: ProvisionType
    capacity: int
    used: int


LEDGER = TypeAdapter(list[LedgerEntry])


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    try:
        candidate = load_rule_set(args.candidate)
    except RuleSetError as error:
        print(f"candidate rule set refused: {error}", file=sys.stderr)
        return 2
    free_places = fetch_free_places(args.assignment_url)
    collect_less_often()
    database = EligibilitySettings().database
    try:
        report = asyncio.run(simulate_stored(database, candidate, free_places, args.limit))
    except (DatabaseMissing, SQLAlchemyError) as error:
        print(f"cannot read the eligibility database: {error}", file=sys.stderr)
        return 1
    print(render_json(report) if args.json else render_table(report))
    return 0


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m eligibility.simulate_cli",
        description="Replay stored applications against a candidate rule set; changes nothing.",
    )
    parser.add_argument("candidate", type=Path, help="the candidate rule file (TOML)")
    parser.add_argument("--json", action="store_true", help="JSON for machines, not a table")
    parser.add_argument("--assignment-url", default=ASSIGNMENT_URL, help="for free places")
    parser.add_argument("--limit", type=int, help="replay at most N applications")
    args = parser.parse_args(argv)
    if args.limit is not None and args.limit < 1:
        parser.error(f"--limit must be at least 1, got {args.limit}")
    return args


def collect_less_often() -> None:
    # Decoding the stored JSON makes millions of small containers; at the default thresholds the
    # collector rescans the whole heap, frameworks included. Measured: 20,000 rows 5.0 s -> 2.7 s.
    gc.freeze()
    gc.set_threshold(10_000, 50, 50)


def fetch_free_places(
    assignment_url: str, transport: httpx.BaseTransport | None = None
) -> dict[ProvisionType, int] | None:
    """Capacity less places in use, per direction, from GET /providers; None when unavailable."""
    url = assignment_url.rstrip("/") + "/providers"
    try:
        key = os.environ.get("SOCIALSVC_API_KEY", "")
        with httpx.Client(transport=transport, timeout=5.0) as client:
            response = client.get(url, headers={"Authorization": f"Bearer {key}"})
        response.raise_for_status()
        entries = LEDGER.validate_python(response.json())
    except (httpx.HTTPError, ValidationError, ValueError) as error:
        print(f"assignment unavailable at {url} ({error}); no capacity shown", file=sys.stderr)
        return None
    free = dict.fromkeys(ProvisionType, 0)
    for entry in entries:
        # An over-full provider (capacity cut below use) does not take places from the others.
        free[entry.provision_type] += max(0, entry.capacity - entry.used)
    return free


async def simulate_stored(
    database_url: str,
    candidate: RuleSet,
    free_places: dict[ProvisionType, int] | None,
    limit: int | None = None,
) -> SimulationReport:
    simulation = Simulation(candidate, free_places)
    async for batch in read_stored(database_url, limit):
        simulation.replay(batch)
    return simulation.report()


async def read_stored(
    database_url: str, limit: int | None = None, batch_size: int = BATCH_SIZE
) -> AsyncIterator[list[StoredApplication]]:
    """The stored applications in pages by application id, each page its own short transaction:
    SQLite transactions here take the write lock, so one long read would stall the service."""
    _refuse_missing_sqlite_file(database_url)
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    after: UUID | None = None
    left = limit
    try:
        while left is None or left > 0:
            size = batch_size if left is None else min(batch_size, left)
            batch = await _page(sessions, after, size)
            if batch:
                yield batch
            if len(batch) < size:
                return
            after = batch[-1].application_id
            left = None if left is None else left - size
    finally:
        await engine.dispose()


async def _page(
    sessions: async_sessionmaker[AsyncSession], after: UUID | None, size: int
) -> list[StoredApplication]:
    # Each application's latest decision by the rules (an appeal's overturn is a reviewer's, not
    # a rule set's); erased decisions keep no facts to replay.
    query = latest_only(select(*COLUMNS), by_rules=True).where(col(DecisionRow.erased_at).is_(None))
    query = query.order_by(COLUMNS[0]).limit(size)
    if after is not None:
        query = query.where(COLUMNS[0] > after)
    async with sessions() as session:
        connection = await session.connection()
        if connection.dialect.name != "sqlite":
            await connection.execute(text("SET TRANSACTION READ ONLY"))
        rows = (await connection.execute(query)).all()
    return [stored_application(**values._mapping) for values in rows]


def _refuse_missing_sqlite_file(database_url: str) -> None:
    # Connecting would create an empty file (and its folder): a read-only command must not.
    url = make_url(normalise_url(database_url))
    name = url.database
    if url.get_backend_name() != "sqlite" or not name or name == ":memory:":
        return
    if not Path(name).is_file():
        raise DatabaseMissing(f"no SQLite database at {name}")


def render_json(report: SimulationReport) -> str:
    return json.dumps(dataclasses.asdict(report), indent=2, ensure_ascii=False, default=str)


def render_table(report: SimulationReport) -> str:
    outcomes = list(Outcome)  # the order of every row's outcomes
    decided_by = ", ".join(f"{version}: {n}" for version, n in report.decided_by.items()) or "-"
    title = f"Candidate {report.candidate_version} replayed on {report.applications} stored "
    title += f"applications (decided by {decided_by})"
    by_outcome = [[o, s.before, s.after, _signed(s.change)] for o, s in report.by_outcome.items()]
    places = [
        [kind, p.before, p.after, _signed(p.change), _known(p.free_places), _known(p.short_by)]
        for kind, p in report.places.items()
    ]
    return "\n\n".join(
        [
            title,
            _grid(["outcome", "before", "after", "change"], by_outcome),
            _grid(["target group", *outcomes], _arrows(report.by_group)),
            _grid(["district", *outcomes], _arrows(report.by_district)),
            _grid(["places needed", "before", "after", "change", "free", "short by"], places),
            _movers(report),
        ]
    )


def _movers(report: SimulationReport) -> str:
    moves = Counter(f"{move.before} -> {move.after}" for move in report.movers)
    summary = ", ".join(f"{move}: {n}" for move, n in sorted(moves.items()))
    lines = [f"Applications that move: {len(report.movers)}" + (f" ({summary})" if moves else "")]
    for move in report.movers[:MOVERS_SHOWN]:
        why = "; ".join(
            f"{c.rule} {_said(c.before)} -> {_said(c.after)}" for c in move.changed_rules
        )
        lines.append(f"  {move.application_id}  {move.district}  {move.before} -> {move.after}")
        lines.append(f"      {why}")
    if len(report.movers) > MOVERS_SHOWN:
        lines.append(f"  ... {len(report.movers) - MOVERS_SHOWN} more (--json lists them all)")
    return "\n".join(lines)


def _grid(headers: Sequence[object], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(cell) for cell in row] for row in [headers, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "  ".join(
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        )
        for row in cells
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in lines)


def _arrows(rows: Mapping[Any, Mapping[Outcome, Shift]]) -> list[list[str]]:
    return [[key, *(f"{s.before} -> {s.after}" for s in row.values())] for key, row in rows.items()]


def _signed(change: int) -> str:
    return f"{change:+d}" if change else "0"


def _known(value: int | None) -> str:
    return "?" if value is None else str(value)


def _said(verdict: RuleVerdict | None) -> str:
    if verdict is None:
        return "absent"
    return "passed" if verdict.passed else f"failed ({verdict.reason})"


if __name__ == "__main__":
    sys.exit(main())
