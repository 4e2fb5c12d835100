"""`kafkette topics`: list, create, describe (log start, LSO, high watermark, configs), alter-config, delete."""

from __future__ import annotations

from tests.clients import create_topic, kafkette_cli, kafkette_json, produce_and_flush
from tests.conftest import unique
from tests.test_transactions import TIMEOUT, txn_producer


def test_create_describe_alter_and_delete_a_topic(broker):
    bootstrap = broker.bootstrap_servers
    topic = unique("cli-topic")
    created = kafkette_json("topics", "create", topic, "--partitions", 3, "--config", "retention.ms=3600000",
                            bootstrap=bootstrap)
    assert created == {"topic": topic, "partitions": 3, "configs": ["retention.ms=3600000"]}
    assert {"topic": topic, "partitions": 3, "internal": False} in kafkette_json("topics", "list", bootstrap=bootstrap)
    exists = kafkette_cli("topics", "create", topic, bootstrap=bootstrap)
    assert exists.returncode == 1
    assert exists.stderr.strip() == f"kafkette topics create: creating topic {topic!r}: TOPIC_ALREADY_EXISTS (Topic " \
                                    f"'{topic}' already exists.): choose another name, or delete it first with " \
                                    f"`kafkette topics delete`"

    produce_and_flush(bootstrap, topic, [{"value": b"plain", "partition": 1}])
    producer = txn_producer(bootstrap)
    producer.begin_transaction()
    producer.produce(topic, b"open", partition=1)
    producer.flush(TIMEOUT)
    [described] = kafkette_json("topics", "describe", topic, bootstrap=bootstrap)
    assert described["configs"] == {"retention.ms": "3600000"}
    assert [(p["partition"], p["log_start"], p["last_stable"], p["high_watermark"]) for p in described["partitions"]] \
        == [(0, 0, 0, 0), (1, 0, 1, 2), (2, 0, 0, 0)]  # partition 1: the open transaction holds the LSO at 1
    producer.abort_transaction(TIMEOUT)
    table = kafkette_cli("topics", "describe", topic, bootstrap=bootstrap).stdout.splitlines()
    assert table[0].startswith(f"{topic}  configs: retention.ms=3600000")
    assert table[1].split() == ["Partition", "Leader", "Replicas", "LogStart", "LSO", "HighWatermark"]
    assert table[4].split() == ["1", "1", "1", "0", "3", "3"]

    altered = kafkette_json("topics", "alter-config", topic, "--set", "segment.bytes=1048576", "--delete",
                            "retention.ms", bootstrap=bootstrap)
    assert altered == [{"name": "segment.bytes", "value": "1048576"}]
    invalid = kafkette_cli("topics", "alter-config", topic, "--set", "retention.ms=soon", bootstrap=bootstrap)
    assert invalid.returncode == 1 and "INVALID_CONFIG" in invalid.stderr

    assert kafkette_json("topics", "delete", topic, bootstrap=bootstrap) == [{"topic": topic}]
    gone = kafkette_cli("topics", "describe", topic, bootstrap=bootstrap)
    assert gone.returncode == 1
    assert gone.stderr.strip() == f"kafkette topics describe: topic {topic!r}: UNKNOWN_TOPIC_OR_PARTITION: see " \
                                  f"`kafkette topics list` and `kafkette topics describe TOPIC`"


def test_describe_every_topic_includes_the_internal_ones(broker):
    create_topic(broker.bootstrap_servers, unique("cli-every"), 1)
    described = {t["topic"]: t for t in kafkette_json("topics", "describe", bootstrap=broker.bootstrap_servers)}
    assert described["__consumer_offsets"]["internal"] is True
