"""CreateTopics: validate_only, num_partitions and replication_factor -1 (broker defaults), manual assignments,
replicas placed by the cluster (broker.cluster), configs stored and reported.

Kafka's request-wide rules come first (ControllerApis.createTopics, ReplicationControlManager):
a name given twice is INVALID_REQUEST, and a request for more than 10,000 partitions in all (or
more than 10,000 metadata records: a topic, its partitions and its configs) fails whole with
POLICY_VIOLATION. Then each topic is created in turn, in slices (see broker.slices).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Awaitable

from kafkette.broker.auth.acl import Operation, ResourceType
from kafkette.broker.cluster import PlacementError
from kafkette.broker.context import NOTHING, RequestContext
from kafkette.broker.internal_topic import HIDDEN_TOPICS
from kafkette.broker.registry import handles
from kafkette.broker.slices import counted, sliced
from kafkette.broker.topic_configs import TopicDefaults, effective_topic_configs, validate_topic_configs
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages.create_topics import CREATE_TOPICS, CreateTopicsRequest, CreateTopicsResponse
from kafkette.storage.engine import Steps

if TYPE_CHECKING:
    from kafkette.broker.state import Broker

R = CreateTopicsResponse
MAX_PARTITIONS_PER_REQUEST = 10_000  # Kafka's ReplicationControlManager.MAX_PARTITIONS_PER_BATCH
MAX_RECORDS_PER_REQUEST = 10_000  # Kafka's QuorumController.MAX_RECORDS_PER_USER_OP


@handles(CREATE_TOPICS, versions=(0, 7))
def create_topics(ctx: RequestContext, body: CreateTopicsRequest
                  ) -> CreateTopicsResponse | Awaitable[CreateTopicsResponse]:
    return sliced(_create_all(ctx, body))


def _create_all(ctx: RequestContext, body: CreateTopicsRequest) -> Steps[CreateTopicsResponse]:
    broker = ctx.broker
    named = yield from counted(t.name for t in body.topics)
    unique = [t for t in body.topics if named[t.name] == 1]
    duplicates = [_failed(name, ErrorCode.INVALID_REQUEST, "Duplicate topic name.")
                  for name, count in named.items() if count > 1]
    # As ControllerApis.createTopics: CREATE on the cluster, else on each topic; a refused topic is left out
    # of the request (and of its limits) and answered after the duplicates
    anywhere = ctx.authorize(Operation.CREATE, ResourceType.CLUSTER, log=False)
    denied = NOTHING if anywhere else ctx.denied(Operation.CREATE, ResourceType.TOPIC, unique)
    wanted = [t for t in unique if t.name not in denied]
    unauthorized = [_failed(t.name, ErrorCode.TOPIC_AUTHORIZATION_FAILED, "Authorization failed.")
                    for t in unique if t.name in denied]
    refused = _too_large(broker, wanted)
    if refused is not None:
        return R(throttle_time_ms=0, topics=[_failed(t.name, *refused) for t in wanted] + duplicates + unauthorized)
    results = []
    defaults = broker.topic_defaults(ctx.node_id)
    for topic in wanted:
        results.append((yield from _create(broker, topic, body.validate_only, defaults)))
        yield
    for r in results:  # what a new topic is made of is told only with DESCRIBE_CONFIGS on it
        if r.error_code == ErrorCode.NONE and not ctx.authorize(Operation.DESCRIBE_CONFIGS, ResourceType.TOPIC, r.name,
                                                                log=False):
            r.configs, r.num_partitions, r.replication_factor = [], -1, -1
            r.topic_config_error_code = ErrorCode.TOPIC_AUTHORIZATION_FAILED
    return R(throttle_time_ms=0, topics=results + duplicates + unauthorized)


def _too_large(broker: Broker, wanted: list) -> tuple[ErrorCode, str] | None:
    """Kafka's request-wide POLICY_VIOLATION: over 10,000 partitions, or over 10,000 metadata records."""
    partitions = sum(_partition_count(broker, t) for t in wanted)
    if partitions > MAX_PARTITIONS_PER_REQUEST:
        return ErrorCode.POLICY_VIOLATION, "Excessively large number of partitions per request."
    records = sum(1 + _partition_count(broker, t) + len(t.configs) for t in wanted
                  if broker.store.topic(t.name) is None)
    if records > MAX_RECORDS_PER_REQUEST:
        return ErrorCode.POLICY_VIOLATION, "Unable to perform excessively large batch operation."
    return None


def _partition_count(broker: Broker, wanted) -> int:
    if wanted.assignments:
        return len(wanted.assignments)
    if wanted.num_partitions == -1:
        return broker.config.default_partitions
    return max(wanted.num_partitions, 0)


def _create(broker: Broker, wanted, validate_only: bool, defaults: TopicDefaults) -> Steps[R.CreatableTopicResult]:
    configs = {c.name: c.value for c in wanted.configs if c.value is not None}
    partitions = _partition_count(broker, wanted)
    error, message = _check(broker, wanted, configs, partitions)
    replicas: list[list[int]] = []
    if error == ErrorCode.NONE:
        factor = wanted.replication_factor if wanted.replication_factor != -1 \
            else broker.config.default_replication_factor
        try:
            manual = [a.broker_ids for a in sorted(wanted.assignments, key=lambda a: a.partition_index)]
            replicas = broker.cluster.plan(wanted.name, partitions, factor, manual or None)
        except PlacementError as e:
            error, message = e.error, str(e)
    if error == ErrorCode.NONE and validate_only:
        error, message = broker.partitions_refused(partitions) or (ErrorCode.NONE, None)
    elif error == ErrorCode.NONE:
        error, message = yield from broker.creating_topic(wanted.name, partitions, configs, replicas)
    if error != ErrorCode.NONE:
        return _failed(wanted.name, error, message)
    topic = broker.store.topic(wanted.name)
    return R.CreatableTopicResult(
        name=wanted.name, topic_id=topic.topic_id if topic else bytes(16), error_code=0, error_message=None,
        num_partitions=len(replicas), replication_factor=len(replicas[0]),
        configs=[R.CreatableTopicConfigs(name=n, value=v, read_only=False, config_source=s, is_sensitive=False)
                 for n, v, s in effective_topic_configs(defaults, configs)])


def _failed(name: str, error: ErrorCode, message: str | None) -> R.CreatableTopicResult:
    return R.CreatableTopicResult(name=name, error_code=error, error_message=message or error.name, configs=None)


def _check(broker: Broker, wanted, configs: dict[str, str], partitions: int) -> tuple[ErrorCode, str | None]:
    """Kafka's checks before placing replicas (ReplicationControlManager.createTopic): (error, message)."""
    if wanted.name in HIDDEN_TOPICS:  # kafkette's own hidden state has this name (broker.internal_topic)
        return ErrorCode.INVALID_TOPIC_EXCEPTION, None
    if broker.store.topic(wanted.name) is not None or broker.store.offline_topic(wanted.name) is not None:
        return ErrorCode.TOPIC_ALREADY_EXISTS, f"Topic '{wanted.name}' already exists."
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
    elif partitions < 1:
        return ErrorCode.INVALID_PARTITIONS, "Number of partitions was set to an invalid non-positive value."
    error = validate_topic_configs(configs)
    return (error, None) if error else (ErrorCode.NONE, None)
