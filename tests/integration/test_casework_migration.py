"""Revision 0008 of intake on the last release's database, PostgreSQL and SQLite: every
application gets its applicant's name, the name's folded form and the district from its form;
target groups wait for the next decision; nobody is assigned."""

import json
from collections.abc import Callable

from sqlalchemy import text

from intake.cases import fold
from socialsvc_common.db import make_engine
from socialsvc_common.migrations import schemas, upgrade
from tests.integration.test_migrations import empty_database, load_release

__all__ = ["empty_database"]  # the fixture, shared with the release's other migration tests


async def test_the_release_applications_are_found_by_name_and_district_after_the_upgrade(
    empty_database: Callable[[str], str],
) -> None:
    url = empty_database("intake")
    load_release(url, "intake")
    engine = make_engine(url)
    try:
        await upgrade(engine, schemas()["intake"])
        async with engine.connect() as connection:
            query = text(
                "SELECT form, applicant_name, name_key, district, target_groups, assigned_to"
                " FROM applications"
            )
            rows = (await connection.execute(query)).all()
    finally:
        await engine.dispose()
    assert len(rows) > 3
    for row in rows:
        applicant = json.loads(row.form)["applicant"]
        name = f"{applicant['first_name']} {applicant['last_name']}"
        assert (row.applicant_name, row.name_key) == (name, fold(name))
        assert row.district == applicant["district"]
        assert (row.target_groups, row.assigned_to) == (",", None)
    names = {row.applicant_name: row.name_key for row in rows}
    # Every i of the demo's surname folds alike, so "ismayil" finds her however it is typed.
    assert names["Gülnarə İsmayılova"] == "gülnarə ismayilova"
