"""kafka-python, aiokafka and kafkajs meeting ACLs: for each resource type (topic, group, transactional id,
the cluster's IDEMPOTENT_WRITE) a refusal, with the exact error each client reports for Kafka's answer,
then success once an ACL allows it. (confluent_kafka: tests/test_acls.py.)

One SASL_PLAINTEXT broker for the module, `--authorizer acl`, nothing allowed without an ACL, super user
User:admin; every test starts with no ACL at all.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from typing import Any, Callable

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import (
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    ResourcePatternType,
    ResourceType,
)

from kafkette.local_broker import LocalBroker
from tests.conftest import ROOT, unique
from tests.test_kafkajs import NODE_MODULES

SCRIPT = ROOT / "tests" / "js" / "kafkajs_acls.js"
PASSWORD = "alice-secret"
EVERYTHING = AclBindingFilter(ResourceType.ANY, None, ResourcePatternType.ANY, None, None, AclOperation.ANY,
                              AclPermissionType.ANY)
OK = "ok"


@pytest.fixture(scope="module")
def guarded(tmp_path_factory):
    with LocalBroker(tmp_path_factory.mktemp("acl-clients") / "data", listeners=["SASL_PLAINTEXT"],
                     authorizer="acl", super_user=["User:admin"], allow_everyone_if_no_acl_found=False,
                     sasl_user=["admin:admin-secret", f"alice:{PASSWORD}"]) as broker:
        yield broker


@pytest.fixture(autouse=True)
def no_acls(guarded):
    client = AdminClient(guarded.client_config())  # a client must outlive its futures
    client.delete_acls([EVERYTHING])[EVERYTHING].result(10)


def allow(broker: LocalBroker, *acls: tuple[AclOperation, ResourceType, str]) -> None:
    client = AdminClient(broker.client_config())
    for future in client.create_acls([AclBinding(kind, name, ResourcePatternType.LITERAL, "User:alice", "*", op,
                                                 AclPermissionType.ALLOW) for op, kind, name in acls]).values():
        assert future.result(10) is None


# ---------------------------------------------------------------------------------------------- each client


def outcome(error: BaseException | None) -> str:
    return OK if error is None else f"{type(error).__name__}: {error}"


class KafkaPython:
    def __init__(self, broker: LocalBroker) -> None:
        self.kwargs = {"bootstrap_servers": broker.bootstrap_servers, "security_protocol": "SASL_PLAINTEXT",
                       "sasl_mechanism": "PLAIN", "sasl_plain_username": "alice", "sasl_plain_password": PASSWORD}

    def produce(self, topic: str, **options: Any) -> str:
        from kafka import KafkaProducer

        try:
            producer = KafkaProducer(max_block_ms=5000, **options, **self.kwargs)
            try:
                producer.send(topic, b"v", partition=0).get(timeout=10)
            finally:
                producer.close(timeout=5)
        except Exception as e:
            return outcome(e)
        return OK

    def consume(self, topic: str, group: str) -> str:
        from kafka import KafkaConsumer

        consumer = KafkaConsumer(topic, group_id=group, auto_offset_reset="earliest", consumer_timeout_ms=10000,
                                 **self.kwargs)
        try:
            return OK if next(iter(consumer)).value == b"v" else "another record"
        except Exception as e:
            return outcome(e)
        finally:
            consumer.close()

    def transaction(self, topic: str, transactional_id: str) -> str:
        from kafka import KafkaProducer

        try:
            producer = KafkaProducer(transactional_id=transactional_id, max_block_ms=5000, **self.kwargs)
            try:
                producer.init_transactions()
                producer.begin_transaction()
                producer.send(topic, b"in-txn", partition=0)
                producer.commit_transaction()
            finally:
                producer.close(timeout=5)
        except Exception as e:
            return outcome(e)
        return OK

    def idempotent(self, topic: str) -> str:
        return self.produce(topic, enable_idempotence=True)


class AioKafka:
    def __init__(self, broker: LocalBroker) -> None:
        self.kwargs = {"bootstrap_servers": broker.bootstrap_servers, "security_protocol": "SASL_PLAINTEXT",
                       "sasl_mechanism": "PLAIN", "sasl_plain_username": "alice", "sasl_plain_password": PASSWORD}

    def run(self, attempt: Callable[[], Any]) -> str:
        try:
            asyncio.run(asyncio.wait_for(attempt(), 30))
        except Exception as e:
            return outcome(e)
        return OK

    def produce(self, topic: str, **options: Any) -> str:
        from aiokafka import AIOKafkaProducer

        async def attempt() -> None:
            producer = AIOKafkaProducer(**options, **self.kwargs)
            await producer.start()
            try:
                await producer.send_and_wait(topic, b"v", partition=0)
            finally:
                await producer.stop()

        return self.run(attempt)

    def consume(self, topic: str, group: str) -> str:
        from aiokafka import AIOKafkaConsumer

        async def attempt() -> None:
            consumer = AIOKafkaConsumer(topic, group_id=group, auto_offset_reset="earliest", **self.kwargs)
            await consumer.start()
            try:
                assert (await consumer.getone()).value == b"v"
            finally:
                await consumer.stop()

        return self.run(attempt)

    def transaction(self, topic: str, transactional_id: str) -> str:
        from aiokafka import AIOKafkaProducer

        async def attempt() -> None:
            producer = AIOKafkaProducer(transactional_id=transactional_id, **self.kwargs)
            await producer.start()
            try:
                async with producer.transaction():
                    await producer.send(topic, b"in-txn", partition=0)
            finally:
                await producer.stop()

        return self.run(attempt)

    def idempotent(self, topic: str) -> str:
        return self.produce(topic, enable_idempotence=True)


class KafkaJs:
    """tests/js/kafkajs_acls.js: the error's name and message, and Kafka's error type (its cause's, when kafkajs
    wraps it)."""

    def __init__(self, broker: LocalBroker) -> None:
        self.bootstrap = broker.bootstrap_servers

    def node(self, *args: str) -> str:
        sasl = json.dumps({"mechanism": "plain", "username": "alice", "password": PASSWORD})
        done = subprocess.run(["node", str(SCRIPT), self.bootstrap, sasl, *args], capture_output=True, text=True,
                              timeout=90, env={"NODE_PATH": str(NODE_MODULES), "PATH": "/usr/local/bin:/usr/bin:/bin"})
        assert done.returncode == 0, done.stderr
        answer = json.loads(done.stdout.strip().splitlines()[-1])
        if answer.get("ok"):
            return OK
        kind = answer.get("type") or (answer.get("cause") or {}).get("type")
        return f"{answer['error']}: {answer['message']}" + (f" ({kind})" if kind else "")

    def produce(self, topic: str) -> str:
        return self.node("produce", topic)

    def consume(self, topic: str, group: str) -> str:
        return self.node("consume", topic, group)

    def transaction(self, topic: str, transactional_id: str) -> str:
        return self.node("transaction", topic, transactional_id)

    def idempotent(self, topic: str) -> str:
        return self.node("idempotent", topic)


CLIENTS = {"kafka-python": KafkaPython, "aiokafka": AioKafka, "kafkajs": KafkaJs}


# ---------------------------------------------------------------------------------------------- refused, allowed


REFUSALS = {
    ("kafka-python", "topic"): "TopicAuthorizationFailedError: [Error 29] TopicAuthorizationFailedError: {topic}",
    ("kafka-python", "group"): "GroupAuthorizationFailedError: [Error 30] GroupAuthorizationFailedError: {group}",
    ("kafka-python", "transactional_id"): "TransactionalIdAuthorizationFailedError: [Error 53] "
                                          "TransactionalIdAuthorizationFailedError",
    ("kafka-python", "cluster"): "KafkaError: KafkaError: Unexpected error in InitProducerIdResponse: [Error 31] "
                                 "ClusterAuthorizationFailedError",
    ("aiokafka", "topic"): "TopicAuthorizationFailedError: [Error 29] TopicAuthorizationFailedError: {topic}",
    ("aiokafka", "group"): "GroupAuthorizationFailedError: [Error 30] GroupAuthorizationFailedError: {group}",
    ("aiokafka", "transactional_id"): "TransactionalIdAuthorizationFailed: [Error 53] "
                                      "TransactionalIdAuthorizationFailed: {tid}",
    ("aiokafka", "cluster"): "ClusterAuthorizationFailedError: [Error 31] ClusterAuthorizationFailedError",
    ("kafkajs", "topic"): "KafkaJSNonRetriableError: Not authorized to access topics: [Topic authorization failed] "
                          "(TOPIC_AUTHORIZATION_FAILED)",
    # kafkajs turns a refused FindCoordinator into "not found" (against Kafka as well)
    ("kafkajs", "group"): "KafkaJSGroupCoordinatorNotFound: Failed to find group coordinator",
    ("kafkajs", "transactional_id"): "KafkaJSGroupCoordinatorNotFound: Failed to find group coordinator",
    ("kafkajs", "cluster"): "KafkaJSProtocolError: Cluster authorization failed (CLUSTER_AUTHORIZATION_FAILED)",
}


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("resource", ["topic", "group", "transactional_id", "cluster"])
def test_a_client_reports_kafkas_refusal_and_succeeds_once_allowed(guarded, client, resource):
    topic, group, tid = guarded.create_topic(unique("acl-c")), unique("grp"), unique("tid")
    user = CLIENTS[client](guarded)
    if resource == "topic":
        attempt, needed = lambda: user.produce(topic), [(AclOperation.WRITE, ResourceType.TOPIC, topic)]
    elif resource == "group":
        seed = Producer(guarded.client_config())
        seed.produce(topic, b"v", partition=0)
        assert seed.flush(10) == 0
        allow(guarded, (AclOperation.READ, ResourceType.TOPIC, topic))
        attempt, needed = lambda: user.consume(topic, group), [(AclOperation.READ, ResourceType.GROUP, group)]
    elif resource == "transactional_id":
        allow(guarded, (AclOperation.WRITE, ResourceType.TOPIC, topic))
        attempt = lambda: user.transaction(topic, tid)  # noqa: E731
        needed = [(AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, tid)]
    else:  # KIP-679: IDEMPOTENT_WRITE on the cluster (or WRITE on some topic, which is what the producer needs next)
        allow(guarded, (AclOperation.DESCRIBE, ResourceType.TOPIC, topic))
        attempt = lambda: user.idempotent(topic)  # noqa: E731
        needed = [(AclOperation.IDEMPOTENT_WRITE, ResourceType.BROKER, "kafka-cluster"),
                  (AclOperation.WRITE, ResourceType.TOPIC, topic)]
    assert attempt() == REFUSALS[client, resource].format(topic=topic, group=group, tid=tid)
    allow(guarded, *needed)
    assert attempt() == OK
