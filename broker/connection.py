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
Frames over LARGE_FRAME (but Produce's, whose records are not decoded) are decoded, and their
answers encoded, in a worker thread, so a request naming ten million topics does not freeze the
event loop for the others.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import TYPE_CHECKING, Any, cast

import structlog

from kafkette.broker import collector
from kafkette.broker.context import Listener, RequestContext
from kafkette.broker.dispatch import CloseConnection
from kafkette.broker.registry import Registered, lookup
from kafkette.protocol import framing
from kafkette.protocol.messages import API_VERSIONS, PRODUCE
from kafkette.protocol.model import Message
from kafkette.protocol.primitives import DecodeError

if TYPE_CHECKING:
    from kafkette.broker.state import Broker

log = structlog.get_logger("kafkette.connection")
WRITE_HIGH_WATER = 1 << 20  # unsent response bytes above which a connection is served no more
LARGE_FRAME = 1 << 20  # request frames from this size on are decoded off the event loop


class Connection(asyncio.Protocol):
    transport: asyncio.Transport  # set by connection_made, before any data arrives

    def __init__(self, broker: Broker, listener: Listener) -> None:
        self.broker = broker
        self.listener = listener
        self.splitter = framing.FrameSplitter(broker.config.max_request_bytes)
        self.backlog: deque[memoryview] = deque()  # frames received and not yet dispatched
        # the request whose answer is awaited (its context, None for a large one, which encodes its own)
        self.waiting: tuple[RequestContext | None, asyncio.Future] | None = None
        self.peer = "?"
        self.reading_paused = False
        self.writing_paused = False  # the transport's buffer is above WRITE_HIGH_WATER
        self.closed = False
        self.idle_ticks = 0  # idle sweeps since data last arrived (see ConnectionTable.sweep_idle)

    # ------------------------------------------------------------------ asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports don't subclass it
        self.transport.set_write_buffer_limits(high=WRITE_HIGH_WATER)
        peer = transport.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if peer else "?"
        self.broker.connections.add(self)
        log.debug("connection opened", peer=self.peer)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.broker.connections.discard(self)
        if self.waiting is not None:
            self.waiting[1].cancel()
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
            self.dispatch(backlog.popleft())
        if self.closed:
            return
        if backlog and not self.reading_paused:
            self.reading_paused = True
            self.transport.pause_reading()
        elif not backlog and self.reading_paused:
            self.reading_paused = False
            self.transport.resume_reading()

    def dispatch(self, frame: memoryview) -> None:
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
            self._await(None, asyncio.ensure_future(self._large(handler, header, frame, pos)))
            return
        try:
            body = framing.decode_request_body(handler.api, header.api_version, frame, pos)
        except DecodeError as e:
            self._malformed(handler, header, e)
            return
        ctx = RequestContext(self.broker, header, handler.api, self.listener, self.peer)
        try:
            result = self.broker.dispatcher.call(handler.fn, ctx, body)
        except Exception as e:
            self._failed(ctx, e)
            return
        if isinstance(result, Message):  # the common case, checked first: the hot path
            self.transport.writelines(framing.encode_response(header.correlation_id, handler.api,
                                                              header.api_version, result))
        elif result is not None:
            self._await(ctx, asyncio.ensure_future(result))

    def _await(self, ctx: RequestContext | None, future: asyncio.Future) -> None:
        """An answer to await: the requests behind it wait until it is written."""
        self.waiting = (ctx, future)
        future.add_done_callback(self._answered)

    def _answered(self, future: asyncio.Future) -> None:
        if self.closed or future.cancelled():
            return
        assert self.waiting is not None
        ctx = self.waiting[0]
        self.waiting = None
        try:
            result = future.result()
            chunks = result if ctx is None else self._encode(ctx, result)
        except Exception as e:
            self._failed(ctx, e)
            return
        if chunks:
            self.transport.writelines(chunks)
        self._serve_backlog()

    async def _large(self, handler: Registered, header: framing.RequestHeader, frame: memoryview, pos: int) -> list:
        """A large request: decoded, and its answer encoded, in a worker thread; handled on the event loop."""
        loop = asyncio.get_running_loop()
        with collector.paused():
            try:
                body = await loop.run_in_executor(None, framing.decode_request_body, handler.api, header.api_version,
                                                  frame, pos)
            except DecodeError as e:
                self._malformed(handler, header, e)
                raise CloseConnection(str(e)) from None
            ctx = RequestContext(self.broker, header, handler.api, self.listener, self.peer)
            result = self.broker.dispatcher.call(handler.fn, ctx, body)
            if not (result is None or isinstance(result, Message)):
                result = await result
            encoded = await loop.run_in_executor(None, self._encode_whole, ctx, result)
            del body, result  # freed now, while collection still pauses
        return encoded

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

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.transport.close()
