"""CreateTopics: validate_only, num_partitions=-1 (broker default), configs stored and reported."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kafkette.broker.context import RequestContext
from kafkette.broker.internal_topic import HIDDEN_TOPICS
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
    partitions = wanted.num_partitions
    if wanted.assignments:
        partitions = len(wanted.assignments)
    error = _check(broker, wanted, configs, partitions)
    if error == ErrorCode.NONE and not validate_only:
        error = broker.create_topic(wanted.name, partitions, configs)
    if error != ErrorCode.NONE:
        return R.CreatableTopicResult(name=wanted.name, error_code=error, error_message=error.name,
                                      configs=None)
    topic = broker.store.topic(wanted.name)
    count = partitions if partitions != -1 else broker.config.default_partitions
    return R.CreatableTopicResult(
        name=wanted.name, topic_id=topic.topic_id if topic else bytes(16), error_code=0, error_message=None,
        num_partitions=count, replication_factor=1,
        configs=[R.CreatableTopicConfigs(name=n, value=v, read_only=False, config_source=s, is_sensitive=False)
                 for n, v, s in effective_topic_configs(broker.config, configs)])


def _check(broker: Broker, wanted, configs: dict[str, str], partitions: int) -> ErrorCode:
    if wanted.name in HIDDEN_TOPICS:  # kafkette's own hidden state has this name (broker.internal_topic)
        return ErrorCode.INVALID_TOPIC_EXCEPTION
    if broker.store.topic(wanted.name) is not None:
        return ErrorCode.TOPIC_ALREADY_EXISTS
    if wanted.replication_factor not in (-1, 1) and not wanted.assignments:
        return ErrorCode.INVALID_REPLICATION_FACTOR
    if partitions == 0 or partitions < -1:
        return ErrorCode.INVALID_PARTITIONS
    return validate_topic_configs(configs)
