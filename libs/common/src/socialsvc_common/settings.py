"""Settings shared by every service: one pydantic-settings class per service, one env prefix each.

A service subclasses `ServiceSettings` and sets its prefix, e.g. `INTAKE_`::

    class IntakeSettings(ServiceSettings):
        model_config = service_config("INTAKE_")

Every value is validated at start-up; a bad value stops the process with the field that is wrong.
"""

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, FilePath, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEVELOPMENT_PASSWORD = "socialsvc"  # noqa: S105 - the local cluster's password, refused in production


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


def service_config(env_prefix: str) -> SettingsConfigDict:
    """Settings config of a service: its env prefix, a local `.env` if present, immutable."""
    return SettingsConfigDict(
        env_prefix=env_prefix,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
    )


BootstrapServer = Annotated[str, Field(pattern=r"^[A-Za-z0-9.\-\[\]:]+:\d{1,5}$")]


# asyncpg is the default PostgreSQL driver (plain postgresql:// maps to it): on the consumers'
# statements it spends a half to a third of psycopg's client CPU per event (issue 15).
DATABASE_SCHEMES = frozenset(
    {"sqlite+aiosqlite", "postgresql+asyncpg", "postgresql+psycopg", "postgresql"}
)


MIN_FETCH_LINGER_MS = 50


class ServiceSettings(BaseSettings):
    """What every service needs: where Kafka and its database are, and how to log."""

    model_config = service_config("SOCIALSVC_")

    environment: Environment = Environment.DEVELOPMENT
    kafka_bootstrap_servers: Annotated[list[BootstrapServer], NoDecode] = Field(
        default=["127.0.0.1:9092"], min_length=1
    )
    database_url: SecretStr | None = Field(
        default=None,
        description="sqlite+aiosqlite:///path or postgresql+asyncpg://user:pw@host/db "
        "(postgresql+psycopg:// works too); "
        "by default an SQLite file of the service's own under var/data/",
    )
    kafka_security_protocol: Literal["PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        default="PLAINTEXT",
        description="SASL_SSL for a cluster with TLS, SASL/SCRAM and ACLs (SASL_PLAINTEXT: "
        "the same without TLS)",
    )
    kafka_ssl_cafile: FilePath | None = Field(
        default=None,
        description="with SASL_SSL, the certificate authority (PEM) the brokers' certificates "
        "are checked against; by default the system's",
    )
    kafka_sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256"] = "SCRAM-SHA-512"
    kafka_sasl_username: str | None = Field(
        default=None, description="the service's Kafka principal; required with SASL"
    )
    kafka_sasl_password: SecretStr | None = None
    kafka_group_id: str | None = Field(
        default=None, description="consumer group; by default the service's name"
    )
    kafka_fetch_linger_ms: int = Field(
        default=250,
        ge=0,
        le=1000,
        description="how long the broker may hold the consumer's fetch to gather more records "
        "(it answers at once when 64 KiB are waiting): fewer, larger batches, for up to this "
        "much more latency a hop when records are few; 0 answers as soon as one record is there",
    )
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8000, ge=1, le=65535)
    http_max_body_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        le=64 * 1024 * 1024,
        description="the largest request body taken; a larger one is answered 413 unread",
    )
    http_rate_per_second: float = Field(
        default=100.0,
        ge=0,
        le=100_000,
        description="requests a second one client may send (0: no limit); the e-government "
        "gateway, the citizens' portal and administrators are exempt",
    )
    http_rate_burst: int = Field(
        default=200, ge=1, le=1_000_000, description="requests one client may send at once"
    )
    log_level: str = Field(default="INFO", pattern=r"^(DEBUG|INFO|WARNING|ERROR)$")
    log_json: bool | None = Field(
        default=None, description="JSON lines; by default JSON unless stderr is a terminal"
    )
    shutdown_grace_seconds: float = Field(default=15.0, gt=0, le=300)
    inbox_keep_days: float | None = Field(
        default=None,
        gt=0,
        description="days an inbox claim is kept; by default the longest retention of the "
        "topics the service reads plus 5 days (a shorter time is refused at start)",
    )
    retention_interval_seconds: float = Field(
        default=3600.0, gt=0, description="how often working tables are pruned"
    )

    @field_validator("kafka_bootstrap_servers", mode="before")
    @classmethod
    def _split_servers(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("kafka_fetch_linger_ms")
    @classmethod
    def _linger_off_or_long_enough(cls, value: int) -> int:
        # An idle consumer's fetch comes back empty every linger: a few milliseconds would keep
        # the service and the broker busy doing nothing.
        if 0 < value < MIN_FETCH_LINGER_MS:
            raise ValueError(f"must be 0 (no linger) or at least {MIN_FETCH_LINGER_MS} ms")
        return value

    @property
    def service_name(self) -> str:
        """The service these settings belong to, from its env prefix (INTAKE_ -> intake)."""
        return str(self.model_config.get("env_prefix", "")).rstrip("_").lower()

    @property
    def database(self) -> str:
        """The database URL in clear, for the engine only (never log it)."""
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        return f"sqlite+aiosqlite:///var/data/{self.service_name}.db"

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        scheme = value.get_secret_value().split("://", 1)[0]
        if scheme not in DATABASE_SCHEMES:
            raise ValueError(
                f"unsupported database scheme {scheme!r}: use sqlite+aiosqlite:// or "
                "postgresql+asyncpg:// (or postgresql+psycopg://)"
            )
        return value

    @model_validator(mode="after")
    def _sasl_needs_credentials(self) -> "ServiceSettings":
        has_credentials = bool(self.kafka_sasl_username and self.kafka_sasl_password)
        if self.kafka_security_protocol != "PLAINTEXT" and not has_credentials:
            raise ValueError(
                f"{self.kafka_security_protocol} needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"
            )
        return self

    @model_validator(mode="after")
    def _no_development_secrets_in_production(self) -> "ServiceSettings":
        if self.environment is Environment.PRODUCTION:
            url = self.database
            if url.startswith("sqlite"):
                raise ValueError("production needs PostgreSQL, not SQLite")
            if f":{DEVELOPMENT_PASSWORD}@" in url:
                raise ValueError("production must not use the development database password")
        return self


# The development value, refused in production.
DEVELOPMENT_PSEUDONYM_KEY = "development-pseudonym-key"


class PseudonymSettings(ServiceSettings):
    """Settings of a service that writes pseudonymous references (person refs, public ids).

    Every such service must be given the same key, so that one application has one pseudonymous
    id on every public topic and one person one reference in every service."""

    pseudonym_key: SecretStr = Field(
        default=SecretStr(DEVELOPMENT_PSEUDONYM_KEY),
        min_length=16,
        description="key of the pseudonymous references others see instead of a FIN or an "
        "application id; the same in every service",
    )

    @property
    def pseudonym_key_bytes(self) -> bytes:
        """The key in clear, for the keyed hash only (never log it)."""
        return self.pseudonym_key.get_secret_value().encode()

    @model_validator(mode="after")
    def _real_key_in_production(self) -> "PseudonymSettings":
        key = self.pseudonym_key.get_secret_value()
        if self.environment is Environment.PRODUCTION and key == DEVELOPMENT_PSEUDONYM_KEY:
            prefix = str(self.model_config.get("env_prefix", ""))
            raise ValueError(f"production needs its own {prefix}PSEUDONYM_KEY")
        return self
