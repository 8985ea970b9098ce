"""Provider registry management on real Kafka and PostgreSQL: validated changes every replica
sees, CSV import that is all or nothing, and a capacity cut that never evicts anyone."""

import os
import subprocess
import sys
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from psycopg.rows import dict_row

from socialsvc_common.contract.payloads import DecisionMade, Outcome, ProvisionType, TargetGroup
from socialsvc_common.db import libpq_url
from tests.harness import wait_committed

from .test_assignment_capacity import Replicas, publish, replicas

pytestmark = pytest.mark.integration
__all__ = ["replicas"]  # the fixture, imported for this module's tests

PROBLEM = "application/problem+json"
TODAY = date.today()


def ngo(**changes: Any) -> dict[str, Any]:
    return {
        "provision_type": "ngo_project",
        "id": "ngo-new",
        "name": "Günərzi reabilitasiya mərkəzi",
        "organisation": "Nümunə QHT",
        "districts": ["Xətai"],
        "capacity": 2,
        "target_groups": ["child_with_disability"],
        "contract_start": (TODAY - timedelta(days=30)).isoformat(),
        "contract_end": (TODAY + timedelta(days=300)).isoformat(),
    } | changes


def home_care_in_xetai(count: int) -> list[DecisionMade]:
    start = datetime.now(UTC) - timedelta(hours=1)
    return [
        DecisionMade(
            application_id=uuid.uuid4(),
            decided_at=start + timedelta(seconds=n),
            outcome=Outcome.ELIGIBLE,
            rule_set_version="registry-test",
            district="Xətai",
            groups=[TargetGroup.ELDERLY],
            need_level=2,
            priority_score=50.0,
            provision_types=[ProvisionType.HOME_CARE],
        )
        for n in range(count)
    ]


def fetch(database: str, sql: str, *params: Any) -> list[dict[str, Any]]:
    url = libpq_url(database)
    with psycopg.connect(url, row_factory=dict_row) as connection:
        return connection.execute(sql.encode(), params).fetchall()


def ledger(database: str, provider_id: str) -> dict[str, Any]:
    rows = fetch(
        database, "SELECT capacity, used FROM capacity_ledger WHERE provider_id = %s", provider_id
    )
    return rows[0]


async def test_changes_are_validated_and_seen_by_every_replica(replicas: Replicas) -> None:
    first, second = replicas.urls[0], replicas.urls[1]
    async with httpx.AsyncClient(headers=replicas.admin, timeout=30) as client:
        seeded = (await client.get(first + "/providers")).json()
        created = await client.put(first + "/providers/ngo-new", json=ngo())
        seen = {p["id"]: p for p in (await client.get(second + "/providers")).json()}
        bad = await client.put(
            first + "/providers/ngo-bad",
            json=ngo(id="ngo-bad", districts=["Atlantis"], capacity=0, colour="blue")
            | {"contract_end": (TODAY - timedelta(days=60)).isoformat()},
        )
        mismatch = await client.put(first + "/providers/ngo-x", json=ngo())
    assert len(seeded) == 8
    assert created.status_code == 201, created.text
    assert seen["ngo-new"]["capacity"] == 2
    assert seen["ngo-new"]["used"] == 0
    assert bad.status_code == 422
    assert bad.headers["content-type"] == PROBLEM
    fields = {error["field"] for error in bad.json()["errors"]}
    assert {"districts.0", "capacity", "colour", "contract_end"} <= fields, bad.json()
    assert mismatch.status_code == 422


async def test_csv_import_is_all_or_nothing(replicas: Replicas) -> None:
    header = "provision_type,id,name,district,caseload_limit\n"
    async with httpx.AsyncClient(
        base_url=replicas.urls[0], headers=replicas.admin, timeout=30
    ) as client:
        refused = await client.post(
            "/providers/import",
            content=header
            + "home_care,hc-xetai,Xətai team,Xətai,30\nhome_care,hc-nowhere,X,Atlantis,10\n",
            headers={"content-type": "text/csv"},
        )
        unchanged = ledger(replicas.database, "hc-xetai")
        accepted = await client.post(
            "/providers/import",
            content=header + "home_care,hc-xetai,Xətai team,Xətai,30\n",
            headers={"content-type": "text/csv"},
        )
    assert refused.status_code == 422
    assert any(
        e["field"].startswith("row 3") and "district" in e["field"]
        for e in refused.json()["errors"]
    )
    assert unchanged["capacity"] == 25
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["updated"] == ["hc-xetai"]
    assert ledger(replicas.database, "hc-xetai")["capacity"] == 30


async def test_a_capacity_cut_evicts_nobody_and_stops_new_placements(
    replicas: Replicas, bootstrap: str
) -> None:
    ten = home_care_in_xetai(10)
    await wait_committed(bootstrap, replicas.group, await publish(bootstrap, ten), 60)
    assert ledger(replicas.database, "hc-xetai")["used"] == 10
    async with httpx.AsyncClient(
        base_url=replicas.urls[0], headers=replicas.admin, timeout=30
    ) as client:
        cut = await client.put(
            "/providers/hc-xetai",
            json={
                "provision_type": "home_care",
                "id": "hc-xetai",
                "name": "Xətai home care",
                "district": "Xətai",
                "caseload_limit": 5,
            },
        )
        assert cut.status_code == 200, cut.text
        assert ledger(replicas.database, "hc-xetai") == {"capacity": 10, "used": 10}
        late = home_care_in_xetai(1)
        await wait_committed(bootstrap, replicas.group, await publish(bootstrap, late), 60)
        active = fetch(
            replicas.database,
            "SELECT id FROM placements WHERE active AND provider_id = %s",
            "hc-xetai",
        )
        released = await client.post(
            f"/placements/{active[0]['id']}/release", json={"reason": "moved"}
        )
    assert len(active) == 10  # nobody evicted
    waiting = fetch(
        replicas.database,
        "SELECT application_id FROM waitlist WHERE waiting AND application_id = %s",
        late[0].application_id,
    )
    assert len(waiting) == 1  # the cut stopped the new placement
    assert released.status_code == 202
    assert released.json()["events"] == ["assignment.placement.released"]  # 9 >= 5: no promotion
    assert ledger(replicas.database, "hc-xetai") == {"capacity": 9, "used": 9}


def test_the_import_command_reports_rows_and_imports(replicas: Replicas, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "provision_type,id,name,places,district,target_groups\n"
        "residential,inst-new,Yeni ev,0,Xəzər,elderly;disability\n",
        encoding="utf-8",
    )
    good = tmp_path / "good.csv"
    good.write_text(
        "provision_type,id,name,places,district,target_groups\n"
        "residential,inst-new,Yeni ev,12,Xəzər,elderly;disability\n",
        encoding="utf-8",
    )
    command = [sys.executable, "-m", "assignment.registry_cli", "--url", replicas.urls[2]]
    env = os.environ | {"SOCIALSVC_API_KEY": replicas.admin_key}
    refused = subprocess.run(
        [*command, str(bad)], capture_output=True, text=True, check=False, env=env
    )
    imported = subprocess.run(
        [*command, str(good)], capture_output=True, text=True, check=False, env=env
    )
    assert refused.returncode == 1
    assert "row 2 (inst-new): places" in refused.stderr
    assert imported.returncode == 0, imported.stderr
    assert "created 1, updated 0" in imported.stdout
    assert ledger(replicas.database, "inst-new") == {"capacity": 12, "used": 0}
