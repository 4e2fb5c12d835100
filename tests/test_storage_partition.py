"""PartitionLog: appends, reads, indexes, segments, retention, timestamps."""

from pathlib import Path

from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.records import NewRecord, build_batch, split_batches
from kafkette.storage import FsyncPolicy, LogConfig, PartitionLog

FAST = LogConfig(fsync=FsyncPolicy.NEVER)


def batch(n: int = 1, *, ts: int = 1000, value: bytes = b"v", **kwargs) -> bytes:
    return build_batch([NewRecord(b"k%d" % i, value, (), ts + i) for i in range(n)], timestamp_ms=ts, **kwargs)


def offsets_in(chunks) -> list[int]:
    """Base offsets of the batches in a read result's chunks."""
    return [h.base_offset for h, _ in split_batches(b"".join(chunks))]


def open_log(tmp_path: Path, **config) -> PartitionLog:
    return PartitionLog.open(tmp_path / "t-0", LogConfig(fsync=FsyncPolicy.NEVER, **config))


def fill(log: PartitionLog, batches: int, records: int = 1, **kwargs) -> None:
    for i in range(batches):
        assert log.append(batch(records, **kwargs), now_ms=0).error == ErrorCode.NONE


def read_all(log: PartitionLog, offset: int = 0, committed: bool = False):
    return log.read(offset, 1 << 30, isolation_committed=committed)


def test_append_assigns_consecutive_offsets_and_advances_hwm(tmp_path):
    log = open_log(tmp_path)
    assert log.append(batch(3), now_ms=0).base_offset == 0
    assert log.append(batch(2), now_ms=0).base_offset == 3
    assert (log.next_offset, log.high_watermark, log.last_stable_offset, log.log_start_offset) == (5, 5, 5, 0)


def test_read_returns_the_batch_holding_the_offset_with_patched_offsets(tmp_path):
    log = open_log(tmp_path)
    fill(log, 3, records=3)
    result = log.read(4, 1 << 20, isolation_committed=False)
    assert result.error == ErrorCode.NONE and result.high_watermark == 9
    assert offsets_in(result.chunks) == [3, 6]


def test_multi_batch_append_writes_all_batches(tmp_path):
    log = open_log(tmp_path)
    result = log.append(batch(2) + batch(3), now_ms=0)
    assert (result.error, result.base_offset, log.next_offset) == (ErrorCode.NONE, 0, 5)
    assert offsets_in(read_all(log).chunks) == [0, 2]


def test_leader_epoch_is_stamped_on_appended_batches(tmp_path):
    log = open_log(tmp_path)
    log.append(batch(), now_ms=0, leader_epoch=7)
    (header, _), = split_batches(read_all(log).chunks[0])
    assert header.partition_leader_epoch == 7


def test_read_at_hwm_is_empty_and_past_it_is_out_of_range(tmp_path):
    log = open_log(tmp_path)
    fill(log, 2)
    assert log.read(2, 100, isolation_committed=False).chunks == []
    assert log.read(3, 100, isolation_committed=False).error == ErrorCode.OFFSET_OUT_OF_RANGE
    assert log.read(-1, 100, isolation_committed=False).error == ErrorCode.OFFSET_OUT_OF_RANGE


def test_max_bytes_returns_whole_batches_only(tmp_path):
    log = open_log(tmp_path)
    fill(log, 10)
    size = len(read_all(log, 9).chunks[0])
    result = log.read(0, size * 3 + size // 2, isolation_committed=False)
    assert offsets_in(result.chunks) == [0, 1, 2]


def test_max_bytes_fills_up_with_batches_larger_than_the_index_interval(tmp_path):
    log = open_log(tmp_path)  # every batch gets an index entry: the limit falls between two of them
    fill(log, 24, value=b"x" * 8000)
    size = len(read_all(log, 23).chunks[0])
    assert offsets_in(log.read(0, 64 * 1024, isolation_committed=False).chunks) == list(range(64 * 1024 // size))
    assert offsets_in(log.read(5, size * 2 + 10, isolation_committed=False).chunks) == [5, 6]


def test_min_one_returns_a_batch_bigger_than_max_bytes(tmp_path):
    log = open_log(tmp_path)
    log.append(batch(value=b"x" * 5000), now_ms=0)
    assert offsets_in(log.read(0, 100, isolation_committed=False).chunks) == [0]
    assert log.read(0, 100, isolation_committed=False, min_one=False).chunks == []


def test_index_lookup_finds_every_offset_among_many_batches(tmp_path):
    log = open_log(tmp_path, index_interval_bytes=256)
    fill(log, 500, records=2)
    assert len(log.segments[-1].index) > 10
    for offset in (0, 1, 2, 333, 500, 998, 999):
        result = log.read(offset, 1, isolation_committed=False)
        assert offsets_in(result.chunks) == [offset - offset % 2]


def test_segments_roll_at_segment_bytes_and_reads_cross_them(tmp_path):
    log = open_log(tmp_path, segment_bytes=1024)
    fill(log, 60)
    assert len(log.segments) > 3
    assert all(s.size <= 1024 for s in log.segments)
    bases = [s.base_offset for s in log.segments]
    assert bases == sorted(bases) and bases[0] == 0
    assert offsets_in(read_all(log).chunks) == list(range(60))
    assert sorted(p.name for p in (tmp_path / "t-0").glob("*.log"))[0] == "00000000000000000000.log"


def test_corrupt_batches_are_rejected_and_nothing_is_written(tmp_path):
    log = open_log(tmp_path)
    bad = bytearray(batch())
    bad[-1] ^= 0xFF
    assert log.append(batch() + bytes(bad), now_ms=0).error == ErrorCode.CORRUPT_MESSAGE
    assert log.append(batch()[:-3], now_ms=0).error == ErrorCode.CORRUPT_MESSAGE
    old = bytearray(batch())
    old[16] = 1
    assert log.append(bytes(old), now_ms=0).error == ErrorCode.INVALID_RECORD
    assert log.next_offset == 0 and log.segments[-1].size == 0


def test_clients_cannot_append_control_batches(tmp_path):
    log = open_log(tmp_path)
    control = build_batch([(b"\0\0\0\1", b"\0\0\0\0\0\0")], timestamp_ms=0, producer_id=1, producer_epoch=0,
                          transactional=True, control=True)
    assert log.append(control, now_ms=0).error == ErrorCode.INVALID_RECORD


def test_offset_for_timestamp_finds_the_exact_record_inside_a_batch(tmp_path):
    log = open_log(tmp_path, index_interval_bytes=100)
    log.append(build_batch([NewRecord(b"k", b"v", (), ts) for ts in (10, 20, 30, 40, 50)], timestamp_ms=10),
               now_ms=0)
    fill(log, 20, ts=100)
    assert log.offset_for_timestamp(30) == (2, 30)
    assert log.offset_for_timestamp(25) == (2, 30)
    assert log.offset_for_timestamp(0) == (0, 10)
    assert log.offset_for_timestamp(100) == (5, 100)
    assert log.offset_for_timestamp(5000) is None


def test_max_timestamp_names_the_record_that_carries_it(tmp_path):
    log = open_log(tmp_path)
    log.append(build_batch([NewRecord(b"k", b"v", (), ts) for ts in (10, 90, 30)], timestamp_ms=10), now_ms=0)
    fill(log, 2, ts=50)
    assert log.max_timestamp() == (1, 90)


def test_retention_by_time_deletes_old_segments_but_never_the_active_one(tmp_path):
    log = open_log(tmp_path, segment_bytes=1024, retention_ms=1000)
    fill(log, 30, ts=1000)
    fill(log, 30, ts=50_000)
    before = len(log.segments)
    deleted = log.enforce_retention(now_ms=51_000)
    assert deleted > 0 and len(log.segments) == before - deleted
    assert all(s.max_timestamp >= 50_000 for s in log.segments)
    assert log.log_start_offset == log.segments[0].base_offset > 0
    assert log.read(0, 100, isolation_committed=False).error == ErrorCode.OFFSET_OUT_OF_RANGE
    inactive = len(log.segments) - 1
    assert log.enforce_retention(now_ms=10**12) == inactive
    assert len(log.segments) == 1 and log.next_offset == 60


def test_retention_by_size_keeps_total_under_the_limit(tmp_path):
    log = open_log(tmp_path, segment_bytes=1024, retention_bytes=3000)
    fill(log, 100)
    log.enforce_retention(now_ms=0)
    assert log.size_bytes <= 3000 + 1024
    assert log.size_bytes - log.segments[0].size < 3000
    assert offsets_in(read_all(log, log.log_start_offset).chunks)[-1] == 99


def test_delete_records_moves_the_log_start(tmp_path):
    log = open_log(tmp_path, segment_bytes=1024)
    fill(log, 60)
    assert log.delete_records_before(45) == ErrorCode.NONE
    assert log.log_start_offset == 45
    assert log.segments[0].base_offset <= 45 < log.segments[0].next_offset
    assert log.read(44, 100, isolation_committed=False).error == ErrorCode.OFFSET_OUT_OF_RANGE
    assert offsets_in(log.read(45, 1, isolation_committed=False).chunks) == [45]
    assert log.delete_records_before(61) == ErrorCode.OFFSET_OUT_OF_RANGE


def test_appends_are_visible_to_other_readers_of_the_file_immediately(tmp_path):
    log = open_log(tmp_path)
    fill(log, 3)
    on_disk = (tmp_path / "t-0" / "00000000000000000000.log").read_bytes()
    assert [h.base_offset for h, _ in split_batches(on_disk)] == [0, 1, 2]


def test_fsync_always_still_appends(tmp_path):
    log = PartitionLog.open(tmp_path / "t-0", LogConfig(fsync=FsyncPolicy.ALWAYS))
    assert log.append(batch(), now_ms=0).error == ErrorCode.NONE
    assert log.dirty
    log.flush()
    assert not log.dirty
