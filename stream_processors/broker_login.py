"""Faust's broker login, derived from the same client settings as every confluent-kafka client.

Faust speaks to Kafka through aiokafka, which takes credentials objects rather than
librdkafka properties; translating :func:`streammart.settings.kafka_client_config`
keeps one source of truth, pass-through properties included.
"""
from __future__ import annotations

import ssl
from collections.abc import Mapping

from faust.auth import SASLCredentials, SSLCredentials
from faust.types.auth import CredentialsT


def faust_credentials(client_config: Mapping[str, str]) -> CredentialsT | None:
    """``broker_credentials`` for a Faust app reaching the brokers ``client_config`` describes.

    None on plaintext. librdkafka spells the mechanism ``sasl.mechanism`` or ``sasl.mechanisms``.
    """
    protocol = client_config.get("security.protocol", "PLAINTEXT").upper()
    context = ssl.create_default_context(cafile=client_config.get("ssl.ca.location")) if "SSL" in protocol else None
    if protocol.startswith("SASL"):
        mechanism = client_config.get("sasl.mechanism") or client_config.get("sasl.mechanisms") or "PLAIN"
        return SASLCredentials(username=client_config.get("sasl.username"),
                               password=client_config.get("sasl.password"),
                               mechanism=mechanism, ssl_context=context)
    if context is not None:
        return SSLCredentials(context)
    return None
