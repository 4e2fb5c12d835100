"""Compression bombs, made here (zstd RLE blocks: 4 bytes per 128 KiB), neither stored nor able to hurt a lookup.

A 525 KB zstd batch that inflates to 16 GiB of zeros: Produce refuses it after
inflating its first megabyte (the first record is malformed; Kafka's
LogValidator throws INVALID_RECORD there too). A well-formed record too big to
inflate within the budget (64 x max.message.bytes) is MESSAGE_TOO_LARGE, the
code the Java producer answers by splitting its batch. Written into a stopped
broker's segment, the bomb costs ListOffsets one bounded inflation and answers
CORRUPT_MESSAGE; every earlier record is still found and served.
"""

from __future__ import annotations

from pathlib import Path

from kafkette.local_broker import LocalBroker
from kafkette.protocol.messages import LIST_OFFSETS
from kafkette.protocol.primitives import varint
from tests.batches import TS, good_batch, zstd_batch, zstd_rle_frame
from tests.clients import RawClient, create_topic, fetch_records
from tests.conftest import unique
from tests.test_produce_validation import INVALID_RECORD, MESSAGE_TOO_LARGE, assert_untouched, produce

GIB_OF_BLOCKS = 8192  # 128 KiB blocks in 1 GiB


def zero_bomb(**fields) -> bytes:
    """16 GiB of zeros claimed to be one record."""
    return zstd_batch(zstd_rle_frame(16 * GIB_OF_BLOCKS), 1, **fields)


def peak_rss_mib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) // 1024
    raise AssertionError("no VmHWM")


def list_offset(bootstrap: str, topic: str, timestamp: int) -> tuple[int, int]:
    R = LIST_OFFSETS.Request
    with RawClient(bootstrap) as raw:
        response = raw.request(LIST_OFFSETS, 7, R(replica_id=-1, isolation_level=0, topics=[R.ListOffsetsTopic(
            name=topic, partitions=[R.ListOffsetsPartition(partition_index=0, timestamp=timestamp)])]))
    part = response.topics[0].partitions[0]
    return part.error_code, part.offset


def test_produce_refuses_a_16_gib_zstd_bomb(fresh_broker):
    bootstrap = fresh_broker.bootstrap_servers
    topic = create_topic(bootstrap, unique("bomb"), 1)
    assert produce(bootstrap, topic, good_batch(3)).error_code == 0
    before = peak_rss_mib(fresh_broker.pid)
    bomb = zero_bomb()
    assert 500_000 < len(bomb) < 530_000
    part = produce(bootstrap, topic, bomb)
    assert part.error_code == INVALID_RECORD
    assert part.error_message == "record 0: a record length is negative or too short for the record's fields"
    assert peak_rss_mib(fresh_broker.pid) - before < 64
    assert_untouched(fresh_broker, topic)


def test_produce_refuses_a_record_too_big_to_inflate(fresh_broker):
    bootstrap = fresh_broker.bootstrap_servers
    topic = create_topic(bootstrap, unique("big-record"), 1)
    assert produce(bootstrap, topic, good_batch(3)).error_code == 0
    blocks = 800  # a 100 MiB value: past 64 x max.message.bytes
    value_size = blocks * (128 << 10)
    fields = b"\x00" + varint(0) + varint(0) + varint(-1) + varint(value_size)
    length = len(fields) + value_size + 1
    frame = zstd_rle_frame(blocks, prefix=varint(length) + fields, suffix=b"\x00")
    part = produce(bootstrap, topic, zstd_batch(frame, 1))
    assert part.error_code == MESSAGE_TOO_LARGE
    assert "inflates past" in part.error_message
    assert_untouched(fresh_broker, topic)


def test_a_stored_bomb_does_not_hurt_list_offsets(tmp_path):
    """The bomb goes into the segment file of a stopped broker, as a broker without validation stored it."""
    with LocalBroker(tmp_path / "data") as broker:
        topic = create_topic(broker.bootstrap_servers, unique("stored-bomb"), 1)
        assert produce(broker.bootstrap_servers, topic, good_batch(3)).error_code == 0
        broker.stop()
        segment = broker.data_dir / f"{topic}-0" / "00000000000000000000.log"
        with open(segment, "ab") as f:
            f.write(zero_bomb(base_offset=3, max_timestamp=TS + 1000))
        broker.start()
        before = peak_rss_mib(broker.pid)
        for _ in range(3):
            assert list_offset(broker.bootstrap_servers, topic, TS + 500) == (2, -1)  # CORRUPT_MESSAGE
            assert list_offset(broker.bootstrap_servers, topic, -3)[0] == 2
        assert list_offset(broker.bootstrap_servers, topic, TS) == (0, 0)
        assert list_offset(broker.bootstrap_servers, topic, -1) == (0, 4)
        assert peak_rss_mib(broker.pid) - before < 64
        data, records = fetch_records(broker.bootstrap_servers, topic, 0, 0, max_bytes=4096)
        assert [r.value for r in records] == [b"value-0", b"value-1", b"value-2"]
        assert produce(broker.bootstrap_servers, topic, good_batch(1)).base_offset == 4
        assert "Traceback" not in broker.log_path.read_text()
