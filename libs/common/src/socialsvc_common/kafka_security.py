"""How a client authenticates to Kafka, from `ServiceSettings`: nothing on a PLAINTEXT cluster,
SASL/SCRAM as the service's own principal on the secure one (`kafkactl start cluster-secure`),
over TLS (SASL_SSL) with the brokers' certificates checked, host name included, against the
given certificate authority or the system's.

The password stays a `SecretStr` until the moment a client is built, so it never shows in a repr
or a log line of the settings.
"""

import ssl
from typing import Any

from aiokafka.helpers import create_ssl_context
from faststream.security import BaseSecurity, SASLScram256, SASLScram512

from socialsvc_common.settings import ServiceSettings


def _credentials(settings: ServiceSettings) -> tuple[str, str]:
    # The settings validator already refused SASL without both; this keeps mypy and callers honest.
    if settings.kafka_sasl_username is None or settings.kafka_sasl_password is None:
        raise ValueError("SASL needs a username and a password")
    return settings.kafka_sasl_username, settings.kafka_sasl_password.get_secret_value()


def tls_context(settings: ServiceSettings) -> ssl.SSLContext | None:
    """The TLS context of a SASL_SSL client: certificates and host names checked."""
    if settings.kafka_security_protocol != "SASL_SSL":
        return None
    cafile = settings.kafka_ssl_cafile
    context: ssl.SSLContext = create_ssl_context(cafile=str(cafile) if cafile else None)
    return context


def client_security(settings: ServiceSettings) -> dict[str, Any]:
    """Keyword arguments for an aiokafka producer, consumer or admin client."""
    if settings.kafka_security_protocol == "PLAINTEXT":
        return {}
    username, password = _credentials(settings)
    tls = tls_context(settings)
    return {
        "security_protocol": settings.kafka_security_protocol,
        "sasl_mechanism": settings.kafka_sasl_mechanism,
        "sasl_plain_username": username,
        "sasl_plain_password": password,
        **({"ssl_context": tls} if tls else {}),
    }


def broker_security(settings: ServiceSettings) -> BaseSecurity | None:
    """The FastStream `security=` of a KafkaBroker (it takes no raw SASL arguments)."""
    if settings.kafka_security_protocol == "PLAINTEXT":
        return None
    username, password = _credentials(settings)
    scram = SASLScram512 if settings.kafka_sasl_mechanism == "SCRAM-SHA-512" else SASLScram256
    tls = tls_context(settings)
    return scram(username, password, ssl_context=tls, use_ssl=tls is not None)
