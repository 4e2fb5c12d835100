"""FindCoordinator: this single node coordinates every group and every transactional id."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kafkette.broker.context import RequestContext
from kafkette.broker.internal_topic import OFFSETS_TOPIC, TRANSACTIONS_TOPIC, ensure_internal_topics
from kafkette.broker.registry import handles
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages.find_coordinator import (
    FIND_COORDINATOR,
    FindCoordinatorRequest,
    FindCoordinatorResponse,
)
from kafkette.storage.engine import TopicError

if TYPE_CHECKING:
    from kafkette.broker.state import Broker

R = FindCoordinatorResponse


GROUP, TRANSACTION = 0, 1  # Kafka also knows 2 (share groups), which kafkette does not serve


@handles(FIND_COORDINATOR, versions=(0, 4))
def find_coordinator(ctx: RequestContext, body: FindCoordinatorRequest) -> FindCoordinatorResponse:
    host, port = ctx.listener.advertised
    node = ctx.node_id
    error = ErrorCode.NONE if body.key_type in (GROUP, TRANSACTION) else ErrorCode.INVALID_REQUEST
    message = None if error == ErrorCode.NONE else f"unknown coordinator key type {body.key_type}: 0 is a group, 1 a transactional id"
    if error == ErrorCode.NONE and _recreated(ctx.broker, OFFSETS_TOPIC if body.key_type == GROUP else TRANSACTIONS_TOPIC):
        error, message = ErrorCode.COORDINATOR_NOT_AVAILABLE, None  # as Kafka, while it creates the topic
    found = (node, host, port) if error == ErrorCode.NONE else (-1, "", -1)
    if ctx.version >= 4:
        return R(throttle_time_ms=0, coordinators=[
            R.Coordinator(key=key, node_id=found[0], host=found[1], port=found[2], error_code=error,
                          error_message=message) for key in body.coordinator_keys])
    return R(throttle_time_ms=0, error_code=error, error_message=message, node_id=found[0], host=found[1],
             port=found[2])


def _recreated(broker: Broker, internal_topic: str) -> bool:
    """Create the coordinators' topic if it was deleted; True if it had to be (Kafka's FindCoordinator
    creates a missing internal topic and answers COORDINATOR_NOT_AVAILABLE meanwhile)."""
    if broker.store.topic(internal_topic) is not None:
        return False
    try:
        ensure_internal_topics(broker.store)
    except TopicError:  # its deletion is still under way: the client asks again
        pass
    return True
