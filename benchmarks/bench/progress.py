"""A progress line every few seconds while a run goes on: elapsed time, submissions so far and the
consumer lag of each service, so a long run is seen moving (and a stuck one seen stuck)."""

import asyncio
import time
from collections.abc import Callable

from benchmarks.bench.lag import LagWatch
from benchmarks.bench.load import Tally

EVERY = 5.0  # seconds


def progress_line(elapsed: float, tally: Tally, lag: dict[str, int] | None) -> str:
    """One line: `bench: 35 s, submitted 700, accepted 700; lag intake 0 eligibility 12 ...`."""
    line = f"bench: {elapsed:.0f} s, submitted {tally.submitted}, accepted {tally.accepted}"
    if lag is None:
        return line + "; lag not sampled yet"
    return line + "; lag " + " ".join(f"{service} {count}" for service, count in lag.items())


async def report_progress(
    started: float, tally: Callable[[], Tally], lag: LagWatch, every: float = EVERY
) -> None:
    """Prints a progress line every `every` seconds until cancelled."""
    while True:
        await asyncio.sleep(every)
        latest = lag.samples[-1][1] if lag.samples else None
        print(progress_line(time.time() - started, tally(), latest), flush=True)
