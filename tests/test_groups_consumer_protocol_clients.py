"""The consumer group protocol (KIP-848) through unmodified clients: librdkafka with group.protocol=consumer.

The broker runs with a 500 ms consumer heartbeat interval (tests/conftest.py) so rebalances take a few
hundred milliseconds; every wait is bounded.
"""

from __future__ import annotations

import time

import pytest
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition

from kafkette.local_broker import LocalBroker
from kafkette.protocol.errors import ErrorCode as E
from kafkette.protocol.messages import (
    CONSUMER_GROUP_DESCRIBE,
    CONSUMER_GROUP_HEARTBEAT,
    DELETE_GROUPS,
    DESCRIBE_GROUPS,
    LIST_GROUPS,
    OFFSET_COMMIT,
    OFFSET_FETCH,
)
from tests.clients import RawClient, create_topic, produce_and_flush, values
from tests.conftest import unique

HB, CD = CONSUMER_GROUP_HEARTBEAT.Request, CONSUMER_GROUP_DESCRIBE.Request
OC, OF = OFFSET_COMMIT.Request, OFFSET_FETCH.Request


@pytest.fixture
def kip848(broker):
    """The session's broker: tests/conftest.py (and the conformance Kafka's config) set a 500 ms consumer
    heartbeat interval and a 3 s consumer session timeout."""
    return broker


def new_consumer(bootstrap: str, group: str, **config) -> Consumer:
    return Consumer({"bootstrap.servers": bootstrap, "group.id": group, "group.protocol": "consumer",
                     "auto.offset.reset": "earliest", "enable.auto.commit": False, **config})


def read(c: Consumer, count: int, timeout: float = 20.0) -> list:
    out: list = []
    deadline = time.monotonic() + timeout
    while len(out) < count and time.monotonic() < deadline:
        for msg in c.consume(count - len(out), timeout=0.2):
            if not msg.error():
                out.append(msg)
    return out


def poll_until(consumers: list[Consumer], done, timeout: float = 20.0) -> list[set[int]]:
    """Poll every consumer until `done(assignments)` holds or time runs out; the assignments then."""
    deadline = time.monotonic() + timeout
    while True:
        for c in consumers:
            c.poll(0.05)
        sets = [{tp.partition for tp in c.assignment()} for c in consumers]
        if done(sets) or time.monotonic() >= deadline:
            return sets


def splits(partitions: int, each: int | None = None):
    def check(sets: list[set[int]]) -> bool:
        exact = sum(len(s) for s in sets) == partitions and set().union(*sets) == set(range(partitions))
        return exact and (each is None or all(len(s) == each for s in sets))
    return check


def join(raw: RawClient, group: str, member: str, topics: list[str], **kw):
    return raw.request(CONSUMER_GROUP_HEARTBEAT, 1, HB(group_id=group, member_id=member, member_epoch=0,
                                                       rebalance_timeout_ms=10_000, subscribed_topic_names=topics,
                                                       topic_partitions=[], **kw))


def test_a_lone_consumer_reads_everything_and_a_successor_resumes_at_the_commit(kip848):
    topic = create_topic(kip848.bootstrap_servers, unique("k-resume"), 2)
    produce_and_flush(kip848.bootstrap_servers, topic, [{"value": b"m%d" % i, "partition": i % 2} for i in range(20)])
    group = unique("k-grp")
    c = new_consumer(kip848.bootstrap_servers, group)
    c.subscribe([topic])
    first = read(c, 12)
    assert len(first) == 12
    c.commit(asynchronous=False)  # OffsetCommit v9 with the member id and epoch
    committed = c.committed([TopicPartition(topic, 0), TopicPartition(topic, 1)], timeout=10)  # OffsetFetch v9
    assert sum(tp.offset for tp in committed) == 12
    c.close()

    successor = new_consumer(kip848.bootstrap_servers, group)
    successor.subscribe([topic])
    try:
        rest = read(successor, 8)
        assert sorted(values(first + rest)) == sorted(b"m%d" % i for i in range(20))
    finally:
        successor.close()


def test_three_consumers_share_six_partitions_and_two_take_over_when_one_closes(kip848):
    topic = create_topic(kip848.bootstrap_servers, unique("k-share"), 6)
    group = unique("k-grp")
    consumers = [new_consumer(kip848.bootstrap_servers, group) for _ in range(3)]
    try:
        for c in consumers:
            c.subscribe([topic])
        sets = poll_until(consumers, splits(6, each=2))
        assert splits(6, each=2)(sets), sets
        with RawClient(kip848.bootstrap_servers) as raw:
            described = raw.request(CONSUMER_GROUP_DESCRIBE, 0, CD(group_ids=[group])).groups[0]
            assert (described.error_code, described.group_state, described.assignor_name) == (0, "Stable", "uniform")
            # Kafka 4 bumps the group epoch once per member that joined, and may add one for the subscribed
            # topics' metadata: the values are the coordinator's, only their agreement is the contract
            assert described.group_epoch == described.assignment_epoch >= 3
            assert len(described.members) == 3
            for m in described.members:
                assert [tp.topic_name for tp in m.assignment.topic_partitions] == [topic]
                assert m.assignment.topic_partitions[0].partitions == m.target_assignment.topic_partitions[0].partitions
                assert m.subscribed_topic_names == [topic] and m.member_epoch == described.group_epoch
            listed = raw.request(LIST_GROUPS, 5, LIST_GROUPS.Request(states_filter=[], types_filter=["consumer"]))
            assert [(g.protocol_type, g.group_state, g.group_type) for g in listed.groups
                    if g.group_id == group] == [("consumer", "Stable", "consumer")]
            # DescribeGroups is for classic groups; Kafka answers Dead for a consumer group below v6.
            classic = raw.request(DESCRIBE_GROUPS, 5, DESCRIBE_GROUPS.Request(groups=[group]))
            assert (classic.groups[0].group_state, classic.groups[0].members) == ("Dead", [])

        consumers[0].close()
        rest = consumers[1:]
        consumers = rest
        sets = poll_until(rest, splits(6, each=3))
        assert splits(6, each=3)(sets), sets
    finally:
        for c in consumers:
            c.close()


def test_a_member_that_dies_is_fenced_when_its_session_ends_and_its_partitions_move(kip848):
    topic = create_topic(kip848.bootstrap_servers, unique("k-dies"), 4)
    group = unique("k-dies")
    with RawClient(kip848.bootstrap_servers) as raw:
        doomed = join(raw, group, "doomed-1", [topic])  # joins, takes everything, never heartbeats again
        assert doomed.error_code == E.NONE
        if not doomed.assignment.topic_partitions:  # Kafka may hand the assignment out on the next heartbeat
            doomed = raw.request(CONSUMER_GROUP_HEARTBEAT, 1, HB(group_id=group, member_id="doomed-1",
                                                                 member_epoch=doomed.member_epoch, topic_partitions=[]))
        assert sorted(doomed.assignment.topic_partitions[0].partitions) == [0, 1, 2, 3]
    c = new_consumer(kip848.bootstrap_servers, group)
    c.subscribe([topic])
    try:
        # Session timeout 3 s: the silent member is fenced, its partitions released to the live one.
        assert poll_until([c], splits(4), timeout=15) == [{0, 1, 2, 3}]
    finally:
        c.close()


def test_regex_subscription_gets_topics_created_after_it(kip848):
    prefix = unique("k-rx")
    first = create_topic(kip848.bootstrap_servers, f"{prefix}-a", 1)
    c = new_consumer(kip848.bootstrap_servers, unique("k-rx"))
    c.subscribe([f"^{prefix}-.*"])
    try:
        assert poll_until([c], lambda sets: sets == [{0}]) == [{0}]
        later = create_topic(kip848.bootstrap_servers, f"{prefix}-b", 2)
        deadline = time.monotonic() + 20
        while {(tp.topic, tp.partition) for tp in c.assignment()} != {(first, 0), (later, 0), (later, 1)} \
                and time.monotonic() < deadline:
            c.poll(0.1)
        assert {(tp.topic, tp.partition) for tp in c.assignment()} == {(first, 0), (later, 0), (later, 1)}
    finally:
        c.close()


def test_a_static_member_that_comes_back_gets_its_partitions_without_a_rebalance(kip848):
    topic = create_topic(kip848.bootstrap_servers, unique("k-static"), 2)
    group = unique("k-static")
    c = new_consumer(kip848.bootstrap_servers, group, **{"group.instance.id": "inst-1"})
    c.subscribe([topic])
    assert poll_until([c], splits(2)) == [{0, 1}]
    c.close()  # a static member leaves with epoch -2: its place and partitions are kept
    with RawClient(kip848.bootstrap_servers) as raw:
        held = raw.request(CONSUMER_GROUP_DESCRIBE, 0, CD(group_ids=[group])).groups[0]
        assert [(m.instance_id, m.member_epoch) for m in held.members] == [("inst-1", -2)]
        epoch = held.group_epoch
    back = new_consumer(kip848.bootstrap_servers, group, **{"group.instance.id": "inst-1"})
    back.subscribe([topic])
    try:
        assert poll_until([back], splits(2)) == [{0, 1}]
        with RawClient(kip848.bootstrap_servers) as raw:
            again = raw.request(CONSUMER_GROUP_DESCRIBE, 0, CD(group_ids=[group])).groups[0]
            assert again.group_epoch == epoch and len(again.members) == 1
            assert again.members[0].member_epoch == epoch
    finally:
        back.close()


def test_exactly_once_pipeline_with_the_consumer_protocol_writes_one_output_per_input(kip848):
    source = create_topic(kip848.bootstrap_servers, unique("k-eos-in"), 3)
    sink = create_topic(kip848.bootstrap_servers, unique("k-eos-out"), 3)
    group = unique("k-eos")
    count = 600
    produce_and_flush(kip848.bootstrap_servers, source, [{"value": b"%d" % i, "partition": i % 3} for i in range(count)])
    c = new_consumer(kip848.bootstrap_servers, group, **{"isolation.level": "read_committed"})
    p = Producer({"bootstrap.servers": kip848.bootstrap_servers, "transactional.id": unique("k-txn")})
    p.init_transactions(10)
    c.subscribe([source])
    done = 0
    deadline = time.monotonic() + 30
    try:
        while done < count and time.monotonic() < deadline:
            batch = [m for m in c.consume(100, 0.3) if not m.error()]
            if not batch:
                continue
            p.begin_transaction()
            for m in batch:
                p.produce(sink, b"out-" + m.value(), partition=m.partition())
            # TxnOffsetCommit v3 carries the member id and the member epoch as the generation.
            p.send_offsets_to_transaction(c.position(c.assignment()), c.consumer_group_metadata(), 10)
            p.commit_transaction(10)
            done += len(batch)
    finally:
        c.close()
    assert done == count

    reader = Consumer({"bootstrap.servers": kip848.bootstrap_servers, "group.id": unique("k-reader"),
                       "isolation.level": "read_committed", "enable.partition.eof": True})
    reader.assign([TopicPartition(sink, p, 0) for p in range(3)])
    out, at_end = [], set()
    deadline = time.monotonic() + 20
    while len(at_end) < 3 and time.monotonic() < deadline:
        for m in reader.consume(500, 0.3):
            if m.error():
                at_end.add(m.partition())
            else:
                out.append(m.value())
    reader.close()
    assert sorted(out) == sorted(b"out-%d" % i for i in range(count))
    check = new_consumer(kip848.bootstrap_servers, unique("k-check"))
    try:
        committed = check.committed([TopicPartition(source, p) for p in range(3)], timeout=10)
    finally:
        check.close()
    assert [tp.offset for tp in committed] == [-1001] * 3  # another group: nothing of the pipeline's
    with RawClient(kip848.bootstrap_servers) as raw:
        fetched = raw.request(OFFSET_FETCH, 9, OF(groups=[OF.OffsetFetchRequestGroup(
            group_id=group, member_id=None, member_epoch=-1, topics=None)], require_stable=True))
        rows = [(p.partition_index, p.committed_offset) for t in fetched.groups[0].topics for p in t.partitions]
        assert sorted(rows) == [(0, count // 3), (1, count // 3), (2, count // 3)]


def test_a_classic_consumer_and_a_consumer_protocol_member_cannot_share_a_group(kip848):
    topic = create_topic(kip848.bootstrap_servers, unique("k-mixed"), 1)
    # A consumer-protocol group with a member: a classic JoinGroup is refused.
    group = unique("k-mixed")
    modern = new_consumer(kip848.bootstrap_servers, group)
    modern.subscribe([topic])
    classic = Consumer({"bootstrap.servers": kip848.bootstrap_servers, "group.id": group, "auto.offset.reset": "earliest"})
    errors: list[KafkaError] = []
    try:
        assert poll_until([modern], lambda sets: sets == [{0}]) == [{0}]
        classic.subscribe([topic])
        deadline = time.monotonic() + 10
        while not any(e.code() == KafkaError.INCONSISTENT_GROUP_PROTOCOL for e in errors) \
                and time.monotonic() < deadline:
            msg = classic.poll(0.1)
            if msg is not None and msg.error():
                errors.append(msg.error())
            modern.poll(0)
        assert any(e.code() == KafkaError.INCONSISTENT_GROUP_PROTOCOL for e in errors), errors
        assert classic.assignment() == [] and modern.assignment() == [TopicPartition(topic, 0)]
    finally:
        classic.close()
        modern.close()

    # A classic group with a member: a ConsumerGroupHeartbeat join is refused as Kafka refuses it
    # when it does not upgrade groups online (group.consumer.migration.policy=disabled).
    group = unique("k-classic")
    old = Consumer({"bootstrap.servers": kip848.bootstrap_servers, "group.id": group, "auto.offset.reset": "earliest",
                    "heartbeat.interval.ms": 500, "session.timeout.ms": 6000})
    old.subscribe([topic])
    try:
        assert poll_until([old], lambda sets: sets == [{0}]) == [{0}]
        with RawClient(kip848.bootstrap_servers) as raw:
            refused = join(raw, group, "m-1", [topic])
            assert refused.error_code == E.GROUP_ID_NOT_FOUND
            assert "online upgrade is disabled" in refused.error_message
    finally:
        old.close()


def test_heartbeat_and_offset_errors_on_the_wire(kip848):
    topic = create_topic(kip848.bootstrap_servers, unique("k-wire"), 2)
    group = unique("k-wire")
    with RawClient(kip848.bootstrap_servers) as raw:
        assert raw.request(CONSUMER_GROUP_HEARTBEAT, 1, HB(group_id=group, member_id="m-1", member_epoch=3,
                                                           topic_partitions=None)).error_code == E.GROUP_ID_NOT_FOUND
        no_timeout = raw.request(CONSUMER_GROUP_HEARTBEAT, 1, HB(group_id=group, member_id="m-1", member_epoch=0,
                                                                 subscribed_topic_names=[topic], topic_partitions=[]))
        assert no_timeout.error_code == E.INVALID_REQUEST
        assert join(raw, group, "m-1", [topic], server_assignor="sticky").error_code == E.UNSUPPORTED_ASSIGNOR
        joined = join(raw, group, "m-1", [topic])
        # epochs are the coordinator's (Kafka 4 may bump one more for the topics' metadata): compared, not pinned
        epoch = joined.member_epoch
        assert (joined.error_code, joined.member_id, joined.heartbeat_interval_ms) == (0, "m-1", 500) and epoch >= 1
        assert [sorted(tp.partitions) for tp in joined.assignment.topic_partitions] == [[0, 1]]
        v0 = raw.request(CONSUMER_GROUP_HEARTBEAT, 0, HB(group_id=group, member_id="", member_epoch=0,
                                                         rebalance_timeout_ms=10_000, subscribed_topic_names=[topic],
                                                         topic_partitions=[]))
        assert v0.error_code == 0 and len(v0.member_id) == 22 and v0.member_epoch >= epoch
        stale = raw.request(CONSUMER_GROUP_HEARTBEAT, 1, HB(group_id=group, member_id="m-1", member_epoch=v0.member_epoch + 5,
                                                            topic_partitions=None))
        assert stale.error_code == E.FENCED_MEMBER_EPOCH

        def commit(epoch: int) -> int:
            answer = raw.request(OFFSET_COMMIT, 9, OC(group_id=group, generation_id_or_member_epoch=epoch,
                                                      member_id="m-1", topics=[OC.OffsetCommitRequestTopic(
                                                          name=topic, partitions=[OC.OffsetCommitRequestPartition(
                                                              partition_index=0, committed_offset=5,
                                                              committed_metadata="")])]))
            return answer.topics[0].partitions[0].error_code

        def fetch(member: str | None, epoch: int) -> int:
            answer = raw.request(OFFSET_FETCH, 9, OF(groups=[OF.OffsetFetchRequestGroup(
                group_id=group, member_id=member, member_epoch=epoch, topics=None)], require_stable=False))
            return answer.groups[0].error_code

        assert commit(epoch - 1) == E.STALE_MEMBER_EPOCH
        assert commit(epoch) == E.NONE
        assert fetch("m-1", epoch - 1) == E.STALE_MEMBER_EPOCH
        assert fetch("nobody", epoch) == E.UNKNOWN_MEMBER_ID
        assert fetch("m-1", epoch) == fetch(None, -1) == E.NONE
        left = raw.request(CONSUMER_GROUP_HEARTBEAT, 1, HB(group_id=group, member_id="m-1", member_epoch=-1,
                                                           topic_partitions=None))
        assert (left.error_code, left.member_epoch) == (0, -1)
        missing = raw.request(CONSUMER_GROUP_DESCRIBE, 0, CD(group_ids=["no-such-group"])).groups[0]
        assert missing.error_code == E.GROUP_ID_NOT_FOUND
        raw.request(CONSUMER_GROUP_HEARTBEAT, 0, HB(group_id=group, member_id=v0.member_id, member_epoch=-1,
                                                    topic_partitions=None))
        empty = raw.request(CONSUMER_GROUP_DESCRIBE, 0, CD(group_ids=[group])).groups[0]
        assert (empty.group_state, empty.members) == ("Empty", [])
        deleted = raw.request(DELETE_GROUPS, 2, DELETE_GROUPS.Request(groups_names=[group]))
        assert deleted.results[0].error_code == E.NONE
        gone = raw.request(CONSUMER_GROUP_DESCRIBE, 0, CD(group_ids=[group])).groups[0]
        assert gone.error_code == E.GROUP_ID_NOT_FOUND and fetch(None, -1) == E.NONE


@pytest.mark.kafkette_only("restarts the broker")
def test_after_a_restart_members_rejoin_and_resume_at_their_commits(tmp_path):
    proc = LocalBroker(tmp_path / "data", group_consumer_heartbeat_interval_ms=500).start()
    try:
        topic = create_topic(proc.bootstrap_servers, unique("k-restart"), 1)
        produce_and_flush(proc.bootstrap_servers, topic, [{"value": b"m%d" % i} for i in range(10)])
        group = unique("k-restart")
        c = new_consumer(proc.bootstrap_servers, group)
        c.subscribe([topic])
        try:
            assert values(read(c, 4)) == [b"m%d" % i for i in range(4)]
            c.commit(asynchronous=False)
            proc.restart()  # same port: the consumer reconnects, is unknown, rejoins at epoch 0
            assert poll_until([c], lambda sets: sets == [{0}]) == [{0}]
            assert values(read(c, 6)) == [b"m%d" % i for i in range(4, 10)]
            with RawClient(proc.bootstrap_servers) as raw:
                described = raw.request(CONSUMER_GROUP_DESCRIBE, 0, CD(group_ids=[group])).groups[0]
                assert described.error_code == 0 and len(described.members) == 1
                assert described.group_epoch > 1  # the epoch was kept and bumped by the rejoin
        finally:
            c.close()
    finally:
        proc.stop()
