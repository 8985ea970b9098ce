"""The simulation command on a real SQLite eligibility database: JSON out, database untouched.

Needs neither Kafka nor PostgreSQL: the database is a file under tmp_path and assignment is a
closed port, so the command must carry on without capacity.
"""

import hashlib
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from eligibility.rules import decide
from eligibility.ruleset import POLICY_DIR, load_rule_set
from eligibility.simulate_cli import main, read_stored
from eligibility.store import DecisionRow
from socialsvc_common.contract.payloads import (
    Applicant,
    ApplicationReceived,
    Circumstances,
    DailyActivity,
    DecisionMade,
    ServiceRequested,
)
from socialsvc_common.db import make_engine, session_factory, transaction
from tests.harness import create_tables

pytestmark = pytest.mark.integration

CURRENT = load_rule_set(POLICY_DIR / "2026-1.toml")
DECIDED_ON = date(2026, 3, 14)
DECIDED_AT = datetime(2026, 3, 14, 9, 31, tzinfo=UTC)
LOW, BETWEEN, ABOVE = uuid4(), uuid4(), uuid4()
ELDERLY = uuid4()


def application(
    application_id: UUID, birth_date: date, **circumstances: object
) -> ApplicationReceived:
    return ApplicationReceived(
        application_id=application_id,
        submitted_at=DECIDED_AT,
        channel="web",
        service_requested=ServiceRequested.ANY,
        applicant=Applicant(
            fin="5ZK8L2P",
            first_name="Rəşad",
            last_name="Quliyev",
            birth_date=birth_date,
            mobile_phone="+994551234567",
            district="Nəsimi",
        ),
        circumstances=Circumstances.model_validate(circumstances),
    )


APPLICATIONS = [
    application(LOW, date(1986, 1, 10), monthly_household_income_azn=Decimal(280)),
    application(BETWEEN, date(1986, 1, 10), monthly_household_income_azn=Decimal(320)),
    application(ABOVE, date(1986, 1, 10), monthly_household_income_azn=Decimal(351)),
    application(
        ELDERLY,
        date(1946, 1, 10),
        monthly_household_income_azn=Decimal(5000),
        activities_needing_help=[DailyActivity.WASHING],
    ),
]


def row(received: ApplicationReceived) -> DecisionRow:
    """As eligibility's handler writes it."""
    made = DecisionMade(
        application_id=received.application_id,
        decided_at=DECIDED_AT,
        district=received.applicant.district,
        **decide(received, CURRENT, DECIDED_ON).model_dump(),
    )
    facts = received.model_dump(mode="json", include={"service_requested", "circumstances"})
    return DecisionRow(
        application_id=received.application_id,
        event_id=uuid4(),
        outcome=made.outcome.value,
        rule_set_version=made.rule_set_version,
        district=made.district,
        decided_on=DECIDED_ON,
        decided_at=DECIDED_AT,
        facts=facts | {"birth_date": received.applicant.birth_date.isoformat()},
        decision=made.model_dump(mode="json"),
    )


@pytest.fixture
async def database(tmp_path: Path) -> Path:
    path = tmp_path / "eligibility.db"
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    await create_tables(engine, DecisionRow)
    async with transaction(session_factory(engine)) as session:
        session.add_all([row(received) for received in APPLICATIONS])
    await engine.dispose()
    return path


@pytest.fixture
def candidate(tmp_path: Path) -> Path:
    text = (POLICY_DIR / "2026-1.toml").read_text(encoding="utf-8")
    path = tmp_path / "2026-2.toml"
    path.write_text(
        text.replace('version = "2026.1"', 'version = "2026.2"').replace(
            "need_criterion_azn = 300", "need_criterion_azn = 350"
        ),
        encoding="utf-8",
    )
    return path


@pytest.fixture
def closed_port() -> Iterator[str]:
    # Bound but not listening: connections are refused, and no other test can take the port.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def checksum(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_json_report_and_database_unchanged(
    database: Path, candidate: Path, closed_port: str
) -> None:
    before = checksum(database)
    env = os.environ | {"ELIGIBILITY_DATABASE_URL": f"sqlite+aiosqlite:///{database}"}
    command = [sys.executable, "-m", "eligibility.simulate_cli", str(candidate), "--json"]
    done = subprocess.run(
        [*command, "--assignment-url", closed_port],
        env=env,
        cwd=database.parent,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert "assignment unavailable" in done.stderr
    report = json.loads(done.stdout)
    assert report["applications"] == 4
    assert report["decided_by"] == {"2026.1": 4}
    outcomes = {name: (s["before"], s["after"]) for name, s in report["by_outcome"].items()}
    assert outcomes == {"eligible": (2, 3), "ineligible": (2, 1), "needs_information": (0, 0)}
    assert report["by_district"]["Nəsimi"]["eligible"] == {"before": 2, "after": 3, "change": 1}
    (mover,) = report["movers"]
    assert (mover["application_id"], mover["before"], mover["after"]) == (
        str(BETWEEN),
        "ineligible",
        "eligible",
    )
    income = next(c for c in mover["changed_rules"] if c["rule"] == "income_need_criterion")
    assert income["before"] == {"passed": False, "reason": "income_above_need_criterion"}
    assert income["after"] == {"passed": True, "reason": None}
    ngo = report["places"]["ngo_project"]
    assert ngo == {"before": 1, "after": 2, "change": 1, "free_places": None, "short_by": None}
    assert report["places"]["home_care"]["after"] == 1
    assert checksum(database) == before


@pytest.mark.parametrize(("limit", "pages"), [(None, [2, 2]), (3, [2, 1]), (1, [1])])
async def test_reads_in_pages_by_application_id(
    database: Path, limit: int | None, pages: list[int]
) -> None:
    read = [page async for page in read_stored(f"sqlite+aiosqlite:///{database}", limit, 2)]

    assert [len(page) for page in read] == pages
    ids = [stored.application_id for page in read for stored in page]
    assert ids == sorted(received.application_id for received in APPLICATIONS)[: len(ids)]


def test_refused_candidate_exits_2_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    text = (POLICY_DIR / "2026-1.toml").read_text(encoding="utf-8")
    bad.write_text(text.replace("elderly = 65", "elderly = 200"), encoding="utf-8")

    assert main([str(bad)]) == 2
    assert "ages.elderly: Input should be less than or equal to 100" in capsys.readouterr().err


def test_missing_database_is_not_created(
    tmp_path: Path, closed_port: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "nowhere" / "eligibility.db"
    monkeypatch.setenv("ELIGIBILITY_DATABASE_URL", f"sqlite+aiosqlite:///{missing}")
    candidate = POLICY_DIR / "2026-1.toml"

    assert main([str(candidate), "--assignment-url", closed_port]) == 1
    assert not missing.parent.exists()
