"""Cluster: blocking requests sent to the right broker of a Kafka cluster (the command line's client).

Built on `kafkette.client.RawClient`, with the project's codec: it finds the brokers through
Metadata, keeps one connection per broker, asks each broker for its ApiVersions once, and sends
every request in the version listed in VERSIONS (or the broker's highest, if that is lower). Partition
leaders and group or transaction coordinators are found as a Kafka admin client finds them, so the
same commands work against kafkette and Apache Kafka (2.8 to 4.x).
"""

from __future__ import annotations

import time
from typing import Any

from kafkette import __version__
from kafkette.client import ConnectionClosed, RawClient, servers
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages import (
    ADD_PARTITIONS_TO_TXN,
    API_VERSIONS,
    CONSUMER_GROUP_DESCRIBE,
    CREATE_TOPICS,
    DELETE_GROUPS,
    DELETE_TOPICS,
    DESCRIBE_CONFIGS,
    DESCRIBE_GROUPS,
    DESCRIBE_PRODUCERS,
    DESCRIBE_TRANSACTIONS,
    END_TXN,
    FETCH,
    FIND_COORDINATOR,
    INCREMENTAL_ALTER_CONFIGS,
    INIT_PRODUCER_ID,
    LIST_GROUPS,
    LIST_OFFSETS,
    LIST_TRANSACTIONS,
    METADATA,
    OFFSET_COMMIT,
    OFFSET_FETCH,
    PRODUCE,
    WRITE_TXN_MARKERS,
)
from kafkette.protocol.primitives import DecodeError
from kafkette.protocol.schema import Api

# The version each request is sent in; the request bodies are built with these versions' fields, and a
# broker whose highest version is lower gets that one (ListTransactions v0 only lacks the duration filter).
VERSIONS: dict[int, int] = {
    METADATA.key: 8, FIND_COORDINATOR.key: 3, LIST_OFFSETS.key: 5, FETCH.key: 12, PRODUCE.key: 8,
    CREATE_TOPICS.key: 5, DELETE_TOPICS.key: 4, DESCRIBE_CONFIGS.key: 4, INCREMENTAL_ALTER_CONFIGS.key: 1,
    LIST_GROUPS.key: 4, DESCRIBE_GROUPS.key: 5, CONSUMER_GROUP_DESCRIBE.key: 0, OFFSET_FETCH.key: 7,
    OFFSET_COMMIT.key: 8, DELETE_GROUPS.key: 2, INIT_PRODUCER_ID.key: 3, ADD_PARTITIONS_TO_TXN.key: 3,
    END_TXN.key: 3, WRITE_TXN_MARKERS.key: 1, LIST_TRANSACTIONS.key: 1, DESCRIBE_TRANSACTIONS.key: 0,
    DESCRIBE_PRODUCERS.key: 0,
}
GROUP, TRANSACTION = 0, 1  # FindCoordinator key types
_RETRIABLE_LOOKUP = {ErrorCode.COORDINATOR_NOT_AVAILABLE, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
                     ErrorCode.NOT_COORDINATOR, ErrorCode.LEADER_NOT_AVAILABLE}


class BrokerUnreachable(Exception):
    """No connection to a broker (refused, reset, or no answer in time)."""

    def __init__(self, address: str, reason: str) -> None:
        super().__init__(f"no broker answers at {address} ({reason})")
        self.address = address
        self.reason = reason


class UnsupportedApi(Exception):
    """The broker does not serve a request the command needs, in any version spoken here."""


class KafkaError(Exception):
    """A broker answered with an error code; `code` is Kafka's, `name` its name."""

    def __init__(self, code: int, what: str, message: str | None = None) -> None:
        self.code = code
        self.name = error_name(code)
        detail = f" ({message})" if message and message != self.name else ""
        super().__init__(f"{what}: {self.name}{detail}")


def error_name(code: int) -> str:
    return ErrorCode(code).name if code in ErrorCode._value2member_map_ else f"error {code}"


def check(code: int, what: str, message: str | None = None) -> None:
    """Raise KafkaError unless `code` is NONE."""
    if code != ErrorCode.NONE:
        raise KafkaError(code, what, message)


class Cluster:
    BOOTSTRAP = -1  # the connection key of the bootstrap server, whatever its node id

    def __init__(self, bootstrap: str, timeout: float = 10.0) -> None:
        """Connect to the first bootstrap server that answers; raises BrokerUnreachable, ValueError."""
        self.bootstrap = bootstrap
        self.timeout = timeout
        self.brokers: dict[int, str] = {}  # node id -> "host:port", from Metadata
        self.controller_id = -1
        self._clients: dict[int, RawClient] = {}
        self._addresses: dict[int, str] = {}
        self._versions: dict[int, dict[int, tuple[int, int]]] = {}
        failure = BrokerUnreachable(bootstrap, "no address given")
        for server in servers(bootstrap):
            try:
                self._open(self.BOOTSTRAP, server)
                break
            except BrokerUnreachable as e:
                failure = e
        else:
            raise BrokerUnreachable(bootstrap, failure.reason)
        self.metadata([])

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()

    # -- requests

    def request(self, api: Api, body: Any, node: int = BOOTSTRAP) -> Any:
        """Send `body` to `node` (the bootstrap server by default) and return the decoded response."""
        client = self._client(node)
        try:
            return client.request(api, self.version(api, node), body)
        except (OSError, ConnectionClosed, DecodeError) as e:
            self._clients.pop(node, None)
            client.close()
            raise BrokerUnreachable(self._addresses[node], str(e) or type(e).__name__) from e

    def serves(self, api: Api, node: int = BOOTSTRAP) -> bool:
        try:
            self.version(api, node)
        except UnsupportedApi:
            return False
        return True

    def version(self, api: Api, node: int = BOOTSTRAP) -> int:
        """The version `api` is sent to `node` in; raises UnsupportedApi."""
        self._client(node)
        served = self._versions[node].get(api.key)
        wanted = min(VERSIONS.get(api.key, api.versions[1]), api.versions[1])
        if served is not None and max(served[0], api.versions[0]) <= min(wanted, served[1]):
            return min(wanted, served[1])
        raise UnsupportedApi(f"the broker at {self._addresses[node]} does not serve {api.name} "
                             f"v{api.versions[0]}-{wanted}" + ("" if served else " at all"))

    # -- lookups

    def metadata(self, topics: list[str] | None) -> Any:
        """Metadata of `topics` (None: every topic; none is created); refreshes the broker list."""
        R = METADATA.Request
        body = R(topics=None if topics is None else [R.MetadataRequestTopic(name=t) for t in topics],
                 allow_auto_topic_creation=False)
        response = self.request(METADATA, body, self._any_node())
        self.brokers = {b.node_id: f"{b.host}:{b.port}" for b in response.brokers}
        self.controller_id = response.controller_id
        return response

    def partitions(self, topic: str) -> dict[int, int]:
        """partition -> leader node of `topic`; KafkaError if the cluster has no such topic."""
        found = self.metadata([topic]).topics[0]
        check(found.error_code, f"topic {topic!r}")
        return {p.partition_index: p.leader_id for p in found.partitions}

    def leader(self, topic: str, partition: int) -> int:
        leaders = self.partitions(topic)
        if partition not in leaders:
            raise KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, f"partition {topic}-{partition}",
                             f"the topic has partitions 0-{len(leaders) - 1}")
        return leaders[partition]

    def coordinator(self, key: str, key_type: int) -> int:
        """The node coordinating group (GROUP) or transactional id (TRANSACTION) `key`."""
        R = FIND_COORDINATOR.Request
        deadline = time.monotonic() + self.timeout
        while True:
            found = self.request(FIND_COORDINATOR, R(key=key, key_type=key_type), self._any_node())
            if found.error_code == ErrorCode.NONE:
                self.brokers[found.node_id] = f"{found.host}:{found.port}"
                return found.node_id
            if found.error_code not in _RETRIABLE_LOOKUP or time.monotonic() > deadline:
                kind = "group" if key_type == GROUP else "transactional id"
                raise KafkaError(found.error_code, f"finding the coordinator of {kind} {key!r}",
                                 found.error_message)
            time.sleep(0.1)

    # -- connections

    def _any_node(self) -> int:
        return next(iter(self._clients), self.BOOTSTRAP)

    def _client(self, node: int) -> RawClient:
        client = self._clients.get(node)
        if client is not None:
            return client
        address = self._addresses.get(node) if node == self.BOOTSTRAP else self.brokers.get(node)
        if address is None:
            raise BrokerUnreachable(f"node {node}", "the cluster's metadata does not list it")
        return self._open(node, address)

    def _open(self, node: int, address: str) -> RawClient:
        self._addresses[node] = address
        try:
            client = RawClient(address, timeout=self.timeout, client_id="kafkette-cli")
        except OSError as e:
            raise BrokerUnreachable(address, e.strerror or str(e) or type(e).__name__) from e
        R = API_VERSIONS.Request
        try:
            answer = client.request(API_VERSIONS, 3, R(client_software_name="kafkette",
                                                       client_software_version=__version__))
        except (OSError, ConnectionClosed, DecodeError) as e:
            client.close()
            raise BrokerUnreachable(address, f"no ApiVersions answer: {e or type(e).__name__}") from e
        self._versions[node] = {k.api_key: (k.min_version, k.max_version) for k in answer.api_keys}
        self._clients[node] = client
        return client
