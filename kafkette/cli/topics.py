"""`kafkette topics`: list, create, describe, delete, alter-config (as kafka-topics.sh and kafka-configs.sh).

Creating and deleting go to the controller; `describe` shows each partition's leader, log start, last
stable offset and high watermark (ListOffsets at its leader), and the configs set on the topic itself.
"""

from __future__ import annotations

import argparse
from typing import Any

from kafkette.cli.common import EXIT_USAGE, CommandError, Output, connect
from kafkette.cli.offsets import marks
from kafkette.cluster import Cluster, check
from kafkette.protocol.messages import CREATE_TOPICS, DELETE_TOPICS, DESCRIBE_CONFIGS, INCREMENTAL_ALTER_CONFIGS

TOPIC_RESOURCE = 2
SET, DELETE = 0, 1  # IncrementalAlterConfigs operations
SET_ON_TOPIC = 1  # DescribeConfigs' DYNAMIC_TOPIC_CONFIG source
PARTITION_COLUMNS = [("partition", "Partition"), ("leader", "Leader"), ("replicas", "Replicas"),
                     ("log_start", "LogStart"), ("last_stable", "LSO"), ("high_watermark", "HighWatermark")]


def list_topics(args: argparse.Namespace, out: Output) -> None:
    with connect(args) as cluster:
        topics = cluster.metadata(None).topics
    out.rows([("topic", "Topic"), ("partitions", "Partitions"), ("internal", "Internal")],
             sorted(({"topic": t.name, "partitions": len(t.partitions), "internal": t.is_internal} for t in topics),
                    key=lambda r: r["topic"]), empty="no topic")


def create(args: argparse.Namespace, out: Output) -> None:
    configs = _pairs(args.config, "--config")
    R = CREATE_TOPICS.Request
    topic = R.CreatableTopic(name=args.topic, num_partitions=args.partitions, replication_factor=args.replication_factor,
                             assignments=[], configs=[R.CreatableTopicConfig(name=k, value=v) for k, v in configs.items()])
    with connect(args) as cluster:
        timeout_ms = int(cluster.timeout * 1000)
        answer = cluster.request(CREATE_TOPICS, R(topics=[topic], timeout_ms=timeout_ms, validate_only=False),
                                 _controller(cluster)).topics[0]
        check(answer.error_code, f"creating topic {args.topic!r}", answer.error_message)
    out.fields([("topic", "Created"), ("partitions", "Partitions"), ("configs", "Configs")],
               {"topic": args.topic, "partitions": answer.num_partitions, "configs": [f"{k}={v}" for k, v in configs.items()]})


def describe(args: argparse.Namespace, out: Output) -> None:
    with connect(args) as cluster:
        found = cluster.metadata(args.topics or None).topics
        for t in found:
            check(t.error_code, f"topic {t.name!r}")
        docs = [_describe_topic(cluster, t) for t in sorted(found, key=lambda t: t.name)]
    if out.as_json:
        out.json(docs)
        return
    if not docs:
        out.text("no topic")
    for doc in docs:
        configs = ", ".join(f"{k}={v}" for k, v in doc["configs"].items()) or "(defaults)"
        out.rows(PARTITION_COLUMNS, doc["partitions"], title=f"{doc['topic']}  configs: {configs}")


def _describe_topic(cluster: Cluster, topic: Any) -> dict[str, Any]:
    log_marks = marks(cluster, topic.name)
    partitions = [{"partition": p.partition_index, "leader": p.leader_id, "replicas": p.replica_nodes,
                   "log_start": log_marks[p.partition_index].log_start,
                   "last_stable": log_marks[p.partition_index].last_stable,
                   "high_watermark": log_marks[p.partition_index].high_watermark}
                  for p in sorted(topic.partitions, key=lambda p: p.partition_index)]
    return {"topic": topic.name, "internal": topic.is_internal, "partitions": partitions,
            "configs": topic_configs(cluster, topic.name)}


def topic_configs(cluster: Cluster, topic: str) -> dict[str, str | None]:
    """The configs set on the topic itself (not the defaults it inherits)."""
    R = DESCRIBE_CONFIGS.Request
    body = R(resources=[R.DescribeConfigsResource(resource_type=TOPIC_RESOURCE, resource_name=topic,
                                                  configuration_keys=None)],
             include_synonyms=False, include_documentation=False)
    result = cluster.request(DESCRIBE_CONFIGS, body, cluster.leader(topic, 0)).results[0]
    check(result.error_code, f"describing the configs of topic {topic!r}", result.error_message)
    return {c.name: c.value for c in sorted(result.configs, key=lambda c: c.name) if c.config_source == SET_ON_TOPIC}


def delete(args: argparse.Namespace, out: Output) -> None:
    R = DELETE_TOPICS.Request
    with connect(args) as cluster:
        answer = cluster.request(DELETE_TOPICS, R(topic_names=args.topics, timeout_ms=int(cluster.timeout * 1000)),
                                 _controller(cluster))
    for result in answer.responses:
        check(result.error_code, f"deleting topic {result.name!r}", result.error_message)
    out.rows([("topic", "Deleted")], [{"topic": r.name} for r in answer.responses])


def alter_config(args: argparse.Namespace, out: Output) -> None:
    changes = _pairs(args.set, "--set")
    if not changes and not args.delete:
        raise CommandError("nothing to change: give --set KEY=VALUE or --delete KEY", EXIT_USAGE)
    R = INCREMENTAL_ALTER_CONFIGS.Request
    configs = [R.AlterableConfig(name=k, config_operation=SET, value=v) for k, v in changes.items()]
    configs += [R.AlterableConfig(name=k, config_operation=DELETE, value=None) for k in args.delete]
    body = R(resources=[R.AlterConfigsResource(resource_type=TOPIC_RESOURCE, resource_name=args.topic,
                                               configs=configs)], validate_only=False)
    with connect(args) as cluster:
        result = cluster.request(INCREMENTAL_ALTER_CONFIGS, body, cluster.leader(args.topic, 0)).responses[0]
        check(result.error_code, f"changing the configs of topic {args.topic!r}", result.error_message)
        now = topic_configs(cluster, args.topic)
    out.rows([("name", "Config"), ("value", "Value")], [{"name": k, "value": v} for k, v in now.items()],
             title=f"{args.topic} configs", empty="(defaults)")


def _controller(cluster: Cluster) -> int:
    return cluster.controller_id if cluster.controller_id in cluster.brokers else Cluster.BOOTSTRAP


def _pairs(items: list[str], option: str) -> dict[str, str]:
    pairs = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise CommandError(f"{option} {item!r}: expected KEY=VALUE", EXIT_USAGE)
        pairs[key] = value
    return pairs
