"""Notifications' own gauges on /metrics, set when it is scraped: whether each gateway's breaker is
open with a recent failure, and how many messages the gateways took without reporting on them
yet, the oldest for how long. The GatewayBreakerOpen and ReceiptsMissing alerts
(deploy/prometheus/alerts.yml) read them."""

from datetime import UTC, datetime

from prometheus_client import Gauge
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from notifications.dispatcher import Dispatcher
from notifications.store import awaiting_receipts
from socialsvc_common.metrics import Metrics


class GatewayGauges:
    def __init__(
        self,
        metrics: Metrics,
        sessions: async_sessionmaker[AsyncSession],
        dispatcher: Dispatcher,
    ) -> None:
        self._service = metrics.service
        self._sessions = sessions
        self._dispatcher = dispatcher
        self._breaker_failing = Gauge(
            "socialsvc_gateway_breaker_failing",
            "1 while the gateway's circuit breaker is open (calls stopped after a run of "
            "failures) and its gateway failed within the last two cooldowns, else 0.",
            ["service", "channel"],
            registry=metrics.registry,
        )
        self._awaited = Gauge(
            "socialsvc_receipts_awaited",
            "Messages a gateway took whose delivery receipt has not come yet.",
            ["service"],
            registry=metrics.registry,
        )
        self._oldest = Gauge(
            "socialsvc_receipt_oldest_wait_seconds",
            "How long ago a gateway took the message that waits longest for its receipt; 0 when "
            "none waits.",
            ["service"],
            registry=metrics.registry,
        )

    async def read(self) -> None:
        now = datetime.now(UTC)
        for channel, failing in self._dispatcher.breakers_failing(now).items():
            self._breaker_failing.labels(self._service, channel.value).set(int(failing))
        async with self._sessions() as session:
            awaited, oldest = await awaiting_receipts(session)
        wait = (now - oldest).total_seconds() if oldest else 0.0
        self._awaited.labels(self._service).set(awaited)
        self._oldest.labels(self._service).set(max(wait, 0.0))
