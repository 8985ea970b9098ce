"""Composition root of eligibility: its settings and the app that runs it."""

from faststream import FastStream

from socialsvc_common.contract import topics
from socialsvc_common.service import listening_app
from socialsvc_common.settings import ServiceSettings, service_config

NAME = "eligibility"


class EligibilitySettings(ServiceSettings):
    model_config = service_config("ELIGIBILITY_")


def build_app(settings: EligibilitySettings | None = None) -> FastStream:
    return listening_app(
        NAME,
        settings or EligibilitySettings(),
        topics.APPLICATION_RECEIVED,
    )
