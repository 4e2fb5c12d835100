"""CreatePartitions: grow a topic's partition count.

As Kafka's ReplicationControlManager: a request adding more than 10,000 partitions in all fails
whole with POLICY_VIOLATION, and so does one taking the broker past --max-partitions. Internal
topics may grow, as in Kafka; the coordinators keep using partition 0.
"""

from __future__ import annotations

from collections import Counter

from typing import TYPE_CHECKING, AbstractSet, Awaitable

from kafkette.broker.auth.acl import Operation, ResourceType
from kafkette.broker.context import RequestContext
from kafkette.broker.handlers.create_topics import MAX_PARTITIONS_PER_REQUEST
from kafkette.broker.registry import handles
from kafkette.broker.slices import sliced
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages.create_partitions import (
    CREATE_PARTITIONS,
    CreatePartitionsRequest,
    CreatePartitionsResponse,
)
from kafkette.storage.engine import Steps

if TYPE_CHECKING:
    from kafkette.broker.state import Broker

R = CreatePartitionsResponse


@handles(CREATE_PARTITIONS, versions=(0, 3))
def create_partitions(ctx: RequestContext, body: CreatePartitionsRequest
                      ) -> CreatePartitionsResponse | Awaitable[CreatePartitionsResponse]:
    return sliced(_grow_all(ctx.broker, body, ctx.denied(Operation.ALTER, ResourceType.TOPIC, body.topics)))


def _grow_all(broker: Broker, body: CreatePartitionsRequest, denied: AbstractSet[str]
              ) -> Steps[CreatePartitionsResponse]:
    """As ControllerApis.createPartitions: a name given twice is answered once, INVALID_REQUEST, first; it and
    the topics refused ALTER are left out of the request and its limits."""
    given = Counter(t.name for t in body.topics)
    duplicates = [_result(name, ErrorCode.INVALID_REQUEST, "Duplicate topic name.") for name, n in given.items() if n > 1]
    wanted = [t for t in body.topics if given[t.name] == 1]
    added = sum(max(t.count - topic.partition_count, 0) for t in wanted
                if t.name not in denied and (topic := broker.store.topic(t.name)) is not None)
    refused: tuple[ErrorCode, str] | None
    if added > MAX_PARTITIONS_PER_REQUEST:
        refused = (ErrorCode.POLICY_VIOLATION, "Excessively large number of additional partitions per request.")
    else:
        refused = broker.partitions_refused(added)
    if refused is not None:
        return R(throttle_time_ms=0, results=duplicates + [
            _result(t.name, ErrorCode.TOPIC_AUTHORIZATION_FAILED, None) if t.name in denied else
            _result(t.name, *refused) for t in wanted])
    results = duplicates
    for request in wanted:
        if request.name in denied:
            results.append(_result(request.name, ErrorCode.TOPIC_AUTHORIZATION_FAILED, None))
            continue
        results.append((yield from _grow(broker, request, body.validate_only)))
        yield
    return R(throttle_time_ms=0, results=results)


def _result(name: str, error: ErrorCode, message: str | None) -> R.CreatePartitionsTopicResult:
    return R.CreatePartitionsTopicResult(name=name, error_code=error, error_message=message)


def _grow(broker: Broker, wanted, validate_only: bool) -> Steps[R.CreatePartitionsTopicResult]:
    topic = broker.store.topic(wanted.name)
    error, message = ErrorCode.NONE, None
    if topic is None:
        error, message = broker.missing_partition_error(wanted.name), f"topic {wanted.name} does not exist"
    elif wanted.count <= topic.partition_count:
        error = ErrorCode.INVALID_PARTITIONS
        message = f"topic has {topic.partition_count} partitions; the new count must be larger"
    elif not validate_only:
        error, message = yield from broker.adding_partitions(wanted.name, wanted.count)
    return _result(wanted.name, error, message)
