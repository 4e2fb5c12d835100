"""AlterConfigs and IncrementalAlterConfigs requests Kafka refuses as a whole, answered with Kafka's codes.

Every expectation below is what Apache Kafka 4.4 answered to the same request (ConfigAdminManager.preprocess
and prepareIncrementalConfigs); the topic's configs are unchanged after each refusal.
"""

from __future__ import annotations

import pytest

from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages import ALTER_CONFIGS, DESCRIBE_CONFIGS, INCREMENTAL_ALTER_CONFIGS
from tests.clients import RawClient
from tests.conftest import unique

TOPIC = 2
SET, DELETE, APPEND, SUBTRACT = range(4)


def incremental(bootstrap: str, topic: str, changes, validate_only: bool = False, resources: int = 1):
    R = INCREMENTAL_ALTER_CONFIGS.Request
    resource = R.AlterConfigsResource(resource_type=TOPIC, resource_name=topic, configs=[
        R.AlterableConfig(name=name, config_operation=op, value=value) for name, op, value in changes])
    with RawClient(bootstrap) as client:
        response = client.request(INCREMENTAL_ALTER_CONFIGS, 1, R(resources=[resource] * resources,
                                                                  validate_only=validate_only))
    return [(r.error_code, r.error_message) for r in response.responses]


def legacy(bootstrap: str, topic: str, configs):
    R = ALTER_CONFIGS.Request
    resource = R.AlterConfigsResource(resource_type=TOPIC, resource_name=topic, configs=[
        R.AlterableConfig(name=name, value=value) for name, value in configs])
    with RawClient(bootstrap) as client:
        response = client.request(ALTER_CONFIGS, 2, R(resources=[resource], validate_only=False))
    return (response.responses[0].error_code, response.responses[0].error_message)


def topic_configs(bootstrap: str, topic: str) -> dict[str, str]:
    R = DESCRIBE_CONFIGS.Request
    with RawClient(bootstrap) as client:
        response = client.request(DESCRIBE_CONFIGS, 4, R(resources=[R.DescribeConfigsResource(
            resource_type=TOPIC, resource_name=topic, configuration_keys=None)], include_synonyms=False,
            include_documentation=False))
    return {c.name: c.value for c in response.results[0].configs}


@pytest.fixture(scope="module")
def topic(broker) -> str:
    return broker.create_topic(unique("cfg"), config={"cleanup.policy": "delete", "retention.ms": "3600000"})


@pytest.mark.parametrize("changes, expected", [
    ([("cleanup.policy", SET, None), ("cleanup.policy", APPEND, "compact")],
     (ErrorCode.INVALID_REQUEST, "Error due to duplicate config keys")),
    ([("cleanup.policy", APPEND, "compact"), ("cleanup.policy", SET, None)],
     (ErrorCode.INVALID_REQUEST, "Error due to duplicate config keys")),
    ([("cleanup.policy", SET, "compact"), ("cleanup.policy", SET, "delete")],
     (ErrorCode.INVALID_REQUEST, "Error due to duplicate config keys")),
    ([("retention.ms", SET, None)], (ErrorCode.INVALID_REQUEST, "Null value not supported for : retention.ms")),
    ([("cleanup.policy", APPEND, None), ("retention.ms", SUBTRACT, None)],
     (ErrorCode.INVALID_REQUEST, "Null value not supported for : cleanup.policy, retention.ms")),
    ([("retention.ms", APPEND, "5")],
     (ErrorCode.INVALID_CONFIG, "Can't APPEND to key retention.ms because its type is not LIST.")),
    ([("retention.ms", SUBTRACT, "5")],
     (ErrorCode.INVALID_CONFIG, "Can't SUBTRACT to key retention.ms because its type is not LIST.")),
])
def test_incremental_alter_configs_refusals_are_kafkas_and_change_nothing(broker, topic, changes, expected):
    before = topic_configs(broker.bootstrap_servers, topic)
    assert incremental(broker.bootstrap_servers, topic, changes) == [expected]
    assert topic_configs(broker.bootstrap_servers, topic) == before


def test_a_resource_named_twice_is_refused_both_times(broker, topic):
    answers = incremental(broker.bootstrap_servers, topic, [("retention.ms", SET, "1000")], resources=2)
    assert answers == [(ErrorCode.INVALID_REQUEST, "Each resource must appear at most once.")] * 2
    assert topic_configs(broker.bootstrap_servers, topic)["retention.ms"] == "3600000"


def test_delete_takes_no_value_and_list_operations_start_from_the_default(broker):
    name = broker.create_topic(unique("cfg-list"))
    assert incremental(broker.bootstrap_servers, name, [("retention.ms", DELETE, None)]) == [(ErrorCode.NONE, None)]
    # an unset cleanup.policy is Kafka's default "delete": appending gives "delete,compact"
    assert incremental(broker.bootstrap_servers, name, [("cleanup.policy", APPEND, "compact")]) == [(0, None)]
    assert topic_configs(broker.bootstrap_servers, name)["cleanup.policy"] == "delete,compact"
    assert incremental(broker.bootstrap_servers, name, [("cleanup.policy", SUBTRACT, "delete")]) == [(0, None)]
    assert topic_configs(broker.bootstrap_servers, name)["cleanup.policy"] == "compact"


def test_alter_configs_refuses_null_values_and_repeated_names(broker, topic):
    before = topic_configs(broker.bootstrap_servers, topic)
    assert legacy(broker.bootstrap_servers, topic, [("retention.ms", None)]) == \
        (ErrorCode.INVALID_REQUEST, "Null value not supported for : retention.ms")
    assert legacy(broker.bootstrap_servers, topic, [("retention.ms", "1"), ("retention.ms", "2")]) == \
        (ErrorCode.INVALID_REQUEST, "Error due to duplicate config keys")
    assert topic_configs(broker.bootstrap_servers, topic) == before
