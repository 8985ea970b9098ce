"""The retention sweeper on PostgreSQL: people whose every application closed longer ago than the
policy keeps it are erased through the same path as a lawful request; others stay whole."""

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from sqlmodel import col, select

from intake.retention import RetentionPolicy
from intake.retention_sweeper import RetentionSweeper
from intake.store import CLOSED, ApplicationRow, ErasureRow, Status, insert_applications
from socialsvc_common.contract import topics
from socialsvc_common.db import make_engine, session_factory, transaction
from socialsvc_common.migrations import schemas, upgrade
from socialsvc_common.outbox import OutboxRow

pytestmark = pytest.mark.integration
NOW = datetime(2030, 6, 1, tzinfo=UTC)
POLICY = RetentionPolicy("test", {Status.INELIGIBLE: 30, Status.REFUSED: 30, Status.RELEASED: 90})


def application(fin: str, status: Status, closed_days_ago: int, service: str) -> dict[str, Any]:
    closed = NOW - timedelta(days=closed_days_ago)
    form = {"service_requested": service, "applicant": {"fin": fin, "district": "Quba"}}
    return {
        "id": uuid4(),
        "fin": fin,
        "service_requested": service,
        "channel": "web",
        "status": status.value,
        "is_open": status not in CLOSED,
        "form": json.dumps(form),
        "submitted_at": closed - timedelta(days=10),
        "updated_at": closed,
    }


async def test_the_sweeper_erases_only_people_past_their_retention(
    database_factory: Callable[[str], str],
) -> None:
    engine = make_engine(database_factory("retention"))
    try:
        await upgrade(engine, schemas()["intake"])
        sessions = session_factory(engine)
        rows = [
            application("1DUE00A", Status.INELIGIBLE, 40, "home_care"),
            application("1DUE00A", Status.RELEASED, 100, "residential"),
            application("2KEEP0B", Status.RELEASED, 40, "home_care"),
            application("3OPEN0C", Status.INELIGIBLE, 40, "home_care"),
            application("3OPEN0C", Status.PLACED, 400, "residential"),
        ]
        async with transaction(sessions) as session:
            await insert_applications(session, rows)
        woken: list[bool] = []
        sweeper = RetentionSweeper(
            sessions, lambda: woken.append(True), POLICY, b"test-key", every_seconds=60
        )
        assert await sweeper.sweep(NOW) == 1
        assert await sweeper.sweep(NOW) == 0
        assert woken

        async with sessions() as session:
            held = (await session.exec(select(ApplicationRow))).all()
            erasures = (await session.exec(select(ErasureRow))).all()
            outbox = (await session.exec(select(OutboxRow))).all()
        erased = {row.id for row in held if row.erased_at is not None}
        assert erased == {rows[0]["id"], rows[1]["id"]}
        assert {row.fin for row in held} == {None, "2KEEP0B", "3OPEN0C"}
        assert [(e.reason, e.applications, e.requested_by) for e in erasures] == [
            ("retention_ended", 2, "retention-sweeper")
        ]
        assert {o.topic for o in outbox} == {topics.SUBJECT_ERASED.name}
        assert {UUID(o.key.decode()) for o in outbox} == erased
        assert not any(b"1DUE00A" in o.value for o in outbox)
        statuses = sorted(row.status for row in held if row.id in erased)
        assert statuses == ["ineligible", "released"]
        async with sessions() as session:
            left = select(ApplicationRow).where(col(ApplicationRow.fin) == "1DUE00A")
            assert not (await session.exec(left)).all()
    finally:
        await engine.dispose()
