"""`kafkette groups`: list, describe, reset-offsets, delete, as kafka-consumer-groups.sh does them.

`describe` asks ConsumerGroupDescribe first (KIP-848 groups) and DescribeGroups for classic ones, as
Kafka's admin client does. `reset-offsets` refuses a group with active members, as Kafka's tool does,
prints the plan, and commits it (OffsetCommit with generation -1, as Admin.alterConsumerGroupOffsets)
only with --execute. Offsets outside the log are moved to its nearest end, as Kafka's tool does.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from kafkette.cli.common import EXIT_USAGE, CommandError, Output, connect
from kafkette.cli.offsets import Marks, list_offsets, marks
from kafkette.cluster import GROUP, Cluster, check, error_name
from kafkette.protocol import codec
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages import (
    CONSUMER_GROUP_DESCRIBE,
    DELETE_GROUPS,
    DESCRIBE_GROUPS,
    LIST_GROUPS,
    OFFSET_COMMIT,
    OFFSET_FETCH,
)
from kafkette.protocol.messages.consumer_protocol import CONSUMER_PROTOCOL_ASSIGNMENT
from kafkette.protocol.primitives import DecodeError
from kafkette.protocol.types import TopicPartition

INACTIVE = ("Empty", "Dead")
GROUP_FIELDS = [("group", "Group"), ("coordinator", "Coordinator"), ("state", "State"),
                ("protocol_type", "ProtocolType"), ("protocol", "AssignmentStrategy"), ("member_count", "#Members")]
MEMBER_COLUMNS = [("member_id", "CONSUMER-ID"), ("host", "HOST"), ("client_id", "CLIENT-ID"),
                  ("assignment", "ASSIGNMENT")]
OFFSET_COLUMNS = [("topic", "TOPIC"), ("partition", "PARTITION"), ("committed", "CURRENT-OFFSET"),
                  ("log_end", "LOG-END-OFFSET"), ("last_stable", "LSO"), ("lag", "LAG"), ("member_id", "CONSUMER-ID"),
                  ("host", "HOST"), ("client_id", "CLIENT-ID")]
PLAN_COLUMNS = [("group", "GROUP"), ("topic", "TOPIC"), ("partition", "PARTITION"), ("committed", "CURRENT-OFFSET"),
                ("new_offset", "NEW-OFFSET")]


@dataclass
class Member:
    member_id: str
    client_id: str
    host: str
    assignment: list[TopicPartition] = field(default_factory=list)


@dataclass
class Group:
    state: str
    protocol_type: str
    protocol: str
    members: list[Member]


# --------------------------------------------------------------------------------------------- list, delete


def list_groups(args: argparse.Namespace, out: Output) -> None:
    R = LIST_GROUPS.Request
    rows = []
    with connect(args) as cluster:
        for node in sorted(cluster.brokers):
            answer = cluster.request(LIST_GROUPS, R(states_filter=args.state), node)
            check(answer.error_code, f"listing the groups of broker {node}")
            rows += [{"group": g.group_id, "state": g.group_state, "protocol_type": g.protocol_type}
                     for g in answer.groups]
    out.rows([("group", "GROUP"), ("state", "STATE"), ("protocol_type", "PROTOCOL-TYPE")],
             sorted(rows, key=lambda r: r["group"]), empty="no group")


def delete(args: argparse.Namespace, out: Output) -> int:
    R = DELETE_GROUPS.Request
    rows = []
    with connect(args) as cluster:
        for group_id in args.groups:
            node = cluster.coordinator(group_id, GROUP)
            result = cluster.request(DELETE_GROUPS, R(groups_names=[group_id]), node).results[0]
            rows.append({"group": group_id, "deleted": result.error_code == ErrorCode.NONE,
                         "error": None if result.error_code == ErrorCode.NONE else _delete_error(result.error_code)})
    out.rows([("group", "GROUP"), ("deleted", "DELETED"), ("error", "ERROR")], rows)
    return 1 if any(not r["deleted"] for r in rows) else 0


def _delete_error(code: int) -> str:
    if code == ErrorCode.GROUP_ID_NOT_FOUND:
        return "the group does not exist"
    if code == ErrorCode.NON_EMPTY_GROUP:
        return "the group has active members: stop its consumers first"
    return error_name(code)


# --------------------------------------------------------------------------------------------- describe


def describe(args: argparse.Namespace, out: Output) -> None:
    with connect(args) as cluster:
        node = cluster.coordinator(args.group, GROUP)
        group = describe_group(cluster, node, args.group)
        committed = committed_offsets(cluster, node, args.group)
        if group.state == "Dead" and not committed:
            raise CommandError(f"consumer group {args.group!r} does not exist")
        owners = {tp: m for m in group.members for tp in m.assignment}
        partitions = sorted(set(committed) | set(owners))
        log_marks = {topic: marks(cluster, topic, [p for t, p in partitions if t == topic])
                     for topic in sorted({t for t, _ in partitions})}
    rows = [_offset_row(tp, committed.get(tp), log_marks[tp.topic][tp.partition], owners.get(tp))
            for tp in partitions]
    members = [{"member_id": m.member_id, "client_id": m.client_id, "host": m.host,
                "assignment": [f"{t}-{p}" for t, p in m.assignment]} for m in group.members]
    doc = {"group": args.group, "coordinator": node, "state": group.state, "protocol_type": group.protocol_type,
           "protocol": group.protocol, "member_count": len(members), "members": members, "partitions": rows}
    if out.as_json:
        out.json(doc)
        return
    out.fields(GROUP_FIELDS, doc)
    if members:
        out.rows(MEMBER_COLUMNS, members)
    out.rows(OFFSET_COLUMNS, rows, empty="no committed offset and no assigned partition")


def _offset_row(tp: TopicPartition, committed: int | None, mark: Marks, owner: Member | None) -> dict[str, Any]:
    return {"topic": tp.topic, "partition": tp.partition, "committed": committed, "log_end": mark.high_watermark,
            "last_stable": mark.last_stable, "lag": None if committed is None else mark.high_watermark - committed,
            "member_id": owner.member_id if owner else None, "host": owner.host if owner else None,
            "client_id": owner.client_id if owner else None}


def describe_group(cluster: Cluster, node: int, group_id: str) -> Group:
    """A KIP-848 group through ConsumerGroupDescribe, else a classic one through DescribeGroups."""
    if cluster.serves(CONSUMER_GROUP_DESCRIBE, node):
        C = CONSUMER_GROUP_DESCRIBE.Request
        found = cluster.request(CONSUMER_GROUP_DESCRIBE, C(group_ids=[group_id]), node).groups[0]
        if found.error_code == ErrorCode.NONE:
            return Group(found.group_state, "consumer", found.assignor_name, [
                Member(m.member_id, m.client_id, m.client_host,
                       [TopicPartition(t.topic_name, p) for t in m.assignment.topic_partitions for p in t.partitions])
                for m in found.members])
        if found.error_code != ErrorCode.GROUP_ID_NOT_FOUND:
            check(found.error_code, f"describing group {group_id!r}", found.error_message)
    R = DESCRIBE_GROUPS.Request
    found = cluster.request(DESCRIBE_GROUPS, R(groups=[group_id]), node).groups[0]
    check(found.error_code, f"describing group {group_id!r}")
    consumer = found.protocol_type == "consumer"
    return Group(found.group_state, found.protocol_type, found.protocol_data, [
        Member(m.member_id, m.client_id, m.client_host, _assignment(m.member_assignment) if consumer else [])
        for m in found.members])


def _assignment(data: bytes) -> list[TopicPartition]:
    if not data:
        return []
    try:
        assignment = codec.read_versioned(CONSUMER_PROTOCOL_ASSIGNMENT, data)
    except DecodeError:
        return []
    return [TopicPartition(t.topic, p) for t in assignment.assigned_partitions for p in t.partitions]


def committed_offsets(cluster: Cluster, node: int, group_id: str) -> dict[TopicPartition, int]:
    R = OFFSET_FETCH.Request
    answer = cluster.request(OFFSET_FETCH, R(group_id=group_id, topics=None, require_stable=False), node)
    check(answer.error_code, f"fetching the offsets of group {group_id!r}")
    found = {}
    for topic in answer.topics:
        for p in topic.partitions:
            check(p.error_code, f"fetching the offset of group {group_id!r} for {topic.name}-{p.partition_index}")
            if p.committed_offset >= 0:
                found[TopicPartition(topic.name, p.partition_index)] = p.committed_offset
    return found


def commit_offsets(cluster: Cluster, node: int, group_id: str, offsets: dict[TopicPartition, int]) -> None:
    """OffsetCommit as a standalone member (generation -1, no member id): the group must have no active member."""
    R = OFFSET_COMMIT.Request
    topics = sorted({tp.topic for tp in offsets})
    body = R(group_id=group_id, generation_id_or_member_epoch=-1, member_id="", topics=[
        R.OffsetCommitRequestTopic(name=t, partitions=[
            R.OffsetCommitRequestPartition(partition_index=tp.partition, committed_offset=o, committed_metadata="")
            for tp, o in sorted(offsets.items()) if tp.topic == t]) for t in topics])
    for topic in cluster.request(OFFSET_COMMIT, body, node).topics:
        for p in topic.partitions:
            if p.error_code in (ErrorCode.ILLEGAL_GENERATION, ErrorCode.UNKNOWN_MEMBER_ID,
                                ErrorCode.REBALANCE_IN_PROGRESS):
                raise CommandError(f"group {group_id!r} has active members, which own its offsets: stop them first")
            check(p.error_code, f"committing the offset of group {group_id!r} for {topic.name}-{p.partition_index}")


# --------------------------------------------------------------------------------------------- reset-offsets


def reset_offsets(args: argparse.Namespace, out: Output) -> None:
    targets = [_topic_spec(spec) for spec in args.topic]
    timestamp = _timestamp(args.to_datetime) if args.to_datetime else None
    with connect(args) as cluster:
        node = cluster.coordinator(args.group, GROUP)
        state = describe_group(cluster, node, args.group).state
        if state not in INACTIVE:
            raise CommandError(f"offsets can only be reset while group {args.group!r} is inactive, but it is "
                               f"{state}: stop its consumers first")
        committed = committed_offsets(cluster, node, args.group)
        plan: dict[TopicPartition, int] = {}
        for topic, partitions in targets:
            log_marks = marks(cluster, topic, partitions)
            at_time = list_offsets(cluster, topic, partitions, timestamp) if timestamp is not None else {}
            for p, mark in log_marks.items():
                wanted = _wanted(args, TopicPartition(topic, p), mark, committed, at_time.get(p))
                plan[TopicPartition(topic, p)] = min(max(wanted, mark.log_start), mark.high_watermark)
        if args.execute:
            commit_offsets(cluster, node, args.group, plan)
    out.rows(PLAN_COLUMNS, [{"group": args.group, "topic": tp.topic, "partition": tp.partition,
                             "committed": committed.get(tp), "new_offset": o} for tp, o in sorted(plan.items())])
    out.text("committed." if args.execute else "dry run: nothing was committed; add --execute to commit these offsets.")


def _wanted(args: argparse.Namespace, tp: TopicPartition, mark: Marks, committed: dict[TopicPartition, int],
            at_time: int | None) -> int:
    if args.to_earliest:
        return mark.log_start
    if args.to_latest:
        return mark.high_watermark
    if args.to_offset is not None:
        return args.to_offset
    if at_time is not None:
        return at_time if at_time >= 0 else mark.high_watermark  # no record that late: the log end, as Kafka
    if tp not in committed:
        raise CommandError(f"cannot shift the offset of {tp.topic}-{tp.partition}: group {args.group!r} has no "
                           f"committed offset there (use --to-earliest, --to-latest or --to-offset)")
    return committed[tp] + args.shift_by


def _topic_spec(spec: str) -> tuple[str, list[int] | None]:
    """"orders" or "orders:0,2" -> (topic, partitions or None for all)."""
    topic, sep, partitions = spec.partition(":")
    if not sep:
        return topic, None
    try:
        return topic, sorted({int(p) for p in partitions.split(",")})
    except ValueError:
        raise CommandError(f"--topic {spec!r}: expected TOPIC or TOPIC:P,P,... with partition numbers",
                           EXIT_USAGE) from None


def _timestamp(text: str) -> int:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--to-datetime {text!r}: expected an ISO 8601 time such as 2026-01-31T12:00:00 or "
                           f"2026-01-31T12:00:00+01:00", EXIT_USAGE) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp() * 1000)
