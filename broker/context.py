"""What a handler knows about the request it serves, beside the typed body.

A `RequestContext` carries the header fields, who sent the request (peer,
listener, principal) and which broker it was addressed to, and the broker's
services. Cross-cutting features read it in one place rather than in each
handler: request interceptors (`broker.dispatch`), authorization, the request log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kafkette.broker.clock import now_ms
from kafkette.broker.errors import wire_error
from kafkette.broker.listeners import Listener
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.framing import RequestHeader
from kafkette.protocol.schema import Api

if TYPE_CHECKING:
    from kafkette.broker.state import Broker

ANONYMOUS = "User:ANONYMOUS"


@dataclass(slots=True)
class RequestContext:
    broker: Broker
    header: RequestHeader
    api: Api
    listener: Listener
    peer: str  # "127.0.0.1:51234"
    principal: str = ANONYMOUS

    @property
    def version(self) -> int:
        return self.header.api_version

    @property
    def client_id(self) -> str | None:
        return self.header.client_id

    @property
    def client_host(self) -> str:
        """The peer's address as DescribeGroups reports it ("/127.0.0.1")."""
        return "/" + self.peer.rpartition(":")[0]

    @property
    def node_id(self) -> int:
        """The broker this request was addressed to."""
        return self.listener.node_id

    def partition_error(self, topic: str, partition: int, current_leader_epoch: int = -1,
                        leader_only: bool = True) -> ErrorCode:
        """NONE if the node this request was addressed to may answer for the partition, else Kafka's code
        (NOT_LEADER_OR_FOLLOWER, FENCED_LEADER_EPOCH, ...): see broker.cluster."""
        return self.broker.cluster.partition_error(self.node_id, topic, partition, current_leader_epoch, leader_only)

    def coordinator_error(self, kind: int, key: str) -> ErrorCode:
        """NOT_COORDINATOR unless the node this request was addressed to coordinates `key`: a group id
        (kind GROUP) or a transactional id (TRANSACTION), as in broker.cluster."""
        return self.broker.cluster.coordinator_error(self.node_id, kind, key)

    def wire_error(self, error: ErrorCode) -> ErrorCode:
        """`error` as this request's version may carry it (see broker.errors)."""
        return wire_error(self.api, self.version, error)

    @staticmethod
    def now_ms() -> int:
        return now_ms()
