"""The policy command validates, activates and lists rule-set versions in eligibility's database.

It runs as administrators run it, as a process, against an SQLite file of the test's own.
"""

import asyncio
import getpass
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from eligibility.policy_store import (
    ActivationRefused,
    RuleSetRow,
    RuleSets,
    activate,
    rule_sets_in_force,
)
from eligibility.ruleset import POLICY_DIR, default_rule_sets, load_rule_set, rule_set_for
from socialsvc_common.apikeys import Role
from socialsvc_common.contract.actor import Actor
from socialsvc_common.db import make_engine, session_factory, transaction
from tests.harness import migrate

pytestmark = pytest.mark.integration

TEXT = (POLICY_DIR / "2026-1.toml").read_text(encoding="utf-8")
START = 'version = "2026.1"\neffective_from = 2026-01-01'
ADMINISTRATOR = Actor(role=Role.ADMINISTRATOR, name="policy-admin")


def rule_file(tmp_path: Path, name: str, head: str, extra: tuple[str, str] = ("", "")) -> Path:
    path = tmp_path / name
    path.write_text(TEXT.replace(START, head, 1).replace(*extra, 1), encoding="utf-8")
    return path


def policy(tmp_path: Path, *args: str, url: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ELIGIBILITY_DATABASE_URL": url or database_url(tmp_path)}
    return subprocess.run(
        [sys.executable, "-m", "eligibility.policy_cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )


def database_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'e.db'}"


@pytest.fixture(autouse=True)
def migrated(tmp_path: Path) -> None:
    """The database at eligibility's head, as make run leaves it before the command runs."""
    asyncio.run(migrate("eligibility", database_url(tmp_path)))


async def test_validate_activate_and_list(tmp_path: Path) -> None:
    bad = rule_file(
        tmp_path,
        "bad.toml",
        'version = "2026.2"\neffective_from = 2026-07-01',
        ("weights.shopping = 1", "weights.shopping = 1\nweights.swimming = 2"),
    )
    refused = policy(tmp_path, "validate", str(bad))
    assert refused.returncode == 1
    swimming = bad.read_text().splitlines().index("weights.swimming = 2") + 1
    assert f"{bad}:{swimming}: dependency.weights.swimming: unknown field" in refused.stderr

    good = rule_file(tmp_path, "good.toml", 'version = "2026.2"\neffective_from = 2026-07-01')
    valid = policy(tmp_path, "validate", str(good))
    assert (valid.returncode, valid.stdout) == (
        0,
        f"{good}: valid, version 2026.2, in force from 2026-07-01\n",
    )

    activated = policy(tmp_path, "activate", str(good))
    assert activated.returncode == 0, activated.stderr
    user = f"administrator:{getpass.getuser()}"
    assert f"activated version 2026.2, in force from 2026-07-01, by {user}" in activated.stdout

    listed = policy(tmp_path, "list")
    assert listed.returncode == 0, listed.stderr
    header, packaged, added = listed.stdout.splitlines()
    assert header.startswith("version  effective from  effective to  source")
    assert header.split()[-1] == "by"
    assert packaged.split() == ["2026.1", "2026-01-01", "-", "packaged", "-", "-"]
    assert added.split()[:4] == ["2026.2", "2026-07-01", "-", "activated"]
    assert added.split()[-1] == user

    engine = make_engine(database_url(tmp_path))
    try:
        async with session_factory(engine)() as session:
            in_force = await rule_sets_in_force(session)
    finally:
        await engine.dispose()
    assert rule_set_for(in_force, date(2026, 6, 30)).version == "2026.1"
    assert rule_set_for(in_force, date(2026, 7, 1)).version == "2026.2"


def test_activation_refuses_a_clash_and_stores_nothing(tmp_path: Path) -> None:
    same_day = rule_file(
        tmp_path, "same-day.toml", 'version = "2026.3"\neffective_from = 2026-01-01'
    )
    refused = policy(tmp_path, "activate", str(same_day))
    assert refused.returncode == 1
    line = same_day.read_text().splitlines().index("effective_from = 2026-01-01") + 1
    reason = "effective_from: 2026.1 already takes effect on 2026-01-01"
    assert f"{same_day}:{line}: {reason}" in refused.stderr
    listed = policy(tmp_path, "list")
    assert [line.split()[0] for line in listed.stdout.splitlines()[1:]] == ["2026.1"]


async def test_the_service_picks_up_an_activation_without_restart(tmp_path: Path) -> None:
    engine = make_engine(database_url(tmp_path))
    sessions = session_factory(engine)
    now = [0.0]
    cache = RuleSets(default_rule_sets(), interval=5.0, clock=lambda: now[0])
    second = rule_file(tmp_path, "second.toml", 'version = "2026.2"\neffective_from = 2026-07-01')
    try:
        async with transaction(sessions) as session:
            assert [r.version for r in await cache.current(session)] == ["2026.1"]
            rule_set, document = load_rule_set(second), second.read_text()
            await activate(session, rule_set, document, ADMINISTRATOR, datetime.now(UTC))
        async with sessions() as session:
            now[0] = 4.9  # checked recently: the cached list stands
            assert [r.version for r in await cache.current(session)] == ["2026.1"]
            now[0] = 5.0
            assert [r.version for r in await cache.current(session)] == ["2026.1", "2026.2"]
    finally:
        await engine.dispose()


async def test_a_version_is_never_stored_twice_with_different_content(tmp_path: Path) -> None:
    engine = make_engine(database_url(tmp_path))
    sessions = session_factory(engine)
    head = 'version = "2026.2"\neffective_from = 2026-07-01'
    first = rule_file(tmp_path, "first.toml", head)
    changed = rule_file(
        tmp_path, "changed.toml", head, ("need_criterion_azn = 300", "need_criterion_azn = 320")
    )
    later = datetime.now(UTC) + timedelta(seconds=1)
    try:
        async with transaction(sessions) as session:
            assert await activate(session, load_rule_set(first), first.read_text(), ADMINISTRATOR)
            # Comments and layout may differ: the content is what must be the same.
            reworded = first.read_text().replace("# Policy is data", "# Rules are data")
            again = Actor(role=Role.ADMINISTRATOR, name="someone-else")
            assert not await activate(session, load_rule_set(first), reworded, again, later)
            stored = await session.get(RuleSetRow, "2026.2")
            assert stored is not None
            assert stored.activated_by == str(ADMINISTRATOR)  # the first activation's
            with pytest.raises(
                ActivationRefused, match=r"2026\.2 is already active with different content"
            ):
                await activate(session, load_rule_set(changed), changed.read_text(), ADMINISTRATOR)
    finally:
        await engine.dispose()


async def test_an_activation_on_postgresql_records_the_administrator(
    tmp_path: Path, fresh_postgres: str
) -> None:
    url = await migrate("eligibility", fresh_postgres)
    good = rule_file(tmp_path, "good.toml", 'version = "2026.2"\neffective_from = 2026-07-01')
    named = policy(tmp_path, "activate", str(good), "--actor", "leyla.admin", url=url)
    assert named.returncode == 0, named.stderr
    assert named.stdout.startswith(
        "activated version 2026.2, in force from 2026-07-01, by administrator:leyla.admin\n"
    )
    refused = policy(tmp_path, "activate", str(good), "--actor", "Leyla Aliyeva", url=url)
    assert refused.returncode == 2
    assert "a name is 1-64 letters" in refused.stderr

    engine = make_engine(url)
    try:
        async with session_factory(engine)() as session:
            row = await session.get(RuleSetRow, "2026.2")
    finally:
        await engine.dispose()
    assert row is not None
    assert Actor.stored(row.activated_by) == Actor(role=Role.ADMINISTRATOR, name="leyla.admin")
