"""The handler registry: API key -> handler and the versions it serves.

The registry is the single source of truth: ApiVersions is built from it, so
nothing is advertised that is not served. A handler module registers itself
with `@handles(API)`; `broker.handlers` imports every handler module.

A handler is `handler(broker, request) -> response | awaitable | None`:
- it makes every state change synchronously, before its first `await`, so
  pipelined requests on one connection take effect in the order they came;
- it returns the response body, an awaitable of it (long polls, fsync), or
  None when no response is sent (Produce with acks=0).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Awaitable, Callable

from kafkette.protocol.framing import Request
from kafkette.protocol.schema import Api

if TYPE_CHECKING:
    from kafkette.broker.state import Broker

HandlerFn = Callable[["Broker", Request], Any | Awaitable[Any] | None]


@dataclass(frozen=True)
class Handler:
    api: Api
    versions: tuple[int, int]
    fn: HandlerFn


HANDLERS: dict[int, Handler] = {}


def handles(api: Api, versions: tuple[int, int] | None = None) -> Callable[[HandlerFn], HandlerFn]:
    """Register `fn` as the handler of `api` for `versions` (default: every declared version)."""

    def register(fn: HandlerFn) -> HandlerFn:
        served = versions or api.versions
        assert api.versions[0] <= served[0] <= served[1] <= api.versions[1], f"{api.name}: {served} not declared"
        assert api.key not in HANDLERS, f"{api.name} registered twice"
        HANDLERS[api.key] = Handler(api, served, fn)
        return fn

    return register


def lookup(api_key: int, version: int) -> Handler | None:
    handler = HANDLERS.get(api_key)
    if handler is None or not handler.versions[0] <= version <= handler.versions[1]:
        return None
    return handler
