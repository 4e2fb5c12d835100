"""The broker's open client connections: how many may be open at once, and closing the idle ones.

Kafka's `max.connections`: once `limit` connections are open, the acceptor stops accepting, so new
ones wait in the listen backlog until one closes (Kafka's acceptor blocks the same way). Reaching the
limit is logged once per burst: times it is reached less than BURST_GAP_S apart are one burst.
Kafka's `connections.max.idle.ms`: a sweep runs IDLE_SWEEPS times per idle period and closes a connection that received nothing during all of them (and
awaits no answer), so it goes between one and 1 + 1/IDLE_SWEEPS idle periods after its last request.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Iterator

import structlog

if TYPE_CHECKING:
    from kafkette.broker.connection import Connection

log = structlog.get_logger("kafkette.connection")
IDLE_SWEEPS = 10
BURST_GAP_S = 60.0


class ConnectionTable:
    def __init__(self, limit: int = 2**31 - 1) -> None:
        self.limit = limit
        self._open: set[Connection] = set()
        self._room = asyncio.Event()
        self._room.set()
        self._last_full = -BURST_GAP_S  # monotonic time a wait at the limit last ended

    def __len__(self) -> int:
        return len(self._open)

    def set_limit(self, limit: int) -> None:
        """A new max.connections: open connections stay; new ones wait while as many are open."""
        self.limit = limit
        if len(self._open) < limit:
            self._room.set()
        else:
            self._room.clear()

    def __iter__(self) -> Iterator[Connection]:
        return iter(list(self._open))

    def add(self, conn: Connection) -> None:
        self._open.add(conn)
        if len(self._open) >= self.limit:
            self._room.clear()

    def discard(self, conn: Connection) -> None:
        self._open.discard(conn)
        if len(self._open) < self.limit:
            self._room.set()

    async def wait_for_room(self) -> None:
        """Return once another connection may be accepted."""
        if self._room.is_set():
            return
        now = time.monotonic()
        if now - self._last_full > BURST_GAP_S:
            log.warning("connection limit reached; new connections wait until one closes", limit=self.limit,
                        hint="raise --max-connections (and the open-file limit) if clients need more")
        await self._room.wait()
        self._last_full = time.monotonic()  # the burst goes on while the limit is hit again within the gap

    def sweep_idle(self) -> None:
        """Count one idle sweep for every connection; close those idle for IDLE_SWEEPS sweeps."""
        for conn in self:
            if conn.waiting is not None:
                conn.idle_ticks = 0
                continue
            conn.idle_ticks += 1
            if conn.idle_ticks > IDLE_SWEEPS:
                log.debug("closing an idle connection", peer=conn.peer)
                conn.close()
