"""ACLs with confluent_kafka: each resource type refusing and then allowing, super users, DENY over ALLOW,
prefixed patterns, hosts, Metadata hiding topics, the no-ACL rule, a restart, and the AdminClient's
create_acls/describe_acls/delete_acls; a forged WriteTxnMarkers refused without CLUSTER_ACTION.

One broker for the module: a SASL_SSL listener, `--authorizer acl`, super user User:admin (the broker's own
client) and nothing allowed without an ACL; every test starts with no ACL at all.
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import (
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    ResourcePatternType,
    ResourceType,
)

from kafkette.certs import create_certificates
from kafkette.client_security import ClientSecurity
from kafkette.local_broker import LocalBroker
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages import DESCRIBE_ACLS, WRITE_TXN_MARKERS
from tests.clients import RawClient
from tests.conftest import unique

USERS = {"admin": "admin-secret", "alice": "alice-secret", "bob": "bob-secret"}
EVERYTHING = AclBindingFilter(ResourceType.ANY, None, ResourcePatternType.ANY, None, None, AclOperation.ANY,
                              AclPermissionType.ANY)
LITERAL, PREFIXED = ResourcePatternType.LITERAL, ResourcePatternType.PREFIXED
ALLOW, DENY = AclPermissionType.ALLOW, AclPermissionType.DENY


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return create_certificates(tmp_path_factory.mktemp("certs"))


@pytest.fixture(scope="module")
def secured(tmp_path_factory, certs):
    with LocalBroker(tmp_path_factory.mktemp("acls") / "data", listeners=["SASL_SSL"], authorizer="acl",
                     super_user=["User:admin"], allow_everyone_if_no_acl_found=False,
                     sasl_user=[f"{name}:{password}" for name, password in USERS.items()],
                     **certs.broker_settings()) as broker:
        yield broker


@pytest.fixture(autouse=True)
def no_acls(secured):
    """Every test starts with no ACL (and tests run in any order)."""
    client = admin(secured)  # a client must outlive its futures: a destroyed handle fails them
    client.delete_acls([EVERYTHING])[EVERYTHING].result(10)


def config(broker: LocalBroker, user: str) -> dict[str, str]:
    return {**broker.client_config(), "sasl.username": user, "sasl.password": USERS[user]}


def admin(broker: LocalBroker, user: str = "admin") -> AdminClient:
    return AdminClient(config(broker, user))


def allow(broker: LocalBroker, *acls: tuple, permission: AclPermissionType = ALLOW) -> None:
    """ACLs of (principal, operation, resource type, name[, pattern type[, host]])."""
    bindings = [AclBinding(kind, name, rest[0] if rest else LITERAL, principal, rest[1] if len(rest) > 1 else "*",
                           op, permission) for principal, op, kind, name, *rest in acls]
    client = admin(broker)
    for future in client.create_acls(bindings).values():
        assert future.result(10) is None


def deny(broker: LocalBroker, *acls: tuple) -> None:
    allow(broker, *acls, permission=DENY)


def produce(broker: LocalBroker, user: str, topic: str, **extra: Any) -> KafkaError | None:
    """One record; the delivery error (None once delivered)."""
    reports: list[KafkaError | None] = []
    producer = Producer({**config(broker, user), "message.timeout.ms": 10000, **extra})
    producer.produce(topic, b"v", partition=0, on_delivery=lambda err, _msg: reports.append(err))
    producer.flush(15)
    assert reports, "no delivery report"
    return reports[0]


def consume_one(broker: LocalBroker, user: str, topic: str, group: str) -> Any:
    """The first record or error a group consumer meets (committing what it read)."""
    consumer = Consumer({**config(broker, user), "group.id": group, "auto.offset.reset": "earliest",
                         "enable.auto.commit": False})
    consumer.subscribe([topic])
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is None:
                continue
            if msg.error() is None:
                consumer.commit(msg, asynchronous=False)
            return msg
        raise AssertionError("nothing consumed")
    finally:
        consumer.close()


# ---------------------------------------------------------------------------------------------- each resource type


def test_a_topic_refuses_writes_and_reads_until_acls_allow_them(secured):
    topic = secured.create_topic(unique("acl-topic"))
    allow(secured, ("User:alice", AclOperation.READ, ResourceType.GROUP, "*"))
    error = produce(secured, "alice", topic)
    assert (error.code(), error.str()) == (KafkaError.TOPIC_AUTHORIZATION_FAILED, "Broker: Topic authorization failed")
    assert consume_one(secured, "alice", topic, unique("g")).error().code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
    allow(secured, ("User:alice", AclOperation.WRITE, ResourceType.TOPIC, topic),
          ("User:alice", AclOperation.READ, ResourceType.TOPIC, topic))
    assert produce(secured, "alice", topic) is None
    assert consume_one(secured, "alice", topic, unique("g")).value() == b"v"


def test_a_group_refuses_its_consumers_until_an_acl_allows_them(secured):
    topic, group = secured.create_topic(unique("acl-group")), unique("grp")
    assert produce(secured, "admin", topic) is None
    allow(secured, ("User:alice", AclOperation.READ, ResourceType.TOPIC, topic))
    error = consume_one(secured, "alice", topic, group).error()
    assert (error.code(), error.str()) == (KafkaError.GROUP_AUTHORIZATION_FAILED,
                                           "FindCoordinator response error: Group authorization failed.")
    allow(secured, ("User:alice", AclOperation.READ, ResourceType.GROUP, group))
    assert consume_one(secured, "alice", topic, group).value() == b"v"
    client = admin(secured)
    committed = client.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)])[group].result(10)
    assert [(tp.topic, tp.offset) for tp in committed.topic_partitions] == [(topic, 1)]


def test_a_transactional_id_refuses_its_producer_until_an_acl_allows_it(secured):
    topic, tid = secured.create_topic(unique("acl-txn")), unique("tid")
    allow(secured, ("User:alice", AclOperation.WRITE, ResourceType.TOPIC, topic))
    producer = Producer({**config(secured, "alice"), "transactional.id": tid})
    with pytest.raises(KafkaException) as refused:
        producer.init_transactions(10)
    error = refused.value.args[0]  # FindCoordinator already needs DESCRIBE on the transactional id
    assert (error.code(), error.fatal()) == (KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, True)
    assert re.fullmatch(r"Failed to find transaction coordinator: sasl_ssl://127\.0\.0\.1:\d+/1: Broker: "
                        r"Transactional Id authorization failed: Transactional Id authorization failed\.", error.str())
    allow(secured, ("User:alice", AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, tid))
    producer = Producer({**config(secured, "alice"), "transactional.id": tid})
    producer.init_transactions(10)
    producer.begin_transaction()
    producer.produce(topic, b"in a transaction", partition=0)
    producer.commit_transaction(10)
    allow(secured, ("User:alice", AclOperation.READ, ResourceType.TOPIC, topic),
          ("User:alice", AclOperation.READ, ResourceType.GROUP, "*"))
    assert consume_one(secured, "alice", topic, unique("g")).value() == b"in a transaction"


def test_idempotent_writes_need_idempotent_write_on_the_cluster_or_write_on_some_topic(secured):
    """KIP-679: InitProducerId without a transactional id needs IDEMPOTENT_WRITE on the cluster, or WRITE on
    any topic at all (bob may write one topic, so his idempotent producer may start)."""
    topic = secured.create_topic(unique("acl-idem"))
    allow(secured, ("User:alice", AclOperation.DESCRIBE, ResourceType.TOPIC, topic))  # else Metadata refuses first
    producer = Producer({**config(secured, "alice"), "enable.idempotence": True})
    producer.produce(topic, b"v", partition=0)
    with pytest.raises(KafkaException) as refused:
        producer.flush(10)
    error = refused.value.args[0]
    assert (error.code(), error.fatal()) == (KafkaError.CLUSTER_AUTHORIZATION_FAILED, True)
    assert re.fullmatch(r"Failed to acquire idempotence PID from broker sasl_ssl://127\.0\.0\.1:\d+/1: Broker: "
                        r"Cluster authorization failed", error.str())
    allow(secured, ("User:alice", AclOperation.IDEMPOTENT_WRITE, ResourceType.BROKER, "kafka-cluster"),
          ("User:alice", AclOperation.WRITE, ResourceType.TOPIC, topic))
    assert produce(secured, "alice", topic, **{"enable.idempotence": True}) is None
    allow(secured, ("User:bob", AclOperation.WRITE, ResourceType.TOPIC, topic))
    assert produce(secured, "bob", topic, **{"enable.idempotence": True}) is None


def security(broker: LocalBroker, user: str) -> ClientSecurity:
    """kafkette's own client (RawClient) logged in as `user`."""
    return ClientSecurity.from_properties({**broker.client_properties(), "sasl.username": user,
                                           "sasl.password": USERS[user]})


def forged_marker(broker: LocalBroker, user: str, topic: str) -> int:
    """A WriteTxnMarkers request a client forges (a COMMIT for producer 1000 on partition 0); its error."""
    R = WRITE_TXN_MARKERS.Request
    with RawClient(broker.bootstrap_servers, security=security(broker, user)) as raw:
        answer = raw.request(WRITE_TXN_MARKERS, 1, R(markers=[R.WritableTxnMarker(
            producer_id=1000, producer_epoch=0, transaction_result=True, coordinator_epoch=0,
            topics=[R.WritableTxnMarkerTopic(name=topic, partition_indexes=[0])])]))
    return answer.markers[0].topics[0].partitions[0].error_code


def end_offset(broker: LocalBroker, topic: str) -> int:
    consumer = Consumer({**config(broker, "admin"), "group.id": unique("peek")})
    try:
        return consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)[1]
    finally:
        consumer.close()


def test_write_txn_markers_are_refused_without_cluster_action_so_clients_cannot_forge_them(secured):
    topic = secured.create_topic(unique("acl-markers"))
    allow(secured, ("User:alice", AclOperation.ALL, ResourceType.TOPIC, topic))
    assert forged_marker(secured, "alice", topic) == ErrorCode.CLUSTER_AUTHORIZATION_FAILED
    assert end_offset(secured, topic) == 0  # nothing was written
    allow(secured, ("User:alice", AclOperation.CLUSTER_ACTION, ResourceType.BROKER, "kafka-cluster"))
    assert forged_marker(secured, "alice", topic) == ErrorCode.NONE
    assert end_offset(secured, topic) == 1


# ---------------------------------------------------------------------------------------------- the rules


def test_a_super_user_passes_a_deny_of_everything(secured):
    topic = secured.create_topic(unique("acl-super"))
    deny(secured, ("User:*", AclOperation.ALL, ResourceType.TOPIC, "*"))
    assert produce(secured, "admin", topic) is None
    assert produce(secured, "alice", topic).code() == KafkaError.TOPIC_AUTHORIZATION_FAILED


def test_deny_wins_over_allow(secured):
    topic = secured.create_topic(unique("acl-deny"))
    allow(secured, ("User:*", AclOperation.ALL, ResourceType.TOPIC, topic))
    deny(secured, ("User:alice", AclOperation.WRITE, ResourceType.TOPIC, topic))
    assert produce(secured, "alice", topic).code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
    assert produce(secured, "bob", topic) is None


def test_a_prefixed_acl_covers_the_names_it_starts(secured):
    prefix = unique("orders") + "-"
    inside, outside = secured.create_topic(prefix + "eu"), secured.create_topic(unique("payments"))
    allow(secured, ("User:alice", AclOperation.WRITE, ResourceType.TOPIC, prefix, PREFIXED))
    assert produce(secured, "alice", inside) is None
    assert produce(secured, "alice", outside).code() == KafkaError.TOPIC_AUTHORIZATION_FAILED


def test_an_acl_for_another_host_does_not_apply(secured):
    topic = secured.create_topic(unique("acl-host"))
    allow(secured, ("User:alice", AclOperation.WRITE, ResourceType.TOPIC, topic, LITERAL, "10.1.2.3"))
    assert produce(secured, "alice", topic).code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
    allow(secured, ("User:alice", AclOperation.WRITE, ResourceType.TOPIC, topic, LITERAL, "127.0.0.1"))
    assert produce(secured, "alice", topic) is None


def test_metadata_hides_the_topics_a_principal_may_not_describe(secured):
    seen, hidden = secured.create_topic(unique("acl-seen")), secured.create_topic(unique("acl-hidden"))
    allow(secured, ("User:alice", AclOperation.READ, ResourceType.TOPIC, seen))
    listed = admin(secured, "alice").list_topics(timeout=10).topics
    assert seen in listed and hidden not in listed
    one = admin(secured, "alice").list_topics(hidden, timeout=10).topics[hidden]
    assert one.error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
    missing = unique("acl-missing")
    assert admin(secured, "alice").list_topics(missing, timeout=10).topics[missing].error.code() == \
        KafkaError.TOPIC_AUTHORIZATION_FAILED  # whether it exists stays unsaid
    assert hidden in admin(secured).list_topics(timeout=10).topics


def test_auto_creation_needs_create_on_the_cluster_or_the_topic(secured):
    name = unique("acl-auto")
    allow(secured, ("User:alice", AclOperation.WRITE, ResourceType.TOPIC, name))
    error = produce(secured, "alice", name)
    assert error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
    assert name not in admin(secured).list_topics(timeout=10).topics
    allow(secured, ("User:alice", AclOperation.CREATE, ResourceType.TOPIC, name))
    assert produce(secured, "alice", name) is None


def test_with_allow_everyone_if_no_acl_found_only_resources_with_acls_are_guarded(tmp_path, certs):
    """The default (true): turning the authorizer on refuses nothing until an ACL names a resource."""
    with LocalBroker(tmp_path / "data", listeners=["SASL_SSL"], authorizer="acl", super_user=["User:admin"],
                     sasl_user=[f"{name}:{password}" for name, password in USERS.items()],
                     **certs.broker_settings()) as broker:
        topic = broker.create_topic(unique("open"))
        assert produce(broker, "alice", topic) is None
        allow(broker, ("User:bob", AclOperation.WRITE, ResourceType.TOPIC, topic))
        assert produce(broker, "alice", topic).code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
        assert produce(broker, "bob", topic) is None


# ---------------------------------------------------------------------------------------------- the ACL APIs


def acl(name: str, principal: str = "User:alice", op: AclOperation = AclOperation.READ,
        kind: ResourceType = ResourceType.TOPIC, pattern: ResourcePatternType = LITERAL,
        permission: AclPermissionType = ALLOW) -> AclBinding:
    return AclBinding(kind, name, pattern, principal, "*", op, permission)


def test_admin_client_creates_describes_and_deletes_acls(secured):
    client = admin(secured)
    t1, t2, prefix = unique("t"), unique("t"), unique("p")
    acls = [acl(t1), acl(t1, op=AclOperation.WRITE), acl(t2, "User:bob"), acl(prefix, pattern=PREFIXED),
            acl("g", kind=ResourceType.GROUP, permission=DENY)]
    for future in client.create_acls(acls).values():
        assert future.result(10) is None
    assert sorted(map(str, client.describe_acls(EVERYTHING).result(10))) == sorted(map(str, acls))
    by_alice = AclBindingFilter(ResourceType.ANY, None, ResourcePatternType.ANY, "User:alice", None, AclOperation.ANY,
                                AclPermissionType.ANY)
    assert len(client.describe_acls(by_alice).result(10)) == 4
    matching = AclBindingFilter(ResourceType.TOPIC, prefix + "-x", ResourcePatternType.MATCH, None, None,
                                AclOperation.ANY, AclPermissionType.ANY)
    assert [str(a) for a in client.describe_acls(matching).result(10)] == [str(acls[3])]
    t1_filter = AclBindingFilter(ResourceType.TOPIC, t1, LITERAL, None, None, AclOperation.ANY, AclPermissionType.ANY)
    deleted = client.delete_acls([t1_filter, matching])
    assert sorted(map(str, deleted[t1_filter].result(10))) == sorted(map(str, acls[:2]))
    assert [str(a) for a in deleted[matching].result(10)] == [str(acls[3])]
    assert sorted(map(str, client.describe_acls(EVERYTHING).result(10))) == sorted(map(str, [acls[2], acls[4]]))


@pytest.mark.parametrize("binding, message", [
    (acl("other", kind=ResourceType.BROKER), "The only valid name for the CLUSTER resource is kafka-cluster"),
    (acl("t", principal="alice"), "Could not parse principal from `alice` (no colon is present separating the "
                                  "principal type from the principal name)"),
])
def test_admin_client_gets_kafkas_error_for_an_invalid_acl(secured, binding, message):
    client = admin(secured)
    with pytest.raises(KafkaException) as refused:
        client.create_acls([binding])[binding].result(10)
    assert (refused.value.args[0].code(), refused.value.args[0].str()) == (KafkaError.INVALID_REQUEST, message)


def test_only_a_principal_allowed_to_alter_the_cluster_may_change_acls(secured):
    client, binding = admin(secured, "alice"), acl(unique("t"))
    with pytest.raises(KafkaException) as refused:
        client.create_acls([binding])[binding].result(10)
    assert refused.value.args[0].code() == KafkaError.CLUSTER_AUTHORIZATION_FAILED
    # librdkafka ignores DescribeAcls' error code (against Kafka too) and answers no ACL; the raw answer says why
    assert client.describe_acls(EVERYTHING).result(10) == []
    assert describe_acls_error(secured, "alice") == ErrorCode.CLUSTER_AUTHORIZATION_FAILED
    allow(secured, ("User:alice", AclOperation.ALTER, ResourceType.BROKER, "kafka-cluster"))
    assert client.create_acls([binding])[binding].result(10) is None
    assert sorted(map(str, client.describe_acls(EVERYTHING).result(10))) == sorted(
        map(str, [binding, acl("kafka-cluster", op=AclOperation.ALTER, kind=ResourceType.BROKER)]))


def describe_acls_error(broker: LocalBroker, user: str) -> int:
    R = DESCRIBE_ACLS.Request
    with RawClient(broker.bootstrap_servers, security=security(broker, user)) as raw:
        return raw.request(DESCRIBE_ACLS, 3, R(resource_type_filter=1, resource_name_filter=None, pattern_type_filter=1,
                                               principal_filter=None, host_filter=None, operation=1,
                                               permission_type=1)).error_code


def test_acls_survive_a_restart(secured):
    topic = secured.create_topic(unique("acl-restart"))
    allow(secured, ("User:alice", AclOperation.WRITE, ResourceType.TOPIC, topic))
    deny(secured, ("User:bob", AclOperation.WRITE, ResourceType.TOPIC, topic))
    secured.restart()
    client = admin(secured)
    assert len(client.describe_acls(EVERYTHING).result(10)) == 2
    assert produce(secured, "alice", topic) is None
    assert produce(secured, "bob", topic).code() == KafkaError.TOPIC_AUTHORIZATION_FAILED


def test_without_an_authorizer_the_acl_apis_answer_security_disabled(broker):
    client, binding = AdminClient({"bootstrap.servers": broker.bootstrap_servers}), acl(unique("t"))
    with pytest.raises(KafkaException) as refused:
        client.create_acls([binding])[binding].result(10)
    assert (refused.value.args[0].code(), refused.value.args[0].str()) == (KafkaError.SECURITY_DISABLED,
                                                                           "No Authorizer is configured.")
    with RawClient(broker.bootstrap_servers) as raw:
        R = DESCRIBE_ACLS.Request
        answer = raw.request(DESCRIBE_ACLS, 1, R(resource_type_filter=1, pattern_type_filter=1, operation=1,
                                                 permission_type=1))
    assert (answer.error_code, answer.error_message) == (ErrorCode.SECURITY_DISABLED,
                                                         "No Authorizer is configured on the broker")
