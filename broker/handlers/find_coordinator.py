"""FindCoordinator: the node coordinating a group or transactional id (broker.cluster), on the client's listener.

A deleted internal topic is recreated by the next FindCoordinator for its key type, which answers
COORDINATOR_NOT_AVAILABLE meanwhile, as Kafka's does.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Callable

from kafkette.broker.auth.acl import AUTHORIZATION_MESSAGES, Operation, ResourceType
from kafkette.broker.cluster import COORDINATOR_TOPICS, GROUP, TRANSACTION
from kafkette.broker.context import RequestContext
from kafkette.broker.internal_topic import ensure_internal_topics
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
NOT_AVAILABLE_MESSAGE = "The coordinator is not available."
KEY_RESOURCES = {GROUP: ResourceType.GROUP, TRANSACTION: ResourceType.TRANSACTIONAL_ID}


@handles(FIND_COORDINATOR, versions=(0, 4))
def find_coordinator(ctx: RequestContext, body: FindCoordinatorRequest) -> FindCoordinatorResponse:
    key_type = body.key_type if ctx.version >= 1 else GROUP
    # whether the coordinators' topic had to be recreated: asked once, by the first key that may be described
    recreated = cache(lambda: _recreated(ctx.broker, COORDINATOR_TOPICS[key_type]))
    if ctx.version >= 4:
        return R(throttle_time_ms=0, coordinators=[R.Coordinator(key=key, **_find(ctx, key_type, key, recreated, True))
                                                    for key in body.coordinator_keys])
    return R(throttle_time_ms=0, **_find(ctx, key_type, body.key, recreated, False))


def _find(ctx: RequestContext, key_type: int, key: str, recreated: Callable[[], bool], batched: bool) -> dict:
    """node_id, host, port, error_code and error_message of the coordinator of `key`, in KafkaApis.getCoordinator's
    order: the key type, DESCRIBE on the key, the coordinators' topic, its partition's leader."""
    if key_type not in COORDINATOR_TOPICS:  # Kafka also knows 2 (share groups), which kafkette does not serve
        return _not_found(ErrorCode.INVALID_REQUEST,
                          f"unknown coordinator key type {key_type}: 0 is a group, 1 a transactional id")
    refused = ctx.refusal(Operation.DESCRIBE, KEY_RESOURCES[key_type], key)
    if refused:  # Kafka's batched answers (v4) carry no message for a refusal
        return _not_found(refused, None if batched else AUTHORIZATION_MESSAGES[refused])
    if recreated():
        return _not_found(ErrorCode.COORDINATOR_NOT_AVAILABLE, None)  # as Kafka, while it creates the topic
    cluster = ctx.broker.cluster
    node = cluster.coordinator(key_type, key)
    listener = cluster.listener(node, ctx.listener.name)
    if listener is None:  # its partition has no leader: every in-sync replica is down
        return _not_found(ErrorCode.COORDINATOR_NOT_AVAILABLE, NOT_AVAILABLE_MESSAGE)
    host, port = listener.advertised
    return {"node_id": node, "host": host, "port": port, "error_code": 0, "error_message": None}


def _not_found(error: ErrorCode, message: str | None) -> dict:
    return {"node_id": -1, "host": "", "port": -1, "error_code": error, "error_message": message}


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
