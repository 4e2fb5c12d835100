"""Groups and offsets survive a restart: written to `__consumer_offsets`, rebuilt from it by `load()`.

These drive the GroupCoordinator on a real log store, without sockets and without a Broker.
"""

from __future__ import annotations

from pathlib import Path

from kafkette.broker.errors import wire_error
from kafkette.broker.groups import GroupCoordinator
from kafkette.broker.groups.consumer_group import ConsumerGroupSettings
from kafkette.broker.groups.consumer_protocol import encode_subscription
from kafkette.broker.groups.offset_manager import OffsetToCommit
from kafkette.broker.groups.state import GroupSettings, JoinRequest
from kafkette.broker.internal_topic import OFFSETS_TOPIC, InternalTopic, ensure_internal_topics
from kafkette.broker.transactions.markers import MarkerWriter
from kafkette.protocol.errors import ErrorCode as E
from kafkette.protocol.messages import OFFSET_COMMIT
from kafkette.protocol.records import split_batches
from kafkette.storage.config import FsyncPolicy, LogConfig
from kafkette.storage.store import LogStore

NOW = 1_700_000_000_000
PID, EPOCH = 4000, 3


class Groups:
    """A group coordinator and the marker writer that completes its transactional offsets, on a log store."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.store = LogStore(data_dir, LogConfig(fsync=FsyncPolicy.NEVER))
        self.store.open()
        ensure_internal_topics(self.store)
        if self.store.topic("t") is None:
            self.store.create_topic("t", 2, {})
        self.groups = GroupCoordinator(InternalTopic(self.store, OFFSETS_TOPIC), self.store, GroupSettings(),
                                       ConsumerGroupSettings(), lambda: NOW)
        self.markers = MarkerWriter(self.store, self.groups.offsets.complete_transaction)
        self.groups.load()


def open_broker(data_dir: Path) -> Groups:
    return Groups(data_dir)


def restart(broker: Groups) -> Groups:
    broker.groups.close()
    broker.store.close()
    return open_broker(broker.data_dir)


def committed(broker: Groups, group: str, partition: int = 0, stable: bool = False):
    [(_, [(_, value, error)])] = broker.groups.offsets.fetch(group, [("t", [partition])], stable)
    return (value.offset if value else -1), error


def test_simple_consumer_offsets_survive_restart(tmp_path):
    broker = open_broker(tmp_path)
    errors = broker.groups.offsets.commit("simple", "", None, -1, [OffsetToCommit("t", 0, 42, 7, "meta"),
                                                                   OffsetToCommit("t", 1, 9)], 8, NOW)
    assert errors == [E.NONE, E.NONE]
    broker = restart(broker)
    [(topic, rows)] = broker.groups.offsets.fetch("simple", None, False)
    assert topic == "t" and [(p, o.offset, o.leader_epoch, o.metadata) for p, o, _ in rows] == \
        [(0, 42, 7, "meta"), (1, 9, -1, "")]
    assert broker.groups.classic.describe("simple").state == "Empty"


def test_commit_to_unknown_partition_and_oversized_metadata_are_refused(tmp_path):
    broker = open_broker(tmp_path)
    errors = broker.groups.offsets.commit("g", "", None, -1, [OffsetToCommit("nope", 0, 1),
                                                              OffsetToCommit("t", 5, 1),
                                                              OffsetToCommit("t", 0, 1, metadata="x" * 5000),
                                                              OffsetToCommit("t", 1, 1)], 8, NOW)
    assert errors == [E.UNKNOWN_TOPIC_OR_PARTITION, E.UNKNOWN_TOPIC_OR_PARTITION, E.OFFSET_METADATA_TOO_LARGE, E.NONE]
    assert broker.groups.offsets.commit("ghost", "m", None, 3, [OffsetToCommit("t", 0, 1)], 9, NOW) == \
        [E.GROUP_ID_NOT_FOUND]
    errors = broker.groups.offsets.commit("ghost", "m", None, 3, [OffsetToCommit("t", 0, 1)], 8, NOW)
    assert [wire_error(OFFSET_COMMIT, 8, e) for e in errors] == [E.ILLEGAL_GENERATION]  # mapped at the edge


def test_transactional_offsets_are_pending_until_the_commit_marker(tmp_path):
    broker = open_broker(tmp_path)
    broker.groups.offsets.commit("eos", "", None, -1, [OffsetToCommit("t", 0, 5)], 8, NOW)
    assert broker.groups.offsets.commit_transactional("eos", PID, EPOCH, "", None, -1, [OffsetToCommit("t", 0, 10)], 3, NOW) \
        == [E.NONE]
    assert committed(broker, "eos", stable=True) == (-1, E.UNSTABLE_OFFSET_COMMIT)
    assert committed(broker, "eos") == (5, E.NONE)
    assert committed(broker, "eos", partition=1, stable=True) == (-1, E.NONE)

    # The offsets partition now has an open transaction; a restart keeps the offsets pending.
    broker = restart(broker)
    assert committed(broker, "eos", stable=True) == (-1, E.UNSTABLE_OFFSET_COMMIT)
    # A second TxnOffsetCommit in the same transaction continues the producer's sequence.
    assert broker.groups.offsets.commit_transactional("eos", PID, EPOCH, "", None, -1, [OffsetToCommit("t", 0, 11)], 3, NOW) \
        == [E.NONE]
    assert broker.markers.write(OFFSETS_TOPIC, 0, PID, EPOCH, True, 0, NOW) == E.NONE
    assert committed(broker, "eos", stable=True) == (11, E.NONE)
    broker = restart(broker)
    assert committed(broker, "eos", stable=True) == (11, E.NONE)


def test_aborted_transactional_offsets_are_dropped_also_on_replay(tmp_path):
    broker = open_broker(tmp_path)
    broker.groups.offsets.commit("eos", "", None, -1, [OffsetToCommit("t", 0, 5)], 8, NOW)
    broker.groups.offsets.commit_transactional("eos", PID, EPOCH, "", None, -1, [OffsetToCommit("t", 0, 10)], 3, NOW)
    assert broker.markers.write(OFFSETS_TOPIC, 0, PID, EPOCH, False, 0, NOW) == E.NONE
    assert committed(broker, "eos", stable=True) == (5, E.NONE)
    # The next transaction of the same producer commits.
    broker.groups.offsets.commit_transactional("eos", PID, EPOCH, "", None, -1, [OffsetToCommit("t", 0, 12)], 3, NOW)
    assert broker.markers.write(OFFSETS_TOPIC, 0, PID, EPOCH, True, 0, NOW) == E.NONE
    broker = restart(broker)
    assert committed(broker, "eos", stable=True) == (12, E.NONE)
    log = broker.store.partition(OFFSETS_TOPIC, 0)
    chunks = log.read(0, 1 << 20, isolation_committed=False).chunks
    flags = [(h.is_transactional, h.is_control, h.producer_id) for h, _ in split_batches(b"".join(chunks))]
    assert flags == [(False, False, -1), (True, False, PID), (True, True, PID), (True, False, PID), (True, True, PID)]


async def test_stable_group_is_restored_and_deleted_groups_stay_deleted(tmp_path):
    broker = open_broker(tmp_path)
    sub = encode_subscription(["t"])
    req = JoinRequest("", None, "client", "/127.0.0.1", 10_000, 30_000, "consumer", [("range", sub)], False)
    joined = broker.groups.classic.join("live", req, NOW)
    assert joined.error == E.NONE
    synced = broker.groups.classic.sync("live", joined.member_id, None, 1, None, None,
                                      {joined.member_id: b"assignment"}, NOW)
    assert synced.assignment == b"assignment"
    broker.groups.offsets.commit("live", joined.member_id, None, 1, [OffsetToCommit("t", 0, 3)], 8, NOW)
    assert broker.groups.delete_groups(["live"], NOW) == [E.NON_EMPTY_GROUP]

    broker = restart(broker)
    summary = broker.groups.classic.describe("live")
    assert summary.state == "Stable" and summary.protocol_name == "range"
    assert [(m.member_id, m.metadata, m.assignment) for m in summary.members] == \
        [(joined.member_id, sub, b"assignment")]
    assert broker.groups.classic.heartbeat("live", joined.member_id, None, 1, NOW) == E.NONE

    assert broker.groups.classic.leave("live", [(joined.member_id, None)], NOW) == (E.NONE, [E.NONE])
    assert broker.groups.classic.describe("live").state == "Empty"
    assert broker.groups.delete_groups(["live", "never"], NOW) == [E.NONE, E.GROUP_ID_NOT_FOUND]
    broker = restart(broker)
    assert broker.groups.classic.describe("live").state == "Dead"
    assert committed(broker, "live") == (-1, E.NONE)
    assert broker.groups.list_groups() == []


async def test_offset_delete_refuses_subscribed_topics_of_a_live_group(tmp_path):
    broker = open_broker(tmp_path)
    broker.store.create_topic("other", 1, {})
    sub = encode_subscription(["t"])
    req = JoinRequest("", None, "client", "/127.0.0.1", 10_000, 30_000, "consumer", [("range", sub)], False)
    joined = broker.groups.classic.join("od", req, NOW)
    broker.groups.classic.sync("od", joined.member_id, None, 1, None, None, {}, NOW)
    broker.groups.offsets.commit("od", joined.member_id, None, 1,
                                 [OffsetToCommit("t", 0, 3), OffsetToCommit("other", 0, 4)], 8, NOW)
    assert broker.groups.offsets.delete("od", [("t", 0), ("other", 0)], NOW) == \
        (E.NONE, [E.GROUP_SUBSCRIBED_TO_TOPIC, E.NONE])
    assert broker.groups.offsets.delete("missing", [("t", 0)], NOW) == (E.GROUP_ID_NOT_FOUND, [])
    broker = restart(broker)
    [(topic, rows)] = broker.groups.offsets.fetch("od", None, False)
    assert topic == "t" and rows[0][1].offset == 3


def test_a_fenced_producer_epoch_is_refused_as_the_log_refuses_it(tmp_path):
    broker = open_broker(tmp_path)
    assert broker.groups.offsets.commit_transactional("eos", PID, EPOCH, "", None, -1, [OffsetToCommit("t", 0, 1)], 3, NOW) \
        == [E.NONE]
    assert broker.markers.write(OFFSETS_TOPIC, 0, PID, EPOCH, True, 0, NOW) == E.NONE
    stale = broker.groups.offsets.commit_transactional("eos", PID, EPOCH - 1, "", None, -1, [OffsetToCommit("t", 0, 2)], 3, NOW)
    assert stale == [E.INVALID_PRODUCER_EPOCH]
    bumped = broker.groups.offsets.commit_transactional("eos", PID, EPOCH + 1, "", None, -1, [OffsetToCommit("t", 0, 3)], 3, NOW)
    assert bumped == [E.NONE]  # a new epoch starts its sequence at 0


def test_offsets_of_a_deleted_topic_are_forgotten(tmp_path):
    broker = open_broker(tmp_path)
    broker.store.create_topic("gone", 1, {})
    broker.groups.offsets.commit("g", "", None, -1, [OffsetToCommit("gone", 0, 4), OffsetToCommit("t", 0, 2)], 8, NOW)
    broker.groups.offsets.commit("only-gone", "", None, -1, [OffsetToCommit("gone", 0, 4)], 8, NOW)
    broker.store.delete_topic("gone")
    broker.groups.offsets.topic_deleted("gone", NOW)
    broker = restart(broker)
    [(topic, rows)] = broker.groups.offsets.fetch("g", None, False)
    assert topic == "t" and [o.offset for _, o, _ in rows] == [2]
    assert broker.groups.offsets.fetch("only-gone", None, False) == []
    assert "only-gone" not in {g for g, *_ in broker.groups.list_groups()}
