"""The benchmark's pure parts: percentiles, the pacing schedule, journeys and stages from events,
the backlog verdict and the parsing of ProducerPerformance's summary."""

import math
import time
from collections import Counter

import pytest

from benchmarks.bench import run
from benchmarks.bench.journeys import Kind, Observed, journeys, stage_durations, timeline
from benchmarks.bench.load import LoadResult
from benchmarks.bench.perf import parse_summary
from benchmarks.bench.report import commits_per_application
from benchmarks.bench.stats import due_at, percentile, slope, submissions_due, summarise
from benchmarks.bench.targets import RunFigures, judge
from benchmarks.message_stages import report


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]  # 1..100
    assert percentile(values, 0.50) == 50
    assert percentile(values, 0.99) == 99
    assert percentile(values, 1.0) == 100
    assert percentile([7.0], 0.99) == 7
    assert math.isnan(percentile([], 0.5))
    summary = summarise(list(reversed(values)))
    assert (summary.count, summary.p95, summary.max, summary.mean) == (100, 95, 100, 50.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        percentile(values, 99)


def test_message_stages_are_split_over_all_messages_and_by_kind() -> None:
    rows = [("received", 0.1 * n, 0.2, 0.01 * n) for n in range(1, 11)]
    rows += [("placement_made", 5.0, 0.3, 0.5)]
    lines = report(rows)
    assert lines[1].split()[-4:] == ["11", "0.600", "1.000", "5.000"]  # event -> consumed
    assert lines[2].split()[-4:] == ["11", "0.200", "0.200", "0.300"]  # consumed -> sent
    kinds = [line.strip() for line in lines if line.startswith("  ") and len(line.split()) == 1]
    assert kinds == ["placement_made", "received"]
    received = lines[lines.index("  received") + 3]
    assert received.split()[-4:] == ["10", "0.050", "0.090", "0.100"]  # sent -> delivered


def test_the_schedule_is_fixed_by_the_rate_not_by_the_answers() -> None:
    assert [due_at(10.0, 4, n) for n in range(5)] == [10.0, 10.25, 10.5, 10.75, 11.0]
    assert submissions_due(500, 300) == 150_000
    with pytest.raises(ValueError, match="positive"):
        due_at(0.0, 0, 1)


def events(app: str, *steps: tuple[Kind, float]) -> list[Observed]:
    return [Observed(app, kind, at, 100) for kind, at in steps]


def test_a_journey_is_done_when_every_notified_event_has_its_message() -> None:
    placed = events(
        "a",
        (Kind.RECEIVED, 100.0),
        (Kind.DELIVERED, 100.5),
        (Kind.DECIDED, 101.0),
        (Kind.PLACED, 103.0),
        (Kind.DELIVERED, 101.5),
        (Kind.DELIVERED, 104.0),
    )
    refused = events("b", (Kind.RECEIVED, 100.0), (Kind.DECIDED, 100.2), (Kind.DELIVERED, 100.4))
    found = journeys([*placed, *refused])
    assert found["a"].done == 104.0
    assert found["b"].done is None  # the decision's message has not been delivered yet
    stages = stage_durations(found.values())
    assert stages["received->decided"] == [1.0, pytest.approx(0.2)]
    assert stages["decided->placed"] == [2.0]
    assert stages["last step->delivered"] == [1.0]
    assert stages["received->delivered"] == [4.0]


def test_a_final_failure_ends_a_message_as_a_delivery_does() -> None:
    found = journeys(
        events("c", (Kind.RECEIVED, 0.0), (Kind.DECIDED, 1.0), (Kind.DELIVERED, 0.5))
        + events("c", (Kind.FAILED, 2.0))
    )
    assert found["c"].done == 2.0


def test_the_timeline_counts_per_second_and_keeps_the_backlog() -> None:
    found = []
    for n in range(10):  # one received every 0.5 s, each done 1.2 s later
        at = 1000.0 + n * 0.5
        found += events(f"x{n}", (Kind.RECEIVED, at), (Kind.DELIVERED, at + 1.2))
    seconds = timeline(journeys(found).values(), start=1000.0)
    assert [s.received for s in seconds] == [2, 2, 2, 2, 2, 0]
    assert [s.completed for s in seconds] == [0, 2, 2, 2, 2, 2]
    assert [s.backlog for s in seconds] == [2, 2, 2, 2, 2, 0]
    assert seconds[2].p50 == pytest.approx(1.2)


def test_a_growing_backlog_fails_the_throughput_target() -> None:
    assert slope([(0, 0), (1, 10), (2, 20)]) == pytest.approx(10)
    steady = RunFigures(300, 305, 303, 0.5, 0, 1.4, {"intake": 150.0}, 4.2)
    falling_behind = RunFigures(300, 305, 200, 100.0, 0, 8.0, {"intake": 150.0}, 9.0)
    assert [(v.target, v.passed) for v in judge(steady)] == [
        (">= 300 applications/s for 300 s, no growing lag", True),
        ("p99 < 2 s at 300/s", True),
        ("four services <= 5 ms CPU per application", True),
        ("each service < 200 MB RSS", True),
    ]
    verdicts = judge(falling_behind)
    assert not verdicts[0].passed
    assert "backlog grew" in verdicts[0].detail
    assert [v.passed for v in verdicts[1:3]] == [False, False]
    # At 100/s the tighter latency target applies; a flat-out run at 20/s is judged by neither.
    at_100 = judge(RunFigures(300, 98, 98, 0.0, 0, 1.2, {"intake": 120.0}, 3.0))
    assert [(v.target, v.passed) for v in at_100[1:2]] == [("p99 < 1 s at 100/s", False)]
    short = judge(RunFigures(30, 20, 20, 0.0, 0, 0.3, {"intake": 250.0}))
    assert [v.passed for v in short] == [False, False, False]
    assert "ran 30 s" in short[0].detail
    assert short[1].detail == "not measured"
    five_minutes = judge(RunFigures(299.6, 15, 14.3, 0.1, 0, 18.0, {"intake": 108.0}))[0]
    assert five_minutes.detail == "sustained 14.3/s"
    assert "intake 250 MB" in short[2].detail


def test_producer_performance_summary_is_read_from_its_last_line() -> None:
    output = (
        "49981 records sent, 9994.2 records/sec (9.53 MB/sec), 5.1 ms avg latency, 150.0 ms max "
        "latency.\n"
        "100000 records sent, 45045.045045 records/sec (43.99 MB/sec), 437.49 ms avg latency, "
        "750.00 ms max latency, 445 ms 50th, 700 ms 95th, 740 ms 99th, 749 ms 99.9th.\n"
    )
    result = parse_summary(output)
    assert (result.records, result.per_second, result.p99_ms) == (100_000, 45045.045045, 740)
    with pytest.raises(ValueError, match="no ProducerPerformance summary"):
        parse_summary("Exception in thread main")


def test_commits_are_counted_per_completed_application() -> None:
    per_app = commits_per_application({"intake": 500, "eligibility": 120}, 1000)
    assert per_app == {"intake": 0.5, "eligibility": 0.12, "all": 0.62}
    assert commits_per_application({"intake": 5}, 0) == {"intake": None, "all": None}


async def test_the_run_is_read_back_again_until_every_application_is_complete(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Notifications held b's message behind an open breaker: the first reading misses it.
    complete = events("a", (Kind.RECEIVED, 100.0), (Kind.DELIVERED, 100.5))
    held = events("b", (Kind.RECEIVED, 100.2))
    delivered = events("b", (Kind.DELIVERED, 130.0))
    readings = [complete + held, complete + held + delivered]

    async def read_events(bootstrap: str, since: object) -> list[Observed]:
        return readings.pop(0)

    monkeypatch.setattr(run, "read_events", read_events)
    monkeypatch.setattr(run, "READ_AGAIN_SECONDS", 0.0)
    load = LoadResult(started=100.0, ended=101.0, statuses=Counter({"202": 2}))
    figures = await run.read_back("broker", {}, load, 100.0, until=time.monotonic() + 60)
    assert (figures.completed, figures.incomplete, readings) == (2, 0, [])
    assert figures.latency.max == pytest.approx(29.8)


async def test_the_read_back_gives_up_at_its_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[float] = []

    async def read_events(bootstrap: str, since: object) -> list[Observed]:
        calls.append(time.monotonic())
        return events("b", (Kind.RECEIVED, 100.2))

    monkeypatch.setattr(run, "read_events", read_events)
    load = LoadResult(started=100.0, ended=101.0, statuses=Counter({"202": 1}))
    figures = await run.read_back("broker", {}, load, 100.0, until=time.monotonic())
    assert (figures.completed, figures.incomplete, len(calls)) == (0, 1, 1)


async def test_the_read_back_stops_when_no_application_completes_any_more(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    readings: list[int] = []

    async def read_events(bootstrap: str, since: object) -> list[Observed]:
        readings.append(len(readings))
        return events("b", (Kind.RECEIVED, 100.2))  # never delivered: dead-lettered, say

    monkeypatch.setattr(run, "read_events", read_events)
    monkeypatch.setattr(run, "READ_AGAIN_SECONDS", 0.01)
    monkeypatch.setattr(run, "STALLED_SECONDS", 0.05)
    load = LoadResult(started=100.0, ended=101.0, statuses=Counter({"202": 1}))
    figures = await run.read_back("broker", {}, load, 100.0, until=time.monotonic() + 60)
    assert figures.incomplete == 1
    assert 2 <= len(readings) < 50
