"""An SMS gateway down for a while: nothing lost, nothing sent twice, order kept per citizen."""

import time
import uuid

import httpx
import pytest

from notifications.messages import notification_id

from .applicants import mixed_applications
from .conftest import Platform
from .test_journey import complete, journeys_when_complete, submit_all

pytestmark = pytest.mark.integration


async def test_messages_wait_out_an_outage_and_arrive_once_in_order(platform: Platform) -> None:
    forms = mixed_applications(12, seed=23)
    for form in forms:
        form["applicant"]["email"] = None  # every message goes by SMS
    async with httpx.AsyncClient(timeout=30) as client:
        control = await client.post(
            platform.extra["sms"] + "/control", json={"fail_next": 15, "fail_status": 503}
        )
        assert control.status_code < 300, control.text
        started = time.monotonic()
        async with platform.client("intake", timeout=30) as intake:
            ids = await submit_all(intake, forms)
            journeys = await journeys_when_complete(intake, ids, seconds=180)
    assert all(complete(j) for j in journeys.values())
    print(f"all delivered {time.monotonic() - started:.1f}s after a 15-request outage began")

    lines = platform.sink_lines("sms.jsonl")
    keys = [line["key"] for line in lines]
    assert len(keys) == len(set(keys))
    for journey in journeys.values():
        expected = [
            str(notification_id(uuid.UUID(step["event_id"])))
            for step in journey["journey"]
            if step["type"]
            in {
                "intake.application.received",
                "eligibility.decision.made",
                "assignment.placement.made",
                "assignment.placement.waitlisted",
            }
        ]
        assert [k for k in keys if k in expected] == expected, journey["application_id"]
