"""The archive's settings: ARCHIVE_ like a service's (database, Kafka, logging), plus its master
key, its retention policy and its batch size."""

from pathlib import Path

from pydantic import Field, SecretStr, model_validator

from socialsvc_common.settings import Environment, ServiceSettings, service_config

# The development value, refused in production.
DEVELOPMENT_MASTER_KEY = "development-archive-master-key-not-for-production"
DEFAULT_POLICY = Path(__file__).parent / "retention.toml"


class ArchiveSettings(ServiceSettings):
    """Where the archive reads, where it keeps what it read, and the key that guards it."""

    model_config = service_config("ARCHIVE_")

    master_key: SecretStr = Field(
        default=SecretStr(DEVELOPMENT_MASTER_KEY),
        min_length=32,
        description="wraps every application's data key; losing it makes every payload unreadable",
    )
    retention_policy: Path = Field(
        default=DEFAULT_POLICY, description="TOML file of retention per event family"
    )
    batch_size: int = Field(default=500, ge=1, le=10_000)

    @property
    def master_key_bytes(self) -> bytes:
        """The key in clear, for the key wrapping only (never log it)."""
        return self.master_key.get_secret_value().encode()

    @model_validator(mode="after")
    def _real_key_in_production(self) -> "ArchiveSettings":
        key = self.master_key.get_secret_value()
        if self.environment is Environment.PRODUCTION and key == DEVELOPMENT_MASTER_KEY:
            raise ValueError("production needs its own ARCHIVE_MASTER_KEY")
        return self
