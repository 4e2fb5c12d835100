"""Calling a handler, through the interceptors installed on the broker.

An interceptor sees every request before its handler and the result after it:
`interceptor(ctx, body, call_next) -> result`. It may answer by itself without
calling `call_next`, change or delay the result, or raise `CloseConnection`
(directly or from an awaited result) to drop the client's connection unanswered.
With no interceptors installed, a request costs one list check.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Callable

from kafkette.broker.context import RequestContext

# A handler's result: the response, an awaitable of it, or None (no response, as Produce with acks=0).
Result = Any
Handler = Callable[[RequestContext, Any], Result]
Interceptor = Callable[[RequestContext, Any, Handler], Result]


class CloseConnection(Exception):
    """Drop the connection without answering (fault injection, a failed authentication)."""


class Dispatcher:
    def __init__(self) -> None:
        self.interceptors: list[Interceptor] = []

    def call(self, handler: Handler, ctx: RequestContext, body: Any) -> Result:
        if not self.interceptors:
            return handler(ctx, body)
        chain = handler
        for interceptor in reversed(self.interceptors):
            chain = partial(_intercepted, interceptor, chain)
        return chain(ctx, body)


def _intercepted(interceptor: Interceptor, call_next: Handler, ctx: RequestContext, body: Any) -> Result:
    return interceptor(ctx, body, call_next)
