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
    advertised_min: int  # what ApiVersions names as the lowest version; below versions[0] only for Produce


HANDLERS: dict[int, Registered] = {}


def handles(api: Api, versions: tuple[int, int], advertised_min: int | None = None) -> Callable[[Handler], Handler]:
    """Register `fn` as the handler of `api` for `versions` (both ends served). `advertised_min` lower than
    versions[0] advertises versions that are not served, as Kafka 4 does for Produce v0-v2 (KAFKA-18659)."""

    def register(fn: Handler) -> Handler:
        assert api.versions[0] <= versions[0] <= versions[1] <= api.versions[1], f"{api.name}: {versions} not declared"
        assert api.key not in HANDLERS, f"{api.name} registered twice"
        lowest = versions[0] if advertised_min is None else advertised_min
        HANDLERS[api.key] = Registered(api, versions, fn, lowest)
        return fn

    return register


def lookup(api_key: int, version: int) -> Registered | None:
    handler = HANDLERS.get(api_key)
    if handler is None or not handler.versions[0] <= version <= handler.versions[1]:
        return None
    return handler
