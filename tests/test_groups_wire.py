"""Group APIs on the wire, version by version, as Kafka answers them (requests no client library varies)."""

from __future__ import annotations

import time

from confluent_kafka import Consumer, Producer, TopicPartition

from kafkette.broker.groups.consumer_protocol import encode_subscription
from kafkette.protocol.errors import ErrorCode as E
from kafkette.protocol.messages import (
    DELETE_GROUPS,
    DESCRIBE_GROUPS,
    HEARTBEAT,
    JOIN_GROUP,
    LEAVE_GROUP,
    LIST_GROUPS,
    OFFSET_COMMIT,
    OFFSET_DELETE,
    OFFSET_FETCH,
    SYNC_GROUP,
)
from tests.clients import RawClient, create_topic, produce_and_flush
from tests.conftest import unique

JR, SR, HR, LR = JOIN_GROUP.Request, SYNC_GROUP.Request, HEARTBEAT.Request, LEAVE_GROUP.Request
FR, CR = OFFSET_FETCH.Request, OFFSET_COMMIT.Request


def join_request(group: str, member_id: str = "", instance: str | None = None, topic: str = "t",
                 protocol: str = "range", session_ms: int = 10_000) -> JR:
    return JR(group_id=group, session_timeout_ms=session_ms, rebalance_timeout_ms=10_000, member_id=member_id,
              group_instance_id=instance, protocol_type="consumer",
              protocols=[JR.JoinGroupRequestProtocol(name=protocol, metadata=encode_subscription([topic]))])


def join_stable(raw: RawClient, group: str, version: int = 7) -> tuple[str, int]:
    """Join as the only member and sync; (member id, generation)."""
    first = raw.request(JOIN_GROUP, version, join_request(group))
    assert first.error_code == E.MEMBER_ID_REQUIRED and first.member_id
    joined = raw.request(JOIN_GROUP, version, join_request(group, first.member_id))
    assert joined.error_code == E.NONE
    synced = raw.request(SYNC_GROUP, 3, SR(group_id=group, generation_id=joined.generation_id,
                                            member_id=joined.member_id, assignments=[
                                                SR.SyncGroupRequestAssignment(member_id=joined.member_id,
                                                                              assignment=b"mine")]))
    assert synced.error_code == E.NONE and synced.assignment == b"mine"
    return joined.member_id, joined.generation_id


def wait_for_state(raw: RawClient, group: str, state: str, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        described = raw.request(DESCRIBE_GROUPS, 5, DESCRIBE_GROUPS.Request(groups=[group],
                                                                           include_authorized_operations=False))
        if described.groups[0].group_state == state:
            return True
        time.sleep(0.02)
    return False


def test_join_v7_names_protocol_and_v9_tells_a_returning_static_leader_to_skip_assignment(broker):
    group = unique("w-join")
    with RawClient(broker.bootstrap_servers) as raw:
        first = raw.request(JOIN_GROUP, 9, join_request(group, instance="static-1"))
        assert first.error_code == E.NONE and first.generation_id == 1
        assert (first.protocol_type, first.protocol_name) == ("consumer", "range")
        assert [(m.member_id, m.group_instance_id) for m in first.members] == [(first.member_id, "static-1")]
        raw.request(SYNC_GROUP, 5, SR(group_id=group, generation_id=1, member_id=first.member_id,
                                      group_instance_id="static-1", protocol_type="consumer", protocol_name="range",
                                      assignments=[]))
        again = raw.request(JOIN_GROUP, 9, join_request(group, instance="static-1"))
        assert again.error_code == E.NONE and again.generation_id == 1 and again.skip_assignment
        assert again.member_id != first.member_id
        fenced = raw.request(HEARTBEAT, 4, HR(group_id=group, generation_id=1, member_id=first.member_id,
                                              group_instance_id="static-1"))
        assert fenced.error_code == E.FENCED_INSTANCE_ID
        wrong = raw.request(SYNC_GROUP, 5, SR(group_id=group, generation_id=1, member_id=again.member_id,
                                              group_instance_id="static-1", protocol_type="consumer",
                                              protocol_name="roundrobin", assignments=[]))
        assert wrong.error_code == E.INCONSISTENT_GROUP_PROTOCOL
        # Old versions: protocol_name is a plain string, errors carry an empty one.
        bad = raw.request(JOIN_GROUP, 1, join_request(group, "ghost"))
        assert bad.error_code == E.UNKNOWN_MEMBER_ID and bad.protocol_name == "" and bad.generation_id == -1


def test_join_validates_group_id_and_session_timeout(broker):
    with RawClient(broker.bootstrap_servers) as raw:
        assert raw.request(JOIN_GROUP, 5, join_request("")).error_code == E.INVALID_GROUP_ID
        assert raw.request(JOIN_GROUP, 5, join_request(unique("w"), session_ms=10)).error_code == \
            E.INVALID_SESSION_TIMEOUT
        assert raw.request(JOIN_GROUP, 5, join_request(unique("w"), "not-a-member")).error_code == \
            E.UNKNOWN_MEMBER_ID
        assert raw.request(HEARTBEAT, 3, HR(group_id=unique("w"), generation_id=1, member_id="x")).error_code == \
            E.UNKNOWN_MEMBER_ID


def test_join_is_a_long_poll_until_every_known_member_rejoined(broker):
    group = unique("w-poll")
    topic = create_topic(broker.bootstrap_servers, unique("w-poll"))
    with RawClient(broker.bootstrap_servers) as a, RawClient(broker.bootstrap_servers) as b:
        member_a, generation = join_stable(a, group)
        b_first = b.request(JOIN_GROUP, 7, join_request(group))
        cid = b.send(JOIN_GROUP, 7, join_request(group, b_first.member_id))  # waits for a
        # b's JoinGroup travels on another connection: Kafka may take a's heartbeat first
        assert wait_for_state(a, group, "PreparingRebalance")
        beat = a.request(HEARTBEAT, 3, HR(group_id=group, generation_id=generation, member_id=member_a))
        assert beat.error_code == E.REBALANCE_IN_PROGRESS
        started = time.monotonic()
        rejoined = a.request(JOIN_GROUP, 7, join_request(group, member_a))
        got, b_joined = b.recv(JOIN_GROUP, 7)
        assert got == cid and time.monotonic() - started < 2
        assert rejoined.generation_id == b_joined.generation_id == generation + 1
        leader = rejoined if rejoined.members else b_joined
        assert {m.member_id for m in leader.members} == {member_a, b_first.member_id}

        # CompletingRebalance: heartbeats are fine, commits are told to wait.
        beat = b.request(HEARTBEAT, 3, HR(group_id=group, generation_id=generation + 1, member_id=b_joined.member_id))
        assert beat.error_code == E.NONE
        commit = b.request(OFFSET_COMMIT, 7, CR(group_id=group, generation_id_or_member_epoch=generation + 1,
                                                member_id=b_joined.member_id, topics=[CR.OffsetCommitRequestTopic(
                                                    name=topic, partitions=[CR.OffsetCommitRequestPartition(
                                                        partition_index=0, committed_offset=1)])]))
        assert commit.topics[0].partitions[0].error_code == E.REBALANCE_IN_PROGRESS

        # Both leave in one batched LeaveGroup (v3+), with an unknown member in between.
        left = a.request(LEAVE_GROUP, 4, LR(group_id=group, members=[
            LR.MemberIdentity(member_id=member_a), LR.MemberIdentity(member_id="ghost"),
            LR.MemberIdentity(member_id=b_joined.member_id)]))
        assert left.error_code == E.NONE
        assert [(m.member_id, m.error_code) for m in left.members] == \
            [(member_a, E.NONE), ("ghost", E.UNKNOWN_MEMBER_ID), (b_joined.member_id, E.NONE)]
        old = a.request(LEAVE_GROUP, 1, LR(group_id=group, member_id=member_a))
        assert old.error_code == E.UNKNOWN_MEMBER_ID
        [described] = a.request(DESCRIBE_GROUPS, 5, DESCRIBE_GROUPS.Request(groups=[group])).groups
        assert described.group_state == "Empty" and described.members == []


def test_offset_fetch_single_and_multi_group_versions(broker):
    topic = create_topic(broker.bootstrap_servers, unique("w-fetch"), partitions=2)
    g1, g2, unknown = unique("w-g1"), unique("w-g2"), unique("w-none")
    with RawClient(broker.bootstrap_servers) as raw:
        for group, offset in ((g1, 5), (g2, 7)):
            response = raw.request(OFFSET_COMMIT, 2, CR(group_id=group, generation_id_or_member_epoch=-1,
                                                        member_id="", topics=[CR.OffsetCommitRequestTopic(
                                                            name=topic, partitions=[
                                                                CR.OffsetCommitRequestPartition(
                                                                    partition_index=0, committed_offset=offset,
                                                                    committed_metadata="m")])]))
            assert response.topics[0].partitions[0].error_code == E.NONE
        single = raw.request(OFFSET_FETCH, 5, FR(group_id=g1, topics=[
            FR.OffsetFetchRequestTopic(name=topic, partition_indexes=[0, 1])]))
        assert single.error_code == E.NONE
        assert [(p.partition_index, p.committed_offset, p.metadata, p.error_code)
                for p in single.topics[0].partitions] == [(0, 5, "m", 0), (1, -1, "", 0)]
        everything = raw.request(OFFSET_FETCH, 2, FR(group_id=g2, topics=None))
        assert [(t.name, [p.committed_offset for p in t.partitions]) for t in everything.topics] == [(topic, [7])]

        multi = raw.request(OFFSET_FETCH, 8, FR(groups=[
            FR.OffsetFetchRequestGroup(group_id=g, topics=[FR.OffsetFetchRequestTopics(name=topic,
                                                                                       partition_indexes=[0])])
            for g in (g1, g2, unknown)]))
        assert [(g.group_id, g.error_code, g.topics[0].partitions[0].committed_offset) for g in multi.groups] == \
            [(g1, 0, 5), (g2, 0, 7), (unknown, 0, -1)]

        listed = raw.request(LIST_GROUPS, 4, LIST_GROUPS.Request(states_filter=["Empty"]))
        assert {g1, g2} <= {g.group_id for g in listed.groups}
        assert all(g.group_state == "Empty" for g in listed.groups)
        assert not {g1, g2} & {g.group_id for g in raw.request(LIST_GROUPS, 4, LIST_GROUPS.Request(
            states_filter=["Stable"])).groups}
        [dead] = raw.request(DESCRIBE_GROUPS, 0, DESCRIBE_GROUPS.Request(groups=[unknown])).groups
        assert (dead.error_code, dead.group_state) == (0, "Dead")

        OD = OFFSET_DELETE.Request
        deleted = raw.request(OFFSET_DELETE, 0, OD(group_id=g1, topics=[OD.OffsetDeleteRequestTopic(
            name=topic, partitions=[OD.OffsetDeleteRequestPartition(partition_index=0)])]))
        assert deleted.error_code == E.NONE and deleted.topics[0].partitions[0].error_code == E.NONE
        missing = raw.request(OFFSET_DELETE, 0, OD(group_id=unknown, topics=[]))
        assert missing.error_code == E.GROUP_ID_NOT_FOUND
        after = raw.request(OFFSET_FETCH, 5, FR(group_id=g1, topics=[
            FR.OffsetFetchRequestTopic(name=topic, partition_indexes=[0])]))
        assert after.topics[0].partitions[0].committed_offset == -1


def fetch_stable(bootstrap: str, group: str, topic: str) -> tuple[int, int]:
    with RawClient(bootstrap) as raw:
        response = raw.request(OFFSET_FETCH, 8, FR(require_stable=True, groups=[FR.OffsetFetchRequestGroup(
            group_id=group, topics=[FR.OffsetFetchRequestTopics(name=topic, partition_indexes=[0])])]))
    p = response.groups[0].topics[0].partitions[0]
    return p.committed_offset, p.error_code


def settled_fetch(bootstrap: str, group: str, topic: str, timeout: float = 10.0) -> tuple[int, int]:
    """fetch_stable once the last transaction's markers are written (Kafka writes them after answering EndTxn)."""
    deadline = time.monotonic() + timeout
    while (answer := fetch_stable(bootstrap, group, topic))[1] == E.UNSTABLE_OFFSET_COMMIT and \
            time.monotonic() < deadline:
        time.sleep(0.02)
    return answer


def test_exactly_once_pipeline_commits_offsets_with_the_transaction(broker):
    """consume -> produce in a txn -> send_offsets_to_transaction -> commit; an aborted round is redone."""
    source = create_topic(broker.bootstrap_servers, unique("eos-in"))
    sink = create_topic(broker.bootstrap_servers, unique("eos-out"))
    group = unique("eos")
    produce_and_flush(broker.bootstrap_servers, source, [{"value": b"%d" % i} for i in range(30)])
    producer = Producer({"bootstrap.servers": broker.bootstrap_servers, "transactional.id": unique("eos-txn")})
    producer.init_transactions(15)

    def run_round(abort: bool) -> int:
        c = Consumer({"bootstrap.servers": broker.bootstrap_servers, "group.id": group, "auto.offset.reset": "earliest",
                      "enable.auto.commit": False, "isolation.level": "read_committed",
                      "heartbeat.interval.ms": 500})
        c.subscribe([source])
        try:
            batch: list = []
            deadline = time.monotonic() + 20
            while len(batch) < 10 and time.monotonic() < deadline:
                batch += [m for m in c.consume(10 - len(batch), timeout=0.2) if not m.error()]
            assert len(batch) == 10
            producer.begin_transaction()
            for m in batch:
                producer.produce(sink, value=b"out-" + m.value())
            producer.send_offsets_to_transaction(c.position(c.assignment()), c.consumer_group_metadata(), 15)
            producer.flush(15)
            assert fetch_stable(broker.bootstrap_servers, group, source) == (-1, E.UNSTABLE_OFFSET_COMMIT)
            (producer.abort_transaction if abort else producer.commit_transaction)(15)
            return int(batch[0].value())
        finally:
            c.close()

    assert run_round(abort=False) == 0
    assert settled_fetch(broker.bootstrap_servers, group, source) == (10, E.NONE)
    assert run_round(abort=True) == 10
    assert settled_fetch(broker.bootstrap_servers, group, source) == (10, E.NONE)  # the abort left the commit at 10
    assert run_round(abort=False) == 10
    assert run_round(abort=False) == 20
    assert settled_fetch(broker.bootstrap_servers, group, source) == (30, E.NONE)

    reader = Consumer({"bootstrap.servers": broker.bootstrap_servers, "group.id": unique("eos-check"),
                       "isolation.level": "read_committed", "enable.auto.commit": False})
    reader.assign([TopicPartition(sink, 0, 0)])
    out: list = []
    deadline = time.monotonic() + 15
    while len(out) < 30 and time.monotonic() < deadline:
        out += [m.value() for m in reader.consume(100, timeout=0.2) if not m.error()]
    reader.close()
    assert out == [b"out-%d" % i for i in range(30)]  # nothing lost, nothing twice


def test_a_static_member_whose_session_ended_is_gone_for_a_delete_groups_right_after(broker):
    """Kafka's session timer fires at the deadline: a DeleteGroups just after it finds the group empty."""
    group = unique("w-static-expiry")
    with RawClient(broker.bootstrap_servers) as raw:
        joined = raw.request(JOIN_GROUP, 9, join_request(group, instance="static-x", session_ms=6000))
        assert joined.error_code == E.NONE
        synced = raw.request(SYNC_GROUP, 5, SR(group_id=group, generation_id=joined.generation_id,
                                               member_id=joined.member_id, group_instance_id="static-x",
                                               protocol_type="consumer", protocol_name="range", assignments=[]))
        assert synced.error_code == E.NONE
        last_heard = time.monotonic()  # the session runs from the SyncGroup at the latest
        busy = raw.request(DELETE_GROUPS, 2, DELETE_GROUPS.Request(groups_names=[group]))
        assert busy.results[0].error_code == E.NON_EMPTY_GROUP
        time.sleep(max(0.0, last_heard + 6.0 + 0.01 - time.monotonic()))
        deleted = raw.request(DELETE_GROUPS, 2, DELETE_GROUPS.Request(groups_names=[group]))
        assert deleted.results[0].error_code == E.NONE
