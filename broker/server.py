"""The asyncio (uvloop) server: listen, accept connections, stop gracefully.

With `--metrics-port`, an HTTP server (`broker.http_server`) answers `/metrics`
and `/ready` from before the log is opened until the broker has stopped.
"""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

from kafkette import __version__
from kafkette.broker import handlers  # noqa: F401  (registers every handler)
from kafkette.broker.config import BrokerConfig
from kafkette.broker.connection import Connection
from kafkette.broker.context import Listener
from kafkette.broker.observers import log_request
from kafkette.broker.startup import bind_listener, write_ready_file
from kafkette.broker.state import Broker
from kafkette.storage.lock import DataDirLock

if TYPE_CHECKING:
    from kafkette.broker.http_server import HttpServer

log = structlog.get_logger("kafkette.server")


class Server:
    def __init__(self, config: BrokerConfig) -> None:
        self.config = config
        self.broker = Broker(config)
        self._server: asyncio.AbstractServer | None = None
        self._lock: DataDirLock | None = None
        self.http: HttpServer | None = None
        self.port = config.port
        self.ready = False  # serving Kafka requests: what /ready answers
        if config.log_level == "debug":
            self.broker.request_observers.append(log_request)

    async def start(self) -> None:
        """Claim the ports, then the data dir, then open the log: a busy port leaves the data dir untouched."""
        started = time.perf_counter()
        sock = bind_listener(self.config.host, self.config.port)
        try:
            if self.config.metrics_port:
                await self._start_http()
            if self.config.storage == "disk":
                self._lock = DataDirLock.acquire(self.config.data_dir)
            await self.broker.start()
        except BaseException:
            sock.close()
            if self._lock is not None:
                self._lock.release()
            if self.http is not None:
                await self.http.stop()
            raise
        self.port = sock.getsockname()[1]
        if not self.config.advertised_port and self.config.port == 0:
            self.config.advertised_port = self.port
        listener = Listener("PLAINTEXT", "PLAINTEXT", self.config.node_id, self.config.advertised)
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: Connection(self.broker, listener), sock=sock, backlog=1024)
        self.ready = True
        log.info("kafkette listening", address=f"{self.config.host}:{self.port}",
                 advertised="%s:%d" % self.config.advertised, data_dir=str(self.config.data_dir),
                 metrics=f"http://{self.http.address}/metrics" if self.http else None,
                 version=__version__, startup_ms=round((time.perf_counter() - started) * 1000, 1))

    async def _start_http(self) -> None:
        """The HTTP server of /ready and /metrics; its request counters join the request observers."""
        from kafkette.broker.http_server import HttpServer  # aiohttp and prometheus_client: only when asked for
        from kafkette.broker.metrics import RequestStats, metrics_registry, metrics_route

        sock = bind_listener(self.config.metrics_host, self.config.metrics_port,
                             settings=("metrics_host", "metrics_port"))
        self.http = HttpServer(sock, lambda: self.ready)
        requests = RequestStats()
        self.http.add_route("GET", "/metrics", metrics_route(metrics_registry(self.broker, requests)))
        await self.http.start()
        self.broker.request_observers.append(requests.observe)

    async def stop(self) -> None:
        """Stop accepting, let in-flight requests finish briefly, then flush and close the log."""
        self.ready = False
        if self._server is not None:
            self._server.close()
        self.broker.groups.close()  # group joins and syncs waiting for a rebalance are answered no more
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline and any(c.pending for c in self.broker.connections):
            await asyncio.sleep(0.01)
        for conn in list(self.broker.connections):
            conn.close()
        await self.broker.stop()
        if self._lock is not None:
            self._lock.release()
        if self.http is not None:
            await self.http.stop()
        log.info("kafkette stopped")


async def serve(config: BrokerConfig, ready_file: Path | None = None) -> None:
    server = Server(config)
    await server.start()
    if ready_file is not None:
        try:
            write_ready_file(ready_file, "%s:%d" % config.advertised)
        except Exception:
            await server.stop()
            raise
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("shutting down")
    if ready_file is not None:
        ready_file.unlink(missing_ok=True)
    await server.stop()
