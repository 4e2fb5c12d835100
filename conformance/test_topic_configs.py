"""Topic configs: every config Kafka 4 defines is accepted, refused and described as Kafka does it.

The values tried for each config are the same on both brokers; one validate-only CreateTopics request
carries them all (each as a topic of its own), so the comparison is per (config, value).
"""

from __future__ import annotations

import uuid

from conformance.replay import differences, normalise
from kafkette.broker.topic_configs import TOPIC_CONFIGS
from kafkette.client import RawClient, create_topic
from kafkette.protocol.messages import CREATE_TOPICS, DESCRIBE_CONFIGS, INCREMENTAL_ALTER_CONFIGS

TRIES = ["", " ", "x", "-3", "-2", "-1", "0", "1", "2", "4", " 7 ", "+7", "1.5", "0.5", "17", "18", "22", "23",
         "-131072", "-131073", "1048575", "1048576", "2147483647", "2147483648", "9223372036854775807",
         "9223372036854775808", "true", "TRUE", "yes", "*", "1:1", "1:1,2:1", "1:x", "compact", "compact,delete",
         "compact, delete", "delete,bogus", "gzip", "GZIP", "producer", "uncompressed", "CreateTime", "LogAppendTime"]
PAIRS = [{"min.compaction.lag.ms": "10", "max.compaction.lag.ms": "5"},
         {"min.compaction.lag.ms": "5", "max.compaction.lag.ms": "10"},
         {"no.such.config": "1"}, {"remote.storage.enable": "true"}, {"local.retention.ms": "-3"}]


def kafka_topic_configs(bootstrap: str) -> list[str]:
    name = create_topic_named(bootstrap, "cfg-names")
    return sorted(c.name for c in describe(bootstrap, name).configs)


def create_topic_named(bootstrap: str, prefix: str, config: dict[str, str] | None = None) -> str:
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    create_topic(bootstrap, name, 1, config)
    return name


def describe(bootstrap: str, topic: str):
    R = DESCRIBE_CONFIGS.Request
    with RawClient(bootstrap) as raw:
        return raw.request(DESCRIBE_CONFIGS, 4, R(resources=[R.DescribeConfigsResource(
            resource_type=2, resource_name=topic, configuration_keys=None)], include_synonyms=True,
            include_documentation=False)).results[0]


def validation(bootstrap: str, cases: list[dict[str, str]]) -> list[int]:
    """The error code of a validate-only CreateTopics of one topic per case, in order."""
    R = CREATE_TOPICS.Request
    topics = [R.CreatableTopic(name=f"cfg-check-{i}", num_partitions=1, replication_factor=-1, assignments=[],
                               configs=[R.CreatableTopicConfig(name=k, value=v) for k, v in case.items()])
              for i, case in enumerate(cases)]
    with RawClient(bootstrap, timeout=60) as raw:
        answer = raw.request(CREATE_TOPICS, 5, R(topics=topics, timeout_ms=30000, validate_only=True))
    codes = {t.name: t.error_code for t in answer.topics}
    return [codes[f"cfg-check-{i}"] for i in range(len(cases))]


def test_kafkette_knows_every_topic_config_of_kafka(brokers):
    assert kafka_topic_configs(brokers["kafka"]) == sorted(TOPIC_CONFIGS)
    assert kafka_topic_configs(brokers["kafkette"]) == sorted(TOPIC_CONFIGS)


def test_every_topic_config_value_is_accepted_or_refused_as_kafka_does(brokers):
    cases = [{name: value} for name in sorted(TOPIC_CONFIGS) for value in TRIES] + PAIRS
    kafka, ours = validation(brokers["kafka"], cases), validation(brokers["kafkette"], cases)
    differ = [(case, k, o) for case, k, o in zip(cases, kafka, ours) if k != o]
    assert not differ, f"{len(differ)} of {len(cases)} configs validated unlike Kafka (config, Kafka, kafkette): " \
        + "; ".join(f"{c} {k} {o}" for c, k, o in differ[:30])


def test_incremental_alter_and_describe_as_kafka(brokers):
    """flush.ms and friends are set, described with their type, source and synonyms, and deleted again."""
    R = INCREMENTAL_ALTER_CONFIGS.Request
    described = {}
    for name, bootstrap in brokers.items():
        topic = create_topic_named(bootstrap, "cfg-alter", {"cleanup.policy": "compact"})
        changes = [R.AlterableConfig(name="flush.ms", config_operation=0, value="1000"),
                   R.AlterableConfig(name="min.cleanable.dirty.ratio", config_operation=0, value="0.25"),
                   R.AlterableConfig(name="cleanup.policy", config_operation=2, value="delete"),
                   R.AlterableConfig(name="retention.ms", config_operation=1, value=None)]
        with RawClient(bootstrap) as raw:
            answer = raw.request(INCREMENTAL_ALTER_CONFIGS, 1, R(resources=[R.AlterConfigsResource(
                resource_type=2, resource_name=topic, configs=changes)], validate_only=False))
        assert answer.responses[0].error_code == 0, (name, answer)
        result = describe(bootstrap, topic)
        result.resource_name = "<topic>"
        described[name] = normalise(result)
    differ = differences(described["kafka"], described["kafkette"])
    assert not differ, "described unlike Kafka (field, Kafka, kafkette): " + "; ".join(map(str, differ[:20]))
