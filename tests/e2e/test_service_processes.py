"""The four services as processes on the real broker: they start, consume, stop on SIGTERM."""

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from faststream.kafka import KafkaBroker

from socialsvc_common.contract import topics

pytestmark = pytest.mark.integration
SERVICES = {
    "intake": {
        topics.DECISION_MADE.name,
        topics.PLACEMENT_MADE.name,
        topics.NOTIFICATION_FAILED.name,
    },
    "eligibility": {topics.APPLICATION_RECEIVED.name},
    "assignment": {topics.DECISION_MADE.name, topics.PLACEMENT_RELEASED.name},
    "notifications": {topics.APPLICATION_RECEIVED.name, topics.PLACEMENT_WAITLISTED.name},
}


def log_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.startswith("{")]


def wait_for(path: Path, match: dict[str, Any], timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in log_lines(path):
            if all(line.get(key) == value for key, value in match.items()):
                return line
        time.sleep(0.3)
    raise AssertionError(f"no line {match} in {path}:\n{path.read_text()[-3000:]}")


@pytest.fixture
def running(
    bootstrap: str, tmp_path: Path
) -> Iterator[dict[str, tuple[subprocess.Popen[bytes], Path]]]:
    processes = {}
    for name in SERVICES:
        log = tmp_path / f"{name}.log"
        env = {**os.environ, f"{name.upper()}_KAFKA_BOOTSTRAP_SERVERS": bootstrap}
        with log.open("wb") as out:
            processes[name] = (
                subprocess.Popen([sys.executable, "-m", name], stdout=out, stderr=out, env=env),
                log,
            )
    yield processes
    for process, _ in processes.values():
        if process.poll() is None:
            process.kill()
            process.wait()


async def test_services_subscribe_consume_and_stop_cleanly(
    bootstrap: str, running: dict[str, tuple[subprocess.Popen[bytes], Path]]
) -> None:
    for name, (_, log) in running.items():
        wait_for(log, {"event": "started"})
        subscribed = {
            t for line in log_lines(log) if line["event"] == "subscribed" for t in line["topics"]
        }
        assert SERVICES[name] <= subscribed, name

    broker = KafkaBroker(bootstrap)
    await broker.connect()
    sent = await broker.publish(b"{}", topics.APPLICATION_RECEIVED.name, key=b"e2e")
    await broker.stop()
    where = {"topic": sent.topic, "partition": sent.partition, "offset": sent.offset}
    for name in ("eligibility", "notifications"):
        wait_for(running[name][1], {"event": "record received", **where})

    for process, _ in running.values():
        process.send_signal(signal.SIGTERM)
    for name, (process, log) in running.items():
        assert process.wait(timeout=40) == 0, name
        wait_for(log, {"event": "stopped"}, timeout=1)
