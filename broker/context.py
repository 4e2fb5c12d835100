"""What a handler knows about the request it serves, beside the typed body.

A `RequestContext` carries the header fields, who sent the request (peer,
listener, principal) and which broker it was addressed to, and the broker's
services. Cross-cutting features read it in one place rather than in each
handler: request interceptors (`broker.dispatch`), authorization, the request log.

Authorization: a handler states what it needs in one call, `ctx.authorize(operation, resource_type, name)`
or `ctx.denied(operation, resource_type, items)` for many resources at once, and answers Kafka's error
for what is refused. Without an authorizer (`--authorizer none`) each costs one attribute check.
"""

from __future__ import annotations

from dataclasses import dataclass
from operator import attrgetter
from typing import TYPE_CHECKING, AbstractSet, Callable, Iterable, TypeVar

import structlog

from kafkette.broker.auth.acl import AUTHORIZATION_FAILED, CLUSTER_NAME, SUPPORTED_OPERATIONS, Operation, ResourceType
from kafkette.broker.clock import now_ms
from kafkette.broker.errors import wire_error
from kafkette.broker.listeners import Listener
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.framing import RequestHeader
from kafkette.protocol.schema import Api

if TYPE_CHECKING:
    from kafkette.broker.state import Broker

ANONYMOUS = "User:ANONYMOUS"
NOT_REQUESTED = -(1 << 31)  # the authorized-operations fields when the client did not ask for them
NOTHING: frozenset[str] = frozenset()
NAME = attrgetter("name")
LOGGED_NAMES = 10  # a refusal's log line names at most this many resources
log = structlog.get_logger("kafkette.authorizer")
T = TypeVar("T")


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
        return "/" + self.client_address

    @property
    def client_address(self) -> str:
        """The peer's IP address, as ACL hosts name it ("127.0.0.1")."""
        return self.peer.rpartition(":")[0]

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

    # ------------------------------------------------------------------ authorization (broker.auth.authorizer)

    def authorize(self, operation: Operation, resource_type: ResourceType, name: str = CLUSTER_NAME, *,
                  log: bool = True) -> bool:
        """Whether the principal may do `operation` on the resource (the cluster if no name is given). A refusal
        is logged unless `log` is false (Kafka's logIfDenied: for a check with an alternative, or a filter)."""
        authorizer = self.broker.authorizer
        if authorizer is None or authorizer.authorize(self.principal, self.client_address, operation, resource_type,
                                                      name):
            return True
        if log:
            self._log_refusal(operation, resource_type, [name])
        return False

    def refusal(self, operation: Operation, resource_type: ResourceType, name: str = CLUSTER_NAME) -> ErrorCode:
        """NONE if the principal may do `operation` on the resource, else Kafka's error for its type
        (TOPIC_, GROUP_, CLUSTER_, TRANSACTIONAL_ID_AUTHORIZATION_FAILED)."""
        if self.authorize(operation, resource_type, name):
            return ErrorCode.NONE
        return AUTHORIZATION_FAILED[resource_type]

    def denied(self, operation: Operation, resource_type: ResourceType, items: Iterable[T],
               name: Callable[[T], str] | None = NAME, *, log: bool = True) -> AbstractSet[str]:
        """The names of `items` (`name(item)`, or the items themselves with name=None) the principal may not
        `operation`; none without an authorizer. Refusals are logged unless `log` is false."""
        authorizer = self.broker.authorizer
        if authorizer is None:
            return NOTHING
        principal, host = self.principal, self.client_address
        names: Iterable = items if name is None else map(name, items)
        refused = {n for n in names if not authorizer.authorize(principal, host, operation, resource_type, n)}
        if refused and log:
            self._log_refusal(operation, resource_type, sorted(refused))
        return refused

    def authorize_any(self, operation: Operation, resource_type: ResourceType) -> bool:
        """Whether some resource of the type allows `operation` (Kafka's authorizeByResourceType, KIP-679)."""
        authorizer = self.broker.authorizer
        return authorizer is None or authorizer.authorize_any(self.principal, self.client_address, operation,
                                                              resource_type)

    def authorized_operations(self, resource_type: ResourceType, name: str = CLUSTER_NAME,
                              requested: bool = True) -> int:
        """The authorized-operations bitfield of Metadata, DescribeCluster and the group describes: bit
        1 << operation for each operation the type supports that is allowed (all of them without an
        authorizer, as Kafka), or NOT_REQUESTED when the client did not ask. The cluster's is 0 to a
        principal that may not describe it (Kafka's AuthHelper.computeDescribeClusterResponse)."""
        if not requested:
            return NOT_REQUESTED
        authorizer = self.broker.authorizer
        if authorizer is None:
            return sum(1 << op for op in SUPPORTED_OPERATIONS[resource_type])
        if resource_type == ResourceType.CLUSTER and not self.authorize(Operation.DESCRIBE, resource_type, log=False):
            return 0
        return authorizer.authorized_operations(self.principal, self.client_address, resource_type, name)

    def _log_refusal(self, operation: Operation, resource_type: ResourceType, names: list[str]) -> None:
        """Kafka's authorizer logs each refusal (kafka.authorizer.logger); one line per request here."""
        log.info("authorization failed", principal=self.principal, host=self.client_address, api=self.api.name,
                 operation=operation.name, resource_type=resource_type.name, resources=names[:LOGGED_NAMES],
                 more=max(len(names) - LOGGED_NAMES, 0) or None)
