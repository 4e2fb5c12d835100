"""DeleteTopics, by name (v0-5) or by name or topic id (v6)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kafkette.broker.clock import now_ms
from kafkette.broker.context import RequestContext
from kafkette.broker.internal_topic import INTERNAL_TOPICS
from kafkette.broker.registry import handles
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages.delete_topics import DELETE_TOPICS, DeleteTopicsRequest, DeleteTopicsResponse

if TYPE_CHECKING:
    from kafkette.broker.state import Broker

R = DeleteTopicsResponse


@handles(DELETE_TOPICS, versions=(0, 6))
def delete_topics(ctx: RequestContext, body: DeleteTopicsRequest) -> DeleteTopicsResponse:
    wanted: list[tuple[str | None, bytes | None]]
    if ctx.version >= 6:
        wanted = [(t.name, t.topic_id) for t in body.topics]
    else:
        wanted = [(name, None) for name in body.topic_names]
    return R(throttle_time_ms=0, responses=[_delete(ctx.broker, name, topic_id) for name, topic_id in wanted])


def _delete(broker: Broker, name: str | None, topic_id: bytes | None) -> R.DeletableTopicResult:
    topic = broker.store.topic(name) if name is not None else broker.store.topic_by_id(topic_id or bytes(16))
    if topic is None:
        error = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION if name is not None else ErrorCode.UNKNOWN_TOPIC_ID
        return R.DeletableTopicResult(name=name, topic_id=topic_id or bytes(16), error_code=error,
                                      error_message=error.name)
    if topic.name in INTERNAL_TOPICS:
        return R.DeletableTopicResult(name=topic.name, topic_id=topic.topic_id,
                                      error_code=ErrorCode.TOPIC_AUTHORIZATION_FAILED,
                                      error_message="internal topics cannot be deleted")
    broker.store.delete_topic(topic.name)
    broker.cluster.remove_topic(topic.name)
    broker.groups.offsets.topic_deleted(topic.name, now_ms())
    return R.DeletableTopicResult(name=topic.name, topic_id=topic.topic_id, error_code=0, error_message=None)
