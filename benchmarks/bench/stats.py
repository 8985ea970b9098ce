"""Pure figures: percentiles, summaries and the pacing of a fixed submission rate."""

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile of `values` (fraction in [0, 1]); NaN when there are none.

    Nearest rank rather than interpolation: p99 is a latency some application really had.
    """
    if not values:
        return math.nan
    if not 0 <= fraction <= 1:
        raise ValueError(f"fraction {fraction} is not between 0 and 1")
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True, slots=True)
class Summary:
    """Count, mean and the percentiles the report prints, in the unit of the values given."""

    count: int
    mean: float
    p50: float
    p95: float
    p99: float
    max: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def summarise(values: Sequence[float]) -> Summary:
    if not values:
        return Summary(0, math.nan, math.nan, math.nan, math.nan, math.nan)
    return Summary(
        count=len(values),
        mean=sum(values) / len(values),
        p50=percentile(values, 0.50),
        p95=percentile(values, 0.95),
        p99=percentile(values, 0.99),
        max=max(values),
    )


def due_at(start: float, rate: float, index: int) -> float:
    """When submission number `index` (from 0) is due at `rate` per second from `start`.

    The schedule is fixed in advance, so a slow answer delays nothing after it and the rate
    offered stays the rate asked for (no coordinated omission).
    """
    if rate <= 0:
        raise ValueError("a paced rate must be positive")
    return start + index / rate


def submissions_due(rate: float, duration: float) -> int:
    """How many submissions a run of `duration` seconds at `rate` per second makes."""
    return math.floor(rate * duration)


def slope(points: Sequence[tuple[float, float]]) -> float:
    """Least-squares slope of (x, y) points; 0 for fewer than two distinct x."""
    if len(points) < 2:
        return 0.0
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    if spread == 0:
        return 0.0
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / spread
