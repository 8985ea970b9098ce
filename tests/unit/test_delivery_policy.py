"""The circuit breaker and quiet hours, without gateways: pure timing decisions."""

from datetime import UTC, datetime, time, timedelta

import pytest

from notifications.breaker import CircuitBreaker
from notifications.quiet_hours import QuietHours

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def test_the_breaker_opens_after_a_run_of_failures_and_probes_once_after_cooldown() -> None:
    breaker = CircuitBreaker(failures_to_open=3, cooldown=timedelta(seconds=30))
    for _ in range(2):
        breaker.failed(T0)
    assert breaker.allows(T0)
    breaker.failed(T0)
    assert not breaker.allows(T0 + timedelta(seconds=29))
    assert breaker.retry_at(T0) == T0 + timedelta(seconds=30)
    later = T0 + timedelta(seconds=30)
    assert breaker.allows(later)  # the probe
    assert not breaker.allows(later)  # only one at a time
    breaker.failed(later)  # the probe failed: open again for a full cooldown
    assert not breaker.allows(later + timedelta(seconds=29))
    assert breaker.allows(later + timedelta(seconds=30))
    breaker.succeeded()
    assert breaker.allows(later + timedelta(seconds=30))
    assert not breaker.is_open


def test_an_open_breaker_counts_as_failing_only_while_its_gateway_failed_lately() -> None:
    breaker = CircuitBreaker(failures_to_open=1, cooldown=timedelta(seconds=30))
    start = datetime(2026, 1, 31, 21, 59, tzinfo=UTC)
    breaker.failed(start)
    assert breaker.failing(start + timedelta(seconds=59))
    # Nothing was due for its gateway (quiet hours): no probe failed, so the alert stays quiet
    # although the breaker waits open for the next message.
    assert breaker.is_open
    assert not breaker.failing(start + timedelta(seconds=61))
    # A failed probe later makes it failing again, and a good one closes it.
    probe = start + timedelta(hours=10)
    assert breaker.allows(probe)
    breaker.failed(probe)
    assert breaker.failing(probe + timedelta(seconds=1))
    breaker.succeeded()
    assert not breaker.failing(probe + timedelta(seconds=2))


def test_a_lost_probe_does_not_leave_the_breaker_half_open() -> None:
    breaker = CircuitBreaker(failures_to_open=1, cooldown=timedelta(seconds=10))
    breaker.failed(T0)
    probe_at = T0 + timedelta(seconds=10)
    assert breaker.allows(probe_at)  # a probe goes out and its outcome is never reported
    assert not breaker.allows(probe_at + timedelta(seconds=5))
    assert breaker.retry_at(probe_at + timedelta(seconds=5)) > probe_at + timedelta(seconds=5)
    assert breaker.allows(probe_at + timedelta(seconds=10))  # another probe, not a stuck gateway


def test_a_success_resets_the_count() -> None:
    breaker = CircuitBreaker(failures_to_open=2)
    breaker.failed(T0)
    breaker.succeeded()
    breaker.failed(T0)
    assert breaker.allows(T0)


@pytest.mark.parametrize(
    ("utc", "quiet"),
    [
        ("17:59", False),  # 21:59 in Baku (UTC+4)
        ("18:00", True),  # 22:00
        ("23:30", True),  # 03:30
        ("03:59", True),  # 07:59
        ("04:00", False),  # 08:00
    ],
)
def test_quiet_hours_cross_midnight_in_baku(utc: str, quiet: bool) -> None:
    hours = QuietHours(time(22), time(8))
    moment = datetime.combine(T0.date(), time.fromisoformat(utc), tzinfo=UTC)
    assert hours.quiet_at(moment) is quiet


def test_a_deferred_message_goes_at_the_end_of_the_quiet_hours() -> None:
    hours = QuietHours(time(22), time(8))
    night = datetime(2026, 11, 22, 19, 30, tzinfo=UTC)  # 23:30 in Baku
    assert hours.ends_after(night) == datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
    early = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)  # 06:00 in Baku
    assert hours.ends_after(early) == datetime(2026, 11, 22, 4, 0, tzinfo=UTC)
    day = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
    assert hours.ends_after(day) == day


@pytest.mark.parametrize(
    ("text", "expected"),
    [("off", None), ("", None), ("22:00-08:00", QuietHours(time(22), time(8)))],
)
def test_quiet_hours_are_read_from_settings(text: str, expected: QuietHours | None) -> None:
    assert QuietHours.parse(text) == expected


def test_bad_quiet_hours_are_refused_with_the_format() -> None:
    with pytest.raises(ValueError, match="expected HH:MM-HH:MM or off"):
        QuietHours.parse("late")
