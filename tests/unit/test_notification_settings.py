"""The gateways' batch settings: on by default, off by the environment, nonsense refused."""

import pytest
from pydantic import ValidationError

from notifications.app import NotificationsSettings


def test_batches_are_on_by_default() -> None:
    settings = NotificationsSettings()
    assert (settings.sms_gateway_batch, settings.inbox_gateway_batch) == (True, True)


def test_a_gateway_without_a_batch_endpoint_is_configured_by_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NOTIFICATIONS_SMS_GATEWAY_BATCH", "false")
    settings = NotificationsSettings()
    assert (settings.sms_gateway_batch, settings.inbox_gateway_batch) == (False, True)


def test_a_value_that_is_not_a_yes_or_no_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTIFICATIONS_INBOX_GATEWAY_BATCH", "sometimes")
    with pytest.raises(ValidationError, match="inbox_gateway_batch"):
        NotificationsSettings()
