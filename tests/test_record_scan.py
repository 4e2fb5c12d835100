"""The record walker compiled (Cython, when the build had a compiler) and interpreted agree on every input."""

from __future__ import annotations

import importlib.util
import shutil
import sysconfig
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kafkette.protocol import record_scan
from kafkette.protocol.records import HEADER_SIZE, build_batch
from tests.batches import TS, record

SOURCE = Path(__file__).parent.parent / "protocol" / "record_scan.py"


def interpreted():
    spec = importlib.util.spec_from_file_location("record_scan_interpreted", SOURCE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.scan_records


scan_interpreted = interpreted()


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
