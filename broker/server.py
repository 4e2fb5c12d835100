"""The asyncio (uvloop) server: listen, accept connections, stop gracefully.

With `--metrics-port`, an HTTP server (`broker.http_server`) answers `/metrics`
and `/ready` from before the log is opened until the broker has stopped.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import time
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

from kafkette import __version__
from kafkette.broker import handlers  # noqa: F401  (registers every handler)
from kafkette.broker.auth import tls
from kafkette.broker.config import BrokerConfig
from kafkette.broker.connection import Connection
from kafkette.broker.listeners import Listener, ListenerSpec
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
        self._servers: list[asyncio.AbstractServer] = []
        self._lock: DataDirLock | None = None
        self.listeners: list[Listener] = []  # of the first listener name, once started
        self.http: HttpServer | None = None
        self.ready = False  # serving Kafka requests: what /ready answers
        self.bound: list[str] = []  # "NAME://HOST:PORT" of every listening socket, once started
        if config.log_level == "debug":
            self.broker.request_observers.append(log_request)

    async def start(self) -> None:
        """Claim the ports, then the data dir, then open the log: a busy port leaves the data dir untouched."""
        started = time.perf_counter()
        specs = self.config.listeners()
        contexts = [tls.server_context(self.config, spec.security_protocol) for spec in specs]
        socks: list[socket.socket] = []
        try:
            settings = ("listener", "listener") if self.config.listener else ("host", "port")
            for spec in specs:
                socks.append(bind_listener(spec.host, spec.port, settings=settings))
            if self.config.metrics_port or self.config.admin_api:
                await self._start_http()
            if self.config.storage == "disk":
                self._lock = DataDirLock.acquire(self.config.data_dir)
            await self.broker.start()
        except BaseException:
            for sock in socks:
                sock.close()
            if self._lock is not None:
                self._lock.release()
            if self.http is not None:
                await self.http.stop()
            raise
        loop = asyncio.get_running_loop()
        for spec, sock, context in zip(specs, socks, contexts):
            listener = self._listener(spec, sock.getsockname()[1])
            self.bound.append(f"{spec.name}://{spec.host}:{sock.getsockname()[1]}")
            self.broker.cluster.add(listener)
            self._servers.append(await loop.create_server(partial(Connection, self.broker, listener), sock=sock,
                                                          ssl=context, backlog=1024))
            log.info("kafkette listening", listener=spec.name, address=f"{spec.host}:{sock.getsockname()[1]}",
                     advertised="%s:%d" % listener.advertised)
        self.listeners = self.broker.cluster.brokers(specs[0].name)
        if any(spec.security_protocol.startswith("SASL_") for spec in specs) and not self.broker.users.has_any() \
                and "OAUTHBEARER" not in self.config.sasl_enabled_mechanisms:
            log.warning("no SASL user can log in", hint="pass --sasl-user NAME:PASSWORD or --sasl-users-file PATH")
        self.ready = True
        log.info("kafkette started", data_dir=str(self.config.data_dir), version=__version__,
                 metrics=f"http://{self.http.address}/metrics" if self.http else None,
                 startup_ms=round((time.perf_counter() - started) * 1000, 1))

    def _listener(self, spec: ListenerSpec, bound_port: int) -> Listener:
        host, port = self.config.advertised_address(spec)
        return Listener(spec.name, spec.security_protocol, self.config.node_id, (host, port or bound_port))

    @property
    def bootstrap(self) -> str:
        """HOST:PORT a client on the first listener bootstraps from."""
        host, port = self.listeners[0].advertised
        return f"{host}:{port}"

    async def _start_http(self) -> None:
        """The HTTP server of /ready, /metrics and the admin API; its request counters join the request observers."""
        from kafkette.broker.http_server import HttpServer  # aiohttp and prometheus_client: only when asked for
        from kafkette.broker.metrics import RequestStats, metrics_registry, metrics_route

        sock = bind_listener(self.config.metrics_host, self.config.metrics_port,
                             settings=("metrics_host", "metrics_port"))
        self.http = HttpServer(sock, lambda: self.ready)
        requests = RequestStats()
        self.http.add_route("GET", "/metrics", metrics_route(metrics_registry(self.broker, requests)))
        if self.config.admin_api:
            from kafkette.broker.admin_api import add_admin_routes

            add_admin_routes(self.http, self.broker)
        await self.http.start()
        self.broker.request_observers.append(requests.observe)

    def ready_text(self) -> str:
        """The ready file: the bootstrap address, then (with several listeners) each one's NAME://HOST:PORT,
        then `http=HOST:PORT` of the HTTP server (metrics, admin API) if it runs."""
        http = [f"http={self.http.address}"] if self.http else []
        return "\n".join([self.bootstrap, *(self.bound if len(self.bound) > 1 else ()), *http])

    async def stop(self) -> None:
        """Stop accepting, let in-flight requests finish briefly, then flush and close the log."""
        self.ready = False
        for server in self._servers:
            server.close()
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
            write_ready_file(ready_file, server.ready_text())
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
