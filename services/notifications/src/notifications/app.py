"""Composition root of notifications: its settings and the app that runs it."""

from faststream import FastStream

from socialsvc_common.contract import topics
from socialsvc_common.service import listening_app
from socialsvc_common.settings import ServiceSettings, service_config

NAME = "notifications"


class NotificationsSettings(ServiceSettings):
    model_config = service_config("NOTIFICATIONS_")


def build_app(settings: NotificationsSettings | None = None) -> FastStream:
    return listening_app(
        NAME,
        settings or NotificationsSettings(),
        topics.APPLICATION_RECEIVED,
        topics.DECISION_MADE,
        topics.PLACEMENT_MADE,
        topics.PLACEMENT_WAITLISTED,
    )
