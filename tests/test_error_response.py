"""Responses answering a request with one error, built from any API's declarations (what fault rules send).

Every declared response can be built and goes through the codec at every version; the shapes that
need care are checked one by one: partitions under topics, errors at two levels, coordinators by
key, groups, and responses whose other fields must keep Kafka's "unknown" defaults.
"""

from __future__ import annotations

import pytest

from kafkette.protocol.error_response import answers_partitions, error_response, merge_response
from kafkette.protocol.errors import ErrorCode as E
from kafkette.protocol.framing import APIS, decode_response, encode_response
from kafkette.protocol.messages import (
    ADD_PARTITIONS_TO_TXN, DELETE_GROUPS, DESCRIBE_GROUPS, DESCRIBE_TRANSACTIONS, END_TXN, FETCH, FIND_COORDINATOR,
    INIT_PRODUCER_ID, JOIN_GROUP, LEAVE_GROUP, METADATA, OFFSET_FETCH, PRODUCE, TXN_OFFSET_COMMIT,
)
from kafkette.protocol.response_error import first_error

X = E.COORDINATOR_LOAD_IN_PROGRESS


def roundtrip(api, version: int, response):
    chunks = encode_response(5, api, version, response)
    _, decoded = decode_response(b"".join(bytes(c) for c in chunks)[4:], api, version)
    return decoded


@pytest.mark.parametrize("api", sorted(APIS.values(), key=lambda a: a.key), ids=lambda a: a.name)
def test_every_api_at_every_version_has_an_error_response_the_codec_writes(api):
    for version in range(api.versions[0], api.versions[1] + 1):
        response = error_response(api, version, api.Request(), X)
        assert roundtrip(api, version, response) == response


def test_produce_answers_each_partition_of_each_topic():
    R = PRODUCE.Request
    request = R(acks=-1, topic_data=[R.TopicProduceData(name="a", partition_data=[
        R.PartitionProduceData(index=0), R.PartitionProduceData(index=2)]), R.TopicProduceData(
        name="b", partition_data=[R.PartitionProduceData(index=1)])])
    response = roundtrip(PRODUCE, 9, error_response(PRODUCE, 9, request, X))
    assert [(t.name, p.index, p.error_code, p.log_append_time_ms) for t in response.responses
            for p in t.partition_responses] == [("a", 0, X, -1), ("a", 2, X, -1), ("b", 1, X, -1)]


def test_fetch_carries_the_error_at_the_top_and_on_every_partition_as_kafka_does():
    R = FETCH.Request
    request = R(topics=[R.FetchTopic(topic="a", partitions=[R.FetchPartition(partition=3)])],
                forgotten_topics_data=[])
    response = roundtrip(FETCH, 12, error_response(FETCH, 12, request, X))
    assert response.error_code == X
    partition = response.responses[0].partitions[0]
    assert (response.responses[0].topic, partition.partition_index, partition.error_code,
            partition.high_watermark, partition.last_stable_offset) == ("a", 3, X, 0, -1)
    only = error_response(FETCH, 12, request, X, partitions_only=True)
    assert only.error_code == 0 and only.responses[0].partitions[0].error_code == X


def test_add_partitions_to_txn_answers_each_partition_of_its_older_layout():
    R = ADD_PARTITIONS_TO_TXN.Request
    request = R(v3_and_below_transactional_id="tx", v3_and_below_topics=[R.AddPartitionsToTxnTopic(
        name="a", partitions=[0, 1])])
    response = roundtrip(ADD_PARTITIONS_TO_TXN, 3, error_response(ADD_PARTITIONS_TO_TXN, 3, request, X))
    assert [(t.name, p.partition_index, p.partition_error_code) for t in response.results_by_topic_v3_and_below
            for p in t.results_by_partition] == [("a", 0, X), ("a", 1, X)]


def test_txn_offset_commit_answers_each_partition():
    R = TXN_OFFSET_COMMIT.Request
    request = R(transactional_id="tx", group_id="g", topics=[R.TxnOffsetCommitRequestTopic(name="a", partitions=[
        R.TxnOffsetCommitRequestPartition(partition_index=4)])])
    response = error_response(TXN_OFFSET_COMMIT, 3, request, X)
    assert [(t.name, p.partition_index, p.error_code) for t in response.topics for p in t.partitions] == [("a", 4, X)]


def test_find_coordinator_answers_at_the_top_before_v4_and_per_key_from_v4():
    R = FIND_COORDINATOR.Request
    assert error_response(FIND_COORDINATOR, 3, R(key="tx", key_type=1), X).error_code == X
    response = roundtrip(FIND_COORDINATOR, 4, error_response(FIND_COORDINATOR, 4, R(key_type=1, coordinator_keys=[
        "tx1", "tx2"]), X))
    assert [(c.key, c.error_code) for c in response.coordinators] == [("tx1", X), ("tx2", X)]


def test_offset_fetch_answers_at_the_top_and_per_partition_then_per_group_from_v8():
    R = OFFSET_FETCH.Request
    old = error_response(OFFSET_FETCH, 7, R(group_id="g", topics=[R.OffsetFetchRequestTopic(
        name="a", partition_indexes=[1])]), X)
    assert old.error_code == X and old.topics[0].partitions[0].error_code == X
    new = error_response(OFFSET_FETCH, 8, R(groups=[R.OffsetFetchRequestGroup(group_id="g", topics=[
        R.OffsetFetchRequestTopics(name="a", partition_indexes=[1])])]), X)
    assert [(g.group_id, g.error_code) for g in new.groups] == [("g", X)]
    assert new.groups[0].topics[0].partitions[0].error_code == X


def test_group_and_transaction_lists_are_answered_per_id():
    assert [(g.group_id, g.error_code) for g in error_response(
        DESCRIBE_GROUPS, 5, DESCRIBE_GROUPS.Request(groups=["g1", "g2"]), X).groups] == [("g1", X), ("g2", X)]
    assert [(g.group_id, g.error_code) for g in error_response(
        DELETE_GROUPS, 2, DELETE_GROUPS.Request(groups_names=["g"]), X).results] == [("g", X)]
    assert [(t.transactional_id, t.error_code) for t in error_response(
        DESCRIBE_TRANSACTIONS, 0, DESCRIBE_TRANSACTIONS.Request(transactional_ids=["tx"]), X).transaction_states] == \
        [("tx", X)]


def test_other_fields_keep_kafkas_unknown_values_and_unrelated_lists_stay_empty():
    assert error_response(END_TXN, 3, END_TXN.Request(), X).error_code == X
    init = error_response(INIT_PRODUCER_ID, 4, INIT_PRODUCER_ID.Request(transactional_id="tx"), X)
    assert (init.error_code, init.producer_id) == (X, -1)
    join = error_response(JOIN_GROUP, 9, JOIN_GROUP.Request(group_id="g", member_id="m"), X)
    assert (join.error_code, join.generation_id, join.members) == (X, -1, [])
    leave = error_response(LEAVE_GROUP, 5, LEAVE_GROUP.Request(group_id="g", members=[
        LEAVE_GROUP.Request.MemberIdentity(member_id="m")]), X)
    assert (leave.error_code, leave.members) == (X, [])  # as Kafka's: the whole request failed
    M = METADATA.Request
    metadata = error_response(METADATA, 12, M(topics=[M.MetadataRequestTopic(name="a")]), X)
    assert metadata.brokers == [] and [(t.name, t.error_code, t.partitions) for t in metadata.topics] == [("a", X, [])]


def test_partition_errors_merge_into_the_answer_of_the_rest():
    R = PRODUCE.Request
    failed = R(topic_data=[R.TopicProduceData(name="a", partition_data=[R.PartitionProduceData(index=1)]),
                           R.TopicProduceData(name="c", partition_data=[R.PartitionProduceData(index=0)])])
    applied = R(topic_data=[R.TopicProduceData(name="a", partition_data=[R.PartitionProduceData(index=0)]),
                            R.TopicProduceData(name="b", partition_data=[R.PartitionProduceData(index=0)])])
    answer = error_response(PRODUCE, 9, applied, 0)
    merged = merge_response(answer, error_response(PRODUCE, 9, failed, X, partitions_only=True), 9)
    assert sorted((t.name, p.index, p.error_code) for t in merged.responses for p in t.partition_responses) == \
        [("a", 0, 0), ("a", 1, X), ("b", 0, 0), ("c", 0, X)]
    assert first_error(merged) == X


def test_partition_errors_exist_only_where_requests_name_partitions_and_responses_answer_each():
    assert all(answers_partitions(api) for api in (PRODUCE, FETCH, ADD_PARTITIONS_TO_TXN, TXN_OFFSET_COMMIT,
                                                   OFFSET_FETCH))
    assert not any(answers_partitions(api) for api in (END_TXN, METADATA, FIND_COORDINATOR, DESCRIBE_GROUPS))
