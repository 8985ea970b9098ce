"""benchmarks.message_stages reads the times notifications records, on its migrated schema."""

import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from benchmarks.message_stages import stage_rows
from socialsvc_common.db import libpq_url
from tests.harness import migrate

pytestmark = pytest.mark.integration

MESSAGE = """
INSERT INTO notifications (id, application_id, event_id, kind, context, status, attempts,
    occurred_at, hold_until, next_attempt_at, sent_at, delivered_at)
VALUES (%s, %s, %s, %s, '{}', %s, 1, %s, %s, %s, %s, %s)
"""
CLAIM = "INSERT INTO inbox (consumer, event_id, processed_at) VALUES ('notifications', %s, %s)"


async def test_each_delivered_message_is_split_at_its_claim_and_its_send(
    fresh_postgres: str,
) -> None:
    url = libpq_url(await migrate("notifications", fresh_postgres))
    at = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    seconds = timedelta(seconds=1)
    with psycopg.connect(url) as connection:
        for kind, delivered in (("received", at + 3.5 * seconds), ("decision_eligible", None)):
            event = uuid.uuid4()
            sent = at + 1.25 * seconds
            status = "sent" if delivered else "accepted"
            row = (uuid.uuid4(), uuid.uuid4(), event, kind, status, at, at, at, sent, delivered)
            connection.execute(MESSAGE, row)
            connection.execute(CLAIM, (event, at + 0.25 * seconds))
    # Only the delivered message, its three stages: 0.25 s, 1.0 s and 2.25 s.
    assert stage_rows(url) == [("received", 0.25, 1.0, 2.25)]
