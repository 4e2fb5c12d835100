"""The asyncio (uvloop) server: listen, accept connections, stop gracefully.

Every node of the cluster (`--brokers N`, broker.cluster) listens on each configured listener: node i
on the listener's port + i, or with port 0 on N consecutive free ports (`broker.startup.bind_nodes`).
The server is the cluster's NodeSwitch: a node taken down stops listening and drops its connections;
brought up, it listens on the same ports again.

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
from kafkette.broker.config import BrokerConfig
from kafkette.broker.connection import Connection
from kafkette.broker.cluster import ClusterError
from kafkette.broker.listeners import Listener, ListenerSpec
from kafkette.broker.observers import log_request
from kafkette.broker.startup import StartupError, bind_listener, bind_nodes, listening_socket, write_ready_file
from kafkette.broker.state import Broker
from kafkette.storage.lock import DataDirLock

if TYPE_CHECKING:
    from kafkette.broker.http_server import HttpServer

log = structlog.get_logger("kafkette.server")


class Server:
    def __init__(self, config: BrokerConfig) -> None:
        self.config = config
        self.broker = Broker(config)
        self._servers: dict[int, list[asyncio.AbstractServer]] = {}  # node id -> its listening servers
        self._bound: dict[int, list[tuple[Listener, str, int]]] = {}  # node id -> (listener, host, port) it binds
        self._lock: DataDirLock | None = None
        self.listeners: list[Listener] = []  # of the first listener name, once started
        self.http: HttpServer | None = None
        self.ready = False  # serving Kafka requests: what /ready answers
        if config.log_level == "debug":
            self.broker.request_observers.append(log_request)

    async def start(self) -> None:
        """Claim the ports, then the data dir, then open the log: a busy port leaves the data dir untouched."""
        started = time.perf_counter()
        specs = self.config.listeners()
        unsupported = [spec for spec in specs if spec.security_protocol != "PLAINTEXT"]
        if unsupported:
            raise StartupError(f"listener {unsupported[0]}: kafkette serves only PLAINTEXT listeners so far; "
                               f"use PLAINTEXT://HOST:PORT")
        nodes = self.config.node_ids()
        by_spec: list[list[socket.socket]] = []  # per listener, one socket per node
        try:
            settings = ("listener", "listener") if self.config.listener else ("host", "port")
            for spec in specs:
                by_spec.append(bind_nodes(spec.host, spec.port, len(nodes), settings=settings))
            if self.config.metrics_port or self.config.admin_api:
                await self._start_http()
            if self.config.storage == "disk":
                self._lock = DataDirLock.acquire(self.config.data_dir)
            await self.broker.start()
        except BaseException:
            for sock in (sock for node_socks in by_spec for sock in node_socks):
                sock.close()
            if self._lock is not None:
                self._lock.release()
            if self.http is not None:
                await self.http.stop()
            raise
        for spec, node_socks in zip(specs, by_spec):
            for index, (node, sock) in enumerate(zip(nodes, node_socks)):
                listener = self._listener(spec, node, index, sock.getsockname()[1])
                self.broker.cluster.add(listener)
                self._bound.setdefault(node, []).append((listener, spec.host, sock.getsockname()[1]))
                await self._serve(listener, sock)
                log.info("kafkette listening", listener=spec.name, node=node,
                         address=f"{spec.host}:{sock.getsockname()[1]}", advertised="%s:%d" % listener.advertised)
        self.broker.cluster.switch = self
        self.listeners = self.broker.cluster.brokers(specs[0].name)
        self.ready = True
        log.info("kafkette started", data_dir=str(self.config.data_dir), version=__version__,
                 metrics=f"http://{self.http.address}/metrics" if self.http else None,
                 startup_ms=round((time.perf_counter() - started) * 1000, 1))

    def _listener(self, spec: ListenerSpec, node: int, index: int, bound_port: int) -> Listener:
        host, port = self.config.advertised_address(spec, index)
        return Listener(spec.name, spec.security_protocol, node, (host, port or bound_port))

    async def _serve(self, listener: Listener, sock: socket.socket) -> None:
        server = await asyncio.get_running_loop().create_server(partial(Connection, self.broker, listener),
                                                                sock=sock, backlog=1024)
        self._servers.setdefault(listener.node_id, []).append(server)

    # ------------------------------------------------------------------ the cluster's NodeSwitch

    def close(self, node: int) -> None:
        """Stop listening as `node` and drop its connections (its clients see the broker go away)."""
        for server in self._servers.pop(node, []):
            server.close()
        for conn in [c for c in self.broker.connections if c.listener.node_id == node]:
            conn.close()

    async def open(self, node: int) -> None:
        """Listen as `node` again, on the ports it had; ClusterError if one is taken meanwhile."""
        socks: list[socket.socket] = []
        try:
            for _, host, port in self._bound[node]:
                socks.append(listening_socket(host, port))
        except OSError as e:
            for sock in socks:
                sock.close()
            raise ClusterError("conflict", f"cannot bring broker {node} up: listening on {host}:{port} failed "
                                           f"({e.strerror or e}); another program may have taken the port") from None
        for (listener, _, _), sock in zip(self._bound[node], socks):
            await self._serve(listener, sock)

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
            from kafkette.broker import cluster_admin  # noqa: F401  (registers its routes)
            from kafkette.broker.admin_api import add_admin_routes

            add_admin_routes(self.http, self.broker)
        await self.http.start()
        self.broker.request_observers.append(requests.observe)

    async def stop(self) -> None:
        """Stop accepting, let in-flight requests finish briefly, then flush and close the log."""
        self.ready = False
        for servers in self._servers.values():
            for server in servers:
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
            write_ready_file(ready_file, server.bootstrap, server.http.address if server.http else None)
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
