"""LogStore: topics, their configs and partitions, across restarts."""

import json

import pytest

from kafkette.protocol.errors import ErrorCode
from kafkette.storage import FsyncPolicy, LogConfig, LogStore, TopicError, valid_topic_name
from tests.test_storage_partition import batch, fill, offsets_in

DEFAULTS = LogConfig(fsync=FsyncPolicy.NEVER)


@pytest.fixture
def store(tmp_path):
    s = LogStore(tmp_path / "data", DEFAULTS)
    s.open()
    yield s
    s.close()


def reopen(store: LogStore) -> LogStore:
    store.close()
    again = LogStore(store.data_dir, DEFAULTS)
    again.open()
    return again


def test_topic_names_follow_kafkas_rules():
    assert valid_topic_name("orders.v1_x-y")
    assert not valid_topic_name("")
    assert not valid_topic_name(".") and not valid_topic_name("..")
    assert not valid_topic_name("a/b") and not valid_topic_name("ä")
    assert valid_topic_name("a" * 249) and not valid_topic_name("a" * 250)


def test_create_topic_writes_its_metadata_and_a_partition_directory_comes_with_its_first_append(store, tmp_path):
    topic = store.create_topic("orders", 3, {"retention.ms": "1000"})
    assert len(topic.topic_id) == 16 and len(topic.partitions) == 3
    assert not (tmp_path / "data" / "orders-2").exists()
    fill(topic.partitions[2], 1)
    assert (tmp_path / "data" / "orders-2").is_dir() and not (tmp_path / "data" / "orders-1").exists()
    meta = json.loads((tmp_path / "data" / "__meta" / "orders.json").read_text())
    assert meta == {"name": "orders", "topic_id": topic.topic_id.hex(), "partitions": 3,
                    "configs": {"retention.ms": "1000"}}
    assert store.partition("orders", 2) is topic.partitions[2]
    assert store.partition("orders", 3) is None and store.partition("nope", 0) is None


def test_create_topic_refusals_carry_kafka_codes(store):
    store.create_topic("t", 1, {})
    with pytest.raises(TopicError) as err:
        store.create_topic("t", 1, {})
    assert err.value.error == ErrorCode.TOPIC_ALREADY_EXISTS
    with pytest.raises(TopicError) as err:
        store.create_topic("bad name", 1, {})
    assert err.value.error == ErrorCode.INVALID_TOPIC_EXCEPTION
    with pytest.raises(TopicError) as err:
        store.create_topic("u", 0, {})
    assert err.value.error == ErrorCode.INVALID_PARTITIONS
    with pytest.raises(TopicError) as err:
        store.create_topic("v", 1, {"retention.ms": "soon"})
    assert err.value.error == ErrorCode.INVALID_CONFIG


def test_topic_configs_override_the_defaults(store):
    topic = store.create_topic("t", 1, {"segment.bytes": "2048", "retention.bytes": "10000", "x.y": "z"})
    config = topic.partitions[0].config
    assert (config.segment_bytes, config.retention_bytes, config.retention_ms) == (2048, 10000, -1)
    store.set_topic_config("t", {"retention.ms": "5"})
    assert topic.partitions[0].config.retention_ms == 5 and topic.configs == {"retention.ms": "5"}


def test_reopen_restores_topics_ids_configs_and_offsets(store):
    created = store.create_topic("t", 2, {"cleanup.policy": "compact"})
    fill(created.partitions[1], 7)
    again = reopen(store)
    topic = again.topic("t")
    assert topic.topic_id == created.topic_id and topic.configs == {"cleanup.policy": "compact"}
    assert [p.next_offset for p in topic.partitions] == [0, 7]
    assert topic.partitions[0].config.cleanup_policy == "compact"
    again.close()


def test_delete_topic_removes_its_files_and_a_new_one_starts_empty(store, tmp_path):
    topic = store.create_topic("t", 2, {})
    fill(topic.partitions[0], 3)
    store.delete_topic("t")
    assert store.topic("t") is None and not (tmp_path / "data" / "t-0").exists()
    assert store.create_topic("t", 1, {}).partitions[0].next_offset == 0
    list(store.remove_deleted())
    assert [p.name for p in (tmp_path / "data").iterdir()] == ["__meta"]


def test_add_partitions_only_grows(store):
    store.create_topic("t", 1, {})
    store.add_partitions("t", 3)
    assert len(store.topic("t").partitions) == 3
    with pytest.raises(TopicError) as err:
        store.add_partitions("t", 2)
    assert err.value.error == ErrorCode.INVALID_PARTITIONS
    again = reopen(store)
    assert len(again.topic("t").partitions) == 3
    again.close()


def test_clean_shutdown_marker_exists_only_while_closed(tmp_path):
    store = LogStore(tmp_path / "data", DEFAULTS)
    store.open()
    store.create_topic("t", 1, {})
    assert not (tmp_path / "data" / ".clean-shutdown").exists()
    store.close()
    assert (tmp_path / "data" / ".clean-shutdown").exists()
    store = LogStore(tmp_path / "data", DEFAULTS)
    store.open()
    assert not (tmp_path / "data" / ".clean-shutdown").exists()
    assert store.topic("t") is not None
    store.close()


def test_unclean_restart_keeps_every_acknowledged_append(tmp_path):
    store = LogStore(tmp_path / "data", DEFAULTS)
    store.open()
    partition = store.create_topic("t", 1, {}).partitions[0]
    for i in range(25):
        assert partition.append(batch(2), now_ms=0).base_offset == 2 * i
    crashed = LogStore(tmp_path / "data", DEFAULTS)  # no close: as after kill -9
    crashed.open()
    assert crashed.partition("t", 0).next_offset == 50
    crashed.close()


def test_retention_runs_over_every_partition(store):
    topic = store.create_topic("t", 2, {"segment.bytes": "1024", "retention.ms": "10"})
    for partition in topic.partitions:
        fill(partition, 40, ts=0)
    assert store.enforce_retention(now_ms=1000) > 0
    assert all(p.log_start_offset > 0 for p in topic.partitions)


def test_open_files_stay_within_the_budget_and_evicted_ones_reopen(tmp_path, monkeypatch):
    import os

    from kafkette.storage.handles import OPEN_FILES

    monkeypatch.setattr(OPEN_FILES, "capacity", OPEN_FILES.capacity)  # restored after the test
    OPEN_FILES.set_capacity(20)
    before = len(os.listdir("/proc/self/fd"))
    store = LogStore(tmp_path / "data", DEFAULTS)
    store.open()
    topic = store.create_topic("t", 60, {})
    evicted = OPEN_FILES.evicted
    for partition in topic.partitions:
        fill(partition, 3)
    assert len(os.listdir("/proc/self/fd")) - before <= 20 + 2 and OPEN_FILES.evicted > evicted
    list(store.flush())  # fsyncs reopen what the budget closed
    assert [p.read(0, 1 << 20, isolation_committed=False).high_watermark for p in topic.partitions] == [3] * 60
    assert all(len(offsets_in(p.read(0, 1 << 20, isolation_committed=False).chunks)) == 3 for p in topic.partitions)
    store.close()
    assert len(os.listdir("/proc/self/fd")) <= before
