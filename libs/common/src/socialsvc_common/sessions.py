"""Who is signed in to a page of the platform (the operations page, the workspace), and who has
been guessing keys.

A session is a random opaque token held only in this process's memory: a restart signs everybody
out, and the cookie never carries the API key, so a stolen cookie dies with its expiry. What a
session holds is the page's own business: the operations page keeps the `Caller`, the workspace
the signed-in person with their CSRF token.
"""

import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

SESSION_SECONDS = 8 * 3600
FAILURE_WINDOW_SECONDS = 300.0
MAX_FAILURES = 10
Clock = Callable[[], float]
Held = TypeVar("Held")


@dataclass(frozen=True, slots=True)
class Session(Generic[Held]):
    holder: Held
    expires: float


@dataclass
class Sessions(Generic[Held]):
    """Tokens handed out at sign-in, each with what it holds (who signed in) and its expiry
    (monotonic seconds)."""

    lifetime: float = SESSION_SECONDS
    clock: Clock = time.monotonic
    _by_token: dict[str, Session[Held]] = field(default_factory=dict)

    def open(self, holder: Held) -> str:
        """A new session for `holder`; its token, for the cookie."""
        self._forget_expired()
        token = secrets.token_urlsafe(32)
        self._by_token[token] = Session(holder, self.clock() + self.lifetime)
        return token

    def caller(self, token: str) -> Held | None:
        """What a live session holds, or None for a token that is unknown or expired."""
        found = self._by_token.get(token)
        if found is None:
            return None
        if found.expires <= self.clock():
            del self._by_token[token]
            return None
        return found.holder

    def close(self, token: str) -> None:
        """Ends a session (sign-out); an unknown token is no error."""
        self._by_token.pop(token, None)

    def __len__(self) -> int:
        return len(self._by_token)

    def _forget_expired(self) -> None:
        now = self.clock()
        for token in [t for t, s in self._by_token.items() if s.expires <= now]:
            del self._by_token[token]


@dataclass
class Throttle:
    """Failed key attempts per client address. A key holds 256 random bits, so guessing is
    hopeless anyway; the limit keeps the page from serving as a cheap oracle and makes a
    scripted attempt visible in the log. Past `limit` failures within `window` seconds the
    client is refused until its oldest failure leaves the window."""

    limit: int = MAX_FAILURES
    window: float = FAILURE_WINDOW_SECONDS
    clock: Clock = time.monotonic
    _failures: dict[str, deque[float]] = field(default_factory=dict)

    def wait(self, client: str) -> float:
        """Seconds `client` must wait before its next attempt counts; 0 when it may try now."""
        recent = self._recent(client)
        if len(recent) < self.limit:
            return 0.0
        return max(recent[0] + self.window - self.clock(), 0.0)

    def __len__(self) -> int:
        """How many clients have failures on record."""
        return len(self._failures)

    def failed(self, client: str) -> None:
        """Records a failed attempt of `client` now."""
        self._failures[client] = self._recent(client)
        self._failures[client].append(self.clock())

    def _recent(self, client: str) -> deque[float]:
        cutoff = self.clock() - self.window
        # Forget clients whose failures have all aged out, so the table cannot grow for ever.
        for other in [c for c, times in self._failures.items() if times[-1] <= cutoff]:
            del self._failures[other]
        recent = self._failures.get(client, deque())
        while recent and recent[0] <= cutoff:
            recent.popleft()
        return recent
