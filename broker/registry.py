"""The handler registry: API key -> handler and the versions it serves.

The registry is the single source of truth: ApiVersions is built from it and
a request is decoded only when its version is served here, so nothing is
advertised that is not served. A handler module registers itself with
`@handles(API, versions=(low, high))`; `broker.handlers` imports every handler module.

A handler is `handler(ctx, body) -> response | awaitable | None`:
- it makes every state change synchronously, before its first `await`, so
  pipelined requests on one connection take effect in the order they came;
- it returns the response body, an awaitable of it (long polls, fsync), or
  None when no response is sent (Produce with acks=0).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from kafkette.broker.dispatch import Handler
from kafkette.protocol.schema import Api


@dataclass(frozen=True)
class Registered:
    api: Api
    versions: tuple[int, int]
    fn: Handler


HANDLERS: dict[int, Registered] = {}


def handles(api: Api, versions: tuple[int, int]) -> Callable[[Handler], Handler]:
    """Register `fn` as the handler of `api` for `versions` (both ends served)."""

    def register(fn: Handler) -> Handler:
        assert api.versions[0] <= versions[0] <= versions[1] <= api.versions[1], f"{api.name}: {versions} not declared"
        assert api.key not in HANDLERS, f"{api.name} registered twice"
        HANDLERS[api.key] = Registered(api, versions, fn)
        return fn

    return register


def lookup(api_key: int, version: int) -> Registered | None:
    handler = HANDLERS.get(api_key)
    if handler is None or not handler.versions[0] <= version <= handler.versions[1]:
        return None
    return handler
