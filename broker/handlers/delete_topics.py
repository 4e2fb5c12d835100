"""DeleteTopics, by name (v0-5) or by name or topic id (v6), in slices (see broker.slices).

The request-wide rules are Kafka's (ControllerApis.deleteTopics): a name or id given twice, both or
neither given, are INVALID_REQUEST. An offline topic (damaged metadata) can be deleted; that is how
its name and files are freed.

Internal topics are deleted as Kafka (4.x, no authorizer) deletes them: `__consumer_offsets` takes
every group's committed offsets with it and `__transaction_state` every transactional id's state;
the next FindCoordinator recreates them empty (broker.handlers.find_coordinator).
"""

from __future__ import annotations

from typing import Awaitable

from kafkette.broker.auth.acl import AUTHORIZATION_MESSAGES, Operation, ResourceType
from kafkette.broker.clock import now_ms
from kafkette.broker.context import RequestContext
from kafkette.broker.internal_topic import OFFSETS_TOPIC, TRANSACTIONS_TOPIC
from kafkette.broker.registry import handles
from kafkette.broker.slices import counted, sliced
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages.delete_topics import DELETE_TOPICS, DeleteTopicsRequest, DeleteTopicsResponse
from kafkette.storage.engine import Steps, TopicError

R = DeleteTopicsResponse
NO_ID = bytes(16)


@handles(DELETE_TOPICS, versions=(0, 6))
def delete_topics(ctx: RequestContext, body: DeleteTopicsRequest
                  ) -> DeleteTopicsResponse | Awaitable[DeleteTopicsResponse]:
    wanted: list[tuple[str | None, bytes]]
    if ctx.version >= 6:
        wanted = [(t.name, t.topic_id) for t in body.topics]
    else:
        wanted = [(name, NO_ID) for name in body.topic_names]
    return sliced(_delete_all(ctx, wanted))


def _delete_all(ctx: RequestContext, wanted: list[tuple[str | None, bytes]]) -> Steps[DeleteTopicsResponse]:
    everything = ctx.authorize(Operation.DELETE, ResourceType.CLUSTER, log=False)  # else DELETE on each topic
    given = yield from counted(_key(name, topic_id) for name, topic_id in wanted)
    results = []
    for name, topic_id in wanted:
        key = _key(name, topic_id)
        if key is not None and given[key] != 1:  # given twice or more: one answer for them all, as Kafka gives
            if given[key] > 1:
                results.append(_result(name, topic_id, ErrorCode.INVALID_REQUEST,
                                       "Duplicate topic name." if name is not None else "Duplicate topic id."))
                given[key] = 0
            continue
        results.append((yield from _delete(ctx, name, topic_id, everything)))
        yield
    return R(throttle_time_ms=0, responses=results)


def _key(name: str | None, topic_id: bytes) -> str | bytes | None:
    """What names the topic: its name or its id (None when both or neither are given: refused alone)."""
    if topic_id == NO_ID:
        return name
    return topic_id if name is None else None


def _delete(ctx: RequestContext, name: str | None, topic_id: bytes, everything: bool
            ) -> Steps[R.DeletableTopicResult]:
    broker = ctx.broker
    if name is not None and topic_id != NO_ID:
        return _result(name, topic_id, ErrorCode.INVALID_REQUEST, "You may not specify both topic name and topic id.")
    if name is None and topic_id == NO_ID:
        return _result(None, topic_id, ErrorCode.INVALID_REQUEST, "Neither topic name nor id were specified.")
    refused = None if everything else _refusal(ctx, name, topic_id)
    if refused is not None:
        return refused
    topic = broker.store.topic(name) if name is not None else broker.store.topic_by_id(topic_id)
    if topic is not None:
        name, topic_id = topic.name, topic.topic_id
    elif name is None or broker.store.offline_topic(name) is None:
        error = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION if name is not None else ErrorCode.UNKNOWN_TOPIC_ID
        return _result(name, topic_id, error, error.name)
    try:
        yield from broker.deleting_topic(name)
    except TopicError as e:  # the disk refused to remove its metadata file: nothing changed
        return _result(name, topic_id, e.error, str(e))
    if name == OFFSETS_TOPIC:
        broker.groups.forget_everything()
    elif name == TRANSACTIONS_TOPIC:
        broker.transactions.forget_everything()
    broker.groups.offsets.topic_deleted(name, now_ms())
    return _result(name, topic_id, ErrorCode.NONE, None)


def _refusal(ctx: RequestContext, name: str | None, topic_id: bytes) -> R.DeletableTopicResult | None:
    """Kafka's authorization of a deletion without DELETE on the cluster (ControllerApis.deleteTopics): DELETE on
    the topic. By name, a topic the principal may not describe is refused before whether it exists is said; by
    id, an unknown id is said as such, and a refused topic's name is told only to one that may describe it."""
    store = ctx.broker.store
    if name is None:
        topic = store.topic_by_id(topic_id)
        if topic is None or ctx.authorize(Operation.DELETE, ResourceType.TOPIC, topic.name):
            return None
        shown = topic.name if ctx.authorize(Operation.DESCRIBE, ResourceType.TOPIC, topic.name) else None
        return _refused(shown, topic_id)
    if not ctx.authorize(Operation.DESCRIBE, ResourceType.TOPIC, name):
        return _refused(name, NO_ID)
    if (store.topic(name) is None and store.offline_topic(name) is None) or \
            ctx.authorize(Operation.DELETE, ResourceType.TOPIC, name):
        return None
    return _refused(name, NO_ID)


def _refused(name: str | None, topic_id: bytes) -> R.DeletableTopicResult:
    error = ErrorCode.TOPIC_AUTHORIZATION_FAILED
    return _result(name, topic_id, error, AUTHORIZATION_MESSAGES[error])


def _result(name: str | None, topic_id: bytes, error: ErrorCode, message: str | None) -> R.DeletableTopicResult:
    return R.DeletableTopicResult(name=name, topic_id=topic_id, error_code=error, error_message=message)
