"""Revision 0006 of assignment on a database of the last release (PostgreSQL and SQLite): each
placement gets the district a worker's scope is matched against where assignment can know it
(the decision its waitlist entry kept, else a home-care team's own district), and the people
waiting count as waitlisted when they were decided."""

import json
import sqlite3
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text

from socialsvc_common.db import libpq_url, make_engine
from socialsvc_common.migrations import schemas, upgrade
from tests.integration.test_migrations import load_release

pytestmark = pytest.mark.integration
# The release's demo placements are offers of two home-care teams and two NGO projects; the
# person the first project took is made one who waited first and took the place from the list.
WAITED_FOR = "ngo-cenub-aile-celilabad"
PLACED_AT_ONCE = "ngo-inam-zaqatala"
APPLICATION_OF = (
    "SELECT application_id FROM placements WHERE provider_id = 'ngo-cenub-aile-celilabad'"
)
WAITED = (
    "INSERT INTO waitlist (application_id, provision_type, priority_score, decided_at, waiting,"
    " decision) VALUES ({id}, 'ngo_project', 10, '2026-12-06 06:00:00+00', {no}, {decision})"
)


def add_waited(url: str) -> None:
    if url.startswith("sqlite"):
        with sqlite3.connect(url.split(":///", 1)[1]) as connection:
            [application] = connection.execute(APPLICATION_OF).fetchone()
            decision = json.dumps({"application_id": application, "district": "Cəlilabad"})
            connection.execute(WAITED.format(id="?", no="0", decision="?"), (application, decision))
        return
    with psycopg.connect(libpq_url(url), autocommit=True) as connection:
        row = connection.execute(APPLICATION_OF.encode()).fetchone()
        assert row is not None
        decision = json.dumps({"application_id": str(row[0]), "district": "Cəlilabad"})
        connection.execute(
            WAITED.format(id="%s", no="false", decision="%s").encode(), (row[0], decision)
        )


@pytest.fixture(params=["postgresql", "sqlite"])
def release_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        url: str = request.getfixturevalue("fresh_postgres")
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'assignment.db'}"
    load_release(url, "assignment")
    add_waited(url)
    return url


async def test_placements_get_the_district_assignment_can_know(release_database: str) -> None:
    engine = make_engine(release_database)
    try:
        await upgrade(engine, schemas()["assignment"])
        async with engine.connect() as connection:
            query = text("SELECT provider_id, district FROM placements")
            rows = (await connection.execute(query)).all()
            waiting = (
                await connection.execute(text("SELECT decided_at, waitlisted_at FROM waitlist"))
            ).all()
    finally:
        await engine.dispose()
    assert {row.provider_id: row.district for row in rows} == {
        "hc-xetai": "Xətai",
        "hc-gence": "Gəncə",
        WAITED_FOR: "Cəlilabad",
        PLACED_AT_ONCE: None,
    }
    assert waiting
    assert all(str(row.waitlisted_at) == str(row.decided_at) for row in waiting)
