"""A simulated cluster of three brokers on the wire: what each broker answers a request it should not serve
(Kafka's codes, version by version), FindCoordinator, and Metadata's replicas, in-sync sets and epochs."""

from __future__ import annotations

from typing import Any, Callable

import pytest

from kafkette.client import RawClient
from kafkette.local_broker import HOST, LocalBroker
from kafkette.protocol.errors import ErrorCode as E
from kafkette.protocol.messages import (
    ADD_OFFSETS_TO_TXN, ADD_PARTITIONS_TO_TXN, CONSUMER_GROUP_DESCRIBE, CONSUMER_GROUP_HEARTBEAT, CREATE_TOPICS,
    DELETE_GROUPS, DELETE_RECORDS, DESCRIBE_CONFIGS, DESCRIBE_GROUPS, DESCRIBE_PRODUCERS, DESCRIBE_TRANSACTIONS,
    END_TXN, FETCH, FIND_COORDINATOR, HEARTBEAT, INIT_PRODUCER_ID, JOIN_GROUP, LEAVE_GROUP, LIST_GROUPS,
    LIST_OFFSETS, LIST_TRANSACTIONS, METADATA, OFFSET_COMMIT, OFFSET_DELETE, OFFSET_FETCH, OFFSET_FOR_LEADER_EPOCH,
    PRODUCE, SYNC_GROUP, TXN_OFFSET_COMMIT, WRITE_TXN_MARKERS,
)
from kafkette.protocol.records import build_batch, split_batches
from kafkette.protocol.schema import Api
from tests.clients import produce_request
from tests.conftest import unique

NODES = (0, 1, 2)


@pytest.fixture(scope="module")
def cluster3(tmp_path_factory) -> LocalBroker:
    with LocalBroker(tmp_path_factory.mktemp("cluster-wire") / "data", brokers=3, admin_api=True) as broker:
        yield broker


def address(broker: LocalBroker, node: int) -> str:
    return f"{HOST}:{broker.port + node}"


def ask(broker: LocalBroker, node: int, api: Api, version: int, body: Any) -> Any:
    with RawClient(address(broker, node)) as client:
        return client.request(api, version, body)


def create(broker: LocalBroker, partitions: int, replication_factor: int) -> str:
    name = unique(f"wire-rf{replication_factor}")
    R = CREATE_TOPICS.Request
    body = R(topics=[R.CreatableTopic(name=name, num_partitions=partitions, replication_factor=replication_factor)],
             timeout_ms=5000)
    assert ask(broker, 0, CREATE_TOPICS, 7, body).topics[0].error_code == 0
    return name


def batch() -> bytes:
    return build_batch([(None, b"v")], timestamp_ms=1_700_000_000_000)


def test_metadata_lists_every_broker_and_the_replicas_and_in_sync_sets(cluster3):
    topic = create(cluster3, 3, 3)
    R = METADATA.Request
    for node in NODES:  # every broker tells the same
        answer = ask(cluster3, node, METADATA, 12, R(topics=[R.MetadataRequestTopic(name=topic)]))
        assert [(b.node_id, b.host, b.port) for b in answer.brokers] == \
            [(n, HOST, cluster3.port + n) for n in NODES]
        assert answer.controller_id == 0
        partitions = answer.topics[0].partitions
        assert sorted(p.leader_id for p in partitions) == [0, 1, 2]
        for p in partitions:
            assert sorted(p.replica_nodes) == [0, 1, 2] and p.isr_nodes == p.replica_nodes
            assert p.leader_id == p.replica_nodes[0] and p.leader_epoch == 0 and p.offline_replicas == []
    D = DESCRIBE_CONFIGS.Request  # a broker's configs are its own; another's id is refused
    for node in NODES:
        asked = ask(cluster3, node, DESCRIBE_CONFIGS, 4, D(resources=[
            D.DescribeConfigsResource(resource_type=4, resource_name=str(n), configuration_keys=["broker.id"])
            for n in NODES]))
        assert [(r.error_code, [c.value for c in r.configs]) for r in asked.results] == \
            [(0, [str(n)]) if n == node else (E.INVALID_REQUEST, []) for n in NODES]
    R2 = CREATE_TOPICS.Request
    refused = ask(cluster3, 1, CREATE_TOPICS, 7, R2(topics=[R2.CreatableTopic(
        name=unique("rf4"), num_partitions=1, replication_factor=4)], timeout_ms=5000)).topics[0]
    assert refused.error_code == E.INVALID_REPLICATION_FACTOR
    assert "only 3 broker(s) are registered" in refused.error_message


def leader_and_others(broker: LocalBroker, topic: str, partition: int = 0) -> tuple[int, list[int]]:
    leader = broker.cluster.leader(topic, partition)
    return leader, [n for n in NODES if n != leader]


def test_partition_requests_at_a_broker_holding_no_replica_get_not_leader_or_follower(cluster3):
    topic = create(cluster3, 1, 1)
    leader, (wrong, _) = leader_and_others(cluster3, topic)
    refused = ask(cluster3, wrong, PRODUCE, 9, produce_request(topic, batch())).responses[0].partition_responses[0]
    assert refused.error_code == E.NOT_LEADER_OR_FOLLOWER
    answer = ask(cluster3, wrong, PRODUCE, 10, produce_request(topic, batch()))
    refused = answer.responses[0].partition_responses[0]
    assert refused.error_code == E.NOT_LEADER_OR_FOLLOWER
    assert (refused.current_leader.leader_id, refused.current_leader.leader_epoch) == (leader, 0)  # KIP-951
    assert [(n.node_id, n.host, n.port) for n in answer.node_endpoints] == [(leader, HOST, cluster3.port + leader)]
    with RawClient(address(cluster3, wrong)) as client:  # acks=0: Kafka closes the connection instead
        client.send(PRODUCE, 9, produce_request(topic, batch(), acks=0))
        assert client.is_closed_by_peer()
    written = ask(cluster3, leader, PRODUCE, 9, produce_request(topic, batch())).responses[0].partition_responses[0]
    assert (written.error_code, written.base_offset) == (0, 0)

    for version in (10, 12):
        assert fetch(cluster3, wrong, topic, version).error_code == E.NOT_LEADER_OR_FOLLOWER
    assert fetch(cluster3, leader, topic, 12).error_code == 0
    assert list_offsets(cluster3, wrong, topic).error_code == E.NOT_LEADER_OR_FOLLOWER
    assert epoch_end(cluster3, wrong, topic, 0).error_code == E.NOT_LEADER_OR_FOLLOWER
    R = DELETE_RECORDS.Request
    body = R(topics=[R.DeleteRecordsTopic(name=topic, partitions=[R.DeleteRecordsPartition(partition_index=0, offset=0)])],
             timeout_ms=1000)
    assert ask(cluster3, wrong, DELETE_RECORDS, 2, body).topics[0].partitions[0].error_code == E.NOT_LEADER_OR_FOLLOWER
    assert describe_producers(cluster3, wrong, topic).error_code == E.NOT_LEADER_OR_FOLLOWER
    R2 = WRITE_TXN_MARKERS.Request
    body2 = R2(markers=[R2.WritableTxnMarker(producer_id=1, producer_epoch=0, transaction_result=False, topics=[
        R2.WritableTxnMarkerTopic(name=topic, partition_indexes=[0])], coordinator_epoch=0)])
    answer2 = ask(cluster3, wrong, WRITE_TXN_MARKERS, 1, body2)
    assert answer2.markers[0].topics[0].partitions[0].error_code == E.NOT_LEADER_OR_FOLLOWER


def fetch(broker: LocalBroker, node: int, topic: str, version: int, current_leader_epoch: int = -1) -> Any:
    R = FETCH.Request
    body = R(max_wait_ms=0, min_bytes=0, max_bytes=1 << 20, isolation_level=0, session_id=0, session_epoch=-1,
             topics=[R.FetchTopic(topic=topic, partitions=[R.FetchPartition(
                 partition=0, current_leader_epoch=current_leader_epoch, fetch_offset=0,
                 partition_max_bytes=1 << 20)])], forgotten_topics_data=[], rack_id="")
    return ask(broker, node, FETCH, version, body).responses[0].partitions[0]


def list_offsets(broker: LocalBroker, node: int, topic: str, current_leader_epoch: int = -1,
                 timestamp: int = -1) -> Any:
    R = LIST_OFFSETS.Request
    body = R(replica_id=-1, isolation_level=0, topics=[R.ListOffsetsTopic(name=topic, partitions=[
        R.ListOffsetsPartition(partition_index=0, current_leader_epoch=current_leader_epoch, timestamp=timestamp)])])
    return ask(broker, node, LIST_OFFSETS, 7, body).topics[0].partitions[0]


def epoch_end(broker: LocalBroker, node: int, topic: str, leader_epoch: int, current_leader_epoch: int = -1) -> Any:
    R = OFFSET_FOR_LEADER_EPOCH.Request
    body = R(replica_id=-1, topics=[R.OffsetForLeaderTopic(topic=topic, partitions=[R.OffsetForLeaderPartition(
        partition=0, current_leader_epoch=current_leader_epoch, leader_epoch=leader_epoch)])])
    return ask(broker, node, OFFSET_FOR_LEADER_EPOCH, 4, body).topics[0].partitions[0]


def describe_producers(broker: LocalBroker, node: int, topic: str) -> Any:
    R = DESCRIBE_PRODUCERS.Request
    body = R(topics=[R.TopicRequest(name=topic, partition_indexes=[0])])
    return ask(broker, node, DESCRIBE_PRODUCERS, 0, body).topics[0].partitions[0]


def test_a_follower_serves_v11_fetches_and_fences_stale_leader_epochs(cluster3):
    topic = create(cluster3, 1, 3)
    leader, (follower, _) = leader_and_others(cluster3, topic)
    for _ in range(3):
        ask(cluster3, leader, PRODUCE, 9, produce_request(topic, batch()))
    assert fetch(cluster3, follower, topic, 10).error_code == E.NOT_LEADER_OR_FOLLOWER  # before follower fetching
    assert fetch(cluster3, follower, topic, 12, current_leader_epoch=0).error_code == 0  # KIP-392: v11 on
    assert list_offsets(cluster3, follower, topic).error_code == E.NOT_LEADER_OR_FOLLOWER
    assert describe_producers(cluster3, follower, topic).error_code == 0  # any replica answers it

    moved = cluster3.cluster.move_leader(topic, 0, follower)
    assert (moved["leader"], moved["leader_epoch"]) == (follower, 1)
    assert fetch(cluster3, follower, topic, 12, current_leader_epoch=0).error_code == E.FENCED_LEADER_EPOCH
    assert fetch(cluster3, follower, topic, 12, current_leader_epoch=2).error_code == E.UNKNOWN_LEADER_EPOCH
    assert fetch(cluster3, leader, topic, 12, current_leader_epoch=0).error_code == E.FENCED_LEADER_EPOCH
    assert list_offsets(cluster3, follower, topic, current_leader_epoch=0).error_code == E.FENCED_LEADER_EPOCH
    assert produce_at(cluster3, follower, topic).base_offset == 3  # written in epoch 1
    latest = list_offsets(cluster3, follower, topic, current_leader_epoch=1)
    earliest = list_offsets(cluster3, follower, topic, timestamp=-2)
    assert (latest.offset, latest.leader_epoch, earliest.offset, earliest.leader_epoch) == (4, 1, 0, 0)
    end = epoch_end(cluster3, follower, topic, 0, current_leader_epoch=1)  # epoch 0 ended where epoch 1 began
    assert (end.error_code, end.leader_epoch, end.end_offset) == (0, 0, 3)
    end = epoch_end(cluster3, follower, topic, 1)
    assert (end.leader_epoch, end.end_offset) == (1, 4)
    record_batch = fetch(cluster3, follower, topic, 12, current_leader_epoch=1).records
    assert [h.partition_leader_epoch for h, _ in split_batches(bytes(record_batch))] == [0, 0, 0, 1]


def produce_at(broker: LocalBroker, node: int, topic: str) -> Any:
    return ask(broker, node, PRODUCE, 9, produce_request(topic, batch())).responses[0].partition_responses[0]


def test_find_coordinator_names_the_coordinator_from_every_broker(cluster3):
    group, txn_id = unique("wire-group"), unique("wire-txn")
    expected = {0: cluster3.cluster.coordinator("group", group), 1: cluster3.cluster.coordinator("transaction", txn_id)}
    R = FIND_COORDINATOR.Request
    for node in NODES:
        for key_type, key in ((0, group), (1, txn_id)):
            found = ask(cluster3, node, FIND_COORDINATOR, 3, R(key=key, key_type=key_type))
            assert (found.error_code, found.node_id, found.port) == (0, expected[key_type],
                                                                    cluster3.port + expected[key_type])
        both = ask(cluster3, node, FIND_COORDINATOR, 4, R(key_type=0, coordinator_keys=[group, "other"]))
        assert both.coordinators[0].node_id == expected[0] and both.coordinators[0].key == group
        assert both.coordinators[1].node_id == cluster3.cluster.coordinator("group", "other")
        assert ask(cluster3, node, FIND_COORDINATOR, 0, R(key=group)).node_id == expected[0]


def group_requests(group: str, topic: str) -> list[tuple[str, Api, int, Any, Callable[[Any], int]]]:
    """(name, API, version, body, the error the answer carries) of every group-coordinator request."""
    J, S, H, L = JOIN_GROUP.Request, SYNC_GROUP.Request, HEARTBEAT.Request, LEAVE_GROUP.Request
    C, F, D, X = OFFSET_COMMIT.Request, OFFSET_FETCH.Request, DESCRIBE_GROUPS.Request, DELETE_GROUPS.Request
    O, T, G, GD = OFFSET_DELETE.Request, TXN_OFFSET_COMMIT.Request, CONSUMER_GROUP_HEARTBEAT.Request, \
        CONSUMER_GROUP_DESCRIBE.Request
    return [
        ("JoinGroup", JOIN_GROUP, 9, J(group_id=group, session_timeout_ms=10000, rebalance_timeout_ms=10000,
                                       protocol_type="consumer",
                                       protocols=[J.JoinGroupRequestProtocol(name="range", metadata=b"")]),
         lambda a: a.error_code),
        ("SyncGroup", SYNC_GROUP, 5, S(group_id=group, generation_id=1, member_id="m"), lambda a: a.error_code),
        ("Heartbeat", HEARTBEAT, 4, H(group_id=group, generation_id=1, member_id="m"), lambda a: a.error_code),
        ("LeaveGroup", LEAVE_GROUP, 5, L(group_id=group, members=[L.MemberIdentity(member_id="m")]),
         lambda a: a.error_code),
        ("OffsetCommit", OFFSET_COMMIT, 8, C(group_id=group, generation_id_or_member_epoch=-1, member_id="",
                                            topics=[C.OffsetCommitRequestTopic(name=topic, partitions=[
                                                C.OffsetCommitRequestPartition(partition_index=0,
                                                                               committed_offset=1)])]),
         lambda a: a.topics[0].partitions[0].error_code),
        ("OffsetFetch v1", OFFSET_FETCH, 1, F(group_id=group, topics=[F.OffsetFetchRequestTopic(
            name=topic, partition_indexes=[0])]), lambda a: a.topics[0].partitions[0].error_code),
        ("OffsetFetch v7", OFFSET_FETCH, 7, F(group_id=group, topics=None), lambda a: a.error_code),
        ("OffsetFetch v8", OFFSET_FETCH, 8, F(groups=[F.OffsetFetchRequestGroup(group_id=group, topics=None)]),
         lambda a: a.groups[0].error_code),
        ("TxnOffsetCommit", TXN_OFFSET_COMMIT, 3, T(transactional_id="t", group_id=group, producer_id=1,
                                                    producer_epoch=0, generation_id=-1, member_id="",
                                                    topics=[T.TxnOffsetCommitRequestTopic(name=topic, partitions=[
                                                        T.TxnOffsetCommitRequestPartition(partition_index=0,
                                                                                          committed_offset=1)])]),
         lambda a: a.topics[0].partitions[0].error_code),
        ("DescribeGroups", DESCRIBE_GROUPS, 5, D(groups=[group]), lambda a: a.groups[0].error_code),
        ("OffsetDelete", OFFSET_DELETE, 0, O(group_id=group, topics=[]), lambda a: a.error_code),
        ("ConsumerGroupHeartbeat", CONSUMER_GROUP_HEARTBEAT, 0, G(group_id=group, member_id="", member_epoch=0,
                                                                  rebalance_timeout_ms=10000,
                                                                  subscribed_topic_names=[topic],
                                                                  topic_partitions=[]),
         lambda a: a.error_code),
        ("ConsumerGroupDescribe", CONSUMER_GROUP_DESCRIBE, 0, GD(group_ids=[group]), lambda a: a.groups[0].error_code),
        ("DeleteGroups", DELETE_GROUPS, 2, X(groups_names=[group]), lambda a: a.results[0].error_code),
    ]


def test_group_requests_at_any_broker_but_the_coordinator_get_not_coordinator(cluster3):
    group, topic = unique("wire-group"), create(cluster3, 1, 1)
    coordinator = cluster3.cluster.coordinator("group", group)
    for name, api, version, body, error in group_requests(group, topic):
        for node in NODES:
            got = error(ask(cluster3, node, api, version, body))
            if node == coordinator:
                assert got != E.NOT_COORDINATOR, f"{name} at the coordinator, broker {node}"
            else:
                assert got == E.NOT_COORDINATOR, f"{name} at broker {node}, not the coordinator {coordinator}"
    R = OFFSET_COMMIT.Request  # a group with offsets: the coordinator alone lists it
    ask(cluster3, coordinator, OFFSET_COMMIT, 8, R(group_id=group, generation_id_or_member_epoch=-1, member_id="",
                                                   topics=[R.OffsetCommitRequestTopic(name=topic, partitions=[
                                                       R.OffsetCommitRequestPartition(partition_index=0,
                                                                                      committed_offset=1)])]))
    for node in NODES:
        listed = {g.group_id for g in ask(cluster3, node, LIST_GROUPS, 4, LIST_GROUPS.Request()).groups}
        assert (group in listed) == (node == coordinator)


def test_transaction_requests_at_any_broker_but_the_coordinator_get_not_coordinator(cluster3):
    txn_id, topic = unique("wire-txn"), create(cluster3, 1, 1)
    coordinator = cluster3.cluster.coordinator("transaction", txn_id)
    wrong = [n for n in NODES if n != coordinator]
    init = ask(cluster3, coordinator, INIT_PRODUCER_ID, 4, INIT_PRODUCER_ID.Request(
        transactional_id=txn_id, transaction_timeout_ms=60000, producer_id=-1, producer_epoch=-1))
    assert init.error_code == 0
    pid, epoch = init.producer_id, init.producer_epoch
    A, AO, ET = ADD_PARTITIONS_TO_TXN.Request, ADD_OFFSETS_TO_TXN.Request, END_TXN.Request
    for node in wrong:
        refused = ask(cluster3, node, INIT_PRODUCER_ID, 4, INIT_PRODUCER_ID.Request(
            transactional_id=txn_id, transaction_timeout_ms=60000, producer_id=-1, producer_epoch=-1))
        assert (refused.error_code, refused.producer_id) == (E.NOT_COORDINATOR, -1)
        idempotent = ask(cluster3, node, INIT_PRODUCER_ID, 4, INIT_PRODUCER_ID.Request(
            transactional_id=None, transaction_timeout_ms=60000, producer_id=-1, producer_epoch=-1))
        assert idempotent.error_code == 0 and idempotent.producer_id >= 0  # any broker gives idempotent ids
        added = ask(cluster3, node, ADD_PARTITIONS_TO_TXN, 3, A(
            v3_and_below_transactional_id=txn_id, v3_and_below_producer_id=pid, v3_and_below_producer_epoch=epoch,
            v3_and_below_topics=[A.AddPartitionsToTxnTopic(name=topic, partitions=[0])]))
        assert added.results_by_topic_v3_and_below[0].results_by_partition[0].partition_error_code == E.NOT_COORDINATOR
        assert ask(cluster3, node, ADD_OFFSETS_TO_TXN, 3, AO(transactional_id=txn_id, producer_id=pid,
                                                            producer_epoch=epoch, group_id="g")).error_code == \
            E.NOT_COORDINATOR
        assert ask(cluster3, node, END_TXN, 3, ET(transactional_id=txn_id, producer_id=pid, producer_epoch=epoch,
                                                  committed=True)).error_code == E.NOT_COORDINATOR
        described = ask(cluster3, node, DESCRIBE_TRANSACTIONS, 0,
                        DESCRIBE_TRANSACTIONS.Request(transactional_ids=[txn_id]))
        assert described.transaction_states[0].error_code == E.NOT_COORDINATOR
        listed = ask(cluster3, node, LIST_TRANSACTIONS, 1, LIST_TRANSACTIONS.Request(duration_filter=-1))
        assert txn_id not in {t.transactional_id for t in listed.transaction_states}
    listed = ask(cluster3, coordinator, LIST_TRANSACTIONS, 1, LIST_TRANSACTIONS.Request(duration_filter=-1))
    assert txn_id in {t.transactional_id for t in listed.transaction_states}
    described = ask(cluster3, coordinator, DESCRIBE_TRANSACTIONS, 0,
                    DESCRIBE_TRANSACTIONS.Request(transactional_ids=[txn_id]))
    assert (described.transaction_states[0].error_code, described.transaction_states[0].producer_id) == (0, pid)


def test_a_coordinator_whose_in_sync_replicas_are_all_down_is_not_available(tmp_path):
    with LocalBroker(tmp_path / "data", brokers=2, admin_api=True) as broker:
        group = unique("lonely")
        first = broker.cluster.coordinator("group", group)
        other = 1 - first
        R = FIND_COORDINATOR.Request
        broker.cluster.down(first)  # both nodes hold a replica of the coordinator's partition: it moves
        found = ask(broker, other, FIND_COORDINATOR, 3, R(key=group, key_type=0))
        assert (found.error_code, found.node_id) == (0, other)
        broker.cluster.down(other)  # the last in-sync replica: the partition has no leader
        broker.cluster.up(first)  # out of sync, so not elected (no unclean election)
        found = ask(broker, first, FIND_COORDINATOR, 3, R(key=group, key_type=0))
        assert (found.error_code, found.node_id, found.host, found.port) == (E.COORDINATOR_NOT_AVAILABLE, -1, "", -1)
        assert found.error_message == "The coordinator is not available."
        brokers = ask(broker, first, METADATA, 12, METADATA.Request(topics=[])).brokers
        assert [b.node_id for b in brokers] == [first]
        broker.cluster.up(other)
        found = ask(broker, first, FIND_COORDINATOR, 3, R(key=group, key_type=0))
        assert (found.error_code, found.node_id) == (0, other)


def test_acks_all_needs_min_insync_replicas_in_sync(cluster3):
    name = unique("wire-minisr")
    R = CREATE_TOPICS.Request
    body = R(topics=[R.CreatableTopic(name=name, num_partitions=1, replication_factor=3, configs=[
        R.CreatableTopicConfig(name="min.insync.replicas", value="2")])], timeout_ms=5000)
    assert ask(cluster3, 0, CREATE_TOPICS, 7, body).topics[0].error_code == 0
    leader, followers = leader_and_others(cluster3, name)
    try:
        for follower in followers:
            cluster3.cluster.down(follower)
        M = METADATA.Request
        partition = ask(cluster3, leader, METADATA, 12, M(topics=[M.MetadataRequestTopic(name=name)])).topics[0] \
            .partitions[0]
        assert (partition.leader_id, partition.isr_nodes, sorted(partition.offline_replicas)) == \
            (leader, [leader], sorted(followers))
        refused = produce_at(cluster3, leader, name)
        assert refused.error_code == E.NOT_ENOUGH_REPLICAS
        assert refused.error_message == (f"The size of the current ISR [{leader}] is insufficient to satisfy the "
                                         f"min.isr requirement of 2 for partition {name}-0")
        one = ask(cluster3, leader, PRODUCE, 9, produce_request(name, batch(), acks=1))
        assert one.responses[0].partition_responses[0].error_code == 0  # acks=1 needs the leader alone
    finally:
        for follower in followers:
            cluster3.cluster.up(follower)
    assert produce_at(cluster3, leader, name).error_code == 0
