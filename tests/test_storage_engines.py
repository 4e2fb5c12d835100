"""The storage interface, held to the same rules on both engines: the segment log and memory."""

from __future__ import annotations

import pytest

from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.records import control_type, split_batches
from kafkette.storage import FsyncPolicy, LogConfig, LogEngine, LogStore, MemoryStore, TopicError
from tests.test_storage_partition import batch, offsets_in

E = ErrorCode
PID = 1000


@pytest.fixture(params=["disk", "memory"])
def engine(request, tmp_path):
    """An open engine with topic `t` (2 partitions); `engine.appended` lists what on_append was told."""
    appended: list = []
    config = LogConfig(fsync=FsyncPolicy.NEVER)
    store: LogEngine
    if request.param == "disk":
        store = LogStore(tmp_path / "data", config, appended.append)
    else:
        store = MemoryStore(config, appended.append)
    store.open()
    store.create_topic("t", 2, {})
    store.appended = appended  # type: ignore[attr-defined]
    yield store
    store.close()


def log_of(engine: LogEngine, partition: int = 0):
    log = engine.partition("t", partition)
    assert log is not None
    return log


def produce(log, seq: int, n: int = 1, *, epoch: int = 0, txn: bool = False, ts: int = 1000):
    return log.append(batch(n, ts=ts, producer_id=PID, producer_epoch=epoch, base_sequence=seq, transactional=txn),
                      now_ms=0)


def test_topics_are_created_found_grown_and_deleted_with_kafkas_codes(engine):
    topic = engine.topic("t")
    assert topic.partition_count == 2 and engine.topic_by_id(topic.topic_id) is topic
    assert engine.partition("t", 2) is None and engine.partition("nope", 0) is None
    for name, partitions, configs, code in [("t", 1, {}, E.TOPIC_ALREADY_EXISTS), ("a/b", 1, {}, E.INVALID_TOPIC_EXCEPTION),
                                            ("u", 0, {}, E.INVALID_PARTITIONS),
                                            ("v", 1, {"retention.ms": "soon"}, E.INVALID_CONFIG)]:
        with pytest.raises(TopicError) as err:
            engine.create_topic(name, partitions, configs)
        assert err.value.error == code
    with pytest.raises(TopicError) as err:
        engine.add_partitions("t", 2)
    assert err.value.error == E.INVALID_PARTITIONS
    engine.add_partitions("t", 3)
    assert engine.topic("t").partition_count == 3 and engine.partition("t", 2) is not None
    engine.delete_topic("t")
    assert engine.topic("t") is None and engine.topics() == []
    with pytest.raises(TopicError) as err:
        engine.delete_topic("t")
    assert err.value.error == E.UNKNOWN_TOPIC_OR_PARTITION


def test_reads_return_whole_batches_within_max_bytes_and_at_least_one(engine):
    log = log_of(engine)
    for n in (3, 2, 4):
        log.append(batch(n), now_ms=0)
    assert (log.next_offset, log.high_watermark, log.log_start_offset) == (9, 9, 0)
    assert offsets_in(log.read(4, 1 << 20, isolation_committed=False).chunks) == [3, 5]
    one = len(batch(3))
    assert offsets_in(log.read(0, one + 10, isolation_committed=False).chunks) == [0]
    assert offsets_in(log.read(0, 1, isolation_committed=False).chunks) == [0]
    assert log.read(0, 1, isolation_committed=False, min_one=False).chunks == []
    assert log.read(9, 1 << 20, isolation_committed=False).chunks == []
    assert log.read(10, 1 << 20, isolation_committed=False).error == E.OFFSET_OUT_OF_RANGE


def test_a_retried_batch_gets_its_original_offset_and_a_gap_is_out_of_order(engine):
    log = log_of(engine)
    assert produce(log, 0, 2).base_offset == 0
    assert produce(log, 2).base_offset == 2
    retry = produce(log, 0, 2)
    assert (retry.error, retry.base_offset, log.next_offset) == (E.NONE, 0, 3)
    assert produce(log, 5).error == E.OUT_OF_ORDER_SEQUENCE_NUMBER


def test_an_open_transaction_holds_the_lso_and_an_abort_is_listed(engine):
    log = log_of(engine)
    produce(log, 0, 2, txn=True)
    log.append(batch(1), now_ms=0)
    assert (log.last_stable_offset, log.high_watermark) == (0, 3)
    assert log.read(0, 1 << 20, isolation_committed=True).chunks == []
    assert log.append_control(PID, 0, False, 0, now_ms=0).base_offset == 3
    assert log.last_stable_offset == log.high_watermark == 4
    committed = log.read(0, 1 << 20, isolation_committed=True)
    assert committed.aborted == [(PID, 0)]
    header, marker = split_batches(b"".join(committed.chunks))[-1]
    assert header.is_control and control_type(marker) == 0
    assert log.append_control(PID, 0, True, -1, now_ms=0).error == E.TRANSACTION_COORDINATOR_FENCED


def test_timestamps_are_found_inside_batches(engine):
    log = log_of(engine)
    log.append(batch(3, ts=1000), now_ms=0)  # records at 1000, 1001, 1002
    log.append(batch(2, ts=5000), now_ms=0)
    assert log.offset_for_timestamp(1001) == (1, 1001)
    assert log.offset_for_timestamp(1003) == (3, 5000)
    assert log.offset_for_timestamp(9999) is None
    assert log.max_timestamp() == (4, 5001)


def test_delete_records_moves_the_log_start(engine):
    log = log_of(engine)
    for _ in range(3):
        log.append(batch(2), now_ms=0)
    assert log.delete_records_before(3) == E.NONE
    assert log.log_start_offset == 3
    assert log.read(0, 1 << 20, isolation_committed=False).error == E.OFFSET_OUT_OF_RANGE
    assert offsets_in(log.read(3, 1 << 20, isolation_committed=False).chunks) == [2, 4]
    assert log.delete_records_before(7) == E.OFFSET_OUT_OF_RANGE
    assert log.delete_records_before(-1) == E.NONE and log.log_start_offset == 6


def test_the_engine_reports_every_append_and_marker_but_not_a_refused_one(engine):
    log, other = log_of(engine, 0), log_of(engine, 1)
    produce(log, 0, txn=True)
    other.append(batch(1), now_ms=0)
    log.append_control(PID, 0, True, 0, now_ms=0)
    assert produce(log, 7).error != E.NONE
    assert log.append(b"garbage" * 20, now_ms=0).error != E.NONE
    assert engine.appended == [log, other, log]
