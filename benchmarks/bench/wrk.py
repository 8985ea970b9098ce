"""The HTTP load: Debian's wrk (installed by deploy/wrk/ensure when missing) with submit.lua, so
the load costs C and LuaJIT, not the benchmark's own Python. Its CPU is measured exactly from the
child's resource usage, and its closing summary line becomes the run's LoadResult."""

import asyncio
import contextlib
import json
import os
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.bench.infra import ROOT
from benchmarks.bench.load import LoadResult, Tally
from benchmarks.bench.processes import Sampler
from benchmarks.bench.stats import Summary
from benchmarks.bench.templates import ALPHABET, form_templates, write_templates

ENSURE = ROOT / "deploy" / "wrk" / "ensure"
SCRIPT = Path(__file__).with_name("submit.lua")
SUMMARY = "wrk-summary "
# One event loop in C takes tens of thousands of requests a second; a second thread would only
# take CPU from the platform on a small machine.
THREADS = 1
TIMEOUT = "30s"  # as long as the platform may take to answer under a flood, like a patient client
ERRORS = ("connect", "read", "write")  # each loses a request; timeouts are counted apart


@dataclass(frozen=True, slots=True)
class WrkLoad:
    """What wrk is to send, where, and at which pace."""

    url: str  # intake's base URL
    api_key: str
    rate: float  # per second, 0: as fast as answers come
    duration: float
    connections: int
    salt: str  # one character of ALPHABET, marks this run's FINs
    key_prefix: str
    seed: int
    headers: dict[str, str] = field(default_factory=dict)
    threads: int = THREADS


def ensure_wrk() -> str:
    """The path of wrk, installing Debian's package first when it is missing."""
    done = subprocess.run([str(ENSURE)], check=True, capture_output=True, text=True)  # noqa: S603
    return done.stdout.strip()


def command(wrk: str, load: WrkLoad, templates: Path, progress: Path) -> list[str]:
    """wrk's command line for `load`; submit.lua's arguments follow the `--`."""
    threads = max(1, min(load.threads, load.connections, len(ALPHABET)))
    headers = {
        "Authorization": f"Bearer {load.api_key}",
        "Content-Type": "application/json",
        **load.headers,
    }
    return [
        wrk,
        f"--threads={threads}",
        f"--connections={max(load.connections, threads)}",
        f"--duration={max(1, round(load.duration))}s",
        f"--timeout={TIMEOUT}",
        f"--script={SCRIPT}",
        *(f"--header={name}: {value}" for name, value in headers.items()),
        load.url.rstrip("/") + "/applications",
        "--",
        str(templates),
        load.salt,
        load.key_prefix,
        str(load.rate / threads),
        str(progress),
    ]


def parse_summary(output: str, started: float, ended: float) -> LoadResult:
    """The LoadResult of wrk's output: its `wrk-summary {json}` line (see submit.lua's done())."""
    lines = [line for line in output.splitlines() if line.startswith(SUMMARY)]
    if not lines:
        raise RuntimeError(f"wrk printed no summary; its output was:\n{output[-2000:]}")
    found = json.loads(lines[-1].removeprefix(SUMMARY))
    statuses = Counter({str(k): int(v) for k, v in found["statuses"].items()})
    for kind in ERRORS:
        if count := int(found["errors"][kind]):
            statuses[f"{kind} error"] += count
    latency = {k: v / 1_000_000 for k, v in found["latency_us"].items()}
    answered = sum(int(v) for v in found["statuses"].values())
    return LoadResult(
        started=started,
        ended=ended,
        statuses=statuses,
        answer=Summary(
            count=answered,
            mean=latency["mean"],
            p50=latency["p50"],
            p95=latency["p95"],
            p99=latency["p99"],
            max=latency["max"],
        ),
        behind_seconds=float(found["behind_seconds"]),
        timeouts=int(found["errors"]["timeout"]),
    )


def progress_folder(logs: Path) -> Path:
    """Where submit.lua writes its progress files."""
    return logs / "wrk-progress"


def read_progress(folder: Path) -> Tally:
    """Answers and acceptances so far, from the files submit.lua rewrites once a second."""
    tally = Tally()
    for path in folder.glob("progress-*"):
        with contextlib.suppress(OSError, ValueError):
            answered, accepted = path.read_text().split()
            tally.submitted += int(answered)
            tally.accepted += int(accepted)
    return tally


def start(args: list[str], log: Path) -> "subprocess.Popen[bytes]":
    with log.open("wb") as out:
        return subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603 - wrk


async def run_wrk(load: WrkLoad, folder: Path, sampler: Sampler, name: str) -> LoadResult:
    """Runs wrk for `load` with its files in `folder`; its CPU goes to `sampler` under `name`."""
    wrk = await asyncio.to_thread(ensure_wrk)
    templates = write_templates(folder / "forms.jsonl", form_templates(load.seed))
    progress = progress_folder(folder)
    progress.mkdir(exist_ok=True)
    log = folder / "wrk.log"
    started = time.time()
    process = start(command(wrk, load, templates, progress), log)
    sampler.watch(name, process.pid)
    finished = False
    try:
        # wait4, not wait: the child's own CPU time, exact to its last request.
        _, status, usage = await asyncio.to_thread(os.wait4, process.pid, 0)
        finished = True
    finally:
        if not finished:  # the run was interrupted: wrk must not outlive it
            process.kill()
    process.returncode = os.waitstatus_to_exitcode(status)
    sampler.settle(name, usage.ru_utime + usage.ru_stime)
    output = log.read_text(errors="replace")
    if process.returncode != 0:
        raise RuntimeError(f"wrk exited with {process.returncode}; see {log}")
    return parse_summary(output, started, time.time())
