"""Metadata: the live brokers, and each partition's leader, epoch, replicas and in-sync set (broker.cluster);
auto-creates topics.

An offline topic (its metadata file is damaged) is listed as Kafka lists partitions whose replicas are
all offline: leader -1, error LEADER_NOT_AVAILABLE, every replica among the offline replicas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kafkette.broker.auth.acl import Operation, ResourceType
from kafkette.broker.cluster import NO_LEADER
from kafkette.broker.context import RequestContext
from kafkette.broker.internal_topic import INTERNAL_TOPICS
from kafkette.broker.registry import handles
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages.metadata import METADATA, MetadataRequest, MetadataResponse

if TYPE_CHECKING:
    from kafkette.broker.state import Broker
    from kafkette.storage.engine import OfflineTopic, TopicInfo

R = MetadataResponse


def topic_metadata(broker: Broker, topic: TopicInfo) -> R.MetadataResponseTopic:
    cluster = broker.cluster
    partitions = []
    for i in range(topic.partition_count):
        state = cluster.partition(topic.name, i)
        assert state is not None  # the cluster places every partition the store holds
        partitions.append(R.MetadataResponsePartition(
            error_code=0 if state.leader != NO_LEADER else ErrorCode.LEADER_NOT_AVAILABLE, partition_index=i,
            leader_id=state.leader, leader_epoch=state.leader_epoch, replica_nodes=state.replicas,
            isr_nodes=state.isr, offline_replicas=[n for n in state.replicas if not cluster.nodes[n].up]))
    return R.MetadataResponseTopic(error_code=0, name=topic.name, topic_id=topic.topic_id,
                                   is_internal=topic.name in INTERNAL_TOPICS, partitions=partitions)


def offline_topic_metadata(broker: Broker, topic: OfflineTopic) -> R.MetadataResponseTopic:
    partitions = []
    for i in range(topic.partition_count):
        state = broker.cluster.partition(topic.name, i)
        assert state is not None  # the cluster places offline topics' partitions too
        partitions.append(R.MetadataResponsePartition(
            error_code=ErrorCode.LEADER_NOT_AVAILABLE, partition_index=i, leader_id=NO_LEADER, leader_epoch=-1,
            replica_nodes=state.replicas, isr_nodes=[], offline_replicas=state.replicas))
    return R.MetadataResponseTopic(error_code=0, name=topic.name, topic_id=bytes(16),
                                   is_internal=topic.name in INTERNAL_TOPICS, partitions=partitions)


def brokers(ctx: RequestContext) -> list[R.MetadataResponseBroker]:
    return [R.MetadataResponseBroker(node_id=b.node_id, host=b.advertised[0], port=b.advertised[1], rack=None)
            for b in ctx.broker.cluster.brokers(ctx.listener.name)]


@handles(METADATA, versions=(0, 12))
def metadata(ctx: RequestContext, body: MetadataRequest) -> MetadataResponse:
    version = ctx.version
    wanted = body.topics
    if wanted is None or (version == 0 and not wanted):  # every topic the principal may describe
        store = ctx.broker.store
        every, offline = store.topics(), store.offline_topics()
        hidden = ctx.denied(Operation.DESCRIBE, ResourceType.TOPIC, [*every, *offline], log=False)
        topics = [topic_metadata(ctx.broker, t) for t in every if t.name not in hidden]
        topics += [offline_topic_metadata(ctx.broker, t) for t in offline if t.name not in hidden]
    else:
        topics = [_one_topic(ctx, t, body.allow_auto_topic_creation or version < 4) for t in wanted]
    if body.include_topic_authorized_operations:  # Kafka: beside every topic but those refused
        for t in topics:
            if t.error_code != ErrorCode.TOPIC_AUTHORIZATION_FAILED and t.name is not None:
                t.topic_authorized_operations = ctx.authorized_operations(ResourceType.TOPIC, t.name)
    return R(throttle_time_ms=0, brokers=brokers(ctx), cluster_id=ctx.broker.config.cluster_id,
             controller_id=ctx.broker.cluster.controller, topics=topics,
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
    offline = broker.store.offline_topic(name) if topic is None else None
    if offline is not None:
        return offline_topic_metadata(broker, offline)
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
