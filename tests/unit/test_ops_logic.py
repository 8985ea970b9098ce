"""The operators' tool's pure parts: masking, stages and rates, the outbox gauge, journeys."""

import json
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from socialsvc_common.contract import topics
from socialsvc_ops.mask import mask
from socialsvc_ops.page.flow import Flow
from socialsvc_ops.page.outbox import OUTBOX_AGE, gauge
from socialsvc_ops.records import Seen
from socialsvc_ops.trace import journey

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def seen(topic: str, application: str, at: datetime, payload: dict[str, object]) -> Seen:
    headers = (
        ("ce_id", str(uuid4()).encode()),
        ("ce_type", topic.rsplit(".v", 1)[0].encode()),
        ("ce_source", b"/socialsvc/test"),
        ("ce_time", at.isoformat().encode()),
        ("ce_subject", application.encode()),
    )
    stamp = int(at.timestamp() * 1000)
    return Seen(topic, 0, 0, stamp, application.encode(), json.dumps(payload).encode(), headers)


def test_mask_hides_personal_fields_and_patterns_but_keeps_times() -> None:
    masked = mask(
        {
            "applicant": {"fin": "5QX7K2M", "first_name": "Leyla", "district": "Şəki"},
            "note": "call +994551234567 or write to a@b.az about 5QX7K2M",
            "submitted_at": "2026-11-22T20:56:59.084357Z",
            "list": ["5QX7K2M"],
        }
    )
    assert masked["applicant"] == {
        "fin": "[REDACTED]",
        "first_name": "[REDACTED]",
        "district": "Şəki",
    }
    assert "994" not in masked["note"]
    assert "a@b.az" not in masked["note"]
    assert "5QX7K2M" not in json.dumps(masked)
    assert masked["submitted_at"] == "2026-11-22T20:56:59.084357Z"


def test_a_value_that_is_not_json_is_never_shown() -> None:
    record = Seen("t", 0, 0, 0, None, b"FIN 5QX7K2M Leyla", ())
    assert "Leyla" not in str(record.masked_payload())


def test_stage_is_the_latest_event_whatever_order_records_arrive_in() -> None:
    flow = Flow()
    app = str(uuid4())
    flow.add(seen(topics.PLACEMENT_MADE.name, app, NOW + timedelta(seconds=2), {}))
    flow.add(seen(topics.APPLICATION_RECEIVED.name, app, NOW, {}))
    flow.add(seen(topics.DECISION_MADE.name, str(uuid4()), NOW, {"outcome": "needs_information"}))
    flow.add(seen(topics.NOTIFICATION_DELIVERED.name, app, NOW + timedelta(seconds=3), {}))
    assert flow.stage_counts() == {"placement offered": 1, "decided: needs information": 1}


def test_a_review_shows_as_under_review_until_it_concludes() -> None:
    flow = Flow()
    kept, ended, late = (str(uuid4()) for _ in range(3))
    review: dict[str, object] = {"review_id": str(uuid4()), "outcome": "ineligible"}
    for app in (kept, ended, late):
        flow.add(seen(topics.REVIEW_DUE.name, app, NOW, {}))
        flow.add(seen(topics.DECISION_MADE.name, app, NOW + timedelta(seconds=1), review))
    flow.add(
        seen(
            topics.REVIEW_CONCLUDED.name, kept, NOW + timedelta(seconds=2), {"outcome": "continued"}
        )
    )
    flow.add(
        seen(topics.REVIEW_CONCLUDED.name, ended, NOW + timedelta(seconds=2), {"outcome": "ended"})
    )
    assert flow.stage_counts() == {"review: continued": 1, "review: ended": 1, "under review": 1}


def test_rate_counts_only_the_last_minute() -> None:
    flow = Flow()
    now = datetime.now(UTC)
    for age in (5, 30, 59, 61, 300):
        flow.add(
            seen(topics.PLACEMENT_UPDATED.name, str(uuid4()), now - timedelta(seconds=age), {})
        )
    rates = flow.rates(int(now.timestamp() * 1000))
    assert rates["per_minute"] == 3
    assert rates["by_type"] == {"assignment.placement.updated": 3}


def test_public_records_stamped_with_the_hour_are_not_counted_in_a_minute() -> None:
    flow = Flow()
    now = datetime.now(UTC)
    flow.add(seen(topics.PUBLIC_APPLICATION_DECIDED.name, str(uuid4()), now, {}))
    flow.add(seen(topics.DECISION_MADE.name, str(uuid4()), now, {}))
    assert flow.rates(int(now.timestamp() * 1000))["by_type"] == {"eligibility.decision.made": 1}


def test_outbox_gauge_takes_the_largest_labelled_value_and_ignores_look_alikes() -> None:
    text = "\n".join(
        [
            f"# HELP {OUTBOX_AGE} age",
            f"{OUTBOX_AGE}_total 99",
            f'{OUTBOX_AGE}{{service="intake"}} 1.5',
            f'{OUTBOX_AGE}{{service="relay2"}} 4.25',
        ]
    )
    assert gauge(text, OUTBOX_AGE) == 4.25
    assert gauge(f"{OUTBOX_AGE} 0", OUTBOX_AGE) == 0.0
    assert gauge("other_metric 3", OUTBOX_AGE) is None


def test_journey_is_in_event_time_order_with_gaps() -> None:
    app = str(uuid4())
    records = [
        seen(topics.PLACEMENT_RELEASED.name, app, NOW + timedelta(seconds=5), {}),
        seen(topics.APPLICATION_RECEIVED.name, app, NOW, {}),
        seen(topics.DECISION_MADE.name, app, NOW + timedelta(milliseconds=250), {}),
    ]
    steps = journey(records)
    assert [s.seen.topic for s in steps] == [
        topics.APPLICATION_RECEIVED.name,
        topics.DECISION_MADE.name,
        topics.PLACEMENT_RELEASED.name,
    ]
    assert [s.gap_seconds for s in steps] == [None, 0.25, 4.75]


def test_a_journey_step_names_who_gave_the_command_behind_it() -> None:
    app = str(uuid4())
    released = seen(topics.PLACEMENT_RELEASED.name, app, NOW, {"reason": "moved"})
    by_operator = Seen(
        *(released.topic, 0, 1, released.timestamp_ms, released.key, released.value),
        (*released.headers, ("ce_actor", b"operator:night-shift")),
    )
    decided = seen(topics.DECISION_MADE.name, app, NOW - timedelta(seconds=1), {})
    steps = [step.as_dict() for step in journey([by_operator, decided])]
    assert [step["actor"] for step in steps] == [None, "operator:night-shift"]
