"""DeleteTopics, by name (v0-5) or by name or topic id (v6)."""

from kafkette.broker.registry import handles
from kafkette.broker.internal_topic import INTERNAL_TOPICS
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages import DELETE_TOPICS

R = DELETE_TOPICS.Response


@handles(DELETE_TOPICS)
def delete_topics(broker, request):
    body = request.body
    if request.header.api_version >= 6:
        wanted = [(t.name, t.topic_id) for t in body.topics]
    else:
        wanted = [(name, None) for name in body.topic_names]
    return R(throttle_time_ms=0, responses=[_delete(broker, name, topic_id) for name, topic_id in wanted])


def _delete(broker, name, topic_id) -> R.DeletableTopicResult:
    topic = broker.store.topic(name) if name is not None else broker.topic_by_id(topic_id)
    if topic is None:
        error = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION if name is not None else ErrorCode.UNKNOWN_TOPIC_ID
        return R.DeletableTopicResult(name=name, topic_id=topic_id or bytes(16), error_code=error,
                                      error_message=error.name)
    if topic.name in INTERNAL_TOPICS:
        return R.DeletableTopicResult(name=topic.name, topic_id=topic.topic_id,
                                      error_code=ErrorCode.TOPIC_AUTHORIZATION_FAILED,
                                      error_message="internal topics cannot be deleted")
    broker.store.delete_topic(topic.name)
    broker.groups.topic_deleted(topic.name, broker.now_ms())
    return R.DeletableTopicResult(name=topic.name, topic_id=topic.topic_id, error_code=0, error_message=None)
