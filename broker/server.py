"""The asyncio (uvloop) server: listen, accept connections, stop gracefully."""

from __future__ import annotations

import asyncio
import signal
import time

import structlog

from kafkette import __version__
from kafkette.broker import handlers  # noqa: F401  (registers every handler)
from kafkette.broker.config import BrokerConfig
from kafkette.broker.connection import Connection
from kafkette.broker.context import Listener
from kafkette.broker.state import Broker

log = structlog.get_logger("kafkette.server")


class Server:
    def __init__(self, config: BrokerConfig) -> None:
        self.config = config
        self.broker = Broker(config)
        self._server: asyncio.AbstractServer | None = None
        self.listener: Listener | None = None  # known once the port is bound
        self.port = config.port

    async def start(self) -> None:
        started = time.perf_counter()
        await self.broker.start()
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._connection, self.config.host,
                                                self.config.port, reuse_address=True, backlog=1024,
                                                start_serving=False)
        self.port = self._server.sockets[0].getsockname()[1]
        if not self.config.advertised_port and self.config.port == 0:
            self.config.advertised_port = self.port
        self.listener = Listener("PLAINTEXT", "PLAINTEXT", self.config.node_id, self.config.advertised)
        await self._server.start_serving()
        log.info("kafkette listening", address=f"{self.config.host}:{self.port}",
                 advertised="%s:%d" % self.config.advertised, data_dir=str(self.config.data_dir),
                 version=__version__, startup_ms=round((time.perf_counter() - started) * 1000, 1))

    def _connection(self) -> Connection:
        assert self.listener is not None
        return Connection(self.broker, self.listener)

    async def stop(self) -> None:
        """Stop accepting, let in-flight requests finish briefly, then flush and close the log."""
        if self._server is not None:
            self._server.close()
        self.broker.groups.close()  # group joins and syncs waiting for a rebalance are answered no more
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline and any(c.pending for c in self.broker.connections):
            await asyncio.sleep(0.01)
        for conn in list(self.broker.connections):
            conn.close()
        await self.broker.stop()
        log.info("kafkette stopped")


async def serve(config: BrokerConfig) -> None:
    server = Server(config)
    await server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("shutting down")
    await server.stop()
