"""ConsumerGroupDescribe: state, epochs and members (current and target assignments) of consumer-protocol groups."""

from kafkette.broker.auth.acl import Operation, ResourceType
from kafkette.broker.cluster import GROUP
from kafkette.broker.context import RequestContext
from kafkette.broker.registry import handles
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages.consumer_group_describe import (
    CONSUMER_GROUP_DESCRIBE,
    ConsumerGroupDescribeRequest,
    ConsumerGroupDescribeResponse,
)

R = ConsumerGroupDescribeResponse


@handles(CONSUMER_GROUP_DESCRIBE, versions=(0, 0))
def consumer_group_describe(ctx: RequestContext, body: ConsumerGroupDescribeRequest) -> ConsumerGroupDescribeResponse:
    denied = ctx.denied(Operation.DESCRIBE, ResourceType.GROUP, body.group_ids, None)
    ctx.broker.groups.expire(body.group_ids, ctx.now_ms())
    refused = [R.DescribedGroup(group_id=group_id, error_code=ErrorCode.GROUP_AUTHORIZATION_FAILED)
               for group_id in body.group_ids if group_id in denied]  # Kafka lists the refused ones first
    described = [_describe(ctx, group_id, body.include_authorized_operations)
                 for group_id in body.group_ids if group_id not in denied]
    return R(throttle_time_ms=0, groups=refused + [_unless_topics_refused(ctx, g) for g in described])


def _unless_topics_refused(ctx: RequestContext, group: R.DescribedGroup) -> R.DescribedGroup:
    """A group whose assignments name a topic the principal may not describe is not described at all."""
    topics = {tp.topic_name for m in group.members for a in (m.assignment, m.target_assignment) if a is not None
              for tp in a.topic_partitions}
    if not ctx.denied(Operation.DESCRIBE, ResourceType.TOPIC, topics, None):
        return group
    return R.DescribedGroup(group_id=group.group_id, error_code=ErrorCode.TOPIC_AUTHORIZATION_FAILED, members=[],
                            error_message="The group has described topic(s) that the client is not authorized to "
                                          "describe.")


def _describe(ctx: RequestContext, group_id: str, operations_requested: bool) -> R.DescribedGroup:
    if refused := ctx.coordinator_error(GROUP, group_id):
        return _not_described(group_id, refused, None)
    error, message, group, topics = ctx.broker.groups.consumer.describe(group_id)
    if group is None:
        return _not_described(group_id, error, message)

    def assignment(partitions):
        return R.Assignment(topic_partitions=[
            R.TopicPartitions(topic_id=topic_id, topic_name=topics.name_of(topic_id) or "", partitions=sorted(ps))
            for topic_id, ps in sorted(partitions.items())])

    members = [R.Member(member_id=m.member_id, instance_id=m.instance_id, rack_id=m.rack_id,
                        member_epoch=m.member_epoch, client_id=m.client_id, client_host=m.client_host,
                        subscribed_topic_names=list(m.subscribed_topic_names),
                        subscribed_topic_regex=m.subscribed_topic_regex,
                        assignment=assignment(m.assigned),
                        target_assignment=assignment(group.target.get(m.member_id, {})))
               for m in group.members.values()]
    return R.DescribedGroup(error_code=0, group_id=group_id, group_state=group.state.value,
                            group_epoch=group.group_epoch, assignment_epoch=group.assignment_epoch,
                            assignor_name=group.preferred_assignor(), members=members,
                            authorized_operations=ctx.authorized_operations(ResourceType.GROUP, group_id,
                                                                            operations_requested))


def _not_described(group_id: str, error: int, message: str | None) -> R.DescribedGroup:
    return R.DescribedGroup(error_code=error, error_message=message, group_id=group_id, group_state="",
                            group_epoch=0, assignment_epoch=0, assignor_name="", members=[])
