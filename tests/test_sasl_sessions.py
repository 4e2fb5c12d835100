"""A SASL connection's states and sessions, on the wire: what may come before authentication, the v0
handshake's bare tokens, failures, and KIP-368 sessions (re-authentication, expiry) with real clients.

The broker's sessions last 2 s (--connections-max-reauth-ms 2000).
"""

from __future__ import annotations

import asyncio
import json
import re
import time

import pytest
from confluent_kafka import Producer

from kafkette.local_broker import LocalBroker
from kafkette.protocol import scram
from kafkette.protocol.messages import API_VERSIONS, METADATA, SASL_AUTHENTICATE, SASL_HANDSHAKE
from tests.clients import RawClient
from tests.conftest import unique

SESSION_MS = 2000
USERS = {"alice": "alice-secret", "bob": "bob-secret"}


@pytest.fixture(scope="module")
def sessions(tmp_path_factory):
    with LocalBroker(tmp_path_factory.mktemp("sessions") / "data", listeners=["SASL_PLAINTEXT", "PLAINTEXT"],
                     sasl_user=[f"{u}:{p}" for u, p in USERS.items()], connections_max_reauth_ms=SESSION_MS,
                     log_level="debug", log_format="console") as broker:  # the tests read its key=value lines
        yield broker


def raw(broker: LocalBroker, listener: str = "SASL_PLAINTEXT") -> RawClient:
    return RawClient(broker.bootstrap(listener))


def handshake(client: RawClient, mechanism: str = "PLAIN", version: int = 1):
    return client.request(SASL_HANDSHAKE, version, SASL_HANDSHAKE.Request(mechanism=mechanism))


def plain(client: RawClient, user: str = "alice", password: str | None = None, version: int = 1):
    token = f"\0{user}\0{USERS[user] if password is None else password}".encode()
    return client.request(SASL_AUTHENTICATE, version, SASL_AUTHENTICATE.Request(auth_bytes=token))


def metadata_works(client: RawClient) -> bool:
    return client.request(METADATA, 8, METADATA.Request(topics=[], allow_auto_topic_creation=False)).brokers != []


# ---------------------------------------------------------------------------------------------- before authentication


def test_apiversions_then_handshake_then_authenticate_then_anything(sessions):
    with raw(sessions) as client:
        versions = client.request(API_VERSIONS, 3, API_VERSIONS.Request(client_software_name="t",
                                                                        client_software_version="1"))
        served = {k.api_key: (k.min_version, k.max_version) for k in versions.api_keys}
        assert served[SASL_HANDSHAKE.key] == (0, 1) and served[SASL_AUTHENTICATE.key] == (0, 2)
        answer = handshake(client)
        assert (answer.error_code, answer.mechanisms) == (0, ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
        done = plain(client)
        assert (done.error_code, done.error_message, done.session_lifetime_ms) == (0, None, SESSION_MS)
        assert metadata_works(client)


def test_any_other_request_before_authentication_closes_the_connection(sessions):
    with raw(sessions) as client:
        client.send(METADATA, 8, METADATA.Request(topics=[], allow_auto_topic_creation=False))
        assert client.is_closed_by_peer()
    with raw(sessions) as client:
        handshake(client)
        client.send(METADATA, 8, METADATA.Request(topics=[], allow_auto_topic_creation=False))
        assert client.is_closed_by_peer()
    assert "closing connection: unexpected Metadata request during SASL authentication" in sessions.log_path.read_text()


def test_a_second_apiversions_closes_the_connection(sessions):
    with raw(sessions) as client:
        client.request(API_VERSIONS, 0, API_VERSIONS.Request())
        client.send(API_VERSIONS, 0, API_VERSIONS.Request())
        assert client.is_closed_by_peer()


def test_an_unknown_apiversions_version_may_be_retried_before_the_handshake(sessions):
    from kafkette.protocol.framing import RequestHeader

    with raw(sessions) as client:
        client.send_bytes(header_only(RequestHeader(API_VERSIONS.key, 99, 5, "t")))
        cid, body = client.recv(API_VERSIONS, 0)
        assert (cid, body.error_code) == (5, 35)
        client.request(API_VERSIONS, 3, API_VERSIONS.Request(client_software_name="t", client_software_version="1"))
        assert handshake(client).error_code == 0 and plain(client).error_code == 0


def header_only(header) -> bytes:
    import struct

    client_id = header.client_id.encode()
    body = struct.pack(">hhih", header.api_key, header.api_version, header.correlation_id, len(client_id)) + client_id
    return struct.pack(">i", len(body)) + body


def test_an_unsupported_mechanism_is_answered_with_the_enabled_ones_then_closed(sessions):
    with raw(sessions) as client:
        answer = handshake(client, "GSSAPI")
        assert (answer.error_code, answer.mechanisms) == (33, ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
        assert client.is_closed_by_peer()
    assert re.search(r"SASL authentication failed; closing the connection .*mechanism=GSSAPI",
                     sessions.log_path.read_text())


def test_a_large_frame_before_authentication_closes_the_connection(sessions):
    with raw(sessions) as client:
        client.send_bytes((600 * 1024).to_bytes(4, "big") + b"\x00" * 1024)
        assert client.is_closed_by_peer()


def test_plain_failures_carry_kafkas_messages(sessions):
    cases = [(b"\0alice\0wrong", "Authentication failed: Invalid username or password"),
             (b"\0\0pw", "Authentication failed: username not specified"),
             (b"\0alice\0", "Authentication failed: password not specified"),
             (b"alice", "Invalid SASL/PLAIN response: expected 3 tokens, got 1"),
             (b"bob\0alice\0alice-secret",
              "Authentication failed: Client requested an authorization id that is different from username")]
    for token, message in cases:
        with raw(sessions) as client:
            handshake(client)
            answer = client.request(SASL_AUTHENTICATE, 1, SASL_AUTHENTICATE.Request(auth_bytes=token))
            assert (answer.error_code, answer.error_message) == (58, message)
            assert client.is_closed_by_peer()


def test_a_v0_handshake_is_followed_by_bare_tokens(sessions):
    """Clients before KIP-152 send SASL tokens size-prefixed, without a Kafka header, and get them back so."""
    with raw(sessions) as client:
        assert handshake(client, "SCRAM-SHA-256", version=0).error_code == 0
        scram_client = scram.ScramClient(scram.SCRAM_SHA_256, "bob", USERS["bob"])
        client.send_bytes(bare(scram_client.first()))
        final = scram_client.final(client.recv_frame())
        client.send_bytes(bare(final))
        scram_client.verify(client.recv_frame())
        assert metadata_works(client)
    with raw(sessions) as client:
        assert handshake(client, "PLAIN", version=0).error_code == 0
        client.send_bytes(bare(b"\0alice\0wrong"))
        assert client.is_closed_by_peer()  # a bare exchange has no way to say why


def bare(token: bytes) -> bytes:
    return len(token).to_bytes(4, "big") + token


# ---------------------------------------------------------------------------------------------- after authentication


def test_sasl_requests_after_authentication_get_illegal_sasl_state(sessions):
    with raw(sessions, "PLAINTEXT") as client:
        assert handshake(client).error_code == 34
        answer = plain(client)
        assert (answer.error_code, answer.error_message) == \
            (34, "SaslAuthenticate request received after successful authentication")


def test_reauthentication_keeps_the_connection_and_the_principal(sessions):
    with raw(sessions) as client:
        handshake(client), plain(client)
        assert handshake(client).error_code == 0  # the first re-authentication may start at once
        assert plain(client).session_lifetime_ms == SESSION_MS
        assert metadata_works(client)
        assert handshake(client).error_code == 34  # less than a second after the last one started: an ordinary request
        time.sleep(1.1)
        assert handshake(client).error_code == 0
        answer = plain(client, "bob")
        assert (answer.error_code, answer.error_message) == \
            (58, "Cannot change principals during re-authentication from User.alice: User.bob")
        assert client.is_closed_by_peer()


def test_reauthentication_may_not_change_the_mechanism(sessions):
    with raw(sessions) as client:
        handshake(client), plain(client)
        time.sleep(1.0)
        assert handshake(client, "SCRAM-SHA-512").error_code == 0
        client.send(SASL_AUTHENTICATE, 1, SASL_AUTHENTICATE.Request(auth_bytes=b"n,,n=alice,r=abc"))
        assert client.is_closed_by_peer()
    assert "SASL mechanism 'SCRAM-SHA-512' requested by client is not supported for re-authentication of " \
           "mechanism 'PLAIN'" in sessions.log_path.read_text()


def test_a_request_after_the_session_ends_closes_the_connection(sessions):
    with raw(sessions) as client:
        handshake(client), plain(client)
        assert metadata_works(client)
        time.sleep(SESSION_MS / 1000 + 0.2)
        client.send(METADATA, 8, METADATA.Request(topics=[], allow_auto_topic_creation=False))
        assert client.is_closed_by_peer()
    assert "closing connection: its SASL session expired" in sessions.log_path.read_text()


# ---------------------------------------------------------------------------------------------- real clients


def test_librdkafka_reauthenticates_on_the_same_connection(sessions):
    topic = sessions.create_topic(unique("reauth"))
    stats: list[dict] = []
    producer = Producer({**sessions.client_config(), "statistics.interval.ms": 500,
                         "stats_cb": lambda s: stats.append(json.loads(s))})
    deadline = time.monotonic() + 5.5
    sent = 0
    while time.monotonic() < deadline:
        producer.produce(topic, b"%d" % sent, partition=0)
        sent += 1
        assert producer.flush(5) == 0
        time.sleep(0.25)
    producer.poll(0.6)
    node = next(b for b in stats[-1]["brokers"].values() if b["nodeid"] == 1)
    assert node["connects"] == 1 and node["disconnects"] == 0
    assert node["req"]["SaslHandshake"] >= 3 and node["req"]["SaslAuthenticate"] >= 3  # once, then each ~2 s
    assert "re-authenticated" in sessions.log_path.read_text()


def test_a_client_that_does_not_reauthenticate_is_disconnected_and_reconnects(sessions):
    """aiokafka ignores session_lifetime_ms: its next request after the session ends closes its connection."""
    from aiokafka import AIOKafkaProducer

    topic = sessions.create_topic(unique("no-reauth"))
    before = sessions.log_path.read_text().count("closing connection: its SASL session expired")

    async def run() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=sessions.bootstrap("SASL_PLAINTEXT"),
                                    security_protocol="SASL_PLAINTEXT", sasl_mechanism="PLAIN",
                                    sasl_plain_username="alice", sasl_plain_password=USERS["alice"])
        await producer.start()
        try:
            await producer.send_and_wait(topic, b"first", partition=0)
            await asyncio.sleep(SESSION_MS / 1000 + 0.5)
            await producer.send_and_wait(topic, b"after the session", partition=0)
        finally:
            await producer.stop()

    asyncio.run(asyncio.wait_for(run(), 60))
    assert sessions.log_path.read_text().count("closing connection: its SASL session expired") > before


def test_kafka_python_reauthenticates_on_the_same_connection(sessions):
    from kafka import KafkaProducer

    topic = sessions.create_topic(unique("reauth-kpy"))
    log_before = sessions.log_path.read_text()
    producer = KafkaProducer(bootstrap_servers=sessions.bootstrap("SASL_PLAINTEXT"), security_protocol="SASL_PLAINTEXT",
                             sasl_mechanism="SCRAM-SHA-256", sasl_plain_username="bob", sasl_plain_password=USERS["bob"])
    try:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            producer.send(topic, b"x", partition=0).get(timeout=10)
            time.sleep(0.25)
    finally:
        producer.close(timeout=10)
    new = sessions.log_path.read_text()[len(log_before):]
    assert len(re.findall(r"re-authenticated .*mechanism=SCRAM-SHA-256 .*principal=User:bob", new)) >= 2
    assert "its SASL session expired" not in new
