"""A placement step over HTTP: one transaction with its events, tried again after a deadlock."""

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.exc import OperationalError
from sqlmodel.ext.asyncio.session import AsyncSession

from assignment.placements import NAME
from socialsvc_common.contract.envelope import Event
from socialsvc_common.db import transaction
from socialsvc_common.outbox import add_events
from socialsvc_common.service import Runtime

DEADLOCK_RETRIES = 3
RETRYABLE = {"40P01", "40001"}  # deadlock detected, serialization failure
Work = Callable[[AsyncSession], Awaitable[list[Event]]]


async def run_step(runtime: Runtime, work: Work) -> dict[str, Any]:
    """Runs `work` in a transaction that stores its events; answers with the events' types."""
    for attempt in range(1, DEADLOCK_RETRIES + 1):
        try:
            async with transaction(runtime.sessions) as session:
                events = await work(session)
                await add_events(session, events)
            break
        except OperationalError as error:
            # PostgreSQL ends one side of a deadlock or serialisation clash; the step is
            # safe to run again from the start.
            if (
                getattr(error.orig, "sqlstate", None) not in RETRYABLE
                or attempt == DEADLOCK_RETRIES
            ):
                raise
    runtime.relay.wake()
    # What the caller asked for caused these; the partner twins are not news to it.
    return {"events": [e.envelope.type for e in events if e.topic.owner == NAME]}
