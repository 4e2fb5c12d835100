"""Metadata: this node as the only broker and leader of every partition; auto-creates topics."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kafkette.broker.auth.acl import Operation, ResourceType
from kafkette.broker.context import RequestContext
from kafkette.broker.internal_topic import INTERNAL_TOPICS
from kafkette.broker.registry import handles
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages.metadata import METADATA, MetadataRequest, MetadataResponse

if TYPE_CHECKING:
    from kafkette.broker.state import Broker
    from kafkette.storage.engine import TopicInfo

R = MetadataResponse
LEADER_EPOCH = 0


def topic_metadata(broker: Broker, topic: TopicInfo) -> R.MetadataResponseTopic:
    node = broker.config.node_id
    partitions = [R.MetadataResponsePartition(error_code=0, partition_index=i, leader_id=node,
                                              leader_epoch=LEADER_EPOCH, replica_nodes=[node], isr_nodes=[node])
                  for i in range(topic.partition_count)]
    return R.MetadataResponseTopic(error_code=0, name=topic.name, topic_id=topic.topic_id,
                                   is_internal=topic.name in INTERNAL_TOPICS, partitions=partitions)


def brokers(ctx: RequestContext) -> list[R.MetadataResponseBroker]:
    return [R.MetadataResponseBroker(node_id=b.node_id, host=b.advertised[0], port=b.advertised[1], rack=None)
            for b in ctx.broker.cluster.brokers(ctx.listener.name)]


@handles(METADATA, versions=(0, 12))
def metadata(ctx: RequestContext, body: MetadataRequest) -> MetadataResponse:
    version = ctx.version
    wanted = body.topics
    if wanted is None or (version == 0 and not wanted):  # every topic the principal may describe
        every = ctx.broker.store.topics()
        hidden = ctx.denied(Operation.DESCRIBE, ResourceType.TOPIC, every, log=False)
        topics = [topic_metadata(ctx.broker, t) for t in every if t.name not in hidden]
    else:
        topics = [_one_topic(ctx, t, body.allow_auto_topic_creation or version < 4) for t in wanted]
    if body.include_topic_authorized_operations:  # Kafka: beside every topic but those refused
        for t in topics:
            if t.error_code != ErrorCode.TOPIC_AUTHORIZATION_FAILED and t.name is not None:
                t.topic_authorized_operations = ctx.authorized_operations(ResourceType.TOPIC, t.name)
    return R(throttle_time_ms=0, brokers=brokers(ctx), cluster_id=ctx.broker.config.cluster_id,
             controller_id=ctx.broker.config.node_id, topics=topics,
             cluster_authorized_operations=ctx.authorized_operations(
                 ResourceType.CLUSTER, requested=body.include_cluster_authorized_operations))


def _one_topic(ctx: RequestContext, wanted, auto_create: bool) -> R.MetadataResponseTopic:
    broker = ctx.broker
    name = wanted.name
    if name is None:
        topic = broker.store.topic_by_id(wanted.topic_id)
        if topic is None:
            return R.MetadataResponseTopic(error_code=ErrorCode.UNKNOWN_TOPIC_ID, name=None,
                                           topic_id=wanted.topic_id)
        if not ctx.authorize(Operation.DESCRIBE, ResourceType.TOPIC, topic.name):  # an id is no secret; the name is
            return R.MetadataResponseTopic(error_code=ErrorCode.TOPIC_AUTHORIZATION_FAILED, name=None,
                                           topic_id=wanted.topic_id)
        return topic_metadata(broker, topic)
    if not ctx.authorize(Operation.DESCRIBE, ResourceType.TOPIC, name):  # whether it exists stays unsaid
        return R.MetadataResponseTopic(error_code=ErrorCode.TOPIC_AUTHORIZATION_FAILED, name=name)
    topic = broker.store.topic(name)
    if topic is None:
        if auto_create and broker.config.auto_create_topics and not (
                ctx.authorize(Operation.CREATE, ResourceType.CLUSTER, log=False)
                or ctx.authorize(Operation.CREATE, ResourceType.TOPIC, name)):
            return R.MetadataResponseTopic(error_code=ErrorCode.TOPIC_AUTHORIZATION_FAILED, name=name,
                                           is_internal=name in INTERNAL_TOPICS)
        error = broker.auto_create(name) if auto_create else broker.unknown_topic_error(name)
        topic = broker.store.topic(name) if error == ErrorCode.NONE else None
        if topic is None:
            return R.MetadataResponseTopic(error_code=error, name=name)
    return topic_metadata(broker, topic)
