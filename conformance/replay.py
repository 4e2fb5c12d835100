"""Record what real clients send, replay it on two brokers, compare the answers field by field.

- `CapturingProxy`: a loopback proxy (tests.clients.DropProxy) that keeps every request frame in
  the order it arrived, with the connection it came on and the broker's response to it.
- `replay(steps, bootstrap)`: sends the same requests to a broker, one at a time, each on the
  connection it came on; names, producer ids, member ids and topic ids the recording got from its
  broker are swapped for those this broker hands out (`Renamer`). It waits between steps where
  Kafka finishes work after answering (markers after EndTxn, a topic's metadata after
  CreateTopics), so both brokers are compared in the same settled state.
- `normalise(response)`: a plain nested structure with what legitimately differs between two
  clusters replaced (`NORMALISED`: ids, ports, clocks, informational messages); record batches
  decoded. `differences(a, b)` lists (path, a value, b value).
- `Accepted`: the reviewed differences (accepted_differences.toml), each with its reason.

Recordings are made in the run, against a kafkette of its own: clients vary their requests with
timing (how many polls and heartbeats), so a golden file would not be stable, while one recording
replayed on both brokers is the same input for both.
"""

from __future__ import annotations

import fnmatch
import struct
import threading
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from crc32c import crc32c

from kafkette.client import ConnectionClosed, RawClient
from kafkette.protocol import framing
from kafkette.protocol.messages import (API_VERSIONS, CREATE_TOPICS, DESCRIBE_TRANSACTIONS, END_TXN, PRODUCE)
from kafkette.protocol.model import Message
from kafkette.protocol.primitives import DecodeError
from kafkette.protocol.records import (CRC_OFFSET, CRC_START, HEADER, BatchHeader, RecordsError, control_record,
                                       iter_records, split_batches)
from kafkette.protocol.schema import Api
from tests.clients import DropProxy

HERE = Path(__file__).resolve().parent
ACCEPTED_FILE = HERE / "accepted_differences.toml"
_SIZE = struct.Struct(">i")
_PID = struct.Struct(">qh")
PID_OFFSET = 43  # producerId, producerEpoch in a v2 batch header
CLOSED = "connection closed by the broker"
NO_RESPONSE = "no response (acks=0)"


# ---------------------------------------------------------------------------------------------- recording


@dataclass
class Step:
    connection: int
    frame: bytes  # the request as sent, without its size prefix
    response: bytes | None = None  # the recording broker's answer, without its size prefix

    @property
    def header(self) -> framing.RequestHeader:
        return framing.read_request_header(self.frame)[0]


class CapturingProxy(DropProxy):
    """A DropProxy that records every request and response passing through it."""

    def __init__(self, target_port: int) -> None:
        super().__init__(target_port)
        self._buffers: dict[tuple[int, bool], bytearray] = {}
        self._open: dict[tuple[int, int], Step] = {}
        self.steps: list[Step] = []
        self._record_lock = threading.Lock()

    def observe(self, connection: int, to_broker: bool, data: bytes) -> None:
        with self._record_lock:
            buf = self._buffers.setdefault((connection, to_broker), bytearray())
            buf += data
            while len(buf) >= 4 and len(buf) >= 4 + _SIZE.unpack_from(buf)[0]:
                size = _SIZE.unpack_from(buf)[0]
                frame = bytes(buf[4:4 + size])
                del buf[:4 + size]
                if to_broker:
                    step = Step(connection, frame)
                    self.steps.append(step)
                    self._open[(connection, _SIZE.unpack_from(frame, 4)[0])] = step
                else:
                    step = self._open.pop((connection, _SIZE.unpack_from(frame)[0]), None)
                    if step is not None:
                        step.response = frame

    def take(self) -> list[Step]:
        """The steps recorded so far (and forget them)."""
        with self._record_lock:
            steps, self.steps = self.steps, []
            self._open.clear()
        return steps


# ---------------------------------------------------------------------------------------------- renaming


class Renamer:
    """What one broker calls the things another broker named in a recording.

    Names (topics, groups, transactional ids) carry the recording's token; the replay swaps it for
    its own of the same length, in strings and in bytes (subscriptions, assignments). Producer ids,
    member ids and topic ids are learned from the recorded answer and this broker's answer to the
    same request."""

    ID_FIELDS = ("producer_id", "member_id", "topic_id", "v3_and_below_producer_id")
    PRODUCER_FIELDS = (("producer_id", "producer_epoch"), ("v3_and_below_producer_id", "v3_and_below_producer_epoch"))

    def __init__(self, token: str, replacement: str) -> None:
        assert len(token) == len(replacement)
        self.token, self.replacement = token, replacement
        self.ids: dict[Any, Any] = {}
        # (recorded producer id, recorded epoch) -> this broker's epoch, learned from InitProducerId: a replay
        # that retries a CONCURRENT_TRANSACTIONS answer bumps the epoch at other steps than the recording did
        self.epochs: dict[tuple[int, int], int] = {}

    def _producer(self, message: Message) -> tuple[str, tuple[int, int]] | None:
        """(epoch field, (producer id, epoch)) of a message that names a producer and its epoch."""
        names = {fd.name for fd in message.FIELDS}
        for pid_field, epoch_field in self.PRODUCER_FIELDS:
            if pid_field in names and epoch_field in names:
                return epoch_field, (getattr(message, pid_field), getattr(message, epoch_field))
        return None

    def text(self, value: str) -> str:
        return value.replace(self.token, self.replacement)

    def request(self, body: Any) -> Any:
        return self._walk(body, request=True)

    def _walk(self, value: Any, request: bool, name: str = "") -> Any:
        if isinstance(value, Message):
            producer = self._producer(value)
            for fd in value.FIELDS:
                setattr(value, fd.name, self._walk(getattr(value, fd.name), request, fd.name))
            if producer is not None and producer[1] in self.epochs:
                setattr(value, producer[0], self.epochs[producer[1]])
            return value
        if isinstance(value, list):
            return [self._walk(v, request, name) for v in value]
        if name == "records" and value is not None:
            return self.records(bytes(value))
        if value in self.ids and (name in self.ID_FIELDS or name.endswith("member_id") or name == "producer_id_filters"
                                  or name in ("leader", "member_ids")):
            return self.ids[value]
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, (bytes, memoryview)) and name != "topic_id":
            return bytes(value).replace(self.token.encode(), self.replacement.encode())
        return value

    def records(self, data: bytes) -> bytes:
        """The batches with the producer id (and epoch) this broker gave, and their CRC made anew."""
        buf = bytearray(data.replace(self.token.encode(), self.replacement.encode()))
        pos = 0
        while pos + HEADER.size <= len(buf):
            header = BatchHeader.parse(buf, pos)
            if header.producer_id >= 0 and header.producer_id in self.ids:
                epoch = self.epochs.get((header.producer_id, header.producer_epoch), header.producer_epoch)
                _PID.pack_into(buf, pos + PID_OFFSET, self.ids[header.producer_id], epoch)
                end = pos + header.size
                struct.pack_into(">I", buf, pos + CRC_OFFSET, crc32c(bytes(buf[pos + CRC_START:end])))
            pos += header.size
            if header.batch_length <= 0:
                break
        return bytes(buf)

    def learn(self, recorded: Any, replayed: Any) -> None:
        """Map the ids of the recorded answer to those of this broker's answer to the same request."""
        if isinstance(recorded, Message) and type(recorded) is type(replayed):
            producer, theirs = self._producer(recorded), self._producer(replayed)
            if producer is not None and theirs is not None and producer[1][0] >= 0 and theirs[1][0] >= 0:
                self.epochs.setdefault(producer[1], theirs[1][1])
            for fd in recorded.FIELDS:
                a, b = getattr(recorded, fd.name), getattr(replayed, fd.name)
                if fd.name in self.ID_FIELDS and a not in (None, "", -1, bytes(16)) and b not in (None, "", -1):
                    self.ids.setdefault(bytes(a) if isinstance(a, memoryview) else a, b)
                else:
                    self.learn(a, b)
        elif isinstance(recorded, list) and isinstance(replayed, list):
            for a, b in zip(recorded, replayed):
                self.learn(a, b)


# ---------------------------------------------------------------------------------------------- replaying


@dataclass
class Outcome:
    api: str
    version: int
    response: Any  # the decoded body, CLOSED or NO_RESPONSE
    request: Any = None


@dataclass
class Replay:
    bootstrap: str
    renamer: Renamer
    clients: dict[int, RawClient] = field(default_factory=dict)

    def client(self, connection: int) -> RawClient:
        if connection not in self.clients:
            self.clients[connection] = RawClient(self.bootstrap, timeout=30, client_id=None)
        return self.clients[connection]

    def close(self) -> None:
        for c in self.clients.values():
            c.close()


def decode(step: Step) -> tuple[framing.RequestHeader, Api, Any]:
    request = framing.decode_request(step.frame)
    return request.header, request.api, request.body


def replay(steps: list[Step], bootstrap: str, token: str, replacement: str) -> list[Outcome]:
    """Send every recorded request (except ApiVersions, which changes nothing) to `bootstrap`, in order."""
    run = Replay(bootstrap, Renamer(token, replacement))
    outcomes = []
    try:
        for step in steps:
            try:
                header, api, body = decode(step)
            except framing.UnsupportedRequest as e:  # a version this codec lacks: sent as it came
                if e.header.api_key != API_VERSIONS.key:
                    outcomes.append(_send_raw(run, step, e.header))
                continue
            if api is API_VERSIONS:
                continue
            outcome = _send(run, step, header, api, run.renamer.request(body))
            outcomes.append(_only_ours(outcome, replacement))
    finally:
        run.close()
    return outcomes


def _send_raw(run: Replay, step: Step, header: framing.RequestHeader) -> Outcome:
    client = run.client(step.connection)
    frame = step.frame.replace(run.renamer.token.encode(), run.renamer.replacement.encode())
    name = f"api {header.api_key}"
    try:
        client.send_bytes(_SIZE.pack(len(frame)) + frame)
        return Outcome(name, header.api_version, client.recv_frame()[4:])
    except ConnectionClosed:
        run.clients.pop(step.connection).close()
        return Outcome(name, header.api_version, CLOSED)


# Answers that list the whole cluster's topics, groups or transactions: only the scenario's own are compared
# (each broker also holds those of the other tests and its internal topics).
_LISTINGS = {"Metadata": ("topics", "name"), "ListGroups": ("groups", "group_id"),
             "ListTransactions": ("transaction_states", "transactional_id")}


def _only_ours(outcome: Outcome, token: str) -> Outcome:
    listing = _LISTINGS.get(outcome.api)
    if listing and isinstance(outcome.response, Message):
        field_name, key = listing
        items = getattr(outcome.response, field_name)
        setattr(outcome.response, field_name, [i for i in items if token in getattr(i, key)])
    return outcome


def _send(run: Replay, step: Step, header: framing.RequestHeader, api: Api, body: Any) -> Outcome:
    version = header.api_version
    if api is PRODUCE and body.acks == 0:  # no answer comes: wait for the effect instead
        run.client(step.connection).sock.sendall(framing.encode_request(header, body))
        time.sleep(0.2)
        return Outcome(api.name, version, NO_RESPONSE, body)
    client = run.client(step.connection)
    deadline = time.monotonic() + 15
    while True:
        try:
            client.sock.sendall(framing.encode_request(header, body))
            got, response = client.recv(api, version)
        except ConnectionClosed:
            run.clients.pop(step.connection).close()
            return Outcome(api.name, version, CLOSED, body)
        if got != header.correlation_id:
            raise DecodeError(f"{api.name}: correlation id {got} answers {header.correlation_id}")
        if not _busy(response) or time.monotonic() > deadline:
            break
        time.sleep(0.05)  # as a client retries, until the broker has finished what it was doing
    if step.response is not None:
        run.renamer.learn(framing.decode_response(step.response, api, version)[1], response)
    _settle(run.bootstrap, api, body, response)
    return Outcome(api.name, version, response, body)


# "Try again in a moment": how soon a broker stops answering them is timing, not behaviour.
BUSY = {51, 14}  # CONCURRENT_TRANSACTIONS, COORDINATOR_LOAD_IN_PROGRESS


def _busy(response: Any) -> bool:
    """Whether any error code in `response` says the broker is busy finishing earlier work."""
    if isinstance(response, Message):
        return any(_busy(getattr(response, fd.name)) if fd.name.endswith("error_code") is False
                   else getattr(response, fd.name) in BUSY for fd in response.FIELDS)
    if isinstance(response, list):
        return any(_busy(v) for v in response)
    return False


def _settle(bootstrap: str, api: Api, body: Any, response: Any, timeout: float = 15.0) -> None:
    """Wait for what Kafka finishes after answering, so the next request meets the same state on both."""
    if api is END_TXN and response.error_code == 0:
        _until(lambda: _txn_state(bootstrap, body.transactional_id) in ("CompleteCommit", "CompleteAbort", "Empty"),
               timeout)
    elif api is CREATE_TOPICS and not body.validate_only:
        from kafkette.client import wait_for_topic

        for topic in response.topics:
            if topic.error_code == 0:
                wait_for_topic(bootstrap, topic.name, timeout)


def _txn_state(bootstrap: str, transactional_id: str) -> str:
    with RawClient(bootstrap, client_id="conformance-settle") as raw:
        described = raw.request(DESCRIBE_TRANSACTIONS, 0, DESCRIBE_TRANSACTIONS.Request(
            transactional_ids=[transactional_id]))
    return described.transaction_states[0].transaction_state


def _until(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


# ---------------------------------------------------------------------------------------------- comparing

# Fields whose values differ between any two clusters, and why; they are compared by shape only
# (the same value in two places stays the same alias, so "these two ids are equal" still counts).
NORMALISED = {
    "throttle_time_ms": "quota throttling: none on either broker, but not an observable contract",
    "cluster_id": "each cluster has its own id",
    "topic_id": "each broker gives its topics its own UUIDs",
    "producer_id": "producer ids are allocated per cluster",
    "member_id": "member ids are generated by the broker (or the client) per join",
    "leader": "the leader's member id",
    "host": "each broker listens on its own loopback port",
    "port": "each broker listens on its own loopback port",
    "session_id": "fetch session ids are random",
    "transaction_start_time_ms": "the broker's clock",
    "error_message": "free text, informational; the error code is compared",
    "client_host": "the replaying client's address and port",
}


class Aliases:
    """Stable placeholders for normalised values, numbered in order of appearance."""

    def __init__(self) -> None:
        self.seen: dict[tuple[str, Any], str] = {}

    def __call__(self, name: str, value: Any) -> Any:
        if name in ("throttle_time_ms", "error_message", "port", "host", "client_host"):
            return f"<{name}>"
        if value in (None, "", -1, bytes(16)) or (value == 0 and name == "session_id"):
            return value
        key = (name, bytes(value) if isinstance(value, memoryview) else value)
        if key not in self.seen:
            self.seen[key] = f"<{name} #{sum(1 for k in self.seen if k[0] == name) + 1}>"
        return self.seen[key]


def normalise(value: Any, aliases: Aliases | None = None, name: str = "") -> Any:
    aliases = aliases if aliases is not None else Aliases()
    if isinstance(value, Message):
        return {fd.name: normalise(getattr(value, fd.name), aliases, fd.name) for fd in value.FIELDS}
    if isinstance(value, list):
        items = [normalise(v, aliases, name) for v in value]
        return sorted(items, key=_order) if items and all(isinstance(v, dict) and _order(v) for v in items) else items
    if name == "records":
        return batches(value, aliases)
    if name in NORMALISED:
        return aliases(name if name != "leader" else "member_id", value)
    if isinstance(value, memoryview):
        return bytes(value)
    return value


# Per-topic and per-partition results are matched by name and index, not position: Kafka builds some
# responses (ListOffsets, DescribeConfigs, ...) from hash maps, so their order is no contract.
ORDER_KEYS = ("name", "topic", "partition_index", "index", "partition", "group_id", "transactional_id")


def _order(item: dict) -> tuple:
    return tuple((k, str(item[k])) for k in ORDER_KEYS if k in item)


def batches(records: Any, aliases: Aliases) -> Any:
    """Record batches as what a consumer sees of them (no CRC, no broker clock in control batches)."""
    if not records:
        return []
    out = []
    try:
        for header, batch in split_batches(bytes(records)):
            entry: dict[str, Any] = {
                "base_offset": header.base_offset, "last_offset_delta": header.last_offset_delta,
                "attributes": header.attributes, "producer_id": aliases("producer_id", header.producer_id),
                "producer_epoch": header.producer_epoch, "base_sequence": header.base_sequence}
            if header.is_control:
                entry["control"] = control_record(batch)[0]
            else:
                entry["records"] = [(r.offset, r.key, r.value, r.headers,
                                     None if header.is_log_append_time else r.timestamp) for r in iter_records(batch)]
            out.append(entry)
    except RecordsError:
        return {"partial batch of": len(bytes(records))}
    return out


def differences(a: Any, b: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """(path, a, b) for every leaf where `a` and `b` differ; list indices appear as [i]."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for key in a.keys() | b.keys():
            out += differences(a.get(key), b.get(key), f"{path}.{key}" if path else key)
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        out = []
        for i, (x, y) in enumerate(zip(a, b)):
            out += differences(x, y, f"{path}[{i}]")
        return out
    return [] if a == b else [(path, a, b)]


@dataclass(frozen=True)
class Difference:
    step: int
    api: str
    version: int
    path: str
    kafka: Any
    kafkette: Any

    def shape(self) -> str:
        """The path with list indices left out: responses[].partitions[].error_code."""
        out, depth = [], 0
        for ch in self.path:
            if ch == "[":
                depth += 1
                out.append("[]")
            elif ch == "]":
                depth -= 1
            elif depth == 0:
                out.append(ch)
        return "".join(out)

    def __str__(self) -> str:
        return (f"step {self.step} {self.api} v{self.version} {self.path}: Kafka {_short(self.kafka)} "
                f"vs kafkette {_short(self.kafkette)}")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) < 300 else text[:300] + "..."


def compare(kafka: list[Outcome], kafkette: list[Outcome]) -> list[Difference]:
    out = []
    for i, (k, e) in enumerate(zip(kafka, kafkette)):
        assert (k.api, k.version) == (e.api, e.version)
        a, b = normalise(k.response), normalise(e.response)
        out += [Difference(i, k.api, k.version, path, x, y) for path, x, y in differences(a, b)]
    return out


class Accepted:
    """The reviewed differences: [[difference]] api, path (indices as []), optional kafka and
    kafkette values (the difference is accepted only with those values), and a reason."""

    def __init__(self, path: Path = ACCEPTED_FILE) -> None:
        self.entries = tomllib.loads(path.read_text())["difference"]
        for entry in self.entries:
            assert entry.get("reason"), f"{path}: every accepted difference needs a reason: {entry}"

    def reason(self, diff: Difference) -> str | None:
        for entry in self.entries:
            if entry["api"] != diff.api or not fnmatch.fnmatchcase(diff.shape(), entry["path"]):
                continue
            if "kafka" in entry and entry["kafka"] != diff.kafka:
                continue
            if "kafkette" in entry and entry["kafkette"] != diff.kafkette:
                continue
            return entry["reason"]
        return None
