"""What the broker tells about each request it answered: the one hook for the request log and the metrics.

`Broker.request_observers` holds functions of an `Exchange`; the connection
calls each once a request's response is written (`broker.connection`). The
list is empty unless `--log-level debug` (the request log below) or
`--metrics-port` (`broker.metrics`) put something in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import structlog

from kafkette.broker.context import RequestContext
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.model import Message

log = structlog.get_logger("kafkette.requests")


@dataclass(slots=True)
class Exchange:
    ctx: RequestContext
    response: Message | None  # None: the request is answered with nothing (Produce with acks=0)
    error: int  # the response's error code (protocol.response_error.first_error); 0 if none
    bytes_in: int  # the request frame, size prefix included
    bytes_out: int  # the response frame, size prefix included
    seconds: float  # from the request's dispatch until its response was written


RequestObserver = Callable[[Exchange], None]


def log_request(exchange: Exchange) -> None:
    """One debug line per request."""
    ctx = exchange.ctx
    fields = {"api": ctx.api.name, "version": ctx.version, "client_id": ctx.client_id,
              "correlation_id": ctx.header.correlation_id, "latency_ms": round(exchange.seconds * 1000, 3),
              "peer": ctx.peer}
    if exchange.error:
        fields["error"] = error_name(exchange.error)
    log.debug("request", **fields)


def error_name(code: int) -> str:
    try:
        return ErrorCode(code).name
    except ValueError:
        return str(code)
