"""The broker's HTTP side (`--metrics-port`): one aiohttp server that features add their routes to.

It answers `/ready` itself (200 while the broker serves Kafka requests, 503
before and after); `broker.metrics` adds `/metrics`, and a later feature may
add its own routes with `add_route` before `start`. Imported only when the
metrics port is set, so a broker without it never loads aiohttp.
"""

from __future__ import annotations

import socket
from typing import Awaitable, Callable

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
SHUTDOWN_TIMEOUT_S = 1.0  # a scrape still running at stop is given this long


class HttpServer:
    def __init__(self, sock: socket.socket, is_ready: Callable[[], bool]) -> None:
        """`sock` is bound and listening (`broker.startup.bind_listener`)."""
        self.sock = sock
        self.is_ready = is_ready
        self.app = web.Application()
        self.add_route("GET", "/ready", self._ready)
        self._runner: web.AppRunner | None = None

    @property
    def address(self) -> str:
        host, port = self.sock.getsockname()[:2]
        return f"{host}:{port}"

    def add_route(self, method: str, path: str, handler: Handler) -> None:
        """Serve `method path` with `handler`; only before `start`."""
        self.app.router.add_route(method, path, handler)

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT_S)
        await self._runner.setup()
        await web.SockSite(self._runner, self.sock).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        self.sock.close()

    async def _ready(self, _request: web.Request) -> web.Response:
        if self.is_ready():
            return web.Response(text="ready\n")
        return web.Response(status=503, text="not ready: the broker is starting or stopping\n")
