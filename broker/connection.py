"""One client connection: frames in, handlers called in order, responses out in request order.

Requests may be pipelined. Each is dispatched as soon as it is decoded (so
state changes happen in arrival order); a handler that must wait returns an
awaitable, and the responses behind it are held until it is done.

Once a response is written (or, for a request answered with nothing, once it
is done), the broker's request observers (`broker.observers`) are told, with
the time since its dispatch; with none installed that costs one list check.
"""

from __future__ import annotations

import asyncio
from collections import deque
from time import perf_counter
from typing import TYPE_CHECKING, Any, cast

import structlog

from kafkette.broker.auth import tls
from kafkette.broker.auth.session import SaslSession
from kafkette.broker.context import ANONYMOUS, RequestContext
from kafkette.broker.listeners import Listener
from kafkette.broker.dispatch import CloseConnection
from kafkette.broker.observers import Exchange
from kafkette.broker.registry import lookup
from kafkette.protocol import framing
from kafkette.protocol.messages import API_VERSIONS
from kafkette.protocol.model import Message
from kafkette.protocol.primitives import DecodeError
from kafkette.protocol.response_error import first_error

if TYPE_CHECKING:
    from kafkette.broker.state import Broker

log = structlog.get_logger("kafkette.connection")
MAX_PENDING = 64  # responses queued on one connection before we stop reading from it


class _Pending:
    __slots__ = ("ctx", "future", "chunks", "response", "started", "size_in")
    # set only while request observers are installed: the result (then the response), perf_counter at dispatch,
    # the request's size
    response: Any
    started: float
    size_in: int

    def __init__(self, ctx: RequestContext | None, future: asyncio.Future | None, chunks: list | None) -> None:
        self.ctx, self.future, self.chunks = ctx, future, chunks


class Connection(asyncio.Protocol):
    transport: asyncio.Transport  # set by connection_made, before any data arrives

    def __init__(self, broker: Broker, listener: Listener) -> None:
        self.broker = broker
        self.listener = listener
        self.splitter = framing.FrameSplitter(broker.config.max_request_bytes)
        self.pending: deque[_Pending] = deque()
        self.peer = "?"
        self.paused = False
        self.closed = False
        self.observers = broker.request_observers
        self.principal = ANONYMOUS  # who sent the requests, once authenticated (broker.auth)
        # SASL listeners: the authentication every frame passes first (None elsewhere: nothing to pass)
        self.sasl = SaslSession(self) if listener.security_protocol.startswith("SASL_") else None

    # ------------------------------------------------------------------ asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports don't subclass it
        peer = transport.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if peer else "?"
        self.broker.connections.add(self)
        log.debug("connection opened", peer=self.peer)
        if self.listener.security_protocol == "SSL":  # asyncio calls this once the TLS handshake is done
            self.principal = tls.peer_principal(transport) or ANONYMOUS
            log.debug("authenticated", peer=self.peer, principal=self.principal, listener=self.listener.name)

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
            if self.sasl is None or not self.sasl.take(frame):
                self.dispatch(frame)
        if len(self.pending) >= MAX_PENDING and not self.paused:
            self.paused = True
            self.transport.pause_reading()

    # ------------------------------------------------------------------ requests

    def dispatch(self, frame: memoryview) -> None:
        started = perf_counter() if self.observers else 0.0
        try:
            header, pos = framing.read_request_header(frame)
        except DecodeError as e:
            log.warning("closing connection: malformed request header", peer=self.peer, error=str(e))
            self.close()
            return
        handler = lookup(header.api_key, header.api_version)
        if handler is None:
            self._unsupported(header)
            return
        try:
            body = framing.decode_request_body(handler.api, header.api_version, frame, pos)
        except DecodeError as e:
            log.warning("closing connection: malformed request", peer=self.peer, api=handler.api.name,
                        version=header.api_version, client_id=header.client_id, error=str(e))
            self.close()
            return
        ctx = RequestContext(self.broker, header, handler.api, self.listener, self.peer, self.principal)
        try:
            result = self.broker.dispatcher.call(handler.fn, ctx, body)
        except Exception as e:
            self._failed(ctx, e)
            return
        if isinstance(result, Message):  # the common case, checked first: the hot path
            entry = _Pending(ctx, None, self._encode(ctx, result))
        elif result is None:
            entry = _Pending(ctx, None, None)
        else:
            future = asyncio.ensure_future(result)
            entry = _Pending(ctx, future, None)
            future.add_done_callback(lambda _f: self.flush())
        if self.observers:
            entry.response, entry.started, entry.size_in = result, started, len(frame) + 4
        self.pending.append(entry)
        self.flush()

    def _encode(self, ctx: RequestContext, body: Any) -> list | None:
        if body is None:  # an awaited handler that answers nothing
            return None
        header = ctx.header
        return framing.encode_response(header.correlation_id, ctx.api, header.api_version, body)

    def _unsupported(self, header: framing.RequestHeader) -> None:
        if header.api_key == API_VERSIONS.key:
            handler = lookup(API_VERSIONS.key, 0)
            assert handler is not None
            chunks = framing.unsupported_api_versions(header.correlation_id, handler.versions)
            self.pending.append(_Pending(None, None, chunks))
            self.flush()
            return
        api = framing.APIS.get(header.api_key)
        reason = f"unknown API key {header.api_key}" if api is None else \
            f"{api.name} v{header.api_version} is not served"
        log.warning("closing connection: unsupported request", peer=self.peer, client_id=header.client_id,
                    api_key=header.api_key, api_version=header.api_version, reason=reason,
                    hint="the client must use a version advertised in ApiVersions")
        self.close()

    def answer(self, chunks: list) -> None:
        """Queue a response that no handler wrote (the SASL session's), in request order."""
        self.pending.append(_Pending(None, None, chunks))
        self.flush()

    def close_after_answers(self, delay_s: float) -> None:
        """Close `delay_s` after every response queued so far is written (the answer to a failed
        authentication, which Kafka's connection.failed.authentication.delay.ms also leaves time to read)."""
        waiting = next((e.future for e in self.pending if e.future is not None and not e.future.done()), None)
        if waiting is None:  # nothing holds the queue: flush() has written it all
            asyncio.get_running_loop().call_later(delay_s, self.close)
        else:
            waiting.add_done_callback(lambda _f: self.close_after_answers(delay_s))

    def _failed(self, ctx: RequestContext, error: BaseException) -> None:
        if isinstance(error, CloseConnection):
            log.info("closing connection as asked", peer=self.peer, api=ctx.api.name, reason=str(error))
        else:
            log.error("request failed; closing the connection", peer=self.peer, api=ctx.api.name,
                      version=ctx.version, client_id=ctx.client_id, exc_info=error)
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
                error = entry.future.exception()
                if error is not None:
                    assert entry.ctx is not None
                    self._failed(entry.ctx, error)
                    return
                assert entry.ctx is not None
                entry.response = entry.future.result()
                entry.chunks = self._encode(entry.ctx, entry.response)
            self.pending.popleft()
            if entry.chunks:
                self.transport.writelines(entry.chunks)
            if self.observers and entry.ctx is not None:
                self._observe(entry.ctx, entry)
        if self.paused and len(self.pending) < MAX_PENDING // 2 and not self.closed:
            self.paused = False
            self.transport.resume_reading()

    def _observe(self, ctx: RequestContext, entry: _Pending) -> None:
        """Tell the request observers of a request just answered."""
        response = entry.response
        exchange = Exchange(ctx, response, first_error(response) if response is not None else 0, entry.size_in,
                            framing.encoded_size(entry.chunks) if entry.chunks else 0, perf_counter() - entry.started)
        for observer in self.observers:
            observer(exchange)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.transport.close()
