"""The services (the four and the statistics read model) and the sinks as processes: healthy once
started, clean exit on SIGTERM."""

import signal

import pytest

from tests.harness import READ_MODELS, SERVICES

from .conftest import Platform, wait_for_log

pytestmark = pytest.mark.integration


@pytest.fixture
def platform_read_models() -> tuple[str, ...]:
    return READ_MODELS


def test_every_process_subscribes_and_stops_cleanly(platform: Platform) -> None:
    for name in (*SERVICES, *READ_MODELS):
        subscribed = wait_for_log(platform.logs[name], {"event": "subscribed"})
        assert subscribed["group_id"] == platform.groups[name]
    exits = platform.stop()
    # uvicorn re-raises SIGTERM once its graceful shutdown is done, so the exit status says how the
    # process was asked to stop; the "stopped" line, written after draining, says it finished.
    assert all(code in (0, -signal.SIGTERM) for code in exits.values()), exits
    for name in (*SERVICES, *READ_MODELS):
        wait_for_log(platform.logs[name], {"event": "stopped"}, timeout=1)
