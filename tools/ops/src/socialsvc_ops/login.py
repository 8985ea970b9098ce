"""How the operators' tool logs in to Kafka: on the secure cluster as the `operator` principal of
the access map, from the settings every client here takes, with the SOCIALSVC_ prefix
(SOCIALSVC_KAFKA_SECURITY_PROTOCOL=SASL_SSL, SOCIALSVC_KAFKA_SSL_CAFILE,
SOCIALSVC_KAFKA_SASL_USERNAME=operator, SOCIALSVC_KAFKA_SASL_PASSWORD); on a PLAINTEXT cluster,
nothing."""

import functools
from typing import Any

from socialsvc_common.kafka_security import client_security
from socialsvc_common.settings import ServiceSettings


@functools.cache
def kafka_login() -> dict[str, Any]:
    """Keyword arguments of every aiokafka client the tool makes."""
    return client_security(ServiceSettings())
