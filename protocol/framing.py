"""Frames and headers: the int32 size prefix, request header v1/v2, response header v0/v1.

Sans-I/O: `FrameSplitter` takes bytes as they arrive and hands back whole
frames; `decode_request` turns a frame into a header and a message (the broker
calls its two halves, `read_request_header` and `decode_request_body`, and
decides in between whether it serves that API and version); `encode_response` turns a message into chunks ready for `writelines`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

from kafkette.protocol import codec
from kafkette.protocol import primitives as p
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages import ALL
from kafkette.protocol.messages.api_versions import API_VERSIONS
from kafkette.protocol.schema import Api

APIS: dict[int, Api] = {api.key: api for api in ALL}
_HEADER = struct.Struct(">hhi")
_SIZE = struct.Struct(">i")
DEFAULT_MAX_FRAME = 100 * 1024 * 1024


class FrameTooLarge(Exception):
    """A frame announced more bytes than the broker accepts; the connection must be closed unread."""


class UnsupportedRequest(Exception):
    """An API key or version that is not declared here; Kafka closes the connection."""

    def __init__(self, header: RequestHeader, reason: str) -> None:
        super().__init__(reason)
        self.header = header


@dataclass(slots=True)
class RequestHeader:
    api_key: int
    api_version: int
    correlation_id: int
    client_id: str | None


@dataclass(slots=True)
class Request:
    header: RequestHeader
    api: Api
    body: Any


class FrameSplitter:
    """Turns a byte stream into frames (memoryviews, without their size prefix).

    A frame that arrives whole inside one chunk is a view of that chunk; one
    spread over several chunks is joined once, when its last byte arrives.
    """

    def __init__(self, max_frame: int = DEFAULT_MAX_FRAME) -> None:
        self.max_frame = max_frame
        self._parts: list[bytes] = []  # the start of an incomplete frame
        self._have = 0
        self._want = 4

    def feed(self, data: bytes) -> list[memoryview]:
        """Add received bytes; return the frames now complete. Raises FrameTooLarge."""
        if self._parts:
            self._parts.append(data)
            self._have += len(data)
            if self._have < self._want:
                return []
            data = b"".join(self._parts)
            self._parts = []
        frames = []
        view = memoryview(data)
        pos, end = 0, len(data)
        while end - pos >= 4:
            size = frame_size(data[pos:pos + 4], self.max_frame)
            if end - pos - 4 < size:
                self._want = 4 + size
                break
            frames.append(view[pos + 4:pos + 4 + size])
            pos += 4 + size
        else:
            self._want = 4
        if pos < end:
            self._parts = [data[pos:]]
            self._have = end - pos
        return frames


def frame_size(prefix: bytes, max_frame: int) -> int:
    size = _SIZE.unpack(prefix)[0]
    if size < 0 or size > max_frame:
        raise FrameTooLarge(f"frame of {size} bytes exceeds the maximum request size of {max_frame} bytes")
    return size


def read_request_header(frame) -> tuple[RequestHeader, int]:
    """The header fields shared by every version (v1 layout); tagged fields are the caller's."""
    if len(frame) < 8:
        raise p.DecodeError("frame too short for a request header")
    api_key, api_version, correlation_id = _HEADER.unpack_from(frame, 0)
    try:
        client_id, pos = p.read_string(frame, 8)
    except UnicodeDecodeError as e:
        raise p.DecodeError(f"client id is not UTF-8: {e}") from e
    return RequestHeader(api_key, api_version, correlation_id, client_id), pos


def decode_request(frame: bytes | memoryview) -> Request:
    """Header and body of a request of any declared API and version (tools and tests; the broker
    decodes only what its handler registry serves). Raises UnsupportedRequest or DecodeError."""
    header, pos = read_request_header(frame)
    api = APIS.get(header.api_key)
    if api is None:
        raise UnsupportedRequest(header, f"unknown API key {header.api_key}")
    if not api.serves(header.api_version):
        raise UnsupportedRequest(header, f"{api.name} v{header.api_version} is not supported")
    return Request(header, api, decode_request_body(api, header.api_version, frame, pos))


def decode_request_body(api: Api, version: int, frame, pos: int) -> Any:
    """The body of a request at `version`, from the end of its v1 header fields at `pos`.

    Raises protocol.primitives.DecodeError.
    """
    flexible = api.is_flexible(version)
    view = memoryview(frame)
    if flexible:
        pos = p.skip_tagged_fields(view, pos)
    body, _ = codec.read(api.Request, version, flexible, view, pos)
    return body


def _response_header_has_tags(api: Api, version: int) -> bool:
    """Header v1 (with a tag buffer) for flexible versions, except ApiVersions which always uses v0 (KIP-511)."""
    return api.is_flexible(version) and api.key != API_VERSIONS.key


def response_header(correlation_id: int, api: Api, version: int) -> bytes:
    if _response_header_has_tags(api, version):
        return _SIZE.pack(correlation_id) + b"\x00"
    return _SIZE.pack(correlation_id)


def encode_response(correlation_id: int, api: Api, version: int, body: Any) -> list[Any]:
    """Size prefix, header and body, as chunks for `transport.writelines`."""
    w = codec.Writer()
    w.buf += b"\x00\x00\x00\x00" + response_header(correlation_id, api, version)
    codec.write(api.Response, version, api.is_flexible(version), body, w)
    chunks = w.chunks()
    size = sum(len(c) for c in chunks) - 4
    chunks[0][0:4] = _SIZE.pack(size)
    return chunks


def encoded_size(chunks: list[Any]) -> int:
    """The size of a frame `encode_response` made, prefix included, read from its prefix."""
    return _SIZE.unpack_from(chunks[0])[0] + 4


def unsupported_api_versions(correlation_id: int, served: tuple[int, int]) -> list[Any]:
    """Kafka's answer to an ApiVersions version it does not know: the v0 layout, error 35, its own range."""
    R = API_VERSIONS.Response
    body = R(error_code=ErrorCode.UNSUPPORTED_VERSION, api_keys=[R.ApiVersion(api_key=API_VERSIONS.key, min_version=served[0],
                                                   max_version=served[1])])
    return encode_response(correlation_id, API_VERSIONS, 0, body)


def encode_request(header: RequestHeader, body: Any) -> bytes:
    """A whole request frame, size prefix included (the client side: tests and tools)."""
    api = APIS[header.api_key]
    flexible = api.is_flexible(header.api_version)
    w = codec.Writer()
    w.buf += _HEADER.pack(header.api_key, header.api_version, header.correlation_id) + p.string(header.client_id)
    if flexible:
        w.buf += b"\x00"
    codec.write(api.Request, header.api_version, flexible, body, w)
    data = w.getvalue()
    return _SIZE.pack(len(data)) + data


def decode_response(frame: bytes, api: Api, version: int) -> tuple[int, Any]:
    """(correlation id, body) of a response frame without its size prefix (the client side)."""
    correlation_id = _SIZE.unpack_from(frame, 0)[0]
    pos = 4
    if _response_header_has_tags(api, version):
        pos = p.skip_tagged_fields(frame, pos)
    body, _ = codec.read(api.Response, version, api.is_flexible(version), memoryview(frame), pos)
    return correlation_id, body
