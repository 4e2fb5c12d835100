"""One client connection: frames in, handlers called in order, responses out in request order.

Requests may be pipelined. Each is dispatched as soon as it is decoded (so state changes happen
in arrival order) unless the connection is holding back, in which case received frames wait in
`backlog` and the socket is not read:
- while a handler's answer is awaited (a long-polling Fetch, a JoinGroup, a large admin request
  done in slices): the requests behind it are dispatched once it is answered, so they see all of
  its effects, as on a Kafka broker, which reads one request per connection at a time;
- while the transport holds more unsent bytes than WRITE_HIGH_WATER (a client that does not read
  its responses): nothing more is built for it, so it pins at most one response beyond that.
So an answer is written as soon as it is ready, and at most one is ever awaited per connection.
Once a response is written (or, for a request answered with nothing, once it is done), the
broker's request observers (`broker.observers`) are told, with the time since its dispatch; with
none installed that costs one list check. On a SASL listener every frame passes the connection's
`SaslSession` first (`broker.auth.session`), which answers the authentication requests itself.
Frames over LARGE_FRAME (but Produce's, whose records are not decoded) are decoded, and their
answers encoded, in a worker thread, so a request naming ten million topics does not freeze the
event loop for the others.
"""

from __future__ import annotations

import asyncio
from collections import deque
from time import perf_counter
from typing import TYPE_CHECKING, Any, cast

import structlog

from kafkette.broker import collector
from kafkette.broker.auth import tls
from kafkette.broker.auth.session import SaslSession
from kafkette.broker.context import ANONYMOUS, RequestContext
from kafkette.broker.dispatch import CloseConnection
from kafkette.broker.listeners import Listener
from kafkette.broker.observers import Exchange
from kafkette.broker.registry import Registered, lookup
from kafkette.protocol import framing
from kafkette.protocol.messages import API_VERSIONS, PRODUCE
from kafkette.protocol.model import Message
from kafkette.protocol.primitives import DecodeError
from kafkette.protocol.response_error import first_error

if TYPE_CHECKING:
    from kafkette.broker.state import Broker

log = structlog.get_logger("kafkette.connection")
WRITE_HIGH_WATER = 1 << 20  # unsent response bytes above which a connection is served no more
LARGE_FRAME = 1 << 20  # request frames from this size on are decoded off the event loop


class _Awaited:
    """The request whose answer is awaited: its context (None for a large request, whose future gives it),
    its future, and for the request observers when it was dispatched and its size."""

    __slots__ = ("ctx", "future", "started", "size_in")

    def __init__(self, ctx: RequestContext | None, future: asyncio.Future, started: float, size_in: int) -> None:
        self.ctx, self.future, self.started, self.size_in = ctx, future, started, size_in


class Connection(asyncio.Protocol):
    transport: asyncio.Transport  # set by connection_made, before any data arrives

    def __init__(self, broker: Broker, listener: Listener) -> None:
        self.broker = broker
        self.listener = listener
        self.splitter = framing.FrameSplitter(broker.config.max_request_bytes)
        self.backlog: deque[memoryview] = deque()  # frames received and not yet dispatched
        self.waiting: _Awaited | None = None  # the request whose answer is awaited
        self.peer = "?"
        self.reading_paused = False
        self.writing_paused = False  # the transport's buffer is above WRITE_HIGH_WATER
        self.closed = False
        self.idle_ticks = 0  # idle sweeps since data last arrived (see ConnectionTable.sweep_idle)
        self.observers = broker.request_observers
        self.principal = ANONYMOUS  # who sent the requests, once authenticated (broker.auth)
        # SASL listeners: the authentication every frame passes first (None elsewhere: nothing to pass)
        self.sasl = SaslSession(self) if listener.security_protocol.startswith("SASL_") else None

    # ------------------------------------------------------------------ asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports don't subclass it
        self.transport.set_write_buffer_limits(high=WRITE_HIGH_WATER)
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
        if self.waiting is not None:
            self.waiting.future.cancel()
            self.waiting = None
        self.backlog.clear()
        log.debug("connection closed", peer=self.peer, error=str(exc) if exc else None)

    def data_received(self, data: bytes) -> None:
        self.idle_ticks = 0
        try:
            frames = self.splitter.feed(data)
        except framing.FrameTooLarge as e:
            log.warning("closing connection: request too large", peer=self.peer, reason=str(e),
                        hint="raise --max-request-bytes if this client is legitimate")
            self.close()
            return
        self.backlog.extend(frames)
        self._serve_backlog()

    def pause_writing(self) -> None:
        self.writing_paused = True

    def resume_writing(self) -> None:
        self.writing_paused = False
        self._serve_backlog()

    # ------------------------------------------------------------------ requests

    def _serve_backlog(self) -> None:
        """Dispatch waiting frames until the connection must hold back; read the socket only when none wait."""
        backlog = self.backlog
        while backlog and not (self.closed or self.waiting or self.writing_paused):
            frame = backlog.popleft()
            if self.sasl is None or not self.sasl.take(frame):
                self.dispatch(frame)
        if self.closed:
            return
        if backlog and not self.reading_paused:
            self.reading_paused = True
            self.transport.pause_reading()
        elif not backlog and self.reading_paused:
            self.reading_paused = False
            self.transport.resume_reading()

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
        if len(frame) >= LARGE_FRAME and header.api_key != PRODUCE.key:
            self._await(None, asyncio.ensure_future(self._large(handler, header, frame, pos)), started, len(frame) + 4)
            return
        try:
            body = framing.decode_request_body(handler.api, header.api_version, frame, pos)
        except DecodeError as e:
            self._malformed(handler, header, e)
            return
        ctx = RequestContext(self.broker, header, handler.api, self.listener, self.peer, self.principal)
        try:
            result = self.broker.dispatcher.call(handler.fn, ctx, body)
        except Exception as e:
            self._failed(ctx, e)
            return
        if isinstance(result, Message):  # the common case, checked first: the hot path
            chunks = framing.encode_response(header.correlation_id, handler.api, header.api_version, result)
            self.transport.writelines(chunks)
            if self.observers:
                self._observe(ctx, result, chunks, started, len(frame) + 4)
        elif result is not None:
            self._await(ctx, asyncio.ensure_future(result), started, len(frame) + 4)
        elif self.observers:
            self._observe(ctx, None, None, started, len(frame) + 4)

    def _await(self, ctx: RequestContext | None, future: asyncio.Future, started: float, size_in: int) -> None:
        """An answer to await: the requests behind it wait until it is written."""
        self.waiting = _Awaited(ctx, future, started, size_in)
        future.add_done_callback(self._answered)

    def _answered(self, future: asyncio.Future) -> None:
        if self.closed or future.cancelled():
            return
        waiting = self.waiting
        assert waiting is not None
        self.waiting = None
        ctx = waiting.ctx
        try:
            if ctx is None:  # a large request: its coroutine decoded, handled and encoded it
                ctx, response, chunks = future.result()
            else:
                response = future.result()
                chunks = self._encode(ctx, response)
        except Exception as e:
            self._failed(ctx, e)
            return
        if chunks:
            self.transport.writelines(chunks)
        if self.observers and ctx is not None:
            self._observe(ctx, response, chunks, waiting.started, waiting.size_in)
        self._serve_backlog()

    async def _large(self, handler: Registered, header: framing.RequestHeader, frame: memoryview,
                     pos: int) -> tuple[RequestContext, Any, list]:
        """A large request: decoded, and its answer encoded, in a worker thread; handled on the event loop.

        Returns its context, its response and the encoded response."""
        loop = asyncio.get_running_loop()
        with collector.paused():
            try:
                body = await loop.run_in_executor(None, framing.decode_request_body, handler.api, header.api_version,
                                                  frame, pos)
            except DecodeError as e:
                self._malformed(handler, header, e)
                raise CloseConnection(str(e)) from None
            ctx = RequestContext(self.broker, header, handler.api, self.listener, self.peer, self.principal)
            result = self.broker.dispatcher.call(handler.fn, ctx, body)
            if not (result is None or isinstance(result, Message)):
                result = await result
            encoded = await loop.run_in_executor(None, self._encode_whole, ctx, result)
            del body  # freed now, while collection still pauses
        return ctx, result, encoded

    def _encode_whole(self, ctx: RequestContext, body: Any) -> list:
        """The response as one buffer: millions of small ones would take the transport long to queue."""
        chunks = self._encode(ctx, body)
        return [b"".join(chunks)] if chunks else []

    def _encode(self, ctx: RequestContext, body: Any) -> list | None:
        if body is None:  # an awaited handler that answers nothing
            return None
        header = ctx.header
        return framing.encode_response(header.correlation_id, ctx.api, header.api_version, body)

    def _malformed(self, handler: Registered, header: framing.RequestHeader, error: DecodeError) -> None:
        log.warning("closing connection: malformed request", peer=self.peer, api=handler.api.name,
                    version=header.api_version, client_id=header.client_id, error=str(error))
        self.close()

    def _unsupported(self, header: framing.RequestHeader) -> None:
        if header.api_key == API_VERSIONS.key:
            handler = lookup(API_VERSIONS.key, 0)
            assert handler is not None
            self.transport.writelines(framing.unsupported_api_versions(header.correlation_id, handler.versions))
            return
        api = framing.APIS.get(header.api_key)
        reason = f"unknown API key {header.api_key}" if api is None else \
            f"{api.name} v{header.api_version} is not served"
        log.warning("closing connection: unsupported request", peer=self.peer, client_id=header.client_id,
                    api_key=header.api_key, api_version=header.api_version, reason=reason,
                    hint="the client must use a version advertised in ApiVersions")
        self.close()

    def _failed(self, ctx: RequestContext | None, error: BaseException) -> None:
        api = ctx.api.name if ctx is not None else "?"
        if isinstance(error, CloseConnection):
            log.info("closing connection as asked", peer=self.peer, api=api, reason=str(error))
        elif ctx is not None:
            log.error("request failed; closing the connection", peer=self.peer, api=api,
                      version=ctx.version, client_id=ctx.client_id, exc_info=error)
        else:
            log.error("request failed; closing the connection", peer=self.peer, exc_info=error)
        self.close()

    def answer(self, chunks: list) -> None:
        """Write a response no handler made (the SASL session's); frames are taken in order, so it is in order."""
        self.transport.writelines(chunks)

    def close_after_answers(self, delay_s: float) -> None:
        """Close `delay_s` after every response so far is written (the answer to a failed authentication,
        which Kafka's connection.failed.authentication.delay.ms also leaves time to read)."""
        if self.waiting is None:
            asyncio.get_running_loop().call_later(delay_s, self.close)
        else:
            self.waiting.future.add_done_callback(lambda _f: self.close_after_answers(delay_s))

    def _observe(self, ctx: RequestContext, response: Any, chunks: list | None, started: float, size_in: int) -> None:
        """Tell the request observers of a request just answered."""
        exchange = Exchange(ctx, response, first_error(response) if response is not None else 0, size_in,
                            framing.encoded_size(chunks) if chunks else 0, perf_counter() - started)
        for observer in self.observers:
            observer(exchange)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.transport.close()
