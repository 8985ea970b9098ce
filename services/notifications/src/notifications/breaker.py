"""A circuit breaker per gateway: after a run of failures, stop calling it for a while.

A gateway that is down answers every call with a timeout; calling it for each waiting message only
slows the others and the gateway's recovery. Open, the breaker says when to try again; half-open,
it lets one message through to probe; that message's fate closes or reopens it.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

PROBE_WAIT = timedelta(seconds=1)


@dataclass
class CircuitBreaker:
    failures_to_open: int = 5
    cooldown: timedelta = timedelta(seconds=30)
    _failures: int = 0
    _open_until: datetime | None = None
    _probe_since: datetime | None = field(default=None)

    def allows(self, now: datetime) -> bool:
        """Whether a call may go to the gateway now."""
        if self._open_until is None:
            return True
        if now < self._open_until:
            return False
        # One probe at a time; a probe whose outcome never came back (its caller failed in
        # some other way) is given up after a cooldown, so the breaker cannot stay half-open.
        if self._probe_since is not None and now < self._probe_since + self.cooldown:
            return False
        self._probe_since = now
        return True

    def retry_at(self, now: datetime) -> datetime:
        """When a message refused by the breaker should be tried again (never at once, so that
        waiting messages are not picked up again and again while a probe is out)."""
        if self._open_until is not None and now < self._open_until:
            return self._open_until
        return now + min(self.cooldown, PROBE_WAIT)

    def succeeded(self) -> None:
        self._failures, self._open_until, self._probe_since = 0, None, None

    def failed(self, now: datetime) -> None:
        self._failures += 1
        if self._probe_since is not None or self._failures >= self.failures_to_open:
            self._open_until, self._probe_since = now + self.cooldown, None

    @property
    def is_open(self) -> bool:
        return self._open_until is not None

    def failing(self, now: datetime) -> bool:
        """Open, and its gateway failed within the last two cooldowns: a breaker left open
        because nothing was due for its gateway (quiet hours) has no failing probe to show."""
        return self._open_until is not None and now < self._open_until + self.cooldown
