"""Reopening a partition after a clean close or a crash (kill -9 at any moment)."""

import os
import shutil

import pytest

from kafkette.protocol.errors import ErrorCode
from kafkette.storage import FsyncPolicy, LogConfig, PartitionLog
from kafkette.storage import segment as segment_module
from tests.test_storage_partition import batch, fill, offsets_in, read_all
from tests.test_storage_producers import PID, produce

CONFIG = LogConfig(fsync=FsyncPolicy.NEVER, segment_bytes=4096, index_interval_bytes=256)


def open_at(path) -> PartitionLog:
    return PartitionLog.open(path, CONFIG)


def crash_copy(tmp_path, log: PartitionLog):
    """What a kill -9 leaves: the files as they are now, no close, no flush."""
    target = tmp_path / "crashed-0"
    shutil.copytree(log.directory, target)
    return target


def log_file(directory, base=0):
    return directory / f"{base:020d}.log"


def last_segment_log(directory):
    return sorted(directory.glob("*.log"))[-1]


def test_clean_reopen_restores_offsets_producers_and_log_start(tmp_path):
    log = open_at(tmp_path / "p")
    fill(log, 50)
    produce(log, 0, 2)
    log.delete_records_before(10)
    log.close()
    again = open_at(tmp_path / "p")
    assert (again.next_offset, again.log_start_offset) == (52, 10)
    assert again.producers_info()[0].last_sequence == 1
    assert offsets_in(read_all(again, 10).chunks) == list(range(10, 51))
    assert again.append(batch(), now_ms=0).base_offset == 52


def test_clean_reopen_does_not_crc_scan_the_log(tmp_path, monkeypatch):
    log = open_at(tmp_path / "p")
    fill(log, 200, records=5)
    log.close()
    calls = []
    monkeypatch.setattr(segment_module, "crc32c", lambda data: calls.append(len(data)) or 0)
    again = open_at(tmp_path / "p")
    assert again.next_offset == 1000 and calls == []


def test_torn_last_batch_is_truncated_and_appends_continue(tmp_path):
    log = open_at(tmp_path / "p")
    fill(log, 10)
    log.flush()
    fill(log, 5)
    crashed = crash_copy(tmp_path, log)
    path = last_segment_log(crashed)
    good_size = path.stat().st_size
    with open(path, "ab") as f:
        f.write(batch(3)[:40])
    again = open_at(crashed)
    assert again.next_offset == 15 and path.stat().st_size == good_size
    assert again.append(batch(), now_ms=0).base_offset == 15
    assert offsets_in(read_all(again).chunks) == list(range(16))


def test_a_bit_flip_in_the_unflushed_tail_truncates_from_that_batch(tmp_path):
    log = open_at(tmp_path / "p")
    fill(log, 10)
    log.flush()
    fill(log, 5)
    crashed = crash_copy(tmp_path, log)
    path = last_segment_log(crashed)
    data = bytearray(path.read_bytes())
    data[-30] ^= 0x40  # inside the last batch
    path.write_bytes(bytes(data))
    again = open_at(crashed)
    assert again.next_offset == 14


def test_log_without_any_checkpoint_is_fully_verified(tmp_path):
    log = open_at(tmp_path / "p")
    fill(log, 40)
    crashed = crash_copy(tmp_path, log)
    (crashed / "checkpoint.json").unlink(missing_ok=True)  # a new partition writes none before its first flush
    assert open_at(crashed).next_offset == 40


def test_corrupt_index_files_are_rebuilt(tmp_path):
    log = open_at(tmp_path / "p")
    fill(log, 30, records=2)
    entries = len(log.segments[-1].index)
    assert entries > 3
    log.close()
    index = tmp_path / "p" / "00000000000000000000.index"
    index.write_bytes(os.urandom(8 * entries))
    (tmp_path / "p" / "00000000000000000000.timeindex").write_bytes(b"\x01\x02\x03")
    again = open_at(tmp_path / "p")
    assert len(again.segments[0].index) == entries
    for offset in (0, 17, 59):
        assert offsets_in(again.read(offset, 1, isolation_committed=False).chunks) == [offset - offset % 2]


def test_truncated_and_missing_index_files_are_rebuilt(tmp_path):
    log = open_at(tmp_path / "p")
    fill(log, 30, records=2)
    entries = len(log.segments[-1].index)
    log.close()
    index = tmp_path / "p" / "00000000000000000000.index"
    index.write_bytes(index.read_bytes()[:11])
    again = open_at(tmp_path / "p")
    assert len(again.segments[0].index) == entries
    again.close()
    index.unlink()
    assert len(open_at(tmp_path / "p").segments[0].index) == entries


def test_crash_between_batch_write_and_index_write(tmp_path):
    log = open_at(tmp_path / "p")
    fill(log, 30, records=2)
    log.flush()  # the index entries reach the file
    entries = len(log.segments[-1].index)
    crashed = crash_copy(tmp_path, log)
    index = crashed / "00000000000000000000.index"
    index.write_bytes(index.read_bytes()[:-8])  # the last entry never made it
    again = open_at(crashed)
    assert len(again.segments[-1].index) == entries
    assert offsets_in(again.read(58, 1, isolation_committed=False).chunks) == [58]


def test_old_segments_with_damaged_indexes_are_rebuilt_when_first_read(tmp_path):
    log = open_at(tmp_path / "p")
    fill(log, 200)
    assert len(log.segments) > 2
    log.close()
    (tmp_path / "p" / "00000000000000000000.index").write_bytes(b"\xff" * 16)
    again = open_at(tmp_path / "p")
    assert offsets_in(again.read(5, 1, isolation_committed=False).chunks) == [5]


def test_producer_state_survives_an_unclean_shutdown(tmp_path):
    log = open_at(tmp_path / "p")
    for seq in range(0, 10, 2):
        produce(log, seq, 2)
    log.flush()  # snapshot at offset 10
    produce(log, 10, 2)
    produce(log, 12, 2)  # these two only in the log
    again = open_at(crash_copy(tmp_path, log))
    retry = produce(again, 12, 2)
    assert (retry.error, retry.base_offset) == (ErrorCode.NONE, 12)
    assert produce(again, 15).error == ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER
    assert produce(again, 14).base_offset == 14


def test_producer_state_is_rebuilt_from_the_log_without_any_snapshot(tmp_path):
    log = open_at(tmp_path / "p")
    produce(log, 0, 2, epoch=3)
    produce(log, 2, 2, epoch=3)
    crashed = crash_copy(tmp_path, log)
    for snapshot in crashed.glob("*.snapshot"):
        snapshot.unlink()
    again = open_at(crashed)
    assert produce(again, 2, 2, epoch=3).base_offset == 2  # duplicate
    assert produce(again, 0, epoch=2).error == ErrorCode.INVALID_PRODUCER_EPOCH


def test_open_transaction_and_lso_come_back_after_a_crash(tmp_path):
    log = open_at(tmp_path / "p")
    fill(log, 3)
    produce(log, 0, 2, txn=True)  # 3-4 open
    log.flush()
    fill(log, 2)
    again = open_at(crash_copy(tmp_path, log))
    assert (again.high_watermark, again.last_stable_offset) == (7, 3)
    assert again.producers_info()[0].current_txn_start_offset == 3
    again.append_control(PID, 0, True, 0, now_ms=0)
    assert again.last_stable_offset == again.high_watermark == 8


def test_aborted_transactions_are_reindexed_when_the_txn_index_was_lost(tmp_path):
    log = open_at(tmp_path / "p")
    fill(log, 2)
    produce(log, 0, 2, txn=True)
    log.append_control(PID, 0, False, 0, now_ms=0)
    fill(log, 1)
    crashed = crash_copy(tmp_path, log)
    for path in list(crashed.glob("*.txnindex")) + list(crashed.glob("*.snapshot")):
        path.unlink()
    (crashed / "checkpoint.json").unlink(missing_ok=True)
    again = open_at(crashed)
    assert read_all(again, 0, committed=True).aborted == [(PID, 2)]
    assert again.last_stable_offset == again.high_watermark == 6


def test_snapshot_newer_than_the_surviving_log_is_ignored(tmp_path):
    log = open_at(tmp_path / "p")
    produce(log, 0)
    log.flush()
    produce(log, 1)
    log.flush()  # snapshot at offset 2
    crashed = crash_copy(tmp_path, log)
    path = log_file(crashed)
    path.write_bytes(path.read_bytes()[: len(batch()) + 5])  # the second batch is torn
    (crashed / "checkpoint.json").unlink(missing_ok=True)
    again = open_at(crashed)
    assert again.next_offset == 1
    assert not (crashed / f"{2:020d}.snapshot").exists()
    assert produce(again, 1).base_offset == 1  # seq 1 is new again, not a duplicate


BATCH_SIZE = len(batch(3))


@pytest.mark.parametrize("cut", [1, 12, 61, BATCH_SIZE, BATCH_SIZE + 1])
def test_any_cut_of_the_tail_recovers_to_a_batch_boundary(tmp_path, cut):
    log = open_at(tmp_path / "p")
    fill(log, 20, records=3)
    crashed = crash_copy(tmp_path, log)
    path = last_segment_log(crashed)
    path.write_bytes(path.read_bytes()[:-cut])
    again = open_at(crashed)
    survivors = 57 if cut <= BATCH_SIZE else 54
    assert again.next_offset == survivors
    assert again.append(batch(), now_ms=0).base_offset == survivors


def test_replaying_old_segments_does_not_duplicate_their_aborted_entries(tmp_path):
    log = open_at(tmp_path / "p")
    produce(log, 0, 2, txn=True)
    log.append_control(PID, 0, False, 0, now_ms=0)
    fill(log, 200)
    log.close()
    assert len(log.segments) > 3
    for snapshot in (tmp_path / "p").glob("*.snapshot"):
        snapshot.unlink()  # forces a replay from the first, trusted segment
    again = open_at(tmp_path / "p")
    assert read_all(again, 0, committed=True).aborted == [(PID, 0)]
    assert again.segments[0].txn_index.entries == [(PID, 0, 2, 3)]


def test_segment_max_timestamps_survive_reopen_so_retention_still_works(tmp_path):
    log = open_at(tmp_path / "p")
    for i in range(120):
        log.append(batch(ts=1000 * i), now_ms=0)
    before = [(s.base_offset, s.max_timestamp) for s in log.segments]
    log.close()
    again = open_at(tmp_path / "p")
    assert [(s.base_offset, s.max_timestamp) for s in again.segments] == before
    again.segments[0].ensure_indexes()  # a lazy index load must not lose the sealed entry
    again.close()
    assert [(s.base_offset, s.max_timestamp) for s in open_at(tmp_path / "p").segments] == before
