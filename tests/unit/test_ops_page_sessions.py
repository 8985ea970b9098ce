"""The operations page's sessions and its limit on failed key attempts, on a clock of the test's."""

from datetime import UTC, datetime

from socialsvc_common.apikeys import Caller, Role
from socialsvc_common.sessions import Sessions, Throttle


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


OPERATOR = Caller("leyla", Role.OPERATOR, datetime(2026, 11, 1, tzinfo=UTC))


def test_a_session_holds_its_caller_until_it_expires_or_is_closed() -> None:
    clock = Clock()
    sessions: Sessions[Caller] = Sessions(lifetime=60, clock=clock)
    first, second = sessions.open(OPERATOR), sessions.open(OPERATOR)
    assert first != second
    assert len(first) >= 40
    assert sessions.caller(first) == OPERATOR
    assert sessions.caller("made-up") is None

    sessions.close(second)
    assert sessions.caller(second) is None
    clock.now += 59
    assert sessions.caller(first) == OPERATOR
    clock.now += 1
    assert sessions.caller(first) is None
    assert len(sessions) == 0


def test_expired_sessions_are_forgotten_when_new_ones_open() -> None:
    clock = Clock()
    sessions: Sessions[Caller] = Sessions(lifetime=60, clock=clock)
    for _ in range(5):
        sessions.open(OPERATOR)
    clock.now += 61
    live = sessions.open(OPERATOR)
    assert len(sessions) == 1
    assert sessions.caller(live) == OPERATOR


def test_a_client_past_the_limit_waits_until_its_oldest_failure_ages_out() -> None:
    clock = Clock()
    throttle = Throttle(limit=3, window=100, clock=clock)
    for _ in range(2):
        throttle.failed("10.0.0.1")
        clock.now += 10
    assert throttle.wait("10.0.0.1") == 0
    throttle.failed("10.0.0.1")
    assert throttle.wait("10.0.0.1") == 80  # the first failure was 20 s ago
    assert throttle.wait("10.0.0.2") == 0, "another client is not held off"
    clock.now += 80
    assert throttle.wait("10.0.0.1") == 0


def test_clients_whose_failures_aged_out_are_forgotten() -> None:
    clock = Clock()
    throttle = Throttle(limit=3, window=100, clock=clock)
    for number in range(50):
        throttle.failed(f"10.0.0.{number}")
    clock.now += 100
    throttle.failed("10.0.1.1")
    assert len(throttle) == 1
