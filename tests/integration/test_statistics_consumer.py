"""The statistics service on the real broker and PostgreSQL: its events arrive out of order and
repeated, a bad record is dead-lettered with its reason while the good ones around it are
applied, and an application whose statistics consent was withdrawn leaves every figure."""

import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest
from sqlalchemy import select

from ministry_statistics.tables import DECISIONS, PLACEMENTS, WITHDRAWALS
from socialsvc_common.apikeys import Role, issue
from socialsvc_common.contract import topics
from socialsvc_common.contract.payloads import (
    ConsentPurpose,
    Outcome,
    PlacementStatus,
    ProvisionType,
    ServiceRequested,
    TargetGroup,
)
from socialsvc_common.db import run
from socialsvc_common.kafka import Producer, Record
from socialsvc_common.records import read_dead_letter
from socialsvc_common.service import Runtime
from tests.harness import (
    last_offsets,
    migrate,
    records_since,
    start_group_at_end,
    until,
    wait_committed,
)
from tests.integration.statistics_rig import Person, policy_file, statistics_app

pytestmark = pytest.mark.integration
DEAD_LETTERS = topics.DEAD_LETTERS["statistics"].name


async def one(runtime: Runtime, query: Any) -> Any:
    async with runtime.sessions() as session:
        return (await run(session, query)).first()


async def test_events_out_of_order_repeated_and_bad_withdrawn(
    bootstrap: str, fresh_postgres: str, tmp_path: Path, unique: Callable[[str], str]
) -> None:
    url = await migrate("statistics", fresh_postgres)
    keys = tmp_path / "keys.jsonl"
    key = issue(keys, "reader", Role.REVIEWER)
    group = unique("statistics")
    app, runtime = statistics_app(
        url, bootstrap, policy=policy_file(tmp_path, 1), api_keys_file=keys, kafka_group_id=group
    )
    await start_group_at_end(bootstrap, group, [topic.name for topic in runtime.consumer.topics])
    since_ms = int(time.time() * 1000)

    # Told backwards: the start, then the acceptance, then the offer; the later decision before
    # the earlier one; the application's receipt last. The start comes twice.
    placement = uuid4()
    told = Person("Babək", ServiceRequested.HOME_CARE).received()
    told.decided(Outcome.INELIGIBLE, after=timedelta(minutes=1))
    told.decided(Outcome.ELIGIBLE, [TargetGroup.ELDERLY], after=timedelta(minutes=9))
    told.placed(placement, "hc-babek", ProvisionType.HOME_CARE)
    told.moved_on(placement, "hc-babek", PlacementStatus.ACCEPTED, after=timedelta(hours=3))
    told.moved_on(placement, "hc-babek", PlacementStatus.STARTED, after=timedelta(days=2))
    backwards = [*reversed(told.events), told.events[-1]]
    kept = Person("Babək").received().decided(Outcome.ELIGIBLE, [TargetGroup.ELDERLY])
    kept.served("hc-babek", ProvisionType.HOME_CARE).withdrew(ConsentPurpose.CONTACT)
    gone = Person("Babək").received().decided(Outcome.ELIGIBLE, [TargetGroup.ELDERLY])
    gone.served("hc-babek", ProvisionType.HOME_CARE).withdrew(ConsentPurpose.STATISTICS)
    nowhere = Person("Atlantis").received()
    nowhere_key = str(nowhere.ref).encode()  # public records are keyed by the ref
    records = [
        (event.topic.name, event.key, event.value(), event.envelope.to_headers())
        for event in [*nowhere.events, *backwards, *kept.events, *gone.events]
    ]
    broken_key = unique("broken").encode()
    told_keys = {told.key, str(told.ref).encode()}
    broken: Record = (topics.PUBLIC_APPLICATION_RECEIVED.name, broken_key, b"{not json", [])

    producer = Producer(runtime.settings, client_id="statistics-test")
    async with runtime.lifespan():
        try:
            await producer.deliver([broken, *records])
        finally:
            await producer.stop()
        # The offer, the acceptance and the start come on two topics, the withdrawals on a third,
        # so in batches of their own: the figures are read once all of them are applied.
        last = await last_offsets(bootstrap, [topic.name for topic in runtime.consumer.topics])
        await wait_committed(bootstrap, group, last, seconds=60)
        applied = await one(
            runtime, select(PLACEMENTS).where(PLACEMENTS.c.placement_id == placement)
        )
        assert applied is not None, "the placement was never applied"
        assert await one(runtime, select(WITHDRAWALS).where(WITHDRAWALS.c.ref == gone.ref))
        letters = await until(
            lambda: dead_letters(bootstrap, since_ms, {broken_key, *told_keys, nowhere_key}),
            seconds=60,
        )
        transport = httpx.ASGITransport(app)
        async with httpx.AsyncClient(transport=transport, base_url="http://s") as client:
            response = await client.get(
                "/statistics",
                params={"from": "2026-01", "to": "2026-12", "district": "Babək"},
                headers={"X-API-Key": key},
            )

    # Other platforms on the shared broker may answer these events with placements of their own:
    # the assertions look at this test's placement, not at every row of the application.
    assert applied.ref == told.ref
    assert applied.offered_at == told.at + timedelta(hours=1)
    assert applied.provision_type == "home_care"
    assert applied.accepted_at == told.at + timedelta(hours=3)
    assert applied.started_at == told.at + timedelta(days=2)
    assert applied.started_month == "2026-03"
    decision = await one(runtime, select(DECISIONS).where(DECISIONS.c.ref == told.ref))
    assert decision.outcome == "eligible"
    await runtime.engine.dispose()

    assert {letter[0] for letter in letters} == {nowhere_key, broken_key}
    reasons = dict(letters)
    assert reasons[nowhere_key].error_class == "Rejected"
    assert "Atlantis" in reasons[nowhere_key].error_message
    assert reasons[broken_key].consumer == "statistics"
    assert reasons[broken_key].original_topic == topics.PUBLIC_APPLICATION_RECEIVED.name

    assert response.status_code == 200, response.text
    served = {
        row["keys"]["direction"]: row["values"]["people"]
        for row in next(s for s in response.json()["sections"] if s["id"] == "served_by_direction")[
            "rows"
        ]
    }
    # The one told backwards and the one who withdrew contact only; not the one who withdrew
    # the statistics purpose.
    assert served["home_care"] == 2


async def dead_letters(
    bootstrap: str, since_ms: int, keys: set[bytes]
) -> list[tuple[bytes, Any]] | None:
    """The dead letters of this test's records since it began, once there are two (its bad
    record and the broken one; a good one dead-lettered would be a third)."""
    found = [
        (record.key, read_dead_letter(record.headers))
        for record in await records_since(bootstrap, DEAD_LETTERS, since_ms)
        if record.key in keys
    ]
    return found if len(found) >= 2 else None
