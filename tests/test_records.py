"""RecordBatch v2 helpers: what the broker relies on when it touches client bytes."""

import struct

import cramjam
import pytest

from kafkette.protocol import records as rec
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.records import BatchHeader, NewRecord, RecordsError


def sample_batch(**kwargs) -> bytes:
    items = [NewRecord(b"k%d" % i, b"v%d" % i, (("h", b"x"),), 1000 + i) for i in range(3)]
    return rec.build_batch(items, timestamp_ms=1000, **kwargs)


def test_header_fields_are_parsed_from_61_bytes():
    batch = sample_batch(base_offset=7, producer_id=42, producer_epoch=3, base_sequence=10, transactional=True)
    h = BatchHeader.parse(batch)
    assert rec.HEADER_SIZE == 61
    assert (h.base_offset, h.magic, h.record_count, h.last_offset_delta) == (7, 2, 3, 2)
    assert (h.last_offset, h.next_offset, h.size) == (9, 10, len(batch))
    assert (h.producer_id, h.producer_epoch, h.base_sequence, h.last_sequence) == (42, 3, 10, 12)
    assert h.is_transactional and not h.is_control and h.compression == rec.NONE
    assert (h.base_timestamp, h.max_timestamp) == (1000, 1002)


def test_build_then_iter_round_trips_keys_values_headers_and_timestamps():
    batch = sample_batch(base_offset=100)
    got = list(rec.iter_records(batch))
    assert [r.offset for r in got] == [100, 101, 102]
    assert [r.timestamp for r in got] == [1000, 1001, 1002]
    assert got[1].key == b"k1" and got[1].value == b"v1"
    assert got[2].headers == [("h", b"x")]


def test_null_key_and_value_survive():
    batch = rec.build_batch([(None, None)], timestamp_ms=5)
    (r,) = rec.iter_records(batch)
    assert r.key is None and r.value is None and r.timestamp == 5


def test_crc_detects_a_flipped_bit_in_the_records():
    batch = bytearray(sample_batch())
    assert rec.crc_ok(batch)
    batch[-1] ^= 1
    assert not rec.crc_ok(batch)


def test_patching_offset_and_leader_epoch_keeps_the_crc_valid():
    batch = bytearray(sample_batch())
    rec.set_base_offset(batch, 12345)
    rec.set_leader_epoch(batch, 9)
    h = BatchHeader.parse(batch)
    assert (h.base_offset, h.partition_leader_epoch) == (12345, 9)
    assert rec.crc_ok(batch)


def test_split_batches_cuts_concatenated_batches():
    a, b = sample_batch(), rec.build_batch([(b"x", b"y")], timestamp_ms=1)
    parts = rec.split_batches(a + b)
    assert [bytes(view) for _, view in parts] == [a, b]
    assert [h.record_count for h, _ in parts] == [3, 1]


def test_split_batches_rejects_truncated_batch_as_corrupt():
    with pytest.raises(RecordsError) as err:
        rec.split_batches(sample_batch()[:-1])
    assert err.value.error == ErrorCode.CORRUPT_MESSAGE
    with pytest.raises(RecordsError) as err:
        rec.split_batches(sample_batch()[:30])
    assert err.value.error == ErrorCode.CORRUPT_MESSAGE


def test_split_batches_rejects_old_message_formats():
    batch = bytearray(sample_batch())
    batch[rec.MAGIC_OFFSET] = 1
    with pytest.raises(RecordsError) as err:
        rec.split_batches(batch)
    assert err.value.error == ErrorCode.INVALID_RECORD


def test_control_batch_layout_and_type():
    commit = rec.build_control_batch(5, 2, True, coordinator_epoch=7, timestamp_ms=10)
    abort = rec.build_control_batch(5, 2, False, coordinator_epoch=7, timestamp_ms=10)
    h = BatchHeader.parse(commit)
    assert h.is_control and h.is_transactional and h.base_sequence == -1 and h.record_count == 1
    assert (h.producer_id, h.producer_epoch) == (5, 2)
    (r,) = rec.iter_records(commit)
    assert r.key == struct.pack(">hh", 0, 1) and r.value == struct.pack(">hi", 0, 7)
    assert rec.control_type(commit) == rec.COMMIT and rec.control_type(abort) == rec.ABORT
    assert rec.control_record(abort) == (rec.ABORT, 7)


@pytest.mark.parametrize("codec", [rec.GZIP, rec.SNAPPY, rec.LZ4, rec.ZSTD])
def test_compressed_batches_decode(codec):
    items = [NewRecord(b"k%d" % i, b"value-%d" % i * 20, (), 50 + i) for i in range(10)]
    batch = rec.build_batch(items, timestamp_ms=50, compression=codec, base_offset=3)
    h = BatchHeader.parse(batch)
    assert h.compression == codec and rec.crc_ok(batch)
    got = list(rec.iter_records(batch))
    assert [r.offset for r in got] == list(range(3, 13))
    assert got[9].value == b"value-9" * 20 and got[9].timestamp == 59


def test_xerial_framed_snappy_decodes():
    plain = sample_batch()
    body = plain[rec.HEADER_SIZE:]
    blocks = [body[:20], body[20:]]
    framed = b"\x82SNAPPY\x00" + struct.pack(">ii", 1, 1)
    for block in blocks:
        raw = bytes(cramjam.snappy.compress_raw(block))
        framed += struct.pack(">i", len(raw)) + raw
    h = BatchHeader.parse(plain)
    batch = rec.assemble_batch(
        framed, attributes=rec.SNAPPY, base_offset=0, last_offset_delta=h.last_offset_delta,
        base_timestamp=h.base_timestamp, max_timestamp=h.max_timestamp, producer_id=-1,
        producer_epoch=-1, base_sequence=-1, record_count=h.record_count,
    )
    assert [r.value for r in rec.iter_records(batch)] == [b"v0", b"v1", b"v2"]


def test_log_append_time_batches_report_the_max_timestamp_for_every_record():
    batch = bytearray(sample_batch())
    struct.pack_into(">h", batch, 21, rec.TIMESTAMP_TYPE_BIT)
    assert {r.timestamp for r in rec.iter_records(batch)} == {1002}


def test_sequence_wraps_at_int32_max():
    assert rec.add_sequence(2**31 - 1, 1) == 0
    assert rec.add_sequence(2**31 - 2, 3) == 1
