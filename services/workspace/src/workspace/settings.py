"""The workspace's settings (env prefix WORKSPACE_): where the services answer, the key store
people sign in with, and how the page is served. Validated at start-up."""

from pathlib import Path
from typing import Annotated

from pydantic import AnyHttpUrl, Field, model_validator
from pydantic_settings import BaseSettings

from socialsvc_common.apikeys import KeyStore
from socialsvc_common.settings import Environment, service_config

ServiceUrl = Annotated[AnyHttpUrl, Field(description="base URL of a service's HTTP API")]


class WorkspaceSettings(BaseSettings):
    model_config = service_config("WORKSPACE_")

    environment: Environment = Environment.DEVELOPMENT
    intake_url: ServiceUrl = AnyHttpUrl("http://127.0.0.1:8000")
    eligibility_url: ServiceUrl = AnyHttpUrl("http://127.0.0.1:8001")
    assignment_url: ServiceUrl = AnyHttpUrl("http://127.0.0.1:8002")
    notifications_url: ServiceUrl = AnyHttpUrl("http://127.0.0.1:8003")
    statistics_url: ServiceUrl = AnyHttpUrl("http://127.0.0.1:8006")
    api_keys_file: Path | None = Field(
        default=None,
        description="the API key store the services read (socialsvc-keys writes it): people "
        "sign in with their own key",
    )
    cookie_secure: bool = Field(
        default=False, description="send the session cookie over HTTPS only (on in production)"
    )
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8005, ge=1, le=65535)
    service_timeout_seconds: float = Field(default=15.0, gt=0, le=120)
    session_hours: float = Field(default=8.0, gt=0, le=24)
    reviews_due_within_days: int = Field(default=14, ge=1, le=90)
    offers_lapsing_within_hours: int = Field(default=48, ge=1, le=24 * 14)
    log_level: str = Field(default="INFO", pattern=r"^(DEBUG|INFO|WARNING|ERROR)$")
    log_json: bool | None = None

    @model_validator(mode="after")
    def _safe_in_production(self) -> "WorkspaceSettings":
        if self.environment is Environment.PRODUCTION:
            if not self.cookie_secure:
                raise ValueError(
                    "production sends the session cookie over HTTPS only: set "
                    "WORKSPACE_COOKIE_SECURE=true"
                )
            if self.api_keys_file is None:
                raise ValueError("production needs the key store: set WORKSPACE_API_KEYS_FILE")
        if self.api_keys_file is not None:
            KeyStore.load(self.api_keys_file)
        return self

    def service_urls(self) -> dict[str, str]:
        """Each service's base URL, without a trailing slash."""
        urls = {
            "intake": self.intake_url,
            "eligibility": self.eligibility_url,
            "assignment": self.assignment_url,
            "notifications": self.notifications_url,
            "statistics": self.statistics_url,
        }
        return {name: str(url).rstrip("/") for name, url in urls.items()}

    def key_store(self) -> KeyStore:
        return KeyStore.load(self.api_keys_file) if self.api_keys_file else KeyStore()
