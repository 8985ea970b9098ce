"""The targets of issue 9, judged against one run's figures."""

from dataclasses import dataclass

THROUGHPUT_TARGET = 1000.0  # applications per second, sustained
THROUGHPUT_SECONDS = 300.0  # ... for five minutes
LATENCY_TARGET = 1.0  # p99 seconds from acceptance to the last delivered message
LATENCY_RATE = 500.0  # ... at this rate
RSS_TARGET_MB = 200.0  # each service process
# Backlog growth per second (of the offered rate) beyond which the lag counts as growing.
GROWTH_TOLERANCE = 0.01
DURATION_TOLERANCE = 0.01


@dataclass(frozen=True, slots=True)
class Verdict:
    target: str
    passed: bool
    detail: str

    def as_dict(self) -> dict[str, object]:
        return {"target": self.target, "passed": self.passed, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class RunFigures:
    load_seconds: float
    offered_per_second: float  # accepted submissions per second of the load
    sustained_per_second: float
    backlog_growth_per_second: float
    incomplete: int
    p99_seconds: float
    service_peak_rss_mb: dict[str, float]


def throughput(f: RunFigures) -> Verdict:
    growing = f.backlog_growth_per_second > GROWTH_TOLERANCE * max(f.offered_per_second, 1.0)
    problems = []
    # The load runs from the first submission to the last, a fraction of a second short of the
    # duration asked for.
    if f.load_seconds < THROUGHPUT_SECONDS * (1 - DURATION_TOLERANCE):
        problems.append(f"ran {f.load_seconds:.0f} s, not {THROUGHPUT_SECONDS:.0f} s")
    if f.sustained_per_second < THROUGHPUT_TARGET:
        problems.append(f"sustained {f.sustained_per_second:.1f}/s")
    if growing:
        problems.append(f"backlog grew {f.backlog_growth_per_second:.1f}/s")
    if f.incomplete:
        problems.append(f"{f.incomplete} applications not completed")
    detail = "; ".join(problems) or (f"sustained {f.sustained_per_second:.1f}/s, backlog steady")
    return Verdict(
        f">= {THROUGHPUT_TARGET:.0f} applications/s for {THROUGHPUT_SECONDS:.0f} s, no growing lag",
        not problems,
        detail,
    )


def latency(f: RunFigures) -> Verdict:
    problems = []
    if f.offered_per_second < LATENCY_RATE:
        problems.append(f"offered {f.offered_per_second:.1f}/s, below {LATENCY_RATE:.0f}/s")
    if not f.p99_seconds < LATENCY_TARGET:
        problems.append(f"p99 {f.p99_seconds:.3f} s")
    detail = "; ".join(problems) or f"p99 {f.p99_seconds:.3f} s at {f.offered_per_second:.0f}/s"
    return Verdict(f"p99 < {LATENCY_TARGET:.0f} s at {LATENCY_RATE:.0f}/s", not problems, detail)


def memory(f: RunFigures) -> Verdict:
    over = {name: mb for name, mb in f.service_peak_rss_mb.items() if mb >= RSS_TARGET_MB}
    worst = max(f.service_peak_rss_mb.items(), key=lambda item: item[1], default=("none", 0.0))
    detail = (
        ", ".join(f"{name} {mb:.0f} MB" for name, mb in over.items())
        if over
        else f"largest {worst[0]} {worst[1]:.0f} MB"
    )
    return Verdict(
        f"each service < {RSS_TARGET_MB:.0f} MB RSS",
        not over and bool(f.service_peak_rss_mb),
        detail,
    )


def judge(f: RunFigures) -> list[Verdict]:
    return [throughput(f), latency(f), memory(f)]
