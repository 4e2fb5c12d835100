"""The record walker compiled (Cython, when the build had a compiler) and interpreted agree on every input,
and its one-call verdict on a batch (`check_batch`) never answers other than the full validation would."""

from __future__ import annotations

import importlib.util
import shutil
import sysconfig
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kafkette.protocol import record_scan
from kafkette.protocol.records import HEADER_SIZE, LZ4, NONE, ZSTD, NewRecord, build_batch
from kafkette.protocol.validation import NO_LIMIT, Rejected, TopicRules, _review, frame_batch, validate_batch
from tests.batches import TS, record, with_crc

SOURCE = Path(__file__).parent.parent / "protocol" / "record_scan.py"


def interpreted():
    spec = importlib.util.spec_from_file_location("record_scan_interpreted", SOURCE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


scan_interpreted = interpreted().scan_records
check_interpreted = interpreted().check_batch


def test_the_installed_walker_is_compiled():
    """A build without a compiler falls back silently; where there is one, the walker must have been compiled."""
    compiler = (sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(compiler) is None:
        pytest.skip(f"no C compiler ({compiler}): the interpreted walker is the one in use")
    assert not record_scan.__file__.endswith(".py"), "protocol/record_scan.py is not compiled: run `make test` again"


def test_a_valid_body_walks_to_its_end():
    batch = build_batch([(b"k", b"v", (("h", b"1"), ("n", None))), (None, b"", (), TS + 9)], timestamp_ms=TS)
    expected = (record_scan.OK, len(batch), 2, 0, 9, 1)
    assert record_scan.scan_records(batch, HEADER_SIZE, len(batch), 0, 2, True) == expected
    assert scan_interpreted(batch, HEADER_SIZE, len(batch), 0, 2, True) == expected


def test_an_incomplete_record_waits_unless_final():
    body = record(0) + record(1)[:-2]
    assert record_scan.scan_records(body, 0, len(body), 0, 2, False)[:3] == (record_scan.OK, len(record(0)), 1)
    assert record_scan.scan_records(body, 0, len(body), 0, 2, True)[:3] == (record_scan.TRUNCATED, len(record(0)), 1)


@settings(max_examples=2000, deadline=None, database=None, derandomize=True)
@given(body=st.binary(max_size=64) | st.lists(st.binary(max_size=3), max_size=6).map(
    lambda cuts: b"".join(record(i) + cut for i, cut in enumerate(cuts))),
       count=st.integers(0, 8), final=st.booleans())
def test_compiled_and_interpreted_agree(body, count, final):
    assert record_scan.scan_records(body, 0, len(body), 0, count, final) == scan_interpreted(
        body, 0, len(body), 0, count, final)


@pytest.mark.parametrize("raw,problem", [
    (b"\xff\xff\xff\xff\xff\x01", record_scan.BAD_VARINT),  # six bytes
    (b"\xff\xff\xff\xff\x7f", record_scan.BAD_VARINT),  # five bytes, past 32 bits
])
def test_overlong_length_varints(raw, problem):
    assert record_scan.scan_records(raw, 0, len(raw), 0, 1, True)[0] == problem
    assert scan_interpreted(raw, 0, len(raw), 0, 1, True)[0] == problem


# ---------------------------------------------------------------------------------------------- check_batch

records_strategy = st.lists(st.tuples(
    st.none() | st.binary(max_size=6),  # key
    st.none() | st.binary(max_size=12),  # value
    st.lists(st.tuples(st.sampled_from(["h", "trace"]), st.none() | st.binary(max_size=3)), max_size=2),
    st.integers(-5_000, 5_000)), min_size=1, max_size=6)

rules_strategy = st.builds(
    TopicRules,
    max_message_bytes=st.sampled_from([1_048_588, 200, 90]),
    compacted=st.booleans(),
    log_append_time=st.booleans(),
    timestamp_before_max_ms=st.sampled_from([NO_LIMIT, 0, 3_000]),
    timestamp_after_max_ms=st.sampled_from([NO_LIMIT, 0, 3_000]))


@st.composite
def produced_batches(draw) -> bytes:
    """A valid batch, or one with a few bytes changed (CRC made right again, or not)."""
    items = [NewRecord(key, value, tuple(headers), TS + delta) for key, value, headers, delta in draw(records_strategy)]
    producer = draw(st.sampled_from([(-1, -1, -1), (7, 0, 0), (7, 0, -1)]))
    batch = bytearray(build_batch(items, timestamp_ms=TS, compression=draw(st.sampled_from([NONE, ZSTD, LZ4])),
                                  producer_id=producer[0], producer_epoch=producer[1], base_sequence=producer[2]))
    for _ in range(draw(st.integers(0, 3))):
        batch[draw(st.integers(0, len(batch) - 1))] = draw(st.integers(0, 255))
    return with_crc(batch) if draw(st.booleans()) else bytes(batch)


def answer(result):
    return result if isinstance(result, Rejected) else bytes(result)


@settings(max_examples=3000, deadline=None, database=None, derandomize=True)
@given(batch=produced_batches(), rules=rules_strategy, now_offset=st.integers(-4_000, 4_000))
def test_the_one_call_verdict_answers_as_the_full_validation(batch, rules, now_offset):
    framed = frame_batch(batch, 9)
    if isinstance(framed, Rejected):
        return
    view, header = framed
    now = TS + now_offset
    assert answer(validate_batch(view, header, rules, now, "t-0")) == answer(
        _review(view, header, None, rules, now, "t-0"))
    compiled = record_scan.check_batch(view, None, *rules, now)
    assert compiled == check_interpreted(view, None, *rules, now)
    if compiled == record_scan.ACCEPT:  # as it came: no refusal, no max timestamp rewritten
        assert answer(_review(view, header, None, rules, now, "t-0")) == bytes(view)


def test_the_one_call_verdict_accepts_the_common_batches():
    """The fast path is taken by what clients send: plain, keyed, compressed, idempotent."""
    rules = TopicRules(1_048_588)
    for options in ({}, {"compression": ZSTD}, {"producer_id": 7, "producer_epoch": 0, "base_sequence": 0}):
        batch = build_batch([(b"k", b"v" * 100), (None, b"w")], timestamp_ms=TS, **options)
        verdict = record_scan.check_batch(memoryview(batch), None, *rules, TS)
        assert verdict == (record_scan.INFLATE if options.get("compression") else record_scan.ACCEPT)
