"""Real clients over TLS and SASL: confluent_kafka, kafka-python, aiokafka and kafkajs.

One broker for the module, with a SASL_SSL, an SSL (client certificates required) and a PLAINTEXT
listener; certificates are made in a temporary directory. Each client runs a committed and an aborted
transaction and a read_committed group consumer over SASL_SSL with PLAIN and with SCRAM-SHA-512, and
meets a wrong password with the error it reports for Kafka's.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import time

import pytest
from confluent_kafka import Consumer, KafkaError, Producer

from kafkette.certs import create_certificates
from kafkette.local_broker import LocalBroker
from tests.conftest import unique
from tests.test_kafkajs import NODE_MODULES, SCRIPT

USER, PASSWORD = "alice", "alice-secret"
MECHANISMS = ["PLAIN", "SCRAM-SHA-512"]
KEPT = [b"kept-%d" % i for i in range(10)]


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return create_certificates(tmp_path_factory.mktemp("certs"))


@pytest.fixture(scope="module")
def secured(tmp_path_factory, certs):
    with LocalBroker(tmp_path_factory.mktemp("secured") / "data", listeners=["SASL_SSL", "SSL", "PLAINTEXT"],
                     sasl_user=[f"{USER}:{PASSWORD}"], log_level="debug", log_format="console",
                     sasl_enabled_mechanisms=["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"],
                     **certs.broker_settings(client_auth="required")) as broker:
        yield broker


def librdkafka(secured, certs, mechanism: str, password: str = PASSWORD) -> dict:
    return {"bootstrap.servers": secured.bootstrap("SASL_SSL"), "security.protocol": "SASL_SSL",
            "sasl.mechanism": mechanism, "sasl.username": USER, "sasl.password": password,
            "ssl.ca.location": str(certs.ca)}


def python_client(secured, certs, mechanism: str, password: str = PASSWORD) -> dict:
    """kafka-python's and aiokafka's keyword arguments (aiokafka takes an ssl_context instead of ssl_cafile)."""
    return {"bootstrap_servers": secured.bootstrap("SASL_SSL"), "security_protocol": "SASL_SSL",
            "sasl_mechanism": mechanism, "sasl_plain_username": USER, "sasl_plain_password": password}


def new_topic(secured, name: str) -> str:
    return secured.create_topic(unique(name), 2)


# ---------------------------------------------------------------------------------------------- transactions


@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_confluent_kafka_transaction_and_read_committed_group(secured, certs, mechanism):
    config, topic = librdkafka(secured, certs, mechanism), new_topic(secured, "sec-ck")
    producer = Producer({**config, "transactional.id": unique("tid")})
    producer.init_transactions(15)
    producer.begin_transaction()
    for i, value in enumerate(KEPT):
        producer.produce(topic, value, partition=i % 2)
    producer.commit_transaction(15)
    producer.begin_transaction()
    producer.produce(topic, b"aborted", partition=0)
    producer.flush(10)
    producer.abort_transaction(15)
    consumer = Consumer({**config, "group.id": unique("grp"), "isolation.level": "read_committed",
                         "auto.offset.reset": "earliest"})
    consumer.subscribe([topic])
    got: list[bytes] = []
    deadline = time.monotonic() + 30
    try:
        while len(got) < len(KEPT) and time.monotonic() < deadline:
            for msg in consumer.consume(10, timeout=0.5):
                assert msg.error() is None, msg.error()
                got.append(msg.value())
        consumer.commit(asynchronous=False)
    finally:
        consumer.close()
    assert sorted(got) == sorted(KEPT)


@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_kafka_python_transaction_and_read_committed_group(secured, certs, mechanism):
    from kafka import KafkaConsumer, KafkaProducer

    kwargs, topic = python_client(secured, certs, mechanism), new_topic(secured, "sec-kpy")
    producer = KafkaProducer(transactional_id=unique("tid"), ssl_cafile=str(certs.ca), **kwargs)
    try:
        producer.init_transactions()
        producer.begin_transaction()
        for i, value in enumerate(KEPT):
            producer.send(topic, value=value, partition=i % 2)
        producer.commit_transaction()
        producer.begin_transaction()
        producer.send(topic, value=b"aborted", partition=0)
        producer.flush()
        producer.abort_transaction()
    finally:
        producer.close(timeout=10)
    consumer = KafkaConsumer(topic, group_id=unique("grp"), isolation_level="read_committed",
                             auto_offset_reset="earliest", enable_auto_commit=False, heartbeat_interval_ms=500,
                             ssl_cafile=str(certs.ca), **kwargs)
    got: list[bytes] = []
    try:
        assert consumer.partitions_for_topic(topic) == {0, 1}  # see tests/test_groups_clients.py
        deadline = time.monotonic() + 30
        while len(got) < len(KEPT) and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                got.extend(r.value for r in records)
        consumer.commit()
    finally:
        consumer.close()
    assert sorted(got) == sorted(KEPT)


@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_aiokafka_transaction_and_read_committed_group(secured, certs, mechanism):
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
    from aiokafka.helpers import create_ssl_context

    kwargs, topic = python_client(secured, certs, mechanism), new_topic(secured, "sec-aio")

    async def run() -> list[bytes]:
        ssl_context = create_ssl_context(cafile=str(certs.ca))
        producer = AIOKafkaProducer(transactional_id=unique("tid"), ssl_context=ssl_context, **kwargs)
        await producer.start()
        try:
            async with producer.transaction():
                for i, value in enumerate(KEPT):
                    await producer.send(topic, value=value, partition=i % 2)
            await producer.begin_transaction()
            await producer.send_and_wait(topic, value=b"aborted", partition=0)
            await producer.abort_transaction()
        finally:
            await producer.stop()
        consumer = AIOKafkaConsumer(topic, group_id=unique("grp"), isolation_level="read_committed",
                                    auto_offset_reset="earliest", enable_auto_commit=False, heartbeat_interval_ms=500,
                                    ssl_context=ssl_context, **kwargs)
        await consumer.start()
        got: list[bytes] = []
        try:
            async with asyncio.timeout(30):
                while len(got) < len(KEPT):
                    for records in (await consumer.getmany(timeout_ms=500)).values():
                        got.extend(r.value for r in records)
            await consumer.commit()
        finally:
            await consumer.stop()
        return got

    assert sorted(asyncio.run(run())) == sorted(KEPT)


def kafkajs(bootstrap: str, topic: str, security: dict) -> subprocess.CompletedProcess:
    return subprocess.run(["node", str(SCRIPT), bootstrap, topic, json.dumps(security)], capture_output=True,
                          text=True, timeout=90, env={"NODE_PATH": str(NODE_MODULES), "PATH": "/usr/local/bin:/usr/bin:/bin"})


@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_kafkajs_transaction_and_read_committed_group(secured, certs, mechanism):
    topic = unique("sec-js")
    done = kafkajs(secured.bootstrap("SASL_SSL"), topic, {
        "caFile": str(certs.ca), "sasl": {"mechanism": mechanism.lower(), "username": USER, "password": PASSWORD}})
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])["seen"]
    assert sorted(seen) == sorted([f"v{i}" for i in range(100)] + ["in-txn"])


# ---------------------------------------------------------------------------------------------- wrong passwords

SCRAM_FAILED = "Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512"
PLAIN_FAILED = "Authentication failed: Invalid username or password"


@pytest.mark.parametrize("mechanism, message", [("PLAIN", PLAIN_FAILED), ("SCRAM-SHA-512", SCRAM_FAILED)])
def test_confluent_kafka_reports_kafkas_message_for_a_wrong_password(secured, certs, mechanism, message):
    errors: list[KafkaError] = []
    producer = Producer({**librdkafka(secured, certs, mechanism, "wrong"), "error_cb": errors.append})
    deadline = time.monotonic() + 15
    while not errors and time.monotonic() < deadline:
        producer.poll(0.1)
    assert errors, "no error reported"
    assert errors[0].code() == KafkaError._AUTHENTICATION
    assert re.fullmatch(rf"sasl_ssl://127\.0\.0\.1:\d+/bootstrap: SASL authentication error: {message} "
                        rf"\(after \d+ms in state AUTH_REQ\)", errors[0].str()), errors[0].str()
    assert "peer=127.0.0.1:" in secured.log_path.read_text()


def test_the_broker_logs_a_failed_login_with_user_and_peer_but_never_the_password(secured, certs):
    errors: list[KafkaError] = []
    producer = Producer({**librdkafka(secured, certs, "PLAIN", "not-the-password-xyz"), "error_cb": errors.append})
    deadline = time.monotonic() + 15
    while not errors and time.monotonic() < deadline:
        producer.poll(0.1)
    log = secured.log_path.read_text()
    failures = [line for line in log.splitlines() if "SASL authentication failed" in line and "mechanism=PLAIN" in line]
    assert failures and "[warning  ]" in failures[-1]
    assert re.search(r"peer=127\.0\.0\.1:\d+", failures[-1]) and f"user={USER}" in failures[-1]
    assert "not-the-password-xyz" not in log


@pytest.mark.parametrize("mechanism, message", [("PLAIN", PLAIN_FAILED), ("SCRAM-SHA-512", SCRAM_FAILED)])
def test_kafka_python_reports_kafkas_message_for_a_wrong_password(secured, certs, mechanism, message, caplog):
    """kafka-python logs the broker's error for each connection, and raises that it could not bootstrap."""
    from kafka import KafkaProducer
    from kafka.errors import KafkaTimeoutError

    with pytest.raises(KafkaTimeoutError, match="Unable to bootstrap from"):
        KafkaProducer(ssl_cafile=str(certs.ca), bootstrap_timeout_ms=3000,
                      **python_client(secured, certs, mechanism, "wrong"))
    assert f"Connection lost: [Error 58] SaslAuthenticationFailedError: SaslAuthenticationFailedError: {message}" \
        in [r.getMessage().partition(">: ")[2] for r in caplog.records if r.name == "kafka.net.connection"]


@pytest.mark.parametrize("mechanism, message", [("PLAIN", PLAIN_FAILED), ("SCRAM-SHA-512", SCRAM_FAILED)])
def test_aiokafka_reports_kafkas_message_for_a_wrong_password(secured, certs, mechanism, message, caplog):
    """aiokafka logs the broker's error, and raises that it could not bootstrap."""
    from aiokafka import AIOKafkaProducer
    from aiokafka.errors import KafkaConnectionError
    from aiokafka.helpers import create_ssl_context

    async def start() -> None:
        producer = AIOKafkaProducer(ssl_context=create_ssl_context(cafile=str(certs.ca)),
                                    **python_client(secured, certs, mechanism, "wrong"))
        try:
            await producer.start()
        finally:
            await producer.stop()

    with pytest.raises(KafkaConnectionError, match="Unable to bootstrap from"):
        asyncio.run(asyncio.wait_for(start(), 30))
    address = secured.bootstrap("SASL_SSL")
    assert f'Unable connect to "{address}": [Error 58] SaslAuthenticationFailed: {message}' in \
        [r.getMessage() for r in caplog.records if r.name == "aiokafka"]


@pytest.mark.parametrize("mechanism, message", [
    ("plain", f"SASL PLAIN authentication failed: {PLAIN_FAILED}"),
    ("scram-sha-512", f"SASL SCRAM SHA512 authentication failed: {SCRAM_FAILED}")])
def test_kafkajs_reports_kafkas_message_for_a_wrong_password(secured, certs, mechanism, message):
    done = kafkajs(secured.bootstrap("SASL_SSL"), unique("js-wrong"), {
        "caFile": str(certs.ca), "sasl": {"mechanism": mechanism, "username": USER, "password": "wrong"}})
    assert done.returncode == 1
    assert f"ERR KafkaJSSASLAuthenticationError: {message}" in done.stderr.splitlines()


# ---------------------------------------------------------------------------------------------- mTLS, OAUTHBEARER


def test_a_client_certificate_names_the_principal_on_the_ssl_listener(secured, certs):
    topic = new_topic(secured, "mtls")
    config = {"bootstrap.servers": secured.bootstrap("SSL"), "security.protocol": "SSL",
              **certs.client_properties(with_certificate=True)}
    producer = Producer(config)
    producer.produce(topic, b"over mTLS", partition=0)
    assert producer.flush(15) == 0
    consumer = Consumer({**config, "group.id": unique("grp"), "auto.offset.reset": "earliest"})
    consumer.subscribe([topic])
    try:
        msg = None
        deadline = time.monotonic() + 20
        while msg is None and time.monotonic() < deadline:
            msg = consumer.poll(0.5)
        assert msg is not None and msg.error() is None and msg.value() == b"over mTLS"
    finally:
        consumer.close()
    # The principal Kafka's DefaultKafkaPrincipalBuilder gives this certificate (no API tells a client its own)
    assert "listener=SSL peer=127.0.0.1:" in secured.log_path.read_text()
    assert "principal='User:CN=client,O=kafkette local'" in secured.log_path.read_text()


def test_a_client_without_a_certificate_is_refused_when_one_is_required(secured, certs, caplog):
    """With TLS 1.3 the client learns it at its first read: the broker closes the connection."""
    import logging

    caplog.set_level(logging.INFO, logger="librdkafka")
    producer = Producer({"bootstrap.servers": secured.bootstrap("SSL"), "security.protocol": "SSL",
                         **certs.client_properties(), "logger": logging.getLogger("librdkafka")})
    producer.produce("anything", b"never delivered")
    assert producer.flush(3) == 1
    assert any("SSL connection closed by peer" in r.getMessage() for r in caplog.records if r.name == "librdkafka")


def unsecured_jwt(claims: dict) -> str:
    import base64

    def part(doc: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(doc).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none'})}.{part(claims)}."


def test_confluent_kafka_with_an_unsecured_oauthbearer_token(secured, certs):
    topic = new_topic(secured, "oauth")
    config = {"bootstrap.servers": secured.bootstrap("SASL_SSL"), "security.protocol": "SASL_SSL",
              "sasl.mechanism": "OAUTHBEARER", "enable.sasl.oauthbearer.unsecure.jwt": True,
              "sasl.oauthbearer.config": "principal=bob", "ssl.ca.location": str(certs.ca)}
    producer = Producer(config)
    producer.produce(topic, b"with a token", partition=0)
    assert producer.flush(15) == 0
    assert re.search(r"authenticated .*mechanism=OAUTHBEARER .*principal=User:bob session_lifetime_ms=\d+",
                     secured.log_path.read_text())


def test_an_expired_oauthbearer_token_is_refused_with_kafkas_answer(secured, certs):
    from kafkette.client import RawClient
    from kafkette.client_security import ClientSecurity
    from kafkette.protocol.messages import SASL_AUTHENTICATE, SASL_HANDSHAKE

    token = unsecured_jwt({"sub": "bob", "iat": time.time() - 120, "exp": time.time() - 60})
    tls = ClientSecurity.from_properties({"security.protocol": "SSL", "ssl.ca.location": str(certs.ca)})
    with RawClient(secured.bootstrap("SASL_SSL"), security=tls) as client:
        assert client.request(SASL_HANDSHAKE, 1, SASL_HANDSHAKE.Request(mechanism="OAUTHBEARER")).error_code == 0
        first = client.request(SASL_AUTHENTICATE, 1, SASL_AUTHENTICATE.Request(
            auth_bytes=f"n,,\x01auth=Bearer {token}\x01\x01".encode()))
        assert (first.error_code, bytes(first.auth_bytes)) == (0, b'{"status":"invalid_token"}')
        last = client.request(SASL_AUTHENTICATE, 1, SASL_AUTHENTICATE.Request(auth_bytes=b"\x01"))
        assert (last.error_code, last.error_message) == (58, '{"status":"invalid_token"}')
        assert client.is_closed_by_peer()
    assert "was on or after the Expiration Time value" in secured.log_path.read_text()
