"""Kafka's own producer benchmark (org.apache.kafka.tools.ProducerPerformance from the kafka-tools
jar) on the same broker: what one JVM producer with acks=all gets through."""

import re
import subprocess
from dataclasses import asdict, dataclass

from benchmarks.bench.infra import PERF_TOPIC, ROOT

LIBS = ROOT / "deploy" / "kafka" / ".cache" / "libs"
LOG_CONFIG = ROOT / "deploy" / "kafka" / "log4j2.properties"
# "100000 records sent, 45045.0 records/sec (43.99 MB/sec), 437.49 ms avg latency,
#  750.00 ms max latency, 445 ms 50th, 700 ms 95th, 740 ms 99th, 749 ms 99.9th."
SUMMARY = re.compile(
    r"(?P<records>\d+) records sent, (?P<per_second>[\d.]+) records/sec \((?P<mb>[\d.]+) MB/sec\), "
    r"(?P<avg>[\d.]+) ms avg latency, (?P<max>[\d.]+) ms max latency, (?P<p50>\d+) ms 50th, "
    r"(?P<p95>\d+) ms 95th, (?P<p99>\d+) ms 99th"
)


@dataclass(frozen=True, slots=True)
class PerfResult:
    records: int
    per_second: float
    mb_per_second: float
    avg_ms: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def parse_summary(output: str) -> PerfResult:
    """The last summary line of ProducerPerformance's output (it prints interim lines first)."""
    found = list(SUMMARY.finditer(output))
    if not found:
        raise ValueError(f"no ProducerPerformance summary in its output: {output[-500:]!r}")
    m = found[-1]
    return PerfResult(
        records=int(m["records"]),
        per_second=float(m["per_second"]),
        mb_per_second=float(m["mb"]),
        avg_ms=float(m["avg"]),
        p50_ms=float(m["p50"]),
        p95_ms=float(m["p95"]),
        p99_ms=float(m["p99"]),
        max_ms=float(m["max"]),
    )


def producer_performance(bootstrap: str, records: int, record_size: int) -> PerfResult:
    command = [
        "java",
        "-Xmx512m",
        f"-Dlog4j2.configurationFile={LOG_CONFIG}",
        "-cp",
        f"{LIBS}/*",
        "org.apache.kafka.tools.ProducerPerformance",
        "--topic",
        PERF_TOPIC.name,
        "--num-records",
        str(records),
        "--record-size",
        str(record_size),
        "--throughput",
        "-1",
        "--producer-props",
        f"bootstrap.servers={bootstrap}",
        "acks=all",
        "enable.idempotence=true",
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=600)  # noqa: S603
    return parse_summary(done.stdout)
