"""The asyncio (uvloop) server: listen, accept connections, stop gracefully."""

from __future__ import annotations

import asyncio
import signal
import socket
import time
from pathlib import Path

import structlog

from kafkette import __version__
from kafkette.broker import handlers  # noqa: F401  (registers every handler)
from kafkette.broker.config import BrokerConfig
from kafkette.broker.connection import Connection
from kafkette.broker.connections import IDLE_SWEEPS
from kafkette.broker.context import Listener
from kafkette.broker.limits import plan_descriptors, raise_open_file_limit
from kafkette.broker.startup import bind_listener, write_ready_file
from kafkette.broker.state import Broker
from kafkette.storage.handles import OPEN_FILES
from kafkette.storage.lock import DataDirLock

log = structlog.get_logger("kafkette.server")


class Server:
    def __init__(self, config: BrokerConfig) -> None:
        self.config = config
        self.broker = Broker(config)
        self._acceptor: asyncio.Task | None = None
        self._sock: socket.socket | None = None
        self._lock: DataDirLock | None = None
        self.port = config.port

    async def start(self) -> None:
        """Claim the port, then the data dir, then open the log: a busy port leaves the data dir untouched."""
        started = time.perf_counter()
        descriptors = plan_descriptors(self.config.max_connections, raise_open_file_limit())
        sock = bind_listener(self.config.host, self.config.port)
        self.broker.connections.limit = descriptors.connections
        OPEN_FILES.set_capacity(descriptors.log_files)
        try:
            if self.config.storage == "disk":
                self._lock = DataDirLock.acquire(self.config.data_dir)
            await self.broker.start()
        except BaseException:
            sock.close()
            if self._lock is not None:
                self._lock.release()
            raise
        self.port = sock.getsockname()[1]
        if not self.config.advertised_port and self.config.port == 0:
            self.config.advertised_port = self.port
        listener = Listener("PLAINTEXT", "PLAINTEXT", self.config.node_id, self.config.advertised)
        self._sock = sock
        self._acceptor = asyncio.get_running_loop().create_task(self._accept(sock, listener))
        idle_ms = self.config.connections_max_idle_ms
        self.broker.every(max(idle_ms // IDLE_SWEEPS, 10), self.broker.connections.sweep_idle)
        log.info("kafkette listening", address=f"{self.config.host}:{self.port}",
                 advertised="%s:%d" % self.config.advertised, data_dir=str(self.config.data_dir),
                 version=__version__, startup_ms=round((time.perf_counter() - started) * 1000, 1),
                 max_connections=descriptors.connections, open_log_files=descriptors.log_files,
                 open_file_limit=descriptors.limit)

    async def _accept(self, sock: socket.socket, listener: Listener) -> None:
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
            client.setblocking(False)
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            try:
                await loop.connect_accepted_socket(lambda: Connection(self.broker, listener), client)
            except OSError as err:
                log.warning("cannot serve an accepted connection", error=err.strerror or str(err))
                client.close()

    async def stop(self) -> None:
        """Stop accepting, let in-flight requests finish briefly, then flush and close the log."""
        if self._acceptor is not None:
            self._acceptor.cancel()
            await asyncio.gather(self._acceptor, return_exceptions=True)
        if self._sock is not None:
            self._sock.close()
        self.broker.groups.close()  # group joins and syncs waiting for a rebalance are answered no more
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline and any(c.waiting for c in self.broker.connections):
            await asyncio.sleep(0.01)
        for conn in list(self.broker.connections):
            conn.close()
        await self.broker.stop()
        if self._lock is not None:
            self._lock.release()
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
