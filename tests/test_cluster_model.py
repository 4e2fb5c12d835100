"""The simulated cluster's model without sockets: placement, coordinators, elections, leader epochs, persistence."""

from __future__ import annotations

import asyncio

import pytest

from kafkette.broker.cluster import (
    GROUP,
    NO_LEADER,
    TRANSACTION,
    VIRTUAL_PARTITIONS,
    Cluster,
    ClusterError,
    PartitionState,
    PlacementError,
    coordinator_partition,
    java_hash,
    place,
)
from kafkette.broker.internal_topic import OFFSETS_TOPIC, TRANSACTIONS_TOPIC
from kafkette.protocol.errors import ErrorCode as E


def test_java_string_hash_and_kafkas_coordinator_partitions():
    assert java_hash("") == 0
    assert java_hash("a") == 97
    assert java_hash("hello") == 99162322
    assert java_hash("polygenelubricants") == -(1 << 31)  # Utils.abs maps it to 0
    assert java_hash("\U0001F600") == 0xD83D * 31 + 0xDE00  # a surrogate pair: two UTF-16 code units, as in Java
    # As `abs(id.hashCode()) % 50` in jshell (and Kafka's partitionFor) gives them:
    assert coordinator_partition("my-group") == 12
    assert coordinator_partition("kafka-txn-0") == 30
    assert coordinator_partition("polygenelubricants") == 0


def test_placement_is_round_robin_from_the_start_offset_with_shifted_followers():
    assert place([0, 1, 2], 6, 3, start=0) == [[0, 1, 2], [1, 2, 0], [2, 0, 1], [0, 2, 1], [1, 0, 2], [2, 1, 0]]
    assert place([0, 1, 2], 3, 1, start=2) == [[2], [0], [1]]
    assert place([5], 3, 1, start=0) == [[5], [5], [5]]
    assert [r[0] for r in place([0, 1, 2], 3, 2, start=1, first=3)] == [1, 2, 0]


def cluster(nodes=(0, 1, 2), offsets=None) -> Cluster:
    ends = offsets if offsets is not None else {}
    c = Cluster(nodes)
    c.open(None, {}, lambda topic, partition: ends.get((topic, partition), 0), 1)
    return c


def test_every_node_leads_some_partitions_and_every_coordinator_partition_has_a_leader():
    c = cluster()
    c.add_topic("t", c.plan("t", 6, 3))
    assert sorted(c.partition("t", i).leader for i in range(6)) == [0, 0, 1, 1, 2, 2]
    for i in range(6):
        s = c.partition("t", i)
        assert len(set(s.replicas)) == 3 and s.isr == s.replicas and s.leader == s.replicas[0] and s.leader_epoch == 0
    for kind, topic in ((GROUP, OFFSETS_TOPIC), (TRANSACTION, TRANSACTIONS_TOPIC)):
        assert [c.partition(topic, p).leader for p in range(VIRTUAL_PARTITIONS)] == [p % 3 for p in range(50)]
    assert c.coordinator(GROUP, "my-group") == 12 % 3 == 0  # partition 12, led by node 12 % 3
    assert c.coordinator_error(1, GROUP, "my-group") == E.NOT_COORDINATOR
    assert c.coordinator_error(0, GROUP, "my-group") == E.NONE


def test_a_replication_factor_above_the_broker_count_is_refused_with_kafkas_message():
    with pytest.raises(PlacementError) as refused:
        cluster().plan("t", 1, 4)
    assert refused.value.error == E.INVALID_REPLICATION_FACTOR
    assert "only 3 broker(s) are registered" in str(refused.value)


@pytest.mark.parametrize("assignments, message", [
    ([[0, 7]], "includes broker 7, but no such broker is registered"),
    ([[1, 1]], "includes the broker 1 more than once"),
    ([[0, 1], [2]], "but this is not consistent with previous partitions"),
    ([[]], "empty replica list"),
])
def test_manual_assignments_are_checked_as_kafka_checks_them(assignments, message):
    with pytest.raises(PlacementError) as refused:
        cluster().plan("t", len(assignments), -1, assignments)
    assert refused.value.error == E.INVALID_REPLICA_ASSIGNMENT and message in str(refused.value)


def test_who_may_answer_for_a_partition():
    s = PartitionState([1, 2], [1, 2], 1, [(0, 0), (3, 10)])
    assert s.error_at(0) == E.NOT_LEADER_OR_FOLLOWER  # no replica here
    assert s.error_at(2) == E.NOT_LEADER_OR_FOLLOWER  # a follower, where only the leader may answer
    assert s.error_at(2, leader_only=False) == E.NONE  # a follower may serve a v11+ consumer
    assert s.error_at(1) == E.NONE and s.error_at(1, 3) == E.NONE
    assert s.error_at(1, 2) == E.FENCED_LEADER_EPOCH  # the client's metadata is older
    assert s.error_at(1, 4) == E.UNKNOWN_LEADER_EPOCH  # newer than this broker knows
    assert s.error_at(0, 2) == E.NOT_LEADER_OR_FOLLOWER  # no replica: that comes first


def test_the_leader_epoch_history_answers_as_kafkas_leader_epoch_cache():
    s = PartitionState([0], [0], 0)
    s.lead(1, 10)
    s.lead(2, 25)
    assert s.epochs == [(0, 0), (1, 10), (2, 25)] and s.leader_epoch == 2
    assert s.end_offset_for(0, 40) == (0, 10)
    assert s.end_offset_for(1, 40) == (1, 25)
    assert s.end_offset_for(2, 40) == (2, 40)  # the current epoch ends at the log end
    assert s.end_offset_for(3, 40) == (-1, -1) and s.end_offset_for(-1, 40) == (-1, -1)
    assert [s.epoch_at(o) for o in (0, 9, 10, 24, 25, 99)] == [0, 0, 1, 1, 2, 2]
    s.lead(0, 25)  # epoch 2 wrote nothing: epoch 3 takes its place
    assert s.epochs == [(0, 0), (1, 10), (3, 25)]
    assert s.end_offset_for(2, 40) == (1, 25)


def test_a_broker_going_down_moves_its_leaders_to_in_sync_replicas_and_back_up_rejoins():
    ends = {("t", 0): 7}
    c = cluster(offsets=ends)
    c.add_topic("t", [[1, 2, 0], [0, 1, 2], [1]])
    moved = c.down(1)
    assert ("t", 0) in moved and ("t", 2) in moved and ("t", 1) not in moved
    t0, t1, t2 = (c.partition("t", i) for i in range(3))
    assert (t0.leader, t0.isr, t0.leader_epoch, t0.epochs[-1]) == (2, [2, 0], 1, (1, 7))
    assert (t1.leader, t1.isr, t1.leader_epoch) == (0, [0, 2], 0)
    assert (t2.leader, t2.isr) == (NO_LEADER, [1])  # the last in-sync replica stays, leaderless
    assert c.live() == [0, 2] and c.controller == 0
    assert c.partition_error(1, "t", 0) == E.NOT_LEADER_OR_FOLLOWER
    with pytest.raises(ClusterError, match="down already"):
        c.down(1)
    elected = asyncio.run(c.up(1))
    assert elected == [("t", 2)]
    assert (t0.leader, t0.isr) == (2, [1, 2, 0])  # back in sync; leadership stays where it went
    assert (t2.leader, t2.isr, t2.leader_epoch) == (1, [1], 2)


def test_a_leaderless_partition_waits_for_its_last_in_sync_replica():
    c = cluster()
    c.add_topic("t", [[0, 1]])
    c.down(0)
    c.down(1)
    s = c.partition("t", 0)
    assert (s.leader, s.isr) == (NO_LEADER, [1])
    asyncio.run(c.up(0))  # not in sync: no unclean election
    assert (s.leader, s.isr) == (NO_LEADER, [1])
    asyncio.run(c.up(1))
    assert (s.leader, s.isr) == (1, [0, 1])


def test_moving_a_leader_bumps_its_epoch_and_a_node_without_a_replica_takes_the_old_leaders_place():
    c = cluster(offsets={("t", 0): 5})
    c.add_topic("t", [[0, 1]])
    assert c.move_leader("t", 0, 1) is True
    s = c.partition("t", 0)
    assert (s.leader, s.replicas, s.leader_epoch, s.epochs) == (1, [0, 1], 1, [(0, 0), (1, 5)])
    assert c.move_leader("t", 0, 1) is False
    c.move_leader("t", 0, 2)
    assert (s.leader, s.replicas, s.isr, s.leader_epoch) == (2, [2, 0], [2, 0], 2)
    with pytest.raises(ClusterError) as unknown:
        c.move_leader("t", 5, 0)
    assert unknown.value.kind == "unknown"
    c.down(0)
    with pytest.raises(ClusterError, match="bring it up first"):
        c.move_leader("t", 0, 0)


def test_moving_a_coordinator_moves_its_partition_with_every_key_in_it():
    c = cluster()
    before = c.coordinator(TRANSACTION, "kafka-txn-0")
    target = (before + 1) % 3
    assert c.move_coordinator(TRANSACTION, "kafka-txn-0", target) == 30
    assert c.coordinator(TRANSACTION, "kafka-txn-0") == target
    assert c.coordinator_epoch(TRANSACTION, "kafka-txn-0") == 1
    assert c.coordinator(GROUP, "kafka-txn-0") == before  # the groups' partition 30 did not move


def test_one_node_leads_everything_at_epoch_zero_and_needs_no_routing(tmp_path):
    c = Cluster([7])
    c.open(tmp_path / "cluster.json", {}, lambda topic, partition: 0, 1)
    c.add_topic("t", c.plan("t", 3, 1))
    assert not c.routed and not (tmp_path / "cluster.json").exists()  # nothing a fresh start would not place
    assert all(c.partition("t", i).leader == 7 and c.partition("t", i).replicas == [7] for i in range(3))
    assert c.coordinator_error(7, GROUP, "any") == E.NONE and c.controller == 7
    with pytest.raises(PlacementError):
        c.plan("t2", 1, 2)
    c.down(7)
    asyncio.run(c.up(7))
    assert c.routed and c.partition("t", 0).leader_epoch == 2 and (tmp_path / "cluster.json").exists()


def test_placement_and_epochs_survive_a_restart_and_a_smaller_cluster_keeps_what_it_can(tmp_path):
    path = tmp_path / "cluster.json"
    first = Cluster([0, 1, 2])
    first.open(path, {"t": 2}, lambda topic, partition: 3, 1)
    first.add_topic("u", [[2, 0], [1, 2]])
    first.move_leader("u", 0, 0)
    again = Cluster([0, 1, 2])
    again.open(path, {"t": 2, "u": 2}, lambda topic, partition: 3, 1)
    assert [again.partition("u", i).to_json() for i in range(2)] == \
        [first.partition("u", i).to_json() for i in range(2)]
    assert again.routed
    smaller = Cluster([0, 1])
    smaller.open(path, {"u": 2, "v": 1}, lambda topic, partition: 9, 1)
    u0, u1 = smaller.partition("u", 0), smaller.partition("u", 1)
    assert (u0.replicas, u0.leader, u0.leader_epoch) == ([0], 0, 1)
    assert (u1.replicas, u1.leader, u1.leader_epoch, u1.epochs[-1]) == ([1], 1, 0, (0, 0))
    assert smaller.partition("v", 0) is not None and smaller.partition("t", 0) is None
