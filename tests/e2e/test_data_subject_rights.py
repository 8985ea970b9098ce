"""Data-subject rights over the whole platform: a person's applications go through every service,
the subject access report lists what each holds, erasure on a lawful request reaches them all,
and afterwards the FIN, the name and the phone are in no table (outboxes included) of any of the
four databases nor in any log, while the counts by status and outcome are what they were."""

import asyncio
import json
import random
import string
import time
from collections import Counter
from typing import Any
from uuid import UUID

import psycopg
import pytest
from psycopg import sql

from socialsvc_common.apikeys import Role
from socialsvc_common.db import libpq_url
from socialsvc_ops.subject.report import gather, render_html

from .applicants import mixed_applications
from .conftest import Platform
from .test_journey import complete, journeys_when_complete, submit_all

pytestmark = pytest.mark.integration
# Counts over this test's applications: other runs' events reach these databases too.
STATISTICS = {
    "intake": "SELECT status, count(*) FROM applications WHERE id = ANY(%s) GROUP BY 1",
    "eligibility": "SELECT outcome, count(*) FROM decisions WHERE application_id = ANY(%s) "
    "GROUP BY 1",
    "assignment": "SELECT status || ':' || active, count(*) FROM placements "
    "WHERE application_id = ANY(%s) GROUP BY 1",
    # Messages still waiting (an offer's reminder) are cancelled by the erasure, by design: the
    # figures are of the messages that went out.
    "notifications": "SELECT kind || ':' || status, count(*) FROM notifications "
    "WHERE application_id = ANY(%s) AND status NOT IN ('pending', 'skipped') GROUP BY 1",
}


def person() -> dict[str, str]:
    rng = random.SystemRandom()
    body = "".join(rng.choices(string.ascii_uppercase + string.digits, k=5))
    return {
        "fin": rng.choice(string.digits) + body + rng.choice(string.ascii_uppercase),
        "first_name": "Sübhan" + "".join(rng.choices(string.ascii_lowercase, k=6)),
        "last_name": "Silinən" + "".join(rng.choices(string.ascii_lowercase, k=8)),
        "mobile_phone": f"+99455{rng.randint(1_000_000, 9_999_999)}",
        "language": "ru",
    }


def rows_of(url: str) -> dict[str, list[str]]:
    """Every row of every table of a database, each as the text of all its values."""
    found: dict[str, list[str]] = {}
    with psycopg.connect(libpq_url(url)) as connection:
        tables = connection.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()
        for (table,) in tables:
            query = sql.SQL("SELECT * FROM {}").format(sql.Identifier(table))
            rows = connection.execute(query).fetchall()
            found[table] = [" ".join(_text(value) for value in row) for row in rows]
    return found


def _text(value: Any) -> str:
    if isinstance(value, bytes | memoryview):
        return bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def statistics(urls: dict[str, str], ids: list[str]) -> dict[str, Counter[str]]:
    counts: dict[str, Counter[str]] = {}
    for service, query in STATISTICS.items():
        with psycopg.connect(libpq_url(urls[service])) as connection:
            found = connection.execute(query, [[UUID(i) for i in ids]]).fetchall()
            counts[service] = Counter(dict(found))
    return counts


def where_found(urls: dict[str, str], secrets: list[str]) -> list[str]:
    return [
        f"{service}.{table}: {secret}"
        for service, url in urls.items()
        for table, rows in rows_of(url).items()
        for row in rows
        for secret in secrets
        if secret in row
    ]


async def wait_until_erased(urls: dict[str, str], secrets: list[str], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while found := where_found(urls, secrets):
        assert time.monotonic() < deadline, f"still held: {found}"
        await asyncio.sleep(1)


async def test_a_person_sees_what_is_held_and_erasure_leaves_only_counts(
    platform: Platform,
) -> None:
    subject, bystander = person(), person()
    # Home care and an NGO project: two services one person may hold together.
    home_care, other, ngo_project = mixed_applications(3, seed=int(time.time()))
    forms = [home_care, ngo_project, other]
    for form in forms[:2]:
        form["applicant"] |= subject
    other["applicant"] |= bystander
    async with platform.client("intake", Role.SOCIAL_WORKER, timeout=30) as client:
        ids = await submit_all(client, forms)
        journeys = await journeys_when_complete(client, ids, seconds=180)
    assert all(complete(j) for j in journeys.values()), journeys
    urls = platform.extra["databases"]
    secrets = [subject["fin"], subject["first_name"], subject["last_name"], subject["mobile_phone"]]
    secrets.append(subject["mobile_phone"].removeprefix("+"))
    assert where_found(urls, secrets), "the search finds the person before the erasure"

    services = {name: platform.urls[name] for name in STATISTICS}
    key = platform.keys[Role.OPERATOR]
    report = await gather(services, key, subject["fin"], None)
    assert sorted(report["application_ids"]) == sorted(ids[:2])
    assert report["language"] == "ru"
    held = {a["service"]: {h["category"] for h in a["holdings"]} for a in report["services"]}
    assert held["intake"] == {"application", "journey"}
    assert held["eligibility"] == {"decision"}
    assert held["notifications"] == {"contact", "message"}
    assert held["assignment"] <= {"placement", "waitlist"}
    assert subject["mobile_phone"] in json.dumps(report)
    assert "Справка о персональных данных" in render_html(report)

    before = statistics(urls, ids)
    async with platform.client("intake", Role.OPERATOR) as operator:
        refused = await operator.post(
            "/subjects/erasures", json={"fin": subject["fin"], "legal_basis": "request 2030/1"}
        )
    assert refused.status_code == 403
    async with platform.client("intake", Role.ADMINISTRATOR) as admin:
        body = {"fin": subject["fin"], "legal_basis": "Law on Personal Data, art. 7; req. 2030/1"}
        erased = await admin.post("/subjects/erasures", json=body)
        assert erased.status_code == 202, erased.text
        assert sorted(erased.json()["application_ids"]) == sorted(ids[:2])
        again = await admin.post("/subjects/erasures", json=body)
        assert again.status_code == 404

    await wait_until_erased(urls, secrets, seconds=60)
    assert statistics(urls, ids) == before
    assert where_found(urls, [bystander["fin"], bystander["mobile_phone"]]), "only one erased"
    for name, log in platform.logs.items():
        text = log.read_text(encoding="utf-8")
        assert not [s for s in secrets if s in text], f"{name}.log carries personal data"

    after = await gather(services, key, subject["fin"], "en")
    assert after["application_ids"] == []
    assert all(not answer["holdings"] for answer in after["services"])
    async with platform.client("intake", Role.OPERATOR) as client:
        journey = (await client.get(f"/applications/{ids[0]}")).json()
    assert journey["status"] == journeys[ids[0]]["status"]
    assert journey["journey"][-1]["type"] == "intake.subject.erased"
    # Who asked for it: the administrator's key, on the event and in the erasure's row.
    assert journey["journey"][-1]["actor"] == {"role": "administrator", "name": "e2e-administrator"}
    with psycopg.connect(libpq_url(urls["intake"])) as connection:
        erasures = connection.execute("SELECT requested_by FROM erasures").fetchall()
    assert erasures == [("administrator:e2e-administrator",)]
