"""The targets of issue 15, judged against one run's figures."""

from dataclasses import dataclass

THROUGHPUT_TARGET = 300.0  # applications per second, sustained
THROUGHPUT_SECONDS = 300.0  # ... for five minutes
# p99 seconds from acceptance to the last delivered message, at about this offered rate.
LATENCY_TARGETS = ((100.0, 1.0), (300.0, 2.0))
# A run is judged against the latency target of a rate it offered within this fraction.
RATE_TOLERANCE = 0.1
CPU_TARGET_MS = 5.0  # CPU per application over the four services
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
    service_cpu_ms_per_application: float | None = None


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


def latency(f: RunFigures) -> list[Verdict]:
    """The latency target of the rate the run offered, if it offered one of them."""
    verdicts = []
    for rate, limit in LATENCY_TARGETS:
        if abs(f.offered_per_second - rate) > RATE_TOLERANCE * rate:
            continue
        passed = f.p99_seconds < limit
        detail = f"p99 {f.p99_seconds:.3f} s at {f.offered_per_second:.0f}/s"
        verdicts.append(Verdict(f"p99 < {limit:.0f} s at {rate:.0f}/s", passed, detail))
    return verdicts


def cpu(f: RunFigures) -> Verdict:
    spent = f.service_cpu_ms_per_application
    detail = "not measured" if spent is None else f"{spent:.2f} ms per application"
    passed = spent is not None and spent <= CPU_TARGET_MS
    return Verdict(f"four services <= {CPU_TARGET_MS:.0f} ms CPU per application", passed, detail)


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
    return [throughput(f), *latency(f), cpu(f), memory(f)]
