"""Escalation of appeals past the reviewer's time limit: a warning in the log and a gauge, checked
every few minutes, so whoever watches the service sees reviews running late."""

from datetime import UTC, datetime

from prometheus_client import Gauge
from sqlalchemy import func
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from eligibility.appeals.store import AppealRow
from socialsvc_common.metrics import Metrics
from socialsvc_common.worker import Worker


class OverdueAppeals(Worker):
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], metrics: Metrics, interval: float
    ) -> None:
        super().__init__("appeals-overdue", idle_seconds=interval)
        self._sessions = sessions
        self._gauge = Gauge(
            "socialsvc_appeals_overdue",
            "Appeals still open past the reviewer's time limit (GET /appeals?overdue=true).",
            registry=metrics.registry,
        )

    async def step(self) -> bool:
        await self.check()
        return False

    async def check(self) -> int:
        query = select(func.count()).where(
            AppealRow.status == "lodged", col(AppealRow.respond_by) <= datetime.now(UTC)
        )
        async with self._sessions() as session:
            overdue = int((await session.exec(query)).one())
        self._gauge.set(overdue)
        if overdue:
            self._log.warning("appeals overdue", count=overdue, see="GET /appeals?overdue=true")
        return overdue
