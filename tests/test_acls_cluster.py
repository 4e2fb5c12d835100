"""ACLs in a simulated cluster of three. Each broker authorizes a request before it looks at who leads the
partition or coordinates the group or transactional id, as KafkaApis does: a refused principal gets the
authorization error from every broker, never NOT_LEADER_OR_FOLLOWER or NOT_COORDINATOR, which would say
where the resource lives. A FindCoordinator refused for every key leaves a deleted coordinators' topic
deleted; the first key that may be described recreates it. The principal is User:ANONYMOUS (PLAINTEXT), and
what no ACL names is allowed (--allow-everyone-if-no-acl-found, the default), so one DENY refuses one resource.
"""

from __future__ import annotations

import pytest

from kafkette.broker.auth.acl import Operation, PatternType, Permission, ResourceType
from kafkette.local_broker import LocalBroker
from kafkette.protocol.errors import ErrorCode as E
from kafkette.protocol.messages import (
    ADD_OFFSETS_TO_TXN, ADD_PARTITIONS_TO_TXN, CREATE_ACLS, DELETE_RECORDS, DELETE_TOPICS, DESCRIBE_TRANSACTIONS,
    END_TXN, FIND_COORDINATOR, INIT_PRODUCER_ID, METADATA, PRODUCE,
)
from tests.clients import produce_request
from tests.conftest import unique
from tests.test_cluster_wire import (
    NODES, ask, batch, create, describe_producers, fetch, group_requests, leader_and_others, list_offsets,
)

OFFSETS_TOPIC = "__consumer_offsets"


@pytest.fixture(scope="module")
def guarded3(tmp_path_factory) -> LocalBroker:
    with LocalBroker(tmp_path_factory.mktemp("acl-cluster") / "data", brokers=3, admin_api=True,
                     authorizer="acl") as broker:
        yield broker


def deny(broker: LocalBroker, resource_type: ResourceType, name: str) -> None:
    """DENY every operation on the resource to User:ANONYMOUS."""
    R = CREATE_ACLS.Request
    created = ask(broker, 0, CREATE_ACLS, 3, R(creations=[R.AclCreation(
        resource_type=resource_type, resource_name=name, resource_pattern_type=PatternType.LITERAL,
        principal="User:ANONYMOUS", host="*", operation=Operation.ALL, permission_type=Permission.DENY)]))
    assert [r.error_code for r in created.results] == [0]


def test_group_requests_are_refused_at_every_broker_before_the_coordinator_is_asked(guarded3):
    group, topic = unique("acl-group"), create(guarded3, 1, 1)
    coordinator = guarded3.cluster.coordinator("group", group)
    wrong = next(n for n in NODES if n != coordinator)
    F = FIND_COORDINATOR.Request
    assert ask(guarded3, wrong, FIND_COORDINATOR, 3, F(key=group, key_type=0)).node_id == coordinator
    deny(guarded3, ResourceType.GROUP, group)
    for name, api, version, body, error in group_requests(group, topic):
        for node in NODES:
            assert error(ask(guarded3, node, api, version, body)) == E.GROUP_AUTHORIZATION_FAILED, \
                f"{name} at broker {node} (the coordinator is {coordinator})"
    for node in NODES:
        found = ask(guarded3, node, FIND_COORDINATOR, 3, F(key=group, key_type=0))
        assert (found.error_code, found.node_id) == (E.GROUP_AUTHORIZATION_FAILED, -1)
        both = ask(guarded3, node, FIND_COORDINATOR, 4, F(key_type=0, coordinator_keys=[group, "other"]))
        assert [(c.error_code, c.node_id) for c in both.coordinators] == [
            (E.GROUP_AUTHORIZATION_FAILED, -1), (0, guarded3.cluster.coordinator("group", "other"))]


def test_transaction_requests_are_refused_at_every_broker_before_the_coordinator_is_asked(guarded3):
    txn_id, topic = unique("acl-txn"), create(guarded3, 1, 1)
    deny(guarded3, ResourceType.TRANSACTIONAL_ID, txn_id)
    A, AO, ET = ADD_PARTITIONS_TO_TXN.Request, ADD_OFFSETS_TO_TXN.Request, END_TXN.Request
    for node in NODES:
        init = ask(guarded3, node, INIT_PRODUCER_ID, 4, INIT_PRODUCER_ID.Request(
            transactional_id=txn_id, transaction_timeout_ms=60000, producer_id=-1, producer_epoch=-1))
        assert init.error_code == E.TRANSACTIONAL_ID_AUTHORIZATION_FAILED
        added = ask(guarded3, node, ADD_PARTITIONS_TO_TXN, 3, A(
            v3_and_below_transactional_id=txn_id, v3_and_below_producer_id=1, v3_and_below_producer_epoch=0,
            v3_and_below_topics=[A.AddPartitionsToTxnTopic(name=topic, partitions=[0])]))
        assert added.results_by_topic_v3_and_below[0].results_by_partition[0].partition_error_code == \
            E.TRANSACTIONAL_ID_AUTHORIZATION_FAILED
        assert ask(guarded3, node, ADD_OFFSETS_TO_TXN, 3, AO(transactional_id=txn_id, producer_id=1, producer_epoch=0,
                                                             group_id="g")).error_code == \
            E.TRANSACTIONAL_ID_AUTHORIZATION_FAILED
        assert ask(guarded3, node, END_TXN, 3, ET(transactional_id=txn_id, producer_id=1, producer_epoch=0,
                                                  committed=True)).error_code == E.TRANSACTIONAL_ID_AUTHORIZATION_FAILED
        described = ask(guarded3, node, DESCRIBE_TRANSACTIONS, 0,
                        DESCRIBE_TRANSACTIONS.Request(transactional_ids=[txn_id]))
        assert described.transaction_states[0].error_code == E.TRANSACTIONAL_ID_AUTHORIZATION_FAILED
        found = ask(guarded3, node, FIND_COORDINATOR, 3, FIND_COORDINATOR.Request(key=txn_id, key_type=1))
        assert found.error_code == E.TRANSACTIONAL_ID_AUTHORIZATION_FAILED


def test_partition_requests_are_refused_at_every_broker_before_the_leader_is_looked_for(guarded3):
    topic = create(guarded3, 1, 1)
    leader, (wrong, _) = leader_and_others(guarded3, topic)
    produced = ask(guarded3, wrong, PRODUCE, 9, produce_request(topic, batch())).responses[0].partition_responses[0]
    assert produced.error_code == E.NOT_LEADER_OR_FOLLOWER  # before the ACL: the broker says it does not lead
    deny(guarded3, ResourceType.TOPIC, topic)
    R = DELETE_RECORDS.Request
    delete = R(topics=[R.DeleteRecordsTopic(name=topic, partitions=[R.DeleteRecordsPartition(partition_index=0,
                                                                                             offset=0)])],
               timeout_ms=1000)
    for node in (leader, wrong):
        produced = ask(guarded3, node, PRODUCE, 10, produce_request(topic, batch())).responses[0]
        assert produced.partition_responses[0].error_code == E.TOPIC_AUTHORIZATION_FAILED
        assert fetch(guarded3, node, topic, 12).error_code == E.TOPIC_AUTHORIZATION_FAILED
        assert list_offsets(guarded3, node, topic).error_code == E.TOPIC_AUTHORIZATION_FAILED
        assert describe_producers(guarded3, node, topic).error_code == E.TOPIC_AUTHORIZATION_FAILED
        assert ask(guarded3, node, DELETE_RECORDS, 2, delete).topics[0].partitions[0].error_code == \
            E.TOPIC_AUTHORIZATION_FAILED


def test_a_refused_find_coordinator_does_not_recreate_a_deleted_coordinators_topic(tmp_path):
    refused, allowed = unique("acl-refused"), unique("acl-allowed")
    F, M = FIND_COORDINATOR.Request, METADATA.Request
    with LocalBroker(tmp_path / "data", brokers=3, admin_api=True, authorizer="acl") as broker:
        deny(broker, ResourceType.GROUP, refused)
        D = DELETE_TOPICS.Request
        assert ask(broker, 0, DELETE_TOPICS, 6, D(topics=[D.DeleteTopicState(name=OFFSETS_TOPIC)], timeout_ms=5000)
                   ).responses[0].error_code == 0

        def offsets_topic() -> int:
            return ask(broker, 1, METADATA, 12, M(topics=[M.MetadataRequestTopic(name=OFFSETS_TOPIC)],
                                                  allow_auto_topic_creation=False)).topics[0].error_code

        assert offsets_topic() == E.UNKNOWN_TOPIC_OR_PARTITION
        found = ask(broker, 1, FIND_COORDINATOR, 4, F(key_type=0, coordinator_keys=[refused]))
        assert [c.error_code for c in found.coordinators] == [E.GROUP_AUTHORIZATION_FAILED]
        assert offsets_topic() == E.UNKNOWN_TOPIC_OR_PARTITION  # still deleted
        found = ask(broker, 1, FIND_COORDINATOR, 4, F(key_type=0, coordinator_keys=[refused, allowed]))
        assert [c.error_code for c in found.coordinators] == [E.GROUP_AUTHORIZATION_FAILED,
                                                             E.COORDINATOR_NOT_AVAILABLE]  # recreating it
        assert offsets_topic() == 0
        found = ask(broker, 1, FIND_COORDINATOR, 3, F(key=allowed, key_type=0))
        assert (found.error_code, found.node_id) == (0, broker.cluster.coordinator("group", allowed))
