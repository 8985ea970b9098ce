"""`python -m benchmarks.transaction_costs`: what a transaction costs the client, by layer.

Every consumer batch and every outbox relay pass is a transaction; at low rates a batch holds a
record or two, so what the services spend is mostly these fixed costs. This runs the same small
transactions against the platform's PostgreSQL (a fresh database, dropped afterwards) through
each layer the services could use, and prints the client CPU of one transaction and of each
further statement: asyncpg alone, SQLAlchemy Core over asyncpg, SQLModel's AsyncSession (as the
services use it). Then an outbox relay pass over two rows (advisory lock, read, delete; nothing
sent), `OutboxRelay.relay_once`, which runs on the pool's asyncpg connection. Minimum and median
of --rounds rounds.
"""

import argparse
import asyncio
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import asyncpg
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

from benchmarks.bench.__main__ import DEFAULT_DATABASE
from benchmarks.bench.infra import databases
from socialsvc_common.db import libpq_url, make_engine, run, session_factory, transaction
from socialsvc_common.migrations import schemas, upgrade
from socialsvc_common.outbox import OUTBOX, OutboxRelay

Step = Callable[[], Awaitable[object]]


class Nowhere:
    """A producer that takes the records and sends nothing: the pass's own cost only."""

    async def deliver(self, records: Sequence[object], **_: object) -> None:
        return None


async def cpu_ms(step: Step, times: int, before: Step | None = None) -> float:
    """Client CPU milliseconds of one `step`, over `times` of them (`before` not counted)."""
    spent = 0.0
    for _ in range(times):
        if before is not None:
            await before()
        started = time.process_time()
        await step()
        spent += time.process_time() - started
    return spent / times * 1000


def layers(engine: AsyncEngine, driver: Any) -> dict[str, Callable[[int], Step]]:
    """Per layer, a transaction of n trivial statements."""
    sessions = session_factory(engine)

    def on_asyncpg(n: int) -> Step:
        async def step() -> None:
            async with driver.transaction():
                for _ in range(n):
                    await driver.fetch("SELECT 1")

        return step

    def on_core(n: int) -> Step:
        async def step() -> None:
            async with engine.begin() as connection:
                for _ in range(n):
                    await connection.execute(text("SELECT 1"))

        return step

    def on_session(n: int) -> Step:
        async def step() -> None:
            async with transaction(sessions) as session:
                for _ in range(n):
                    await run(session, text("SELECT 1"))

        return step

    return {
        "asyncpg alone": on_asyncpg,
        "SQLAlchemy Core over asyncpg": on_core,
        "SQLModel AsyncSession": on_session,
    }


async def measure(url: str, transactions: int, rounds: int) -> list[str]:
    engine = make_engine(url)
    await upgrade(engine, schemas()["eligibility"])
    driver = await asyncpg.connect(libpq_url(url))
    sessions = session_factory(engine)
    relay = OutboxRelay(sessions, Nowhere())  # type: ignore[arg-type]

    async def two_rows() -> None:
        now = datetime.now(UTC)
        rows = [
            {"event_id": uuid.uuid4(), "topic": "t", "key": b"k", "headers": "[]", "value": b"{}"}
            for _ in range(2)
        ]
        async with transaction(sessions) as session:
            await run(session, insert(OUTBOX), [{**row, "created_at": now} for row in rows])

    async def relay_pass() -> None:
        await relay.relay_once()

    lines = [f"  {'one transaction':<36} {'client CPU':>12} {'each further statement':>24}"]
    try:
        for name, made in layers(engine, driver).items():
            one, six = [], []
            for _ in range(rounds):
                one.append(await cpu_ms(made(1), transactions))
                six.append(await cpu_ms(made(6), transactions))
            further = [(b - a) / 5 for a, b in zip(one, six, strict=True)]
            lines.append(f"  {name:<36} {figure(one):>12} {figure(further):>24}")
        lines.append(f"  {'outbox relay pass, two rows':<36} {'client CPU':>12}")
        passes = [await cpu_ms(relay_pass, transactions, two_rows) for _ in range(rounds)]
        lines.append(f"  {'OutboxRelay.relay_once':<36} {figure(passes):>12}")
    finally:
        await driver.close()
        await engine.dispose()
    return lines


def figure(values: Sequence[float]) -> str:
    return f"{min(values):.2f}/{statistics.median(values):.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=300, help="per layer and round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE)
    args = parser.parse_args()
    name = f"transaction_costs_{int(time.time())}"
    with databases(args.database_url, [name]) as urls:
        lines = asyncio.run(measure(urls[name], args.transactions, args.rounds))
    print("client CPU (min/median of rounds), this machine against its PostgreSQL:")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
