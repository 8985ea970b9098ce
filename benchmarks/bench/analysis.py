"""The platform's figures of one run, from the events read back and what the load recorded."""

from dataclasses import dataclass
from typing import Any

from benchmarks.bench.journeys import (
    Journey,
    Observed,
    Second,
    backlog_growth,
    journeys,
    stage_durations,
    timeline,
)
from benchmarks.bench.load import LoadResult
from benchmarks.bench.stats import Summary, summarise

STEADY_FROM, STEADY_TO = 0.1, 0.9  # the middle of the load, without ramp-up and tail


@dataclass(frozen=True, slots=True)
class PlatformFigures:
    accepted: int
    completed: int
    incomplete: int
    load_seconds: float
    offered_per_second: float
    sustained_per_second: float  # completions per second in the steady middle of the load
    end_to_end_per_second: float  # completed / (last delivery - first reception)
    backlog_growth_per_second: float
    latency: Summary
    stages: dict[str, Summary]
    seconds: list[Second]
    record_sizes: list[int]

    def as_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "completed": self.completed,
            "incomplete": self.incomplete,
            "load_seconds": self.load_seconds,
            "offered_per_second": self.offered_per_second,
            "sustained_per_second": self.sustained_per_second,
            "end_to_end_per_second": self.end_to_end_per_second,
            "backlog_growth_per_second": self.backlog_growth_per_second,
            "latency_seconds": self.latency.as_dict(),
            "stages_seconds": {name: s.as_dict() for name, s in self.stages.items()},
            "mean_record_bytes": sum(self.record_sizes) / max(len(self.record_sizes), 1),
            "timeline": [
                {
                    "at": s.at,
                    "received": s.received,
                    "completed": s.completed,
                    "backlog": s.backlog,
                    "p50": s.p50,
                    "p99": s.p99,
                }
                for s in self.seconds
            ],
        }


def steady_rate(found: list[Journey], first: float, load_seconds: float) -> float:
    """Completions per second between 10% and 90% of the load, counted by last delivery."""
    low, high = first + STEADY_FROM * load_seconds, first + STEADY_TO * load_seconds
    done = [j.done for j in found]
    inside = sum(1 for t in done if t is not None and low <= t < high)
    return inside / (high - low) if high > low else 0.0


def analyse(events: list[Observed], load: LoadResult, start: float) -> PlatformFigures:
    found = list(journeys(events).values())
    received = [j.received for j in found if j.received is not None]
    finished = [d for j in found if (d := j.done) is not None]
    load_seconds = load.ended - load.started
    first = min(received, default=start)
    seconds = timeline(found, start)
    stages = {k: summarise(v) for k, v in stage_durations(found).items()}
    span = max(finished, default=first) - first
    return PlatformFigures(
        accepted=load.accepted,
        completed=len(finished),
        incomplete=max(load.accepted, len(received)) - len(finished),
        load_seconds=load_seconds,
        offered_per_second=load.accepted / load_seconds if load_seconds else 0.0,
        sustained_per_second=steady_rate(found, first, load_seconds),
        end_to_end_per_second=len(finished) / span if span > 0 else 0.0,
        backlog_growth_per_second=backlog_growth(seconds, load_seconds + (first - start)),
        latency=stages["received->delivered"],
        stages=stages,
        seconds=seconds,
        record_sizes=[e.size for e in events],
    )
