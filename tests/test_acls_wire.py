"""ACL enforcement as Kafka's KafkaApis answers it, request by request, where no client library shows the
details: which topics Metadata names or hides, refused entries' fields and order, authorized-operations
bitfields, and the requests Kafka cannot parse. Alice may describe topic `seen` and group `mine`, nothing else.
"""

from __future__ import annotations

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

from kafkette.client_security import ClientSecurity
from kafkette.local_broker import LocalBroker
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages import (
    CREATE_ACLS,
    CREATE_TOPICS,
    DELETE_TOPICS,
    DESCRIBE_ACLS,
    DESCRIBE_CLUSTER,
    DESCRIBE_CONFIGS,
    DESCRIBE_GROUPS,
    FIND_COORDINATOR,
    INCREMENTAL_ALTER_CONFIGS,
    LIST_GROUPS,
    LIST_OFFSETS,
    METADATA,
    OFFSET_FETCH,
)
from tests.clients import RawClient
from tests.conftest import unique

ALICE = "alice-secret"
MIN = -(1 << 31)  # an authorized-operations field not asked for (or not computed)
DESCRIBE, ALTER = 1 << 8, 1 << 7
EVERYTHING = AclBindingFilter(ResourceType.ANY, None, ResourcePatternType.ANY, None, None, AclOperation.ANY,
                              AclPermissionType.ANY)


@pytest.fixture(scope="module")
def guarded(tmp_path_factory):
    with LocalBroker(tmp_path_factory.mktemp("acl-wire") / "data", listeners=["SASL_PLAINTEXT"], authorizer="acl",
                     super_user=["User:admin"], allow_everyone_if_no_acl_found=False,
                     sasl_user=["admin:admin-secret", f"alice:{ALICE}"]) as broker:
        yield broker


@pytest.fixture(scope="module")
def names(guarded):
    """Topics `seen` (alice may describe it) and `hidden`, groups `mine` (committed offsets of both topics) and
    `theirs`."""
    seen, hidden = guarded.create_topic(unique("seen")), guarded.create_topic(unique("hidden"))
    mine, theirs = unique("mine"), unique("theirs")
    admin = AdminClient(guarded.client_config())
    for future in admin.delete_acls([EVERYTHING]).values():
        future.result(10)
    for future in admin.create_acls([
            AclBinding(kind, name, ResourcePatternType.LITERAL, "User:alice", "*", AclOperation.DESCRIBE,
                       AclPermissionType.ALLOW) for kind, name in [(ResourceType.TOPIC, seen), (ResourceType.GROUP, mine)]
    ]).values():
        assert future.result(10) is None
    from confluent_kafka import Consumer, TopicPartition

    producer = Producer(guarded.client_config())
    for topic in (seen, hidden):
        producer.produce(topic, b"v", partition=0)
    assert producer.flush(10) == 0
    for group in (mine, theirs):
        consumer = Consumer({**guarded.client_config(), "group.id": group})
        consumer.commit(offsets=[TopicPartition(seen, 0, 1), TopicPartition(hidden, 0, 1)], asynchronous=False)
        consumer.close()
    return {"seen": seen, "hidden": hidden, "mine": mine, "theirs": theirs}


def alice(broker: LocalBroker) -> RawClient:
    security = ClientSecurity.from_properties({**broker.client_properties(), "sasl.username": "alice",
                                               "sasl.password": ALICE})
    return RawClient(broker.bootstrap_servers, security=security)


def test_metadata_names_what_may_be_described_and_hides_the_rest(guarded, names):
    R = METADATA.Request
    seen, hidden, missing = names["seen"], names["hidden"], unique("missing")
    with alice(guarded) as raw:
        every = raw.request(METADATA, 12, R(topics=None, include_topic_authorized_operations=True))
        assert [t.name for t in every.topics] == [seen]
        assert every.topics[0].topic_authorized_operations == DESCRIBE
        named = raw.request(METADATA, 12, R(topics=[R.MetadataRequestTopic(name=n) for n in (seen, hidden, missing)],
                                            allow_auto_topic_creation=True, include_topic_authorized_operations=True))
        assert [(t.name, t.error_code, t.topic_authorized_operations, t.topic_id, t.partitions)
                for t in named.topics[1:]] == [
            (hidden, ErrorCode.TOPIC_AUTHORIZATION_FAILED, MIN, bytes(16), []),
            (missing, ErrorCode.TOPIC_AUTHORIZATION_FAILED, MIN, bytes(16), [])]
        hidden_id = raw.request(METADATA, 12, R(topics=None)).topics  # alice's view: no id of `hidden` here
        assert hidden not in [t.name for t in hidden_id]
        cluster = raw.request(METADATA, 10, R(topics=[], include_cluster_authorized_operations=True))
        assert cluster.cluster_authorized_operations == 0  # no DESCRIBE on the cluster
    with RawClient(guarded.bootstrap_servers, security=guarded.client_security()) as admin:
        topic_id = admin.request(METADATA, 12, R(topics=[R.MetadataRequestTopic(name=hidden)])).topics[0].topic_id
    with alice(guarded) as raw:
        by_id = raw.request(METADATA, 12, R(topics=[R.MetadataRequestTopic(name=None, topic_id=topic_id)])).topics[0]
        assert (by_id.error_code, by_id.name, by_id.topic_id) == (ErrorCode.TOPIC_AUTHORIZATION_FAILED, None, topic_id)


def test_describe_cluster_tells_the_principals_own_operations(guarded, names):
    R = DESCRIBE_CLUSTER.Request
    with alice(guarded) as raw:
        assert raw.request(DESCRIBE_CLUSTER, 1, R(include_cluster_authorized_operations=True)
                           ).cluster_authorized_operations == 0
    with RawClient(guarded.bootstrap_servers, security=guarded.client_security()) as admin:
        assert admin.request(DESCRIBE_CLUSTER, 1, R(include_cluster_authorized_operations=True)
                             ).cluster_authorized_operations == 8096  # the super user: every cluster operation


def test_groups_refused_come_first_and_lists_show_only_what_may_be_described(guarded, names):
    mine, theirs = names["mine"], names["theirs"]
    with alice(guarded) as raw:
        R = DESCRIBE_GROUPS.Request
        described = raw.request(DESCRIBE_GROUPS, 5, R(groups=[mine, theirs], include_authorized_operations=True))
        assert [(g.group_id, g.error_code, g.group_state, g.authorized_operations) for g in described.groups] == [
            (theirs, ErrorCode.GROUP_AUTHORIZATION_FAILED, "", MIN), (mine, 0, "Empty", DESCRIBE)]
        listed = {g.group_id for g in raw.request(LIST_GROUPS, 4, LIST_GROUPS.Request()).groups}
        assert mine in listed and theirs not in listed
        F = FIND_COORDINATOR.Request
        found = raw.request(FIND_COORDINATOR, 4, F(key_type=0, coordinator_keys=[mine, theirs])).coordinators
        assert [(c.key, c.error_code, c.node_id, c.error_message) for c in found] == [
            (mine, 0, 1, None), (theirs, ErrorCode.GROUP_AUTHORIZATION_FAILED, -1, None)]
        old = raw.request(FIND_COORDINATOR, 3, F(key=theirs, key_type=0))
        assert (old.error_code, old.error_message, old.node_id, old.host, old.port) == (
            ErrorCode.GROUP_AUTHORIZATION_FAILED, "Group authorization failed.", -1, "", -1)


def test_offset_fetch_shows_only_the_topics_that_may_be_described(guarded, names):
    R = OFFSET_FETCH.Request
    seen, hidden = names["seen"], names["hidden"]
    with alice(guarded) as raw:
        every = raw.request(OFFSET_FETCH, 8, R(groups=[R.OffsetFetchRequestGroup(group_id=names["mine"], topics=None),
                                                       R.OffsetFetchRequestGroup(group_id=names["theirs"])]))
        mine, theirs = every.groups
        assert [(t.name, [(p.committed_offset, p.error_code) for p in t.partitions]) for t in mine.topics] == [
            (seen, [(1, 0)])]
        assert (theirs.error_code, theirs.topics) == (ErrorCode.GROUP_AUTHORIZATION_FAILED, [])
        named = raw.request(OFFSET_FETCH, 7, R(group_id=names["mine"], topics=[
            R.OffsetFetchRequestTopic(name=n, partition_indexes=[0]) for n in (hidden, seen)]))
        assert [(t.name, t.partitions[0].committed_offset, t.partitions[0].error_code) for t in named.topics] == [
            (seen, 1, 0), (hidden, -1, ErrorCode.TOPIC_AUTHORIZATION_FAILED)]
        refused = raw.request(OFFSET_FETCH, 1, R(group_id=names["theirs"], topics=[
            R.OffsetFetchRequestTopic(name=seen, partition_indexes=[0])]))
        assert [(p.error_code, p.committed_offset) for p in refused.topics[0].partitions] == [
            (ErrorCode.GROUP_AUTHORIZATION_FAILED, -1)]  # v0-1 have no group error code: each partition says it


def test_topic_admin_requests_are_refused_with_kafkas_answers(guarded, names):
    seen, hidden = names["seen"], names["hidden"]
    with alice(guarded) as raw:
        C = CREATE_TOPICS.Request
        created = raw.request(CREATE_TOPICS, 7, C(topics=[C.CreatableTopic(name=unique("new"), num_partitions=1,
                                                                           replication_factor=1)], timeout_ms=5000))
        assert (created.topics[0].error_code, created.topics[0].error_message) == (
            ErrorCode.TOPIC_AUTHORIZATION_FAILED, "Authorization failed.")
        D = DELETE_TOPICS.Request
        deleted = raw.request(DELETE_TOPICS, 6, D(topics=[D.DeleteTopicState(name=n) for n in (seen, hidden)],
                                                  timeout_ms=5000))
        assert [(r.name, r.error_code) for r in deleted.responses] == [
            (seen, ErrorCode.TOPIC_AUTHORIZATION_FAILED), (hidden, ErrorCode.TOPIC_AUTHORIZATION_FAILED)]
        G = DESCRIBE_CONFIGS.Request
        configs = raw.request(DESCRIBE_CONFIGS, 4, G(resources=[
            G.DescribeConfigsResource(resource_type=2, resource_name=seen, configuration_keys=None),
            G.DescribeConfigsResource(resource_type=4, resource_name="1", configuration_keys=None)]))
        assert [(r.error_code, r.error_message, r.configs) for r in configs.results] == [
            (ErrorCode.TOPIC_AUTHORIZATION_FAILED, "Topic authorization failed.", []),
            (ErrorCode.CLUSTER_AUTHORIZATION_FAILED, "Cluster authorization failed.", [])]
        L = LIST_OFFSETS.Request
        offsets = raw.request(LIST_OFFSETS, 7, L(replica_id=-1, topics=[L.ListOffsetsTopic(name=n, partitions=[
            L.ListOffsetsPartition(partition_index=0, timestamp=-1)]) for n in (seen, hidden)]))
        assert [(t.name, t.partitions[0].error_code, t.partitions[0].offset) for t in offsets.topics] == [
            (seen, 0, 1), (hidden, ErrorCode.TOPIC_AUTHORIZATION_FAILED, -1)]


def test_broker_configs_are_checked_then_need_alter_configs_on_the_cluster(guarded):
    """Kafka's broker checks a BROKER resource's change first (ConfigAdminManager.preprocess), then the controller
    authorizes ALTER_CONFIGS on the cluster."""
    R = INCREMENTAL_ALTER_CONFIGS.Request

    def change(raw: RawClient, name: str, value: str) -> tuple[int, str | None]:
        answer = raw.request(INCREMENTAL_ALTER_CONFIGS, 1, R(resources=[R.AlterConfigsResource(
            resource_type=4, resource_name="", configs=[R.AlterableConfig(name=name, config_operation=0, value=value)])],
            validate_only=True)).responses[0]
        return answer.error_code, answer.error_message

    with alice(guarded) as raw:
        assert change(raw, "log.retention.ms", "1000") == (ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
                                                           "Cluster authorization failed.")
        assert change(raw, "num.partitions", "2") == (ErrorCode.INVALID_REQUEST,
                                                      "Cannot update these configs dynamically: [num.partitions]")
    with RawClient(guarded.bootstrap_servers, security=guarded.client_security()) as raw:  # the super user
        assert change(raw, "log.retention.ms", "1000") == (ErrorCode.NONE, None)


def test_a_topic_created_without_describe_configs_tells_nothing_of_what_it_is_made_of(guarded, names):
    name = unique("made")
    admin = AdminClient(guarded.client_config())
    for future in admin.create_acls([AclBinding(ResourceType.TOPIC, name, ResourcePatternType.LITERAL, "User:alice",
                                                "*", AclOperation.CREATE, AclPermissionType.ALLOW)]).values():
        assert future.result(10) is None
    C = CREATE_TOPICS.Request
    with alice(guarded) as raw:
        made = raw.request(CREATE_TOPICS, 7, C(topics=[C.CreatableTopic(name=name, num_partitions=2,
                                                                        replication_factor=1)], timeout_ms=5000))
    result = made.topics[0]
    assert (result.error_code, result.topic_config_error_code, result.num_partitions, result.configs) == (
        0, ErrorCode.TOPIC_AUTHORIZATION_FAILED, -1, [])
    assert result.topic_id != bytes(16)


@pytest.mark.parametrize("api, body", [
    (DESCRIBE_ACLS, DESCRIBE_ACLS.Request(resource_type_filter=0, pattern_type_filter=1, operation=1,
                                          permission_type=1)),
    (CREATE_ACLS, CREATE_ACLS.Request(creations=[CREATE_ACLS.Request.AclCreation(
        resource_type=2, resource_name="t", resource_pattern_type=3, principal="User:a", host="*", operation=0,
        permission_type=3)])),
])
def test_an_acl_request_with_an_unknown_code_closes_the_connection_as_kafka_cannot_parse_it(guarded, api, body):
    with RawClient(guarded.bootstrap_servers, security=guarded.client_security()) as raw:
        raw.send(api, 2, body)
        assert raw.is_closed_by_peer(timeout=5)
