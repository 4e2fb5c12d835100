"""Client helpers shared by the integration tests.

- `produce_and_flush` / `consume_assigned`: confluent_kafka round trips with bounded waits;
- `RawClient` (from `kafkette.client`): a blocking Kafka socket client, for requests
  no client library sends (corrupt batches, replays, unknown versions);
- `DropProxy`: a loopback TCP proxy whose connections can all be cut at once;
- `kafkette_cli` / `kafkette_json`: the `kafkette` command line run as a child process.

Every wait here is bounded in time; nothing listens anywhere but 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from typing import Any, Iterable

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from kafkette.client import ConnectionClosed, RawClient, wait_for_topic  # noqa: F401  (the tests import them from here)
from kafkette.protocol.framing import APIS
from kafkette.protocol.messages import PRODUCE
from kafkette.protocol.records import iter_records, split_batches
from kafkette.protocol.schema import Api

# ---------------------------------------------------------------------------------------------- confluent_kafka


def admin(bootstrap: str) -> AdminClient:
    return AdminClient({"bootstrap.servers": bootstrap})


def create_topic(bootstrap: str, name: str, partitions: int = 1, config: dict[str, str] | None = None) -> str:
    """Create one topic and wait for the result; returns the name."""
    client = admin(bootstrap)  # must outlive the future: a destroyed handle fails it
    futures = client.create_topics([NewTopic(name, partitions, config=config or {})],
                                   operation_timeout=10, request_timeout=15)
    futures[name].result(timeout=15)
    wait_for_topic(bootstrap, name)  # Kafka's brokers learn of a new topic a moment after the controller
    return name


def produce_and_flush(bootstrap: str, topic: str, messages: Iterable[dict[str, Any]],
                      timeout: float = 60.0, **config: Any) -> list:
    """Produce every message (kwargs for Producer.produce) and wait for all delivery reports.

    Returns the delivered messages in delivery order; raises if any delivery failed or
    the reports did not all arrive within `timeout`.
    """
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, **config})
    delivered: list = []
    errors: list = []

    def report(err, msg) -> None:
        (errors if err is not None else delivered).append(err or msg)

    count = 0
    for message in messages:
        while True:
            try:
                producer.produce(topic, on_delivery=report, **message)
                break
            except BufferError:
                producer.poll(0.05)
        count += 1
    remaining = producer.flush(timeout)
    assert not errors, f"delivery failed: {errors[:5]}"
    assert remaining == 0 and len(delivered) == count, f"{remaining} messages not delivered in {timeout}s"
    return delivered


def consumer(bootstrap: str, **config: Any) -> Consumer:
    """A consumer for assign(): librdkafka wants a group.id, but nothing is committed or stored."""
    return Consumer({"bootstrap.servers": bootstrap, "enable.auto.commit": False,
                     "enable.auto.offset.store": False, "group.id": config.pop("group_id", "kafkette-tests"),
                     "auto.offset.reset": "earliest", **config})


def consume_assigned(bootstrap: str, topic: str, count: int, partitions: Iterable[int] = (0,),
                     start: int = 0, timeout: float = 30.0, **config: Any) -> list:
    """Read `count` messages from `partitions` (assign mode, from offset `start`).

    Stops at `count` or when `timeout` passes, whichever comes first, so the
    caller's assertion on the length says what was missing.
    """
    c = consumer(bootstrap, **config)
    try:
        c.assign([TopicPartition(topic, p, start) for p in partitions])
        return consume_until(c, count, timeout)
    finally:
        c.close()


def consume_until(c: Consumer, count: int, timeout: float) -> list:
    """Poll `c` until `count` messages arrived or `timeout` passed; raises on a consumer error."""
    out: list = []
    deadline = time.monotonic() + timeout
    while len(out) < count and time.monotonic() < deadline:
        batch = c.consume(min(10000, count - len(out)), timeout=0.5)
        for msg in batch:
            if msg.error():
                if msg.error().code() == KafkaError._PARTITION_EOF:
                    continue
                raise AssertionError(f"consumer error: {msg.error()}")
            out.append(msg)
    return out


def drain(c: Consumer, quiet: float = 1.0, timeout: float = 10.0) -> list:
    """Everything `c` delivers until nothing arrives for `quiet` seconds (bounded by `timeout`)."""
    out: list = []
    deadline = time.monotonic() + timeout
    last = time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - last < quiet:
        for msg in c.consume(1000, timeout=0.2):
            if msg.error():
                if msg.error().code() == KafkaError._PARTITION_EOF:
                    continue
                raise AssertionError(f"consumer error: {msg.error()}")
            out.append(msg)
            last = time.monotonic()
    return out


def values(messages: Iterable) -> list[bytes]:
    return [m.value() for m in messages]


def watermarks(bootstrap: str, topic: str, partition: int = 0) -> tuple[int, int]:
    c = consumer(bootstrap)
    try:
        return c.get_watermark_offsets(TopicPartition(topic, partition), timeout=10, cached=False)
    finally:
        c.close()


# ---------------------------------------------------------------------------------------------- raw socket client


def produce_request(topic: str, records: bytes, partition: int = 0, acks: int = -1,
                    transactional_id: str | None = None):
    """A ProduceRequest body for one partition."""
    R = PRODUCE.Request
    return R(transactional_id=transactional_id, acks=acks, timeout_ms=5000, topic_data=[
        R.TopicProduceData(name=topic, partition_data=[R.PartitionProduceData(index=partition, records=records)])])


def api(key: int) -> Api:
    return APIS[key]


def fetch_records(bootstrap: str, topic: str, partition: int, offset: int, isolation_level: int = 0,
                  max_bytes: int = 50 * 1024 * 1024) -> tuple[Any, list]:
    """One Fetch v12 (no wait): (partition data, decoded records)."""
    from kafkette.protocol.messages import FETCH

    R = FETCH.Request
    body = R(max_wait_ms=0, min_bytes=0, max_bytes=max_bytes, isolation_level=isolation_level, session_id=0,
             session_epoch=-1, topics=[R.FetchTopic(topic=topic, partitions=[R.FetchPartition(
                 partition=partition, fetch_offset=offset, partition_max_bytes=max_bytes)])],
             forgotten_topics_data=[], rack_id="")
    with RawClient(bootstrap) as client:
        response = client.request(FETCH, 12, body)
    data = response.responses[0].partitions[0]
    records = []
    if data.records:
        for header, batch in split_batches(bytes(data.records)):
            if not header.is_control:
                records.extend(iter_records(batch))
    return data, records


# ---------------------------------------------------------------------------------------------- dropping proxy


class DropProxy:
    """A TCP proxy on 127.0.0.1 to a local port; `drop_all()` cuts every open connection.

    Threads, one pair per connection, bounded by `max_connections`. Bind it before the
    broker starts so the broker can advertise the proxy's port (clients then reconnect
    through it after every drop).
    """

    def __init__(self, target_port: int, max_connections: int = 256) -> None:
        self.target_port = target_port
        self.max_connections = max_connections
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.accepted = 0
        self.drops = 0
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> DropProxy:
        t = threading.Thread(target=self._accept_loop, name="drop-proxy-accept", daemon=True)
        t.start()
        self._threads.append(t)
        return self

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            if self.accepted >= self.max_connections:
                client.close()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            client.settimeout(None)
            with self._lock:
                self.accepted += 1
                self._pairs.append((client, upstream))
            connection = self.accepted
            for src, dst, to_broker in ((client, upstream, True), (upstream, client, False)):
                t = threading.Thread(target=self._pump, args=(src, dst, connection, to_broker), daemon=True)
                t.start()
                self._threads.append(t)

    def observe(self, connection: int, to_broker: bool, data: bytes) -> None:
        """Called with every chunk passed on (a subclass records them); `connection` counts from 1."""

    def _pump(self, src: socket.socket, dst: socket.socket, connection: int, to_broker: bool) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                self.observe(connection, to_broker, data)
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def live(self) -> int:
        """Connections currently open through the proxy."""
        with self._lock:
            return len(self._pairs)

    def drop_all(self) -> int:
        """Cut every open connection (both sides); returns how many were cut."""
        with self._lock:
            pairs, self._pairs = self._pairs, []
            self.drops += 1
        for pair in pairs:
            for s in pair:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()
        return len(pairs)

    def stop(self) -> None:
        self._stop.set()
        self.drop_all()
        self.listener.close()
        for t in self._threads:
            t.join(timeout=2)


# ---------------------------------------------------------------------------------------------- the command line


def kafkette_cli(*args: Any, bootstrap: str | None = None, stdin: bytes = b"",
                 timeout: float = 60.0) -> subprocess.CompletedProcess:
    """`python -m kafkette ARGS` (with --bootstrap-server when given), its output as text."""
    command = [sys.executable, "-m", "kafkette", *map(str, args)]
    if bootstrap is not None:
        command += ["--bootstrap-server", bootstrap]
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}  # a pipe's width, not pytest's
    result = subprocess.run(command, input=stdin, capture_output=True, timeout=timeout, env=env)
    return subprocess.CompletedProcess(result.args, result.returncode, result.stdout.decode(errors="replace"),
                                       result.stderr.decode(errors="replace"))


def kafkette_json(*args: Any, bootstrap: str, **kwargs: Any) -> Any:
    """The --json output of a command that must succeed."""
    result = kafkette_cli(*args, "--json", bootstrap=bootstrap, **kwargs)
    assert result.returncode == 0, f"kafkette {' '.join(map(str, args))} exited {result.returncode}: {result.stderr}"
    return json.loads(result.stdout)
