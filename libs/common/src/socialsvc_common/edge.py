"""Limits at every service's HTTP edge, before a request reaches a route (issue 20).

- A request body is capped: a declared Content-Length over the cap is answered 413 before any of
  the body is read, and a body sent without one (chunked) is answered 413 as soon as it passes the
  cap; the rest is never read into memory.
- A client may send `per_second` requests a second, in bursts of up to `burst`; beyond that it is
  answered 429 with Retry-After (the seconds until its next request would be taken). A client is
  the holder of a known API key, by the key's name; any other caller (no key, an unknown key) is
  its address. The systems that speak for many people (the e-government gateway, the citizens'
  portal) and administrators' bulk tools are exempt by role, and a service may name routes
  without a limit (notifications: the gateways' signed receipts).
- A JSON body may not carry control characters (tab, line feed and carriage return excepted) or
  the bidirectional embedding, override and isolate characters in any string, key or value: they
  hide what a text says from the person who reads it (a name that displays differently from what
  is stored, a note whose words run backwards). The answer is 422 naming the field by its path.

Every answer is problem+json; none echoes the input. The text check parses a JSON body once
more (a form of a few kilobytes: tens of microseconds); other bodies are only counted.
"""

import json
import math
import re
import time
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from socialsvc_common.apikeys import KeyStore, Role
from socialsvc_common.problems import Problem, problem_response

__all__ = ["EXEMPT_ROLES", "EdgeLimits", "RateLimit", "hidden_text"]

EXEMPT_ROLES = frozenset({Role.SUBMITTER, Role.CITIZEN_PORTAL, Role.ADMINISTRATOR})
# Buckets kept at most.
MAX_CLIENTS = 10_000

# C0 controls but tab, LF and CR; DEL and the C1 controls; LRE, RLE, PDF, LRO, RLO; LRI, RLI,
# FSI, PDI.
_HIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def hidden_text(document: Any) -> Iterator[str]:
    """The paths (`applicant.first_name`, `notes.2`) of the strings in a parsed JSON document that
    hold a control or bidirectional-override character; a key that holds one is named itself.
    Walked with a stack of its own, so no nesting the parser took can exhaust Python's."""
    stack: list[tuple[str, Any]] = [("", document)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if _HIDDEN.search(value):
                yield path or "body"
        elif isinstance(value, dict):
            for key, item in value.items():
                where = f"{path}.{key}" if path else str(key)
                if _HIDDEN.search(key):
                    yield where
                stack.append((where, item))
        elif isinstance(value, list):
            stack.extend((f"{path}.{n}" if path else str(n), item) for n, item in enumerate(value))


@dataclass(frozen=True)
class RateLimit:
    per_second: float
    burst: int
    exempt: frozenset[Role] = EXEMPT_ROLES
    # Routes whose callers prove themselves otherwise and send as much as they must (a gateway's
    # signed delivery receipts, one per message it took).
    unlimited_paths: frozenset[str] = frozenset()


class _Buckets:
    """A token bucket per client: `burst` requests at once, refilled at `per_second`; at most
    MAX_CLIENTS of them, the least recently seen forgotten first (a forgotten client starts
    again with a full bucket)."""

    def __init__(self, limit: RateLimit) -> None:
        self._limit = limit
        self._state: OrderedDict[str, tuple[float, float]] = OrderedDict()  # (tokens, when)

    def wait(self, client: str, now: float) -> float:
        """0 when the client's request is taken now, else the seconds until one would be."""
        rate, burst = self._limit.per_second, float(self._limit.burst)
        tokens, then = self._state.pop(client, (burst, now))
        tokens = min(burst, tokens + (now - then) * rate)
        taken = tokens >= 1
        self._state[client] = (tokens - 1 if taken else tokens, now)
        if len(self._state) > MAX_CLIENTS:
            self._state.popitem(last=False)
        return 0.0 if taken else (1 - tokens) / rate


class EdgeLimits:
    """ASGI middleware: the rate limit, the body cap and the JSON text check of every request."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, rate: RateLimit | None = None) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self._rate = rate
        self._buckets = _Buckets(rate) if rate is not None else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self._rate is not None and self._buckets is not None:
            client = _client(scope, self._rate)
            wait = self._buckets.wait(client, time.monotonic()) if client else 0.0
            if wait:
                await _answer(scope, send, _slow_down(wait))
                return
        declared = _header(scope, b"content-length")
        if declared and (not declared.isdigit() or int(declared) > self.max_body_bytes):
            await self._too_large(scope, send)
            return
        await self._read(scope, receive, send)

    async def _read(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Reads the whole body, up to the cap, checks a JSON one's text, then hands it on as it
        came. Read here rather than counted as the route reads it: a route that meets an error
        while reading answers 400, where the caller should learn the body was too large."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                await self.app(scope, _replay([message], receive), send)
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                await self._too_large(scope, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        fields = _hidden_fields(body) if _is_json(_header(scope, b"content-type")) else []
        if fields:
            await _answer(scope, send, _hidden_problem(fields))
            return
        await self.app(scope, _replay([{"type": "http.request", "body": body}], receive), send)

    async def _too_large(self, scope: Scope, send: Send) -> None:
        detail = f"the request body may be at most {self.max_body_bytes} bytes"
        problem = Problem(413, "body-too-large", "Request body too large", detail)
        await _answer(scope, send, problem, close=True)


def _header(scope: Scope, name: bytes) -> bytes:
    return next((value for key, value in scope["headers"] if key == name), b"")


def _client(scope: Scope, rate: RateLimit) -> str | None:
    """Who is asking, for the rate limit: a known key's name, or the address; None for a caller
    whose role is exempt or a route without a limit."""
    if scope.get("path") in rate.unlimited_paths:
        return None
    key = _presented_key(scope)
    store: KeyStore | None = getattr(getattr(scope.get("app"), "state", None), "api_keys", None)
    caller = store.identify(key) if key and store is not None else None
    if caller is not None:
        return None if caller.role in rate.exempt else f"key:{caller.name}"
    peer = scope.get("client")
    return f"address:{peer[0] if peer else 'unknown'}"


def _presented_key(scope: Scope) -> str | None:
    bearer = _header(scope, b"authorization").decode("latin-1")
    scheme, _, credentials = bearer.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    header = _header(scope, b"x-api-key").decode("latin-1").strip()
    return header or None


def _slow_down(wait: float) -> Problem:
    seconds = max(1, math.ceil(wait))
    return Problem(
        429,
        "too-many-requests",
        "Too many requests",
        f"this client sends faster than it may; try again in {seconds} s",
        headers={"Retry-After": str(seconds)},
    )


def _is_json(content_type: bytes) -> bool:
    media = content_type.split(b";", 1)[0].strip().lower()
    return media == b"application/json" or media.endswith(b"+json")


def _hidden_fields(body: bytes) -> list[str]:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return []  # not JSON, or nested past the parser: the route's own validation answers
    return sorted(set(hidden_text(document)))


def _hidden_problem(fields: list[str]) -> Problem:
    return Problem(
        422,
        "hidden-characters",
        "Text with hidden characters",
        "text may not contain control characters or bidirectional embedding, override or "
        "isolate characters (U+202A-U+202E, U+2066-U+2069)",
        errors=[
            {"field": field, "message": "holds a control or bidirectional-override character"}
            for field in fields
        ],
    )


async def _no_body() -> Message:
    return {"type": "http.disconnect"}


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """A receive that gives `messages` first, then whatever the client sends next (a
    disconnect)."""
    pending = list(messages)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed


async def _answer(scope: Scope, send: Send, problem: Problem, *, close: bool = False) -> None:
    """The problem as every route answers one (problems.problem_response)."""
    if close:  # the rest of the body is not read: the connection cannot carry another request
        problem.headers["Connection"] = "close"
    response = problem_response(problem, Request(scope))
    await response(scope, _no_body, send)
