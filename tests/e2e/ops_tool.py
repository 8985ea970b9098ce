"""Helpers of the operators' tool's end-to-end tests: run a command, wait for something."""

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any


def ops_json(bootstrap: str, *args: str) -> list[dict[str, Any]]:
    """Runs `socialsvc-ops ARGS --json` and returns the objects it printed."""
    done = subprocess.run(
        [sys.executable, "-m", "socialsvc_ops", *args, "--json"],
        env={**os.environ, "SOCIALSVC_KAFKA_BOOTSTRAP_SERVERS": bootstrap},
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


async def poll(what: str, check: Callable[[], Awaitable[Any]], seconds: float = 180) -> Any:
    """The first truthy answer of `check`, asked every second; fails naming `what` after that."""
    deadline = time.monotonic() + seconds
    while True:
        found = await check()
        if found:
            return found
        assert time.monotonic() < deadline, f"{what} not seen after {seconds}s"
        await asyncio.sleep(1)
