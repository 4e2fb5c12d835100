"""CreatePartitions: grow a topic's partition count."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kafkette.broker.context import RequestContext
from kafkette.broker.registry import handles
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages.create_partitions import (
    CREATE_PARTITIONS,
    CreatePartitionsRequest,
    CreatePartitionsResponse,
)

if TYPE_CHECKING:
    from kafkette.broker.state import Broker

R = CreatePartitionsResponse


@handles(CREATE_PARTITIONS, versions=(0, 3))
def create_partitions(ctx: RequestContext, body: CreatePartitionsRequest) -> CreatePartitionsResponse:
    return R(throttle_time_ms=0, results=[_grow(ctx.broker, t, body.validate_only) for t in body.topics])


def _grow(broker: Broker, wanted, validate_only: bool) -> R.CreatePartitionsTopicResult:
    topic = broker.store.topic(wanted.name)
    if topic is None:
        error, message = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, f"topic {wanted.name} does not exist"
    elif wanted.count <= topic.partition_count:
        error = ErrorCode.INVALID_PARTITIONS
        message = f"topic has {topic.partition_count} partitions; the new count must be larger"
    else:
        error, message = ErrorCode.NONE, None
        if not validate_only:
            broker.store.add_partitions(wanted.name, wanted.count)
            broker.cluster.grow_topic(wanted.name, wanted.count)
    return R.CreatePartitionsTopicResult(name=wanted.name, error_code=error, error_message=message)
