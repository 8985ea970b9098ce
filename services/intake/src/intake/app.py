"""Composition root of intake: its settings and the app that runs it."""

from faststream import FastStream

from socialsvc_common.contract import topics
from socialsvc_common.service import listening_app
from socialsvc_common.settings import ServiceSettings, service_config

NAME = "intake"


class IntakeSettings(ServiceSettings):
    model_config = service_config("INTAKE_")


def build_app(settings: IntakeSettings | None = None) -> FastStream:
    return listening_app(
        NAME,
        settings or IntakeSettings(),
        topics.DECISION_MADE,
        topics.NOTIFICATION_DELIVERED,
        topics.NOTIFICATION_FAILED,
        topics.PLACEMENT_MADE,
        topics.PLACEMENT_RELEASED,
        topics.PLACEMENT_WAITLISTED,
    )
