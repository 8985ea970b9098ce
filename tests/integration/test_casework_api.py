"""Intake's casework API on real PostgreSQL: every search filter, the scope of a district's keys
(another district's case is 404 and absent from lists), assignment, notes (confidential ones
hidden from operators, text gone with an erasure) and visits planned and recorded by workers."""

import random
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from intake.casework_store import CaseNoteRow
from intake.erasure import erase_subject
from intake.retention import RetentionPolicy
from intake.store import ApplicationRow
from intake.subject_access import person_holdings
from socialsvc_common.contract import payloads as p
from socialsvc_common.contract.erasure import ErasureReason
from socialsvc_common.db import transaction
from socialsvc_common.explanations import application_ref
from tests.e2e.applicants import application
from tests.harness import migrate
from tests.integration.casework_rig import Casework, opened

pytestmark = pytest.mark.integration
KEY = b"k" * 32
BAKU = ZoneInfo("Asia/Baku")


@pytest.fixture
async def work(fresh_postgres: str, tmp_path: Path) -> AsyncIterator[Casework]:
    url = await migrate("intake", fresh_postgres)
    async for casework in opened(url, tmp_path / "keys.jsonl"):
        yield casework


@pytest.fixture
async def cases(work: Casework) -> dict[str, dict[str, Any]]:
    """Four cases: two in Xətai, two in Nəsimi, in three states, one submitted in January."""
    made = {
        "leyla": await work.submit("Leyla", "Əliyeva", "Xətai", 1),
        "gunay": await work.submit("Günay", "İsmayılova", "Xətai", 2),
        "resad": await work.submit("Rəşad", "Quliyev", "Nəsimi", 3),
        "tural": await work.submit("Tural", "Hüseynov", "Nəsimi", 4),
    }
    await work.decide(made["leyla"]["id"], p.Outcome.ELIGIBLE, [p.TargetGroup.ELDERLY_ALONE])
    await work.decide(made["gunay"]["id"], p.Outcome.NEEDS_INFORMATION, [])
    await work.decide(made["resad"]["id"], p.Outcome.INELIGIBLE, [p.TargetGroup.DISABILITY])
    # 11 January 01:00 in Baku is still 10 January in UTC.
    await work.sql(
        "UPDATE applications SET submitted_at = :at WHERE id = :id",
        at=datetime(2026, 1, 10, 21, 0, tzinfo=UTC),
        id=made["tural"]["id"],
    )
    return made


async def found(work: Casework, who: str = "ops", **query: Any) -> list[str]:
    answer = await work.get(who, "/cases", **query)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["total"] == len(body["items"]) or "limit" in query
    return [item["name"] for item in body["items"]]


async def test_each_filter_finds_the_cases_it_names(
    work: Casework, cases: dict[str, dict[str, Any]]
) -> None:
    leyla = cases["leyla"]["id"]
    reference = application_ref(uuid.UUID(leyla))
    assert await found(work, reference=reference) == ["Leyla Əliyeva"]
    assert await found(work, reference=reference.lower().replace("-", "")) == ["Leyla Əliyeva"]
    assert await found(work, fin=cases["resad"]["fin"]) == ["Rəşad Quliyev"]
    for typed in ("ismayil", "İSMAYILOVA", "günay"):
        assert await found(work, name=typed) == ["Günay İsmayılova"]
    assert await found(work, name="liyev") == ["Rəşad Quliyev", "Leyla Əliyeva"]
    assert await found(work, name="%_") == []
    assert sorted(await found(work, district="Nəsimi")) == ["Rəşad Quliyev", "Tural Hüseynov"]
    assert await found(work, status="needs_information") == ["Günay İsmayılova"]
    assert await found(work, status="received") == ["Tural Hüseynov"]
    assert await found(work, target_group="elderly_alone") == ["Leyla Əliyeva"]
    assert await found(work, target_group="elderly") == []
    assert await found(work, target_group="disability") == ["Rəşad Quliyev"]
    january = {"submitted_from": "2026-01-11", "submitted_to": "2026-01-11"}
    assert await found(work, **january) == ["Tural Hüseynov"]
    assert await found(work, submitted_from="2026-01-01", submitted_to="2026-01-10") == []
    today = datetime.now(BAKU).date()
    assert len(await found(work, submitted_from=today.isoformat())) == 3
    assert await found(work, submitted_to=(today - timedelta(days=1)).isoformat()) == [
        "Tural Hüseynov"
    ]
    assigned = await work.send(
        "xetai-worker", "PUT", f"/cases/{leyla}/assignee", {"worker": "xetai-worker"}
    )
    assert assigned.status_code == 200, assigned.text
    assert await found(work, assigned_to="xetai-worker") == ["Leyla Əliyeva"]
    assert await found(work, district="Xətai", status="eligible", name="leyla") == ["Leyla Əliyeva"]
    assert await found(work, district="Xətai", status="ineligible") == []


async def test_the_list_is_newest_first_in_pages_with_the_total(
    work: Casework, cases: dict[str, dict[str, Any]]
) -> None:
    everyone = (await work.get("ops", "/cases")).json()
    assert everyone["total"] == 4
    times = [item["submitted_at"] for item in everyone["items"]]
    assert times == sorted(times, reverse=True)
    assert everyone["items"][-1]["name"] == "Tural Hüseynov"
    first = (await work.get("ops", "/cases", limit=3)).json()
    rest = (await work.get("ops", "/cases", limit=3, offset=3)).json()
    assert (first["total"], rest["total"]) == (4, 4)
    assert [i["application_id"] for i in first["items"] + rest["items"]] == [
        i["application_id"] for i in everyone["items"]
    ]
    summary = next(i for i in everyone["items"] if i["name"] == "Leyla Əliyeva")
    assert summary["reference"] == application_ref(uuid.UUID(summary["application_id"]))
    assert (summary["district"], summary["status"], summary["target_groups"]) == (
        "Xətai",
        "eligible",
        ["elderly_alone"],
    )


@pytest.mark.parametrize(
    "query",
    [
        {"district": "Atlantis"},
        {"fin": "abc"},
        {"submitted_from": "2026-02-02", "submitted_to": "2026-02-01"},
        {"limit": 500},
        {"colour": "red"},
    ],
)
async def test_a_search_it_cannot_mean_is_refused_naming_the_field(
    work: Casework, query: dict[str, Any]
) -> None:
    answer = await work.get("ops", "/cases", **query)
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["errors"]


async def test_a_worker_of_xetai_neither_sees_nor_changes_a_nesimi_case(
    work: Casework, cases: dict[str, dict[str, Any]]
) -> None:
    resad = cases["resad"]["id"]
    assert sorted(await found(work, "xetai-worker")) == ["Günay İsmayılova", "Leyla Əliyeva"]
    assert await found(work, "xetai-worker", district="Nəsimi") == []
    assert await found(work, "xetai-worker", fin=cases["resad"]["fin"]) == []
    assert sorted(await found(work, "nesimi-worker")) == ["Rəşad Quliyev", "Tural Hüseynov"]
    refused = [
        await work.get("xetai-worker", f"/cases/{resad}"),
        await work.get("xetai-worker", f"/cases/{resad}/notes"),
        await work.get("xetai-reviewer", f"/cases/{resad}"),
        await work.send(
            "xetai-worker", "PUT", f"/cases/{resad}/assignee", {"worker": "xetai-worker"}
        ),
        await work.send("xetai-worker", "POST", f"/cases/{resad}/notes", {"text": "seen"}),
        await work.send("xetai-worker", "POST", f"/cases/{resad}/visits", {"reason": "check"}),
        await work.get("xetai-worker", f"/applications/{resad}"),
        await work.send("xetai-worker", "PATCH", f"/applications/{resad}", {"household_size": 2}),
        await work.send(
            "xetai-worker",
            "POST",
            f"/applications/{resad}/consent/withdrawal",
            {"reason": "citizen_request"},
        ),
    ]
    assert [answer.status_code for answer in refused] == [404] * len(refused)
    # The same answer as for a case that does not exist.
    assert refused[0].json()["title"] == "No such case"
    assert refused[6].json()["title"] == "No such application"
    case = (await work.get("nesimi-worker", f"/cases/{resad}")).json()
    assert (case["case"]["status"], case["assigned_to"]) == ("ineligible", None)
    assert (await work.get("nesimi-worker", f"/cases/{resad}/notes")).json() == []
    assert (await work.get("ops", "/visits")).json() == []
    # Nothing changed: the case is not withdrawn and its facts were not added.
    assert (await work.get("ops", f"/applications/{resad}")).json()["status"] == "ineligible"


async def test_a_case_reads_whole_and_is_assigned_to_a_worker_of_its_district(
    work: Casework, cases: dict[str, dict[str, Any]]
) -> None:
    leyla = cases["leyla"]["id"]
    refused = await work.send(
        "xetai-worker", "PUT", f"/cases/{leyla}/assignee", {"worker": "nesimi-worker"}
    )
    assert refused.status_code == 422
    assert refused.json()["type"].endswith("/unknown-worker")
    unknown = await work.send(
        "xetai-worker", "PUT", f"/cases/{leyla}/assignee", {"worker": "nobody"}
    )
    assert unknown.status_code == 422
    by_operator = await work.send("ops", "PUT", f"/cases/{leyla}/assignee", {"worker": "clerk"})
    assert by_operator.status_code == 403
    done = await work.send("xetai-reviewer", "PUT", f"/cases/{leyla}/assignee", {"worker": "clerk"})
    assert done.status_code == 200, done.text
    assert done.json()["assigned_by"] == {"role": "reviewer", "name": "xetai-reviewer"}
    case = (await work.get("xetai-worker", f"/cases/{leyla}")).json()
    assert case["case"]["assigned_to"] == case["assigned_to"] == "clerk"
    assert case["assigned_by"] == {"role": "reviewer", "name": "xetai-reviewer"}
    assert datetime.fromisoformat(case["assigned_at"]) > datetime.now(UTC) - timedelta(minutes=1)
    assert case["applicant"]["fin"] == cases["leyla"]["fin"]
    assert (case["applicant"]["first_name"], case["applicant"]["district"]) == ("Leyla", "Xətai")
    assert [step["type"] for step in case["journey"]] == [
        "intake.application.received",
        "eligibility.decision.made",
    ]
    assert case["journey"][0]["actor"] == {"role": "social_worker", "name": "clerk"}
    unassigned = await work.send(
        "xetai-worker", "PUT", f"/cases/{leyla}/assignee", {"worker": None}
    )
    assert unassigned.json()["assigned_to"] is None
    assert (await work.get("ops", f"/cases/{leyla}")).json()["assigned_by"][
        "name"
    ] == "xetai-worker"


async def test_confidential_notes_are_never_shown_to_operators(
    work: Casework, cases: dict[str, dict[str, Any]]
) -> None:
    gunay = cases["gunay"]["id"]
    written = [
        await work.send(
            "xetai-worker", "POST", f"/cases/{gunay}/notes", {"text": "Called her daughter."}
        ),
        await work.send(
            "xetai-reviewer",
            "POST",
            f"/cases/{gunay}/notes",
            {"text": "Her son is violent.", "confidential": True},
        ),
    ]
    assert [answer.status_code for answer in written] == [201, 201]
    assert written[1].json()["author"] == {"role": "reviewer", "name": "xetai-reviewer"}
    for who in ("xetai-worker", "xetai-reviewer"):
        notes = (await work.get(who, f"/cases/{gunay}/notes")).json()
        assert [(n["text"], n["confidential"]) for n in notes] == [
            ("Called her daughter.", False),
            ("Her son is violent.", True),
        ]
    seen = (await work.get("ops", f"/cases/{gunay}/notes")).json()
    assert [n["text"] for n in seen] == ["Called her daughter."]
    assert seen[0]["author"] == {"role": "social_worker", "name": "xetai-worker"}
    assert (
        await work.send("ops", "POST", f"/cases/{gunay}/notes", {"text": "x"})
    ).status_code == 403
    for body in (
        {"text": ""},
        {"text": "   "},
        {"text": "x" * 4001},
        {"text": "ok", "confidential": "maybe"},
    ):
        assert (
            await work.send("xetai-worker", "POST", f"/cases/{gunay}/notes", body)
        ).status_code == 422


async def test_an_erasure_takes_the_notes_text_and_the_case_out_of_the_search(
    work: Casework, cases: dict[str, dict[str, Any]]
) -> None:
    gunay = cases["gunay"]
    await work.send(
        "xetai-worker", "POST", f"/cases/{gunay['id']}/notes", {"text": "Lives on the 4th floor."}
    )
    # The relay, not running here, would have published the submission by now.
    await work.sql("UPDATE outbox SET sent_at = now()")
    async with transaction(work.runtime.sessions) as session:
        await erase_subject(
            session,
            gunay["fin"],
            reason=ErasureReason.SUBJECT_REQUEST,
            legal_basis="test",
            requested_by="test",
            pseudonym_key=KEY,
            now=datetime.now(UTC),
        )
    async with work.runtime.sessions() as session:
        notes = (await session.exec(select(CaseNoteRow))).all()
        row = await session.get(ApplicationRow, gunay["id"])
    assert [note.text for note in notes] == [None]
    assert row is not None
    assert (row.applicant_name, row.name_key, row.district) == (None, None, "Xətai")
    assert await found(work, name="günay") == []
    assert (await work.get("xetai-worker", f"/cases/{gunay['id']}")).status_code == 410
    assert (await work.get("xetai-worker", f"/cases/{gunay['id']}/notes")).status_code == 410


async def test_a_worker_plans_a_visit_and_records_its_outcome_once(
    work: Casework, cases: dict[str, dict[str, Any]]
) -> None:
    leyla = cases["leyla"]["id"]
    planned = await work.send(
        "xetai-worker", "POST", f"/cases/{leyla}/visits", {"reason": "check on her"}
    )
    assert planned.status_code == 201, planned.text
    visit = planned.json()
    assert (visit["status"], visit["requested_by"]) == (
        "requested",
        {"role": "social_worker", "name": "xetai-worker"},
    )
    assert (visit["name"], visit["district"]) == ("Leyla Əliyeva", "Xətai")
    queue = (await work.get("xetai-worker", "/visits", status="requested")).json()
    assert [v["id"] for v in queue] == [visit["id"]]
    assert (await work.get("nesimi-worker", "/visits")).json() == []
    outcome = {
        "visited_at": datetime.now(UTC).isoformat(),
        "outcome": "informed",
        "note": "Told her.",
    }
    path = f"/visits/{visit['id']}/outcome"
    assert (await work.send("nesimi-worker", "POST", path, outcome)).status_code == 404
    assert (await work.send("ops", "POST", path, outcome)).status_code == 403
    done = await work.send("xetai-worker", "POST", path, outcome)
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["outcome"], done.json()["note"]) == (
        "done",
        "informed",
        "Told her.",
    )
    assert done.json()["recorded_by"] == {"role": "social_worker", "name": "xetai-worker"}
    again = await work.send("clerk", "POST", path, {**outcome, "outcome": "refused"})
    assert again.status_code == 409
    assert again.json()["type"].endswith("/visit-already-recorded")
    assert (await work.get("xetai-worker", "/visits", status="requested")).json() == []
    made = (await work.get("ops", "/visits", status="done")).json()
    assert [(v["outcome"], v["recorded_by"]["name"]) for v in made] == [
        ("informed", "xetai-worker")
    ]
    at_once = {"reason": "passing by", **outcome, "outcome": "not_at_home"}
    recorded = await work.send("xetai-worker", "POST", f"/cases/{leyla}/visits", at_once)
    assert recorded.json()["status"] == "done"
    by_case = (await work.get("ops", "/visits", application_id=leyla)).json()
    assert len(by_case) == 2
    future = {**outcome, "visited_at": (datetime.now(UTC) + timedelta(hours=2)).isoformat()}
    assert (
        await work.send("xetai-worker", "POST", f"/cases/{leyla}/visits", {"reason": "x", **future})
    ).status_code == 422


async def test_the_persons_report_holds_what_workers_wrote_but_a_confidential_note_s_text(
    work: Casework, cases: dict[str, dict[str, Any]]
) -> None:
    leyla = cases["leyla"]
    path = f"/cases/{leyla['id']}"
    await work.send("xetai-worker", "POST", f"{path}/notes", {"text": "Needs a ramp."})
    secret = {"text": "Her nephew takes her pension.", "confidential": True}
    await work.send("xetai-worker", "POST", f"{path}/notes", secret)
    await work.send("xetai-worker", "POST", f"{path}/visits", {"reason": "check on her"})
    async with work.runtime.sessions() as session:
        held = await person_holdings(session, leyla["fin"], RetentionPolicy.load())
    [casework] = [h for h in held.holdings if h.category == "casework"]
    assert [(n["text"], n["confidential"]) for n in casework.data["notes"]] == [
        ("Needs a ramp.", False),
        (None, True),
    ]
    assert [v["reason"] for v in casework.data["visits"]] == ["check on her"]


async def test_a_worker_submits_only_in_their_districts_and_is_not_told_of_other_cases(
    work: Casework, cases: dict[str, dict[str, Any]]
) -> None:
    elsewhere = application(901, random.Random(901))
    elsewhere["applicant"]["district"] = "Nəsimi"
    refused = await work.send("xetai-worker", "POST", "/applications", elsewhere)
    assert refused.status_code == 403, refused.text
    assert refused.json()["type"].endswith("/outside-scope")
    assert "Nəsimi" in refused.json()["detail"]
    # Tural has an open case in Nəsimi; a Xətai worker submitting for him again in Xətai learns
    # that one exists, but not which.
    again = application(902, random.Random(902))
    again["applicant"] |= {"fin": cases["tural"]["fin"], "district": "Xətai"}
    again["service_requested"] = (
        await work.get("ops", f"/applications/{cases['tural']['id']}")
    ).json()["service_requested"]
    duplicate = await work.send("xetai-worker", "POST", "/applications", again)
    unscoped = await work.send("clerk", "POST", "/applications", again)
    assert (duplicate.status_code, unscoped.status_code) == (409, 409), duplicate.text
    assert "open_application_id" not in duplicate.json()
    assert cases["tural"]["id"] not in duplicate.text
    assert unscoped.json()["open_application_id"] == cases["tural"]["id"]
