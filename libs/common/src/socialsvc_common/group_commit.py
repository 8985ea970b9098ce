"""Group commit: requests that arrive together are written in one transaction.

A request hands its command over and waits. When no transaction is being written, the commands
waiting are taken (up to a bound) and applied together; requests that arrive meanwhile wait for the
next one. Each request is answered only after the transaction holding its command has committed,
with its own outcome: a result, or the exception that refuses it. Under load many share one
transaction and one WAL flush. With `linger_seconds`, the first command after a quiet moment waits
that long for others to join it, or until a full batch waits, as a Kafka producer lingers: at
moderate load, where requests come a few milliseconds apart and would each commit alone, they
share transactions too, for at most that much more time before the answer. Without it, a command
at low load is applied at once.

If a whole transaction fails, its commands are applied again one by one, so a command that cannot
be applied fails alone.
"""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

import structlog
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from socialsvc_common.db import transaction

C = TypeVar("C")
R = TypeVar("R")
# Applies the commands in the caller's transaction: for each, its result or the exception that
# refuses it (returned, not raised, so the others still commit).
Apply = Callable[[AsyncSession, Sequence[C]], Awaitable[Sequence[R | Exception]]]


class GroupCommit(Generic[C, R]):
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        apply: Apply[C, R],
        *,
        max_batch: int = 200,
        linger_seconds: float = 0.0,
        name: str = "group-commit",
    ) -> None:
        self._sessions = sessions
        self._apply = apply
        self._max_batch = max_batch
        self._linger = linger_seconds
        self._waiting: list[tuple[C, asyncio.Future[R]]] = []
        self._full = asyncio.Event()  # a full batch waits: the linger ends
        self._writer: asyncio.Task[None] | None = None
        self._log = structlog.get_logger(name)

    async def submit(self, command: C) -> R:
        """Applies the command with those waiting beside it; returns after their commit."""
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._waiting.append((command, future))
        if len(self._waiting) >= self._max_batch:
            self._full.set()
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_all())
        return await future

    async def _write_all(self) -> None:
        if self._linger > 0 and len(self._waiting) < self._max_batch:
            self._full.clear()  # set by a batch that filled while the last writer wrote
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._full.wait(), self._linger)
        while self._waiting:
            batch = self._waiting[: self._max_batch]
            del self._waiting[: self._max_batch]
            await self._write(batch)

    async def _write(self, batch: list[tuple[C, "asyncio.Future[R]"]]) -> None:
        try:
            async with transaction(self._sessions) as session:
                outcomes = await self._apply(session, [command for command, _ in batch])
        except Exception as error:
            if len(batch) == 1:
                _settle(batch[0][1], error)
                return
            self._log.warning(
                "group transaction failed; one by one", error=repr(error), commands=len(batch)
            )
            for one in batch:
                await self._write([one])
            return
        self._log.debug("group committed", commands=len(batch))
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            _settle(future, outcome)


def _settle(future: "asyncio.Future[R]", outcome: "R | BaseException") -> None:
    # A request whose client went away has a cancelled future; the others are answered.
    if future.done():
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)
