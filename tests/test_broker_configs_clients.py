"""Dynamic broker configs as an application changes them, and what the broker then does: deletes old segments
sooner, refuses larger batches, refuses acks=all with too few replicas in sync, makes new connections wait; all of
it kept across a kill -9.

A broker's own configs are changed with confluent_kafka's AdminClient on ConfigResource(BROKER, "1") (kafka-configs.sh
--entity-type brokers --entity-name 1). The cluster-wide default (resource name "", kafka-configs.sh --entity-default)
with the project's RawClient: librdkafka refuses a BROKER resource without a name before sending anything, as
kafka-python does (conformance/test_broker_configs.py sets it with Kafka's own Admin). Each test has a broker of its
own: the changes are broker-wide.
"""

from __future__ import annotations

import time

import pytest
from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AlterConfigOpType, ConfigEntry, ConfigResource, ConfigSource, ResourceType

from kafkette.local_broker import LocalBroker
from kafkette.protocol.messages import API_VERSIONS, DESCRIBE_CONFIGS, INCREMENTAL_ALTER_CONFIGS, PRODUCE
from kafkette.protocol.messages.api_versions import ApiVersionsRequest
from kafkette.protocol.records import build_batch
from tests.clients import RawClient, admin, create_topic, produce_request, watermarks
from tests.conftest import unique

pytestmark = pytest.mark.kafkette_only("brokers of its own, changed broker-wide and killed (conformance/"
                                      "test_broker_configs.py asks Kafka itself the same)")
TIMEOUT = 15
SET, DELETE = AlterConfigOpType.SET, AlterConfigOpType.DELETE


def change(client, resource_name: str, **ops: tuple[AlterConfigOpType, str | None]) -> None:
    """IncrementalAlterConfigs of a broker's own configs; raises KafkaException."""
    resource = ConfigResource(ResourceType.BROKER, resource_name, incremental_configs=[
        ConfigEntry(name.replace("_", "."), value, incremental_operation=op) for name, (op, value) in ops.items()])
    client.incremental_alter_configs([resource], request_timeout=TIMEOUT)[resource].result(timeout=TIMEOUT)


def change_default(bootstrap: str, **values: str | None) -> None:
    """Set (None: delete) configs of the cluster-wide default."""
    with RawClient(bootstrap) as raw:
        for name, value in values.items():
            assert raw_change(raw, "", name.replace("_", "."), value) == (0, None)


def default_configs(bootstrap: str) -> dict[str, str | None]:
    """The cluster-wide default's configs, name: value."""
    R = DESCRIBE_CONFIGS.Request
    with RawClient(bootstrap) as raw:
        result = raw.request(DESCRIBE_CONFIGS, 4, R(resources=[R.DescribeConfigsResource(
            resource_type=4, resource_name="", configuration_keys=None)], include_synonyms=False,
            include_documentation=False)).results[0]
    return {c.name: c.value for c in result.configs}


def describe(client, resource_name: str) -> dict:
    resource = ConfigResource(ResourceType.BROKER, resource_name)
    return client.describe_configs([resource], request_timeout=TIMEOUT)[resource].result(timeout=TIMEOUT)


def refusal(call) -> KafkaError:
    with pytest.raises(KafkaException) as info:
        call()
    return info.value.args[0]


def produce_code(bootstrap: str, topic: str, value_bytes: int, acks: int = -1) -> int:
    batch = build_batch([(None, b"v" * value_bytes)], timestamp_ms=int(time.time() * 1000))
    with RawClient(bootstrap) as raw:
        response = raw.request(PRODUCE, 9, produce_request(topic, batch, acks=acks))
    return response.responses[0].partition_responses[0].error_code


def test_broker_and_cluster_wide_configs_are_set_described_and_kept_across_a_kill(tmp_path):
    with LocalBroker(tmp_path / "data") as broker:
        client = admin(broker.bootstrap_servers)
        change_default(broker.bootstrap_servers, log_retention_ms="3600000", message_max_bytes="2000000")
        change(client, "1", log_retention_ms=(SET, "7200000"))
        for _ in range(2):
            configs = describe(client, "1")
            retention = configs["log.retention.ms"]
            assert (retention.value, retention.source) == ("7200000", ConfigSource.DYNAMIC_BROKER_CONFIG.value)
            assert sorted(retention.synonyms) == ["log.retention.hours", "log.retention.ms"]  # a dict: one per name
            assert configs["message.max.bytes"].source == ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG.value
            assert not configs["log.retention.ms"].is_read_only and configs["num.partitions"].is_read_only
            assert default_configs(broker.bootstrap_servers) == {
                "log.retention.ms": "3600000", "message.max.bytes": "2000000", "min.insync.replicas": "1"}
            broker.kill()
            broker.start()
            client = admin(broker.bootstrap_servers)
        change(client, "1", log_retention_ms=(DELETE, None))
        assert describe(client, "1")["log.retention.ms"].value == "3600000"


@pytest.mark.filterwarnings("ignore:alter_configs has been deprecated")
def test_refusals_reach_the_client_with_kafkas_code_and_message(tmp_path):
    with LocalBroker(tmp_path / "data") as broker:
        client = admin(broker.bootstrap_servers)
        error = refusal(lambda: change(client, "1", num_partitions=(SET, "3")))
        assert error.code() == KafkaError.INVALID_REQUEST
        assert error.str() == "Cannot update these configs dynamically: [num.partitions]"
        error = refusal(lambda: change(client, "1", log_retention_ms=(SET, "soon")))
        assert error.str() == "Invalid value soon for configuration log.retention.ms: Not a number of type LONG"
        error = refusal(lambda: change(client, "1", min_insync_replicas=(SET, "2")))
        assert error.code() == KafkaError.INVALID_CONFIG
        assert error.str() == "Broker-level min.insync.replicas cannot be altered while ELR is enabled."
        resource = ConfigResource(ResourceType.BROKER, "1", set_config={"listeners": "x"})  # AlterConfigs
        error = refusal(lambda: client.alter_configs([resource], request_timeout=TIMEOUT)[resource].result(TIMEOUT))
        assert error.str() == "Error creating broker listeners from '[x]': Unable to parse x to a broker endpoint"
        with RawClient(broker.bootstrap_servers) as raw:
            assert raw_change(raw, "", "listeners", "PLAINTEXT://127.0.0.1:1") == (
                42, "Cannot update these configs at default cluster level, broker id must be specified: [listeners]")
        assert describe(client, "1")["log.retention.ms"].source == ConfigSource.DEFAULT_CONFIG.value


def test_a_lower_cluster_wide_retention_deletes_old_segments_of_topics_without_their_own(tmp_path):
    with LocalBroker(tmp_path / "data", segment_bytes=1024, retention_check_interval_ms=100) as broker:
        client = admin(broker.bootstrap_servers)
        inherits = create_topic(broker.bootstrap_servers, unique("dyn-retention"))
        keeps = create_topic(broker.bootstrap_servers, unique("dyn-own-retention"), config={"retention.ms": "3600000"})
        for topic in (inherits, keeps):  # a batch a request: 1 KB segments of two or three batches each
            assert [produce_code(broker.bootstrap_servers, topic, 300) for _ in range(20)] == [0] * 20
        time.sleep(0.3)
        assert watermarks(broker.bootstrap_servers, inherits)[0] == 0  # a week's retention keeps everything
        change_default(broker.bootstrap_servers, log_retention_ms="100")
        deadline = time.monotonic() + 10
        while watermarks(broker.bootstrap_servers, inherits)[0] == 0:
            assert time.monotonic() < deadline, "the old segments were not deleted within 10 s"
            time.sleep(0.1)
        assert watermarks(broker.bootstrap_servers, keeps) == (0, 20)


def test_message_max_bytes_bounds_the_batches_of_topics_without_their_own(tmp_path):
    with LocalBroker(tmp_path / "data") as broker:
        client = admin(broker.bootstrap_servers)
        inherits = create_topic(broker.bootstrap_servers, unique("dyn-size"))
        own = create_topic(broker.bootstrap_servers, unique("dyn-own-size"), config={"max.message.bytes": "1048588"})
        change_default(broker.bootstrap_servers, message_max_bytes="1000")
        assert produce_code(broker.bootstrap_servers, inherits, 2000) == 10  # MESSAGE_TOO_LARGE
        assert produce_code(broker.bootstrap_servers, own, 2000) == 0
        change(client, "1", message_max_bytes=(SET, "5000"))  # the broker's own over the cluster-wide default
        assert produce_code(broker.bootstrap_servers, inherits, 2000) == 0
        broker.restart()
        assert produce_code(broker.bootstrap_servers, inherits, 6000) == 10


def test_min_insync_replicas_of_the_cluster_wide_default_refuses_acks_all(tmp_path):
    with LocalBroker(tmp_path / "data") as broker:
        client = admin(broker.bootstrap_servers)
        topic = create_topic(broker.bootstrap_servers, unique("dyn-isr"))
        change_default(broker.bootstrap_servers, min_insync_replicas="2")
        assert produce_code(broker.bootstrap_servers, topic, 10, acks=-1) == 19  # NOT_ENOUGH_REPLICAS
        assert produce_code(broker.bootstrap_servers, topic, 10, acks=1) == 0


def test_a_lower_max_connections_makes_new_connections_wait_until_one_closes(tmp_path):
    with LocalBroker(tmp_path / "data") as broker:
        with RawClient(broker.bootstrap_servers) as first:
            assert raw_change(first, "", "max.connections", "1") == (0, None)
            second = RawClient(broker.bootstrap_servers, timeout=1.0)  # in the listen backlog, or accepted, not served
            second.send(API_VERSIONS, 3, ApiVersionsRequest(client_software_name="t", client_software_version="1"))
            with pytest.raises(TimeoutError):
                second.recv(API_VERSIONS, 3)
        second.sock.settimeout(10)  # `first` closed: `second` is served
        with second:
            assert second.recv(API_VERSIONS, 3)[1].error_code == 0
            assert raw_change(second, "", "max.connections", None) == (0, None)
            with RawClient(broker.bootstrap_servers, timeout=5) as third:
                assert raw_change(third, "", "max.connections", "2") == (0, None)


def raw_change(client: RawClient, resource_name: str, name: str, value: str | None) -> tuple[int, str | None]:
    """SET `name` (DELETE it if `value` is None) on a broker resource, over a RawClient of the test's."""
    R = INCREMENTAL_ALTER_CONFIGS.Request
    body = R(resources=[R.AlterConfigsResource(resource_type=4, resource_name=resource_name, configs=[
        R.AlterableConfig(name=name, config_operation=0 if value is not None else 1, value=value)])],
        validate_only=False)
    answer = client.request(INCREMENTAL_ALTER_CONFIGS, 1, body).responses[0]
    return answer.error_code, answer.error_message


def test_each_node_of_a_simulated_cluster_has_its_own_configs(tmp_path):
    with LocalBroker(tmp_path / "data", brokers=3) as broker:
        client = admin(broker.bootstrap_servers)
        change(client, "1", log_retention_ms=(SET, "1000"))  # the client sends it to node 1
        assert describe(client, "1")["log.retention.ms"].source == ConfigSource.DYNAMIC_BROKER_CONFIG.value
        assert describe(client, "2")["log.retention.ms"].source == ConfigSource.DEFAULT_CONFIG.value
        with RawClient(broker.bootstrap_servers.split(",")[0]) as node0:  # node 0 answers for itself only
            assert raw_change(node0, "1", "log.retention.ms", "5") == (
                42, "Unexpected broker id, expected 0, but received 1")

