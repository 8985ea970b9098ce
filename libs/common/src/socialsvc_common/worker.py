"""The background loops of the services (outbox relay, message dispatcher, offer sweeper) in one
shape: do a step of work until asked to stop; rest when there is nothing to do, unless woken;
back off after a failure and try again, since an outage must not end the loop."""

import asyncio
import contextlib

import structlog


class Worker:
    """Subclasses implement `step()`, returning True when more work is waiting right away."""

    def __init__(
        self, name: str, *, idle_seconds: float, max_backoff_seconds: float = 10.0
    ) -> None:
        self._idle = idle_seconds
        self._max_backoff = max_backoff_seconds
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()
        self._log = structlog.get_logger(name)
        self.working = False  # in a step now, not at rest

    async def step(self) -> bool:
        raise NotImplementedError

    def wake(self) -> None:
        """Look for work at once (e.g. after a commit that made some)."""
        self._wake.set()

    def stop(self) -> None:
        """Finish the step in hand, then stop (a cancel mid-step may repeat it on restart)."""
        self._stopping.set()
        self._wake.set()

    async def run(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            self.working = True
            try:
                busy = await self.step()
                failures = 0
            except Exception as error:
                failures += 1
                delay = min(self._max_backoff, 0.2 * 2**failures)
                self._log.warning("step failed", error=repr(error), retry_in=delay)
                await self._rest(delay)
                continue
            if not busy:
                await self._rest(self._idle)

    async def _rest(self, seconds: float) -> None:
        self.working = False
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)
        self._wake.clear()
