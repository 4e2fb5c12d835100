"""Frames and headers: FrameSplitter, request/response headers, encode/decode of whole frames."""

from __future__ import annotations

import random
import struct

import pytest

from kafkette.protocol import codec
from kafkette.protocol import primitives as p
from kafkette.protocol.framing import (
    APIS,
    DEFAULT_MAX_FRAME,
    FrameSplitter,
    FrameTooLarge,
    RequestHeader,
    UnsupportedRequest,
    decode_request,
    decode_response,
    encode_request,
    encode_response,
    frame_size,
    response_header,
    unsupported_api_versions,
)
from kafkette.protocol.messages import ALL
from kafkette.protocol.messages.api_versions import API_VERSIONS
from kafkette.protocol.messages.fetch import FETCH
from kafkette.protocol.messages.metadata import METADATA
from kafkette.protocol.messages.produce import PRODUCE
from tests.test_codec_roundtrip import Populator, expected, plain


def i32(v: int) -> bytes:
    return struct.pack(">i", v)


def _request(api, version: int, correlation_id: int = 1, client_id: str | None = "client-é", **kw) -> bytes:
    body = Populator(version, **kw).message(api.Request)
    return encode_request(RequestHeader(api.key, version, correlation_id, client_id), body)


def _all_versions():
    for api in ALL:
        for version in range(api.versions[0], api.versions[1] + 1):
            yield pytest.param(api, version, id=f"{api.name}-v{version}")


# ---------------------------------------------------------------------------------------------- FrameSplitter


def _stream() -> tuple[bytes, list[bytes]]:
    frames = [
        _request(API_VERSIONS, 3, 1),
        _request(METADATA, 12, 2, array_len=1),
        _request(PRODUCE, 9, 3, array_len=1),
        i32(0),  # an empty frame is still a frame
        _request(FETCH, 4, 4, client_id=None, array_len=1),
    ]
    return b"".join(frames), [f[4:] for f in frames]


def test_whole_stream_in_one_chunk() -> None:
    stream, bodies = _stream()
    assert FrameSplitter().feed(stream) == bodies


def test_split_at_every_byte_boundary() -> None:
    stream, bodies = _stream()
    for cut in range(len(stream) + 1):
        splitter = FrameSplitter()
        got = splitter.feed(stream[:cut]) + splitter.feed(stream[cut:])
        assert got == bodies, f"cut at {cut}"


def test_one_byte_at_a_time() -> None:
    stream, bodies = _stream()
    splitter = FrameSplitter()
    got = []
    for i in range(len(stream)):
        got += splitter.feed(stream[i:i + 1])
    assert got == bodies


def test_random_chunkings() -> None:
    stream, bodies = _stream()
    rnd = random.Random(1234)
    for _ in range(200):
        splitter, got, pos = FrameSplitter(), [], 0
        while pos < len(stream):
            step = rnd.randint(0, 40)
            got += splitter.feed(stream[pos:pos + step])
            pos += step
        assert got == bodies


def test_frames_are_returned_as_soon_as_complete() -> None:
    stream, bodies = _stream()
    splitter = FrameSplitter()
    first = 4 + len(bodies[0])
    assert splitter.feed(stream[:first - 1]) == []
    assert splitter.feed(stream[first - 1:first]) == [bodies[0]]
    assert splitter.feed(b"") == []


def test_oversize_frame_raises_before_the_body_arrives() -> None:
    """The 4-byte prefix alone is enough to refuse the frame: nothing of the body is waited for."""
    with pytest.raises(FrameTooLarge):
        FrameSplitter(max_frame=1000).feed(i32(1001))
    prefix = i32(1001)
    splitter = FrameSplitter(max_frame=1000)
    for byte in prefix[:3]:
        assert splitter.feed(bytes([byte])) == []
    with pytest.raises(FrameTooLarge):
        splitter.feed(prefix[3:])


def test_oversize_after_valid_frames_in_the_same_chunk() -> None:
    ok = i32(3) + b"abc"
    with pytest.raises(FrameTooLarge):
        FrameSplitter(max_frame=10).feed(ok + i32(11))


def test_frame_of_exactly_max_size_is_accepted() -> None:
    assert FrameSplitter(max_frame=5).feed(i32(5) + b"12345") == [b"12345"]


def test_default_max_frame() -> None:
    assert DEFAULT_MAX_FRAME == 100 * 1024 * 1024
    assert frame_size(i32(DEFAULT_MAX_FRAME), DEFAULT_MAX_FRAME) == DEFAULT_MAX_FRAME
    with pytest.raises(FrameTooLarge):
        FrameSplitter().feed(i32(DEFAULT_MAX_FRAME + 1))


@pytest.mark.parametrize("size", [-1, -2, -(2**31)])
def test_negative_size_is_rejected(size: int) -> None:
    with pytest.raises(FrameTooLarge):
        FrameSplitter().feed(i32(size))


# ---------------------------------------------------------------------------------------------- requests


@pytest.mark.parametrize("api, version", list(_all_versions()))
def test_request_frame_roundtrip(api, version: int) -> None:
    """Header v1 (non-flexible) or v2 (flexible), body, and the size prefix, for every served version."""
    body = Populator(version).message(api.Request)
    header = RequestHeader(api.key, version, 2**31 - 1, "client-é")
    data = encode_request(header, body)
    assert struct.unpack(">i", data[:4])[0] == len(data) - 4
    assert data[4:12] == struct.pack(">hhi", api.key, version, 2**31 - 1)
    client = "client-é".encode()
    assert data[12:14 + len(client)] == struct.pack(">h", len(client)) + client  # int16 string even when flexible
    pos = 14 + len(client)
    if api.is_flexible(version):
        assert data[pos] == 0  # the header's empty tag buffer
        pos += 1
    assert data[pos:] == codec.write(api.Request, version, api.is_flexible(version), body).getvalue()
    req = decode_request(data[4:])
    assert req.header == header and req.api is api
    assert plain(req.body) == expected(body, version, api.is_flexible(version))


def test_null_client_id() -> None:
    data = encode_request(RequestHeader(3, 1, 5, None), METADATA.Request(topics=None))
    assert data[12:14] == b"\xff\xff"
    assert decode_request(data[4:]).header.client_id is None


def test_decode_request_accepts_memoryview_and_bytearray() -> None:
    data = _request(PRODUCE, 9, array_len=1)[4:]
    for frame in (bytearray(data), memoryview(data)):
        req = decode_request(frame)
        assert req.header.api_key == 0
        assert bytes(req.body.topic_data[0].partition_data[0].records) == \
            bytes(decode_request(data).body.topic_data[0].partition_data[0].records)


@pytest.mark.parametrize("api_key", [4, 5, 6, 7, 38, 57, 71, 9999, -1])
def test_unknown_api_key(api_key: int) -> None:
    frame = struct.pack(">hhi", api_key, 0, 77) + b"\x00\x01c"
    with pytest.raises(UnsupportedRequest) as info:
        decode_request(frame)
    assert info.value.header == RequestHeader(api_key, 0, 77, "c")
    assert api_key not in APIS


@pytest.mark.parametrize("api_key, version", [
    (0, 2), (0, 11), (1, 3), (1, 13), (3, 13), (18, 4), (18, 127), (2, 0), (47, 1), (9, -1),
])
def test_unsupported_version(api_key: int, version: int) -> None:
    """The header is still decoded, so the caller can answer (ApiVersions) or close (the rest)."""
    frame = struct.pack(">hhi", api_key, version, 8) + b"\xff\xff" + b"garbage that is never parsed"
    with pytest.raises(UnsupportedRequest) as info:
        decode_request(frame)
    assert info.value.header.api_version == version
    assert info.value.header.correlation_id == 8
    assert not APIS[api_key].serves(version)


def test_unsupported_api_versions_for_an_unknown_version() -> None:
    """The ApiVersions answer for a too-new version decodes as an ApiVersions v0 response."""
    with pytest.raises(UnsupportedRequest) as info:
        decode_request(struct.pack(">hhi", 18, 9, 31) + b"\x00\x03abc\x00\x02x\x02y\x00")
    chunks = unsupported_api_versions(info.value.header.correlation_id, API_VERSIONS.versions)
    data = b"".join(bytes(c) for c in chunks)
    assert struct.unpack(">i", data[:4])[0] == len(data) - 4
    corr, body = decode_response(data[4:], API_VERSIONS, 0)
    assert corr == 31 and body.error_code == 35
    assert [(k.api_key, k.min_version, k.max_version) for k in body.api_keys] == [(18, 0, 3)]


@pytest.mark.parametrize("frame", [b"", b"\x00", b"\x00\x12\x00\x03\x00\x00\x00"])
def test_frame_shorter_than_a_header(frame: bytes) -> None:
    with pytest.raises(p.DecodeError):
        decode_request(frame)


@pytest.mark.parametrize("api, version", [
    pytest.param(api, v, id=f"{api.name}-v{v}")
    for api in ALL for v in sorted({api.versions[0], api.versions[1]} | ({api.flexible} if api.flexible else set()))
    if api.serves(v)
])
def test_truncated_request_raises_decode_error(api, version: int) -> None:
    """Cut a valid request at every length: DecodeError every time, never another exception."""
    frame = _request(api, version, array_len=1)[4:]
    for cut in range(len(frame)):
        try:
            decode_request(frame[:cut])
        except p.DecodeError:
            continue
        except Exception as e:  # noqa: BLE001 - the point is to catch everything else
            pytest.fail(f"cut at {cut}/{len(frame)}: {type(e).__name__}: {e}")
        pytest.fail(f"cut at {cut}/{len(frame)} decoded")


def test_corrupted_requests_raise_only_decode_errors() -> None:
    """Random byte changes in valid requests: the result is a request, DecodeError or UnsupportedRequest.

    The ClientId (and its length) is left alone here; test_client_id_that_is_not_utf8 covers it."""
    rnd = random.Random(99)
    client_id = "client-é"
    client_end = 10 + len(client_id.encode())
    for api in ALL:
        for version in (api.versions[0], api.versions[1]):
            frame = _request(api, version, client_id=client_id, array_len=2)[4:]
            mutable = list(range(8)) + list(range(client_end, len(frame)))
            for _ in range(60):
                mutated = bytearray(frame)
                for _ in range(rnd.randint(1, 3)):
                    mutated[rnd.choice(mutable)] = rnd.choice([0x00, 0x7f, 0x80, 0xff, rnd.randrange(256)])
                try:
                    decode_request(bytes(mutated))
                except (p.DecodeError, UnsupportedRequest):
                    pass
                except Exception as e:  # noqa: BLE001
                    pytest.fail(f"{api.name} v{version} {bytes(mutated).hex()}: {type(e).__name__}: {e}")


@pytest.mark.parametrize("client_id", [b"\xff\xfe", b"\xc3", b"ok\xe9"])
def test_client_id_that_is_not_utf8(client_id: bytes) -> None:
    """A malformed ClientId must not escape as anything but DecodeError (or be tolerated, as Kafka does)."""
    frame = struct.pack(">hhih", 3, 1, 5, len(client_id)) + client_id + i32(-1)
    try:
        req = decode_request(frame)
    except p.DecodeError:
        return
    except Exception as e:  # noqa: BLE001
        pytest.fail(f"{type(e).__name__} escaped decode_request: {e}")
    assert req.body.topics is None


def test_body_string_that_is_not_utf8_is_a_decode_error() -> None:
    frame = struct.pack(">hhih", 3, 1, 5, 1) + b"c" + i32(1) + struct.pack(">h", 2) + b"\xff\xfe"
    with pytest.raises(p.DecodeError):
        decode_request(frame)


# ---------------------------------------------------------------------------------------------- responses


@pytest.mark.parametrize("api, version", list(_all_versions()))
def test_response_frame_roundtrip(api, version: int) -> None:
    """Header v0 (non-flexible, and ApiVersions always) or v1 (flexible: an empty tag buffer)."""
    body = Populator(version).message(api.Response)
    flexible = api.is_flexible(version)
    chunks = encode_response(-7, api, version, body)
    data = b"".join(bytes(c) for c in chunks)
    assert struct.unpack(">i", data[:4])[0] == len(data) - 4
    assert data[4:8] == i32(-7)
    header_v1 = flexible and api.key != 18
    assert response_header(-7, api, version) == i32(-7) + (b"\x00" if header_v1 else b"")
    start = 9 if header_v1 else 8
    assert data[start:] == codec.write(api.Response, version, flexible, body).getvalue()
    corr, back = decode_response(data[4:], api, version)
    assert corr == -7
    assert plain(back) == expected(body, version, flexible)


def test_decode_response_skips_unknown_header_tags() -> None:
    body = codec.write(METADATA.Response, 12, True, METADATA.Response(cluster_id="c")).getvalue()
    frame = i32(3) + b"\x01\x05\x02zz" + body
    corr, back = decode_response(frame, METADATA, 12)
    assert corr == 3 and back.cluster_id == "c"


@pytest.mark.parametrize("version", [4, 11, 12])
def test_large_fetch_response_is_zero_copy(version: int) -> None:
    """Large record sets go out as their own chunks (the very objects given), and the size prefix counts them."""
    R = FETCH.Response
    blobs = [bytes([i]) * (codec.INLINE_RECORDS_LIMIT * 4 + i) for i in range(3)]
    body = R(responses=[R.FetchableTopicResponse(topic="t", partitions=[
        R.PartitionData(partition_index=i, records=memoryview(blob)) for i, blob in enumerate(blobs)])])
    chunks = encode_response(11, FETCH, version, body)
    views = [c for c in chunks if isinstance(c, memoryview)]
    assert [v.obj for v in views] == blobs
    data = b"".join(bytes(c) for c in chunks)
    assert struct.unpack(">i", data[:4])[0] == len(data) - 4
    corr, back = decode_response(data[4:], FETCH, version)
    assert corr == 11
    assert [bytes(p.records) for p in back.responses[0].partitions] == blobs
