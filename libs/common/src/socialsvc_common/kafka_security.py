"""How a client authenticates to Kafka, from `ServiceSettings`: nothing on a PLAINTEXT cluster,
SASL/SCRAM as the service's own principal on the secure one (`kafkactl start cluster-secure`).

The password stays a `SecretStr` until the moment a client is built, so it never shows in a repr
or a log line of the settings.
"""

from typing import Any

from faststream.security import BaseSecurity, SASLScram256, SASLScram512

from socialsvc_common.settings import ServiceSettings


def _credentials(settings: ServiceSettings) -> tuple[str, str]:
    # The settings validator already refused SASL without both; this keeps mypy and callers honest.
    if settings.kafka_sasl_username is None or settings.kafka_sasl_password is None:
        raise ValueError("SASL needs a username and a password")
    return settings.kafka_sasl_username, settings.kafka_sasl_password.get_secret_value()


def client_security(settings: ServiceSettings) -> dict[str, Any]:
    """Keyword arguments for an aiokafka producer, consumer or admin client."""
    if settings.kafka_security_protocol == "PLAINTEXT":
        return {}
    username, password = _credentials(settings)
    return {
        "security_protocol": settings.kafka_security_protocol,
        "sasl_mechanism": settings.kafka_sasl_mechanism,
        "sasl_plain_username": username,
        "sasl_plain_password": password,
    }


def broker_security(settings: ServiceSettings) -> BaseSecurity | None:
    """The FastStream `security=` of a KafkaBroker (it takes no raw SASL arguments)."""
    if settings.kafka_security_protocol == "PLAINTEXT":
        return None
    username, password = _credentials(settings)
    scram = SASLScram512 if settings.kafka_sasl_mechanism == "SCRAM-SHA-512" else SASLScram256
    return scram(username, password, use_ssl=False)
