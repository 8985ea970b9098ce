"""Notifications' gauges for the GatewayBreakerOpen and ReceiptsMissing alerts, on real
PostgreSQL: a gateway that keeps failing opens its breaker (a warning in the log, 1 on /metrics)
and a good probe closes it; messages a gateway took long ago without a receipt are counted with
the age of the oldest."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import update
from structlog.testing import capture_logs

from notifications.breaker import CircuitBreaker
from notifications.channels import EmailGateway, GatewayReceipt, InboxGateway, SmsGateway
from notifications.delivery import TransientDeliveryError
from notifications.dispatcher import Dispatcher, Gateways
from notifications.gauges import GatewayGauges
from notifications.store import (
    ACCEPTED,
    NOTIFICATIONS,
    PENDING,
    TABLES,
    ContactRow,
    NotificationRow,
)
from socialsvc_common.db import make_engine, run, session_factory, transaction
from socialsvc_common.kafka import Producer
from socialsvc_common.metrics import Metrics
from socialsvc_common.outbox import OutboxRelay, OutboxRow
from socialsvc_common.settings import ServiceSettings
from tests.harness import create_tables

UNUSED = "http://127.0.0.1:9"
COOLDOWN = timedelta(seconds=1)


class FlakySms(SmsGateway):
    """Fails while `down`, then takes every message."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        super().__init__(UNUSED, client, batch=False)
        self.down = True

    async def send(self, to: str, text: str, idempotency_key: str) -> GatewayReceipt:
        if self.down:
            raise TransientDeliveryError("sms", "gateway answered 503")
        return GatewayReceipt(message_id=f"sms-{idempotency_key}", status="accepted")


def message(citizen: UUID, at: datetime, kind: str = "received", **fields: Any) -> NotificationRow:
    return NotificationRow(
        id=uuid4(),
        application_id=citizen,
        event_id=uuid4(),
        kind=kind,
        context={"district": "Xətai", "provision_type": "home_care"},
        occurred_at=at,
        hold_until=at,
        next_attempt_at=at,
        **fields,
    )


Gauges = dict[tuple[str, frozenset[tuple[str, str]]], float]


def gauges_of(metrics: Metrics) -> Gauges:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(metrics.render().decode())
        for sample in family.samples
    }


async def test_breaker_and_receipt_gauges_follow_the_gateways(fresh_postgres: str) -> None:
    engine = make_engine(fresh_postgres)
    await create_tables(engine, *TABLES, OutboxRow)
    sessions = session_factory(engine)
    now = datetime.now(UTC)
    async with transaction(sessions) as session:
        for n in range(5):
            citizen = uuid4()
            phone = f"+99450{n:07d}"
            session.add(
                ContactRow(
                    application_id=citizen,
                    fin=f"{n:07d}",
                    mobile_phone=phone,
                    language="az",
                    district="Xətai",
                )
            )
            session.add(message(citizen, now - timedelta(minutes=1)))
        # Taken by the gateway 20 and 3 minutes ago; neither receipt has come.
        for minutes in (20, 3):
            taken = now - timedelta(minutes=minutes)
            session.add(message(uuid4(), taken, status=ACCEPTED, channel="sms", sent_at=taken))
    client = httpx.AsyncClient()
    sms = FlakySms(client)
    gateways = Gateways(
        sms, EmailGateway("127.0.0.1", 9, "x@example.az"), InboxGateway(UNUSED, client)
    )
    relay = OutboxRelay(sessions, Producer(ServiceSettings(), client_id="unused"))
    metrics = Metrics("notifications")
    try:
        with capture_logs() as logs:
            dispatcher = Dispatcher(
                sessions,
                relay,
                gateways,
                breaker=lambda: CircuitBreaker(3, COOLDOWN),
                workers=1,
            )
            watch = GatewayGauges(metrics, sessions, dispatcher)
            await watch.read()
            before = gauges_of(metrics)
            assert await dispatcher.dispatch_once() == 5
            await watch.read()
            outage = gauges_of(metrics)
            sms.down = False
            await asyncio.sleep(COOLDOWN.total_seconds() + 0.1)  # a probe may go now
            # Their retries are due now, and the first is the probe that closes the breaker.
            async with transaction(sessions) as session:
                retry_now = update(NOTIFICATIONS).where(NOTIFICATIONS.c.status == PENDING)
                await run(session, retry_now.values(next_attempt_at=now))
            assert await dispatcher.dispatch_once() == 5
            await watch.read()
            after = gauges_of(metrics)
    finally:
        await client.aclose()
        await engine.dispose()

    def breaker(gauges: Gauges, channel: str) -> float:
        labels = frozenset({("service", "notifications"), ("channel", channel)})
        return gauges[("socialsvc_gateway_breaker_failing", labels)]

    awaited = ("socialsvc_receipts_awaited", frozenset({("service", "notifications")}))
    oldest = ("socialsvc_receipt_oldest_wait_seconds", frozenset({("service", "notifications")}))
    assert (breaker(before, "sms"), breaker(outage, "sms"), breaker(after, "sms")) == (0, 1, 0)
    assert breaker(outage, "email") == 0
    # The half-open breaker let one probe through; the other four wait for the next round.
    assert (before[awaited], outage[awaited], after[awaited]) == (2, 2, 3)
    assert 20 * 60 <= before[oldest] < 21 * 60
    opened = [e for e in logs if e["event"] == "gateway breaker opened"]
    closed = [e for e in logs if e["event"] == "gateway breaker closed"]
    assert [(e["channel"], e["log_level"]) for e in opened] == [("sms", "warning")]
    assert opened[0]["errors"] == {"TransientDeliveryError": 5}
    assert [e["channel"] for e in closed] == ["sms"]
