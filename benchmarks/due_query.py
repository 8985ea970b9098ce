"""`python -m benchmarks.due_query`: the dispatcher's due() on a table shaped like a busy minute.

A bench run starts on fresh databases, and in its first minutes PostgreSQL has no statistics of
the notifications table while rows go pending -> sent -> delivered (each change leaves a dead
index entry behind) and offer reminders wait days as pending. This makes such a table without
ANALYZE, at a schema revision of notifications (`--revision`, head by default), and prints how
long due() takes to find a batch: the measure that found a plan taking seconds per call (issue
15's regression after the offer reminders came in).
"""

import argparse
import asyncio
import statistics
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from benchmarks.bench.__main__ import DEFAULT_DATABASE
from benchmarks.bench.infra import databases
from notifications.store import due
from socialsvc_common.db import make_engine
from socialsvc_common.migrations import schemas, upgrade

MINUTE, DAY = timedelta(minutes=1), timedelta(days=1)
KINDS = ("received", "decision_eligible", "placement_made")
MESSAGE = """
INSERT INTO notifications (id, application_id, event_id, occurred_at, hold_until,
    next_attempt_at, context, attempts, kind, status)
SELECT gen_random_uuid(), application_id, gen_random_uuid(), now() + :later,
    now(), now() + :later, '{}', 0, :kind, 'pending'
FROM (SELECT application_id FROM contacts ORDER BY application_id LIMIT :people) AS chosen
"""
ADVANCE = """
UPDATE notifications SET status = :status
WHERE kind = ANY(:kinds) AND application_id IN
    (SELECT application_id FROM contacts ORDER BY application_id LIMIT :people)
"""


async def fill(engine: AsyncEngine, people: int, waiting: int) -> None:
    """`people` citizens with three messages each: all but `waiting` citizens' sent on (two
    delivered, the offer sent), a third of them with a reminder held for days."""
    done = people - waiting
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO contacts (application_id, lives_alone, language, district, fin,"
                " mobile_phone) SELECT gen_random_uuid(), false, 'az', 'Xətai', '5ZJ8K2L',"
                " '+994501234567' FROM generate_series(1, :people)"
            ),
            {"people": people},
        )
        for kind in KINDS:
            await connection.execute(
                text(MESSAGE), {"kind": kind, "later": -MINUTE, "people": people}
            )
    for status, kinds in (("sent", KINDS), ("delivered", KINDS[:2])):
        async with engine.begin() as connection:
            await connection.execute(
                text(ADVANCE), {"status": status, "kinds": list(kinds), "people": done}
            )
    async with engine.begin() as connection:
        await connection.execute(
            text(MESSAGE), {"kind": "offer_reminder", "later": 5 * DAY, "people": done // 3}
        )


async def measure(
    url: str, revision: str, people: int, waiting: int, calls: int, *, analyze: bool
) -> list[float]:
    engine = make_engine(url)
    try:
        await upgrade(engine, schemas()["notifications"], revision)
        await fill(engine, people, waiting)
        if analyze:
            async with engine.begin() as connection:
                await connection.execute(text("ANALYZE notifications, contacts"))
        sessions = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
        seconds = []
        for _ in range(calls):
            async with sessions() as session:
                started = time.perf_counter()
                await due(session, datetime.now(UTC), 50)
                seconds.append(time.perf_counter() - started)
                await session.rollback()
        return seconds
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--revision", default="head", help="notifications' schema revision")
    parser.add_argument("--people", type=int, default=6000)
    parser.add_argument("--waiting", type=int, default=1500, help="citizens not yet messaged")
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument(
        "--analyze",
        action="store_true",
        help="with statistics, as autovacuum gives them within seconds (the steady state)",
    )
    parser.add_argument("--database-url", default=DEFAULT_DATABASE)
    args = parser.parse_args()
    name = f"due_query_{int(time.time())}"
    with databases(args.database_url, [name]) as urls:
        seconds = asyncio.run(
            measure(
                urls[name],
                args.revision,
                args.people,
                args.waiting,
                args.calls,
                analyze=args.analyze,
            )
        )
    print(
        f"due(): revision {args.revision}, {args.people} citizens ({args.waiting} waiting), "
        f"{'with' if args.analyze else 'no'} statistics: "
        f"median {statistics.median(seconds) * 1000:.1f} ms, "
        f"max {max(seconds) * 1000:.1f} ms over {args.calls} calls"
    )


if __name__ == "__main__":
    main()
