"""Composition root of assignment: its settings and the app that runs it."""

from faststream import FastStream

from socialsvc_common.contract import topics
from socialsvc_common.service import listening_app
from socialsvc_common.settings import ServiceSettings, service_config

NAME = "assignment"


class AssignmentSettings(ServiceSettings):
    model_config = service_config("ASSIGNMENT_")


def build_app(settings: AssignmentSettings | None = None) -> FastStream:
    return listening_app(
        NAME,
        settings or AssignmentSettings(),
        topics.DECISION_MADE,
        topics.PLACEMENT_RELEASED,
    )
