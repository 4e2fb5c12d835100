# cython: boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True, language_level=3
# cython: legacy_implicit_noexcept=True
"""The record walker: a v2 batch's header and every record checked as LogValidator and DefaultRecord.readFrom do.

Two entry points over one walk:

- `check_batch`, once per produced batch: ACCEPT when the batch passes every
  check of `protocol.validation` and may be appended exactly as it came,
  INFLATE when a compressed batch's header passed and its records are wanted
  inflated, REVIEW for anything else (`protocol.validation` then works out
  Kafka's answer: a refusal, or a max timestamp to rewrite).
- `scan_records`, a stretch of records (an inflated body, or a prefix of one):
  the problem found and where.

Plain Python that Cython compiles when the package is built with a C compiler
(setup.py): the annotations are then C types, the bytes are read through the
buffer protocol and a record costs a few dozen instructions. Without a
compiler the same code runs interpreted: correct, but about 100 times slower
(the broker says so at start). Nothing here allocates per record or raises
on bad input. After editing this file, reinstall (`make test` does) to recompile it.
"""

from __future__ import annotations

try:  # only Cython reads the annotations, decorators and declarations
    import cython
except ImportError:  # interpreted, without Cython installed: what the code below needs of it
    from types import SimpleNamespace

    cython = SimpleNamespace(compiled=False, cfunc=lambda function: function, inline=lambda function: function,
                             declare=lambda kind, value: value, int=int, longlong=int)

if cython.compiled:
    from cython.cimports.cpython.buffer import PyBUF_SIMPLE, PyBuffer_Release, PyObject_GetBuffer
    from cython.cimports.cpython.object import Py_buffer

COMPILED: bool = cython.compiled

# Problem codes (C constants once compiled; the public names below); protocol.validation.PROBLEMS says what they mean.
_OK = cython.declare(cython.int, 0)
_TRUNCATED = cython.declare(cython.int, 1)  # a record runs past the end of the batch (Kafka: "premature EOF")
_BAD_LENGTH = cython.declare(cython.int, 2)  # a record's length is negative or shorter than its fixed fields
_BAD_VARINT = cython.declare(cython.int, 3)  # a varint of more than 5 (10 for a varlong) bytes, or past 32 (64) bits
_OVERRUN = cython.declare(cython.int, 4)  # a field runs past its record's length
_BAD_OFFSET_DELTA = cython.declare(cython.int, 5)  # record i of the batch does not have offset delta i
_BAD_KEY = cython.declare(cython.int, 6)  # a key or value length below -1
_BAD_HEADERS = cython.declare(cython.int, 7)  # a negative header count or key length, or a value length below -1
_LENGTH_MISMATCH = cython.declare(cython.int, 8)  # the fields end before the record's length does
OK, TRUNCATED, BAD_LENGTH, BAD_VARINT, OVERRUN = _OK, _TRUNCATED, _BAD_LENGTH, _BAD_VARINT, _OVERRUN
BAD_OFFSET_DELTA, BAD_KEY, BAD_HEADERS, LENGTH_MISMATCH = _BAD_OFFSET_DELTA, _BAD_KEY, _BAD_HEADERS, _LENGTH_MISMATCH

# check_batch's verdicts
_ACCEPT = cython.declare(cython.int, 0)  # append the batch as it came
_REVIEW = cython.declare(cython.int, 1)  # protocol.validation works out Kafka's answer
_INFLATE = cython.declare(cython.int, 2)  # a compressed batch whose header passed: check its inflated records
ACCEPT, REVIEW, INFLATE = _ACCEPT, _REVIEW, _INFLATE

_ENDED = cython.declare(cython.int, -1)  # the position _varint gives when the bytes end inside the varint
_TOO_LONG = cython.declare(cython.int, -2)  # ... and when it is longer than 5 (10) bytes or past 32 (64) bits
_MIN_BODY = cython.declare(cython.int, 6)  # attributes + one byte each for timestamp, offset, key, value, headers
_HEADER_SIZE = cython.declare(cython.int, 61)
_SAFE = cython.declare(cython.longlong, 1 << 61)  # timestamps within +-2^61 ms add and compare in 64 bits


@cython.cfunc
@cython.inline
def _varint(data: cython.p_const_uchar, p: cython.Py_ssize_t, end: cython.Py_ssize_t,
            last_shift: cython.int) -> tuple[cython.ulonglong, cython.Py_ssize_t]:
    """The zigzag-encoded varint at data[p] (last_shift 28: 32 bits, 63: 64) and the position after it, or _ENDED/_TOO_LONG."""
    b: cython.uint
    raw: cython.ulonglong
    part: cython.ulonglong
    shift: cython.int
    if p >= end:
        return 0, _ENDED
    b = data[p]
    if b < 0x80:  # most varints in a record are one or two bytes
        return b, p + 1
    raw = b & 0x7F
    p += 1
    if p < end and data[p] < 0x80:
        return raw | (data[p] << 7), p + 1
    shift = 7
    while True:
        if p >= end:
            return 0, _ENDED
        b = data[p]
        p += 1
        part = b & 0x7F
        if shift == last_shift and part > (1 if last_shift == 63 else 15):
            return 0, _TOO_LONG
        raw |= part << shift
        if b < 0x80:
            return raw, p
        shift += 7
        if shift > last_shift:
            return 0, _TOO_LONG


@cython.cfunc
@cython.inline
def _skip(data: cython.p_const_uchar, p: cython.Py_ssize_t, end: cython.Py_ssize_t,
          nullable: cython.bint) -> tuple[cython.int, cython.Py_ssize_t, cython.bint]:
    """A length varint at data[p] and the bytes it counts: (problem, position after them, whether it is -1).

    A negative length is _BAD_KEY (the caller says which field), unless -1 of a `nullable` field.
    """
    raw: cython.ulonglong
    raw, p = _varint(data, p, end, 28)
    if p < 0:
        return (_OVERRUN if p == _ENDED else _BAD_VARINT), p, False
    if raw & 1:  # zigzag: odd is negative, 1 is -1
        return (_OK if raw == 1 and nullable else _BAD_KEY), p, True
    if raw >> 1 > end - p:
        return _OVERRUN, p, False
    return _OK, p + (raw >> 1), False


@cython.cfunc
def _walk(data: cython.p_const_uchar, pos: cython.Py_ssize_t, end: cython.Py_ssize_t, index: cython.longlong,
          count: cython.longlong, final: cython.bint
          ) -> tuple[cython.int, cython.Py_ssize_t, cython.longlong, cython.longlong, cython.longlong, cython.longlong]:
    """scan_records over a pointer (compiled) or a bytes-like object (interpreted).

    Lengths, counts and offset deltas are compared in their zigzag encoding
    (n >= 0 is 2n, -1 is 1, other odd values are below -1): only the
    timestamp delta is decoded.
    """
    start: cython.Py_ssize_t
    record_end: cython.Py_ssize_t
    p: cython.Py_ssize_t
    raw: cython.ulonglong
    value: cython.longlong
    headers: cython.ulonglong
    problem: cython.int
    null: cython.bint
    min_delta: cython.longlong = 0x7FFFFFFFFFFFFFFF
    max_delta: cython.longlong = -0x7FFFFFFFFFFFFFFF - 1
    keyless: cython.longlong = 0
    while index < count:
        start = pos
        raw, p = _varint(data, pos, end, 28)  # the record's length, which must end inside the batch
        if p < 0:
            if p == _TOO_LONG:
                return _BAD_VARINT, start, index, min_delta, max_delta, keyless
            return (_TRUNCATED if final else _OK), start, index, min_delta, max_delta, keyless
        if raw & 1 or raw >> 1 < _MIN_BODY:
            return _BAD_LENGTH, start, index, min_delta, max_delta, keyless
        if raw >> 1 > end - p:
            return (_TRUNCATED if final else _OK), start, index, min_delta, max_delta, keyless
        record_end = p + (raw >> 1)
        p += 1  # the attributes byte: unused in v2
        raw, p = _varint(data, p, record_end, 63)  # timestamp delta
        if p < 0:
            return (_OVERRUN if p == _ENDED else _BAD_VARINT), start, index, min_delta, max_delta, keyless
        value = (raw >> 1) ^ -(raw & 1)
        if value < min_delta:
            min_delta = value
        if value > max_delta:
            max_delta = value
        raw, p = _varint(data, p, record_end, 28)  # offset delta
        if p < 0:
            return (_OVERRUN if p == _ENDED else _BAD_VARINT), start, index, min_delta, max_delta, keyless
        if raw != index << 1:
            return _BAD_OFFSET_DELTA, start, index, min_delta, max_delta, keyless
        problem, p, null = _skip(data, p, record_end, True)  # key
        if problem != _OK:
            return problem, start, index, min_delta, max_delta, keyless
        keyless += null
        problem, p, null = _skip(data, p, record_end, True)  # value
        if problem != _OK:
            return problem, start, index, min_delta, max_delta, keyless
        raw, p = _varint(data, p, record_end, 28)  # header count
        if p < 0:
            return (_OVERRUN if p == _ENDED else _BAD_VARINT), start, index, min_delta, max_delta, keyless
        if raw & 1:
            return _BAD_HEADERS, start, index, min_delta, max_delta, keyless
        headers = raw >> 1
        while headers > 0:
            problem, p, null = _skip(data, p, record_end, False)  # header key
            if problem == _OK:
                problem, p, null = _skip(data, p, record_end, True)  # header value
            if problem != _OK:
                return (_BAD_HEADERS if problem == _BAD_KEY else problem), start, index, min_delta, max_delta, keyless
            headers -= 1
        if p != record_end:
            return _LENGTH_MISMATCH, start, index, min_delta, max_delta, keyless
        pos = record_end
        index += 1
    return _OK, pos, index, min_delta, max_delta, keyless


def scan_records(body, pos: cython.Py_ssize_t, end: cython.Py_ssize_t,
                 index: cython.longlong, count: cython.longlong, final: cython.bint
                 ) -> tuple[int, int, int, int, int, int]:
    """Walk records `index`..`count`-1 of a bytes-like `body`, starting at `body[pos]`, not past `end`.

    Returns (problem, pos, index, min timestamp delta, max timestamp delta, records without a key):
    on OK, `pos` and `index` are where the walk stopped. It stops after record
    `count`-1, or, unless `final`, before a record that does not end within
    `end` (the caller then feeds more inflated bytes). On a problem they tell
    which record was bad.
    """
    if pos < 0 or end > len(body):  # the walk trusts its bounds
        raise IndexError(f"a walk over {pos}..{end} of {len(body)} bytes")
    if cython.compiled:
        view: Py_buffer
        PyObject_GetBuffer(body, cython.address(view), PyBUF_SIMPLE)
        result = _walk(cython.cast(cython.p_const_uchar, view.buf), pos, end, index, count, final)
        PyBuffer_Release(cython.address(view))
        return result
    return _walk(body, pos, end, index, count, final)


@cython.cfunc
@cython.inline
def _signed(data: cython.p_const_uchar, pos: cython.Py_ssize_t, size: cython.int) -> cython.longlong:
    """The big-endian signed integer of `size` bytes at data[pos]."""
    value: cython.longlong = -1 if data[pos] >= 0x80 else 0
    i: cython.int
    for i in range(size):
        value = (value << 8) | data[pos + i]
    return value


@cython.cfunc
def _verdict(batch: cython.p_const_uchar, size: cython.Py_ssize_t, body: cython.p_const_uchar,
             body_size: cython.Py_ssize_t, inflated: cython.bint, max_message_bytes: cython.longlong,
             compacted: cython.bint, log_append_time: cython.bint, before_max_ms: cython.longlong,
             after_max_ms: cython.longlong, now_ms: cython.longlong) -> cython.int:
    """check_batch over pointers (compiled) or bytes-like objects (interpreted)."""
    attributes: cython.longlong
    count: cython.longlong
    base_timestamp: cython.longlong
    latest: cython.longlong
    problem: cython.int
    end: cython.Py_ssize_t
    walked: cython.longlong
    min_delta: cython.longlong
    max_delta: cython.longlong
    keyless: cython.longlong
    # protocol.validation's checks in its order: framing, base offset, max.message.bytes, codec, offset range
    # and record count, control batches, sequences; then the records, keys on compacted topics, timestamps.
    if size < _HEADER_SIZE or _signed(batch, 8, 4) + 12 != size or batch[16] != 2:
        return _REVIEW
    if _signed(batch, 0, 8) != 0 or size > max_message_bytes:
        return _REVIEW
    attributes = _signed(batch, 21, 2)
    count = _signed(batch, 57, 4)
    if attributes & 0x07 > 4 or count <= 0 or _signed(batch, 23, 4) + 1 != count or attributes & 0x20:
        return _REVIEW
    if _signed(batch, 43, 8) >= 0 and _signed(batch, 53, 4) < 0:  # a producer's batch without a sequence
        return _REVIEW
    if attributes & 0x07 == 0:
        if inflated:
            return _REVIEW
        problem, end, walked, min_delta, max_delta, keyless = _walk(batch, _HEADER_SIZE, size, 0, count, True)
    elif not inflated:
        return _INFLATE
    else:
        problem, end, walked, min_delta, max_delta, keyless = _walk(body, 0, body_size, 0, count, True)
        size = body_size
    if problem != _OK or end != size or (compacted and keyless):
        return _REVIEW
    if log_append_time:  # the broker stamps the time; a producer may not claim to have
        return _REVIEW if attributes & 0x08 else _ACCEPT
    base_timestamp = _signed(batch, 27, 8)
    if not (-_SAFE < base_timestamp < _SAFE and -_SAFE < min_delta and max_delta < _SAFE and -_SAFE < now_ms < _SAFE):
        return _REVIEW
    latest = base_timestamp + max_delta
    if now_ms - (base_timestamp + min_delta) > before_max_ms or latest - now_ms > after_max_ms:
        return _REVIEW
    if not attributes & 0x08 and latest != _signed(batch, 35, 8):  # Kafka sets the max timestamp: a rewrite
        return _REVIEW
    return _ACCEPT


def check_batch(batch, body, max_message_bytes: cython.longlong,
                compacted: cython.bint, log_append_time: cython.bint, before_max_ms: cython.longlong,
                after_max_ms: cython.longlong, now_ms: cython.longlong) -> int:
    """ACCEPT, REVIEW or INFLATE for one whole v2 `batch`; `body` is its inflated records, or None before inflating."""
    if cython.compiled:
        view: Py_buffer
        records: Py_buffer
        verdict: cython.int
        PyObject_GetBuffer(batch, cython.address(view), PyBUF_SIMPLE)
        if body is None:
            verdict = _verdict(cython.cast(cython.p_const_uchar, view.buf), view.len, cython.NULL, 0, False,
                               max_message_bytes, compacted, log_append_time, before_max_ms, after_max_ms, now_ms)
        else:
            try:
                PyObject_GetBuffer(body, cython.address(records), PyBUF_SIMPLE)
            except BaseException:
                PyBuffer_Release(cython.address(view))
                raise
            verdict = _verdict(cython.cast(cython.p_const_uchar, view.buf), view.len,
                               cython.cast(cython.p_const_uchar, records.buf), records.len, True,
                               max_message_bytes, compacted, log_append_time, before_max_ms, after_max_ms, now_ms)
            PyBuffer_Release(cython.address(records))
        PyBuffer_Release(cython.address(view))
        return verdict
    return _verdict(batch, len(batch), body, 0 if body is None else len(body), body is not None,
                    max_message_bytes, compacted, log_append_time, before_max_ms, after_max_ms, now_ms)
