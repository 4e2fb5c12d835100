"""CreatePartitions: grow a topic's partition count."""

from kafkette.broker.registry import handles
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages import CREATE_PARTITIONS

R = CREATE_PARTITIONS.Response


@handles(CREATE_PARTITIONS)
def create_partitions(broker, request):
    body = request.body
    return R(throttle_time_ms=0, results=[_grow(broker, t, body.validate_only) for t in body.topics])


def _grow(broker, wanted, validate_only: bool) -> R.CreatePartitionsTopicResult:
    topic = broker.store.topic(wanted.name)
    if topic is None:
        error, message = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, f"topic {wanted.name} does not exist"
    elif wanted.count <= len(topic.partitions):
        error = ErrorCode.INVALID_PARTITIONS
        message = f"topic has {len(topic.partitions)} partitions; the new count must be larger"
    else:
        error, message = ErrorCode.NONE, None
        if not validate_only:
            broker.store.add_partitions(wanted.name, wanted.count)
    return R.CreatePartitionsTopicResult(name=wanted.name, error_code=error, error_message=message)
