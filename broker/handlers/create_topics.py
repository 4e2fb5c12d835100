"""CreateTopics: validate_only, num_partitions and replication_factor -1 (broker defaults), manual assignments,
replicas placed by the cluster (broker.cluster), configs stored and reported."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kafkette.broker.cluster import PlacementError
from kafkette.broker.context import RequestContext
from kafkette.broker.registry import handles
from kafkette.broker.topic_configs import effective_topic_configs, validate_topic_configs
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages.create_topics import CREATE_TOPICS, CreateTopicsRequest, CreateTopicsResponse

if TYPE_CHECKING:
    from kafkette.broker.state import Broker

R = CreateTopicsResponse


@handles(CREATE_TOPICS, versions=(0, 7))
def create_topics(ctx: RequestContext, body: CreateTopicsRequest) -> CreateTopicsResponse:
    results = [_create(ctx.broker, t, body.validate_only) for t in body.topics]
    return R(throttle_time_ms=0, topics=results)


def _create(broker: Broker, wanted, validate_only: bool) -> R.CreatableTopicResult:
    configs = {c.name: c.value for c in wanted.configs if c.value is not None}
    partitions = len(wanted.assignments) if wanted.assignments else wanted.num_partitions
    error, message = _check(broker, wanted, configs)
    replicas: list[list[int]] = []
    if error == ErrorCode.NONE:
        count = partitions if partitions != -1 else broker.config.default_partitions
        factor = wanted.replication_factor if wanted.replication_factor != -1 \
            else broker.config.default_replication_factor
        try:
            manual = [a.broker_ids for a in sorted(wanted.assignments, key=lambda a: a.partition_index)]
            replicas = broker.cluster.plan(wanted.name, count, factor, manual or None)
        except PlacementError as e:
            error, message = e.error, str(e)
    if error == ErrorCode.NONE and not validate_only:
        error = broker.create_topic(wanted.name, partitions, configs, replicas)
    if error != ErrorCode.NONE:
        return R.CreatableTopicResult(name=wanted.name, error_code=error, error_message=message or error.name,
                                      configs=None)
    topic = broker.store.topic(wanted.name)
    return R.CreatableTopicResult(
        name=wanted.name, topic_id=topic.topic_id if topic else bytes(16), error_code=0, error_message=None,
        num_partitions=len(replicas), replication_factor=len(replicas[0]),
        configs=[R.CreatableTopicConfigs(name=n, value=v, read_only=False, config_source=s, is_sensitive=False)
                 for n, v, s in effective_topic_configs(broker.config, configs)])


def _check(broker: Broker, wanted, configs: dict[str, str]) -> tuple[ErrorCode, str | None]:
    """Kafka's checks before placing replicas (ReplicationControlManager.createTopic): (error, message)."""
    if broker.store.topic(wanted.name) is not None:
        return ErrorCode.TOPIC_ALREADY_EXISTS, None
    if wanted.assignments:
        if wanted.replication_factor != -1:
            return ErrorCode.INVALID_REPLICATION_FACTOR, \
                "A manual partition assignment was specified, but replication factor was not set to -1."
        if wanted.num_partitions != -1:
            return ErrorCode.INVALID_PARTITIONS, \
                "A manual partition assignment was specified, but numPartitions was not set to -1."
        if sorted(a.partition_index for a in wanted.assignments) != list(range(len(wanted.assignments))):
            return ErrorCode.INVALID_REPLICA_ASSIGNMENT, "partitions should be a consecutive 0-based integer sequence"
    elif wanted.replication_factor < -1 or wanted.replication_factor == 0:
        return ErrorCode.INVALID_REPLICATION_FACTOR, \
            "Replication factor must be larger than 0, or -1 to use the default value."
    elif wanted.num_partitions < -1 or wanted.num_partitions == 0:
        return ErrorCode.INVALID_PARTITIONS, "Number of partitions was set to an invalid non-positive value."
    return validate_topic_configs(configs), None
