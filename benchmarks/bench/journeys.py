"""From the events on the topics to each application's journey: when it was received, decided,
placed and its last message delivered, all by the events' own `ce_time`."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from benchmarks.bench.stats import Summary, slope, summarise


class Kind(StrEnum):
    RECEIVED = "received"
    DECIDED = "decided"
    PLACED = "placed"  # placed or waitlisted: both are told to the citizen
    REFUSED = "refused"  # a placement refused for a clash: not told
    DELIVERED = "delivered"
    FAILED = "failed"  # a final delivery failure; it ends the message as a delivery does


# Notifications tells the citizen of each of these events once.
NOTIFIED = frozenset({Kind.RECEIVED, Kind.DECIDED, Kind.PLACED})
STAGES = ("received->decided", "decided->placed", "last step->delivered", "received->delivered")


@dataclass(frozen=True, slots=True)
class Observed:
    """One event about one application, as read from a topic."""

    application_id: str
    kind: Kind
    time: float  # seconds since the epoch, from ce_time
    size: int  # bytes of the record's value


@dataclass
class Journey:
    received: float | None = None
    decided: float | None = None
    placed: float | None = None
    notified: int = 0
    ended: list[float] = field(default_factory=list)

    @property
    def done(self) -> float | None:
        """When the last message was delivered, once every message the journey owes has ended."""
        if self.received is None or self.notified == 0 or len(self.ended) < self.notified:
            return None
        return max(self.ended)

    @property
    def last_step(self) -> float | None:
        return self.placed if self.placed is not None else self.decided


def first(current: float | None, time: float) -> float:
    return time if current is None else min(current, time)


def journeys(events: Iterable[Observed]) -> dict[str, Journey]:
    found: dict[str, Journey] = defaultdict(Journey)
    for event in events:
        journey = found[event.application_id]
        if event.kind in NOTIFIED:
            journey.notified += 1
        if event.kind is Kind.RECEIVED:
            journey.received = first(journey.received, event.time)
        elif event.kind is Kind.DECIDED:
            journey.decided = first(journey.decided, event.time)
        elif event.kind is Kind.PLACED:
            journey.placed = first(journey.placed, event.time)
        elif event.kind in (Kind.DELIVERED, Kind.FAILED):
            journey.ended.append(event.time)
    return dict(found)


def stage_durations(found: Iterable[Journey]) -> dict[str, list[float]]:
    """Seconds spent in each stage by the journeys that completed it."""
    stages: dict[str, list[float]] = {stage: [] for stage in STAGES}
    for j in found:
        done = j.done
        if j.received is not None and j.decided is not None:
            stages["received->decided"].append(j.decided - j.received)
        if j.decided is not None and j.placed is not None:
            stages["decided->placed"].append(j.placed - j.decided)
        last = j.last_step
        if done is not None and last is not None:
            stages["last step->delivered"].append(done - last)
        if done is not None and j.received is not None:
            stages["received->delivered"].append(done - j.received)
    return stages


@dataclass(frozen=True, slots=True)
class Second:
    """What happened in one second of the run (`at`, from the start)."""

    at: int
    received: int
    completed: int
    backlog: int  # received so far and not yet completed
    p50: float
    p99: float


def timeline(found: Iterable[Journey], start: float) -> list[Second]:
    """Per second from `start`: applications received, completed (by their last delivery), the
    backlog and the latency of those completed in that second."""
    received: dict[int, int] = defaultdict(int)
    latencies: dict[int, list[float]] = defaultdict(list)
    for j in found:
        if j.received is not None:
            received[int(j.received - start)] += 1
            if (done := j.done) is not None:
                latencies[int(done - start)].append(done - j.received)
    if not received:
        return []
    seconds: list[Second] = []
    backlog = 0
    for at in range(min(received), max([*received, *latencies]) + 1):
        done_here = latencies.get(at, [])
        backlog += received.get(at, 0) - len(done_here)
        summary = summarise(done_here)
        seconds.append(
            Second(at, received.get(at, 0), len(done_here), backlog, summary.p50, summary.p99)
        )
    return seconds


def backlog_growth(seconds: list[Second], load_seconds: float) -> float:
    """Growth of the backlog in applications per second over the second half of the load; a
    system that keeps up stays near zero, one that falls behind grows by (offered - served)."""
    half = [(s.at, float(s.backlog)) for s in seconds if load_seconds / 2 <= s.at < load_seconds]
    return slope(half)


def latency_summary(found: Iterable[Journey]) -> Summary:
    return summarise(stage_durations(found)["received->delivered"])
