import pytest
from pydantic import ValidationError

from socialsvc_common.settings import ServiceSettings, service_config


def test_bootstrap_servers_come_from_a_comma_separated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOCIALSVC_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092, 127.0.0.1:29092")
    assert ServiceSettings().kafka_bootstrap_servers == ["127.0.0.1:19092", "127.0.0.1:29092"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("kafka_bootstrap_servers", "localhost", "String should match pattern"),
        ("database_url", "mysql://u:p@h/db", "unsupported database scheme 'mysql'"),
        ("log_level", "LOUD", "String should match pattern"),
        ("shutdown_grace_seconds", "0", "greater than 0"),
        ("kafka_fetch_linger_ms", "10", "0 (no linger) or at least 50 ms"),
        ("kafka_fetch_linger_ms", "5000", "less than or equal to 1000"),
    ],
)
def test_bad_values_are_refused_naming_the_field(field: str, value: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        ServiceSettings.model_validate({field: value})
    assert field in str(caught.value)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sqlite+aiosqlite:///var/data/x.db", "production needs PostgreSQL"),
        ("postgresql+psycopg://socialsvc:socialsvc@db/x", "development database password"),
    ],
)
def test_production_refuses_development_defaults(url: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ServiceSettings.model_validate({"environment": "production", "database_url": url})


def test_production_accepts_a_real_database() -> None:
    settings = ServiceSettings.model_validate(
        {"environment": "production", "database_url": "postgresql+psycopg://svc:s3cret-value@db/x"}
    )
    assert "s3cret" not in repr(settings)


def test_each_service_gets_its_own_embedded_database_by_default() -> None:
    class IntakeSettings(ServiceSettings):
        model_config = service_config("INTAKE_")

    assert IntakeSettings().database == "sqlite+aiosqlite:///var/data/intake.db"


def test_a_service_reads_only_its_own_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    class EligibilitySettings(ServiceSettings):
        model_config = service_config("ELIGIBILITY_")

    monkeypatch.setenv("ELIGIBILITY_DATABASE_URL", "postgresql+psycopg://e:pw@db/eligibility")
    monkeypatch.setenv("INTAKE_DATABASE_URL", "postgresql+psycopg://i:pw@db/intake")
    assert EligibilitySettings().database == "postgresql+psycopg://e:pw@db/eligibility"


@pytest.mark.parametrize(("value", "linger"), [("0", 0), ("50", 50), (None, 250)])
def test_the_fetch_linger_is_off_or_long_enough(value: str | None, linger: int) -> None:
    given = {} if value is None else {"kafka_fetch_linger_ms": value}
    assert ServiceSettings.model_validate(given).kafka_fetch_linger_ms == linger
