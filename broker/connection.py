"""One client connection: frames in, handlers called in order, responses out in request order.

Requests may be pipelined. Each is dispatched as soon as it is decoded (so
state changes happen in arrival order); a handler that must wait returns an
awaitable, and the responses behind it are held until it is done.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import TYPE_CHECKING, Any

import structlog

from kafkette.broker.registry import lookup
from kafkette.protocol import framing
from kafkette.protocol.messages import API_VERSIONS
from kafkette.protocol.model import Message
from kafkette.protocol.primitives import DecodeError

if TYPE_CHECKING:
    from kafkette.broker.state import Broker

log = structlog.get_logger("kafkette.connection")
MAX_PENDING = 64  # responses queued on one connection before we stop reading from it


class _Pending:
    __slots__ = ("request", "future", "chunks")

    def __init__(self, request: framing.Request, future: asyncio.Future | None, chunks: list | None) -> None:
        self.request, self.future, self.chunks = request, future, chunks


class Connection(asyncio.Protocol):
    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self.splitter = framing.FrameSplitter(broker.config.max_request_bytes)
        self.pending: deque[_Pending] = deque()
        self.transport: asyncio.Transport | None = None
        self.peer = "?"
        self.client_host = ""
        self.paused = False
        self.closed = False

    # ------------------------------------------------------------------ asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        peer = transport.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if peer else "?"
        self.client_host = f"/{peer[0]}" if peer else ""
        self.broker.connections.add(self)
        log.debug("connection opened", peer=self.peer)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.broker.connections.discard(self)
        for entry in self.pending:
            if entry.future is not None:
                entry.future.cancel()
        self.pending.clear()
        log.debug("connection closed", peer=self.peer, error=str(exc) if exc else None)

    def data_received(self, data: bytes) -> None:
        try:
            frames = self.splitter.feed(data)
        except framing.FrameTooLarge as e:
            log.warning("closing connection: request too large", peer=self.peer, reason=str(e),
                        hint="raise --max-request-bytes if this client is legitimate")
            self.close()
            return
        for frame in frames:
            if self.closed:
                return
            self.dispatch(frame)
        if len(self.pending) >= MAX_PENDING and not self.paused:
            self.paused = True
            self.transport.pause_reading()

    # ------------------------------------------------------------------ requests

    def dispatch(self, frame: bytes) -> None:
        try:
            request = framing.decode_request(frame)
        except framing.UnsupportedRequest as e:
            self._unsupported(e)
            return
        except DecodeError as e:
            log.warning("closing connection: malformed request", peer=self.peer, error=str(e))
            self.close()
            return
        request.client_host = self.client_host
        handler = lookup(request.header.api_key, request.header.api_version)
        if handler is None:
            self._unsupported(framing.UnsupportedRequest(request.header, f"{request.api.name} "
                                                         f"v{request.header.api_version} is not served"))
            return
        try:
            result = handler.fn(self.broker, request)
        except Exception as e:
            self._failed(request, e)
            return
        if isinstance(result, Message):  # the common case, checked first: the hot path
            entry = _Pending(request, None, self._encode(request, result))
        elif result is None:
            entry = _Pending(request, None, None)
        else:
            future = asyncio.ensure_future(result)
            entry = _Pending(request, future, None)
            future.add_done_callback(lambda _f: self.flush())
        self.pending.append(entry)
        self.flush()

    def _encode(self, request: framing.Request, body: Any) -> list | None:
        if body is None:  # an awaited handler that answers nothing
            return None
        header = request.header
        return framing.encode_response(header.correlation_id, request.api, header.api_version, body)

    def _unsupported(self, e: framing.UnsupportedRequest) -> None:
        header = e.header
        if header.api_key == API_VERSIONS.key:
            handler = lookup(API_VERSIONS.key, 0)
            assert handler is not None
            chunks = framing.unsupported_api_versions(header.correlation_id, handler.versions)
            self.pending.append(_Pending(None, None, chunks))  # type: ignore[arg-type]
            self.flush()
            return
        log.warning("closing connection: unsupported request", peer=self.peer, client_id=header.client_id,
                    api_key=header.api_key, api_version=header.api_version, reason=str(e),
                    hint="the client must use a version advertised in ApiVersions")
        self.close()

    def _failed(self, request: framing.Request, error: BaseException) -> None:
        log.error("request failed; closing the connection", peer=self.peer, api=request.api.name,
                  version=request.header.api_version, client_id=request.header.client_id, exc_info=error)
        self.close()

    def flush(self) -> None:
        """Write every response at the head of the queue that is ready, in request order."""
        while self.pending and not self.closed:
            entry = self.pending[0]
            if entry.future is not None:
                if not entry.future.done():
                    break
                if entry.future.cancelled():
                    self.pending.popleft()
                    continue
                if entry.future.exception() is not None:
                    self._failed(entry.request, entry.future.exception())
                    return
                entry.chunks = self._encode(entry.request, entry.future.result())
            self.pending.popleft()
            if entry.chunks:
                self.transport.writelines(entry.chunks)
        if self.paused and len(self.pending) < MAX_PENDING // 2 and not self.closed:
            self.paused = False
            self.transport.resume_reading()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.transport.close()
