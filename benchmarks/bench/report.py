"""The run's results: a JSON file, and the table printed at the end of `make bench`."""

import json
import math
import os
import platform
from pathlib import Path
from typing import Any

import psutil

from benchmarks.bench.infra import ROOT
from benchmarks.bench.stats import Summary
from tests.harness import SERVICES

BROKER = "kafka broker"
LOAD_GENERATOR = "load generator"
STAND_INS = "sinks"  # the gateway stand-ins: SMS and SMTP sinks, receipts back
MONITOR = "bench monitor"  # this process when wrk makes the load: lag, samples, progress
POSTGRES = "postgresql"  # the whole local server: postmaster and backends (peak MB: the largest)


def machine() -> dict[str, Any]:
    model = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    pom = (ROOT / "deploy" / "kafka" / "pom.xml").read_text()
    kafka = pom.split("<kafka.version>", 1)[1].split("<", 1)[0]
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "os": platform.platform(),
        "python": platform.python_version(),
        "kafka": kafka,
    }


def cpu_per_application(
    processes: dict[str, dict[str, float]], completed: int
) -> dict[str, float | None]:
    """CPU milliseconds per completed application: the platform (the four services), the harness
    (load generator and gateway stand-ins), the broker and PostgreSQL, each apart."""

    def per_app(names: list[str]) -> float | None:
        if not completed or not any(name in processes for name in names):
            return None
        seconds = sum(processes[name]["cpu_seconds"] for name in names if name in processes)
        return round(seconds * 1000 / completed, 2)

    return {
        "platform": per_app(list(SERVICES)),
        "harness": per_app([LOAD_GENERATOR, STAND_INS]),
        "load_generator": per_app([LOAD_GENERATOR]),
        "gateway_stand_ins": per_app([STAND_INS]),
        "broker": per_app([BROKER]),
        "postgresql": per_app([POSTGRES]),
    }


def commits_per_application(commits: dict[str, int], completed: int) -> dict[str, float | None]:
    """PostgreSQL commits per completed application in each service's database, and in all."""
    if not completed:
        return dict.fromkeys([*commits, "all"])
    per_app: dict[str, float | None] = {
        service: round(count / completed, 3) for service, count in commits.items()
    }
    per_app["all"] = round(sum(commits.values()) / completed, 3)
    return per_app


def cpu_lines(cpu: dict[str, float | None]) -> list[str]:
    def shown(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f}"

    return [
        f"  platform (four services): {shown(cpu['platform'])} ms/app",
        f"  harness (load generator + gateway stand-ins): {shown(cpu['harness'])} ms/app "
        f"(load generator {shown(cpu['load_generator'])}, stand-ins "
        f"{shown(cpu['gateway_stand_ins'])})",
        f"  broker: {shown(cpu['broker'])} ms/app",
        f"  PostgreSQL (the whole server): {shown(cpu.get('postgresql'))} ms/app",
    ]


def ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value * 1000:.0f}"


def summary_row(name: str, s: Summary) -> str:
    return f"  {name:<24} {s.count:>8} {ms(s.p50):>8} {ms(s.p95):>8} {ms(s.p99):>8} {ms(s.max):>8}"


def table(results: dict[str, Any]) -> str:
    run, p, host = results["run"], results["platform"], results["run"]["machine"]
    lines = [
        f"bench: {run['mode']} load, {run['rate'] or 'max'}/s asked for {run['duration']:.0f} s "
        f"after {run.get('warm_up', 0):.0f} s of warm-up "
        f"on {host['cores']} cores (load average {host['load_average_at_start']})",
        f"  answers {run['statuses']} (timeouts counted by wrk: {run.get('load_timeouts', 0)}); "
        f"accepted {p['accepted']}, completed {p['completed']}, "
        f"incomplete {p['incomplete']}; drained: {'yes' if run['drained'] else 'NO'}",
        f"  offered {p['offered_per_second']:.1f}/s; sustained {p['sustained_per_second']:.1f}/s; "
        f"end to end {p['end_to_end_per_second']:.1f}/s; backlog growth "
        f"{p['backlog_growth_per_second']:.2f}/s",
        f"  {'latency (ms)':<24} {'count':>8} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8}",
    ]
    for name, s in p["stages_seconds"].items():
        lines.append(summary_row(name, Summary(**s)))
    # CPU per completed application holds still on a busy machine where rates do not.
    lines.append(f"  {'process':<24} {'cpu s':>8} {'cpu %':>8} {'peak MB':>8} {'cpu ms/app':>10}")
    for name, u in results["processes"].items():
        limit = name.startswith("relay") or name.endswith("limit")
        per_app = (
            "" if limit or not p["completed"] else f"{u['cpu_seconds'] * 1000 / p['completed']:.1f}"
        )
        lines.append(
            f"  {name:<24} {u['cpu_seconds']:>8.1f} {u['cpu_percent_mean']:>8.1f} "
            f"{u['peak_rss_mb']:>8.0f} {per_app:>10}"
        )
    if cpu := results.get("cpu_ms_per_application"):
        lines += cpu_lines(cpu)
    if commits := results.get("commits_per_application"):
        shown = ", ".join(f"{name} {value}" for name, value in commits.items())
        lines.append(f"  PostgreSQL commits per application: {shown}")
    relay, perf = results.get("relay"), results.get("producer_performance")
    if relay:
        lines.append(
            f"  bare relay, 4 hops: {relay['per_second']:.0f} records/s "
            f"(p50 {ms(relay['latency_seconds']['p50'])} ms, p99 "
            f"{ms(relay['latency_seconds']['p99'])} ms); platform / relay = "
            f"{results['ratio_to_relay']:.2%}"
        )
    if perf:
        lines.append(
            f"  ProducerPerformance: {perf['per_second']:.0f} records/s, "
            f"{perf['mb_per_second']:.1f} MB/s, p99 {perf['p99_ms']:.0f} ms"
        )
    for verdict in results["targets"]:
        mark = "PASS" if verdict["passed"] else "FAIL"
        lines.append(f"  {mark}  {verdict['target']}: {verdict['detail']}")
    return "\n".join(line.rstrip() for line in lines)


def save(results: dict[str, Any], folder: Path, stamp: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stamp}.json"
    path.write_text(json.dumps(results, indent=1, default=str) + "\n")
    return path
