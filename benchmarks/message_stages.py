"""`python -m benchmarks.message_stages DATABASE`: where each delivered message's time went.

Reads a notifications database a bench run kept (`make bench BENCH_ARGS="... --keep-databases"`;
the run prints its databases' names, e.g. `bench_ad909bed_notifications`) and splits each
delivered message's path by the times the service itself recorded: from its event's time to
the consumer's inbox claim (the hop over Kafka), from the claim to the dispatcher batch that
sent it (`sent_at`), and from that batch to the delivery (`delivered_at`: the gateway's answer,
or its receipt). Seconds at p50, p90 and p99, over all messages and by kind.
"""

import argparse
from collections.abc import Sequence

import psycopg

from benchmarks.bench.__main__ import DEFAULT_DATABASE
from benchmarks.bench.stats import percentile
from socialsvc_common.db import database_named, libpq_url

STAGES = ("event -> consumed", "consumed -> sent", "sent -> delivered")
QUERY = """
SELECT n.kind,
       extract(epoch FROM i.processed_at - n.occurred_at),
       extract(epoch FROM n.sent_at - i.processed_at),
       extract(epoch FROM n.delivered_at - n.sent_at)
FROM notifications n JOIN inbox i ON i.event_id = n.event_id
WHERE n.delivered_at IS NOT NULL
"""


def stage_rows(url: str) -> list[tuple[str, float, float, float]]:
    """Each delivered message's kind and its three stages in seconds, from the database at `url`
    (a libpq URL)."""
    with psycopg.connect(url) as connection:
        found = connection.execute(QUERY).fetchall()
    return [(kind, *(float(seconds) for seconds in stages)) for kind, *stages in found]


def line(label: str, values: Sequence[float]) -> str:
    figures = "  ".join(f"{percentile(values, f):6.3f}" for f in (0.5, 0.9, 0.99))
    return f"  {label:<22} {len(values):6d}  {figures}"


def report(rows: Sequence[tuple[str, float, float, float]]) -> list[str]:
    """The table: each stage over all messages, then each stage by kind of message."""
    lines = [f"  {'stage':<22} {'count':>6}  {'p50':>6}  {'p90':>6}  {'p99':>6}"]
    for index, stage in enumerate(STAGES, start=1):
        lines.append(line(stage, [float(row[index]) for row in rows]))
    for kind in sorted({row[0] for row in rows}):
        lines.append(f"  {kind}")
        mine = [row for row in rows if row[0] == kind]
        for index, stage in enumerate(STAGES, start=1):
            lines.append(line(f"  {stage}", [float(row[index]) for row in mine]))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database", help="the kept notifications database's name")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE, help="any database there")
    args = parser.parse_args()
    try:
        rows = stage_rows(libpq_url(database_named(args.database_url, args.database)))
    except psycopg.errors.UndefinedTable:
        raise SystemExit(f"{args.database} is not a notifications database") from None
    if not rows:
        raise SystemExit(f"no delivered message in {args.database}")
    print("\n".join(report(rows)))


if __name__ == "__main__":
    main()
