"""Benchmark of the policy simulation: 100,000 stored applications replayed against a candidate.

    .venv/bin/python benchmarks/simulation.py [--rows N]

Synthesises applications of mixed groups, decides them by the shipped rule set 2026.1 and bulk
inserts the rows eligibility would store into an SQLite file under a temporary folder. Then it
runs the command's own path (read in batches, simulate, render) against 2026.1 with the income
criterion raised from 300 to 350 AZN, and once more as a process, and prints the figures.
Not a test: nothing is asserted.
"""

import argparse
import asyncio
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

from sqlalchemy import insert

from eligibility.rules import decide
from eligibility.ruleset import POLICY_DIR, RuleSet, load_rule_set
from eligibility.schema import SCHEMA
from eligibility.simulate_cli import collect_less_often, read_stored, render_json, render_table
from eligibility.simulation import Simulation, SimulationReport
from eligibility.store import DecisionRow
from socialsvc_common.contract.payloads import (
    Applicant,
    ApplicationReceived,
    Circumstances,
    DailyActivity,
    DecisionMade,
    ServiceRequested,
)
from socialsvc_common.db import make_engine
from socialsvc_common.migrations import upgrade

DISTRICTS = ["Yasamal", "Nəsimi", "Xətai", "Səbail", "Binəqədi", "Quba", "Gəncə", "Şəki"]
FIRST_DAY = date(2026, 1, 1)
INSERT_CHUNK = 5000


def synthetic_application(rng: random.Random, number: int) -> ApplicationReceived:
    kind = rng.random()
    age = rng.randint(65, 95) if kind < 0.3 else rng.randint(3, 17) if kind < 0.4 else None
    age = age or rng.randint(18, 64)
    household = rng.randint(1, 6)
    circumstances = Circumstances(
        lives_alone=household == 1,
        household_size=household,
        monthly_household_income_azn=None
        if rng.random() < 0.15
        else Decimal(rng.randint(100, 900) * household),
        disability_group=rng.choice([1, 2, 3]) if rng.random() < 0.15 else None,
        child_with_disability=age < 18 and rng.random() < 0.4,
        trafficking_victim=rng.random() < 0.03,
        domestic_violence_victim=rng.random() < 0.05,
        released_from_prison=age >= 18 and rng.random() < 0.03,
        children_institution_graduate=18 <= age <= 23 and rng.random() < 0.3,
        activities_needing_help=rng.sample(list(DailyActivity), rng.randint(0, 6)),
    )
    return ApplicationReceived(
        application_id=UUID(int=number + 1),
        submitted_at=datetime(2026, 1, 1, tzinfo=UTC),
        channel="web",
        service_requested=rng.choice(list(ServiceRequested)),
        applicant=Applicant(
            fin="0000000",
            first_name="-",
            last_name="-",
            birth_date=date(2026 - age, rng.randint(1, 12), rng.randint(1, 28)),
            mobile_phone="+994000000000",
            district=rng.choice(DISTRICTS),
        ),
        circumstances=circumstances,
    )


def stored_row(application: ApplicationReceived, rule_set: RuleSet, day: date) -> dict[str, Any]:
    """The row eligibility's handler writes for a decision."""
    decided_at = datetime(day.year, day.month, day.day, 9, tzinfo=UTC)
    made = DecisionMade(
        application_id=application.application_id,
        decided_at=decided_at,
        district=application.applicant.district,
        **decide(application, rule_set, day).model_dump(),
    )
    facts = application.model_dump(mode="json", include={"service_requested", "circumstances"})
    return {
        "application_id": application.application_id,
        "event_id": application.application_id,
        "outcome": made.outcome.value,
        "rule_set_version": made.rule_set_version,
        "district": made.district,
        "decided_on": day,
        "decided_at": decided_at,
        "facts": facts | {"birth_date": application.applicant.birth_date.isoformat()},
        "decision": made.model_dump(mode="json"),
    }


async def synthesise(url: str, rows: int, rule_set: RuleSet) -> None:
    rng = random.Random(2026)  # noqa: S311 - reproducible test data, not secrets
    engine = make_engine(url)
    await upgrade(engine, SCHEMA)
    table = DecisionRow.__table__  # type: ignore[attr-defined]
    for start in range(0, rows, INSERT_CHUNK):
        chunk = []
        for number in range(start, min(start + INSERT_CHUNK, rows)):
            day = FIRST_DAY + timedelta(days=rng.randint(0, 89))
            chunk.append(stored_row(synthetic_application(rng, number), rule_set, day))
        async with engine.begin() as connection:
            await connection.execute(insert(table), chunk)
    await engine.dispose()


def candidate_file(folder: Path) -> Path:
    text = (POLICY_DIR / "2026-1.toml").read_text(encoding="utf-8")
    path = folder / "2026-2.toml"
    path.write_text(
        text.replace('version = "2026.1"', 'version = "2026.2"').replace(
            "need_criterion_azn = 300", "need_criterion_azn = 350"
        ),
        encoding="utf-8",
    )
    return path


async def measure(url: str, candidate: RuleSet) -> tuple[SimulationReport, float, float]:
    """Seconds reading (query, JSON, rows to StoredApplication) and seconds simulating."""
    simulation = Simulation(candidate)
    reading = simulating = 0.0
    batches = read_stored(url)
    while True:
        started = time.perf_counter()
        try:
            batch = await anext(batches)
        except StopAsyncIteration:
            reading += time.perf_counter() - started
            break
        read = time.perf_counter()
        simulation.replay(batch)
        simulating += time.perf_counter() - read
        reading += read - started
    return simulation.report(), reading, simulating


def as_process(url: str, candidate: Path) -> float:
    """Wall time of the command itself, interpreter start included (no assignment listening)."""
    env = os.environ | {"ELIGIBILITY_DATABASE_URL": url}
    command = [sys.executable, "-m", "eligibility.simulate_cli", str(candidate)]
    started = time.perf_counter()
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [*command, "--assignment-url", "http://127.0.0.1:9"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"the command failed ({done.returncode}):\n{done.stderr}")
    return time.perf_counter() - started


def run(rows: int) -> None:
    rule_set = load_rule_set(POLICY_DIR / "2026-1.toml")
    with tempfile.TemporaryDirectory(prefix="simulation-bench-") as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'eligibility.db'}"
        started = time.perf_counter()
        asyncio.run(synthesise(url, rows, rule_set))
        print(f"synthesised {rows} decided applications in {time.perf_counter() - started:.1f} s")
        candidate_path = candidate_file(Path(folder))
        collect_less_often()  # as the command does
        started = time.perf_counter()
        report, reading, simulating = asyncio.run(measure(url, load_rule_set(candidate_path)))
        rendered = time.perf_counter()
        table, json_text = render_table(report), render_json(report)
        total = time.perf_counter() - started
        process = as_process(url, candidate_path)
    print(f"cpus: {os.cpu_count()}  python: {sys.version.split()[0]}")
    print(f"rows:        {report.applications}")
    print(f"movers:      {len(report.movers)}")
    print(f"reading:     {reading:.2f} s")
    print(f"simulating:  {simulating:.2f} s")
    sizes = f"table {len(table):,} B, JSON {len(json_text):,} B"
    print(f"rendering:   {total - (rendered - started):.2f} s ({sizes})")
    print(f"total:       {total:.2f} s")
    print(f"throughput:  {report.applications / total:,.0f} applications/s")
    print(f"as process:  {process:.2f} s (python -m eligibility.simulate_cli, table output)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    run(parser.parse_args().rows)
