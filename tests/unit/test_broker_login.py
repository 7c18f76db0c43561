import ssl

from faust.auth import SASLCredentials, SSLCredentials

from stream_processors.broker_login import faust_credentials


def test_faust_logs_in_like_the_librdkafka_clients():
    assert faust_credentials({"bootstrap.servers": "127.0.0.1:9092"}) is None
    sasl = faust_credentials({"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "SCRAM-SHA-512",
                              "sasl.username": "streammart", "sasl.password": "pw"})
    assert isinstance(sasl, SASLCredentials)
    assert (sasl.username, sasl.password, sasl.mechanism.value, sasl.protocol.value) == (
        "streammart", "pw", "SCRAM-SHA-512", "SASL_PLAINTEXT")
    over_tls = faust_credentials({"security.protocol": "SASL_SSL", "sasl.mechanisms": "SCRAM-SHA-256",
                                  "sasl.username": "svc", "sasl.password": "pw"})
    assert over_tls.protocol.value == "SASL_SSL" and isinstance(over_tls.ssl_context, ssl.SSLContext)
    assert over_tls.mechanism.value == "SCRAM-SHA-256"
    assert isinstance(faust_credentials({"security.protocol": "SSL"}), SSLCredentials)
