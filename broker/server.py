"""The asyncio (uvloop) server: listen, accept connections, stop gracefully.

Every node of the cluster (`--brokers N`, broker.cluster) listens on each configured listener: node i
on the listener's port + i, or with port 0 on N consecutive free ports (`broker.startup.bind_nodes`).
The server is the cluster's NodeSwitch: a node taken down stops accepting, closes its listening
sockets and drops its connections; brought up, it listens on the same ports again.

With `--metrics-port`, an HTTP server (`broker.http_server`) answers `/metrics`
and `/ready` from before the log is opened until the broker has stopped. With
`--admin-api`, the fault injector (`broker.faults`) sees every request from the
first, and the admin API is served on that HTTP server; without `--metrics-port`,
on one of its own that starts once Kafka requests are served (see `_start_http`).
"""

from __future__ import annotations

import asyncio
import ssl
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
from kafkette.broker.cluster import ClusterError
from kafkette.broker.config import BrokerConfig
from kafkette.broker.connection import Connection
from kafkette.broker.connections import IDLE_SWEEPS
from kafkette.broker.faults import FaultInjector
from kafkette.broker.limits import plan_descriptors, raise_open_file_limit
from kafkette.broker.listeners import Listener, ListenerSpec
from kafkette.broker.observers import log_request
from kafkette.broker.startup import bind_listener, bind_nodes, listening_socket, write_ready_file
from kafkette.broker.state import Broker
from kafkette.storage.handles import OPEN_FILES
from kafkette.storage.lock import DataDirLock

if TYPE_CHECKING:
    from kafkette.broker.http_server import HttpServer

log = structlog.get_logger("kafkette.server")


class Server:
    def __init__(self, config: BrokerConfig) -> None:
        self.config = config
        self.broker = Broker(config)
        self._socks: dict[int, list[socket.socket]] = {}  # node id -> its listening sockets, while it is up
        self._acceptors: dict[int, list[asyncio.Task]] = {}  # node id -> its accept loops, one per socket
        # node id -> (listener, host, port, TLS context) of each socket it listens on, to listen again after down
        self._bound: dict[int, list[tuple[Listener, str, int, ssl.SSLContext | None]]] = {}
        self._lock: DataDirLock | None = None
        self.listeners: list[Listener] = []  # of the first listener name, once started
        self.http: HttpServer | None = None
        self._http_sock: socket.socket | None = None
        self._http_task: asyncio.Task | None = None
        self.ready = False  # serving Kafka requests: what /ready answers
        self.bound: list[str] = []  # "NAME://HOST:PORT" of node 0's listening sockets, once started
        if config.log_level == "debug":
            self.broker.request_observers.append(log_request)

    async def start(self) -> None:
        """Claim the ports, then the data dir, then open the log: a busy port leaves the data dir untouched."""
        started = time.perf_counter()
        specs = self.config.listeners()
        contexts = [tls.server_context(self.config, spec.security_protocol) for spec in specs]
        descriptors = plan_descriptors(self.config.max_connections, raise_open_file_limit())
        self.broker.configs.connection_capacity = descriptors.connections
        OPEN_FILES.set_capacity(descriptors.log_files)
        nodes = self.config.node_ids()
        by_spec: list[list[socket.socket]] = []  # per listener, one socket per node
        try:
            settings = ("listener", "listener") if self.config.listener else ("host", "port")
            for spec in specs:
                by_spec.append(bind_nodes(spec.host, spec.port, len(nodes), settings=settings))
            if self.config.metrics_port or self.config.admin_api:
                self._http_sock = bind_listener(self.config.metrics_host, self.config.metrics_port,
                                                settings=("metrics_host", "metrics_port"))
            if self.config.metrics_port:
                await self._start_http()
            if self.config.storage == "disk":
                self._lock = DataDirLock.acquire(self.config.data_dir)
            await self.broker.start()
        except BaseException:
            for sock in (sock for node_socks in by_spec for sock in node_socks):
                sock.close()
            if self._lock is not None:
                self._lock.release()
            await self._stop_http()
            raise
        if self.config.admin_api:
            self.broker.faults = FaultInjector()
            self.broker.faults.install(self.broker.dispatcher)
        for spec, node_socks, context in zip(specs, by_spec, contexts):
            for index, (node, sock) in enumerate(zip(nodes, node_socks)):
                port = sock.getsockname()[1]
                listener = self._listener(spec, node, index, port)
                if index == 0:
                    self.bound.append(f"{spec.name}://{spec.host}:{port}")
                self.broker.cluster.add(listener)
                self._bound.setdefault(node, []).append((listener, spec.host, port, context))
                self._listen(listener, sock, context)
                log.info("kafkette listening", listener=spec.name, node=node, address=f"{spec.host}:{port}",
                         advertised="%s:%d" % listener.advertised)
        self.broker.cluster.switch = self
        idle_ms = self.config.connections_max_idle_ms
        self.broker.every(max(idle_ms // IDLE_SWEEPS, 10), self.broker.connections.sweep_idle)
        self.listeners = self.broker.cluster.brokers(specs[0].name)
        if any(spec.security_protocol.startswith("SASL_") for spec in specs) and not self.broker.users.has_any() \
                and "OAUTHBEARER" not in self.config.sasl_enabled_mechanisms:
            log.warning("no SASL user can log in", hint="pass --sasl-user NAME:PASSWORD or --sasl-users-file PATH")
        self.ready = True
        if self._http_sock is not None and self.http is None:
            self._http_task = asyncio.get_running_loop().create_task(self._start_http())
        log.info("kafkette started", data_dir=str(self.config.data_dir), version=__version__,
                 metrics=f"http://{self.http_address}/metrics" if self.config.metrics_port else None,
                 admin_api=f"http://{self.http_address}/admin" if self.config.admin_api else None,
                 startup_ms=round((time.perf_counter() - started) * 1000, 1),
                 max_connections=descriptors.connections, open_log_files=descriptors.log_files,
                 open_file_limit=descriptors.limit)

    def _listen(self, listener: Listener, sock: socket.socket, context: ssl.SSLContext | None) -> None:
        self._socks.setdefault(listener.node_id, []).append(sock)
        self._acceptors.setdefault(listener.node_id, []).append(
            asyncio.get_running_loop().create_task(self._accept(sock, listener, context)))

    async def _accept(self, sock: socket.socket, listener: Listener, context: ssl.SSLContext | None) -> None:
        """Accept connections while fewer than the limit are open; at the limit, new ones wait in the
        listen backlog until one closes, as Kafka's acceptor makes them wait (max.connections)."""
        loop = asyncio.get_running_loop()
        while True:
            await self.broker.connections.wait_for_room()
            try:
                client, _ = await loop.sock_accept(sock)
            except OSError as err:  # EMFILE and the like: the connection stays in the backlog meanwhile
                log.error("cannot accept a connection", error=err.strerror or str(err), retry_in_ms=100)
                await asyncio.sleep(0.1)
                continue
            await self.broker.connections.wait_for_room()  # max.connections was lowered while this accept waited
            client.setblocking(False)
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            serving = self._serve(client, listener, context)
            if context is None:
                await serving
            else:  # a TLS handshake takes round trips: the next client is not kept waiting for it
                loop.create_task(serving)

    async def _serve(self, client: socket.socket, listener: Listener, context: ssl.SSLContext | None) -> None:
        try:
            transport, _ = await asyncio.get_running_loop().connect_accepted_socket(
                partial(Connection, self.broker, listener), client, ssl=context)
        except (OSError, ssl.SSLError) as err:
            log.warning("cannot serve an accepted connection", listener=listener.name, error=str(err))
            client.close()
            return
        if listener.node_id not in self._acceptors:  # its node went down during the TLS handshake
            transport.close()

    def _listener(self, spec: ListenerSpec, node: int, index: int, bound_port: int) -> Listener:
        host, port = self.config.advertised_address(spec, index)
        return Listener(spec.name, spec.security_protocol, node, (host, port or bound_port))

    # ------------------------------------------------------------------ the cluster's NodeSwitch

    def close(self, node: int) -> None:
        """Stop listening as `node` and drop its connections (its clients see the broker go away)."""
        for acceptor in self._acceptors.pop(node, []):
            acceptor.cancel()  # its wait on the socket ends at once, so the port is free once the socket closes
        for sock in self._socks.pop(node, []):
            sock.close()
        for conn in [c for c in self.broker.connections if c.listener.node_id == node]:
            conn.close()

    async def open(self, node: int) -> None:
        """Listen as `node` again, on the ports it had; ClusterError if one is taken meanwhile."""
        socks: list[socket.socket] = []
        try:
            for _, host, port, _ in self._bound[node]:
                socks.append(listening_socket(host, port))
        except OSError as e:
            for sock in socks:
                sock.close()
            raise ClusterError("conflict", f"cannot bring broker {node} up: listening on {host}:{port} failed "
                                           f"({e.strerror or e}); another program may have taken the port") from None
        for (listener, _, _, context), sock in zip(self._bound[node], socks):
            self._listen(listener, sock, context)

    @property
    def bootstrap(self) -> str:
        """HOST:PORT a client on the first listener bootstraps from."""
        host, port = self.listeners[0].advertised
        return f"{host}:{port}"

    @property
    def http_address(self) -> str | None:
        """HOST:PORT of /ready, /metrics and /admin, if served."""
        if self._http_sock is None:
            return None
        host, port = self._http_sock.getsockname()[:2]
        return f"{host}:{port}"

    async def _start_http(self) -> None:
        """The HTTP server of /ready, /metrics (with --metrics-port) and the admin API (with --admin-api).

        With --metrics-port it starts before the log is opened, so /metrics counts every request.
        With only --admin-api (as the pytest fixture runs a broker) it starts after Kafka requests are
        served, importing aiohttp (0.25 s) in a thread meanwhile: the broker is ready that much sooner,
        and an admin request sent before waits in the socket's backlog.
        """
        assert self._http_sock is not None
        metrics = bool(self.config.metrics_port)
        if not metrics:
            await asyncio.to_thread(_import_admin_api)
        from kafkette.broker.http_server import HttpServer  # aiohttp and prometheus_client: only when asked for

        self.http = HttpServer(self._http_sock, lambda: self.ready)
        if metrics:
            from kafkette.broker.metrics import RequestStats, metrics_registry, metrics_route

            requests = RequestStats()
            self.http.add_route("GET", "/metrics", metrics_route(metrics_registry(self.broker, requests)))
        if self.config.admin_api:
            from kafkette.broker.admin_api import add_admin_routes

            _import_admin_api()
            add_admin_routes(self.http, self.broker)
        try:
            await self.http.start()
        except Exception:
            if metrics:
                raise
            log.exception("the admin API's HTTP server failed to start", address=self.http_address)
            return
        if metrics:
            self.broker.request_observers.append(requests.observe)

    async def _stop_http(self) -> None:
        if self._http_task is not None:
            self._http_task.cancel()
            await asyncio.gather(self._http_task, return_exceptions=True)
        if self.http is not None:
            await self.http.stop()
        elif self._http_sock is not None:
            self._http_sock.close()

    def ready_text(self) -> str:
        """The ready file: the bootstrap address, then (with several listeners) each one's NAME://HOST:PORT,
        then `http=HOST:PORT` of the HTTP server (metrics, admin API) if it runs. With several brokers
        these are node 0's addresses; node i listens on each port + i."""
        http = [f"http={self.http_address}"] if self.http_address else []
        return "\n".join([self.bootstrap, *(self.bound if len(self.bound) > 1 else ()), *http])

    async def stop(self) -> None:
        """Stop accepting, let in-flight requests finish briefly, then flush and close the log."""
        self.ready = False
        acceptors = [acceptor for node_acceptors in self._acceptors.values() for acceptor in node_acceptors]
        for acceptor in acceptors:
            acceptor.cancel()
        await asyncio.gather(*acceptors, return_exceptions=True)
        for sock in (sock for node_socks in self._socks.values() for sock in node_socks):
            sock.close()
        self.broker.groups.close()  # group joins and syncs waiting for a rebalance are answered no more
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline and any(c.waiting for c in self.broker.connections):
            await asyncio.sleep(0.01)
        for conn in list(self.broker.connections):
            conn.close()
        await self.broker.stop()
        if self._lock is not None:
            self._lock.release()
        await self._stop_http()
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


def _import_admin_api() -> None:
    """The admin API and the modules that add their routes to it."""
    from kafkette.broker import cluster_admin, faults_admin  # noqa: F401
