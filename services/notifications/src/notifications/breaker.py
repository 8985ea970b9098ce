"""A circuit breaker per gateway: after a run of failures, stop calling it for a while.

A gateway that is down answers every call with a timeout; calling it for each waiting message only
slows the others and the gateway's recovery. Open, the breaker says when to try again; half-open,
it lets one message through to probe; that message's fate closes or reopens it.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass
class CircuitBreaker:
    failures_to_open: int = 5
    cooldown: timedelta = timedelta(seconds=30)
    _failures: int = 0
    _open_until: datetime | None = None
    _probing: bool = field(default=False)

    def allows(self, now: datetime) -> bool:
        """Whether a call may go to the gateway now."""
        if self._open_until is None:
            return True
        if now < self._open_until or self._probing:
            return False
        self._probing = True
        return True

    def retry_at(self, now: datetime) -> datetime:
        """When a message refused by an open breaker should be tried again."""
        return max(now, self._open_until or now)

    def succeeded(self) -> None:
        self._failures, self._open_until, self._probing = 0, None, False

    def failed(self, now: datetime) -> None:
        self._failures += 1
        if self._probing or self._failures >= self.failures_to_open:
            self._open_until, self._probing = now + self.cooldown, False

    @property
    def is_open(self) -> bool:
        return self._open_until is not None
