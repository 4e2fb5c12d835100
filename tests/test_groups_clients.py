"""Consumer groups through unmodified clients: subscribe, rebalance, commit, resume, admin.

Every wait is bounded; heartbeats are set short (500 ms) so rebalances are noticed quickly.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from confluent_kafka import Consumer, ConsumerGroupState, KafkaError, TopicPartition
from confluent_kafka.admin import AdminClient

from tests.clients import create_topic, produce_and_flush, values
from tests.conftest import ROOT, unique

FAST = {"heartbeat.interval.ms": 500, "session.timeout.ms": 6000}


def group_consumer(bootstrap: str, group: str, **config) -> Consumer:
    return Consumer({"bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
                     "enable.auto.commit": False, **FAST, **config})


def kafka_python_consumer(bootstrap: str, topic: str, group: str, partitions: int, **config):
    """A kafka-python group consumer that knows the topic's partitions before it first joins.

    kafka-python sends JoinGroup before its first metadata fetch for the topic, so as leader it
    assigns nothing and rejoins once the partitions arrive. If poll() returns in the middle of
    that rejoin, kafka-python (3.0.12 and upstream main) never applies its own SyncGroup answer:
    the join loop only runs while need_rejoin(), which the leader's assignment has made False
    (Java's rejoinNeededOrPending also counts the pending join). With the partitions known first,
    it never rejoins for metadata.
    """
    from kafka import KafkaConsumer

    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group, heartbeat_interval_ms=500,
                             enable_auto_commit=False, **config)
    try:
        assert consumer.partitions_for_topic(topic) == set(range(partitions))
    except BaseException:
        consumer.close()
        raise
    return consumer


def read(c: Consumer, count: int, timeout: float = 20.0) -> list:
    out: list = []
    deadline = time.monotonic() + timeout
    while len(out) < count and time.monotonic() < deadline:
        for msg in c.consume(count - len(out), timeout=0.2):
            if msg.error():
                assert msg.error().code() == KafkaError._PARTITION_EOF, msg.error()
                continue
            out.append(msg)
    return out


def owned(consumers: list[Consumer]) -> list[set[int]]:
    return [{tp.partition for tp in c.assignment()} for c in consumers]


def poll_until_assigned(consumers: list[Consumer], partitions: int, timeout: float = 30.0) -> list[set[int]]:
    """Poll every consumer until their assignments split `range(partitions)` exactly (or time runs out)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for c in consumers:
            c.poll(0.05)
        sets = owned(consumers)
        if all(sets) and sum(len(s) for s in sets) == partitions and set().union(*sets) == set(range(partitions)):
            return sets
    return owned(consumers)


def test_lone_consumer_reads_commits_and_a_successor_resumes_at_the_commit(broker):
    topic = create_topic(broker.bootstrap_servers, unique("g-resume"))
    produce_and_flush(broker.bootstrap_servers, topic, [{"value": b"m%d" % i} for i in range(20)])
    group = unique("grp")
    c = group_consumer(broker.bootstrap_servers, group)
    started = time.monotonic()
    c.subscribe([topic])
    first = read(c, 1)
    elapsed = time.monotonic() - started
    print(f"\nsubscribe -> first message: {elapsed * 1000:.0f} ms")
    rest = read(c, 11)
    assert values(first + rest) == [b"m%d" % i for i in range(12)]
    c.commit(asynchronous=False)
    assert [tp.offset for tp in c.committed([TopicPartition(topic, 0)], timeout=10)] == [12]
    c.close()

    successor = group_consumer(broker.bootstrap_servers, group)
    successor.subscribe([topic])
    try:
        assert values(read(successor, 8)) == [b"m%d" % i for i in range(12, 20)]
    finally:
        successor.close()


@pytest.mark.kafkette_only("restarts the broker")
def test_committed_offsets_survive_a_broker_restart(fresh_broker):
    topic = create_topic(fresh_broker.bootstrap_servers, unique("g-restart"), partitions=2)
    produce_and_flush(fresh_broker.bootstrap_servers, topic, [{"value": b"%d" % i, "partition": i % 2} for i in range(10)])
    group = unique("grp")
    c = group_consumer(fresh_broker.bootstrap_servers, group)
    c.subscribe([topic])
    assert len(read(c, 6)) == 6
    c.commit(asynchronous=False)
    positions = {tp.partition: tp.offset for tp in c.committed([TopicPartition(topic, p) for p in (0, 1)])}
    c.close()
    assert sum(positions.values()) == 6

    fresh_broker.restart()
    c = group_consumer(fresh_broker.bootstrap_servers, group)
    try:
        after = {tp.partition: tp.offset for tp in c.committed([TopicPartition(topic, p) for p in (0, 1)],
                                                               timeout=10)}
        assert after == positions
        c.subscribe([topic])
        rest = read(c, 4)
        assert sorted(values(rest)) == sorted(b"%d" % i for i in range(10) if i // 2 >= positions[i % 2])
    finally:
        c.close()


@pytest.mark.parametrize("assignor", ["range", "cooperative-sticky"])
def test_three_consumers_split_six_partitions_and_the_rest_take_over_when_one_leaves(broker, assignor):
    topic = create_topic(broker.bootstrap_servers, unique("g-split"), partitions=6)
    group = unique("grp")
    consumers = [group_consumer(broker.bootstrap_servers, group, **{"partition.assignment.strategy": assignor})
                 for _ in range(3)]
    try:
        for c in consumers:
            c.subscribe([topic])
        sets = poll_until_assigned(consumers, 6)
        assert sorted(len(s) for s in sets) == [2, 2, 2] and set().union(*sets) == set(range(6)), sets

        members = describe(broker.bootstrap_servers, group)
        assert members.state == ConsumerGroupState.STABLE and len(members.members) == 3
        assert members.partition_assignor == assignor
        assigned = [{tp.partition for tp in m.assignment.topic_partitions} for m in members.members]
        assert sorted(map(sorted, assigned)) == sorted(map(sorted, sets))

        consumers.pop().close()  # LeaveGroup
        sets = poll_until_assigned(consumers, 6)
        assert sorted(len(s) for s in sets) == [3, 3] and set().union(*sets) == set(range(6)), sets
    finally:
        for c in consumers:
            c.close()


KILLED_CONSUMER = textwrap.dedent("""
    import sys, time
    from confluent_kafka import Consumer
    c = Consumer({"bootstrap.servers": sys.argv[1], "group.id": sys.argv[2], "heartbeat.interval.ms": 500,
                  "session.timeout.ms": 6000, "enable.auto.commit": False})
    c.subscribe([sys.argv[3]])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        c.poll(0.1)
        if c.assignment():
            print("assigned", flush=True)
            break
    while True:
        c.poll(0.1)
""")


def test_a_killed_consumer_is_evicted_after_its_session_timeout(broker):
    topic = create_topic(broker.bootstrap_servers, unique("g-kill"), partitions=6)
    group = unique("grp")
    survivor = group_consumer(broker.bootstrap_servers, group)
    survivor.subscribe([topic])
    assert poll_until_assigned([survivor], 6) == [set(range(6))]
    child = subprocess.Popen([sys.executable, "-c", KILLED_CONSUMER, broker.bootstrap_servers, group, topic],
                             stdout=subprocess.PIPE, cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    try:
        deadline = time.monotonic() + 30
        # The survivor keeps polling so it rejoins while the child joins.
        while time.monotonic() < deadline and len(owned([survivor])[0]) != 3:
            survivor.poll(0.1)
        assert len(owned([survivor])[0]) == 3
        assert child.stdout.readline().strip() == b"assigned"
        os.kill(child.pid, signal.SIGKILL)
        child.wait(5)
        killed_at = time.monotonic()
        sets = poll_until_assigned([survivor], 6, timeout=20)
        waited = time.monotonic() - killed_at
        print(f"\nkilled consumer's partitions reassigned after {waited:.1f} s (session.timeout.ms=6000)")
        assert sets == [set(range(6))] and 4.0 < waited < 15.0
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(5)
        survivor.close()


def describe(bootstrap: str, group: str):
    client = AdminClient({"bootstrap.servers": bootstrap})
    return client.describe_consumer_groups([group], request_timeout=10)[group].result(timeout=15)


def test_admin_lists_describes_and_deletes_groups(broker):
    topic = create_topic(broker.bootstrap_servers, unique("g-admin"))
    produce_and_flush(broker.bootstrap_servers, topic, [{"value": b"x"}])
    group = unique("grp")
    c = group_consumer(broker.bootstrap_servers, group, **{"client.id": "admin-test-client"})
    c.subscribe([topic])
    assert len(read(c, 1)) == 1
    c.commit(asynchronous=False)
    client = AdminClient({"bootstrap.servers": broker.bootstrap_servers})

    described = describe(broker.bootstrap_servers, group)
    assert described.state == ConsumerGroupState.STABLE and described.partition_assignor == "range"
    [member] = described.members
    assert member.client_id == "admin-test-client"
    assert [tp.partition for tp in member.assignment.topic_partitions] == [0]
    listed = client.list_consumer_groups(request_timeout=10).result(timeout=15)
    mine = [g for g in listed.valid if g.group_id == group]
    assert len(mine) == 1 and mine[0].state == ConsumerGroupState.STABLE
    stable_only = client.list_consumer_groups(states={ConsumerGroupState.EMPTY}, request_timeout=10).result(15)
    assert group not in {g.group_id for g in stable_only.valid}

    from confluent_kafka import ConsumerGroupTopicPartitions
    refused = client.delete_consumer_groups([group], request_timeout=10)[group]
    with pytest.raises(Exception, match="NON_EMPTY_GROUP|not empty"):
        refused.result(timeout=15)
    c.close()
    assert describe(broker.bootstrap_servers, group).state == ConsumerGroupState.EMPTY
    offsets = client.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)])[group].result(15)
    assert [(tp.partition, tp.offset) for tp in offsets.topic_partitions] == [(0, 1)]
    client.delete_consumer_groups([group], request_timeout=10)[group].result(timeout=15)
    listed = client.list_consumer_groups(request_timeout=10).result(timeout=15)
    assert group not in {g.group_id for g in listed.valid}
    assert describe(broker.bootstrap_servers, group).state == ConsumerGroupState.DEAD


def test_kafka_python_group_consumes_and_commits(broker):
    topic = create_topic(broker.bootstrap_servers, unique("g-kp"), partitions=2)
    produce_and_flush(broker.bootstrap_servers, topic, [{"value": b"%d" % i, "partition": i % 2} for i in range(10)])
    group = unique("grp")
    c = kafka_python_consumer(broker.bootstrap_servers, topic, group, 2, auto_offset_reset="earliest",
                              consumer_timeout_ms=15000)
    try:
        got = []
        deadline = time.monotonic() + 20
        while len(got) < 10 and time.monotonic() < deadline:
            for records in c.poll(timeout_ms=200).values():
                got.extend(r.value for r in records)
        assert sorted(got) == sorted(b"%d" % i for i in range(10))
        c.commit()
        from kafka import TopicPartition as KTP
        assert [c.committed(KTP(topic, p)) for p in (0, 1)] == [5, 5]
    finally:
        c.close()
    described = describe(broker.bootstrap_servers, group)
    assert described.state == ConsumerGroupState.EMPTY


def test_aiokafka_group_consumes_and_commits(broker):
    from aiokafka import AIOKafkaConsumer
    from aiokafka.structs import TopicPartition as ATP

    topic = create_topic(broker.bootstrap_servers, unique("g-aio"), partitions=2)
    produce_and_flush(broker.bootstrap_servers, topic, [{"value": b"%d" % i, "partition": i % 2} for i in range(10)])
    group = unique("grp")

    async def run() -> tuple[list, list]:
        c = AIOKafkaConsumer(topic, bootstrap_servers=broker.bootstrap_servers, group_id=group,
                             auto_offset_reset="earliest", enable_auto_commit=False, heartbeat_interval_ms=500)
        await c.start()
        try:
            got: list = []
            async with asyncio.timeout(20):
                while len(got) < 10:
                    for records in (await c.getmany(timeout_ms=200)).values():
                        got.extend(r.value for r in records)
            await c.commit()
            return got, [await c.committed(ATP(topic, p)) for p in (0, 1)]
        finally:
            await c.stop()

    got, committed = asyncio.run(run())
    assert sorted(got) == sorted(b"%d" % i for i in range(10)) and committed == [5, 5]


def test_mixed_clients_share_one_group(broker):
    """A kafka-python consumer and a confluent one split the partitions: the broker only relays."""
    topic = create_topic(broker.bootstrap_servers, unique("g-mixed"), partitions=4)
    group = unique("grp")
    kp = kafka_python_consumer(broker.bootstrap_servers, topic, group, 4, partition_assignment_strategy=_kp_range())
    ck = group_consumer(broker.bootstrap_servers, group)
    ck.subscribe([topic])
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            kp.poll(timeout_ms=50)
            ck.poll(0.05)
            mine, theirs = {tp.partition for tp in kp.assignment()}, owned([ck])[0]
            if len(mine) + len(theirs) == 4 and mine and theirs and not mine & theirs:
                break
        assert sorted(mine | theirs) == [0, 1, 2, 3] and mine and theirs and not mine & theirs
    finally:
        kp.close()
        ck.close()


def _kp_range():
    from kafka.coordinator.assignors.range import RangePartitionAssignor

    return (RangePartitionAssignor,)
