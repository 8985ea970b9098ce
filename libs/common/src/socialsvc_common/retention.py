"""Retention of working tables: rows whose purpose has passed are deleted, a batch at a time, so
no table grows without bound.

Each service runs one `Pruner` with its rules: every service prunes its inbox claims once no
topic can deliver their event again (a claim older than the longest topic retention guards
nothing); a service adds rules for its own tables (intake's journeys of closed applications,
notifications' finished messages). The outbox needs no rule: the relay deletes what it sent.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Delete, Table, delete, select, tuple_
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from socialsvc_common.db import run, transaction
from socialsvc_common.inbox import InboxRow
from socialsvc_common.worker import Worker

BATCH = 5_000
INTERVAL_SECONDS = 3_600.0


@dataclass(frozen=True)
class Rule:
    """`statement(cutoff, limit)` deletes at most `limit` rows (or row groups) older than
    `cutoff`; `keep` is how long a row stays."""

    name: str
    keep: timedelta
    statement: Callable[[datetime, int], Delete]


def inbox_rule(keep: timedelta) -> Rule:
    """Claims of events processed before the cutoff."""
    inbox: Table = InboxRow.__table__  # type: ignore[attr-defined]
    key = tuple_(inbox.c.consumer, inbox.c.event_id)

    def statement(cutoff: datetime, limit: int) -> Delete:
        old = select(inbox.c.consumer, inbox.c.event_id)
        old = old.where(inbox.c.processed_at < cutoff).limit(limit)
        return delete(inbox).where(key.in_(old))

    return Rule("inbox", keep, statement)


class Pruner(Worker):
    """Applies its rules every `interval_seconds`; at most `batch` rows per rule and
    transaction, and again at once while a rule still finds a full batch."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        rules: Sequence[Rule],
        *,
        interval_seconds: float = INTERVAL_SECONDS,
        batch: int = BATCH,
    ) -> None:
        super().__init__("retention", idle_seconds=interval_seconds)
        self._sessions = sessions
        self._rules = rules
        self._batch = batch

    async def step(self) -> bool:
        pruned = await self.prune_once()
        return any(count >= self._batch for count in pruned.values())

    async def prune_once(self, now: datetime | None = None) -> dict[str, int]:
        """One pass: rows deleted by each rule."""
        now = now or datetime.now(UTC)
        pruned = {}
        for rule in self._rules:
            async with transaction(self._sessions) as session:
                result = await run(session, rule.statement(now - rule.keep, self._batch))
            pruned[rule.name] = result.rowcount
        if any(pruned.values()):
            self._log.info("pruned", **pruned)
        return pruned
