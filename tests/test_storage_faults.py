"""Storage faults: a full disk, damaged metadata, a damaged checkpoint, damaged batches.

A full disk is simulated in-process by monkeypatching, or in a broker process started through a
launcher that makes every write and fsync of a regular file fail with ENOSPC while a flag file exists.
"""

from __future__ import annotations

import errno
import shutil
import sys
import time
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from kafkette.local_broker import LocalBroker
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages import DELETE_TOPICS, FETCH, METADATA
from kafkette.protocol.records import HEADER_SIZE, MAGIC_OFFSET
from kafkette.storage import FsyncPolicy, LogConfig, LogStore, PartitionLog, TopicError
from kafkette.storage import partition as partition_module
from kafkette.storage import store as store_module
from tests.clients import RawClient
from tests.conftest import unique
from tests.test_bounded_requests import batch_of, fetch_body, produce
from tests.test_storage_partition import fill, offsets_in, read_all

CONFIG = LogConfig(fsync=FsyncPolicy.NEVER, segment_bytes=4096, index_interval_bytes=256)

FULL_DISK_LAUNCHER = """
import errno, os, stat, sys
from pathlib import Path

flag = Path(sys.argv.pop(1))

def failing_when_full(real):
    def call(fd, *args):
        if flag.exists() and stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(fd, *args)
    return call

for name in ("write", "pwrite", "fsync"):
    setattr(os, name, failing_when_full(getattr(os, name)))
from kafkette.broker.cli import main
sys.exit(main(sys.argv[1:]))
"""


class FullDiskBroker(LocalBroker):
    """A LocalBroker whose disk is full (every file write and fsync: ENOSPC) while `full` is set; it logs
    console lines (key=value), which the tests read."""

    def __init__(self, data_dir: Path, **settings: object) -> None:
        super().__init__(data_dir, log_format="console", **settings)

    @property
    def flag(self) -> Path:
        return self.data_dir.with_name("disk-full")

    def set_full(self, full: bool) -> None:
        if full:
            self.flag.touch()
        else:
            self.flag.unlink(missing_ok=True)

    def command(self) -> list[str]:
        return [sys.executable, "-c", FULL_DISK_LAUNCHER, str(self.flag), *super().command()[3:]]


def disk_full(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def partition_dirs(data_dir: Path, topic: str) -> list[Path]:
    return [p for p in data_dir.iterdir() if p.name.startswith(topic + "-")]


def fetch(client: RawClient, topic: str, partition: int, offset: int = 0):
    response = client.request(FETCH, 12, fetch_body(topic, {partition: offset}, max_bytes=1 << 20))
    return response.responses[0].partitions[0]


# ---------------------------------------------------------------------------------------------- a full disk


def test_deleting_a_topic_on_a_full_disk_frees_its_space(tmp_path):
    with FullDiskBroker(tmp_path / "data") as broker:
        kept, doomed = broker.create_topic(unique("kept")), broker.create_topic(unique("doomed"), partitions=3)
        with RawClient(broker.bootstrap_servers) as client:
            assert produce(client, kept, {0: [batch_of(1000)] * 3}) == [0] * 3
            assert produce(client, doomed, {p: [batch_of(100_000)] for p in range(3)}) == [0] * 3
            broker.set_full(True)
            assert produce(client, kept, {0: [batch_of(1000)]}) == [ErrorCode.KAFKA_STORAGE_ERROR]
            response = client.request(DELETE_TOPICS, 5, DELETE_TOPICS.Request(topic_names=[doomed], timeout_ms=5000))
            assert response.responses[0].error_code == ErrorCode.NONE
            deadline = time.monotonic() + 10
            while any(p.name.startswith(doomed) for p in broker.data_dir.iterdir()) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert not any(p.name.startswith(doomed) for p in broker.data_dir.iterdir())
            assert fetch(client, kept, 0).error_code == 0 and fetch(client, kept, 0).high_watermark == 3
            broker.set_full(False)
            assert produce(client, kept, {0: [batch_of(1000)]}) == [0]
        broker.restart()
        with RawClient(broker.bootstrap_servers) as client:
            assert fetch(client, kept, 0).high_watermark == 4
            assert fetch(client, doomed, 0).error_code == ErrorCode.UNKNOWN_TOPIC_OR_PARTITION


def test_topic_changes_on_a_full_disk_leave_the_old_state(tmp_path, monkeypatch):
    store = LogStore(tmp_path / "data", CONFIG)
    store.open()
    topic = store.create_topic("t", 2, {"retention.ms": "1000"})
    fill(topic.partitions[0], 20)
    monkeypatch.setattr(store_module, "atomic_write", disk_full)
    monkeypatch.setattr(partition_module, "write_checkpoint", disk_full)
    for change in (lambda: store.create_topic("u", 3, {}), lambda: store.add_partitions("t", 5),
                   lambda: store.set_topic_config("t", {"retention.ms": "5"})):
        with pytest.raises(TopicError) as refused:
            change()
        assert refused.value.error == ErrorCode.KAFKA_STORAGE_ERROR
    assert topic.partitions[0].delete_records_before(10) == ErrorCode.KAFKA_STORAGE_ERROR
    assert store.topic("u") is None and len(topic.partitions) == 2 and topic.configs == {"retention.ms": "1000"}
    assert topic.partitions[0].log_start_offset == 0 and offsets_in(read_all(topic.partitions[0]).chunks)[0] == 0
    monkeypatch.undo()
    assert store.create_topic("u", 3, {}).partition_count == 3  # nothing was left half made
    store.close()
    again = LogStore(tmp_path / "data", CONFIG)
    again.open()
    assert again.topic("t").partition_count == 2 and again.topic("t").configs == {"retention.ms": "1000"}
    assert again.partition("t", 0).next_offset == 20
    again.close()


def test_a_stop_on_a_full_disk_logs_each_partition_once_and_exits_0(tmp_path):
    broker = FullDiskBroker(tmp_path / "data", fsync="never").start()
    topic = broker.create_topic(unique("full-stop"), partitions=3)
    with RawClient(broker.bootstrap_servers) as client:
        assert produce(client, topic, {p: [batch_of(1000)] * 2 for p in range(3)}) == [0] * 6
    broker.set_full(True)
    broker.stop()
    assert broker.proc.returncode == 0
    log = broker.log_path.read_text()
    assert "Traceback" not in log
    assert sorted(line.split("partition=")[1].split()[0] for line in log.splitlines()
                  if "partition not flushed at shutdown" in line) == [f"{topic}-{p}" for p in range(3)]
    broker.set_full(False)
    broker.start()
    try:
        with RawClient(broker.bootstrap_servers) as client:  # the next start recovered every write
            assert [fetch(client, topic, p).high_watermark for p in range(3)] == [2, 2, 2]
    finally:
        broker.close()


def test_directories_that_belong_to_no_topic_are_removed_at_the_next_start(tmp_path):
    store = LogStore(tmp_path / "data", CONFIG)
    store.open()
    fill(store.create_topic("gone", 2, {}).partitions[1], 5)
    fill(store.create_topic("kept", 1, {}).partitions[0], 5)
    store.close()
    (tmp_path / "data" / "__meta" / "gone.json").unlink()  # a crash right after deleting the topic's metadata
    again = LogStore(tmp_path / "data", CONFIG)
    with capture_logs() as logs:
        again.open()
    list(again.remove_deleted())
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["__meta", "kept-0"]
    assert [(e["topic"], e["partitions"]) for e in logs if e["event"].startswith("removing the files")] == \
        [("gone", [1])]
    assert again.partition("kept", 0).next_offset == 5
    again.close()


# ---------------------------------------------------------------------------------------------- damaged metadata


@pytest.mark.parametrize("damage", [b"", b"{\"name\": \"x\", garbage", b"[1, 2]"])
def test_a_damaged_topic_metadata_file_takes_only_that_topic_offline(tmp_path, damage):
    broker = LocalBroker(tmp_path / "data").start()
    try:
        broken, healthy = broker.create_topic(unique("broken"), partitions=2), broker.create_topic(unique("healthy"))
        with RawClient(broker.bootstrap_servers) as client:
            assert produce(client, broken, {0: [batch_of(100)]}) == [0]
            assert produce(client, healthy, {0: [batch_of(100)] * 2}) == [0, 0]
        broker.stop()
        (broker.data_dir / "__meta" / f"{broken}.json").write_bytes(damage)
        broker.start()
        assert f"topic offline: its metadata cannot be read" in broker.log_path.read_text()
        with RawClient(broker.bootstrap_servers) as client:
            R = METADATA.Request
            listed = client.request(METADATA, 12, R(topics=[R.MetadataRequestTopic(name=broken)],
                                                    allow_auto_topic_creation=True)).topics[0]
            assert [(p.error_code, p.leader_id) for p in listed.partitions] == \
                [(ErrorCode.LEADER_NOT_AVAILABLE, -1)]  # one partition directory was ever written
            assert produce(client, broken, {0: [batch_of(100)]}) == [ErrorCode.KAFKA_STORAGE_ERROR]
            assert fetch(client, broken, 0).error_code == ErrorCode.KAFKA_STORAGE_ERROR
            assert fetch(client, healthy, 0).high_watermark == 2  # the rest is served, its data intact
            assert produce(client, healthy, {0: [batch_of(100)]}) == [0]
            deleted = client.request(DELETE_TOPICS, 5, DELETE_TOPICS.Request(topic_names=[broken], timeout_ms=5000))
            assert deleted.responses[0].error_code == ErrorCode.NONE  # the way to free its name and files
        assert broker.create_topic(broken) == broken
    finally:
        broker.close()


def test_the_clean_shutdown_marker_is_trusted_over_a_damaged_checkpoint(tmp_path):
    log = PartitionLog.open(tmp_path / "p-0", CONFIG)
    fill(log, 60, value=b"v" * 100)
    log.close()
    segments = sorted((tmp_path / "p-0").glob("*.log"))
    assert len(segments) > 2
    (tmp_path / "p-0" / "checkpoint.json").write_bytes(b"\x00garbage")
    data = bytearray(segments[0].read_bytes())
    data[HEADER_SIZE + 80] ^= 0xFF  # one flipped byte in a record of the first segment: its CRC fails
    segments[0].write_bytes(bytes(data))
    unclean = tmp_path / "q-0"
    shutil.copytree(tmp_path / "p-0", unclean)
    with capture_logs() as logs:
        trusted = PartitionLog.open(tmp_path / "p-0", CONFIG, clean=True)
    assert trusted.next_offset == 60 and offsets_in(read_all(trusted).chunks) == list(range(60))
    assert [e["log_level"] for e in logs if e["event"] == "partition checkpoint unreadable"] == ["warning"]
    assert not [e for e in logs if "truncat" in e["event"] or "dropping" in e["event"]]
    # without the marker the same files are verified, and every cut is a warning saying what and why
    with capture_logs() as logs:
        verified = PartitionLog.open(unclean, CONFIG, clean=False)
    cut_events = ("truncating a damaged log segment", "dropping the log segments after a hole")
    cuts = [e for e in logs if e["event"] in cut_events]
    assert verified.next_offset < 60 and cuts and all(e["log_level"] == "warning" for e in cuts)
    assert cuts[0]["partition"] == "q-0" and cuts[0]["from_offset"] == verified.next_offset
    assert "fails its CRC" in cuts[0]["reason"]


def test_a_damaged_batch_header_answers_corrupt_message_instead_of_stalling(tmp_path):
    broker = LocalBroker(tmp_path / "data", segment_bytes=4096).start()
    try:
        topic = broker.create_topic(unique("damaged"))
        with RawClient(broker.bootstrap_servers) as client:
            assert produce(client, topic, {0: [batch_of(500)] * 30}) == [0] * 30
        broker.stop()
        first = sorted((broker.data_dir / f"{topic}-0").glob("*.log"))[0]  # a closed segment: not scanned at start
        data = bytearray(first.read_bytes())
        batch = int.from_bytes(data[8:12], "big") + 12
        data[batch * 2 + MAGIC_OFFSET] = 7  # the third batch's magic
        first.write_bytes(bytes(data))
        broker.start()
        with RawClient(broker.bootstrap_servers) as client:
            assert fetch(client, topic, 0, 0).error_code == ErrorCode.NONE
            assert fetch(client, topic, 0, 2).error_code == ErrorCode.CORRUPT_MESSAGE
            assert fetch(client, topic, 0, 3).error_code == ErrorCode.CORRUPT_MESSAGE
            assert fetch(client, topic, 0, 29).error_code == ErrorCode.NONE
            assert produce(client, topic, {0: [batch_of(500)]}) == [0]
        assert broker.log_path.read_text().count("damaged batch in the log") == 1
    finally:
        broker.close()
