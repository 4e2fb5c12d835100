"""Idempotent and transactional producer rules, LSO and the aborted-transaction index."""

from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.records import control_type, split_batches
from kafkette.storage import ProducerInfo
from tests.test_storage_partition import batch, fill, offsets_in, open_log, read_all

PID = 1000


def produce(log, seq, n=1, *, epoch=0, pid=PID, txn=False):
    return log.append(batch(n, producer_id=pid, producer_epoch=epoch, base_sequence=seq, transactional=txn),
                      now_ms=0)


def test_in_sequence_batches_are_accepted(tmp_path):
    log = open_log(tmp_path)
    assert produce(log, 0, 3).base_offset == 0
    assert produce(log, 3, 2).base_offset == 3
    assert log.producers_info() == [ProducerInfo(PID, 0, 4, 1001, -1, -1)]


def test_duplicate_returns_the_original_offset_and_writes_nothing(tmp_path):
    log = open_log(tmp_path)
    produce(log, 0, 2)
    produce(log, 2, 2)
    fill(log, 1)
    size = log.size_bytes
    retry = produce(log, 0, 2)
    assert (retry.error, retry.base_offset) == (ErrorCode.NONE, 0)
    assert produce(log, 2, 2).base_offset == 2
    assert log.size_bytes == size and log.next_offset == 5


def test_only_the_last_five_batches_are_remembered_for_duplicates(tmp_path):
    log = open_log(tmp_path)
    for seq in range(6):
        produce(log, seq)
    assert produce(log, 1).base_offset == 1
    assert produce(log, 0).error == ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER


def test_a_sequence_gap_is_out_of_order(tmp_path):
    log = open_log(tmp_path)
    produce(log, 0)
    assert produce(log, 2).error == ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER
    assert log.next_offset == 1


def test_an_older_epoch_is_fenced(tmp_path):
    log = open_log(tmp_path)
    produce(log, 0, epoch=3)
    assert produce(log, 1, epoch=2).error == ErrorCode.INVALID_PRODUCER_EPOCH


def test_a_new_epoch_must_start_at_sequence_zero(tmp_path):
    log = open_log(tmp_path)
    produce(log, 0, 5)
    assert produce(log, 5, epoch=1).error == ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER
    assert produce(log, 0, epoch=1).error == ErrorCode.NONE


def test_an_unknown_producer_may_start_at_any_sequence(tmp_path):
    log = open_log(tmp_path)
    assert produce(log, 4711).error == ErrorCode.NONE
    assert produce(log, 4712).error == ErrorCode.NONE


def test_sequence_wraps_from_int32_max_to_zero(tmp_path):
    log = open_log(tmp_path)
    produce(log, 2**31 - 2, 2)
    assert produce(log, 0).error == ErrorCode.NONE


def test_a_rejected_batch_in_a_multi_batch_append_rejects_all(tmp_path):
    log = open_log(tmp_path)
    good = batch(1, producer_id=PID, producer_epoch=0, base_sequence=0)
    gap = batch(1, producer_id=PID, producer_epoch=0, base_sequence=5)
    assert log.append(good + gap, now_ms=0).error == ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER
    assert log.next_offset == 0 and log.producers_info() == []
    two = good + batch(1, producer_id=PID, producer_epoch=0, base_sequence=1)
    assert log.append(two, now_ms=0).error == ErrorCode.NONE and log.next_offset == 2


def test_non_idempotent_batches_skip_producer_checks(tmp_path):
    log = open_log(tmp_path)
    fill(log, 3)
    assert log.producers_info() == []


def test_open_transaction_holds_the_lso_and_commit_releases_it(tmp_path):
    log = open_log(tmp_path)
    fill(log, 2)
    produce(log, 0, 2, txn=True)
    fill(log, 1)
    assert (log.high_watermark, log.last_stable_offset) == (5, 2)
    assert log.producers_info()[0].current_txn_start_offset == 2
    committed = log.read(0, 1 << 20, isolation_committed=True)
    assert offsets_in(committed.chunks) == [0, 1] and committed.last_stable_offset == 2
    marker = log.append_control(PID, 0, True, coordinator_epoch=1, now_ms=5)
    assert marker.base_offset == 5 and log.last_stable_offset == log.high_watermark == 6
    assert offsets_in(read_all(log, 0, committed=True).chunks) == [0, 1, 2, 4, 5]
    _, view = split_batches(read_all(log, 5).chunks[0])[0]
    assert control_type(view) == 1


def test_non_transactional_batch_during_open_txn_is_invalid_txn_state(tmp_path):
    log = open_log(tmp_path)
    produce(log, 0, txn=True)
    assert produce(log, 1).error == ErrorCode.INVALID_TXN_STATE


def test_abort_is_indexed_and_reported_to_overlapping_committed_reads(tmp_path):
    log = open_log(tmp_path)
    fill(log, 1)                                           # 0
    produce(log, 0, 2, txn=True)                           # 1-2
    produce(log, 0, pid=7, txn=True)                       # 3
    log.append_control(PID, 0, False, 1, now_ms=0)         # 4 abort
    log.append_control(7, 0, True, 1, now_ms=0)            # 5 commit
    fill(log, 1)                                           # 6
    assert log.segments[-1].txn_index.entries == [(PID, 1, 4, 3)]  # pid 7 still open at 3
    assert read_all(log, 0, committed=True).aborted == [(PID, 1)]
    assert read_all(log, 4, committed=True).aborted == [(PID, 1)]
    assert read_all(log, 5, committed=True).aborted == []
    assert log.read(0, 1, isolation_committed=True).aborted == []  # upper bound 1 <= first offset
    assert read_all(log, 0, committed=False).aborted == []


def test_marker_for_an_empty_transaction_is_not_indexed(tmp_path):
    log = open_log(tmp_path)
    log.append_control(PID, 0, False, 1, now_ms=0)
    assert log.segments[-1].txn_index.entries == [] and log.next_offset == 1


def test_marker_with_an_older_coordinator_epoch_is_fenced(tmp_path):
    log = open_log(tmp_path)
    produce(log, 0, txn=True)
    log.append_control(PID, 0, True, coordinator_epoch=5, now_ms=0)
    assert log.append_control(PID, 0, True, coordinator_epoch=4, now_ms=0).error == \
        ErrorCode.TRANSACTION_COORDINATOR_FENCED


def test_marker_with_a_higher_epoch_bumps_the_producer_epoch(tmp_path):
    log = open_log(tmp_path)
    produce(log, 0, 3, txn=True)
    log.append_control(PID, 1, False, coordinator_epoch=0, now_ms=0)
    assert log.producers_info()[0].epoch == 1
    assert produce(log, 3, txn=True).error == ErrorCode.INVALID_PRODUCER_EPOCH
    assert produce(log, 3, epoch=1, txn=True).error == ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER
    assert produce(log, 0, epoch=1, txn=True).error == ErrorCode.NONE


def test_committed_read_stops_before_the_lso_even_with_budget_left(tmp_path):
    log = open_log(tmp_path, segment_bytes=1024)
    fill(log, 20)
    produce(log, 0, txn=True)
    fill(log, 20)
    result = read_all(log, 0, committed=True)
    assert offsets_in(result.chunks) == list(range(20))
    assert read_all(log, 20, committed=True).chunks == []


def test_a_failed_write_advances_nothing_and_the_retry_is_not_a_duplicate(tmp_path, monkeypatch):
    from kafkette.storage import segment as segment_module

    log = open_log(tmp_path)
    produce(log, 0)
    real_write = segment_module.write_all

    def disk_full(fd, data):
        real_write(fd, bytes(data)[:10])  # a partial write, then the error
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(segment_module, "write_all", disk_full)
    assert produce(log, 1).error == ErrorCode.KAFKA_STORAGE_ERROR
    assert log.next_offset == 1 and log.producers_info()[0].last_sequence == 0
    monkeypatch.setattr(segment_module, "write_all", real_write)
    retry = produce(log, 1)
    assert (retry.error, retry.base_offset) == (ErrorCode.NONE, 1)
    assert offsets_in(read_all(log).chunks) == [0, 1]
