"""The request log: the last requests the broker received, oldest first, in a ring buffer.

Kept by the fault injector (`broker.faults`), so it exists only with the admin API on; a test
reads it (`GET /admin/requests`, `kafka_broker.requests()`, `kafkette requests`) to see what its
client really sent, and which fault rule answered. A request is logged when it arrives, so those
answered with nothing (dropped, held) are in it too; frames the broker cannot decode are not.
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass
from itertools import islice
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the client side (kafkette.faults) imports LoggedRequest without the broker
    from kafkette.broker.context import RequestContext

REQUEST_LOG_SIZE = 10_000  # entries; about 2 MB at most


@dataclass(slots=True)
class LoggedRequest:
    """One request the broker received, as `GET /admin/requests` lists it."""

    seq: int  # 1, 2, ... in arrival order over the broker's life; `since` takes one
    time_ms: int
    api: str
    api_key: int
    version: int
    client_id: str | None
    correlation_id: int
    peer: str
    broker: int  # the node id the request was addressed to
    rule: int | None = None  # the fault rule that answered it
    action: str | None = None  # and what it did

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class RequestLog:
    def __init__(self, size: int = REQUEST_LOG_SIZE) -> None:
        self.entries: deque[LoggedRequest] = deque(maxlen=size)
        self.last_seq = 0

    def record(self, ctx: RequestContext) -> LoggedRequest:
        self.last_seq += 1
        header = ctx.header
        entry = LoggedRequest(self.last_seq, ctx.now_ms(), ctx.api.name, ctx.api.key, header.api_version,
                              header.client_id, header.correlation_id, ctx.peer, ctx.node_id)
        self.entries.append(entry)
        return entry

    def since(self, seq: int = 0, api_key: int | None = None, client_id: str | None = None,
              limit: int | None = None) -> list[LoggedRequest]:
        """The entries after `seq`, oldest first, optionally of one API or client; the newest `limit` of them."""
        first = self.entries[0].seq if self.entries else self.last_seq + 1
        found = [e for e in islice(self.entries, max(0, seq - first + 1), None)
                 if (api_key is None or e.api_key == api_key) and (client_id is None or e.client_id == client_id)]
        return found[-limit:] if limit else found

    def missed(self, seq: int) -> int:
        """How many entries after `seq` the ring buffer has already let go of."""
        first = self.entries[0].seq if self.entries else self.last_seq + 1
        return max(0, first - seq - 1)
