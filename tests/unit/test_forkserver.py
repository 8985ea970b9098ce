"""The end-to-end tests' fork server starts processes as `python -m` would and handles them as
`subprocess.Popen` does: its own environment, arguments, log and exit code for each."""

import json
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from socialsvc_common.faults import ENV
from tests.forkserver import ForkServer

CHILD = "tests.unit.forkserver_child"


@pytest.fixture(scope="module")
def forks() -> Iterator[ForkServer]:
    server = ForkServer(["socialsvc_common.faults"])
    yield server
    server.close()


def said(log: Path) -> dict[str, object]:
    said: dict[str, object] = json.loads(log.read_text().splitlines()[0])
    return said


def test_each_child_has_its_own_environment_arguments_log_and_exit_code(
    forks: ForkServer, tmp_path: Path
) -> None:
    base = {k: v for k, v in os.environ.items() if k != ENV}
    first = forks.start([CHILD, "3"], {**base, "FORKSERVER_PROBE": "one"}, tmp_path / "1.log")
    second = forks.start(
        [CHILD, "0", "--flag"],
        {**base, "FORKSERVER_PROBE": "two", ENV: "intake.after_commit:2"},
        tmp_path / "2.log",
    )

    assert first.wait(timeout=30) == 3
    assert second.wait(timeout=30) == 0
    assert said(tmp_path / "1.log") == {"argv": ["3"], "variable": "one", "armed": False}
    # The crash point is read from the child's environment, not the server's.
    assert said(tmp_path / "2.log") == {"argv": ["0", "--flag"], "variable": "two", "armed": True}
    assert first.pid != second.pid != os.getpid()


def test_a_child_is_stopped_by_a_signal_and_its_wait_can_time_out(
    forks: ForkServer, tmp_path: Path
) -> None:
    waiting = forks.start([CHILD, "wait"], dict(os.environ), tmp_path / "wait.log")
    # Readable at once, though the child may not have run yet: a log reader must not fail.
    assert (tmp_path / "wait.log").exists()
    with pytest.raises(subprocess.TimeoutExpired):
        waiting.wait(timeout=0.3)
    assert waiting.poll() is None

    waiting.terminate()

    assert waiting.wait(timeout=30) == -signal.SIGTERM
    waiting.kill()  # after its end, as with Popen, nothing happens
    assert waiting.returncode == -signal.SIGTERM


def test_an_uncaught_exception_is_written_to_the_log_and_ends_in_1(
    forks: ForkServer, tmp_path: Path
) -> None:
    failing = forks.start([CHILD, "not-a-number"], dict(os.environ), tmp_path / "bad.log")

    assert failing.wait(timeout=30) == 1
    assert "ValueError: invalid literal for int()" in (tmp_path / "bad.log").read_text()
