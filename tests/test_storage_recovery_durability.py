"""What each --fsync policy promises, checked at the storage layer, and the crash leftovers recovery must absorb.

- Under every policy the bytes are in the file (os.write, no user-space buffer) when append returns,
  so killing the process loses nothing acknowledged; only the fsyncs differ.
- A real child process appending under each policy is SIGKILLed mid-stream: every append it reported
  is still there after reopening, and its producer's retries are still recognised.
- A crash can stop any multi-step operation half way (roll, retention, an atomic file replace, a
  marker and its index entry); reopening copes with each intermediate state.
- Start-up replays only the batch headers written since the newest producer snapshot.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.records import iter_records, split_batches
from kafkette.storage import FsyncPolicy, LogConfig, LogStore, PartitionLog
from kafkette.storage import partition as partition_module
from kafkette.storage import segment as segment_module
from kafkette.storage import store as store_module
from tests.test_storage_partition import batch, fill, offsets_in, read_all
from tests.test_storage_producers import PID, produce

ROOT = Path(__file__).resolve().parent.parent
POLICIES = list(FsyncPolicy)


def open_with(path: Path, policy: FsyncPolicy = FsyncPolicy.NEVER, **config) -> PartitionLog:
    return PartitionLog.open(path, LogConfig(fsync=policy, **config))


def crash_copy(tmp_path: Path, log: PartitionLog, name: str = "crashed-0") -> Path:
    """The files as a kill -9 leaves them: no close, no flush."""
    target = tmp_path / name
    shutil.copytree(log.directory, target)
    return target


class FsyncSpy:
    def __init__(self, monkeypatch) -> None:
        self.calls = 0
        real = os.fsync

        def fsync(fd: int) -> None:
            self.calls += 1
            real(fd)

        monkeypatch.setattr(os, "fsync", fsync)


# ---------------------------------------------------------------------------------------------- what each policy does


@pytest.mark.parametrize("policy", POLICIES)
def test_every_policy_hands_the_bytes_to_the_os_before_append_returns(tmp_path, policy):
    log = open_with(tmp_path / "p", policy)
    data = batch(3, value=b"acknowledged")
    result = log.append(data, now_ms=0)
    assert result.error == ErrorCode.NONE
    with open(log.segments[-1].path, "rb") as other:  # another process sees the kernel's copy
        on_file = other.read()
    assert len(on_file) == len(data) and on_file[61:] == data[61:]


def test_always_fsyncs_the_segment_before_append_returns(tmp_path, monkeypatch):
    log = open_with(tmp_path / "p", FsyncPolicy.ALWAYS)
    spy = FsyncSpy(monkeypatch)
    log.append(batch(), now_ms=0)
    assert spy.calls >= 1


@pytest.mark.parametrize("policy", [FsyncPolicy.INTERVAL, FsyncPolicy.NEVER])
def test_interval_and_never_do_not_fsync_on_append(tmp_path, monkeypatch, policy):
    log = open_with(tmp_path / "p", policy)
    spy = FsyncSpy(monkeypatch)
    fill(log, 20)
    assert spy.calls == 0


def test_interval_fsyncs_at_flush_and_at_roll(tmp_path, monkeypatch):
    log = open_with(tmp_path / "p", FsyncPolicy.INTERVAL, segment_bytes=1024)
    fill(log, 3)
    spy = FsyncSpy(monkeypatch)
    log.flush()
    assert spy.calls >= 1
    spy.calls = 0
    fill(log, 20)  # rolls
    assert len(log.segments) > 1 and spy.calls >= 1


def test_never_does_not_fsync_at_roll_but_does_at_a_clean_close(tmp_path, monkeypatch):
    log = open_with(tmp_path / "p", FsyncPolicy.NEVER, segment_bytes=1024)
    spy = FsyncSpy(monkeypatch)
    fill(log, 40)
    assert len(log.segments) > 1 and spy.calls == 0
    log.close()
    assert spy.calls >= 1


@pytest.mark.parametrize("policy", POLICIES)
def test_a_new_partition_directory_is_fsynced_into_its_parent_with_its_first_data(tmp_path, monkeypatch, policy):
    synced: list[Path] = []
    real = partition_module.fsync_dir
    monkeypatch.setattr(partition_module, "fsync_dir", lambda path: synced.append(path) or real(path))
    log = open_with(tmp_path / "topic-0", policy)
    assert not log.directory.exists() and synced == []  # nothing on disk before the first append
    fill(log, 1)
    if policy is not FsyncPolicy.ALWAYS:
        assert synced == []
        log.flush()
    assert tmp_path in synced


# ---------------------------------------------------------------------------------------------- a real kill -9

CHILD = """
import sys
from pathlib import Path
from kafkette.protocol.records import build_batch
from kafkette.storage import FsyncPolicy, LogConfig, PartitionLog

log = PartitionLog.open(Path(sys.argv[1]), LogConfig(fsync=FsyncPolicy(sys.argv[2]), segment_bytes=4096,
                                                index_interval_bytes=512))
print("ready", flush=True)
seq = 0
while True:
    data = build_batch([(None, b"v%d" % (seq + i)) for i in range(4)], timestamp_ms=1000, producer_id=7,
                       producer_epoch=0, base_sequence=seq)
    result = log.append(data, now_ms=0)
    assert result.error == 0, result
    print(seq, result.base_offset, flush=True)
    seq += 4
"""


@pytest.mark.parametrize("policy", POLICIES)
def test_a_process_killed_mid_append_loses_no_acknowledged_batch(tmp_path, policy):
    directory = tmp_path / "p"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(directory), policy.value], cwd=ROOT,
                             env=dict(os.environ, PYTHONPATH=str(ROOT)), stdout=subprocess.PIPE, text=True)
    acked: list[tuple[int, int]] = []
    try:
        assert child.stdout.readline().strip() == "ready"
        while len(acked) < 400:  # several segment rolls; the child keeps appending while it is killed
            line = child.stdout.readline()
            assert line, "the child died"
            seq, offset = map(int, line.split())
            acked.append((seq, offset))
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait(10)
    log = open_with(directory, policy)
    assert len(log.segments) > 3
    values = {r.offset: r.value for h, b in split_batches(b"".join(read_all(log).chunks)) for r in iter_records(b)}
    for seq, offset in acked:
        assert [values.get(offset + i) for i in range(4)] == [b"v%d" % (seq + i) for i in range(4)]
    last_seq = (log.next_offset // 4 - 1) * 4  # the child may have written more than it reported
    for seq in range(max(last_seq - 16, 0), last_seq + 1, 4):  # the five batches the broker remembers
        retry = produce(log, seq, 4, pid=7)
        assert (retry.error, retry.base_offset) == (ErrorCode.NONE, seq)
    assert log.next_offset == last_seq + 4
    assert produce(log, last_seq + 4, 4, pid=7).base_offset == last_seq + 4


# ---------------------------------------------------------------------------------------------- producer snapshots


def test_a_clean_reopen_replays_no_batch_headers_even_without_producers(tmp_path, monkeypatch):
    log = open_with(tmp_path / "p", segment_bytes=4096)
    fill(log, 200)  # no producer ids: the producer state never changes
    log.close()
    walked = []
    real = segment_module.Segment.iter_batches
    monkeypatch.setattr(segment_module.Segment, "iter_batches",
                        lambda self, *a, **k: walked.append(self.base_offset) or real(self, *a, **k))
    again = open_with(tmp_path / "p", segment_bytes=4096)
    assert again.next_offset == 200 and again.producers.snapshot_offset == 200
    assert walked == [again.segments[-1].base_offset]  # only the tail of the active segment, for its index


def test_a_reopen_of_an_old_directory_writes_the_snapshot_it_lacked(tmp_path):
    log = open_with(tmp_path / "p")
    fill(log, 50)
    log.close()
    for snapshot in (tmp_path / "p").glob("*.snapshot"):
        snapshot.unlink()
    open_with(tmp_path / "p")
    assert (tmp_path / "p" / f"{50:020d}.snapshot").exists()


def test_a_lagging_snapshot_is_written_during_appends_and_bounds_the_replay(tmp_path, monkeypatch):
    monkeypatch.setattr(partition_module, "SNAPSHOT_LAG_BYTES", 2000)
    log = open_with(tmp_path / "p")
    for seq in range(0, 60, 2):
        produce(log, seq, 2)
    snapshots = sorted(int(p.stem) for p in (tmp_path / "p").glob("*.snapshot"))
    assert snapshots and snapshots[-1] > 40  # no flush happened: these came from the lag rule
    crashed = crash_copy(tmp_path, log)
    again = open_with(crashed)
    assert again.producers_info()[0].last_sequence == 59
    retry = produce(again, 58, 2)
    assert (retry.error, retry.base_offset) == (ErrorCode.NONE, 58)


def test_a_torn_newest_snapshot_falls_back_to_the_older_one(tmp_path):
    log = open_with(tmp_path / "p")
    produce(log, 0, 2)
    log.flush()  # snapshot at 2
    produce(log, 2, 2)
    log.flush()  # snapshot at 4
    produce(log, 4, 2)
    crashed = crash_copy(tmp_path, log)
    newest = crashed / f"{4:020d}.snapshot"
    newest.write_bytes(newest.read_bytes()[:10])
    again = open_with(crashed)
    for seq in (2, 4):
        assert produce(again, seq, 2).base_offset == seq  # duplicates, known from the replay
    assert produce(again, 7).error == ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER


# ---------------------------------------------------------------------------------------------- half-done operations


def test_leftovers_of_an_interrupted_atomic_replace_are_ignored(tmp_path):
    log = open_with(tmp_path / "p")
    produce(log, 0, 2)
    log.flush()
    produce(log, 2, 2)
    crashed = crash_copy(tmp_path, log)
    (crashed / "checkpoint.json.tmp").write_bytes(b'{"log_start_offset": 9')
    (crashed / f"{4:020d}.snapshot.tmp").write_bytes(b"{")
    again = open_with(crashed)
    assert (again.next_offset, again.log_start_offset) == (4, 0)
    assert produce(again, 2, 2).base_offset == 2


def test_a_crash_right_after_a_roll_created_the_new_segment(tmp_path):
    log = open_with(tmp_path / "p", segment_bytes=1024)
    fill(log, 6)
    crashed = crash_copy(tmp_path, log)
    active = sorted(crashed.glob("*.log"))[-1]
    next_base = log.next_offset
    (crashed / f"{next_base:020d}.log").touch()  # created, nothing written yet
    again = open_with(crashed, segment_bytes=1024)
    assert again.next_offset == next_base and again.segments[-1].base_offset == next_base
    assert again.append(batch(), now_ms=0).base_offset == next_base
    assert offsets_in(read_all(again).chunks) == list(range(next_base + 1))
    assert active.exists()


def test_a_crash_in_the_middle_of_retention_leaves_no_ghost_segment(tmp_path):
    """Segment.delete unlinks the .log first: its index files may be left behind, and the checkpoint stale."""
    log = open_with(tmp_path / "p", segment_bytes=1024)
    fill(log, 40)
    log.flush()
    first, second = log.segments[0], log.segments[1]
    crashed = crash_copy(tmp_path, log)
    (crashed / first.path.name).unlink()  # the crash came before the index files and the checkpoint
    again = open_with(crashed, segment_bytes=1024)
    assert again.log_start_offset == second.base_offset
    assert offsets_in(read_all(again, second.base_offset).chunks) == list(range(second.base_offset, 40))
    assert again.read(0, 100, isolation_committed=False).error == ErrorCode.OFFSET_OUT_OF_RANGE


def test_index_entries_pointing_past_the_surviving_log_are_dropped(tmp_path):
    log = open_with(tmp_path / "p", index_interval_bytes=64)
    fill(log, 30, records=2)
    log.flush()
    fill(log, 30, records=2)
    log.segments[-1].index.write_pending()
    crashed = crash_copy(tmp_path, log)
    path = sorted(crashed.glob("*.log"))[-1]
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2 + 7])  # the tail never reached the disk
    again = open_with(crashed, index_interval_bytes=64)
    end = again.next_offset
    assert 60 <= end < 120
    assert max(again.segments[-1].index.values) < again.segments[-1].size
    for offset in range(0, end, 7):
        assert offsets_in(again.read(offset, 1, isolation_committed=False).chunks) == [offset - offset % 2]
    assert again.append(batch(), now_ms=0).base_offset == end


def test_a_torn_abort_marker_leaves_the_transaction_open(tmp_path):
    log = open_with(tmp_path / "p")
    fill(log, 2)
    produce(log, 0, 2, txn=True)  # 2-3
    log.flush()
    log.append_control(PID, 0, False, 0, now_ms=0)  # marker at 4
    crashed = crash_copy(tmp_path, log)
    path = sorted(crashed.glob("*.log"))[-1]
    path.write_bytes(path.read_bytes()[:-5])
    for index in crashed.glob("*.txnindex"):
        index.write_bytes(b"")  # the entry came after the marker: it cannot be there either
    again = open_with(crashed)
    assert (again.high_watermark, again.last_stable_offset) == (4, 2)
    assert read_all(again, committed=True).aborted == []
    again.append_control(PID, 0, False, 0, now_ms=0)  # the coordinator writes it again
    assert (again.high_watermark, again.last_stable_offset) == (5, 5)
    assert read_all(again, committed=True).aborted == [(PID, 2)]


def test_a_torn_txn_index_entry_is_rebuilt_from_its_marker(tmp_path):
    log = open_with(tmp_path / "p")
    produce(log, 0, 2, txn=True)
    log.flush()
    log.append_control(PID, 0, False, 0, now_ms=0)
    fill(log, 1)
    crashed = crash_copy(tmp_path, log)
    index = next(crashed.glob("*.txnindex"))
    index.write_bytes(index.read_bytes()[:20])
    again = open_with(crashed)
    assert read_all(again, committed=True).aborted == [(PID, 0)]
    assert again.last_stable_offset == again.high_watermark == 4


def test_a_new_data_directory_is_fsynced_into_its_parent(tmp_path, monkeypatch):
    synced: list[Path] = []
    real = store_module.fsync_dir
    monkeypatch.setattr(store_module, "fsync_dir", lambda path: synced.append(path) or real(path))
    LogStore(tmp_path / "data", LogConfig()).open()
    assert {tmp_path, tmp_path / "data"} <= set(synced)


def test_log_append_time_batches_carry_a_crc_that_recovery_accepts(tmp_path):
    """The broker rewrites attributes and max timestamp of LogAppendTime batches: the CRC must follow,
    or the next crash recovery would truncate every such batch as corrupt."""
    log = open_with(tmp_path / "p", log_append_time=True)
    result = log.append(batch(3, ts=1000), now_ms=5_000_000)
    assert result.log_append_time == 5_000_000
    fill(log, 2)
    crashed = crash_copy(tmp_path, log)
    (crashed / "checkpoint.json").unlink(missing_ok=True)  # verify every byte again
    again = open_with(crashed, log_append_time=True)
    assert again.next_offset == 5
    (header, data), *_ = split_batches(b"".join(read_all(again).chunks))
    assert header.is_log_append_time and header.max_timestamp == 5_000_000
    assert [r.timestamp for r in iter_records(data)] == [5_000_000] * 3
