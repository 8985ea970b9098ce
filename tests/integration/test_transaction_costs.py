"""benchmarks.transaction_costs on real PostgreSQL: every layer and the relay's pass get a figure.
What the relay's pass does on each driver is tested in test_relay_paths."""

import re

import pytest

from benchmarks.transaction_costs import measure

pytestmark = pytest.mark.integration
FIGURE = re.compile(r"(\d+\.\d\d)/(\d+\.\d\d) ms")


async def test_each_layer_and_the_relay_pass_get_a_figure(fresh_postgres: str) -> None:
    lines = await measure(fresh_postgres, transactions=5, rounds=1)

    measured = {line.split("  ")[1].strip(): FIGURE.findall(line) for line in lines[1:]}
    for name in (
        "asyncpg alone",
        "SQLAlchemy Core over asyncpg",
        "SQLModel AsyncSession",
        "OutboxRelay.relay_once",
    ):
        assert measured[name], name
        assert all(float(low) > 0 for low, _ in measured[name]), name
