"""Requests on `__consumer_offsets` and `__transaction_state`, answered as Apache Kafka 4.4 answered them:
Produce and DeleteRecords are INVALID_TOPIC_EXCEPTION (ReplicaManager), CreatePartitions and
(Incremental)AlterConfigs are accepted, and committed offsets survive all of it and a restart.
DeleteTopics deletes them, every committed offset and transactional id with them, and the next
FindCoordinator recreates them empty.
"""

from __future__ import annotations

import time

import pytest
from confluent_kafka import Producer, TopicPartition

from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages import (
    ALTER_CONFIGS,
    CREATE_PARTITIONS,
    DELETE_RECORDS,
    DELETE_TOPICS,
    DESCRIBE_TRANSACTIONS,
    FIND_COORDINATOR,
    INCREMENTAL_ALTER_CONFIGS,
    PRODUCE,
)
from kafkette.protocol.records import NewRecord, build_batch
from tests.clients import RawClient, consumer, produce_and_flush, produce_request
from tests.conftest import unique
from tests.test_transactions import wait_until

INTERNAL = ["__consumer_offsets", "__transaction_state"]
GROUP_KEY, TXN_KEY = 0, 1
TOPIC = 2


def produce(client: RawClient, topic: str) -> int:
    batch = build_batch([NewRecord(b"k", b"v", (), int(time.time() * 1000))], timestamp_ms=int(time.time() * 1000))
    response = client.request(PRODUCE, 9, produce_request(topic, batch))
    return response.responses[0].partition_responses[0].error_code


def delete_records(client: RawClient, topic: str) -> tuple[int, int]:
    R = DELETE_RECORDS.Request
    response = client.request(DELETE_RECORDS, 2, R(topics=[R.DeleteRecordsTopic(name=topic, partitions=[
        R.DeleteRecordsPartition(partition_index=0, offset=-1)])], timeout_ms=5000))
    result = response.topics[0].partitions[0]
    return result.error_code, result.low_watermark


def grow(client: RawClient, topic: str, count: int) -> int:
    R = CREATE_PARTITIONS.Request
    response = client.request(CREATE_PARTITIONS, 3, R(topics=[R.CreatePartitionsTopic(
        name=topic, count=count, assignments=None)], timeout_ms=5000, validate_only=False))
    return response.results[0].error_code


def alter(client: RawClient, topic: str) -> tuple[int, int]:
    R = ALTER_CONFIGS.Request
    legacy = client.request(ALTER_CONFIGS, 2, R(resources=[R.AlterConfigsResource(
        resource_type=TOPIC, resource_name=topic, configs=[R.AlterableConfig(name="cleanup.policy", value="compact"),
                                                           R.AlterableConfig(name="segment.bytes", value="1048576")])],
        validate_only=False))
    R2 = INCREMENTAL_ALTER_CONFIGS.Request
    incremental = client.request(INCREMENTAL_ALTER_CONFIGS, 1, R2(resources=[R2.AlterConfigsResource(
        resource_type=TOPIC, resource_name=topic, configs=[R2.AlterableConfig(
            name="min.compaction.lag.ms", config_operation=0, value="1000")])], validate_only=False))
    return legacy.responses[0].error_code, incremental.responses[0].error_code


def delete_topic(client: RawClient, topic: str) -> int:
    R = DELETE_TOPICS.Request
    return client.request(DELETE_TOPICS, 5, R(topic_names=[topic], timeout_ms=5000)).responses[0].error_code


def commit(bootstrap: str, group: str, topic: str, offset: int) -> None:
    c = consumer(bootstrap, group_id=group)
    try:
        c.commit(offsets=[TopicPartition(topic, 0, offset)], asynchronous=False)
    finally:
        c.close()


def committed(bootstrap: str, group: str, topic: str) -> int:
    c = consumer(bootstrap, group_id=group)
    try:
        return c.committed([TopicPartition(topic, 0)], timeout=10)[0].offset
    finally:
        c.close()


@pytest.mark.parametrize("internal", INTERNAL)
def test_clients_cannot_write_to_or_delete_records_of_internal_topics(broker, internal):
    with RawClient(broker.bootstrap_servers) as client:
        assert produce(client, internal) == ErrorCode.INVALID_TOPIC_EXCEPTION
        assert delete_records(client, internal) == (ErrorCode.INVALID_TOPIC_EXCEPTION, -1)


def test_committed_offsets_survive_every_request_on_internal_topics_and_a_restart(fresh_broker):
    bootstrap = fresh_broker.bootstrap_servers
    topic, group = fresh_broker.create_topic(unique("int-data")), unique("int-group")
    produce_and_flush(bootstrap, topic, [{"value": b"m%d" % i} for i in range(5)])
    commit(bootstrap, group, topic, 4)
    with RawClient(bootstrap) as client:
        for internal in INTERNAL:
            assert delete_records(client, internal)[0] == ErrorCode.INVALID_TOPIC_EXCEPTION
            assert produce(client, internal) == ErrorCode.INVALID_TOPIC_EXCEPTION
            assert alter(client, internal) == (ErrorCode.NONE, ErrorCode.NONE)  # as Kafka
            assert grow(client, internal, 3) == ErrorCode.NONE  # as Kafka; the coordinators keep partition 0
    assert committed(bootstrap, group, topic) == 4
    commit(bootstrap, group, topic, 5)  # groups still work after the internal topic grew
    fresh_broker.restart()
    assert committed(fresh_broker.bootstrap_servers, group, topic) == 5
    with RawClient(fresh_broker.bootstrap_servers) as client:
        assert produce(client, topic) == ErrorCode.NONE


@pytest.mark.kafkette_only("deletes the broker's internal topics, which every later test needs")
def test_deleting_the_internal_topics_forgets_offsets_and_transactions_as_kafka_does(fresh_broker):
    bootstrap = fresh_broker.bootstrap_servers
    topic, group = fresh_broker.create_topic(unique("int-gone")), unique("int-gone")
    produce_and_flush(bootstrap, topic, [{"value": b"m%d" % i} for i in range(5)])
    commit(bootstrap, group, topic, 4)
    transactional_id = unique("int-gone")
    producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": transactional_id})
    producer.init_transactions(15)
    with RawClient(bootstrap) as client:
        assert [delete_topic(client, internal) for internal in INTERNAL] == [ErrorCode.NONE, ErrorCode.NONE]
        assert find_coordinator(client, group, GROUP_KEY) == ErrorCode.COORDINATOR_NOT_AVAILABLE  # recreating it
        assert wait_until(lambda: find_coordinator(client, group, GROUP_KEY) == ErrorCode.NONE, timeout=15)
        assert wait_until(lambda: find_coordinator(client, transactional_id, TXN_KEY) == ErrorCode.NONE, timeout=15)
        assert describe_transaction(client, transactional_id) == ErrorCode.TRANSACTIONAL_ID_NOT_FOUND
    assert committed(bootstrap, group, topic) == -1001  # librdkafka's OFFSET_INVALID: nothing committed
    commit(bootstrap, group, topic, 2)  # the group starts again from nothing
    assert committed(bootstrap, group, topic) == 2
    again = Producer({"bootstrap.servers": bootstrap, "transactional.id": transactional_id})
    again.init_transactions(15)
    again.begin_transaction()
    again.produce(topic, b"after")
    again.commit_transaction(15)


def find_coordinator(client: RawClient, key: str, key_type: int) -> int:
    R = FIND_COORDINATOR.Request
    return client.request(FIND_COORDINATOR, 3, R(key=key, key_type=key_type)).error_code


def describe_transaction(client: RawClient, transactional_id: str) -> int:
    R = DESCRIBE_TRANSACTIONS.Request
    return client.request(DESCRIBE_TRANSACTIONS, 0, R(transactional_ids=[transactional_id])).transaction_states[0].error_code
