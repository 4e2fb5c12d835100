"""A small blocking Kafka client built on `kafkette.protocol.framing`: enough for tools and tests.

- `RawClient`: one connection, framed requests and responses, for requests no client
  library sends (corrupt batches, replays, unknown versions) and for the helpers below;
- `create_topic`: CreateTopics on the cluster's controller, as an admin client does;
- `wait_for_metadata`: poll until a broker answers Metadata (`kafkette wait`).

It works against any Kafka-protocol broker, not only kafkette. Producing and
consuming are left to real client libraries.
"""

from __future__ import annotations

import itertools
import socket
import struct
import time
from typing import TYPE_CHECKING, Any

from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.framing import RequestHeader, decode_response, encode_request
from kafkette.protocol.messages import CREATE_TOPICS, LIST_OFFSETS, METADATA
from kafkette.protocol.primitives import DecodeError
from kafkette.protocol.schema import Api

if TYPE_CHECKING:
    from kafkette.client_security import ClientSecurity

# Versions every Kafka since 2.4 and Redpanda serve (Kafka 4 dropped the older ones);
# CreateTopics v4 is the first to take replication factor -1, "the broker's default".
METADATA_VERSION = 8
CREATE_TOPICS_VERSION = 4
LIST_OFFSETS_VERSION = 1


class ConnectionClosed(Exception):
    """The broker closed the connection (EOF or reset) while a response was awaited."""


class TopicCreationError(Exception):
    """CreateTopics answered with an error; `error_code` is Kafka's."""

    def __init__(self, error_code: int, message: str) -> None:
        super().__init__(message)
        self.error_code = error_code


def parse_address(address: str) -> tuple[str, int]:
    """("host", port) of "host:port". Raises ValueError with a readable message."""
    host, sep, port = address.strip().rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"expected HOST:PORT, got {address!r}")
    return host.strip("[]"), int(port)


class RawClient:
    """One blocking connection speaking framed Kafka requests; with `security`, over TLS and/or authenticated."""

    def __init__(self, bootstrap: str, timeout: float = 10.0, client_id: str | None = "kafkette-tests",
                 security: ClientSecurity | None = None) -> None:
        host, port = parse_address(bootstrap)
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.settimeout(timeout)
        self.client_id = client_id
        self._ids = itertools.count(1)
        if security is not None:
            try:
                self.sock = security.wrap(self.sock, host)
                security.authenticate(self)
            except BaseException:
                self.sock.close()
                raise

    def __enter__(self) -> RawClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.sock.close()

    # -- sending

    def frame(self, api: Api, version: int, body: Any, correlation_id: int | None = None) -> tuple[int, bytes]:
        """(correlation id, whole request frame) without sending it."""
        cid = next(self._ids) if correlation_id is None else correlation_id
        return cid, encode_request(RequestHeader(api.key, version, cid, self.client_id), body)

    def send(self, api: Api, version: int, body: Any) -> int:
        cid, data = self.frame(api, version, body)
        self.send_bytes(data)
        return cid

    def send_bytes(self, data: bytes) -> None:
        """Send all of `data`; ConnectionClosed if the broker closes before taking it all."""
        try:
            self.sock.sendall(data)
        except (ConnectionResetError, BrokenPipeError) as e:
            raise ConnectionClosed(str(e)) from e

    # -- receiving

    def _exact(self, n: int) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            try:
                chunk = self.sock.recv(n - len(buf))
            except (ConnectionResetError, BrokenPipeError) as e:
                raise ConnectionClosed(str(e)) from e
            if not chunk:
                raise ConnectionClosed(f"EOF after {len(buf)} of {n} bytes")
            buf += chunk
        return bytes(buf)

    def recv_frame(self) -> bytes:
        (size,) = struct.unpack(">i", self._exact(4))
        return self._exact(size)

    def recv(self, api: Api, version: int) -> tuple[int, Any]:
        """(correlation id, decoded body) of the next response."""
        return decode_response(self.recv_frame(), api, version)

    def request(self, api: Api, version: int, body: Any) -> Any:
        cid = self.send(api, version, body)
        got, response = self.recv(api, version)
        if got != cid:
            raise DecodeError(f"correlation id {got} answers request {cid}")
        return response

    def is_closed_by_peer(self, timeout: float = 5.0) -> bool:
        """True if the broker closes the connection within `timeout` (no bytes arrive first)."""
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(1)
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False
        return data == b""


def servers(bootstrap: str) -> list[str]:
    """The "host:port" entries of a bootstrap list; ValueError for one that is not."""
    entries = [entry.strip() for entry in bootstrap.split(",") if entry.strip()]
    for entry in entries or [bootstrap]:
        parse_address(entry)
    return entries


def metadata(bootstrap: str, topics: list[str] | None = None, timeout: float = 10.0,
             security: ClientSecurity | None = None) -> Any:
    """One Metadata request (all topics when `topics` is None, none created), answered by the
    first bootstrap server that answers; the last server's error if none does."""
    R = METADATA.Request
    body = R(topics=None if topics is None else [R.MetadataRequestTopic(name=t) for t in topics],
             allow_auto_topic_creation=False)
    *others, last = servers(bootstrap)
    for server in others:
        try:
            return _request(server, METADATA, METADATA_VERSION, body, timeout, security)
        except (OSError, ConnectionClosed, DecodeError):
            continue
    return _request(last, METADATA, METADATA_VERSION, body, timeout, security)


def _request(server: str, api: Api, version: int, body: Any, timeout: float,
             security: ClientSecurity | None = None) -> Any:
    with RawClient(server, timeout=timeout, client_id="kafkette", security=security) as client:
        return client.request(api, version, body)


def wait_for_metadata(bootstrap: str, timeout: float) -> None:
    """Return as soon as a broker answers Metadata; TimeoutError (naming the last failure) after `timeout`."""
    servers(bootstrap)
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        try:
            metadata(bootstrap, topics=[], timeout=max(0.05, min(left, 1.0)))
            return
        except (OSError, ConnectionClosed, DecodeError) as e:
            failure = e
        if time.monotonic() + 0.05 >= deadline:
            raise TimeoutError(f"no broker answered Metadata at {bootstrap} within {timeout:g} s "
                               f"(last attempt: {failure}): is it running there?")
        time.sleep(0.05)


def create_topic(bootstrap: str, name: str, partitions: int = 1, config: dict[str, str] | None = None,
                 timeout: float = 30.0, security: ClientSecurity | None = None) -> None:
    """Create a topic through the controller, with the cluster's default replication factor.

    Raises TopicCreationError (e.g. TOPIC_ALREADY_EXISTS, INVALID_CONFIG) if the cluster refuses.
    """
    cluster = metadata(bootstrap, topics=[], timeout=timeout, security=security)
    controller = next((b for b in cluster.brokers if b.node_id == cluster.controller_id), None)
    address = f"{controller.host}:{controller.port}" if controller else servers(bootstrap)[0]
    R = CREATE_TOPICS.Request
    topic = R.CreatableTopic(name=name, num_partitions=partitions, replication_factor=-1, assignments=[],
                             configs=[R.CreatableTopicConfig(name=k, value=v) for k, v in (config or {}).items()])
    body = R(topics=[topic], timeout_ms=int(timeout * 1000), validate_only=False)
    deadline = time.monotonic() + timeout
    result = _request(address, CREATE_TOPICS, CREATE_TOPICS_VERSION, body, timeout, security).topics[0]
    if result.error_code != ErrorCode.NONE:
        known = result.error_code in ErrorCode._value2member_map_
        error = ErrorCode(result.error_code).name if known else f"error {result.error_code}"
        detail = f" ({result.error_message})" if result.error_message else ""
        raise TopicCreationError(result.error_code, f"cannot create topic {name!r}: {error}{detail}")
    wait_for_topic(bootstrap, name, max(0.1, deadline - time.monotonic()), security)


def wait_for_topic(bootstrap: str, name: str, timeout: float = 30.0, security: ClientSecurity | None = None) -> None:
    """Return once Metadata lists `name` with a leader for every partition and that leader serves it.

    Kafka answers CreateTopics when its controller has created the topic; the brokers learn
    of it a moment later (until then Metadata says UNKNOWN_TOPIC_OR_PARTITION or
    LEADER_NOT_AVAILABLE and Produce or ListOffsets NOT_LEADER_OR_FOLLOWER). TimeoutError after `timeout`.
    """
    deadline = time.monotonic() + timeout
    state = "not listed"
    while True:
        left = max(0.1, min(5.0, deadline - time.monotonic()))
        cluster = metadata(bootstrap, topics=[name], timeout=left, security=security)
        found = cluster.topics[0] if cluster.topics else None
        if found is not None:
            state = ErrorCode(found.error_code).name
            if found.error_code == ErrorCode.NONE and found.partitions and all(p.leader_id >= 0 for p in found.partitions):
                state = _leaders_serve(cluster, found, left, security)
                if state == "NONE":
                    return
        if time.monotonic() >= deadline:
            raise TimeoutError(f"topic {name!r} is not served on every partition after {timeout:g} s ({state})")
        time.sleep(0.02)


def _leaders_serve(cluster: Any, topic: Any, timeout: float, security: ClientSecurity | None) -> str:
    """NONE if each partition's leader answers ListOffsets (latest) for it, else the first error's name."""
    R = LIST_OFFSETS.Request
    addresses = {b.node_id: f"{b.host}:{b.port}" for b in cluster.brokers}
    for leader in {p.leader_id for p in topic.partitions}:
        body = R(replica_id=-1, isolation_level=0, topics=[R.ListOffsetsTopic(name=topic.name, partitions=[
            R.ListOffsetsPartition(partition_index=p.partition_index, timestamp=-1)
            for p in topic.partitions if p.leader_id == leader])])
        if leader not in addresses:
            return "LEADER_NOT_AVAILABLE"
        answer = _request(addresses[leader], LIST_OFFSETS, LIST_OFFSETS_VERSION, body, timeout, security)
        errors = [p.error_code for t in answer.topics for p in t.partitions if p.error_code != ErrorCode.NONE]
        if errors:
            return ErrorCode(errors[0]).name
    return "NONE"
