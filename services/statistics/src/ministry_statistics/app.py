"""Composition root of the statistics service: settings, the read model's handlers and the API.

It reads the platform's events (the public twin of an application's receipt, so it never sees a
name, FIN or birth date) into a read model keyed by the pseudonymous application ref, and answers
with figures that pass the disclosure policy. It publishes nothing but its dead letters.
"""

from pathlib import Path

from fastapi import FastAPI
from pydantic import Field, field_validator

from ministry_statistics.api import statistics_router
from ministry_statistics.facts import Refs
from ministry_statistics.handlers import register
from ministry_statistics.schema import SCHEMA
from socialsvc_common.auth import ApiSettings, install_api_keys
from socialsvc_common.disclosure import DEFAULT_PATH, load_disclosure_policy
from socialsvc_common.geography import load_geography
from socialsvc_common.problems import install_problem_handlers
from socialsvc_common.service import build_runtime, service_app
from socialsvc_common.settings import PseudonymSettings, service_config

NAME = "statistics"


class StatisticsSettings(PseudonymSettings, ApiSettings):
    model_config = service_config("STATISTICS_")

    http_port: int = 8006
    disclosure_policy_file: Path = Field(
        default=DEFAULT_PATH,
        description="the disclosure policy (TOML): k, the sensitive groups; the platform's own "
        "by default",
    )

    @field_validator("disclosure_policy_file")
    @classmethod
    def _policy_loads(cls, value: Path) -> Path:
        load_disclosure_policy(value)
        return value


def build_app(settings: StatisticsSettings | None = None) -> FastAPI:
    settings = settings or StatisticsSettings()
    policy = load_disclosure_policy(settings.disclosure_policy_file)
    geography = load_geography()
    runtime = build_runtime(NAME, settings, SCHEMA)
    register(runtime.consumer, Refs(settings.pseudonym_key_bytes), geography)
    app = service_app(
        runtime,
        title="Statistics",
        description="Figures for the ministry, counted from the platform's events, small cells "
        "withheld by the disclosure policy.",
    )
    install_problem_handlers(app)
    install_api_keys(app, settings.key_store())
    app.include_router(statistics_router(runtime.sessions, policy, geography))
    return app
