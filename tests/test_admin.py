"""Topic administration through confluent_kafka's AdminClient, as an application would do it.

Each test states one behaviour of Apache Kafka's admin APIs (CreateTopics,
DeleteTopics, CreatePartitions, DescribeConfigs, DescribeCluster, Metadata with
auto-creation) and checks the broker shows the same behaviour to the client.
"""

from __future__ import annotations

import time

import pytest
from confluent_kafka import KafkaError, KafkaException, Producer
from confluent_kafka.admin import ConfigResource, ConfigSource, NewPartitions, NewTopic, ResourceType

from kafkette.local_broker import LocalBroker
from kafkette.protocol.messages import METADATA, PRODUCE
from kafkette.protocol.records import build_batch
from tests.clients import (RawClient, admin, consume_assigned, create_topic, produce_and_flush, produce_request,
                           wait_for_topic, watermarks)
from tests.conftest import unique

TIMEOUT = 15


def error_of(future) -> KafkaError:
    """The KafkaError a failed admin future carries."""
    with pytest.raises(KafkaException) as info:
        future.result(timeout=TIMEOUT)
    return info.value.args[0]


def topic_configs(client, topic: str) -> dict:
    resource = ConfigResource(ResourceType.TOPIC, topic)
    return client.describe_configs([resource], request_timeout=TIMEOUT)[resource].result(timeout=TIMEOUT)


def broker_configs(client, node_id: str = "1") -> dict:
    resource = ConfigResource(ResourceType.BROKER, node_id)
    return client.describe_configs([resource], request_timeout=TIMEOUT)[resource].result(timeout=TIMEOUT)


def retention_ms(brokers: dict) -> int:
    """The broker's log retention: log.retention.ms, else .minutes, else .hours (168 by default), as Kafka reads them."""
    for name, factor in (("log.retention.ms", 1), ("log.retention.minutes", 60_000), ("log.retention.hours", 3_600_000)):
        if name in brokers and brokers[name].value is not None:
            return int(brokers[name].value) * factor
    raise AssertionError("the broker describes none of log.retention.ms/.minutes/.hours")


def settled_partition_count(client, topic: str, expected: int | None, timeout: float = TIMEOUT) -> int | None:
    """partition_count, read again until it is `expected` or `timeout` passes: Kafka's brokers apply a
    metadata change (a deleted topic, new partitions) a moment after the admin request is answered."""
    deadline = time.monotonic() + timeout
    while (count := partition_count(client, topic)) != expected and time.monotonic() < deadline:
        time.sleep(0.05)
    return count


def partition_count(client, topic: str) -> int | None:
    """Partitions of `topic` in a full metadata listing, or None when it is not listed."""
    listed = client.list_topics(timeout=TIMEOUT).topics
    return len(listed[topic].partitions) if topic in listed else None


def raw_metadata(bootstrap: str, topic: str, auto_create: bool):
    R = METADATA.Request
    with RawClient(bootstrap) as raw:
        response = raw.request(METADATA, 12, R(topics=[R.MetadataRequestTopic(name=topic)],
                                               allow_auto_topic_creation=auto_create))
    return response.topics[0]


# ---------------------------------------------------------------------------------------------- create / describe


def test_created_topics_have_their_partitions_and_configs(broker):
    client = admin(broker.bootstrap_servers)
    compacted, retained, plain = unique("adm-compact"), unique("adm-retain"), unique("adm-plain")
    futures = client.create_topics([
        NewTopic(compacted, 3, config={"cleanup.policy": "compact"}),
        NewTopic(retained, 5, config={"retention.ms": "3600000", "cleanup.policy": "delete"}),
        NewTopic(plain, 1),
    ], operation_timeout=10, request_timeout=TIMEOUT)
    for future in futures.values():
        assert future.result(timeout=TIMEOUT) is None

    expected = {compacted: 3, retained: 5, plain: 1}
    assert {t: settled_partition_count(client, t, n) for t, n in expected.items()} == expected
    listed = client.list_topics(timeout=TIMEOUT).topics
    for topic in (compacted, retained, plain):
        assert listed[topic].error is None
        assert sorted(listed[topic].partitions) == list(range(len(listed[topic].partitions)))
        for p in listed[topic].partitions.values():
            assert p.leader == 1 and p.replicas == [1] and p.isrs == [1]

    compact_cfg = topic_configs(client, compacted)
    assert compact_cfg["cleanup.policy"].value == "compact"
    assert compact_cfg["cleanup.policy"].source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value
    assert not compact_cfg["cleanup.policy"].is_default

    retain_cfg = topic_configs(client, retained)
    assert retain_cfg["retention.ms"].value == "3600000"
    assert retain_cfg["retention.ms"].source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value
    assert retain_cfg["cleanup.policy"].value == "delete"

    # What was not set is reported with the broker's default, marked as a default.
    brokers = broker_configs(client)
    plain_cfg = topic_configs(client, plain)
    assert int(plain_cfg["retention.ms"].value) == retention_ms(brokers)
    assert plain_cfg["segment.bytes"].value == brokers["log.segment.bytes"].value
    assert plain_cfg["cleanup.policy"].value == "delete"
    for name in ("retention.ms", "segment.bytes", "cleanup.policy"):
        assert plain_cfg[name].is_default, name
        assert plain_cfg[name].source == ConfigSource.DEFAULT_CONFIG.value, name
    assert compact_cfg["retention.ms"].is_default


def test_validate_only_creates_nothing(broker):
    client = admin(broker.bootstrap_servers)
    topic = unique("adm-validate")
    futures = client.create_topics([NewTopic(topic, 4, config={"retention.ms": "1000"})], validate_only=True,
                                   request_timeout=TIMEOUT)
    assert futures[topic].result(timeout=TIMEOUT) is None
    assert partition_count(client, topic) is None
    assert raw_metadata(broker.bootstrap_servers, topic, auto_create=False).error_code == 3  # UNKNOWN_TOPIC_OR_PARTITION

    # A validation failure is reported even though nothing would be created.
    bad = client.create_topics([NewTopic(topic, 1, config={"no.such.config": "x"})], validate_only=True,
                               request_timeout=TIMEOUT)
    assert error_of(bad[topic]).code() == KafkaError.INVALID_CONFIG
    assert partition_count(client, topic) is None


def test_default_partition_count_is_the_brokers(broker):
    client = admin(broker.bootstrap_servers)
    topic = unique("adm-default")
    assert client.create_topics([NewTopic(topic)], request_timeout=TIMEOUT)[topic].result(timeout=TIMEOUT) is None
    wait_for_topic(broker.bootstrap_servers, topic, TIMEOUT)
    assert partition_count(client, topic) == int(broker_configs(client)["num.partitions"].value)


def test_duplicate_create_is_topic_already_exists(broker):
    client = admin(broker.bootstrap_servers)
    topic = create_topic(broker.bootstrap_servers, unique("adm-dup"), 2)
    again = client.create_topics([NewTopic(topic, 7)], request_timeout=TIMEOUT)
    assert error_of(again[topic]).code() == KafkaError.TOPIC_ALREADY_EXISTS
    assert partition_count(client, topic) == 2


@pytest.mark.parametrize("name", ["bad/name", "with space", "..", "x" * 250, "ünïcode"])
def test_invalid_topic_name_is_rejected(broker, name):
    client = admin(broker.bootstrap_servers)
    futures = client.create_topics([NewTopic(name, 1)], request_timeout=TIMEOUT)
    assert error_of(futures[name]).code() == KafkaError.TOPIC_EXCEPTION  # INVALID_TOPIC_EXCEPTION (17)
    assert partition_count(client, name) is None


@pytest.mark.parametrize("config", [{"retention.ms": "soon"}, {"cleanup.policy": "sometimes"},
                                    {"message.timestamp.type": "Whenever"}, {"segment.bytes": "5"}],
                         ids=["retention-not-a-number", "cleanup-policy", "timestamp-type", "segment-too-small"])
def test_invalid_config_value_is_refused(broker, config):
    """Kafka validates every value against its ConfigDef: INVALID_CONFIG, and no topic."""
    client = admin(broker.bootstrap_servers)
    topic = unique("adm-badcfg")
    futures = client.create_topics([NewTopic(topic, 1, config=config)], request_timeout=TIMEOUT)
    assert error_of(futures[topic]).code() == KafkaError.INVALID_CONFIG
    assert partition_count(client, topic) is None


def test_invalid_partition_count_and_replication_factor(broker):
    client = admin(broker.bootstrap_servers)
    zero, rf3 = unique("adm-zero"), unique("adm-rf3")
    futures = client.create_topics([NewTopic(zero, 0), NewTopic(rf3, 1, replication_factor=3)],
                                   request_timeout=TIMEOUT)
    assert error_of(futures[zero]).code() == KafkaError.INVALID_PARTITIONS
    assert error_of(futures[rf3]).code() == KafkaError.INVALID_REPLICATION_FACTOR
    assert partition_count(client, zero) is None and partition_count(client, rf3) is None


# ---------------------------------------------------------------------------------------------- delete / grow


def test_deleted_topic_disappears_and_can_be_recreated_empty(broker):
    client = admin(broker.bootstrap_servers)
    topic = create_topic(broker.bootstrap_servers, unique("adm-delete"), 2, {"retention.ms": "123456"})
    produce_and_flush(broker.bootstrap_servers, topic, [{"value": b"old-%d" % i, "partition": i % 2} for i in range(20)])
    assert watermarks(broker.bootstrap_servers, topic, 0) == (0, 10)

    assert client.delete_topics([topic], request_timeout=TIMEOUT)[topic].result(timeout=TIMEOUT) is None
    assert settled_partition_count(client, topic, None) is None
    assert raw_metadata(broker.bootstrap_servers, topic, auto_create=False).error_code == 3

    # Deleting it again: it is unknown now.
    assert error_of(client.delete_topics([topic], request_timeout=TIMEOUT)[topic]).code() == \
        KafkaError.UNKNOWN_TOPIC_OR_PART

    create_topic(broker.bootstrap_servers, topic, 1)
    assert partition_count(client, topic) == 1
    assert watermarks(broker.bootstrap_servers, topic, 0) == (0, 0)
    # The re-created topic has none of the old topic's configs.
    assert topic_configs(client, topic)["retention.ms"].is_default
    produce_and_flush(broker.bootstrap_servers, topic, [{"value": b"new"}])
    assert [m.value() for m in consume_assigned(broker.bootstrap_servers, topic, 1)] == [b"new"]
    assert watermarks(broker.bootstrap_servers, topic, 0) == (0, 1)


def test_create_partitions_grows_a_topic(broker):
    client = admin(broker.bootstrap_servers)
    topic = create_topic(broker.bootstrap_servers, unique("adm-grow"), 1)
    produce_and_flush(broker.bootstrap_servers, topic, [{"value": b"p0", "partition": 0}])

    grown = client.create_partitions([NewPartitions(topic, 3)], request_timeout=TIMEOUT)
    assert grown[topic].result(timeout=TIMEOUT) is None
    assert settled_partition_count(client, topic, 3) == 3

    produce_and_flush(broker.bootstrap_servers, topic, [{"value": b"p2-%d" % i, "partition": 2} for i in range(5)])
    got = consume_assigned(broker.bootstrap_servers, topic, 5, partitions=(2,))
    assert [m.value() for m in got] == [b"p2-%d" % i for i in range(5)]
    assert all(m.partition() == 2 for m in got)
    assert [m.offset() for m in got] == list(range(5))
    # The old partition kept its data.
    assert watermarks(broker.bootstrap_servers, topic, 0) == (0, 1)
    assert watermarks(broker.bootstrap_servers, topic, 1) == (0, 0)

    # Shrinking (or not growing) is refused and changes nothing.
    shrink = client.create_partitions([NewPartitions(topic, 2)], request_timeout=TIMEOUT)
    assert error_of(shrink[topic]).code() == KafkaError.INVALID_PARTITIONS
    assert partition_count(client, topic) == 3


# ---------------------------------------------------------------------------------------------- broker and cluster


def test_describe_broker_configs(broker):
    configs = broker_configs(admin(broker.bootstrap_servers))
    assert configs["broker.id"].value == "1"
    assert configs["auto.create.topics.enable"].value == "true"
    assert int(configs["num.partitions"].value) >= 1
    assert int(configs["log.segment.bytes"].value) > 0
    assert configs["transaction.max.timeout.ms"].value == "900000"
    assert broker.bootstrap_servers in configs["advertised.listeners"].value


def test_describe_cluster(broker):
    client = admin(broker.bootstrap_servers)
    result = client.describe_cluster(request_timeout=TIMEOUT).result(timeout=TIMEOUT)
    assert result.cluster_id and result.cluster_id == client.list_topics(timeout=TIMEOUT).cluster_id
    assert [f"{n.host}:{n.port}" for n in result.nodes] == [broker.bootstrap_servers] and result.nodes[0].id == 1
    assert result.controller is not None and result.controller.id == 1


# ---------------------------------------------------------------------------------------------- auto-creation


def test_metadata_auto_creates_a_topic_when_asked(broker):
    client = admin(broker.bootstrap_servers)
    topic = unique("adm-auto-md")
    assert raw_metadata(broker.bootstrap_servers, topic, auto_create=False).error_code == 3
    assert partition_count(client, topic) is None
    # kafkette creates the topic and answers with it; Kafka 4 answers UNKNOWN_TOPIC_OR_PARTITION while its
    # controller creates it (README, "Moving to Apache Kafka"), and the next Metadata lists it.
    created = raw_metadata(broker.bootstrap_servers, topic, auto_create=True)
    assert created.error_code in (0, 3)
    wait_for_topic(broker.bootstrap_servers, topic, TIMEOUT)
    created = raw_metadata(broker.bootstrap_servers, topic, auto_create=False)
    assert len(created.partitions) == int(broker_configs(client)["num.partitions"].value)
    assert partition_count(client, topic) == len(created.partitions)


@pytest.mark.parametrize("auto_create", [True, False])
def test_metadata_for_an_invalid_topic_name(broker, auto_create):
    """Kafka answers INVALID_TOPIC_EXCEPTION (17) for a name that can never exist, not UNKNOWN_TOPIC_OR_PARTITION:
    librdkafka then fails the messages at once instead of waiting for the topic to appear."""
    md = raw_metadata(broker.bootstrap_servers, "no spaces allowed", auto_create=auto_create)
    assert md.error_code == 17


def test_produce_auto_creates_a_topic(broker):
    topic = unique("adm-auto-produce")
    delivered = produce_and_flush(broker.bootstrap_servers, topic, [{"key": b"k", "value": b"first"}])
    assert delivered[0].offset() == 0
    assert partition_count(admin(broker.bootstrap_servers), topic) is not None
    assert [m.value() for m in consume_assigned(broker.bootstrap_servers, topic, 1)] == [b"first"]


@pytest.fixture(scope="module")
def strict_broker(tmp_path_factory):
    """Auto-creation off and a default of 3 partitions."""
    proc = LocalBroker(tmp_path_factory.mktemp("strict") / "data", auto_create_topics=False,
                         default_partitions=3).start()
    yield proc
    proc.stop()


@pytest.mark.kafkette_only("a kafkette of its own with auto-creation off and 3 default partitions")
def test_no_auto_creation_when_disabled(strict_broker):
    bootstrap = strict_broker.bootstrap_servers
    client = admin(bootstrap)
    topic = unique("adm-strict")
    assert broker_configs(client)["auto.create.topics.enable"].value == "false"

    assert raw_metadata(bootstrap, topic, auto_create=True).error_code == 3
    md = client.list_topics(topic=topic, timeout=TIMEOUT).topics[topic]
    assert md.error is not None and md.error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART

    # A raw Produce to the unknown topic is refused per partition.
    batch = build_batch([(None, b"v")], timestamp_ms=1_700_000_000_000)
    with RawClient(bootstrap) as raw:
        response = raw.request(PRODUCE, 9, produce_request(topic, batch))
    assert response.responses[0].partition_responses[0].error_code == 3

    # librdkafka gives up on the message: the topic never appears.
    producer = Producer({"bootstrap.servers": bootstrap, "topic.metadata.propagation.max.ms": 500,
                         "message.timeout.ms": 3000})
    errors = []
    producer.produce(topic, b"lost", on_delivery=lambda err, msg: errors.append(err))
    producer.flush(10)
    assert len(errors) == 1 and errors[0] is not None
    assert errors[0].code() in (KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError._UNKNOWN_TOPIC,
                                KafkaError._MSG_TIMED_OUT)
    assert partition_count(client, topic) is None


@pytest.mark.kafkette_only("a kafkette of its own with auto-creation off and 3 default partitions")
def test_create_with_default_partitions_uses_the_broker_setting(strict_broker):
    client = admin(strict_broker.bootstrap_servers)
    topic = unique("adm-strict-default")
    result = client.create_topics([NewTopic(topic)], request_timeout=TIMEOUT)
    assert result[topic].result(timeout=TIMEOUT) is None
    assert partition_count(client, topic) == 3


# ---------------------------------------------------------------------------------------------- restart


@pytest.mark.kafkette_only("restarts the broker")
def test_topic_configs_and_partitions_survive_a_restart(fresh_broker):
    client = admin(fresh_broker.bootstrap_servers)
    topic = create_topic(fresh_broker.bootstrap_servers, unique("adm-restart"), 4,
                         {"retention.ms": "7200000", "cleanup.policy": "compact"})
    grown = client.create_partitions([NewPartitions(topic, 6)], request_timeout=TIMEOUT)
    assert grown[topic].result(timeout=TIMEOUT) is None
    deleted = create_topic(fresh_broker.bootstrap_servers, unique("adm-restart-gone"), 1)
    assert client.delete_topics([deleted], request_timeout=TIMEOUT)[deleted].result(timeout=TIMEOUT) is None

    fresh_broker.restart()
    client = admin(fresh_broker.bootstrap_servers)
    assert partition_count(client, topic) == 6
    assert partition_count(client, deleted) is None
    configs = topic_configs(client, topic)
    assert configs["retention.ms"].value == "7200000" and not configs["retention.ms"].is_default
    assert configs["cleanup.policy"].value == "compact"
    assert configs["segment.bytes"].is_default


def test_topics_named_twice_or_both_ways_are_refused_as_kafka_refuses_them(broker):
    """ControllerApis.createTopics and deleteTopics: INVALID_REQUEST for repeats, and for a topic given
    by both name and id, or by neither; the other topics of the request are served."""
    from kafkette.protocol.errors import ErrorCode
    from kafkette.protocol.messages import CREATE_TOPICS, DELETE_TOPICS

    twice, once = unique("adm-twice"), unique("adm-once")
    C = CREATE_TOPICS.Request
    topics = [C.CreatableTopic(name=n, num_partitions=1, replication_factor=-1, assignments=[], configs=[])
              for n in (twice, once, twice)]
    with RawClient(broker.bootstrap_servers) as raw:
        created = raw.request(CREATE_TOPICS, 7, C(topics=topics, timeout_ms=5000, validate_only=False)).topics
        assert sorted((t.name, t.error_code, t.error_message) for t in created) == sorted([
            (once, ErrorCode.NONE, None), (twice, ErrorCode.INVALID_REQUEST, "Duplicate topic name.")])
        D = DELETE_TOPICS.Request
        topic_id = next(t.topic_id for t in created if t.name == once)
        wanted = [D.DeleteTopicState(name=None, topic_id=bytes(16)), D.DeleteTopicState(name=once, topic_id=topic_id),
                  D.DeleteTopicState(name=None, topic_id=topic_id), D.DeleteTopicState(name=None, topic_id=topic_id)]
        deleted = raw.request(DELETE_TOPICS, 6, D(topics=wanted, timeout_ms=5000)).responses
    assert sorted((r.error_code, r.error_message) for r in deleted) == sorted([  # Kafka 4.4 answers in its own order
        (ErrorCode.INVALID_REQUEST, "Neither topic name nor id were specified."),
        (ErrorCode.INVALID_REQUEST, "You may not specify both topic name and topic id."),
        (ErrorCode.INVALID_REQUEST, "Duplicate topic id.")])
    assert partition_count(admin(broker.bootstrap_servers), once) == 1
